import { createReadStream, createWriteStream } from 'node:fs';
import { type FileHandle, mkdir, open, readdir, rename, stat, truncate, unlink, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DEFAULT_LOCK_STALE_MS, DEFAULT_LOCK_TIMEOUT_MS } from '../lock-timing.js';
import { InsufficientStorageError, InvalidRequestError, OffsetMismatchError, UploadLockedError, UploadNotFoundError } from '../../errors/tus.errors.js';
import { isValidUploadId } from '../../protocol/upload-id.js';
import type { NewUpload, UploadInfo } from '../../protocol/upload-info.js';
import { keepsBytesAfter } from '../chunk-outcome.js';
import { pumpChunk } from '../chunk-pump.js';
import { recoverCrashedWrites, repairCrashedWrite } from './file-crash-recovery.js';
import { checkFolderWritable } from './file-health.js';
import { isAbandonedLock } from './abandoned-file-lock.js';
import { acquireFileLock } from './file-lock.js';
import { LockOwnerFile } from './lock-owner-file.js';
import { uniqueSuffix } from '../unique-suffix.js';
import { KeyedMutex } from '../keyed-mutex.js';
import type { ChunkSource, ReleaseLock, TusStorageBackend, UploadChanges } from '../tus-storage-backend.interface.js';
import { decodeUploadInfo, encodeUploadInfo, type StoredUploadInfo } from '../upload-info.codec.js';

/** Options of {@link FileStorageBackend}. */
export interface FileStorageOptions {
  /** Folder of the uploads; created at start-up when missing. */
  directory: string;
  /**
   * How long a request waits for an upload held by another request (this or another process)
   * before answering 423.
   * @default 3000
   */
  lockTimeoutMs?: number;
  /**
   * A lock file untouched for this long belongs to a crashed process and is taken over.
   * Holders touch their lock every third of this.
   * @default 30000
   */
  lockStaleMs?: number;
}

/**
 * Stores each upload as three files in one folder: `<id>` (the bytes), `<id>.info` (the state, as
 * JSON, replaced atomically by rename) and `<id>.lock` (held while a request writes: a hard link to
 * the process's `.tus-lock-owner-<token>` file, which says who holds it), plus `<id>.unverified`
 * while a chunk that must be verified whole is written. Safe for several processes sharing the
 * folder: writers are serialised by the lock file, and readers see either the old or the new
 * `.info`. A writer killed mid-chunk leaves its lock behind; whoever takes it over keeps the bytes
 * that reached the disk and records them (see {@link repairCrashedWrite}).
 */
export class FileStorageBackend implements TusStorageBackend {
  readonly readsUnfinished = true;
  /** Absolute path of the upload folder. */
  readonly directory: string;
  private readonly lockTimeoutMs: number;
  private readonly lockStaleMs: number;
  private readonly localLocks = new KeyedMutex();
  private readonly lockOwner: LockOwnerFile;
  /** Data files created under a lock this process holds, open for their first chunk. */
  private readonly fresh = new Map<string, FileHandle>();

  constructor(options: FileStorageOptions) {
    this.directory = resolve(options.directory);
    this.lockTimeoutMs = options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
    this.lockStaleMs = options.lockStaleMs ?? DEFAULT_LOCK_STALE_MS;
    this.lockOwner = new LockOwnerFile(this.directory, this.lockStaleMs);
  }

  async init(): Promise<void> {
    await mkdir(this.directory, { recursive: true });
    await this.lockOwner.create();
    await this.lockOwner.removeAbandoned().catch(() => undefined);
    await recoverCrashedWrites({
      directory: this.directory,
      takeAbandonedLock: (id) =>
        this.acquire(id, 0).catch((error: unknown) => {
          if (error instanceof UploadLockedError) return null;
          throw error;
        }),
    });
  }

  /** Reachable and writable: the folder takes a probe file. */
  checkHealth(): Promise<void> {
    return checkFolderWritable(this.directory);
  }

  async create(upload: NewUpload): Promise<UploadInfo> {
    const path = this.dataPath(upload.id);
    let handle: FileHandle;
    try {
      handle = await open(path, 'wx');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new InvalidRequestError(`Upload ${upload.id} already exists`);
      }
      throw storageError(error);
    }
    try {
      const info: UploadInfo = { ...upload, offset: 0, completedAt: null, storage: { type: 'file', path } };
      await this.saveInfo(info);
      // Created under this process's lock (creation-with-upload): the first chunk goes straight
      // into this descriptor, on a file known to be empty. Closed by write(), remove() or release.
      if (this.localLocks.isLocked(upload.id) && !this.fresh.has(upload.id)) {
        this.fresh.set(upload.id, handle);
      } else {
        await handle.close();
      }
      return info;
    } catch (error) {
      await handle.close().catch(() => undefined);
      // No .info (a full disk): the data file would be an upload no one can reach.
      await unlink(path).catch(() => undefined);
      throw storageError(error);
    }
  }

  async get(id: string): Promise<UploadInfo> {
    const upload = await this.readInfo(id);
    if (upload.completedAt !== null || this.localLocks.isLocked(id)) return upload;
    // A lock whose holder died (another process sharing the folder, killed mid-write): the bytes it
    // stored are repaired into the state now, so that the first HEAD after a crash answers them.
    if (!(await isAbandonedLock(this.lockPath(id), this.lockStaleMs))) return upload;
    try {
      await (await this.acquire(id, 0))();
    } catch (error) {
      // Taken meanwhile, by a live request (which repairs it itself): the state as read.
      if (error instanceof UploadLockedError) return upload;
      throw error;
    }
    return this.readInfo(id);
  }

  lock(id: string, onReleaseRequested?: () => void): Promise<ReleaseLock> {
    return this.acquire(id, this.lockTimeoutMs, onReleaseRequested);
  }

  /** {@link lock} with a timeout of its own; a lock taken over from a dead holder is repaired before it is returned. */
  private async acquire(id: string, timeoutMs: number, onReleaseRequested?: () => void): Promise<ReleaseLock> {
    const started = Date.now();
    const releaseLocal = await this.localLocks.acquire(id, timeoutMs);
    let releaseFile;
    try {
      releaseFile = await acquireFileLock(this.lockPath(id), {
        timeoutMs: Math.max(timeoutMs - (Date.now() - started), 0),
        staleMs: this.lockStaleMs,
        onReleaseRequested,
        owner: this.lockOwner,
      });
    } catch (error) {
      releaseLocal();
      throw error;
    }
    const release = async () => {
      await this.closeFresh(id);
      await releaseFile();
      releaseLocal();
    };
    if (releaseFile.tookOver) {
      try {
        await repairCrashedWrite(this.repairAccess, id);
      } catch (error) {
        await release();
        throw storageError(error);
      }
    }
    return release;
  }

  private readonly repairAccess = {
    get: (id: string) => this.readInfo(id),
    saveInfo: (upload: UploadInfo) => this.saveInfo(upload),
    dataPath: (id: string) => this.dataPath(id),
    unverifiedPath: (id: string) => this.unverifiedPath(id),
  };

  async update(upload: UploadInfo, changes: UploadChanges): Promise<UploadInfo> {
    const next = { ...upload, ...changes };
    await this.saveInfo(next);
    return next;
  }

  async write(upload: UploadInfo, chunk: ChunkSource, changes: UploadChanges = {}): Promise<UploadInfo> {
    const path = this.dataPath(upload.id);
    const fresh = upload.offset === 0 ? this.takeFresh(upload.id) : undefined;
    // Bytes past the recorded offset that no repair recorded (only a race of two processes taking
    // over a dead writer's lock leaves them): repaired now like any crashed write, and when that
    // moves the offset, the client is told to ask again (409) and sends only what is missing.
    // (A file this process just created under its lock is empty.)
    if (fresh === undefined && (await stat(path)).size > upload.offset) {
      await repairCrashedWrite(this.repairAccess, upload.id).catch((error: unknown) => {
        throw storageError(error);
      });
      const repaired = await this.readInfo(upload.id);
      if (repaired.offset !== upload.offset) {
        throw new OffsetMismatchError(`The upload is at offset ${repaired.offset}: read it again`);
      }
      // Nothing was kept (an unverified chunk, bytes past the length): cut back, the write goes on.
    }
    // A chunk verified only at its end: marked while it is written, so that a crash mid-chunk cuts
    // it off instead of keeping bytes no one verified (repairCrashedWrite).
    const unverified = chunk.keepOnInterrupt ? undefined : this.unverifiedPath(upload.id);
    if (unverified !== undefined) {
      try {
        await writeFile(unverified, '');
      } catch (error) {
        await fresh?.close();
        throw storageError(error);
      }
    }
    try {
      return await this.writeChunk(upload, path, fresh, chunk, changes);
    } finally {
      if (unverified !== undefined) await unlink(unverified).catch(() => undefined);
    }
  }

  private async writeChunk(upload: UploadInfo, path: string, fresh: FileHandle | undefined, chunk: ChunkSource, changes: UploadChanges): Promise<UploadInfo> {
    // The fresh descriptor goes in as a number and is closed here: a stream that owns a FileHandle
    // ends itself again when the handle closes, which costs an error object per request.
    const sink = createWriteStream(path, {
      fd: fresh?.fd,
      autoClose: fresh === undefined,
      flags: 'r+',
      start: upload.offset,
      highWaterMark: 1 << 20,
    });
    let failure: unknown;
    try {
      failure = await pumpChunk(chunk, sink);
    } catch (error) {
      // The file itself failed (a full disk: 507, whose chunk is discarded like a refused one).
      failure = storageError(error);
    } finally {
      await fresh?.close();
    }
    const stored = sink.bytesWritten;
    let kept = failure === undefined || keepsBytesAfter(failure, chunk) ? stored : 0;
    if (failure === undefined) {
      try {
        await chunk.verify(upload.offset + stored);
      } catch (error) {
        failure = error;
        kept = 0;
      }
    }
    // On any failure cut the file back to what is kept: nothing past the new offset survives.
    if (failure !== undefined) await truncate(path, upload.offset + kept);
    let next = upload;
    if (kept > 0 || failure === undefined) {
      next = { ...upload, ...changes, offset: upload.offset + kept };
      if (next.completedAt === null && next.offset === next.length) next.completedAt = new Date();
      try {
        await this.saveInfo(next);
      } catch (error) {
        // Not recorded (the chunk filled the disk): its bytes go, so that the data file never
        // holds more than .info counts.
        await truncate(path, upload.offset).catch(() => undefined);
        throw storageError(error);
      }
    }
    if (failure !== undefined) throw failure;
    return next;
  }

  async concatenate(upload: NewUpload | UploadInfo, parts: UploadInfo[]): Promise<UploadInfo> {
    const path = this.dataPath(upload.id);
    // A final created earlier (concatenation-unfinished) has its (empty) data file already.
    const sink = createWriteStream(path, { flags: 'storage' in upload ? 'w' : 'wx', highWaterMark: 1 << 20 });
    try {
      for (const part of parts) await pipeline(createReadStream(this.dataPath(part.id)), sink, { end: false });
      sink.end();
      await once(sink, 'close');
    } catch (error) {
      sink.destroy();
      await unlink(path).catch(() => undefined);
      throw storageError(error);
    }
    const length = parts.reduce((sum, part) => sum + part.offset, 0);
    const info: UploadInfo = {
      ...upload,
      length,
      offset: length,
      completedAt: new Date(),
      storage: { type: 'file', path },
    };
    try {
      await this.saveInfo(info);
    } catch (error) {
      // A new final without its .info would be bytes no one can reach.
      if (!('storage' in upload)) await unlink(path).catch(() => undefined);
      throw error;
    }
    return info;
  }

  async remove(upload: UploadInfo): Promise<void> {
    await this.closeFresh(upload.id);
    // .info first: once it is gone the upload is unknown, whatever happens to the data file.
    await unlink(this.infoPath(upload.id)).catch(ignoreMissing);
    await unlink(this.dataPath(upload.id)).catch(ignoreMissing);
    await unlink(this.unverifiedPath(upload.id)).catch(() => undefined);
    // A waiter's request to the holder that no holder read.
    await unlink(`${this.lockPath(upload.id)}.release`).catch(() => undefined);
  }

  async createReadStream(upload: UploadInfo, range: { start?: number; end?: number } = {}): Promise<Readable> {
    // Opened before the answer starts: a DELETE racing the download makes it a 404, or comes too
    // late to cut it short (an open file outlives its name). Opened lazily by the stream, the
    // file could be gone by then: a 500 in mid-answer (found by the HTTP fuzz).
    let handle: FileHandle;
    try {
      handle = await open(this.dataPath(upload.id), 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new UploadNotFoundError();
      throw error;
    }
    return handle.createReadStream({ start: range.start, end: range.end });
  }

  async *list(): AsyncIterable<UploadInfo> {
    for (const name of await readdir(this.directory)) {
      if (!name.endsWith('.info')) continue;
      const id = name.slice(0, -'.info'.length);
      if (!isValidUploadId(id)) continue;
      try {
        yield await this.get(id);
      } catch (error) {
        if (!(error instanceof UploadNotFoundError)) throw error;
      }
    }
  }

  private async readInfo(id: string): Promise<UploadInfo> {
    let text: string;
    try {
      text = await readSmallFile(this.infoPath(id));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new UploadNotFoundError();
      throw error;
    }
    return decodeUploadInfo(JSON.parse(text) as StoredUploadInfo);
  }

  private takeFresh(id: string): FileHandle | undefined {
    const handle = this.fresh.get(id);
    this.fresh.delete(id);
    return handle;
  }

  private async closeFresh(id: string): Promise<void> {
    await this.takeFresh(id)?.close().catch(() => undefined);
  }

  private async saveInfo(upload: UploadInfo): Promise<void> {
    const target = this.infoPath(upload.id);
    // Unique among processes sharing the folder (a random prefix per process) and within this one.
    const temporary = `${target}.${uniqueSuffix()}.tmp`;
    try {
      await writeFile(temporary, JSON.stringify(encodeUploadInfo(upload)));
      await rename(temporary, target);
    } catch (error) {
      // Half written (a full disk): .info itself is untouched, and the remnant must not take space.
      await unlink(temporary).catch(() => undefined);
      throw storageError(error);
    }
  }

  private dataPath(id: string): string {
    return join(this.directory, id);
  }

  private unverifiedPath(id: string): string {
    return join(this.directory, `${id}.unverified`);
  }

  private infoPath(id: string): string {
    return join(this.directory, `${id}.info`);
  }

  private lockPath(id: string): string {
    return join(this.directory, `${id}.lock`);
  }
}

/** An `.info` fits in one read of this size, nearly always (a long `Upload-Metadata` may not). */
const INFO_READ_SIZE = 16 * 1024;

/** `readFile` in three system calls (open, read, close) rather than four: no `fstat` for the size. */
async function readSmallFile(path: string): Promise<string> {
  const handle = await open(path, 'r');
  try {
    let buffer = Buffer.allocUnsafe(INFO_READ_SIZE);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length < buffer.length) {
        // A short read of a regular file is its end, unless the file grew meanwhile (it cannot:
        // `.info` is replaced whole by rename, never written in place).
        break;
      }
      const larger = Buffer.allocUnsafe(buffer.length * 2);
      buffer.copy(larger, 0, 0, length);
      buffer = larger;
    }
    return buffer.toString('utf8', 0, length);
  } finally {
    await handle.close();
  }
}

/** A full disk or an exhausted quota is the 507 of the catalogue; any other error stays what it is. */
function storageError(error: unknown): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code !== 'ENOSPC' && code !== 'EDQUOT') return error;
  return Object.assign(new InsufficientStorageError(), { cause: error });
}

function ignoreMissing(error: NodeJS.ErrnoException): void {
  if (error.code !== 'ENOENT') throw error;
}
