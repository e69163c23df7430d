import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { copyFile, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { TusEvent, type TusPostEvent } from 'nestjs-tus';
import { b64, createUpload, head, locationOf, OFFSET_OCTET_STREAM, offsetOf, patchHeaders, send, sendPatch, sendRawPath, slowBody, type TestResponse, TUS, uploadIdOf } from '../support/http/requests.js';
import { TARGETS } from '../support/apps/targets.js';
import { expectRefusedLeaving, isDataEntry, storedBytesOf, storedEntries, storedNames } from '../support/storage/stored.js';
import { PLATFORMS, startTusApp, type TusApp } from '../support/apps/tus-app.js';

/** Every method that addresses an upload by id, directly and through X-HTTP-Method-Override. */
const ID_REQUESTS: [string, Record<string, string | number>][] = [
  ['HEAD', { ...TUS }],
  ['PATCH', patchHeaders(0)],
  ['DELETE', { ...TUS }],
  ['POST', { ...TUS, 'X-HTTP-Method-Override': 'DELETE' }],
  ['POST', { ...patchHeaders(0), 'X-HTTP-Method-Override': 'PATCH' }],
];

const ID = '[A-Za-z0-9_-]+';


/** Checklist 22-28: creating uploads, metadata, Location, creation-defer-length, creation-with-upload; and upload ids. */
describe.each(TARGETS)('creation on the $name', ({ backend, platform }) => {
  const MAX_SIZE = 1000;
  let app: TusApp;
  const finished: string[] = [];

  beforeAll(async () => {
    // downloadUnfinished: the tests read an unfinished upload's bytes through GET.
    app = await startTusApp({ maxSize: MAX_SIZE, downloadUnfinished: true }, { backend, platform });
    app.app.get(EventEmitter2).on(TusEvent.POST_FINISH, (event: TusPostEvent) => finished.push(event.upload.id));
  });
  afterAll(async () => {
    await app?.close();
  });

  const post = (headers: Record<string, string | number>, body?: string | Buffer) => send('POST', app.url, { headers: { ...TUS, ...headers }, body });
  const bytesOf = (uploadUrl: string): Promise<Buffer> => storedBytesOf(app.app, uploadUrl);
  const files = () => storedNames(app.app);

  const expectRefused = (request: () => Promise<TestResponse>, status: number) => expectRefusedLeaving(files, request, status);

  describe('22: Upload-Length or Upload-Defer-Length: 1, exactly one', () => {
    it.each([
      ['Upload-Length', { 'Upload-Length': 5 }, '5', undefined],
      ['Upload-Defer-Length: 1', { 'Upload-Defer-Length': 1 }, undefined, '1'],
    ])('22: %s creates an upload (201)', async (_name, headers, length, defer) => {
      const response = await post(headers);
      expect(response.status).toBe(201);
      const state = await head(locationOf(response, app.url));
      expect(state.headers['upload-offset']).toBe('0');
      expect(state.headers['upload-length']).toBe(length);
      expect(state.headers['upload-defer-length']).toBe(defer);
    });

    it.each([
      ['both', { 'Upload-Length': 5, 'Upload-Defer-Length': 1 }],
      ['neither', {}],
      ['Upload-Defer-Length: 0', { 'Upload-Defer-Length': 0 }],
      ['Upload-Defer-Length: 2', { 'Upload-Defer-Length': 2 }],
      ['Upload-Defer-Length: true', { 'Upload-Defer-Length': 'true' }],
      ['Upload-Defer-Length empty', { 'Upload-Defer-Length': '' }],
      ['Upload-Defer-Length: 01', { 'Upload-Defer-Length': '01' }],
    ])('22: %s is 400 and creates nothing', async (_name, headers) => {
      await expectRefused(() => post(headers), 400);
    });
  });

  describe('23: a length above the maximum is 413', () => {
    it('23: Upload-Length above maxSize is 413 and creates nothing', async () => {
      await expectRefused(() => post({ 'Upload-Length': MAX_SIZE + 1 }), 413);
    });

    it('23: Upload-Length equal to maxSize is accepted', async () => {
      const response = await post({ 'Upload-Length': MAX_SIZE });
      expect(response.status).toBe(201);
      expect((await head(locationOf(response, app.url))).headers['upload-length']).toBe(String(MAX_SIZE));
    });
  });

  describe('24: 201 with Location', () => {
    let relative: TusApp;
    let trusting: TusApp;
    beforeAll(async () => {
      [relative, trusting] = await Promise.all([
        startTusApp({ relativeLocation: true }, { backend, platform }),
        startTusApp({ trustForwardedHeaders: true }, { backend, platform }),
      ]);
    });
    afterAll(async () => {
      await Promise.all([relative?.close(), trusting?.close()]);
    });

    it('24: an absolute Location built from Host, which leads to the upload', async () => {
      const response = await post({ 'Upload-Length': 5 });
      expect(response.status).toBe(201);
      expect(response.headers.location).toMatch(new RegExp(`^${app.url}/${ID}$`));
      expect((await head(response.headers.location!)).status).toBe(200);
    });

    it.each([
      ['tus.example.com', 'http://tus.example.com'],
      ['tus.example.com:8080', 'http://tus.example.com:8080'],
      ['tus.example.com:80', 'http://tus.example.com'],
      ['[::1]:8080', 'http://[::1]:8080'],
    ])('24: Host %s gives Location %s/files/<id>', async (host, origin) => {
      const response = await post({ 'Upload-Length': 5, Host: host });
      expect(response.status).toBe(201);
      expect(response.headers.location).toMatch(new RegExp(`^${origin.replace(/[.[\]]/g, '\\$&')}/files/${ID}$`));
    });

    it('24: relativeLocation: true gives the path only', async () => {
      const response = await send('POST', relative.url, { headers: { ...TUS, 'Upload-Length': 5 } });
      expect(response.status).toBe(201);
      expect(response.headers.location).toMatch(new RegExp(`^/files/${ID}$`));
      expect((await head(locationOf(response, relative.url))).status).toBe(200);
    });

    const forwarded: [string, Record<string, string>, string][] = [
      ['X-Forwarded-Host and -Proto', { 'X-Forwarded-Host': 'tus.example.com', 'X-Forwarded-Proto': 'https' }, 'https://tus.example.com'],
      ['X-Forwarded-Host with the default https port', { 'X-Forwarded-Host': 'tus.example.com:443', 'X-Forwarded-Proto': 'https' }, 'https://tus.example.com'],
      ['X-Forwarded-Host with the default http port', { 'X-Forwarded-Host': 'tus.example.com:80', 'X-Forwarded-Proto': 'http' }, 'http://tus.example.com'],
      ['X-Forwarded-Host with another port', { 'X-Forwarded-Host': 'tus.example.com:8443', 'X-Forwarded-Proto': 'https' }, 'https://tus.example.com:8443'],
      ['X-Forwarded-Host listing several hops', { 'X-Forwarded-Host': 'a.example.com, b.example.com', 'X-Forwarded-Proto': 'https, http' }, 'https://a.example.com'],
      ['X-Forwarded-Proto alone, with Host', { Host: 'tus.example.com', 'X-Forwarded-Proto': 'https' }, 'https://tus.example.com'],
      ['Forwarded', { Forwarded: 'for=192.0.2.60;proto=https;host=tus.example.com' }, 'https://tus.example.com'],
      ['Forwarded with a quoted host and default port', { Forwarded: 'host="tus.example.com:443";proto=https' }, 'https://tus.example.com'],
      ['Forwarded, first hop', { Forwarded: 'host=a.example.com;proto=https, host=b.example.com;proto=http' }, 'https://a.example.com'],
      ['Forwarded over X-Forwarded-*', { Forwarded: 'host=a.example.com;proto=https', 'X-Forwarded-Host': 'b.example.com', 'X-Forwarded-Proto': 'http' }, 'https://a.example.com'],
    ];

    it.each(forwarded)('24: trustForwardedHeaders: %s', async (_name, headers, origin) => {
      const response = await send('POST', trusting.url, { headers: { ...TUS, 'Upload-Length': 5, ...headers } });
      expect(response.status).toBe(201);
      expect(response.headers.location).toMatch(new RegExp(`^${origin.replace(/[.[\]]/g, '\\$&')}/files/${ID}$`));
    });

    it.each(forwarded)('24: without trustForwardedHeaders, %s is ignored', async (_name, headers) => {
      const { Host: host, ...rest } = headers;
      const response = await post({ 'Upload-Length': 5, ...rest });
      expect(response.status).toBe(201);
      expect(response.headers.location).toMatch(new RegExp(`^${app.url}/${ID}$`));
      expect(host === undefined || !response.headers.location!.includes('example.com')).toBe(true);
    });
  });

  describe('25: Upload-Length: 0 is complete at creation', () => {
    it('25: 201, HEAD offset 0 of length 0, an empty file, no expiry, and tus.post-finish fired', async () => {
      const response = await post({ 'Upload-Length': 0 });
      expect(response.status).toBe(201);
      const upload = locationOf(response, app.url);
      const state = await head(upload);
      expect(state.headers['upload-offset']).toBe('0');
      expect(state.headers['upload-length']).toBe('0');
      expect(state.headers['upload-expires']).toBeUndefined();
      expect((await bytesOf(upload)).length).toBe(0);
      expect(finished).toContain(uploadIdOf(upload));
    });

    it('25: an upload with a length does not fire tus.post-finish at creation', async () => {
      const upload = locationOf(await post({ 'Upload-Length': 2 }), app.url);
      expect(finished).not.toContain(uploadIdOf(upload));
      await send('PATCH', upload, { headers: patchHeaders(0), body: 'ab' });
      expect(finished).toContain(uploadIdOf(upload));
    });
  });

  describe('26: Upload-Metadata', () => {
    it.each([
      ['bad base64', 'filename !!!!'],
      ['bad base64 padding', 'filename YQ='],
      ['too much padding', 'filename Y==='],
      ['a third token', `filename ${b64('a')} ${b64('b')}`],
      ['a duplicate key', `filename ${b64('a')},filename ${b64('b')}`],
      ['a duplicate key with an empty value', 'flag,flag'],
      ['an empty key (leading comma)', `,filename ${b64('a')}`],
      ['an empty key (trailing comma)', `filename ${b64('a')},`],
      ['an empty key (two commas)', `a ${b64('a')},,b ${b64('b')}`],
      ['a non-ASCII key', `k\u00e9y ${b64('a')}`],
    ])('26: %s is 400 and creates nothing', async (_name, metadata) => {
      await expectRefused(() => post({ 'Upload-Length': 5, 'Upload-Metadata': metadata }), 400);
    });

    it.each([
      ['an empty value without the space', `flag,filename ${b64('a.txt')}`],
      ['an empty value with the space', `flag ,filename ${b64('a.txt')}`],
      ['only empty values', 'a,b ,c'],
      ['keys with punctuation', `content-type ${b64('text/plain')},x_y.z ${b64('1')}`],
    ])('26: %s is accepted and HEAD echoes it exactly', async (_name, metadata) => {
      const response = await post({ 'Upload-Length': 5, 'Upload-Metadata': metadata });
      expect(response.status).toBe(201);
      expect((await head(locationOf(response, app.url))).headers['upload-metadata']).toBe(metadata);
    });
  });

  describe('27: creation-defer-length', () => {
    const deferred = () => createUpload(app.url, { 'Upload-Defer-Length': 1 });
    const patch = (upload: string, offset: number, body: string, length?: number) =>
      sendPatch(upload, offset, body, length === undefined ? {} : { 'Upload-Length': length });

    it('27: a later PATCH sets the length, and the upload completes at it', async () => {
      const upload = await deferred();
      expect((await patch(upload, 0, 'abc')).status).toBe(204);
      expect((await head(upload)).headers['upload-defer-length']).toBe('1');
      const response = await patch(upload, 3, 'def', 6);
      expect(response.status).toBe(204);
      expect(response.headers['upload-offset']).toBe('6');
      const state = await head(upload);
      expect(state.headers['upload-length']).toBe('6');
      expect(state.headers['upload-defer-length']).toBeUndefined();
      expect((await bytesOf(upload)).toString()).toBe('abcdef');
      expect(finished).toContain(uploadIdOf(upload));
    });

    it('27: once set, the length cannot change (400, nothing written)', async () => {
      const upload = await deferred();
      expect((await patch(upload, 0, 'abc', 9)).status).toBe(204);
      expect((await patch(upload, 3, 'def', 8)).status).toBe(400);
      expect((await patch(upload, 3, 'def', 10)).status).toBe(400);
      const state = await head(upload);
      expect(state.headers['upload-length']).toBe('9');
      expect(state.headers['upload-offset']).toBe('3');
      expect((await bytesOf(upload)).toString()).toBe('abc');
      // Repeating the same length is no change.
      expect((await patch(upload, 3, 'def', 9)).status).toBe(204);
      expect(await offsetOf(upload)).toBe(6);
    });

    it('27: Upload-Length on a PATCH of an upload created with a length cannot change it', async () => {
      const upload = await createUpload(app.url, { 'Upload-Length': 5 });
      expect((await patch(upload, 0, 'ab', 6)).status).toBe(400);
      const state = await head(upload);
      expect(state.headers['upload-length']).toBe('5');
      expect(state.headers['upload-offset']).toBe('0');
      expect((await bytesOf(upload)).length).toBe(0);
    });

    it('27: a length below the current offset is 400', async () => {
      const upload = await deferred();
      expect((await patch(upload, 0, 'abcd')).status).toBe(204);
      expect((await patch(upload, 4, '', 3)).status).toBe(400);
      const state = await head(upload);
      expect(state.headers['upload-defer-length']).toBe('1');
      expect(state.headers['upload-length']).toBeUndefined();
      expect(state.headers['upload-offset']).toBe('4');
    });

    it('27: a length above the maximum is 413', async () => {
      const upload = await deferred();
      expect((await patch(upload, 0, 'ab', MAX_SIZE + 1)).status).toBe(413);
      const state = await head(upload);
      expect(state.headers['upload-defer-length']).toBe('1');
      expect(state.headers['upload-offset']).toBe('0');
      expect((await bytesOf(upload)).length).toBe(0);
    });

    it('27: a chunk past the length it declares is 413, and the length is not recorded', async () => {
      const upload = await deferred();
      expect((await patch(upload, 0, 'abcd', 3)).status).toBe(413);
      const state = await head(upload);
      expect(state.headers['upload-defer-length']).toBe('1');
      expect(state.headers['upload-offset']).toBe('0');
    });

    it('27: without a declared length, bytes past the maximum are 413 (chunked body)', async () => {
      const upload = await deferred();
      const response = await send('PATCH', upload, {
        headers: patchHeaders(0),
        body: slowBody([Buffer.alloc(600, 'a'), Buffer.alloc(600, 'b')], 5),
      });
      expect(response.status).toBe(413);
      expect(await offsetOf(upload)).toBe(0);
    });
  });

  describe('28: creation-with-upload', () => {
    it('28: the body is the first chunk; 201 carries Upload-Offset', async () => {
      const response = await post({ 'Upload-Length': 10, 'Content-Type': OFFSET_OCTET_STREAM }, 'hello');
      expect(response.status).toBe(201);
      expect(response.headers['upload-offset']).toBe('5');
      const upload = locationOf(response, app.url);
      expect(await offsetOf(upload)).toBe(5);
      expect((await bytesOf(upload)).toString()).toBe('hello');
      expect((await send('PATCH', upload, { headers: patchHeaders(5), body: 'world' })).status).toBe(204);
      expect((await bytesOf(upload)).toString()).toBe('helloworld');
    });

    it('28: a body that is the whole upload completes it', async () => {
      const response = await post({ 'Upload-Length': 5, 'Content-Type': OFFSET_OCTET_STREAM }, 'hello');
      expect(response.status).toBe(201);
      expect(response.headers['upload-offset']).toBe('5');
      const upload = locationOf(response, app.url);
      const state = await head(upload);
      expect(state.headers['upload-offset']).toBe('5');
      expect(state.headers['upload-expires']).toBeUndefined();
      expect(finished).toContain(uploadIdOf(upload));
    });

    it('28: a chunked body, with a deferred length', async () => {
      const response = await send('POST', app.url, {
        headers: { ...TUS, 'Upload-Defer-Length': 1, 'Content-Type': OFFSET_OCTET_STREAM },
        body: slowBody([Buffer.from('abc'), Buffer.from('de')], 5),
      });
      expect(response.status).toBe(201);
      expect(response.headers['upload-offset']).toBe('5');
      expect((await bytesOf(locationOf(response, app.url))).toString()).toBe('abcde');
    });

    it('28: without a body, 201 carries Upload-Offset: 0', async () => {
      const response = await post({ 'Upload-Length': 5 });
      expect(response.status).toBe(201);
      expect(response.headers['upload-offset'] ?? '0').toBe('0');
    });

    it.each([
      ['text/plain', { 'Content-Type': 'text/plain' }],
      ['application/octet-stream', { 'Content-Type': 'application/octet-stream' }],
      ['no Content-Type', {}],
    ])('28: a body with %s is 415 and creates nothing', async (_name, headers) => {
      await expectRefused(() => post({ 'Upload-Length': 5, ...headers }, 'hello'), 415);
    });

    it('28: a body past Upload-Length is 413, and no bytes are stored', async () => {
      const before = new Set(await files());
      const response = await post({ 'Upload-Length': 3, 'Content-Type': OFFSET_OCTET_STREAM }, 'hello');
      expect(response.status).toBe(413);
      expect(response.headers.location).toBeUndefined();
      for (const entry of (await storedEntries(app.app)).filter((entry) => !before.has(entry.name) && isDataEntry(entry))) {
        expect(entry).toEqual({ name: entry.name, size: 0 });
      }
    });
  });

  // Checklist 35-36: Upload-Concat is a request and response header, echoed on the creation's 201
  // as HEAD echoes it later (checklist 12).
  describe('35-36: the 201 of a concatenation echoes Upload-Concat', () => {
    it('35: a partial: Upload-Concat: partial', async () => {
      const response = await post({ 'Upload-Length': 3, 'Upload-Concat': 'partial' });
      expect(response.status).toBe(201);
      expect(response.headers['upload-concat']).toBe('partial');
    });

    it('36: a final of completed partials: the header as sent, relative URLs kept', async () => {
      const partials: string[] = [];
      for (const bytes of ['ab', 'cd']) {
        const partial = await createUpload(app.url, { 'Upload-Length': 2, 'Upload-Concat': 'partial' });
        expect((await send('PATCH', partial, { headers: patchHeaders(0), body: bytes })).status).toBe(204);
        partials.push(partial);
      }
      const concat = `final;${partials[0]} ${new URL(partials[1]!).pathname}`;
      const response = await post({ 'Upload-Concat': concat });
      expect(response.status).toBe(201);
      expect(response.headers['upload-concat']).toBe(concat);
      expect((await head(locationOf(response, app.url))).headers['upload-concat']).toBe(concat);
    });

    it('36: a final of a partial still uploading (concatenation-unfinished): the header as sent', async () => {
      const partial = await createUpload(app.url, { 'Upload-Length': 2, 'Upload-Concat': 'partial' });
      const concat = `final;${partial}`;
      const response = await post({ 'Upload-Concat': concat });
      expect(response.status).toBe(201);
      expect(response.headers['upload-concat']).toBe(concat);
    });

    it('a plain upload: no Upload-Concat', async () => {
      const response = await post({ 'Upload-Length': 3 });
      expect(response.status).toBe(201);
      expect(response.headers['upload-concat']).toBeUndefined();
    });
  });

  describe('ids that are not ours are 404 and change nothing in storage', () => {
    const paths = [
      '/files/..%2F..%2Fetc',
      '/files/..%2F..%2Fetc%2Fpasswd',
      '/files/a.b',
      '/files/%2e%2e',
      '/files/..%2Fsentinel',
      '/files/%2e%2e%2Fsentinel',
      '/files/..%5Csentinel',
      '/files/uploads%2F..%2Fsentinel',
    ];

    it.each(ID_REQUESTS)('ids: %s with %j on traversal paths is 404', async (method, headers) => {
      const before = await storedEntries(app.app);
      for (const path of paths) {
        const response = await sendRawPath(method, app.origin, path, { headers });
        expect({ path, status: response.status }).toEqual({ path, status: 404 });
      }
      expect(await storedEntries(app.app)).toEqual(before);
    });
  });
});

/** Path traversal on the file backend: ids that are paths reach nothing outside the upload folder. */
describe.each(PLATFORMS)('creation on the file backend: upload ids are never paths on %s', (platform) => {
  let app: TusApp;

  beforeAll(async () => {
    app = await startTusApp({ maxSize: 1000 }, { platform });
  });
  afterAll(async () => {
    await app?.close();
  });

  const post = (headers: Record<string, string | number>, body?: string | Buffer) => send('POST', app.url, { headers: { ...TUS, ...headers }, body });
  const files = () => readdir(app.uploadDir);

  const expectRefused = (request: () => Promise<TestResponse>, status: number) => expectRefusedLeaving(files, request, status);

  describe('ids that are not ours are 404 and touch nothing outside the upload folder', () => {
    const sentinel = `sentinel-${process.pid}-${Date.now()}`;
    let outside: string;
    let sentinelInfo: string;

    beforeAll(async () => {
      // A valid-looking upload next to the upload folder: reaching it would be a path traversal.
      const upload = await createUpload(app.url, { 'Upload-Length': 10 });
      await send('PATCH', upload, { headers: patchHeaders(0), body: 'secret' });
      outside = dirname(app.uploadDir);
      await copyFile(join(app.uploadDir, uploadIdOf(upload)), join(outside, sentinel));
      sentinelInfo = (await readFile(join(app.uploadDir, `${uploadIdOf(upload)}.info`), 'utf8')).replaceAll(uploadIdOf(upload), sentinel);
      await writeFile(join(outside, `${sentinel}.info`), sentinelInfo);
    });
    afterAll(async () => {
      await rm(join(outside, sentinel), { force: true });
      await rm(join(outside, `${sentinel}.info`), { force: true });
      await rm(join(outside, `${sentinel}.lock`), { force: true });
    });

    const paths = () => [
      '/files/..%2F..%2Fetc',
      '/files/..%2F..%2Fetc%2Fpasswd',
      '/files/a.b',
      '/files/%2e%2e',
      `/files/..%2F${sentinel}`,
      `/files/%2e%2e%2F${sentinel}`,
      `/files/..%5C${sentinel}`,
      `/files/${basename(app.uploadDir)}%2F..%2F${sentinel}`,
    ];

    it.each(ID_REQUESTS)('ids: %s with %j on traversal paths is 404', async (method, headers) => {
      const before = await files();
      for (const path of paths()) {
        const response = await sendRawPath(method, app.origin, path, { headers });
        expect({ path, status: response.status }).toEqual({ path, status: 404 });
      }
      expect(await files()).toEqual(before);
      expect((await readFile(join(outside, sentinel))).toString()).toBe('secret');
      expect(await readFile(join(outside, `${sentinel}.info`), 'utf8')).toBe(sentinelInfo);
      expect((await readdir(outside)).filter((name) => name.startsWith(sentinel)).sort()).toEqual([sentinel, `${sentinel}.info`]);
    });

    it('ids: a final upload naming a partial outside the folder is refused and creates nothing', async () => {
      await expectRefused(() => post({ 'Upload-Concat': `final;${app.origin}/files/..%2F${sentinel}` }), 404);
      expect((await readFile(join(outside, sentinel))).toString()).toBe('secret');
    });
  });
});
