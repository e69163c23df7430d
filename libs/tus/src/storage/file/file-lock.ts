import { unlink, utimes, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { UploadLockedError } from '../../errors/tus.errors.js';
import { PROCESS_HOST } from '../process-identity.js';
import { uniqueSuffix } from '../unique-suffix.js';
import { takeOverIfAbandoned } from './abandoned-file-lock.js';
import { LinkUnsupportedError, type LockOwner, type LockOwnerFile } from './lock-owner-file.js';

/** Options of {@link acquireFileLock}. */
export interface FileLockOptions {
  /** How long to wait for a lock held by another process before giving up (423). */
  timeoutMs: number;
  /** A lock whose file was not touched for this long is taken over (its holder died). */
  staleMs: number;
  /** Called while the lock is held, when another process asks for it (`<lock>.release` appears). */
  onReleaseRequested?: () => void;
  /**
   * This process's owner file in the lock's folder: the lock is then a hard link to it, which
   * creates no file. Without it (or where the file system has no hard links) the lock is a file
   * of its own, created with O_EXCL.
   */
  owner?: LockOwnerFile;
}

/** How often a waiter renews its request, and a holder looks for one. */
const RELEASE_POLL_MS = 100;

/**
 * Releases a lock taken with {@link acquireFileLock}. `tookOver`: this acquisition moved aside a
 * lock whose holder died, so the state that holder was writing may need repair.
 */
export type FileLockRelease = (() => Promise<void>) & { readonly tookOver: boolean };

/**
 * An exclusive lock between processes that share a folder: a hard link to the process's
 * {@link LockOwnerFile} (or a file created with O_EXCL), which fails when the path exists. The
 * holder keeps the file's mtime fresh while it holds it; a lock left by a dead process (same host:
 * its pid is gone; any host: its file went stale) is taken over. Returns the release function.
 */
export async function acquireFileLock(path: string, options: FileLockOptions): Promise<FileLockRelease> {
  let { owner } = options;
  let ownToken = '';
  const deadline = Date.now() + options.timeoutMs;
  const releaseRequest = `${path}.release`;
  let asked = false;
  let tookOver = false;
  for (let attempt = 0; ; attempt++) {
    if (owner?.linkable) {
      try {
        if (await owner.link(path)) break;
      } catch (error) {
        if (!(error instanceof LinkUnsupportedError)) throw error;
      }
    }
    if (!owner?.linkable) {
      owner = undefined;
      ownToken ||= uniqueSuffix();
      if (await tryCreate(path, { pid: process.pid, host: PROCESS_HOST, token: ownToken })) break;
    }
    const takeOver = await takeOverIfAbandoned(path, options.staleMs);
    if (takeOver === 'moved') tookOver = true;
    if (takeOver !== 'held') continue;
    if (Date.now() >= deadline) throw new UploadLockedError();
    // Ask the holder to let go: it does when its request has stalled (a client that lost its
    // connection and is now retrying through this process).
    await writeFile(releaseRequest, '').catch(() => undefined);
    asked = true;
    // Short at first (a PATCH releases within milliseconds of its body's end), then backing off.
    await sleep(Math.min(5 * 2 ** attempt, RELEASE_POLL_MS));
  }
  // Our own request is answered. Left behind, it would outlive the upload when the holder lets go
  // before it reads it (a DELETE, then nothing holds the lock to remove it). A waiter still
  // waiting writes its own again at its next poll.
  if (asked) await unlink(releaseRequest).catch(() => undefined);
  // One timer, started only for holds that outlast a poll interval: a short request pays for none.
  const { onReleaseRequested } = options;
  let lastTouch = Date.now();
  const touchEvery = Math.max(options.staleMs / 3, 50);
  let timer: NodeJS.Timeout | undefined;
  const tick = () => {
    if (onReleaseRequested) unlink(releaseRequest).then(onReleaseRequested, () => undefined);
    // A lock of its own has its own heartbeat; a link is kept fresh by its owner file's.
    if (owner === undefined && Date.now() - lastTouch >= touchEvery) {
      lastTouch = Date.now();
      const now = new Date();
      utimes(path, now, now).catch(() => undefined);
    }
    timer = setTimeout(tick, onReleaseRequested ? RELEASE_POLL_MS : touchEvery);
    timer.unref();
  };
  if (onReleaseRequested || owner === undefined) {
    timer = setTimeout(tick, onReleaseRequested ? RELEASE_POLL_MS : touchEvery);
    timer.unref();
  }
  const held = owner;
  const release = async () => {
    clearTimeout(timer);
    if (held) await held.unlink(path);
    else await unlink(path).catch(() => undefined);
  };
  return Object.assign(release, { tookOver });
}

async function tryCreate(path: string, owner: LockOwner): Promise<boolean> {
  try {
    // One call: open with O_EXCL, write, close.
    await writeFile(path, JSON.stringify(owner), { flag: 'wx' });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}
