import { KeyedMutex } from '../keyed-mutex.js';
import type { ReleaseLock } from '../tus-storage-backend.interface.js';
import { isAbandonedLock } from './abandoned-file-lock.js';
import { acquireFileLock } from './file-lock.js';
import type { FilePaths } from './file-paths.js';
import { LockOwnerFile } from './lock-owner-file.js';

/** What the file backend does around its locks. */
export interface FileUploadLockHooks {
  /** Repairs what a dead holder left, before a lock taken over from it is handed out. */
  repair(id: string): Promise<void>;
  /** Runs at every release, before the lock is let go. */
  beforeRelease(id: string): Promise<void>;
}

/**
 * The file backend's upload locks: a {@link KeyedMutex} in front (requests of this process queue in
 * memory), then the `<id>.lock` file that processes sharing the folder contend for
 * ({@link acquireFileLock}, as hard links to this process's {@link LockOwnerFile}).
 */
export class FileUploadLocks {
  private readonly local = new KeyedMutex();
  private readonly owner: LockOwnerFile;

  constructor(
    private readonly paths: FilePaths,
    private readonly staleMs: number,
    private readonly hooks: FileUploadLockHooks,
  ) {
    this.owner = new LockOwnerFile(paths.directory, staleMs);
  }

  /** At start-up: writes this process's owner file, removes those dead processes of this host left. */
  async prepare(): Promise<void> {
    await this.owner.create();
    await this.owner.removeAbandoned().catch(() => undefined);
  }

  /** Whether a request of this process holds the upload. */
  isHeldHere(id: string): boolean {
    return this.local.isLocked(id);
  }

  /** Whether the upload's lock file was left by a holder that no longer runs. */
  isAbandoned(id: string): Promise<boolean> {
    return isAbandonedLock(this.paths.lock(id), this.staleMs);
  }

  /** Takes the upload within `timeoutMs`; a lock taken over from a dead holder is repaired before it is returned. */
  async acquire(id: string, timeoutMs: number, onReleaseRequested?: () => void): Promise<ReleaseLock> {
    const started = Date.now();
    const releaseLocal = await this.local.acquire(id, timeoutMs);
    let releaseFile;
    try {
      releaseFile = await acquireFileLock(this.paths.lock(id), {
        timeoutMs: Math.max(timeoutMs - (Date.now() - started), 0),
        staleMs: this.staleMs,
        onReleaseRequested,
        owner: this.owner,
      });
    } catch (error) {
      releaseLocal();
      throw error;
    }
    const release = async () => {
      await this.hooks.beforeRelease(id);
      await releaseFile();
      releaseLocal();
    };
    if (releaseFile.tookOver) {
      try {
        await this.hooks.repair(id);
      } catch (error) {
        await release();
        throw error;
      }
    }
    return release;
  }
}
