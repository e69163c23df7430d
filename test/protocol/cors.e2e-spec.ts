import { afterEach, describe, expect, it } from '@jest/globals';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { type IncomingHttpHeaders, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TusModule } from 'nestjs-tus';
import { createUpload, send, TUS } from '../support/http/requests.js';
import { startTusApp, tempDir, type RunningApp, PLATFORMS } from '../support/apps/tus-app.js';

const EXPOSED = 'Location, Upload-Offset, Upload-Length, Upload-Metadata, Upload-Defer-Length, Upload-Concat, Upload-Expires, Tus-Version, Tus-Resumable, Tus-Max-Size, Tus-Extension, Tus-Checksum-Algorithm';

describe.each(PLATFORMS)('cors option on %s', (platform) => {
  let app: RunningApp;
  afterEach(() => app.close());

  const preflight = (url: string, origin: string) =>
    send('OPTIONS', url, { headers: { Origin: origin, 'Access-Control-Request-Method': 'PATCH', 'Access-Control-Request-Headers': 'upload-offset' } });

  it('answers a preflight from an allowed origin with the methods and the tus request headers (checklist 40)', async () => {
    app = await startTusApp({ cors: { origin: ['https://app.example'], credentials: true, maxAge: 600 } }, { platform });
    const response = await preflight(app.url, 'https://app.example');
    expect(response.status).toBe(204);
    expect(response.headers['access-control-allow-origin']).toBe('https://app.example');
    expect(response.headers['access-control-allow-credentials']).toBe('true');
    expect(response.headers['access-control-allow-methods']).toBe('POST, GET, HEAD, PATCH, DELETE, OPTIONS');
    expect(response.headers['access-control-allow-headers']).toBe(
      'Authorization, Content-Type, Upload-Offset, Upload-Length, Upload-Metadata, Upload-Defer-Length, Upload-Concat, Upload-Checksum, Tus-Resumable, X-HTTP-Method-Override, X-Requested-With, X-Request-ID',
    );
    expect(response.headers['access-control-max-age']).toBe('600');
    expect(response.headers.vary).toBe('Origin');
  });

  it('exposes the tus response headers on every response, errors included (checklist 39)', async () => {
    app = await startTusApp({ cors: { origin: /\.example$/ } }, { platform });
    const origin = { Origin: 'https://x.example' };
    const created = await send('POST', app.url, { headers: { ...TUS, ...origin, 'Upload-Length': 1 } });
    expect(created.headers['access-control-expose-headers']).toBe(EXPOSED);
    expect(created.headers['access-control-allow-origin']).toBe('https://x.example');
    const missing = await send('HEAD', `${app.url}/nope`, { headers: { ...TUS, ...origin } });
    expect(missing.status).toBe(404);
    expect(missing.headers['access-control-allow-origin']).toBe('https://x.example');
    // Requests no tus route serves are answered by the module too.
    for (const [method, url, status] of [['PUT', `${app.url}/x`, 405], ['GET', `${app.url}/a/b`, 404]] as const) {
      const unrouted = await send(method, url, { headers: { ...TUS, ...origin } });
      expect(unrouted.status).toBe(status);
      expect(unrouted.headers['access-control-allow-origin']).toBe('https://x.example');
      expect(unrouted.headers['access-control-expose-headers']).toBe(EXPOSED);
    }
  });

  it('sends nothing to an origin it does not allow, and never * to a credentialed list', async () => {
    app = await startTusApp({ cors: { origin: ['https://app.example'], credentials: true } }, { platform });
    const response = await preflight(app.url, 'https://evil.example');
    expect(response.headers['access-control-allow-origin']).toBeUndefined();
    const url = await createUpload(app.url, { 'Upload-Length': 1, Origin: 'https://app.example' });
    const head = await send('HEAD', url, { headers: { ...TUS, Origin: 'https://app.example' } });
    expect(head.headers['access-control-allow-origin']).toBe('https://app.example');
  });

  it("answers * to any origin with origin '*'", async () => {
    app = await startTusApp({ cors: { origin: '*' } }, { platform });
    const response = await send('POST', app.url, { headers: { ...TUS, Origin: 'https://a.b', 'Upload-Length': 1 } });
    expect(response.headers['access-control-allow-origin']).toBe('*');
    expect(response.headers.vary).toBeUndefined();
  });

  it('works alongside app.enableCors() without duplicate headers', async () => {
    const dir = await tempDir();
    @Module({ imports: [TusModule.forRoot({ uploadDir: dir.path, cors: { origin: ['https://app.example'] } })] })
    class AppModule {}
    const options = { logger: false as const, cors: { origin: 'https://app.example', exposedHeaders: ['X-App'] } };
    const nest = platform === 'fastify' ? await NestFactory.create(AppModule, new FastifyAdapter(), options) : await NestFactory.create(AppModule, options);
    await nest.listen(0, '127.0.0.1');
    const url = `http://127.0.0.1:${(nest.getHttpServer().address() as AddressInfo).port}/files`;
    app = { app: nest, origin: '', url, close: async () => (await nest.close(), await dir.cleanup()) };

    const response = await rawResponse(url, { ...TUS, Origin: 'https://app.example', 'Upload-Length': '1' });
    expect(response.status).toBe(201);
    // Each CORS header once: the module sets (replaces) what the app's middleware set.
    for (const name of ['access-control-allow-origin', 'access-control-expose-headers', 'vary']) {
      expect(response.names.filter((header) => header === name)).toHaveLength(1);
    }
    expect(response.headers['access-control-allow-origin']).toBe('https://app.example');
    expect(response.headers['access-control-expose-headers']).toBe(EXPOSED);
  });
});

/** A POST whose raw header list is kept, to count repeated headers. */
function rawResponse(url: string, headers: Record<string, string>): Promise<{ status: number; names: string[]; headers: IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers, agent: false }, (res) => {
      res.resume();
      const names = res.rawHeaders.filter((_, index) => index % 2 === 0).map((name) => name.toLowerCase());
      res.on('end', () => resolve({ status: res.statusCode!, names, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}
