import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TARGETS } from '../support/apps/targets.js';
import { b64, createUpload, head, patchHeaders, send, sendPatch, TUS, uploadIdOf } from '../support/http/requests.js';
import { storedNames } from '../support/storage/stored.js';
import { startTusApp, type TusApp } from '../support/apps/tus-app.js';

/** Checklist 8-13: what HEAD tells a client about an upload. */
describe.each(TARGETS)('HEAD on the $name', ({ backend, platform }) => {
  let app: TusApp;

  beforeAll(async () => {
    app = await startTusApp({}, { backend, platform });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('8: 200 without a body, with Cache-Control: no-store', async () => {
    const upload = await createUpload(app.url, { 'Upload-Length': 10 });
    const response = await head(upload);
    expect([200, 204]).toContain(response.status);
    expect(response.body.length).toBe(0);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.headers['tus-resumable']).toBe('1.0.0');
  });

  it('8: the same state through a POST overridden to HEAD has no body either', async () => {
    const upload = await createUpload(app.url, { 'Upload-Length': 10 });
    const response = await send('POST', upload, { headers: { ...TUS, 'X-HTTP-Method-Override': 'HEAD' } });
    expect([200, 204]).toContain(response.status);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.headers['upload-offset']).toBe('0');
  });

  describe('9: Upload-Offset always, also 0 and also when complete', () => {
    const steps: [string, string[], string][] = [
      ['of a new upload', [], '0'],
      ['after one chunk', ['abc'], '3'],
      ['after two chunks', ['abc', 'defg'], '7'],
      ['when complete', ['abc', 'defg', 'hij'], '10'],
    ];
    it.each(steps)('9: Upload-Offset %s', async (_name, chunks, expected) => {
      const upload = await createUpload(app.url, { 'Upload-Length': 10 });
      let offset = 0;
      for (const chunk of chunks) {
        expect((await sendPatch(upload, offset, chunk)).status).toBe(204);
        offset += chunk.length;
      }
      const response = await head(upload);
      expect(response.status).toBe(200);
      expect(response.headers['upload-offset']).toBe(expected);
      expect(response.headers['upload-length']).toBe('10');
    });

    it('9: Upload-Offset 0 of an empty upload, complete at creation', async () => {
      const upload = await createUpload(app.url, { 'Upload-Length': 0 });
      const response = await head(upload);
      expect(response.headers['upload-offset']).toBe('0');
      expect(response.headers['upload-length']).toBe('0');
    });
  });

  describe('10: Upload-Length when known, else Upload-Defer-Length: 1', () => {
    it('10: a known length, no Upload-Defer-Length', async () => {
      const upload = await createUpload(app.url, { 'Upload-Length': 42 });
      const response = await head(upload);
      expect(response.headers['upload-length']).toBe('42');
      expect(response.headers['upload-defer-length']).toBeUndefined();
    });

    it('10: a deferred length: Upload-Defer-Length: 1 and no Upload-Length', async () => {
      const upload = await createUpload(app.url, { 'Upload-Defer-Length': 1 });
      await sendPatch(upload, 0, 'abc');
      const response = await head(upload);
      expect(response.headers['upload-defer-length']).toBe('1');
      expect(response.headers['upload-length']).toBeUndefined();
      expect(response.headers['upload-offset']).toBe('3');
    });

    it('10: once a PATCH declares the length, Upload-Length replaces Upload-Defer-Length', async () => {
      const upload = await createUpload(app.url, { 'Upload-Defer-Length': 1 });
      const response = await send('PATCH', upload, { headers: { ...patchHeaders(0), 'Upload-Length': 6 }, body: 'abc' });
      expect(response.status).toBe(204);
      const state = await head(upload);
      expect(state.headers['upload-length']).toBe('6');
      expect(state.headers['upload-defer-length']).toBeUndefined();
      expect(state.headers['upload-offset']).toBe('3');
    });
  });

  describe('11: Upload-Metadata exactly as sent at creation', () => {
    const headers: [string, string][] = [
      ['one pair', `filename ${b64('photo.jpg')}`],
      ['pairs in the client order', `zeta ${b64('z')},alpha ${b64('a')},mid ${b64('m')}`],
      ['an empty value without its space', `flag,filename ${b64('a.txt')}`],
      ['an empty value with its space', `flag ,filename ${b64('a.txt')}`],
      ['UTF-8 values', `name ${b64('résumé – ünïcødé ✓')},type ${b64('text/plain')}`],
      ['a value with padding', `a ${b64('a')},ab ${b64('ab')},abc ${b64('abc')}`],
    ];
    it.each(headers)('11: %s', async (_name, metadata) => {
      const upload = await createUpload(app.url, { 'Upload-Length': 3, 'Upload-Metadata': metadata });
      const response = await head(upload);
      expect(response.status).toBe(200);
      expect(response.headers['upload-metadata']).toBe(metadata);
    });

    it('11: no Upload-Metadata when none was sent', async () => {
      const upload = await createUpload(app.url, { 'Upload-Length': 3 });
      expect((await head(upload)).headers['upload-metadata']).toBeUndefined();
    });

    it('11: the metadata stays the same after PATCHes and completion', async () => {
      const metadata = `filename ${b64('x.bin')},empty`;
      const upload = await createUpload(app.url, { 'Upload-Length': 3, 'Upload-Metadata': metadata });
      await sendPatch(upload, 0, 'ab');
      await sendPatch(upload, 2, 'c');
      const response = await head(upload);
      expect(response.headers['upload-offset']).toBe('3');
      expect(response.headers['upload-metadata']).toBe(metadata);
    });
  });

  describe('12: Upload-Concat echoed for partial and final uploads', () => {
    it('12: partial', async () => {
      const upload = await createUpload(app.url, { 'Upload-Length': 3, 'Upload-Concat': 'partial' });
      expect((await head(upload)).headers['upload-concat']).toBe('partial');
    });

    it('12: final, as received', async () => {
      const first = await createUpload(app.url, { 'Upload-Length': 2, 'Upload-Concat': 'partial' });
      const second = await createUpload(app.url, { 'Upload-Length': 1, 'Upload-Concat': 'partial' });
      await sendPatch(first, 0, 'ab');
      await sendPatch(second, 0, 'c');
      const concat = `final;${first} ${new URL(second).pathname}`;
      const final = await createUpload(app.url, { 'Upload-Concat': concat });
      const response = await head(final);
      expect(response.headers['upload-concat']).toBe(concat);
      expect(response.headers['upload-offset']).toBe('3');
      expect(response.headers['upload-length']).toBe('3');
    });

    it('12: no Upload-Concat on an ordinary upload', async () => {
      const upload = await createUpload(app.url, { 'Upload-Length': 3 });
      expect((await head(upload)).headers['upload-concat']).toBeUndefined();
    });
  });

  describe('13: an unknown upload is 404 (or 410) without Upload-Offset', () => {
    it.each(['never-created', 'AAAAAAAAAAAAAAAAAAAAAA'])('13: HEAD of unknown id %s', async (id) => {
      const response = await head(`${app.url}/${id}`);
      expect(response.status).toBe(404);
      expect(response.headers['upload-offset']).toBeUndefined();
      expect(response.headers['upload-length']).toBeUndefined();
      expect(response.headers['tus-resumable']).toBe('1.0.0');
    });

    it('13: HEAD of a terminated upload', async () => {
      const upload = await createUpload(app.url, { 'Upload-Length': 3 });
      await sendPatch(upload, 0, 'ab');
      expect((await send('DELETE', upload, { headers: { ...TUS } })).status).toBe(204);
      const response = await head(upload);
      expect([404, 410]).toContain(response.status);
      expect(response.headers['upload-offset']).toBeUndefined();
      expect((await storedNames(app.app)).filter((name) => name.startsWith(uploadIdOf(upload)))).toEqual([]);
    });
  });
});
