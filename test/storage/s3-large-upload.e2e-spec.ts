import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { S3StorageBackend } from '../../libs/tus/src/storage/s3/s3-storage.backend.js';
import { chunkOfStream } from '../support/storage/backend-io.js';
import { MiB, mib } from '../support/bytes.js';
import { createTestBucket, createTestS3Client, s3ServerFromEnv } from '../support/servers/s3-server.js';
import { newUpload } from '../support/storage/storage-backend.suite.js';

const SIZE = 200 * MiB;
const client = createTestS3Client(s3ServerFromEnv());
let bucket: string;
let disposeBucket: () => Promise<void>;

beforeAll(async () => {
  ({ bucket, dispose: disposeBucket } = await createTestBucket(client, 's3-large'));
});
afterAll(async () => {
  await disposeBucket();
  client.destroy();
});

describe('S3StorageBackend: a 200 MiB upload', () => {
  it('streams 200 MiB in one request through the rolling buffer, verified by sha256', async () => {
    // The defaults: 8 MiB parts, 4 in flight, so at most 40 MiB of part buffers.
    const backend = new S3StorageBackend({ client, bucket });
    const sent = createHash('sha256');
    async function* body(): AsyncGenerator<Buffer> {
      for (let produced = 0; produced < SIZE; produced += 256 * 1024) {
        const block = randomBytes(Math.min(256 * 1024, SIZE - produced));
        sent.update(block);
        yield block;
      }
    }
    global.gc?.();
    const baseline = process.memoryUsage();
    let peak = baseline.rss;
    let peakBuffers = baseline.arrayBuffers;
    const sampler = setInterval(() => {
      const now = process.memoryUsage();
      peak = Math.max(peak, now.rss);
      peakBuffers = Math.max(peakBuffers, now.arrayBuffers);
    }, 20);
    const started = Date.now();
    let upload = await backend.create(newUpload(SIZE));
    try {
      upload = await backend.write(upload, chunkOfStream(Readable.from(body())));
    } finally {
      clearInterval(sampler);
    }
    const seconds = (Date.now() - started) / 1000;
    expect(upload.completedAt).toBeInstanceOf(Date);
    expect(upload.offset).toBe(SIZE);

    const stored = createHash('sha256');
    let length = 0;
    await pipeline(await backend.createReadStream(upload), async (source: AsyncIterable<Buffer>) => {
      for await (const piece of source) {
        stored.update(piece);
        length += piece.length;
      }
    });
    expect(length).toBe(SIZE);
    expect(stored.digest('hex')).toBe(sent.digest('hex'));
    console.log(
      `200 MiB S3 upload: peak RSS ${mib(peak)} MiB (baseline ${mib(baseline.rss)} MiB, +${mib(peak - baseline.rss)} MiB); ` +
        `peak Buffer memory ${mib(peakBuffers)} MiB (baseline ${mib(baseline.arrayBuffers)} MiB); ${seconds.toFixed(1)} s`,
    );
  });
});
