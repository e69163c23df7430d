import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { TUS_EXTENSIONS, TusEvent, type TusPostEvent } from 'nestjs-tus';
import { TARGETS } from '../support/apps/targets.js';
import { b64, createUpload, head, locationOf, OFFSET_OCTET_STREAM, patchHeaders, send, type TestResponse, TUS, uploadIdOf } from '../support/http/requests.js';
import { expectRefusedLeaving, isDataEntry, storedBytesOf, storedEntries, storedNames } from '../support/storage/stored.js';
import { startTusApp, type TusApp } from '../support/apps/tus-app.js';

/** Checklist 35-38: the concatenation extension. */
describe.each(TARGETS)('concatenation on the $name', ({ backend, platform }) => {
  let app: TusApp;
  const finished: string[] = [];

  beforeAll(async () => {
    // downloadUnfinished: the tests read an unfinished upload's bytes through GET.
    app = await startTusApp({ downloadUnfinished: true }, { backend, platform });
    app.app.get(EventEmitter2).on(TusEvent.POST_FINISH, (event: TusPostEvent) => finished.push(event.upload.id));
  });
  afterAll(async () => {
    await app?.close();
  });

  const bytesOf = (upload: string) => storedBytesOf(app.app, upload);
  const postFinal = (concat: string, headers: Record<string, string | number> = {}, body?: string) =>
    send('POST', app.url, { headers: { ...TUS, 'Upload-Concat': concat, ...headers }, body });

  /** A partial upload holding `content`, complete unless `length` says more is to come. */
  async function partial(content: string, length = content.length, metadata?: string): Promise<string> {
    const upload = await createUpload(app.url, {
      'Upload-Length': length,
      'Upload-Concat': 'partial',
      ...(metadata === undefined ? {} : { 'Upload-Metadata': metadata }),
    });
    if (content.length > 0) expect((await send('PATCH', upload, { headers: patchHeaders(0), body: content })).status).toBe(204);
    return upload;
  }

  /** `request` is refused with one of `statuses` and creates nothing. */
  const expectRefused = (request: () => Promise<TestResponse>, ...statuses: number[]) =>
    expectRefusedLeaving(() => storedNames(app.app), request, ...statuses);

  describe('35: partial uploads', () => {
    it('35: Upload-Concat: partial creates a partial upload that takes PATCHes', async () => {
      const upload = await partial('abc', 6);
      expect((await send('PATCH', upload, { headers: patchHeaders(3), body: 'def' })).status).toBe(204);
      const state = await head(upload);
      expect(state.headers['upload-concat']).toBe('partial');
      expect(state.headers['upload-offset']).toBe('6');
      expect((await bytesOf(upload)).toString()).toBe('abcdef');
    });

    it('35: a completed partial gets no finish processing (no tus.post-finish)', async () => {
      const upload = await partial('abc');
      expect((await head(upload)).headers['upload-offset']).toBe('3');
      expect(finished).not.toContain(uploadIdOf(upload));
    });

    it('35: a partial created with its whole body gets no finish processing either', async () => {
      const response = await send('POST', app.url, {
        headers: { ...TUS, 'Upload-Length': 3, 'Upload-Concat': 'partial', 'Content-Type': OFFSET_OCTET_STREAM },
        body: 'abc',
      });
      expect(response.status).toBe(201);
      expect(finished).not.toContain(uploadIdOf(locationOf(response, app.url)));
    });
  });

  describe('36: final uploads', () => {
    it('36: absolute URLs: 201, the length is the sum, the bytes the concatenation', async () => {
      const parts = [await partial('Hello, '), await partial('tus '), await partial('world')];
      const response = await postFinal(`final;${parts.join(' ')}`);
      expect(response.status).toBe(201);
      const final = locationOf(response, app.url);
      const state = await head(final);
      expect(state.headers['upload-length']).toBe('16');
      expect(state.headers['upload-offset']).toBe('16');
      expect((await bytesOf(final)).toString()).toBe('Hello, tus world');
      expect(finished).toContain(uploadIdOf(final));
    });

    it('36: relative URLs', async () => {
      const parts = [await partial('abc'), await partial('de')];
      const response = await postFinal(`final;${parts.map((url) => new URL(url).pathname).join(' ')}`);
      expect(response.status).toBe(201);
      expect((await bytesOf(locationOf(response, app.url))).toString()).toBe('abcde');
    });

    it('36: absolute and relative URLs mixed, in the order given', async () => {
      const first = await partial('1');
      const second = await partial('22');
      const third = await partial('333');
      const response = await postFinal(`final;${third} ${new URL(first).pathname} ${second}`);
      expect(response.status).toBe(201);
      expect((await bytesOf(locationOf(response, app.url))).toString()).toBe('333122');
    });

    it('36: a partial may repeat', async () => {
      const a = await partial('ab');
      const c = await partial('c');
      const response = await postFinal(`final;${a} ${c} ${a}`);
      expect(response.status).toBe(201);
      const final = locationOf(response, app.url);
      expect((await head(final)).headers['upload-length']).toBe('5');
      expect((await bytesOf(final)).toString()).toBe('abcab');
    });

    it('36: an empty partial adds nothing', async () => {
      const empty = await partial('');
      const full = await partial('xyz');
      const response = await postFinal(`final;${empty} ${full} ${empty}`);
      expect(response.status).toBe(201);
      const final = locationOf(response, app.url);
      expect((await head(final)).headers['upload-length']).toBe('3');
      expect((await bytesOf(final)).toString()).toBe('xyz');
    });

    it('36: partial metadata is not copied to the final', async () => {
      const parts = [await partial('a', 1, `filename ${b64('part-1')}`), await partial('b', 1, `filename ${b64('part-2')}`)];
      const bare = await postFinal(`final;${parts.join(' ')}`);
      expect(bare.status).toBe(201);
      expect((await head(locationOf(bare, app.url))).headers['upload-metadata']).toBeUndefined();

      const own = `filename ${b64('whole.bin')}`;
      const named = await postFinal(`final;${parts.join(' ')}`, { 'Upload-Metadata': own });
      expect(named.status).toBe(201);
      expect((await head(locationOf(named, app.url))).headers['upload-metadata']).toBe(own);
    });

    it('36: the partials stay as they were', async () => {
      const part = await partial('abc', 3, `n ${b64('p')}`);
      expect((await postFinal(`final;${part}`)).status).toBe(201);
      const state = await head(part);
      expect(state.status).toBe(200);
      expect(state.headers['upload-concat']).toBe('partial');
      expect(state.headers['upload-metadata']).toBe(`n ${b64('p')}`);
      expect((await bytesOf(part)).toString()).toBe('abc');
    });

    it.each([
      ['Upload-Length', { 'Upload-Length': 3 }],
      ['Upload-Length: 0', { 'Upload-Length': 0 }],
      ['Upload-Defer-Length', { 'Upload-Defer-Length': 1 }],
    ])('36: %s on a final POST is 400 and creates nothing', async (_name, headers) => {
      const part = await partial('abc');
      await expectRefused(() => postFinal(`final;${part}`, headers), 400);
    });

    it('36: a body on a final POST is 403 and creates nothing', async () => {
      const part = await partial('abc');
      await expectRefused(() => postFinal(`final;${part}`, { 'Content-Type': OFFSET_OCTET_STREAM }, 'def'), 403);
    });

    it.each([
      ['final; without URLs', 'final;'],
      ['final without a semicolon', 'final'],
      ['an unknown type', 'complete'],
      ['partial with URLs', 'partial;/files/x'],
    ])('36: Upload-Concat %s is 400 and creates nothing', async (_name, concat) => {
      await expectRefused(() => postFinal(concat, concat.startsWith('partial') ? { 'Upload-Length': 3 } : {}), 400);
    });

    it('36: an ordinary (non-partial) upload cannot be concatenated', async () => {
      const ordinary = await createUpload(app.url, { 'Upload-Length': 3 });
      await send('PATCH', ordinary, { headers: patchHeaders(0), body: 'abc' });
      await expectRefused(() => postFinal(`final;${ordinary}`), 400);
    });
  });

  describe('37: missing and unfinished partials', () => {
    it('37: a partial that does not exist is 404 (or 400) and creates nothing', async () => {
      const part = await partial('abc');
      await expectRefused(() => postFinal(`final;${part} ${app.url}/no-such-partial`), 404, 400);
    });

    it('37: a terminated partial is 404 (or 400/410)', async () => {
      const part = await partial('abc');
      expect((await send('DELETE', part, { headers: { ...TUS } })).status).toBe(204);
      await expectRefused(() => postFinal(`final;${part}`), 404, 400, 410);
    });

    describe('without concatenation-unfinished', () => {
      let strict: TusApp;
      beforeAll(async () => {
        strict = await startTusApp({ extensions: TUS_EXTENSIONS.filter((name) => name !== 'concatenation-unfinished') }, { backend, platform });
      });
      afterAll(async () => {
        await strict?.close();
      });

      async function strictPartial(content: string, length: number | null): Promise<string> {
        const upload = await createUpload(strict.url, {
          ...(length === null ? { 'Upload-Defer-Length': 1 } : { 'Upload-Length': length }),
          'Upload-Concat': 'partial',
        });
        expect((await send('PATCH', upload, { headers: patchHeaders(0), body: content })).status).toBe(204);
        return upload;
      }

      it('37: a partial that is not complete is 400, and it can still be completed and concatenated', async () => {
        expect(String((await send('OPTIONS', strict.url)).headers['tus-extension']).split(',')).not.toContain('concatenation-unfinished');
        const done = await strictPartial('abc', 3);
        const unfinished = await strictPartial('ab', 5);
        const before = await storedNames(strict.app);
        const refused = await send('POST', strict.url, { headers: { ...TUS, 'Upload-Concat': `final;${done} ${unfinished}` } });
        expect(refused.status).toBe(400);
        expect(refused.headers.location).toBeUndefined();
        expect(await storedNames(strict.app)).toEqual(before);

        expect((await send('PATCH', unfinished, { headers: patchHeaders(2), body: 'cde' })).status).toBe(204);
        const response = await send('POST', strict.url, { headers: { ...TUS, 'Upload-Concat': `final;${done} ${unfinished}` } });
        expect(response.status).toBe(201);
        const final = locationOf(response, strict.url);
        expect((await storedBytesOf(strict.app, final)).toString()).toBe('abcabcde');
      });

      it('37: a deferred-length partial is not complete (400)', async () => {
        const deferred = await strictPartial('abc', null);
        const before = await storedNames(strict.app);
        const response = await send('POST', strict.url, { headers: { ...TUS, 'Upload-Concat': `final;${deferred}` } });
        expect(response.status).toBe(400);
        expect(await storedNames(strict.app)).toEqual(before);
      });
    });

    describe('with concatenation-unfinished', () => {
      it('37: the final is created at once and completes when its last partial does', async () => {
        expect(String((await send('OPTIONS', app.url)).headers['tus-extension']).split(',')).toContain('concatenation-unfinished');
        const done = await partial('abc');
        const unfinished = await partial('de', 4);
        const concat = `final;${done} ${unfinished}`;
        const response = await postFinal(concat);
        expect(response.status).toBe(201);
        const final = locationOf(response, app.url);

        const pending = await head(final);
        expect(pending.status).toBe(200);
        expect(pending.headers['upload-offset']).toBeUndefined();
        expect(pending.headers['upload-concat']).toBe(concat);
        expect(finished).not.toContain(uploadIdOf(final));

        expect((await send('PATCH', unfinished, { headers: patchHeaders(2), body: 'fg' })).status).toBe(204);
        const state = await head(final);
        expect(state.headers['upload-offset']).toBe('7');
        expect(state.headers['upload-length']).toBe('7');
        expect((await bytesOf(final)).toString()).toBe('abcdefg');
        expect(finished).toContain(uploadIdOf(final));
      });

      it('37: a final of a deferred-length partial learns its length when the partial does', async () => {
        const deferred = await createUpload(app.url, { 'Upload-Defer-Length': 1, 'Upload-Concat': 'partial' });
        expect((await send('PATCH', deferred, { headers: patchHeaders(0), body: 'abc' })).status).toBe(204);
        const response = await postFinal(`final;${deferred} ${deferred}`);
        expect(response.status).toBe(201);
        const final = locationOf(response, app.url);
        const pending = await head(final);
        expect(pending.headers['upload-offset']).toBeUndefined();
        expect(pending.headers['upload-length'] === undefined || pending.headers['upload-defer-length'] === '1').toBe(true);

        expect((await send('PATCH', deferred, { headers: { ...patchHeaders(3), 'Upload-Length': 4 }, body: 'd' })).status).toBe(204);
        const state = await head(final);
        expect(state.headers['upload-offset']).toBe('8');
        expect(state.headers['upload-length']).toBe('8');
        expect((await bytesOf(final)).toString()).toBe('abcdabcd');
      });

      it('37: PATCH on a final that waits for its partials is 403', async () => {
        const unfinished = await partial('a', 3);
        const final = locationOf(await postFinal(`final;${unfinished}`), app.url);
        expect((await send('PATCH', final, { headers: patchHeaders(0), body: 'xyz' })).status).toBe(403);
        // A final waiting for its partials is not served (GET 404): what the storage holds of it
        // (data file, S3 object, .pending object or multipart upload) holds no byte.
        const id = uploadIdOf(final);
        const held = (await storedEntries(app.app)).filter((entry) => isDataEntry(entry) && (entry.name === id || entry.name.startsWith(`${id}.`) || entry.name.startsWith(`${id} `)));
        expect(held.map((entry) => entry.size).filter((size) => size > 0)).toEqual([]);
      });
    });
  });

  describe('38: PATCH and HEAD on a final upload', () => {
    let final: string;
    let concat: string;
    beforeAll(async () => {
      const parts = [await partial('abc'), await partial('def')];
      concat = `final;${parts[0]} ${new URL(parts[1]!).pathname}`;
      final = locationOf(await postFinal(concat), app.url);
    });

    it.each([
      ['at its offset', 6],
      ['at 0', 0],
    ])('38: PATCH %s is 403 and changes nothing', async (_name, offset) => {
      const response = await send('PATCH', final, { headers: patchHeaders(offset), body: 'xyz' });
      expect(response.status).toBe(403);
      const state = await head(final);
      expect(state.headers['upload-offset']).toBe('6');
      expect((await bytesOf(final)).toString()).toBe('abcdef');
    });

    it('38: a POST overridden to PATCH is 403 too', async () => {
      const response = await send('POST', final, { headers: { ...patchHeaders(6), 'X-HTTP-Method-Override': 'PATCH' }, body: 'xyz' });
      expect(response.status).toBe(403);
      expect((await bytesOf(final)).toString()).toBe('abcdef');
    });

    it('38: HEAD: Upload-Offset equals Upload-Length, Upload-Concat echoed', async () => {
      const state = await head(final);
      expect(state.status).toBe(200);
      expect(state.headers['upload-offset']).toBe('6');
      expect(state.headers['upload-length']).toBe('6');
      expect(state.headers['upload-concat']).toBe(concat);
      expect(state.headers['upload-defer-length']).toBeUndefined();
    });
  });
});
