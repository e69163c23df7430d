import { type FileHandle, mkdir, open, readdir, unlink } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { DEFAULT_LOCK_STALE_MS, DEFAULT_LOCK_TIMEOUT_MS } from '../lock-timing.js';
import { InvalidRequestError, UploadLockedError, UploadNotFoundError } from '../../errors/tus.errors.js';
import type { NewUpload, UploadInfo } from '../../protocol/upload-info.js';
import type { ChunkSource, ReleaseLock, TusStorageBackend, UploadChanges } from '../tus-storage-backend.interface.js';
import { listUploads } from '../upload-listing.js';
import { isValidUploadId } from '../../protocol/upload-id.js';
import { type ChunkWriteAccess, writeChunk } from './file-chunk-write.js';
import { concatenateFiles } from './file-concatenation.js';
import { recoverCrashedWrites } from './file-crash-recovery.js';
import { checkFolderWritable } from './file-health.js';
import { FileInfoRecord } from './file-info-record.js';
import { FilePaths } from './file-paths.js';
import { crashRepairOf } from './file-repair-access.js';
import { storageError } from './file-storage-error.js';
import type { FileStorageOptions } from './file-storage.options.js';
import { FileUploadLocks } from './file-upload-locks.js';
import { FreshDataFiles } from './fresh-data-files.js';
import { closeFd, openFd } from './fd.js';

export type { FileStorageOptions };

/**
 * Stores each upload as three files in one folder: `<id>` (the bytes), `<id>.info` (the state, as
 * JSON, replaced atomically by rename) and `<id>.lock` (held while a request writes: a hard link to
 * the process's `.tus-lock-owner-<token>` file, which says who holds it), plus `<id>.unverified`
 * while a chunk that must be verified whole is written. Safe for several processes sharing the
 * folder: writers are serialised by the lock file, and readers see either the old or the new
 * `.info`. A writer killed mid-chunk leaves its lock behind; whoever takes it over keeps the bytes
 * that reached the disk and records them (see repairCrashedWrite).
 */
export class FileStorageBackend implements TusStorageBackend {
  readonly readsUnfinished = true;
  /** Absolute path of the upload folder. */
  readonly directory: string;
  private readonly lockTimeoutMs: number;
  private readonly paths: FilePaths;
  private readonly info: FileInfoRecord;
  private readonly locks: FileUploadLocks;
  private readonly fresh = new FreshDataFiles();
  private readonly chunkWrites: ChunkWriteAccess;

  constructor(options: FileStorageOptions) {
    this.directory = resolve(options.directory);
    this.lockTimeoutMs = options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
    this.paths = new FilePaths(this.directory);
    this.info = new FileInfoRecord(this.paths);
    const repair = crashRepairOf(this.paths, this.info);
    this.locks = new FileUploadLocks(this.paths, options.lockStaleMs ?? DEFAULT_LOCK_STALE_MS, {
      repair,
      beforeRelease: (id) => this.recordUnwritten(id),
    });
    this.chunkWrites = { paths: this.paths, info: this.info, repair };
  }

  async init(): Promise<void> {
    await mkdir(this.directory, { recursive: true });
    await this.locks.prepare();
    await recoverCrashedWrites({
      directory: this.directory,
      takeAbandonedLock: (id) =>
        this.locks.acquire(id, 0).catch((error: unknown) => {
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
    const path = this.paths.data(upload.id);
    let fd: number;
    try {
      fd = await openFd(path, 'wx');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new InvalidRequestError(`Upload ${upload.id} already exists`);
      }
      throw storageError(error);
    }
    const info: UploadInfo = { ...upload, offset: 0, completedAt: null, storage: { type: 'file', path } };
    // Created under this process's lock (creation-with-upload, an empty upload): its first write
    // goes straight into this descriptor and records .info once (see FreshDataFiles).
    if (this.locks.isHeldHere(upload.id) && !this.fresh.has(upload.id)) {
      this.fresh.keep(upload.id, { fd, upload: info });
      return info;
    }
    try {
      await this.info.save(info);
      return info;
    } catch (error) {
      // No .info (a full disk): the data file would be an upload no one can reach.
      await unlink(path).catch(() => undefined);
      throw error;
    } finally {
      await closeFd(fd).catch(() => undefined);
    }
  }

  async get(id: string): Promise<UploadInfo> {
    const fresh = this.fresh.state(id);
    if (fresh !== undefined) return { ...fresh };
    const upload = await this.info.read(id);
    if (upload.completedAt !== null || this.locks.isHeldHere(id)) return upload;
    // A lock whose holder died (another process sharing the folder, killed mid-write): the bytes it
    // stored are repaired into the state now, so that the first HEAD after a crash answers them.
    if (!(await this.locks.isAbandoned(id))) return upload;
    try {
      await (await this.locks.acquire(id, 0))();
    } catch (error) {
      // Taken meanwhile, by a live request (which repairs it itself): the state as read.
      if (error instanceof UploadLockedError) return upload;
      throw error;
    }
    return this.info.read(id);
  }

  lock(id: string, onReleaseRequested?: () => void): Promise<ReleaseLock> {
    return this.locks.acquire(id, this.lockTimeoutMs, onReleaseRequested);
  }

  async update(upload: UploadInfo, changes: UploadChanges): Promise<UploadInfo> {
    const next = { ...upload, ...changes };
    await this.info.save(next);
    return next;
  }

  async write(upload: UploadInfo, chunk: ChunkSource, changes: UploadChanges = {}): Promise<UploadInfo> {
    const fresh = upload.offset === 0 ? this.fresh.take(upload.id) : undefined;
    return writeChunk(this.chunkWrites, upload, fresh?.fd, chunk, changes);
  }

  concatenate(upload: NewUpload | UploadInfo, parts: UploadInfo[]): Promise<UploadInfo> {
    return concatenateFiles(this.paths, this.info, upload, parts);
  }

  async remove(upload: UploadInfo): Promise<void> {
    await this.fresh.drop(upload.id);
    // .info first: once it is gone the upload is unknown, whatever happens to the data file.
    await unlink(this.paths.info(upload.id)).catch(ignoreMissing);
    await unlink(this.paths.data(upload.id)).catch(ignoreMissing);
    await unlink(this.paths.unverified(upload.id)).catch(() => undefined);
    // A waiter's request to the holder that no holder read.
    await unlink(`${this.paths.lock(upload.id)}.release`).catch(() => undefined);
  }

  async createReadStream(upload: UploadInfo, range: { start?: number; end?: number } = {}): Promise<Readable> {
    // Opened before the answer starts: a DELETE racing the download makes it a 404, or comes too
    // late to cut it short (an open file outlives its name). Opened lazily by the stream, the
    // file could be gone by then: a 500 in mid-answer (found by the HTTP fuzz).
    let handle: FileHandle;
    try {
      handle = await open(this.paths.data(upload.id), 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new UploadNotFoundError();
      throw error;
    }
    return handle.createReadStream({ start: range.start, end: range.end });
  }

  /**
   * At the release of a lock: an upload created under it and never written is recorded now, as a
   * creation without its first chunk would have been (nothing in the module does that today).
   */
  private async recordUnwritten(id: string): Promise<void> {
    const fresh = this.fresh.take(id);
    if (fresh === undefined) return;
    try {
      await this.info.save(fresh.upload);
    } catch (error) {
      await unlink(this.paths.data(id)).catch(() => undefined);
      throw error;
    } finally {
      await closeFd(fresh.fd).catch(() => undefined);
    }
  }

  async *list(): AsyncIterable<UploadInfo> {
    const names = await readdir(this.directory);
    await this.removeDeadCreations(names);
    yield* listUploads(names, '', (id) => this.get(id));
  }

  /**
   * Creations whose process died before their first chunk was recorded (a data file and a lock, no
   * `.info`: see FreshDataFiles) are removed by the next start-up on the folder; a listing (the
   * expiry sweep) removes them too, so that a folder whose dead process never restarts does not
   * keep their bytes. A live creator's lock is left alone.
   */
  private async removeDeadCreations(names: readonly string[]): Promise<void> {
    const known = new Set(names);
    for (const name of names) {
      if (!name.endsWith('.lock')) continue;
      const id = name.slice(0, -'.lock'.length);
      if (known.has(`${id}.info`) || !isValidUploadId(id) || this.locks.isHeldHere(id)) continue;
      if (!(await this.locks.isAbandoned(id).catch(() => false))) continue;
      // Taken over, the lock is repaired (a data file without .info is removed) and released.
      await this.locks
        .acquire(id, 0)
        .then((release) => release())
        .catch(() => undefined);
    }
  }
}

function ignoreMissing(error: NodeJS.ErrnoException): void {
  if (error.code !== 'ENOENT') throw error;
}
