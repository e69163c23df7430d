import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TARGETS } from '../support/apps/targets.js';
import { createUpload, head, patchHeaders, send, TUS, uploadIdOf } from '../support/http/requests.js';
import { storedNames } from '../support/storage/stored.js';
import { startTusApp, type TusApp } from '../support/apps/tus-app.js';

/** Checklist 34: the termination extension. */
describe.each(TARGETS)('termination on the $name', ({ backend, platform }) => {
  let app: TusApp;

  beforeAll(async () => {
    app = await startTusApp({}, { backend, platform });
  });
  afterAll(async () => {
    await app?.close();
  });

  const del = (upload: string) => send('DELETE', upload, { headers: { ...TUS } });
  /** What the storage holds of an upload: files, objects and multipart uploads named after its id. */
  const filesOf = async (upload: string) => (await storedNames(app.app)).filter((name) => name.startsWith(uploadIdOf(upload)));

  const states: [string, number, string][] = [
    ['a new upload', 10, ''],
    ['an upload in progress', 10, 'abcd'],
    ['a completed upload', 4, 'abcd'],
    ['an empty upload', 0, ''],
  ];

  it.each(states)('34: DELETE of %s is 204 and frees its storage', async (_name, length, content) => {
    const upload = await createUpload(app.url, { 'Upload-Length': length });
    if (content) expect((await send('PATCH', upload, { headers: patchHeaders(0), body: content })).status).toBe(204);
    expect((await filesOf(upload)).length).toBeGreaterThan(0);

    const response = await del(upload);
    expect(response.status).toBe(204);
    expect(response.headers['tus-resumable']).toBe('1.0.0');
    expect(response.body.length).toBe(0);
    expect(await filesOf(upload)).toEqual([]);
  });

  it('34: later requests on a terminated upload are 404 (or 410)', async () => {
    const upload = await createUpload(app.url, { 'Upload-Length': 10 });
    await send('PATCH', upload, { headers: patchHeaders(0), body: 'abc' });
    expect((await del(upload)).status).toBe(204);

    const later = [
      await head(upload),
      await send('PATCH', upload, { headers: patchHeaders(3), body: 'def' }),
      await send('PATCH', upload, { headers: patchHeaders(0), body: 'def' }),
      await del(upload),
    ];
    for (const response of later) {
      expect([404, 410]).toContain(response.status);
      expect(response.headers['upload-offset']).toBeUndefined();
    }
    expect(await filesOf(upload)).toEqual([]);
  });

  it('34: DELETE of an unknown upload is 404', async () => {
    const before = await storedNames(app.app);
    const response = await del(`${app.url}/no-such-upload`);
    expect(response.status).toBe(404);
    expect(response.headers['tus-resumable']).toBe('1.0.0');
    expect(await storedNames(app.app)).toEqual(before);
  });

  it('34: DELETE removes only the upload it names', async () => {
    const kept = await createUpload(app.url, { 'Upload-Length': 10 });
    await send('PATCH', kept, { headers: patchHeaders(0), body: 'keep' });
    const removed = await createUpload(app.url, { 'Upload-Length': 10 });
    expect((await del(removed)).status).toBe(204);
    const state = await head(kept);
    expect(state.status).toBe(200);
    expect(state.headers['upload-offset']).toBe('4');
    expect((await filesOf(kept)).length).toBeGreaterThan(0);
  });

  it('34: a partial and a final upload can be terminated', async () => {
    const partial = await createUpload(app.url, { 'Upload-Length': 2, 'Upload-Concat': 'partial' });
    await send('PATCH', partial, { headers: patchHeaders(0), body: 'ab' });
    const final = await createUpload(app.url, { 'Upload-Concat': `final;${partial} ${partial}` });
    expect((await del(final)).status).toBe(204);
    expect(await filesOf(final)).toEqual([]);
    expect((await head(partial)).status).toBe(200);
    expect((await del(partial)).status).toBe(204);
    expect(await filesOf(partial)).toEqual([]);
  });

  it('34: a DELETE while a PATCH is streaming waits for it or is refused, never leaving a half upload', async () => {
    const upload = await createUpload(app.url, { 'Upload-Length': 1024 * 1024 });
    const streaming = send('PATCH', upload, { headers: patchHeaders(0), body: Buffer.alloc(1024 * 1024, 'x') });
    const deleted = await del(upload);
    const patched = await streaming;
    expect([204, 423]).toContain(deleted.status);
    expect([204, 404, 409, 410]).toContain(patched.status);
    if (deleted.status === 204) {
      expect((await head(upload)).status).not.toBe(200);
      // Nothing left behind, even if the PATCH finished writing after the DELETE.
      expect(await filesOf(upload)).toEqual([]);
    }
  });

  describe('termination disabled', () => {
    let plain: TusApp;
    beforeAll(async () => {
      plain = await startTusApp({ extensions: ['creation'] }, { backend, platform });
    });
    afterAll(async () => {
      await plain?.close();
    });

    it("34: without 'termination' in Tus-Extension, DELETE does not remove the upload", async () => {
      expect(String((await send('OPTIONS', plain.url)).headers['tus-extension']).split(',')).not.toContain('termination');
      const upload = await createUpload(plain.url, { 'Upload-Length': 10 });
      const response = await send('DELETE', upload, { headers: { ...TUS } });
      expect(response.status).not.toBe(204);
      expect((await head(upload)).status).toBe(200);
    });
  });
});
