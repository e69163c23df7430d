import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Upload } from 'tus-js-client';
import { MiB, piecesOf, sha256 } from '../support/bytes.js';
import { send, slowBody, TUS, uploadIdOf } from '../support/http/requests.js';
import { PLATFORMS, startTusApp, type TusApp } from '../support/apps/tus-app.js';
import { runUpload } from '../support/http/tus-client.js';


describe.each(PLATFORMS)('a real tus client (tus-js-client) against the file backend on %s, endpoint ending in /', (platform) => {
  let app: TusApp;
  // The endpoint as tus-js-client's own examples write it, with a trailing slash: Fastify serves
  // `/files/` only because the module registers it. (platforms.e2e-spec runs the client on `/files`.)
  let endpoint: string;
  const stored = (url: string) => readFile(join(app.uploadDir, uploadIdOf(url)));

  beforeAll(async () => {
    app = await startTusApp({}, { platform });
    endpoint = `${app.url}/`;
  });
  afterAll(() => app.close());

  it('uploads 20 MiB in 1 MiB chunks, bytes intact (sha256)', async () => {
    const data = randomBytes(20 * MiB);
    const chunks: number[] = [];
    const { url } = await runUpload(data, {
      endpoint,
      chunkSize: MiB,
      metadata: { filename: 'twenty.bin', filetype: 'application/octet-stream' },
      onChunkComplete: (size) => chunks.push(size),
    });
    expect(chunks).toHaveLength(20);
    expect(sha256(await stored(url))).toBe(sha256(data));
    const head = await send('HEAD', url, { headers: TUS });
    expect(head.headers['upload-offset']).toBe(String(20 * MiB));
  });

  it('resumes an upload cut off mid-chunk from the offset the server stored', async () => {
    const data = randomBytes(8 * MiB);
    const first = await new Promise<Upload>((resolve, reject) => {
      // A slow source, so that the cut lands mid-chunk rather than after loopback swallowed it.
      const upload: Upload = new Upload(slowBody(piecesOf(data, 256 * 1024), 10), {
        endpoint,
        uploadSize: data.length,
        chunkSize: 4 * MiB,
        retryDelays: [],
        storeFingerprintForResuming: false,
        // Cut the connection in the middle of the second chunk.
        onProgress: (sent) => {
          if (sent > 5 * MiB) void upload.abort().then(() => resolve(upload));
        },
        onSuccess: () => reject(new Error('the upload should have been cut off')),
        onError: reject,
      });
      upload.start();
    });
    const url = first.url!;
    // Let the server notice the broken body and record what arrived.
    let offset = 0;
    for (let attempt = 0; attempt < 50 && offset <= 4 * MiB; attempt++) {
      await sleep(100);
      offset = Number((await send('HEAD', url, { headers: TUS })).headers['upload-offset']);
    }
    expect(offset).toBeGreaterThan(4 * MiB); // bytes of the interrupted chunk were kept
    expect(offset).toBeLessThan(8 * MiB);

    let resumedFrom = -1;
    await runUpload(data, {
      endpoint,
      uploadUrl: url,
      chunkSize: 4 * MiB,
      onProgress: (sent) => {
        if (resumedFrom < 0) resumedFrom = sent;
      },
    });
    expect(resumedFrom).toBeGreaterThanOrEqual(offset); // it did not start over
    expect(sha256(await stored(url))).toBe(sha256(data));
    const head = await send('HEAD', url, { headers: TUS });
    expect(head.headers['upload-offset']).toBe(String(8 * MiB));
  });

  it('uploads with parallelUploads: 4 (concatenation), final bytes intact', async () => {
    const data = randomBytes(6 * MiB + 123);
    const { url } = await runUpload(data, { endpoint, parallelUploads: 4 });
    const head = await send('HEAD', url, { headers: TUS });
    expect(head.headers['upload-concat']).toMatch(/^final;/);
    expect(head.headers['upload-offset']).toBe(String(data.length));
    expect(sha256(await stored(url))).toBe(sha256(data));
  });

  it('uploads with overridePatchMethod: true (POST + X-HTTP-Method-Override)', async () => {
    const data = randomBytes(3 * MiB);
    const { url } = await runUpload(data, { endpoint, chunkSize: MiB, overridePatchMethod: true });
    expect(sha256(await stored(url))).toBe(sha256(data));
  });
});
