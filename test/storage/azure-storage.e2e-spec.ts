import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ContainerClient } from '@azure/storage-blob';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { AzureBlobStorageBackend } from '../../libs/tus/src/storage/azure/azure-storage.backend.js';
import { InvalidRequestError, OffsetMismatchError, PayloadTooLargeError, UploadNotFoundError } from '../../libs/tus/src/errors/tus.errors.js';
import { blobsUnder, inspectAzureUpload, readInfo, uncommittedBlocks } from '../support/storage/azure-inspection.js';
import { startAzurite, type Azurite } from '../support/servers/azurite.js';
import { chunkFrom, readAll } from '../support/storage/backend-io.js';
import { MiB } from '../support/bytes.js';
import { newUpload } from '../support/storage/storage-backend.suite.js';

/** The Azure backend's own rules, against Azurite, read behind its back. */
let azurite: Azurite;
let container: ContainerClient;
let dispose: () => Promise<void>;
let backend: AzureBlobStorageBackend;
const PREFIX = 'azure/';

beforeAll(async () => {
  azurite = await startAzurite();
  ({ container, dispose } = await azurite.createContainer('azure-backend'));
  backend = new AzureBlobStorageBackend({ containerClient: container, keyPrefix: PREFIX, blockSize: MiB });
  await backend.init();
});
afterAll(async () => {
  await dispose?.();
  await azurite?.stop();
});

describe('AzureBlobStorageBackend on Azurite', () => {
  it('fails at start-up with the container named when it does not exist', async () => {
    const missing = new AzureBlobStorageBackend({ containerClient: azurite.service.getContainerClient('no-such-container') });
    await expect(missing.init()).rejects.toThrow(/cannot use container "no-such-container"/);
  });

  it('stages whole blocks and a short last one, commits them once complete, and reads ranges', async () => {
    const data = randomBytes(3 * MiB + 123);
    let upload = await backend.create(newUpload(data.length));
    upload = await backend.write(upload, chunkFrom(data.subarray(0, 2 * MiB + 7)));
    const midway = await inspectAzureUpload(container, `${PREFIX}${upload.id}`);
    expect(midway.info!.azure.blocks.map((block) => block.size)).toEqual([MiB, MiB, 7]);
    expect(midway.durable).toBe(2 * MiB + 7);
    // Nothing committed yet: the data blob does not exist for readers.
    expect(await container.getBlockBlobClient(`${PREFIX}${upload.id}`).exists()).toBe(false);
    upload = await backend.write(upload, chunkFrom(data.subarray(2 * MiB + 7)));
    expect(upload.completedAt).toBeInstanceOf(Date);
    const list = await container.getBlockBlobClient(`${PREFIX}${upload.id}`).getBlockList('all');
    expect(list.uncommittedBlocks ?? []).toEqual([]);
    // Every block id of the blob has one length, as Azure requires (Azurite would accept others).
    expect(new Set(list.committedBlocks!.map((block) => block.name!.length)).size).toBe(1);
    expect((await readAll(backend, upload)).equals(data)).toBe(true);
    expect((await readAll(backend, upload, { start: MiB - 3, end: MiB + 2 })).equals(data.subarray(MiB - 3, MiB + 3))).toBe(true);
    expect((await readAll(backend, upload, { start: 3 * MiB })).equals(data.subarray(3 * MiB))).toBe(true);
    expect((await readInfo(container, `${PREFIX}${upload.id}`))!.azure.blocks).toEqual([]);
  });

  it('refuses a write or an update built on a stale ETag of .info (409), recording nothing of it', async () => {
    const first = await backend.create(newUpload(100));
    const stale = await backend.get(first.id);
    const current = await backend.write(first, chunkFrom(Buffer.alloc(10, 1)));
    await expect(backend.write(stale, chunkFrom(Buffer.alloc(10, 2)))).rejects.toBeInstanceOf(OffsetMismatchError);
    await expect(backend.update(stale, { expiresAt: null })).rejects.toBeInstanceOf(OffsetMismatchError);
    const stored = await inspectAzureUpload(container, `${PREFIX}${first.id}`);
    expect(stored.recordedOffset).toBe(10);
    expect(stored.info!.azure.blocks).toHaveLength(1);
    // The loser's block is staged under an id of its own: the winner's is intact.
    expect(stored.unrecordedBytes).toBe(10);
    const next = await backend.write(current, chunkFrom(Buffer.alloc(90, 3)));
    expect((await readAll(backend, next)).equals(Buffer.concat([Buffer.alloc(10, 1), Buffer.alloc(90, 3)]))).toBe(true);
  });

  it('finishes an upload whose every byte was recorded before a crash stopped its commit (the next write, e.g. a HEAD\'s)', async () => {
    const data = randomBytes(3 * MiB);
    let upload = await backend.create(newUpload(data.length));
    upload = await backend.write(upload, chunkFrom(data.subarray(0, 2 * MiB)));
    // What a process killed between the last record and the commit leaves: every block staged and
    // recorded, offset = length, not completed.
    const name = `${PREFIX}${upload.id}`;
    const id = Buffer.alloc(12, 5).toString('base64');
    await container.getBlockBlobClient(name).stageBlock(id, data.subarray(2 * MiB), MiB);
    const info = (await readInfo(container, name))!;
    const recorded = { ...info, offset: data.length, azure: { ...info.azure, blocks: [...info.azure.blocks, { id, size: MiB }] } };
    await container.getBlockBlobClient(`${name}.info`).upload(JSON.stringify(recorded), JSON.stringify(recorded).length);
    upload = await backend.get(upload.id);
    expect(upload).toMatchObject({ offset: data.length, completedAt: null });
    upload = await backend.write(upload, chunkFrom(Buffer.alloc(0)));
    expect(upload.completedAt).toBeInstanceOf(Date);
    expect((await readAll(backend, upload)).equals(data)).toBe(true);
  });

  it('stops a running write with 409 once another writer changed .info, keeping what that writer recorded', async () => {
    let upload = await backend.create(newUpload(8 * MiB));
    const twin = new AzureBlobStorageBackend({ containerClient: container, keyPrefix: PREFIX, blockSize: MiB });
    const name = `${PREFIX}${upload.id}`;
    // The other writer's change, once started. The running write can fail on the changed .info
    // before the twin's own answer arrives, so the test waits for that answer rather than a flag.
    // The twin reads .info and writes it back; when the running write records a block in between,
    // the twin is refused (409) and, as a real writer taking over would, reads again and retries.
    let change: Promise<unknown> | undefined;
    const changeUpload = async (): Promise<void> => {
      for (let attempt = 1; ; attempt++) {
        try {
          await twin.update(await twin.get(upload.id), { expiresAt: null });
          return;
        } catch (error) {
          if (!(error instanceof OffsetMismatchError) || attempt === 20) throw error;
        }
      }
    };
    const body = Readable.from(
      (async function* () {
        for (let n = 0; n < 8; n++) {
          yield randomBytes(MiB);
          // Once the first blocks are recorded, another writer (a takeover) changes the upload.
          if (!change && ((await readInfo(container, name))?.offset ?? 0) > 0) {
            change = changeUpload();
            await change;
          }
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      })(),
    );
    await expect(backend.write(upload, { stream: body, stages: [], verify: async () => undefined, keepOnInterrupt: true })).rejects.toBeInstanceOf(OffsetMismatchError);
    expect(change).toBeDefined();
    await change;
    upload = await backend.get(upload.id);
    expect(upload.expiresAt).toBeNull();
    expect(upload.offset).toBeLessThan(8 * MiB);
    expect((await inspectAzureUpload(container, name)).durable).toBe(upload.offset);
  });

  it('refuses to create an id that exists (If-None-Match: *), leaving that upload as it was', async () => {
    const upload = await backend.create(newUpload(5));
    const written = await backend.write(upload, chunkFrom(Buffer.from('ab')));
    await expect(backend.create({ ...newUpload(9), id: upload.id })).rejects.toBeInstanceOf(InvalidRequestError);
    expect(await backend.get(upload.id)).toMatchObject({ offset: 2, length: 5 });
    expect(written.offset).toBe(2);
  });

  it('completion discards the blocks that no record names (requests cut off or that lost a race)', async () => {
    let upload = await backend.create(newUpload(2 * MiB));
    upload = await backend.write(upload, chunkFrom(randomBytes(MiB)));
    await container.getBlockBlobClient(`${PREFIX}${upload.id}`).stageBlock(Buffer.alloc(12, 7).toString('base64'), Buffer.alloc(500), 500);
    expect((await inspectAzureUpload(container, `${PREFIX}${upload.id}`)).unrecordedBytes).toBe(500);
    upload = await backend.write(upload, chunkFrom(randomBytes(MiB)));
    expect(upload.completedAt).toBeInstanceOf(Date);
    expect(await uncommittedBlocks(container, `${PREFIX}${upload.id}`)).toEqual(new Map());
  });

  it('termination leaves no blob and no staged block of the upload, finished or not', async () => {
    const unfinished = await backend.create(newUpload(3 * MiB));
    const written = await backend.write(unfinished, chunkFrom(randomBytes(MiB + 5)));
    // A stray block, as a request cut off before any record leaves it.
    await container.getBlockBlobClient(`${PREFIX}${unfinished.id}`).stageBlock(Buffer.alloc(12, 9).toString('base64'), Buffer.alloc(64), 64);
    let finished = await backend.create(newUpload(10));
    finished = await backend.write(finished, chunkFrom(Buffer.alloc(10)));
    for (const upload of [written, finished]) {
      const name = `${PREFIX}${upload.id}`;
      const release = await backend.lock(upload.id);
      await backend.remove(upload);
      await release();
      expect(await blobsUnder(container, name)).toEqual([]);
      expect(await uncommittedBlocks(container, name)).toEqual(new Map());
      await expect(backend.get(upload.id)).rejects.toBeInstanceOf(UploadNotFoundError);
    }
  });

  it('refuses with 413 a request past maxBlocks, the offset unchanged', async () => {
    const small = new AzureBlobStorageBackend({ containerClient: container, keyPrefix: PREFIX, blockSize: 1024, maxBlocks: 3 });
    let upload = await small.create(newUpload(null));
    for (let n = 0; n < 3; n++) upload = await small.write(upload, chunkFrom(Buffer.alloc(100)));
    await expect(small.write(upload, chunkFrom(Buffer.alloc(100)))).rejects.toBeInstanceOf(PayloadTooLargeError);
    expect((await small.get(upload.id)).offset).toBe(300);
    // A declared length that 3 blocks of the largest size cannot hold.
    await expect(small.create(newUpload(3 * 4000 * MiB))).rejects.toBeInstanceOf(PayloadTooLargeError);
  });

  it('takes the offset back to the blocks still staged when Azure discarded those of an upload idle for a week', async () => {
    let upload = await backend.create(newUpload(4 * MiB));
    upload = await backend.write(upload, chunkFrom(randomBytes(2 * MiB)));
    const name = `${PREFIX}${upload.id}`;
    // What Azure does after a week without Put Block or Put Block List (Azurite never does):
    // the uncommitted blocks go. Committing an empty list discards them the same way.
    await container.getBlockBlobClient(name).commitBlockList([]);
    expect((await backend.get(upload.id)).offset).toBe(2 * MiB);
    const info = (await readInfo(container, name))!;
    const aged = { ...info, azure: { ...info.azure, stagedAt: new Date(Date.now() - 8 * 24 * 3600_000).toISOString() } };
    await container.getBlockBlobClient(`${name}.info`).upload(JSON.stringify(aged), JSON.stringify(aged).length);
    upload = await backend.get(upload.id);
    expect(upload.offset).toBe(0);
    expect((await readInfo(container, name))!.offset).toBe(0);
    upload = await backend.write(upload, chunkFrom(randomBytes(4 * MiB)));
    expect(upload.completedAt).toBeInstanceOf(Date);
  });
});
