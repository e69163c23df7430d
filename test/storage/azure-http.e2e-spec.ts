import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { TusStorageService } from 'nestjs-tus';
import { AzureBlobStorageBackend } from 'nestjs-tus/azure';
import { blobsUnder } from '../support/storage/azure-inspection.js';
import { azureBackendFixture, startAzurite, type Azurite } from '../support/servers/azurite.js';
import { b64, createUpload, head, patchHeaders, send, TUS, uploadIdOf } from '../support/http/requests.js';
import { ManualClock, PLATFORMS, startTusApp } from '../support/apps/tus-app.js';

/** The module over HTTP on the Azure backend (Azurite), on Express and Fastify. */
let azurite: Azurite;
beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(() => azurite?.stop());

describe.each(PLATFORMS)('tus over HTTP on the Azure backend, on %s', (platform) => {
  const fixture = () => azureBackendFixture(azurite, { blockSize: 64 * 1024 });
  let running: Awaited<ReturnType<typeof startTusApp>> & { backend: ReturnType<typeof fixture>; clock: ManualClock };
  beforeAll(async () => {
    const backend = fixture();
    const clock = new ManualClock(Date.parse('2030-01-15T10:00:00Z'));
    running = { ...(await startTusApp({ expirationSeconds: 3600 }, { backend, platform, clock })), backend, clock };
  });
  afterAll(() => running?.close());
  const container = () => running.backend.containers[0]!;

  it('advertises every extension, takes a creation-with-upload and PATCHes, and serves the download with ranges', async () => {
    const options = await send('OPTIONS', running.url, { headers: TUS });
    expect(options.headers['tus-extension']).toContain('concatenation');
    expect(options.headers['tus-extension']).toContain('termination');
    const data = randomBytes(200_000);
    const created = await send('POST', running.url, {
      headers: { ...TUS, 'Upload-Length': data.length, 'Content-Type': 'application/offset+octet-stream', 'Upload-Metadata': `filename ${b64('a.bin')}` },
      body: data.subarray(0, 70_000),
    });
    expect(created.status).toBe(201);
    const url = new URL(created.headers.location!, running.url).toString();
    expect((await head(url)).headers['upload-offset']).toBe('70000');
    const rest = await send('PATCH', url, { headers: patchHeaders(70_000), body: data.subarray(70_000) });
    expect(rest.status).toBe(204);
    expect(rest.headers['upload-offset']).toBe(String(data.length));
    expect((await send('GET', url)).body.equals(data)).toBe(true);
    const ranged = await send('GET', url, { headers: { Range: 'bytes=65530-65541' } });
    expect(ranged.status).toBe(206);
    expect(ranged.body.equals(data.subarray(65_530, 65_542))).toBe(true);
  });

  it('concatenates partials into a final upload', async () => {
    const parts = [randomBytes(100_000), randomBytes(10)];
    const urls: string[] = [];
    for (const part of parts) {
      const url = await createUpload(running.url, { 'Upload-Length': part.length, 'Upload-Concat': 'partial' });
      expect((await send('PATCH', url, { headers: patchHeaders(0), body: part })).status).toBe(204);
      urls.push(new URL(url).pathname);
    }
    const final = await send('POST', running.url, { headers: { ...TUS, 'Upload-Concat': `final;${urls.join(' ')}` } });
    expect(final.status).toBe(201);
    const finalUrl = new URL(final.headers.location!, running.url).toString();
    expect((await head(finalUrl)).headers['upload-offset']).toBe(String(100_010));
    expect((await send('GET', finalUrl)).body.equals(Buffer.concat(parts))).toBe(true);
  });

  it('DELETE removes every blob of the upload, staged blocks included', async () => {
    const url = await createUpload(running.url, { 'Upload-Length': 300_000 });
    expect((await send('PATCH', url, { headers: patchHeaders(0), body: randomBytes(150_000) })).status).toBe(204);
    const name = `uploads/${uploadIdOf(url)}`;
    expect(await blobsUnder(container(), name)).toEqual([name, `${name}.info`]);
    expect((await send('DELETE', url, { headers: TUS })).status).toBe(204);
    expect(await blobsUnder(container(), name)).toEqual([]);
    expect((await head(url)).status).toBe(404);
  });

  it('the expiry sweep removes an unfinished upload past its expiry, and nothing of a completed one', async () => {
    const stale = await createUpload(running.url, { 'Upload-Length': 100 });
    await send('PATCH', stale, { headers: patchHeaders(0), body: randomBytes(40) });
    const done = await createUpload(running.url, { 'Upload-Length': 5 });
    await send('PATCH', done, { headers: patchHeaders(0), body: randomBytes(5) });
    running.clock.advance(3601);
    const removed = await running.app.get(TusStorageService).deleteExpired();
    expect(removed.map((upload) => upload.id)).toContain(uploadIdOf(stale));
    expect(await blobsUnder(container(), `uploads/${uploadIdOf(stale)}`)).toEqual([]);
    expect((await head(done)).status).toBe(200);
  });

  it('reports the container healthy, leaving no probe behind', async () => {
    const health = await running.app.get(TusStorageService).checkHealth();
    expect(health).toMatchObject({ healthy: true, checked: true });
    expect((await blobsUnder(container(), '')).filter((name) => name.includes('.tus-health'))).toEqual([]);
  });
});

describe('the Azure backend with Azure out of reach', () => {
  it('fails with 503 (which clients retry) when the service refuses connections, at start-up and in the health check with the reason', async () => {
    const { BlobServiceClient } = await import('@azure/storage-blob');
    const gone = await startAzurite();
    const { container } = await gone.createContainer('gone');
    const client = BlobServiceClient.fromConnectionString(gone.connectionString, { retryOptions: { maxTries: 1 } }).getContainerClient(container.containerName);
    await gone.stop();
    const backend = new AzureBlobStorageBackend({ containerClient: client });
    // At start-up the module's init fails, saying which container and why.
    await expect(backend.init()).rejects.toThrow(/cannot use container "gone-.*ECONNREFUSED/);
    await expect(backend.checkHealth()).rejects.toThrow(/Azure unreachable: ECONNREFUSED/);
    await expect(backend.get('abcdefghijklmnopqrstuv')).rejects.toMatchObject({ status: 503 });
  });
});
