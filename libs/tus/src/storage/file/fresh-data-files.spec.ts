import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { appendFile, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { UploadNotFoundError } from '../../errors/tus.errors.js';
import type { NewUpload } from '../../protocol/upload-info.js';
import { PROCESS_HOST } from '../process-identity.js';
import type { ChunkSource } from '../tus-storage-backend.interface.js';
import { FileStorageBackend } from './file-storage.backend.js';

const run = promisify(execFile);

const newUpload = (length: number | null): NewUpload => ({
  id: `fresh${Math.random().toString(36).slice(2)}`,
  length,
  metadata: {},
  metadataHeader: null,
  createdAt: new Date(),
  expiresAt: null,
  concat: null,
});

const chunkOf = (bytes: Buffer, verify: ChunkSource['verify'] = async () => undefined): ChunkSource => ({
  stream: Readable.from([bytes]),
  stages: [],
  keepOnInterrupt: true,
  verify,
});

/**
 * An upload created under this process's lock (creation-with-upload, an empty upload) is recorded
 * once, by its first write: before it, the upload exists for this process alone (no `.info`), and a
 * crash meanwhile leaves nothing that survives the next start-up.
 */
describe('file backend: an upload created under the lock is recorded by its first write', () => {
  let dir: string;
  let backend: FileStorageBackend;
  /** Another process sharing the folder. */
  let other: FileStorageBackend;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nestjs-tus-fresh-'));
    backend = new FileStorageBackend({ directory: dir });
    other = new FileStorageBackend({ directory: dir });
    await backend.init();
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const names = async (id: string) => (await readdir(dir)).filter((name) => name.startsWith(id)).sort();

  it('writes no .info at creation; the first write records the offset it reached, once', async () => {
    const created = newUpload(10);
    const release = await backend.lock(created.id);
    try {
      const upload = await backend.create(created);
      expect(await names(created.id)).toEqual([created.id, `${created.id}.lock`]);
      // This process knows it; another one does not yet (nor could its clients: no 201 was sent).
      expect((await backend.get(created.id)).offset).toBe(0);
      await expect(other.get(created.id)).rejects.toBeInstanceOf(UploadNotFoundError);
      const written = await backend.write(upload, chunkOf(Buffer.from('0123456789')));
      expect(written.offset).toBe(10);
      expect(written.completedAt).toBeInstanceOf(Date);
    } finally {
      await release();
    }
    expect(await names(created.id)).toEqual([created.id, `${created.id}.info`]);
    expect((await other.get(created.id)).offset).toBe(10);
  });

  it('a chunk that is refused leaves the upload as created: recorded at offset 0', async () => {
    const created = newUpload(4);
    const release = await backend.lock(created.id);
    try {
      const upload = await backend.create(created);
      const vetoed = chunkOf(Buffer.from('abcd'), async () => {
        throw new Error('vetoed');
      });
      await expect(backend.write(upload, vetoed)).rejects.toThrow('vetoed');
    } finally {
      await release();
    }
    expect((await other.get(created.id)).offset).toBe(0);
  });

  it('created under the lock and never written: recorded when the lock is released', async () => {
    const created = newUpload(4);
    const release = await backend.lock(created.id);
    await backend.create(created);
    await release();
    expect((await other.get(created.id)).offset).toBe(0);
  });

  it('removed before its first write: nothing is left, nothing is recorded at release', async () => {
    const created = newUpload(4);
    const release = await backend.lock(created.id);
    const upload = await backend.create(created);
    await backend.remove(upload);
    await release();
    expect(await names(created.id)).toEqual([]);
  });

  it('a creation whose process died mid-chunk (a data file, no .info, a dead holder\'s lock) is removed at the next start-up', async () => {
    const id = newUpload(1000).id;
    await writeFile(join(dir, id), '');
    await appendFile(join(dir, id), Buffer.alloc(300, 7));
    const dead = Number((await run('sh', ['-c', 'echo $$'])).stdout.trim());
    await writeFile(join(dir, `${id}.lock`), JSON.stringify({ pid: dead, host: PROCESS_HOST, token: 'dead' }));
    // Unknown to any process meanwhile: a 404, not an error.
    await expect(backend.get(id)).rejects.toBeInstanceOf(UploadNotFoundError);
    const restarted = new FileStorageBackend({ directory: dir });
    await restarted.init();
    expect(await names(id)).toEqual([]);
  });

  it('... and by a listing (the expiry sweep) of a process that keeps running; a live creator is left alone', async () => {
    const dead = Number((await run('sh', ['-c', 'echo $$'])).stdout.trim());
    const gone = newUpload(1000).id;
    await writeFile(join(dir, gone), Buffer.alloc(300, 7));
    await writeFile(join(dir, `${gone}.lock`), JSON.stringify({ pid: dead, host: PROCESS_HOST, token: 'dead' }));
    const live = newUpload(10);
    const release = await other.lock(live.id);
    try {
      await other.create(live);
      const listed = [];
      for await (const upload of backend.list()) listed.push(upload.id);
      expect(listed).toEqual([]);
      expect(await names(gone)).toEqual([]);
      expect(await names(live.id)).toEqual([live.id, `${live.id}.lock`]);
    } finally {
      await release();
    }
    expect((await backend.get(live.id)).offset).toBe(0);
  });
});
