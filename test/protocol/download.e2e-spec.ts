import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { b64, createUpload, patchHeaders, send, TUS } from '../support/http/requests.js';
import { TARGETS } from '../support/apps/targets.js';
import { startTusApp, type RunningApp, PLATFORMS } from '../support/apps/tus-app.js';

async function completed(app: RunningApp, data: Buffer, metadata: Record<string, string> = {}): Promise<string> {
  const header = Object.entries(metadata).map(([key, value]) => `${key} ${b64(value)}`).join(',');
  const url = await createUpload(app.url, { 'Upload-Length': data.length, ...(header ? { 'Upload-Metadata': header } : {}) });
  const patched = await send('PATCH', url, { headers: patchHeaders(0), body: data });
  expect(patched.status).toBe(204);
  return url;
}

describe.each(TARGETS)('download (GET <path>/:id) on the $name', ({ backend, platform }) => {
  let app: RunningApp;
  const data = randomBytes(100_000);

  beforeAll(async () => {
    app = await startTusApp({}, { backend, platform });
  });
  afterAll(() => app.close());

  it('streams a completed upload with length, type, disposition and validators', async () => {
    const url = await completed(app, data, { filename: 'photo.png', filetype: 'image/png' });
    const response = await send('GET', url);
    expect(response.status).toBe(200);
    expect(response.body.equals(data)).toBe(true);
    expect(response.headers['content-length']).toBe(String(data.length));
    expect(response.headers['content-type']).toBe('image/png');
    expect(response.headers['content-disposition']).toBe(`inline; filename="photo.png"; filename*=UTF-8''photo.png`);
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers.etag).toMatch(/^".+"$/);
    expect(new Date(response.headers['last-modified']!).getTime()).toBeGreaterThan(0);
    expect(response.headers['accept-ranges']).toBe('bytes');
  });

  it('needs no Tus-Resumable header: browsers download with a plain GET', async () => {
    const url = await completed(app, data.subarray(0, 10));
    expect((await send('GET', url)).status).toBe(200);
  });

  it('serves unsafe types as attachments, with a sanitised name', async () => {
    const url = await completed(app, Buffer.from('<script>alert(1)</script>'), { filename: 'x"\r\ny.html', filetype: 'text/html' });
    const response = await send('GET', url);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    expect(response.headers['content-disposition']).toBe(`attachment; filename="xy.html"; filename*=UTF-8''xy.html`);
  });

  it.each([
    ['bytes=0-9', 206, 0, 9],
    ['bytes=99990-', 206, 99_990, 99_999],
    ['bytes=-5', 206, 99_995, 99_999],
  ])('Range %s answers %i with Content-Range', async (range, status, start, end) => {
    const url = await completed(app, data);
    const response = await send('GET', url, { headers: { Range: range } });
    expect(response.status).toBe(status);
    expect(response.headers['content-range']).toBe(`bytes ${start}-${end}/${data.length}`);
    expect(response.headers['content-length']).toBe(String(end - start + 1));
    expect(response.body.equals(data.subarray(start, end + 1))).toBe(true);
  });

  it('an unsatisfiable Range answers 416 with the size', async () => {
    const url = await completed(app, data);
    const response = await send('GET', url, { headers: { Range: 'bytes=100000-' } });
    expect(response.status).toBe(416);
    expect(response.headers['content-range']).toBe(`bytes */${data.length}`);
  });

  it('answers 304 to If-None-Match with the ETag, and to If-Modified-Since', async () => {
    const url = await completed(app, data);
    const first = await send('GET', url);
    const byEtag = await send('GET', url, { headers: { 'If-None-Match': first.headers.etag! } });
    expect(byEtag.status).toBe(304);
    expect(byEtag.body.length).toBe(0);
    const byDate = await send('GET', url, { headers: { 'If-Modified-Since': first.headers['last-modified']! } });
    expect(byDate.status).toBe(304);
    const stale = await send('GET', url, { headers: { 'If-None-Match': '"something-else"' } });
    expect(stale.status).toBe(200);
  });

  it('is 404 for an unfinished upload and for an unknown one', async () => {
    const url = await createUpload(app.url, { 'Upload-Length': 10 });
    await send('PATCH', url, { headers: patchHeaders(0), body: 'abc' });
    expect((await send('GET', url)).status).toBe(404);
    expect((await send('GET', `${app.url}/doesnotexist`)).status).toBe(404);
  });
});

describe.each(PLATFORMS)('download options on %s', (platform) => {
  it('download: false turns the route off (404)', async () => {
    const app = await startTusApp({ download: false }, { platform });
    try {
      const url = await completed(app, Buffer.from('hello'));
      expect((await send('GET', url)).status).toBe(404);
      expect((await send('HEAD', url, { headers: TUS })).status).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('downloadUnfinished: true serves the bytes received so far', async () => {
    const app = await startTusApp({ downloadUnfinished: true }, { platform });
    try {
      const url = await createUpload(app.url, { 'Upload-Length': 10 });
      await send('PATCH', url, { headers: patchHeaders(0), body: 'abc' });
      const response = await send('GET', url);
      expect(response.status).toBe(200);
      expect(response.text).toBe('abc');
      expect(response.headers['last-modified']).toBeUndefined();
    } finally {
      await app.close();
    }
  });
});
