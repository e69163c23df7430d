import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ContainerClient } from '@azure/storage-blob';
import { blobsUnder } from '../support/storage/azure-inspection.js';
import { sampleAzureEnv, startAzurite, type Azurite } from '../support/servers/azurite.js';
import { startSample, type SampleProcess } from '../support/servers/sample-process.js';
import { runUpload } from '../support/http/tus-client.js';
import { downloadDigest, generatedBytes } from '../support/http/streamed-bytes.js';
import { GC_SLACK_MiB, MEMORY_PROBE_FLAGS, sampleMemory } from '../support/servers/process-memory.js';
import { MiB } from '../support/bytes.js';
import { PLATFORMS } from '../support/apps/tus-app.js';

const CHUNK = 16 * MiB;

describe.each(PLATFORMS)('the sample app on the Azure backend (TUS_STORAGE=azure) against Azurite, on %s', (platform) => {
  let azurite: Azurite;
  let container: ContainerClient;
  let dispose: () => Promise<void>;
  let sample: SampleProcess;

  beforeAll(async () => {
    azurite = await startAzurite();
    ({ container, dispose } = await azurite.createContainer('sample'));
    sample = await startSample({ ...sampleAzureEnv(azurite, container.containerName), HTTP_ADAPTER: platform }, MEMORY_PROBE_FLAGS);
  });
  afterAll(async () => {
    await sample?.stop();
    await dispose?.();
    await azurite?.stop();
  });

  async function upload(size: number): Promise<string> {
    const source = generatedBytes(size, CHUNK);
    const started = performance.now();
    const retried: string[] = [];
    const { url } = await runUpload(source.stream as unknown as Buffer, {
      endpoint: sample.url,
      uploadSize: size,
      chunkSize: CHUNK,
      metadata: { filename: `${size}.bin` },
      // tus-js-client's own default delays, as an app would run it: a loaded Azurite can miss the
      // backend's deadlines (a 503, or the connection closed mid-chunk: one run's EPIPE at offset 0).
      retryDelays: [0, 1000, 3000, 5000],
      onShouldRetry: (error) => (retried.push(error.message.split('\n')[0]!), true),
    }).catch((error: Error) => {
      throw new Error(`${error.message}\nretried: ${retried.join(' | ')}\nsample's output (tail):\n${sample.output().slice(-3000)}`);
    });
    const seconds = (performance.now() - started) / 1000;
    const digest = await downloadDigest(url);
    console.log(
      `sample on Azure (${platform}): ${size / MiB} MiB in ${seconds.toFixed(1)} s (${(size / MiB / seconds).toFixed(0)} MiB/s), sha256 ${digest}` +
        (retried.length > 0 ? `; retried ${retried.length}: ${retried.join(' | ')}` : ''),
    );
    expect(digest).toBe(source.digest());
    return url;
  }

  it('takes a 1 GiB tus-js-client upload with the right sha256, its memory flat from 128 MiB to 1 GiB', async () => {
    await upload(128 * MiB);
    const small = await sampleMemory(sample);
    const url = await upload(1024 * MiB);
    const large = await sampleMemory(sample);
    console.log(`sample on Azure (${platform}) on Node ${process.versions.node}: peak RSS ${small.peak.toFixed(1)} MiB after 128 MiB, ${large.peak.toFixed(1)} MiB after 1 GiB; retained ${small.retained.toFixed(1)} / ${large.retained.toFixed(1)} MiB`);
    // Eight times the bytes: buffering would show as hundreds of MiB. What a full collection leaves
    // must not grow at all; the peak may grow by the backend's own bound for one request,
    // blockSize x (blocks in flight + 2) = 8 MiB x 6, plus the collector's slack for dead Buffers.
    expect(large.retained - small.retained).toBeLessThan(16);
    expect(large.peak - small.peak).toBeLessThan(48 + GC_SLACK_MiB);
    // The committed blob and its .info; no staged block is left behind.
    const id = new URL(url).pathname.split('/').pop()!;
    expect(await blobsUnder(container, id)).toEqual([id, `${id}.info`]);
    const blocks = await container.getBlockBlobClient(id).getBlockList('all');
    expect(blocks.committedBlocks).toHaveLength(128);
    expect(blocks.uncommittedBlocks ?? []).toEqual([]);
  }, 600_000);
});
