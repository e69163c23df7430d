import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ContainerClient } from '@azure/storage-blob';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PROCESS_HOST } from '../../libs/tus/src/storage/process-identity.js';
import { AzureBlobStorageBackend } from '../../libs/tus/src/storage/azure/azure-storage.backend.js';
import { UploadLockedError } from '../../libs/tus/src/errors/tus.errors.js';
import { LOCK_LEFTOVER_AFTER_MS } from '../../libs/tus/src/storage/azure/lock-leftovers.js';
import { startAzurite, type Azurite } from '../support/servers/azurite.js';
import { generateUploadIdForTests } from '../support/storage/storage-backend.fixtures.js';

/**
 * The lease that serialises writers of one upload across processes, against Azurite. Another
 * process holds it for real (a child process running the built library), or is played by leasing
 * the lock blob by hand, as that process would.
 */
let azurite: Azurite;
let container: ContainerClient;
let dispose: () => Promise<void>;
const PREFIX = 'locks/';
const backendWith = (options: { lockTimeoutMs?: number; lockStaleMs?: number } = {}) =>
  new AzureBlobStorageBackend({ containerClient: container, keyPrefix: PREFIX, ...options });
const lockBlob = (id: string) => container.getBlockBlobClient(`${PREFIX}${id}.lock`);
const holderOf = async (id: string) => JSON.parse((await lockBlob(id).downloadToBuffer()).toString() || '{}') as { token?: string; pid?: number };

/** Leases the lock blob of `id` by hand for `seconds`, naming `holder`, as another process's lock does. */
async function leaseByHand(id: string, holder: object, seconds = 60): Promise<string> {
  const blob = lockBlob(id);
  if (!(await blob.exists())) await blob.upload('', 0);
  const { leaseId } = await blob.getBlobLeaseClient().acquireLease(seconds);
  const body = JSON.stringify(holder);
  await blob.upload(body, body.length, { conditions: { leaseId } });
  return leaseId!;
}

/** A child process holding the lock of `id` through the built library, never letting go. */
async function childHoldingLock(id: string): Promise<ChildProcess> {
  const script = `
    import { BlobServiceClient } from '@azure/storage-blob';
    import { AzureBlobStorageBackend } from ${JSON.stringify(resolve('dist/libs/tus/azure.js'))};
    const containerClient = BlobServiceClient.fromConnectionString(process.env.CS).getContainerClient(process.env.CONTAINER);
    const backend = new AzureBlobStorageBackend({ containerClient, keyPrefix: process.env.PREFIX, lockStaleMs: 60000 });
    await backend.lock(process.env.ID);
    console.log('locked');
    setInterval(() => undefined, 1000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, CS: azurite.connectionString, CONTAINER: container.containerName, PREFIX, ID: id },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [data] = (await once(child.stdout!, 'data')) as [Buffer];
  expect(data.toString()).toContain('locked');
  return child;
}

beforeAll(async () => {
  azurite = await startAzurite();
  ({ container, dispose } = await azurite.createContainer('azure-lock'));
});
afterAll(async () => {
  await dispose?.();
  await azurite?.stop();
});

describe('the Azure lock (a lease on <id>.lock)', () => {
  it('is exclusive across instances, and the lock blob is gone once released', async () => {
    const id = generateUploadIdForTests();
    const [a, b] = [backendWith(), backendWith()];
    const release = await a.lock(id);
    let second = false;
    const waiting = b.lock(id).then((releaseSecond) => {
      second = true;
      return releaseSecond;
    });
    await new Promise((done) => setTimeout(done, 300));
    expect(second).toBe(false);
    await release();
    await (await waiting)();
    expect(await lockBlob(id).exists()).toBe(false);
  });

  it('answers 423 while a live process holds it, and takes it at once when that process is killed (SIGKILL)', async () => {
    const id = generateUploadIdForTests();
    const child = await childHoldingLock(id);
    try {
      expect((await holderOf(id)).pid).toBe(child.pid);
      await expect(backendWith({ lockTimeoutMs: 1_500 }).lock(id)).rejects.toBeInstanceOf(UploadLockedError);
      child.kill('SIGKILL');
      await once(child, 'exit');
      // Its lease runs 60 s more; its pid, gone on this host, is what frees the upload.
      const started = Date.now();
      const release = await backendWith({ lockTimeoutMs: 5_000 }).lock(id);
      expect(Date.now() - started).toBeLessThan(3_000);
      expect((await holderOf(id)).pid).toBe(process.pid);
      await release();
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('takes over a lease that a holder on another host stopped renewing, once Azure let it expire', async () => {
    const id = generateUploadIdForTests();
    await leaseByHand(id, { host: `${hostname()}-elsewhere`, pid: 1, token: 'gone' }, 15);
    const started = Date.now();
    const release = await backendWith({ lockTimeoutMs: 25_000 }).lock(id);
    const waited = Date.now() - started;
    console.log(`azure lock: an unrenewed 15 s lease of another host was taken after ${waited} ms`);
    expect(waited).toBeGreaterThan(10_000);
    expect((await holderOf(id)).token).not.toBe('gone');
    await release();
  }, 40_000);

  it('takes over at once a lock this process left behind (its release could not delete it)', async () => {
    const id = generateUploadIdForTests();
    await leaseByHand(id, { host: PROCESS_HOST, pid: process.pid, token: 'left-behind' });
    const release = await backendWith({ lockTimeoutMs: 3_000 }).lock(id);
    expect((await holderOf(id)).token).not.toBe('left-behind');
    await release();
  });

  it('does not delete the lock of a successor that broke its lease', async () => {
    const id = generateUploadIdForTests();
    const release = await backendWith().lock(id);
    await lockBlob(id).getBlobLeaseClient().breakLease(0);
    const successor = await leaseByHand(id, { host: `${hostname()}-elsewhere`, pid: 1, token: 'successor' });
    await release();
    expect((await holderOf(id)).token).toBe('successor');
    await lockBlob(id).delete({ conditions: { leaseId: successor } });
  });

  it('tells the holder when a request of another process waits for the upload (onReleaseRequested)', async () => {
    const id = generateUploadIdForTests();
    let asked = 0;
    const release = await backendWith().lock(id, () => asked++);
    await expect(backendWith({ lockTimeoutMs: 2_000 }).lock(id)).rejects.toBeInstanceOf(UploadLockedError);
    expect(asked).toBeGreaterThan(0);
    await release();
    expect(await container.getBlockBlobClient(`${PREFIX}${id}.lock.release`).exists()).toBe(false);
  });

  it('is deleted by a listing (the expiry sweep) once a crash left it behind, never while held or just created', async () => {
    const backend = backendWith();
    // Left by a process killed while terminating: .info already gone, so no upload names the id.
    const orphan = generateUploadIdForTests();
    await lockBlob(orphan).upload('{"host":"gone","pid":1}', 23);
    await container.getBlockBlobClient(`${PREFIX}${orphan}.lock.release`).upload('', 0);
    const held = generateUploadIdForTests();
    const release = await backend.lock(held);
    await sleep(LOCK_LEFTOVER_AFTER_MS + 1_000);
    // Created, not leased yet: a lock between its two calls.
    const fresh = generateUploadIdForTests();
    await lockBlob(fresh).upload('', 0);
    for await (const upload of backend.list()) expect([orphan, held, fresh]).not.toContain(upload.id);
    expect(await lockBlob(orphan).exists()).toBe(false);
    expect(await container.getBlockBlobClient(`${PREFIX}${orphan}.lock.release`).exists()).toBe(false);
    expect(await lockBlob(held).exists()).toBe(true);
    expect(await lockBlob(fresh).exists()).toBe(true);
    await release();
    expect(await lockBlob(held).exists()).toBe(false);
    await lockBlob(fresh).delete();
  }, 40_000);
});
