import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { S3Client } from '@aws-sdk/client-s3';
import { MiB } from '../support/bytes.js';
import { runUpload } from '../support/http/tus-client.js';
import { downloadDigest, generatedBytes } from '../support/http/streamed-bytes.js';
import { GC_SLACK_MiB, MEMORY_PROBE_FLAGS, sampleMemory } from '../support/servers/process-memory.js';
import { startSample, type SampleProcess } from '../support/servers/sample-process.js';
import { PLATFORMS } from '../support/apps/tus-app.js';
import { createTestBucket, createTestS3Client, s3ServerFromEnv, sampleS3Env } from '../support/servers/s3-server.js';

// A whole chunk per piece: 1 MiB PATCHes would measure per-request S3 round trips, not streaming.
const CHUNK = 16 * MiB;

async function upload(sample: SampleProcess, size: number): Promise<void> {
  const source = generatedBytes(size, CHUNK);
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
    sample = await startSample({ ...sampleS3Env(server, bucket.bucket), HTTP_ADAPTER: platform }, MEMORY_PROBE_FLAGS);
  });
  afterAll(async () => {
    await sample?.stop();
    await bucket?.dispose();
    client?.destroy();
  });

  it('takes a 1 GiB tus-js-client upload with the right sha256, its memory flat from 128 MiB to 1 GiB', async () => {
    await upload(sample, 128 * MiB);
    const small = await sampleMemory(sample);
    await upload(sample, 1024 * MiB);
    const large = await sampleMemory(sample);
    console.log(`sample on S3 (${platform}) on Node ${process.versions.node}: peak RSS ${small.peak.toFixed(1)} MiB after 128 MiB, ${large.peak.toFixed(1)} MiB after 1 GiB; retained ${small.retained.toFixed(1)} / ${large.retained.toFixed(1)} MiB`);
    // Eight times the bytes (896 MiB more): buffering would show as hundreds of MiB. What a full
    // collection leaves must not grow at all (a part buffer kept per PATCH would add 448 MiB); the
    // peak may grow by the backend's own bound for one request, partSize x (in-flight parts + 2) =
    // 8 MiB x 6, plus the collector's slack for dead Buffers.
    expect(large.retained - small.retained).toBeLessThan(16);
    expect(large.peak - small.peak).toBeLessThan(48 + GC_SLACK_MiB);
  }, 600_000);
});
