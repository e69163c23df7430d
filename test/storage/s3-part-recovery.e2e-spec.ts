import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { S3Client } from '@aws-sdk/client-s3';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { hostname } from 'node:os';
import { PROCESS_HOST } from '../../libs/tus/src/storage/process-identity.js';
import { S3Objects } from '../../libs/tus/src/storage/s3/s3-objects.js';
import { S3StorageBackend } from '../../libs/tus/src/storage/s3/s3-storage.backend.js';
import { MiB } from '../support/bytes.js';
import { createTestBucket, createTestS3Client, s3ServerFromEnv } from '../support/servers/s3-server.js';
import { chunkFrom, readAll } from '../support/storage/backend-io.js';
import { inspectS3Upload } from '../support/storage/s3-inspection.js';
import { newUpload } from '../support/storage/storage-backend.suite.js';

/**
 * Crash recovery of the S3 backend against a real S3 server, in process: a request that died is
 * played by hand (its parts uploaded, its last record written with the `writing` mark, its lock
 * object naming a dead pid of this host), then two backends on the same bucket (two processes)
 * read the upload. The SIGKILL of a real process is test/faults/s3-crash-progress.e2e-spec.ts.
 */
const PART = 5 * MiB;
const PREFIX = 'recover/';
const LENGTH = 6 * PART + 1000;

let clients: S3Client[];
let bucket: { bucket: string; dispose(): Promise<void> };
let objects: S3Objects;
let one: S3StorageBackend;
let two: S3StorageBackend;
let deadPid: number;

beforeAll(async () => {
  const server = s3ServerFromEnv();
  clients = [createTestS3Client(server), createTestS3Client(server)];
  bucket = await createTestBucket(clients[0]!, 's3-recover');
  objects = new S3Objects(clients[0]!, bucket.bucket);
  [one, two] = clients.map((client) => new S3StorageBackend({ client, bucket: bucket.bucket, keyPrefix: PREFIX, partSize: PART })) as [S3StorageBackend, S3StorageBackend];
  const child = spawn(process.execPath, ['-e', '']);
  await once(child, 'exit');
  deadPid = child.pid!;
});

afterAll(async () => {
  await bucket?.dispose();
  clients?.forEach((client) => client.destroy());
});

interface StoredInfo {
  offset: number;
  s3: { uploadId: string; parts: { partNumber: number; etag: string; size: number }[]; writing?: unknown; untrustedThrough?: number };
}

const infoOf = async (id: string) => JSON.parse((await objects.getText(`${PREFIX}${id}.info`)).text) as StoredInfo;
const partBytes = (source: Buffer, partNumber: number) => source.subarray((partNumber - 1) * PART, partNumber * PART);

/**
 * An upload whose first part a finished request stored, then a request that died: it uploaded
 * `stored` (part numbers), its records listed parts 2..`recorded`, and its lock is left behind.
 */
async function afterDeadRequest(options: { stored: number[]; recorded: number; untrustedThrough?: number; holder?: object }): Promise<{ id: string; source: Buffer }> {
  const source = randomBytes(LENGTH);
  const upload = await one.create(newUpload(LENGTH));
  await one.write(upload, chunkFrom(source.subarray(0, PART)));
  const info = await infoOf(upload.id);
  const key = `${PREFIX}${upload.id}`;
  const etags = new Map<number, string>();
  for (const partNumber of options.stored) {
    etags.set(partNumber, await objects.uploadPart(key, info.s3.uploadId, partNumber, partBytes(source, partNumber), PART));
  }
  for (let partNumber = 2; partNumber <= options.recorded; partNumber++) info.s3.parts.push({ partNumber, etag: etags.get(partNumber)!, size: PART });
  info.offset = options.recorded * PART;
  info.s3.writing = { partsInFlight: 4 };
  if (options.untrustedThrough !== undefined) info.s3.untrustedThrough = options.untrustedThrough;
  await objects.put(`${key}.info`, JSON.stringify(info), { contentType: 'application/json' });
  const holder = options.holder ?? { host: PROCESS_HOST, pid: deadPid, token: 'dead', renewedAt: Date.now() };
  await objects.put(`${key}.lock`, JSON.stringify(holder), { contentType: 'application/json' });
  return { id: upload.id, source };
}

/** Writes the rest from the recorded offset and checks every byte. */
async function finishAndCheck(backend: S3StorageBackend, id: string, source: Buffer): Promise<void> {
  const upload = await backend.get(id);
  const done = await backend.write(upload, chunkFrom(source.subarray(upload.offset)));
  expect(done.completedAt).not.toBeNull();
  expect((await readAll(backend, done)).equals(source)).toBe(true);
  await backend.remove(done);
}

describe('S3 crash recovery: the parts a dead request stored count again', () => {
  it('two processes read the upload at once: the parts after the recorded ones are added once, conditionally, and the bytes are right', async () => {
    const { id, source } = await afterDeadRequest({ stored: [2, 3, 4], recorded: 2 });
    const offsets = (await Promise.all([one.get(id), two.get(id)])).map((upload) => upload.offset);
    // The one that took the lock answers the recovered offset; the other, if the lock was busy, the recorded one.
    expect(offsets.every((offset) => offset === 2 * PART || offset === 4 * PART)).toBe(true);
    expect(offsets).toContain(4 * PART);
    expect((await two.get(id)).offset).toBe(4 * PART);
    const info = await infoOf(id);
    expect(info.s3.parts.map((part) => part.partNumber)).toEqual([1, 2, 3, 4]);
    expect(info.s3.writing).toBeUndefined();
    // Every recorded part is in S3 with the recorded ETag (inspection throws otherwise).
    expect((await inspectS3Upload(clients[0]!, bucket.bucket, `${PREFIX}${id}`)).durable).toBe(4 * PART);
    await finishAndCheck(two, id, source);
  });

  it('adds no part marked untrusted (a checksummed chunk never verified), and keeps the mark', async () => {
    const { id, source } = await afterDeadRequest({ stored: [2, 3, 4, 5], recorded: 2, untrustedThrough: 4 });
    expect((await one.get(id)).offset).toBe(2 * PART);
    const info = await infoOf(id);
    expect(info.s3.writing).toBeUndefined();
    expect(info.s3.untrustedThrough).toBe(5);
    await finishAndCheck(one, id, source);
  });

  it('a PATCH taking the abandoned lock over recovers before it reads the state; a part beyond a gap is left out and marked', async () => {
    const { id, source } = await afterDeadRequest({ stored: [2, 3, 5], recorded: 2 });
    const release = await two.lock(id);
    await release();
    const info = await infoOf(id);
    expect(info.offset).toBe(3 * PART);
    expect(info.s3.untrustedThrough).toBe(5);
    await finishAndCheck(one, id, source);
  });

  it('a live holder in another process keeps the upload: HEAD answers the recorded state until the lock is free', async () => {
    const holder = { host: `${hostname()}-elsewhere`, pid: 1, token: 'live', renewedAt: Date.now() };
    const { id, source } = await afterDeadRequest({ stored: [2, 3], recorded: 2, holder });
    expect((await one.get(id)).offset).toBe(2 * PART);
    expect((await infoOf(id)).s3.writing).toBeDefined();
    await objects.delete(`${PREFIX}${id}.lock`);
    expect((await one.get(id)).offset).toBe(3 * PART);
    await finishAndCheck(one, id, source);
  });
});
