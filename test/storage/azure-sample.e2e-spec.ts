import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ContainerClient } from '@azure/storage-blob';
import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { request } from 'node:http';
import { Readable } from 'node:stream';
import { blobsUnder } from '../support/storage/azure-inspection.js';
import { sampleAzureEnv, startAzurite, type Azurite } from '../support/servers/azurite.js';
import { startSample, type SampleProcess } from '../support/servers/sample-process.js';
import { runUpload } from '../support/http/tus-client.js';
import { PLATFORMS } from '../support/apps/tus-app.js';

const MiB = 1024 * 1024;
const CHUNK = 16 * MiB;

/** `size` bytes from one random block, streamed in 16 MiB pieces (one PATCH each); the sha256 is known at the end. */
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

/** The sha256 of a download, streamed. */
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

/** The kernel's high-water mark of a process's resident memory, in MiB. */
async function peakRssMiB(pid: number): Promise<number> {
  return Number(/VmHWM:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
}

describe.each(PLATFORMS)('the sample app on the Azure backend (TUS_STORAGE=azure) against Azurite, on %s', (platform) => {
  let azurite: Azurite;
  let container: ContainerClient;
  let dispose: () => Promise<void>;
  let sample: SampleProcess;

  beforeAll(async () => {
    azurite = await startAzurite();
    ({ container, dispose } = await azurite.createContainer('sample'));
    sample = await startSample({ ...sampleAzureEnv(azurite, container.containerName), HTTP_ADAPTER: platform });
  });
  afterAll(async () => {
    await sample?.stop();
    await dispose?.();
    await azurite?.stop();
  });

  async function upload(size: number): Promise<string> {
    const source = generated(size);
    const started = performance.now();
    const { url } = await runUpload(source.stream as unknown as Buffer, {
      endpoint: sample.url,
      uploadSize: size,
      chunkSize: CHUNK,
      metadata: { filename: `${size}.bin` },
    });
    const seconds = (performance.now() - started) / 1000;
    const digest = await downloadDigest(url);
    console.log(`sample on Azure (${platform}): ${size / MiB} MiB in ${seconds.toFixed(1)} s (${(size / MiB / seconds).toFixed(0)} MiB/s), sha256 ${digest}`);
    expect(digest).toBe(source.digest());
    return url;
  }

  it('takes a 1 GiB tus-js-client upload with the right sha256, its peak RSS flat from 128 MiB to 1 GiB', async () => {
    await upload(128 * MiB);
    const afterSmall = await peakRssMiB(sample.process.pid!);
    const url = await upload(1024 * MiB);
    const afterLarge = await peakRssMiB(sample.process.pid!);
    console.log(`sample on Azure (${platform}): peak RSS ${afterSmall.toFixed(1)} MiB after 128 MiB, ${afterLarge.toFixed(1)} MiB after 1 GiB`);
    // Eight times the bytes: buffering would show as hundreds of MiB. The bound is the backend's
    // own for one request, blockSize x (blocks in flight + 2) = 8 MiB x 6.
    expect(afterLarge - afterSmall).toBeLessThan(48);
    // The committed blob and its .info; no staged block is left behind.
    const id = new URL(url).pathname.split('/').pop()!;
    expect(await blobsUnder(container, id)).toEqual([id, `${id}.info`]);
    const blocks = await container.getBlockBlobClient(id).getBlockList('all');
    expect(blocks.committedBlocks).toHaveLength(128);
    expect(blocks.uncommittedBlocks ?? []).toEqual([]);
  }, 600_000);
});
