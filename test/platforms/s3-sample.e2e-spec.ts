import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { S3Client } from '@aws-sdk/client-s3';
import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { request } from 'node:http';
import { Readable } from 'node:stream';
import { MiB } from '../support/bytes.js';
import { runUpload } from '../support/http/tus-client.js';
import { startSample, type SampleProcess } from '../support/servers/sample-process.js';
import { PLATFORMS } from '../support/apps/tus-app.js';
import { createTestBucket, createTestS3Client, s3ServerFromEnv, sampleS3Env } from '../support/servers/s3-server.js';

const CHUNK = 16 * MiB;

/**
 * `size` bytes from one random block, streamed; the sha256 is known when the stream ends. The
 * pieces are a whole chunk (16 MiB) each: tus-js-client sends a stream source's pieces as they come,
 * one PATCH each, and 1 MiB PATCHes would measure per-request S3 round trips, not streaming.
 */
function generated(size: number): { stream: Readable; digest: () => string } {
  const block = randomBytes(CHUNK);
  const hash = createHash('sha256');
  const stream = Readable.from(
    (function* () {
      for (let sent = 0; sent < size; sent += CHUNK) {
        const piece = block.subarray(0, Math.min(CHUNK, size - sent));
        hash.update(piece);
        yield piece;
      }
    })(),
  );
  return { stream, digest: () => hash.digest('hex') };
}

/** The sha256 of a download, streamed (never held whole). */
function downloadDigest(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    request(url, (res) => {
      const hash = createHash('sha256');
      res.on('data', (chunk: Buffer) => hash.update(chunk));
      res.on('end', () => resolve(hash.digest('hex')));
      res.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}

/** The peak resident memory of a process so far (kernel's high-water mark), in MiB. */
async function peakRssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

async function upload(sample: SampleProcess, size: number): Promise<void> {
  const source = generated(size);
  const { url } = await runUpload(source.stream as unknown as Buffer, {
    endpoint: sample.url,
    uploadSize: size,
    chunkSize: CHUNK,
    metadata: { filename: `${size}.bin` },
  });
  expect(await downloadDigest(url)).toBe(source.digest());
}

describe.each(PLATFORMS)('the sample app on the S3 backend (TUS_STORAGE=s3) against a real RGW, on %s', (platform) => {
  let client: S3Client;
  let bucket: { bucket: string; dispose(): Promise<void> };
  let sample: SampleProcess;

  beforeAll(async () => {
    const server = s3ServerFromEnv();
    client = createTestS3Client(server);
    bucket = await createTestBucket(client, 'sample');
    sample = await startSample({ ...sampleS3Env(server, bucket.bucket), HTTP_ADAPTER: platform });
  });
  afterAll(async () => {
    await sample?.stop();
    await bucket?.dispose();
    client?.destroy();
  });

  it('takes a 1 GiB tus-js-client upload with the right sha256, its peak RSS flat from 128 MiB to 1 GiB', async () => {
    await upload(sample, 128 * MiB);
    const afterSmall = await peakRssMiB(sample.process.pid!);
    await upload(sample, 1024 * MiB);
    const afterLarge = await peakRssMiB(sample.process.pid!);
    console.log(`sample on S3 (${platform}): peak RSS ${afterSmall.toFixed(1)} MiB after 128 MiB, ${afterLarge.toFixed(1)} MiB after 1 GiB`);
    // Eight times the bytes (896 MiB more): buffering would show as hundreds of MiB. The peak may
    // grow by less than the backend's own bound for one request, partSize x (in-flight parts + 2)
    // = 8 MiB x 6, which leaves room for the garbage collector's timing on a loaded machine.
    expect(afterLarge - afterSmall).toBeLessThan(48);
  }, 600_000);
});
