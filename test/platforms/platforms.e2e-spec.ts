import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, type INestApplication, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { AddressInfo } from 'node:net';
import { TusModule } from 'nestjs-tus';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { eventually } from '../support/eventually.js';
import { base64Digest, sha256 } from '../support/bytes.js';
import { b64, createUpload, locationOf, OFFSET_OCTET_STREAM, offsetOf, patchHeaders, send, sendInterruptedPatch, sendRawPath, type TestRequest, TUS } from '../support/http/requests.js';
import { PLATFORMS, startTusApp, tempDir, type RunningApp } from '../support/apps/tus-app.js';
import { runUpload } from '../support/http/tus-client.js';


describe.each(PLATFORMS)('the module on Nest %s', (platform) => {
  let app: RunningApp;

  beforeAll(async () => {
    app = await startTusApp({ maxSize: 64 * 1024 * 1024 }, { platform });
  });
  afterAll(() => app.close());

  it('answers OPTIONS with the capabilities', async () => {
    const response = await send('OPTIONS', app.url);
    expect(response.status).toBe(204);
    expect(response.headers['tus-version']).toBe('1.0.0');
    expect(response.headers['tus-max-size']).toBe(String(64 * 1024 * 1024));
    expect(response.headers['tus-resumable']).toBeUndefined();
  });

  it('creates with an upload, streams chunked and sized PATCHes, and reports the state on HEAD', async () => {
    const created = await send('POST', app.url, {
      headers: { ...TUS, 'Upload-Length': 12, 'Upload-Metadata': `filename ${b64('a.txt')}`, 'Content-Type': OFFSET_OCTET_STREAM },
      body: 'abcd',
    });
    expect(created.status).toBe(201);
    expect(created.headers['upload-offset']).toBe('4');
    const url = locationOf(created, app.url);
    const chunked = await send('PATCH', url, { headers: patchHeaders(4), body: Readable.from([Buffer.from('efgh')]) });
    expect(chunked.status).toBe(204);
    expect(chunked.headers['upload-offset']).toBe('8');
    const head = await send('HEAD', url, { headers: TUS });
    expect(head.headers).toMatchObject({ 'upload-offset': '8', 'upload-length': '12', 'upload-metadata': `filename ${b64('a.txt')}`, 'cache-control': 'no-store' });
    await send('PATCH', url, { headers: patchHeaders(8), body: 'ijkl' });
    const download = await send('GET', url, { headers: { Range: 'bytes=2-5' } });
    expect(download.status).toBe(206);
    expect(download.text).toBe('cdef');
  });

  it('answers errors with the spec status, a plain-text reason and Tus-Resumable', async () => {
    const noVersion = await send('POST', app.url, { headers: { 'Upload-Length': 1 } });
    expect(noVersion.status).toBe(412);
    expect(noVersion.headers['tus-version']).toBe('1.0.0');
    const missing = await send('PATCH', `${app.url}/unknown`, { headers: patchHeaders(0), body: 'x' });
    expect(missing.status).toBe(404);
    expect(missing.headers['tus-resumable']).toBe('1.0.0');
    expect(missing.headers['content-type']).toMatch(/^text\/plain/);
    expect(missing.text).toBe('Upload not found\n');
    const url = await createUpload(app.url, { 'Upload-Length': 3 });
    const wrongType = await send('PATCH', url, { headers: { ...patchHeaders(0), 'Content-Type': 'text/plain' }, body: 'abc' });
    expect(wrongType.status).toBe(415);
  });

  // Fastify answers a content type it has no parser for with 415 itself, before any route handler:
  // the module answers it instead, as on Express.
  it.each(['application/octet-stream', 'image/png', 'multipart/form-data; boundary=x'])(
    'answers a chunk of %s with the tus 415: plain-text reason, Tus-Resumable, nothing written',
    async (type) => {
      const url = await createUpload(app.url, { 'Upload-Length': 3 });
      const response = await send('PATCH', url, { headers: { ...patchHeaders(0), 'Content-Type': type }, body: 'abc' });
      expect(response.status).toBe(415);
      expect(response.headers['tus-resumable']).toBe('1.0.0');
      expect(response.headers['content-type']).toMatch(/^text\/plain/);
      expect(response.text).toBe('Content-Type must be application/offset+octet-stream\n');
      expect(await offsetOf(url)).toBe(0);
      const created = await send('POST', app.url, { headers: { ...TUS, 'Upload-Length': 3, 'Content-Type': type }, body: 'abc' });
      expect(created.status).toBe(415);
      expect(created.headers['tus-resumable']).toBe('1.0.0');
      expect(created.text).toBe('Content-Type must be application/offset+octet-stream\n');
    },
  );

  // Fastify parses a body for the route it matched, so the module answers the refusal. (Express
  // parses JSON before any route: its 400 is Nest's, without the tus headers.)
  if (platform === 'fastify') {
    it('answers a body its own parser refuses (malformed JSON) with a plain-text 400 and Tus-Resumable', async () => {
      const url = await createUpload(app.url, { 'Upload-Length': 3 });
      const response = await send('PATCH', url, { headers: { ...patchHeaders(0), 'Content-Type': 'application/json' }, body: '{oops' });
      expect(response.status).toBe(400);
      expect(response.headers['content-type']).toMatch(/^text\/plain/);
      expect(response.headers['tus-resumable']).toBe('1.0.0');
      expect(await offsetOf(url)).toBe(0);
    });
  }

  it('serves the collection at <path>/ too: OPTIONS, POST (Location without a double slash), then PATCH', async () => {
    const options = await send('OPTIONS', `${app.url}/`);
    expect(options.status).toBe(204);
    expect(options.headers['tus-version']).toBe('1.0.0');
    const created = await send('POST', `${app.url}/`, { headers: { ...TUS, 'Upload-Length': 3 } });
    expect(created.status).toBe(201);
    expect(created.headers.location).toMatch(new RegExp(`^${app.url}/[A-Za-z0-9_-]+$`));
    expect((await send('PATCH', created.headers.location!, { headers: patchHeaders(0), body: 'abc' })).status).toBe(204);
    expect(await offsetOf(created.headers.location!)).toBe(3);
  });

  it('discards a chunk whose checksum does not match (460)', async () => {
    const url = await createUpload(app.url, { 'Upload-Length': 3 });
    const bad = await send('PATCH', url, { headers: { ...patchHeaders(0), 'Upload-Checksum': `sha1 ${base64Digest('sha1', 'xyz')}` }, body: 'abc' });
    expect(bad.status).toBe(460);
    expect(await offsetOf(url)).toBe(0);
    const good = await send('PATCH', url, { headers: { ...patchHeaders(0), 'Upload-Checksum': `sha1 ${base64Digest('sha1', 'abc')}` }, body: 'abc' });
    expect(good.status).toBe(204);
  });

  it('keeps the bytes of an interrupted body', async () => {
    const url = await createUpload(app.url, { 'Upload-Length': 100_000 });
    await sendInterruptedPatch(url, 0, Buffer.alloc(30_000, 1), 100_000);
    await eventually(async () => (await offsetOf(url)) === 30_000, 15_000, 'HEAD reporting the 30,000 bytes sent');
  });

  it('takes a tus-js-client upload with parallelUploads, bytes intact', async () => {
    const data = randomBytes(5 * 1024 * 1024 + 7);
    const { url } = await runUpload(data, { endpoint: app.url, parallelUploads: 3, chunkSize: 1024 * 1024 });
    expect(sha256((await send('GET', url)).body)).toBe(sha256(data));
  });

  it('terminates', async () => {
    const url = await createUpload(app.url, { 'Upload-Length': 3 });
    expect((await send('DELETE', url, { headers: TUS })).status).toBe(204);
    expect((await send('HEAD', url, { headers: TUS })).status).toBe(404);
  });
});

/** An app's own routes beside the module's: one outside the tus path, one under it. */
@Controller()
class OwnRoutesController {
  @Get('ping')
  ping(): string {
    return 'pong';
  }

  @Get('files/stats/summary')
  stats(): string {
    return 'stats';
  }
}

@Module({ controllers: [OwnRoutesController] })
class OwnRoutesModule {}

const MALFORMED_JSON: TestRequest = { headers: { ...TUS, 'Upload-Length': 3, 'Content-Type': 'application/json' }, body: '{oops' };

/**
 * Requests for the tus path that no tus route serves: every answer carries Tus-Resumable (checklist
 * 1) and is the module's plain text. Before, each was Nest's JSON 404 (or, on Express, Nest's JSON
 * 400 for a body its JSON parser refused) without the tus headers.
 */
describe.each(PLATFORMS)('requests for the tus path that no tus route serves, on Nest %s', (platform) => {
  let app: RunningApp;

  beforeAll(async () => {
    app = await startTusApp({}, { platform, imports: [{ module: OwnRoutesModule }] });
  });
  afterAll(() => app.close());

  // [method, path as sent, request, status, Allow of a 405]
  const cases: [string, string, TestRequest, number, string | undefined][] = [
    ['PUT', '/files/x', { headers: TUS, body: 'abc' }, 405, 'OPTIONS, HEAD, GET, PATCH, POST, DELETE'],
    ['PUT', '/files', { headers: TUS }, 405, 'OPTIONS, POST'],
    ...['HEAD', 'GET', 'PATCH', 'DELETE'].flatMap((method): [string, string, TestRequest, number, string][] => [
      [method, '/files', { headers: TUS }, 405, 'OPTIONS, POST'],
      [method, '/files/', { headers: TUS }, 405, 'OPTIONS, POST'],
    ]),
    ['GET', '/files/a/b', { headers: TUS }, 404, undefined],
    ['HEAD', '/files/a/b', { headers: TUS }, 404, undefined],
    ['PATCH', '/files/a/b', { headers: patchHeaders(0), body: 'abc' }, 404, undefined],
    ['POST', '/files/a/b', { headers: { ...TUS, 'Upload-Length': 3 } }, 404, undefined],
    ['GET', '/files/../index.html', { headers: TUS }, 404, undefined],
    ['GET', '/files/a/../../index.html', {}, 404, undefined],
    // Express parses JSON before any route runs, Fastify only for the route it matched: the answer
    // is the same on both, the route's 400 or the 404/405 of a request no route serves.
    ['POST', '/files', MALFORMED_JSON, 400, undefined],
    ['PATCH', '/files', MALFORMED_JSON, 405, 'OPTIONS, POST'],
    ['POST', '/files/a/b', MALFORMED_JSON, 404, undefined],
  ];

  it.each(cases)('%s %s: the module’s plain-text 4xx with Tus-Resumable', async (method, path, request, status, allow) => {
    const response = await sendRawPath(method, app.origin, path, request);
    expect(response.status).toBe(status);
    expect(response.headers['tus-resumable']).toBe('1.0.0');
    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    expect(response.headers.allow).toBe(allow);
    if (method !== 'HEAD') expect(response.text).toMatch(/^[^{\n][^\n]*\n$/);
  });

  it('leaves the app’s own routes alone, under the tus path as outside it', async () => {
    const ping = await send('GET', `${app.origin}/ping`);
    expect(ping.status).toBe(200);
    expect(ping.headers['tus-resumable']).toBeUndefined();
    const stats = await send('GET', `${app.origin}/files/stats/summary`);
    expect(stats.status).toBe(200);
    expect(stats.text).toBe('stats');
    expect(stats.headers['tus-resumable']).toBeUndefined();
    // Nest's own 404 outside the path, a name that only starts like it included.
    for (const path of ['/nothing', '/filesystem/a/b', '/filesx']) {
      const missing = await send('GET', `${app.origin}${path}`);
      expect(missing.status).toBe(404);
      expect(missing.headers['tus-resumable']).toBeUndefined();
      expect(missing.headers['content-type']).toMatch(/^application\/json/);
    }
  });

  it('still serves the tus routes: creation, PATCH, HEAD, download, DELETE', async () => {
    const url = await createUpload(app.url, { 'Upload-Length': 3 });
    expect((await send('PATCH', url, { headers: patchHeaders(0), body: 'abc' })).status).toBe(204);
    expect(await offsetOf(url)).toBe(3);
    expect((await send('GET', url)).text).toBe('abc');
    expect((await send('DELETE', url, { headers: TUS })).status).toBe(204);
  });
});

describe.each(PLATFORMS)('requests for the tus path that no tus route serves, behind a global prefix, on Nest %s', (platform) => {
  let app: INestApplication;
  let origin: string;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    const dir = await tempDir();
    cleanup = dir.cleanup;
    @Module({ imports: [TusModule.forRoot({ path: '/files', uploadDir: dir.path })] })
    class PrefixedModule {}
    app = platform === 'fastify'
      ? await NestFactory.create(PrefixedModule, new FastifyAdapter(), { logger: ['error'] })
      : await NestFactory.create(PrefixedModule, { logger: ['error'] });
    app.setGlobalPrefix('api');
    await app.listen(0, '127.0.0.1');
    origin = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await app?.close();
    await cleanup?.();
  });

  it('answers them under <prefix>/<path>, and serves the tus routes there', async () => {
    const url = await createUpload(`${origin}/api/files`, { 'Upload-Length': 1 });
    expect((await send('HEAD', url, { headers: TUS })).status).toBe(200);
    for (const [method, path, status] of [['PUT', '/api/files/x', 405], ['GET', '/api/files', 405], ['GET', '/api/files/a/b', 404]] as const) {
      const response = await sendRawPath(method, origin, path, { headers: TUS });
      expect(response.status).toBe(status);
      expect(response.headers['tus-resumable']).toBe('1.0.0');
      expect(response.headers['content-type']).toMatch(/^text\/plain/);
    }
    const outside = await send('GET', `${origin}/files/a/b`);
    expect(outside.status).toBe(404);
    expect(outside.headers['tus-resumable']).toBeUndefined();
  });
});

describe('the module on a Fastify whose router ignores trailing slashes', () => {
  let app: INestApplication;
  let url: string;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    const dir = await tempDir();
    cleanup = dir.cleanup;
    @Module({ imports: [TusModule.forRoot({ path: '/files', uploadDir: dir.path })] })
    class SlashAgnosticModule {}
    // The app's own choice: find-my-way then serves /files/ itself, and a second route would clash.
    app = await NestFactory.create(SlashAgnosticModule, new FastifyAdapter({ routerOptions: { ignoreTrailingSlash: true } }), { logger: ['error'] });
    await app.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}/files`;
  });
  afterAll(async () => {
    await app?.close();
    await cleanup?.();
  });

  it('boots, and serves both spellings of the collection', async () => {
    for (const collection of [url, `${url}/`]) {
      expect((await send('OPTIONS', collection)).status).toBe(204);
      expect((await send('POST', collection, { headers: { ...TUS, 'Upload-Length': 1 } })).status).toBe(201);
    }
  });
});
