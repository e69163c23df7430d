import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { MiB, sha256 } from '../support/bytes.js';
import { send, TUS } from '../support/http/requests.js';
import { TARGETS } from '../support/apps/targets.js';
import { startProxy, type Proxy } from '../support/servers/nginx.js';
import { startTusApp, type RunningApp } from '../support/apps/tus-app.js';
import { runUpload } from '../support/http/tus-client.js';

describe.each(TARGETS)('behind a real reverse proxy (nginx), $name', ({ backend, platform }) => {
  let trusting: RunningApp;
  let relative: RunningApp;
  let proxy: Proxy;
  let relativeProxy: Proxy;

  beforeAll(async () => {
    [trusting, relative] = await Promise.all([
      startTusApp({ trustForwardedHeaders: true }, { backend, platform }),
      startTusApp({ relativeLocation: true }, { backend, platform }),
    ]);
    [proxy, relativeProxy] = await Promise.all([startProxy(trusting.origin), startProxy(relative.origin)]);
  });
  afterAll(async () => {
    await Promise.all([proxy?.stop(), relativeProxy?.stop()]);
    await Promise.all([trusting?.close(), relative?.close()]);
  });

  it('trustForwardedHeaders: Location names the proxy, not the app behind it', async () => {
    const response = await send('POST', `${proxy.origin}/files`, { headers: { ...TUS, 'Upload-Length': 1 } });
    expect(response.status).toBe(201);
    expect(response.headers.location).toMatch(new RegExp(`^${proxy.origin}/files/[A-Za-z0-9_-]+$`));
  });

  it('relativeLocation: Location is a path, whatever the proxy', async () => {
    const response = await send('POST', `${relativeProxy.origin}/files`, { headers: { ...TUS, 'Upload-Length': 1 } });
    expect(response.headers.location).toMatch(/^\/files\/[A-Za-z0-9_-]+$/);
  });

  it('a tus-js-client upload through the proxy completes with the right bytes', async () => {
    const data = randomBytes(6 * MiB);
    const { url } = await runUpload(data, { endpoint: `${proxy.origin}/files`, chunkSize: 2 * MiB });
    expect(url.startsWith(proxy.origin)).toBe(true);
    expect(sha256((await send('GET', url)).body)).toBe(sha256(data));
  });

  it("a chunk over the proxy's body limit: the client sees 413 with the proxy's clear message", async () => {
    const data = randomBytes(3 * MiB);
    const failure = await runUpload(data, { endpoint: `${proxy.limitedOrigin}/files`, chunkSize: 2 * MiB }).then(
      () => undefined,
      (error: Error) => error,
    );
    expect(failure).toBeInstanceOf(Error);
    expect(failure!.message).toMatch(/response code: 413/);
    expect(failure!.message).toMatch(/Chunk larger than this proxy accepts \(1 MiB\)/);
    // Within the limit, the same proxy passes the upload.
    const { url } = await runUpload(data, { endpoint: `${proxy.limitedOrigin}/files`, chunkSize: 512 * 1024 });
    expect(sha256((await send('GET', url)).body)).toBe(sha256(data));
  });
});
