import { expect } from '@jest/globals';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import type { INestApplication } from '@nestjs/common';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { FileStorageBackend, TusStorageBackend } from 'nestjs-tus';
import { S3StorageBackend } from 'nestjs-tus/s3';
import { AzureBlobStorageBackend } from 'nestjs-tus/azure';
import { storedBytes, type TestResponse, uploadIdOf } from '../http/requests.js';
import { createTestS3Client, s3ServerFromEnv } from '../servers/s3-server.js';
import { multipartUploadsIn, objectsUnder, partsOf } from './s3-inspection.js';
import { inspectAzureUpload, uncommittedBlocks } from './azure-inspection.js';
import { azureBackendAccess } from './azure-staged-tap.js';
import { eventually } from '../eventually.js';

/**
 * One thing a backend holds: a file of the upload folder, an S3 object, an S3 multipart upload in
 * progress, an Azure blob, or the uncommitted blocks of an Azure blob.
 */
export interface StoredEntry {
  /**
   * Relative to the backend's root: a file name, an object or blob name without the key prefix,
   * `<key> (multipart <upload id>)` for a multipart upload, or `<name> (staged blocks)` for the
   * uncommitted blocks of a blob (an unfinished upload's bytes on Azure).
   */
  name: string;
  /** Bytes held: the file's, object's or blob's size, or the sum of a multipart upload's parts or of the staged blocks. */
  size: number;
}

/**
 * Everything the app's storage backend holds, sorted by name: what a test compares before and
 * after a request that must create nothing. An upload's entries are the names that start with
 * its id, on either backend.
 */
export async function storedEntries(app: INestApplication): Promise<StoredEntry[]> {
  const backend = app.get<TusStorageBackend>(TusStorageBackend);
  let entries: StoredEntry[];
  if (backend instanceof FileStorageBackend) entries = await fileEntries(backend.directory);
  else if (backend instanceof S3StorageBackend) entries = await s3Entries(backend);
  else if (backend instanceof AzureBlobStorageBackend) entries = await azureEntries(backend);
  else throw new Error(`storedEntries does not know ${backend.constructor.name}`);
  return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The names of {@link storedEntries}. */
export const storedNames = async (app: INestApplication): Promise<string[]> => (await storedEntries(app)).map((entry) => entry.name);

/**
 * Whether an entry holds an upload's bytes: the file backend's `<id>` data file, on S3 the `<id>`
 * object, a `<id>.pending.<random>` object or a multipart upload, on Azure the `<id>` blob or its
 * staged blocks; not `.info`, `.lock` or temporary files.
 */
export const isDataEntry = (entry: StoredEntry): boolean =>
  !entry.name.includes('.') || entry.name.includes('.pending.') || entry.name.includes(' (multipart ');

/**
 * The bytes of an upload, read through the module's download route ({@link storedBytes}); on the
 * file backend, also checks that the data file holds exactly those bytes, nothing past the offset.
 *
 * An unfinished upload on a backend that cannot read one (no `readsUnfinished`: S3, Azure) is the
 * exception: the download route cannot serve its bytes, which are then read from the store itself.
 * On S3 they sit in the parts of a multipart upload in progress, which S3 cannot read back, and in
 * a `.pending` object (bytes short of a part): the one `.pending` object, with no part stored and
 * nothing else under its id, which holds for every upload smaller than a part (8 MiB by default),
 * as all in the protocol suites are. On Azure they sit in staged blocks, which Azure does not serve
 * either: the blocks `.info` records, each as Azure holds it (id and size), their bytes as the
 * backend's client staged them (see StagedBlockTap).
 *
 * `expired`: the upload expired unfinished, so the route answers 410 and its bytes are read from
 * the storage itself (the data file, the `.pending` object, the staged blocks).
 */
export async function storedBytesOf(app: INestApplication, uploadUrl: string, options: { expired?: boolean } = {}): Promise<Buffer> {
  const backend = app.get<TusStorageBackend>(TusStorageBackend);
  if (backend.readsUnfinished !== true) {
    const upload = await backend.get(uploadIdOf(uploadUrl));
    if (upload.completedAt === null) {
      if (backend instanceof S3StorageBackend) return unfinishedS3Bytes(app, backend, upload.id);
      if (backend instanceof AzureBlobStorageBackend) return unfinishedAzureBytes(app, backend, upload.id);
      throw new Error(`storedBytesOf cannot read an unfinished upload of ${backend.constructor.name}`);
    }
  }
  if (backend instanceof FileStorageBackend && options.expired) return readFile(join(backend.directory, uploadIdOf(uploadUrl)));
  const served = await storedBytes(uploadUrl);
  if (backend instanceof FileStorageBackend) {
    const onDisk = await readFile(join(backend.directory, uploadIdOf(uploadUrl)));
    if (!onDisk.equals(served)) {
      throw new Error(`the data file holds ${onDisk.length} bytes (${JSON.stringify(onDisk.toString())}), the download served ${served.length}`);
    }
  }
  return served;
}

/**
 * The bytes of an unfinished S3 upload: its one `.pending` object, once the upload holds nothing
 * else. A request whose client saw its connection cut may still be finishing (its `.info` already
 * written, its lock or the `.pending` it replaced not yet deleted): what it leaves for a moment is
 * waited out, what it leaves for good fails the test.
 */
async function unfinishedS3Bytes(app: INestApplication, backend: S3StorageBackend, id: string): Promise<Buffer> {
  let entries: StoredEntry[] = [];
  let pending: StoredEntry[] = [];
  await eventually(async () => {
    entries = (await storedEntries(app)).filter((entry) => entry.name === id || entry.name.startsWith(`${id}.`) || entry.name.startsWith(`${id} `));
    pending = entries.filter((entry) => entry.name.startsWith(`${id}.pending.`));
    const unexpected = entries.filter((entry) => entry.name !== `${id}.info` && !pending.includes(entry) && !(entry.name.startsWith(`${id} (multipart`) && entry.size === 0));
    return pending.length <= 1 && unexpected.length === 0;
  }, SETTLE_MS).catch(() => {
    throw new Error(`unfinished S3 upload ${id} holds more than its .info and one .pending object: ${JSON.stringify(entries)}`);
  });
  if (pending.length === 0) return Buffer.alloc(0);
  const client = createTestS3Client(s3ServerFromEnv());
  try {
    const object = await client.send(new GetObjectCommand({ Bucket: backend.bucket, Key: `${backend.keyPrefix}${pending[0]!.name}` }));
    return Buffer.from(await object.Body!.transformToByteArray());
  } finally {
    client.destroy();
  }
}

/**
 * An upload's `.info` as the backend persisted it (the file of the upload folder, the S3 object
 * or the Azure blob), parsed but not decoded: what a restarted process will read.
 */
export async function storedInfoJson(app: INestApplication, id: string): Promise<Record<string, unknown>> {
  const backend = app.get<TusStorageBackend>(TusStorageBackend);
  if (backend instanceof FileStorageBackend) return JSON.parse(await readFile(join(backend.directory, `${id}.info`), 'utf8')) as Record<string, unknown>;
  if (backend instanceof AzureBlobStorageBackend) {
    const { container } = azureBackendAccess(backend);
    const blob = await container.getBlockBlobClient(`${backend.keyPrefix}${id}.info`).downloadToBuffer();
    return JSON.parse(blob.toString('utf8')) as Record<string, unknown>;
  }
  if (!(backend instanceof S3StorageBackend)) throw new Error(`storedInfoJson does not know ${backend.constructor.name}`);
  const client = createTestS3Client(s3ServerFromEnv());
  try {
    const object = await client.send(new GetObjectCommand({ Bucket: backend.bucket, Key: `${backend.keyPrefix}${id}.info` }));
    return JSON.parse(await object.Body!.transformToString()) as Record<string, unknown>;
  } finally {
    client.destroy();
  }
}

/**
 * The bytes of an unfinished Azure upload: the blocks its `.info` records, in order, once the
 * upload holds nothing but its blob and `.info` (a request whose client saw its connection cut may
 * still be releasing its lock: waited out; a lock left for good fails the test). Each recorded
 * block must be staged with its recorded size; the offset must be their sum. Staged blocks that no
 * record names (a request cut off or refused) are allowed: the commit discards them.
 */
async function unfinishedAzureBytes(app: INestApplication, backend: AzureBlobStorageBackend, id: string): Promise<Buffer> {
  const { container, tap } = azureBackendAccess(backend);
  let names: string[] = [];
  await eventually(async () => {
    names = (await storedNames(app)).filter((name) => name === id || name.startsWith(`${id}.`) || name.startsWith(`${id} `));
    return names.every((name) => name === id || name === `${id}.info` || name === `${id} (staged blocks)`);
  }, SETTLE_MS).catch(() => {
    throw new Error(`unfinished Azure upload ${id} holds more than its blob and .info: ${JSON.stringify(names)}`);
  });
  const blob = `${backend.keyPrefix}${id}`;
  const snapshot = await inspectAzureUpload(container, blob);
  const blocks = snapshot.info?.azure.blocks ?? [];
  const bytes = Buffer.concat(blocks.map((block) => tap.bytesOf(blob, block.id)));
  if (bytes.length !== snapshot.durable || snapshot.recordedOffset !== snapshot.durable) {
    throw new Error(`Azure upload ${id}: .info records offset ${snapshot.recordedOffset}, its blocks hold ${snapshot.durable} bytes, the tap ${bytes.length}`);
  }
  return bytes;
}

/**
 * Sends `request` and expects it refused with `statuses` (one of them, when several), with no
 * `Location`, leaving what `stored` lists (names or entries of the storage) as it was: a refused
 * request creates nothing.
 */
export async function expectRefusedLeaving(
  stored: () => Promise<unknown>,
  request: () => Promise<TestResponse>,
  ...statuses: number[]
): Promise<TestResponse> {
  const before = await stored();
  const response = await request();
  if (statuses.length === 1) expect(response.status).toBe(statuses[0]);
  else expect(statuses).toContain(response.status);
  expect(response.headers.location).toBeUndefined();
  expect(await stored()).toEqual(before);
  return response;
}

/** How long a request that has answered (or lost its client) may take to clear up after itself. */
const SETTLE_MS = 5_000;

async function fileEntries(directory: string): Promise<StoredEntry[]> {
  const entries = await Promise.all(
    (await readdir(directory)).map(async (name) => {
      try {
        return { name, size: (await stat(join(directory, name))).size };
      } catch (error) {
        // A temporary file renamed away between readdir and stat.
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
    }),
  );
  return entries.filter((entry): entry is StoredEntry => entry !== undefined);
}

async function s3Entries(backend: S3StorageBackend): Promise<StoredEntry[]> {
  const client = createTestS3Client(s3ServerFromEnv());
  try {
    const { bucket, keyPrefix } = backend;
    const entries: StoredEntry[] = (await objectsUnder(client, bucket, keyPrefix)).map(({ key, size }) => ({ name: key.slice(keyPrefix.length), size }));
    for (const upload of await multipartUploadsIn(client, bucket, keyPrefix)) {
      const parts = await partsOf(client, bucket, upload.key, upload.uploadId);
      entries.push({
        name: `${upload.key.slice(keyPrefix.length)} (multipart ${upload.uploadId})`,
        size: parts.reduce((sum, part) => sum + part.size, 0),
      });
    }
    return entries;
  } finally {
    client.destroy();
  }
}

/**
 * Every blob under the key prefix, also those with only uncommitted blocks (an unfinished upload's
 * `<id>`, listed with size 0), and for each data blob (a name without a dot) with staged blocks, an
 * entry `<id> (staged blocks)` of their total size.
 */
async function azureEntries(backend: AzureBlobStorageBackend): Promise<StoredEntry[]> {
  const { container } = azureBackendAccess(backend);
  const { keyPrefix } = backend;
  const entries: StoredEntry[] = [];
  for await (const item of container.listBlobsFlat({ prefix: keyPrefix, includeUncommitedBlobs: true })) {
    const name = item.name.slice(keyPrefix.length);
    entries.push({ name, size: item.properties.contentLength ?? 0 });
    if (name.includes('.')) continue;
    const staged = [...(await uncommittedBlocks(container, item.name)).values()].reduce((sum, size) => sum + size, 0);
    if (staged > 0) entries.push({ name: `${name} (staged blocks)`, size: staged });
  }
  return entries;
}
