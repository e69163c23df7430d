import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { appendFile, mkdtemp, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { OffsetMismatchError } from '../../errors/tus.errors.js';
import type { NewUpload } from '../../protocol/upload-info.js';
import { FileStorageBackend } from './file-storage.backend.js';
import { PROCESS_HOST } from '../process-identity.js';

const run = promisify(execFile);

/** A pid that ran and is gone. */
async function deadPid(): Promise<number> {
  return Number((await run('sh', ['-c', 'echo $$'])).stdout.trim());
}

/**
 * What a writer killed mid-chunk leaves: its lock (naming it), and bytes past the recorded offset.
 * The repair is whoever touches the upload next: a new process starting on the folder, a HEAD, a lock.
 */
describe('file backend: a writer that died mid-chunk', () => {
  let dir: string;
  let backend: FileStorageBackend;
  let live: ChildProcess | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nestjs-tus-repair-'));
    backend = new FileStorageBackend({ directory: dir, lockStaleMs: 30_000 });
    await backend.init();
  });
  afterEach(async () => {
    live?.kill('SIGKILL');
    live = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  async function upload(length: number | null, offset: number): Promise<string> {
    const id = `up${Math.random().toString(36).slice(2)}`;
    const created: NewUpload = { id, length, metadata: {}, metadataHeader: null, createdAt: new Date(), expiresAt: null, concat: null };
    const info = await backend.create(created);
    if (offset > 0) {
      const { Readable } = await import('node:stream');
      await backend.write(info, { stream: Readable.from([Buffer.alloc(offset, 1)]), stages: [], keepOnInterrupt: true, verify: async () => undefined });
    }
    return id;
  }

  /** The lock a holder left, as that holder would have written it. */
  async function leaveLock(id: string, holder: { pid: number; host: string }, ageMs = 0): Promise<void> {
    const path = join(dir, `${id}.lock`);
    await writeFile(path, JSON.stringify({ ...holder, token: 'dead' }));
    if (ageMs > 0) {
      const then = new Date(Date.now() - ageMs);
      await utimes(path, then, then);
    }
  }

  const dataSize = async (id: string) => (await stat(join(dir, id))).size;

  it('keeps what reached the disk: the next read answers the data file\'s size, and the lock is gone', async () => {
    const id = await upload(1000, 100);
    await appendFile(join(dir, id), Buffer.alloc(250, 2));
    await leaveLock(id, { pid: await deadPid(), host: PROCESS_HOST });
    expect((await backend.get(id)).offset).toBe(350);
    expect(await dataSize(id)).toBe(350);
    expect((await readdir(dir)).filter((name) => name.startsWith(id))).toEqual([id, `${id}.info`]);
  });

  it('a new process on the folder repairs at start-up', async () => {
    const id = await upload(null, 10);
    await appendFile(join(dir, id), Buffer.alloc(90, 2));
    await leaveLock(id, { pid: await deadPid(), host: PROCESS_HOST });
    const restarted = new FileStorageBackend({ directory: dir });
    await restarted.init();
    expect((await readdir(dir)).includes(`${id}.lock`)).toBe(false);
    expect((await restarted.get(id)).offset).toBe(100);
  });

  it('cuts off a chunk that was to be verified whole (Upload-Checksum) and never was', async () => {
    const id = await upload(1000, 100);
    await appendFile(join(dir, id), Buffer.alloc(250, 2));
    await writeFile(join(dir, `${id}.unverified`), '');
    await leaveLock(id, { pid: await deadPid(), host: PROCESS_HOST });
    expect((await backend.get(id)).offset).toBe(100);
    expect(await dataSize(id)).toBe(100);
    expect((await readdir(dir)).includes(`${id}.unverified`)).toBe(false);
  });

  it('cuts off bytes past Upload-Length, and leaves a full upload for the module to finish', async () => {
    const id = await upload(300, 100);
    await appendFile(join(dir, id), Buffer.alloc(250, 2));
    await leaveLock(id, { pid: await deadPid(), host: PROCESS_HOST });
    const repaired = await backend.get(id);
    expect(repaired.offset).toBe(300);
    expect(repaired.completedAt).toBeNull();
    expect(await dataSize(id)).toBe(300);
  });

  it('a final whose assembly was cut short keeps no offset of its own: its assembly writes it anew', async () => {
    const id = `final${Math.random().toString(36).slice(2)}`;
    await backend.create({ id, length: 500, metadata: {}, metadataHeader: null, createdAt: new Date(), expiresAt: null, concat: { type: 'final', parts: ['a', 'b'], header: 'final;/files/a /files/b' } });
    await appendFile(join(dir, id), Buffer.alloc(120, 3));
    await leaveLock(id, { pid: await deadPid(), host: PROCESS_HOST });
    expect((await backend.get(id)).offset).toBe(0);
  });

  it('a lock taken over by a writer repairs before the writer reads the state', async () => {
    const id = await upload(1000, 100);
    await appendFile(join(dir, id), Buffer.alloc(50, 2));
    await leaveLock(id, { pid: await deadPid(), host: PROCESS_HOST });
    const release = await backend.lock(id);
    try {
      expect((await backend.get(id)).offset).toBe(150);
    } finally {
      await release();
    }
  });

  it('a writer that finds unrecorded bytes without a lock to take over (two takeovers raced) records them and answers 409', async () => {
    const id = await upload(1000, 100);
    await appendFile(join(dir, id), Buffer.alloc(250, 2));
    const stale = await backend.get(id);
    expect(stale.offset).toBe(100);
    const release = await backend.lock(id);
    try {
      const { Readable } = await import('node:stream');
      const chunk = { stream: Readable.from([Buffer.alloc(10, 9)]), stages: [], keepOnInterrupt: true, verify: async () => undefined };
      await expect(backend.write(stale, chunk)).rejects.toBeInstanceOf(OffsetMismatchError);
    } finally {
      await release();
    }
    expect((await backend.get(id)).offset).toBe(350);
    expect(await dataSize(id)).toBe(350);
  });

  it('never touches an upload whose writer lives (another process sharing the folder)', async () => {
    const id = await upload(1000, 100);
    await appendFile(join(dir, id), Buffer.alloc(250, 2));
    live = spawn('sleep', ['30']);
    await leaveLock(id, { pid: live.pid!, host: PROCESS_HOST });
    expect((await backend.get(id)).offset).toBe(100);
    expect(await dataSize(id)).toBe(350);
    const restarted = new FileStorageBackend({ directory: dir });
    await restarted.init();
    expect((await restarted.get(id)).offset).toBe(100);
    expect(await dataSize(id)).toBe(350);
  });

  it('another host\'s writer: left alone while its lock is fresh, repaired once it went stale', async () => {
    const id = await upload(1000, 100);
    await appendFile(join(dir, id), Buffer.alloc(250, 2));
    await leaveLock(id, { pid: process.pid, host: 'another-host' });
    expect((await backend.get(id)).offset).toBe(100);
    await leaveLock(id, { pid: process.pid, host: 'another-host' }, 31_000);
    expect((await backend.get(id)).offset).toBe(350);
  });
});
