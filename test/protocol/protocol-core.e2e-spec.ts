import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TUS_EXTENSIONS } from 'nestjs-tus';
import { TARGETS } from '../support/apps/targets.js';
import { createUpload, head, locationOf, OFFSET_OCTET_STREAM, offsetOf, patchHeaders, send, type TestResponse, TUS, uploadIdOf } from '../support/http/requests.js';
import { storedBytesOf, storedNames } from '../support/storage/stored.js';
import { startTusApp, type TusApp } from '../support/apps/tus-app.js';

/** Checklist 1-7: headers every response carries, version negotiation, integers, method override, OPTIONS. */
describe.each(TARGETS)('tus core protocol on the $name', ({ backend, platform }) => {
  const MAX_SIZE = 1024;
  let app: TusApp;

  beforeAll(async () => {
    // downloadUnfinished: the tests read an unfinished upload's bytes through GET.
    app = await startTusApp({ maxSize: MAX_SIZE, downloadUnfinished: true }, { backend, platform });
  });
  afterAll(async () => {
    await app?.close();
  });

  const bytesOf = (uploadUrl: string): Promise<Buffer> => storedBytesOf(app.app, uploadUrl);
  const stored = () => storedNames(app.app);

  describe('1: Tus-Resumable on every response but OPTIONS', () => {
    const cases: [string, () => Promise<TestResponse>, number][] = [
      ['POST creation', () => send('POST', app.url, { headers: { ...TUS, 'Upload-Length': 5 } }), 201],
      ['HEAD', async () => head(await createUpload(app.url)), 200],
      ['PATCH', async () => send('PATCH', await createUpload(app.url), { headers: patchHeaders(0), body: 'abc' }), 204],
      ['DELETE', async () => send('DELETE', await createUpload(app.url), { headers: { ...TUS } }), 204],
      ['HEAD of an unknown upload (404)', () => head(`${app.url}/unknown`), 404],
      ['POST without a length (400)', () => send('POST', app.url, { headers: { ...TUS } }), 400],
      ['PATCH at the wrong offset (409)', async () => send('PATCH', await createUpload(app.url), { headers: patchHeaders(3), body: 'abc' }), 409],
      ['PATCH with another content type (415)', async () => send('PATCH', await createUpload(app.url), { headers: { ...patchHeaders(0), 'Content-Type': 'text/plain' }, body: 'abc' }), 415],
      // Fastify has no parser for these and used to answer 415 itself, without Tus-Resumable.
      ['PATCH of application/octet-stream (415)', async () => send('PATCH', await createUpload(app.url), { headers: { ...patchHeaders(0), 'Content-Type': 'application/octet-stream' }, body: 'abc' }), 415],
      ['POST with an image/png body (415)', () => send('POST', app.url, { headers: { ...TUS, 'Upload-Length': 3, 'Content-Type': 'image/png' }, body: 'abc' }), 415],
      ['POST creation at <path>/', () => send('POST', `${app.url}/`, { headers: { ...TUS, 'Upload-Length': 5 } }), 201],
      ['POST above the maximum (413)', () => send('POST', app.url, { headers: { ...TUS, 'Upload-Length': MAX_SIZE + 1 } }), 413],
      ['POST without Tus-Resumable (412)', () => send('POST', app.url, { headers: { 'Upload-Length': 5 } }), 412],
    ];
    it.each(cases)('1: %s', async (_name, request, status) => {
      const response = await request();
      expect(response.status).toBe(status);
      expect(response.headers['tus-resumable']).toBe('1.0.0');
    });
  });

  describe('2: 412 with Tus-Version on a missing or unsupported Tus-Resumable, and nothing processed', () => {
    const versions: [string, Record<string, string>][] = [
      ['missing', {}],
      ['0.2.2', { 'Tus-Resumable': '0.2.2' }],
      ['1.0', { 'Tus-Resumable': '1.0' }],
      ['2.0.0', { 'Tus-Resumable': '2.0.0' }],
      ['empty', { 'Tus-Resumable': '' }],
    ];

    it.each(versions)('2: POST with Tus-Resumable %s is 412 and creates nothing', async (_name, version) => {
      const before = await stored();
      const response = await send('POST', app.url, { headers: { ...version, 'Upload-Length': 5 } });
      expect(response.status).toBe(412);
      expect(response.headers['tus-version']).toBe('1.0.0');
      expect(response.headers.location).toBeUndefined();
      expect(await stored()).toEqual(before);
    });

    it.each(versions)('2: POST with body and Tus-Resumable %s is 412 and creates nothing', async (_name, version) => {
      const before = await stored();
      const response = await send('POST', app.url, {
        headers: { ...version, 'Upload-Length': 5, 'Content-Type': OFFSET_OCTET_STREAM },
        body: 'hello',
      });
      expect(response.status).toBe(412);
      expect(response.headers['tus-version']).toBe('1.0.0');
      expect(await stored()).toEqual(before);
    });

    it.each(versions)('2: PATCH with Tus-Resumable %s is 412 and stores nothing', async (_name, version) => {
      const upload = await createUpload(app.url);
      const { 'Tus-Resumable': _, ...withoutVersion } = patchHeaders(0);
      const response = await send('PATCH', upload, { headers: { ...withoutVersion, ...version }, body: 'abc' });
      expect(response.status).toBe(412);
      expect(response.headers['tus-version']).toBe('1.0.0');
      expect(response.headers['upload-offset']).toBeUndefined();
      expect(await offsetOf(upload)).toBe(0);
      expect((await bytesOf(upload)).length).toBe(0);
    });

    it.each(versions)('2: DELETE with Tus-Resumable %s is 412 and the upload stays', async (_name, version) => {
      const upload = await createUpload(app.url);
      const response = await send('DELETE', upload, { headers: version });
      expect(response.status).toBe(412);
      expect(response.headers['tus-version']).toBe('1.0.0');
      expect((await head(upload)).status).toBe(200);
    });

    it.each(versions)('2: HEAD with Tus-Resumable %s is 412 without the upload state', async (_name, version) => {
      const upload = await createUpload(app.url);
      const response = await send('HEAD', upload, { headers: version });
      expect(response.status).toBe(412);
      expect(response.headers['tus-version']).toBe('1.0.0');
      expect(response.headers['upload-offset']).toBeUndefined();
      expect(response.headers['upload-length']).toBeUndefined();
    });

    it('2: a POST overridden to DELETE without Tus-Resumable is 412 and the upload stays', async () => {
      const upload = await createUpload(app.url);
      const response = await send('POST', upload, { headers: { 'X-HTTP-Method-Override': 'DELETE' } });
      expect(response.status).toBe(412);
      expect(response.headers['tus-version']).toBe('1.0.0');
      expect((await head(upload)).status).toBe(200);
    });
  });

  describe('3: Upload-Offset and Upload-Length are digits only, else 400', () => {
    // ' 5' is not listed: leading and trailing blanks are optional whitespace around an HTTP field
    // value (RFC 9110 section 5.5) and never reach the server; blanks inside the value do.
    const malformed = ['-1', '1.5', '1e3', '', '+5', '0x5', '5 5', 'five', '1,2', '99999999999999999999'];

    it.each(malformed)('3: Upload-Length %j on POST is 400 and creates nothing', async (value) => {
      const before = await stored();
      const response = await send('POST', app.url, { headers: { ...TUS, 'Upload-Length': value } });
      expect(response.status).toBe(400);
      expect(response.headers.location).toBeUndefined();
      expect(await stored()).toEqual(before);
    });

    it.each(malformed)('3: Upload-Offset %j on PATCH is 400 and stores nothing', async (value) => {
      const upload = await createUpload(app.url);
      const response = await send('PATCH', upload, { headers: { ...patchHeaders(0), 'Upload-Offset': value }, body: 'abc' });
      expect(response.status).toBe(400);
      expect(await offsetOf(upload)).toBe(0);
      expect((await bytesOf(upload)).length).toBe(0);
    });

    it.each(malformed)('3: Upload-Length %j on the PATCH of a deferred upload is 400 and stores nothing', async (value) => {
      const upload = await createUpload(app.url, { 'Upload-Defer-Length': 1 });
      const response = await send('PATCH', upload, { headers: { ...patchHeaders(0), 'Upload-Length': value }, body: 'abc' });
      expect(response.status).toBe(400);
      const state = await head(upload);
      expect(state.headers['upload-offset']).toBe('0');
      expect(state.headers['upload-defer-length']).toBe('1');
      expect((await bytesOf(upload)).length).toBe(0);
    });

    it('3: digits with leading zeros are an integer', async () => {
      const response = await send('POST', app.url, { headers: { ...TUS, 'Upload-Length': '007' } });
      expect(response.status).toBe(201);
      const upload = locationOf(response, app.url);
      expect((await head(upload)).headers['upload-length']).toBe('7');
    });
  });

  describe('4: X-HTTP-Method-Override, on POST only', () => {
    it('4: POST overridden to PATCH appends the chunk', async () => {
      const upload = await createUpload(app.url);
      const response = await send('POST', upload, { headers: { ...patchHeaders(0), 'X-HTTP-Method-Override': 'PATCH' }, body: 'hello' });
      expect(response.status).toBe(204);
      expect(response.headers['upload-offset']).toBe('5');
      expect(response.headers['tus-resumable']).toBe('1.0.0');
      expect(await offsetOf(upload)).toBe(5);
      expect((await bytesOf(upload)).toString()).toBe('hello');
    });

    it('4: POST overridden to PATCH keeps the PATCH rules (409 at the wrong offset, nothing written)', async () => {
      const upload = await createUpload(app.url);
      const response = await send('POST', upload, { headers: { ...patchHeaders(2), 'X-HTTP-Method-Override': 'PATCH' }, body: 'hello' });
      expect(response.status).toBe(409);
      expect(await offsetOf(upload)).toBe(0);
      expect((await bytesOf(upload)).length).toBe(0);
    });

    it('4: POST overridden to HEAD answers the upload state', async () => {
      const upload = await createUpload(app.url, { 'Upload-Length': 10 });
      await send('PATCH', upload, { headers: patchHeaders(0), body: 'abc' });
      const response = await send('POST', upload, { headers: { ...TUS, 'X-HTTP-Method-Override': 'HEAD' } });
      expect(response.status).toBe(200);
      expect(response.headers['upload-offset']).toBe('3');
      expect(response.headers['upload-length']).toBe('10');
    });

    it('4: POST overridden to DELETE terminates the upload', async () => {
      const upload = await createUpload(app.url);
      const response = await send('POST', upload, { headers: { ...TUS, 'X-HTTP-Method-Override': 'DELETE' } });
      expect(response.status).toBe(204);
      expect((await head(upload)).status).toBe(404);
      expect((await stored()).filter((name) => name.startsWith(uploadIdOf(upload)))).toEqual([]);
    });

    it('4: the override value is case-insensitive', async () => {
      const upload = await createUpload(app.url);
      const response = await send('POST', upload, { headers: { ...TUS, 'X-HTTP-Method-Override': 'delete' } });
      expect(response.status).toBe(204);
      expect((await head(upload)).status).toBe(404);
    });

    it.each(['GET', 'HEAD', 'OPTIONS'])('4: %s with X-HTTP-Method-Override: DELETE does not delete', async (method) => {
      const upload = await createUpload(app.url);
      await send('PATCH', upload, { headers: patchHeaders(0), body: 'abc' });
      await send(method, upload, { headers: { ...TUS, 'X-HTTP-Method-Override': 'DELETE' } });
      expect((await head(upload)).status).toBe(200);
      expect((await bytesOf(upload)).toString()).toBe('abc');
    });

    it('4: PATCH with X-HTTP-Method-Override: DELETE is still a PATCH', async () => {
      const upload = await createUpload(app.url);
      const response = await send('PATCH', upload, { headers: { ...patchHeaders(0), 'X-HTTP-Method-Override': 'DELETE' }, body: 'abc' });
      expect(response.status).toBe(204);
      expect(response.headers['upload-offset']).toBe('3');
      expect(await offsetOf(upload)).toBe(3);
    });

    it('4: DELETE with X-HTTP-Method-Override: HEAD is still a DELETE', async () => {
      const upload = await createUpload(app.url);
      const response = await send('DELETE', upload, { headers: { ...TUS, 'X-HTTP-Method-Override': 'HEAD' } });
      expect(response.status).toBe(204);
      expect((await head(upload)).status).toBe(404);
    });

    it('4: GET with X-HTTP-Method-Override: PATCH stores nothing', async () => {
      const upload = await createUpload(app.url);
      await send('GET', upload, { headers: { ...patchHeaders(0), 'X-HTTP-Method-Override': 'PATCH' } });
      expect(await offsetOf(upload)).toBe(0);
      expect((await bytesOf(upload)).length).toBe(0);
    });
  });

  describe('5-7: OPTIONS and server capabilities', () => {
    let plain: TusApp;
    let subset: TusApp;
    let none: TusApp;
    beforeAll(async () => {
      [plain, subset, none] = await Promise.all([
        startTusApp({}, { backend, platform }),
        startTusApp({ extensions: ['creation', 'termination'] }, { backend, platform }),
        startTusApp({ extensions: [] }, { backend, platform }),
      ]);
    });
    afterAll(async () => {
      await Promise.all([plain?.close(), subset?.close(), none?.close()]);
    });

    const options = (url: string, headers: Record<string, string> = {}) => send('OPTIONS', url, { headers });

    it('5: Tus-Extension lists every enabled extension, comma-separated', async () => {
      const response = await options(app.url);
      const listed = String(response.headers['tus-extension']).split(',');
      expect(listed.map((name) => name.trim())).toEqual(listed);
      expect([...listed].sort()).toEqual([...TUS_EXTENSIONS].sort());
      for (const name of ['creation', 'creation-with-upload', 'creation-defer-length', 'termination', 'expiration', 'checksum', 'concatenation']) {
        expect(listed).toContain(name);
      }
    });

    it('5: an extensions subset is exactly what Tus-Extension lists', async () => {
      const response = await options(subset.url);
      expect(String(response.headers['tus-extension']).split(',').sort()).toEqual(['creation', 'termination']);
      expect(response.headers['tus-checksum-algorithm']).toBeUndefined();
    });

    it('5: a disabled extension is not served (no Upload-Concat with an extensions subset)', async () => {
      const response = await send('POST', subset.url, { headers: { ...TUS, 'Upload-Length': 5, 'Upload-Concat': 'partial' } });
      if (response.status === 201) {
        const upload = locationOf(response, subset.url);
        expect((await head(upload)).headers['upload-concat']).toBeUndefined();
      } else {
        expect(response.status).toBe(400);
      }
    });

    it('5: Tus-Extension is omitted when no extension is enabled', async () => {
      const response = await options(none.url);
      expect([200, 204]).toContain(response.status);
      expect(response.headers['tus-version']).toBe('1.0.0');
      expect(response.headers['tus-extension']).toBeUndefined();
      expect(response.headers['tus-checksum-algorithm']).toBeUndefined();
    });

    it('6: Tus-Max-Size is sent when maxSize is configured', async () => {
      expect((await options(app.url)).headers['tus-max-size']).toBe(String(MAX_SIZE));
    });

    it('6: Tus-Max-Size is absent without maxSize', async () => {
      const response = await options(plain.url);
      expect([200, 204]).toContain(response.status);
      expect(response.headers['tus-max-size']).toBeUndefined();
    });

    const optionsCases: [string, Record<string, string>][] = [
      ['without Tus-Resumable', {}],
      ['with Tus-Resumable 1.0.0', { ...TUS }],
      ['with an unsupported Tus-Resumable', { 'Tus-Resumable': '0.0.1' }],
    ];
    it.each(optionsCases)('7: OPTIONS on the collection %s answers the capabilities', async (_name, headers) => {
      const response = await options(app.url, headers);
      expect([200, 204]).toContain(response.status);
      expect(response.headers['tus-version']).toBe('1.0.0');
      expect(response.headers['tus-extension']).toBeDefined();
      expect(response.headers['tus-max-size']).toBe(String(MAX_SIZE));
      expect(String(response.headers['tus-checksum-algorithm']).split(',')).toContain('sha1');
    });

    it.each(optionsCases)('7: OPTIONS on the collection URL ending in / %s answers the capabilities', async (_name, headers) => {
      const response = await options(`${app.url}/`, headers);
      expect([200, 204]).toContain(response.status);
      expect(response.headers['tus-version']).toBe('1.0.0');
      expect(response.headers['tus-max-size']).toBe(String(MAX_SIZE));
    });

    it.each(optionsCases)('7: OPTIONS on an upload URL %s answers the capabilities', async (_name, headers) => {
      const upload = await createUpload(app.url);
      const response = await options(upload, headers);
      expect([200, 204]).toContain(response.status);
      expect(response.headers['tus-version']).toBe('1.0.0');
      expect(response.headers['tus-extension']).toBeDefined();
      expect(String(response.headers['tus-checksum-algorithm']).split(',')).toContain('sha1');
    });

    it('7: OPTIONS has no body and changes nothing', async () => {
      const upload = await createUpload(app.url);
      const response = await options(upload);
      expect(response.body.length).toBe(0);
      expect(await offsetOf(upload)).toBe(0);
    });
  });
});
