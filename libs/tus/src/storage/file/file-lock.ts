import { randomBytes } from 'node:crypto';
import { unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { link, readdir, readFile, rename, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { UploadLockedError } from '../../errors/tus.errors.js';
import { isDeadHere, parseHolder, PROCESS_HOST } from '../process-identity.js';

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

interface LockOwner {
  pid: number;
  host: string;
  token: string;
}

const PROCESS_TOKEN = randomBytes(6).toString('hex');
let sequence = 0;

/**
 * A name part no other process sharing the folder (on any host) and no other call in this one
 * produces: a random token drawn once per process and a counter, without a random draw per call.
 */
export function uniqueSuffix(): string {
  sequence = (sequence + 1) % Number.MAX_SAFE_INTEGER;
  return `${PROCESS_TOKEN}${sequence.toString(36)}`;
}

/** Owner files start with this; the rest is the process's token. */
export const OWNER_PREFIX = '.tus-lock-owner-';

/**
 * One file per process and folder that says who holds the locks linked to it (the same JSON a lock
 * file of its own holds). Locks are hard links to it: taking one is a `link()` and releasing it an
 * `unlink()`, where a lock file of its own costs a file creation, a write and a close (and file
 * systems pay for creating and deleting inodes at a high rate). The holder's heartbeat touches this
 * one file while it holds any lock, which keeps all of them fresh: every link shares its mtime.
 */
export class LockOwnerFile {
  readonly path: string;
  private readonly content: string;
  private created: Promise<void> | undefined;
  /** False once `link()` failed for want of hard links: locks are then files of their own. */
  linkable = true;
  private holds = 0;
  private heartbeat: NodeJS.Timeout | undefined;
  private touchedAt = 0;

  constructor(
    directory: string,
    private readonly staleMs: number,
  ) {
    this.path = join(directory, `${OWNER_PREFIX}${PROCESS_TOKEN}`);
    this.content = JSON.stringify({ pid: process.pid, host: PROCESS_HOST, token: PROCESS_TOKEN } satisfies LockOwner);
  }

  /** Writes the file (once; again after it was removed). */
  async create(): Promise<void> {
    this.created ??= this.write().catch((error: unknown) => {
      this.created = undefined;
      throw error;
    });
    return this.created;
  }

  /** Links `path` to this file: true when the lock is taken, false when someone holds it. */
  async link(path: string): Promise<boolean> {
    await this.create();
    // Fresh before it is linked: a judge reads the lock's mtime, which is this file's.
    if (this.holds === 0 && Date.now() - this.touchedAt > this.staleMs / 3) await this.touch();
    try {
      await link(this.path, path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return false;
      if (code === 'ENOENT') {
        // The owner file was removed under us (a wiped folder): write it again and retry once.
        this.created = undefined;
        await this.create();
        try {
          await link(this.path, path);
        } catch (again) {
          if ((again as NodeJS.ErrnoException).code === 'EEXIST') return false;
          throw again;
        }
      } else if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'EMLINK' || code === 'EXDEV') {
        this.linkable = false;
        throw new LinkUnsupportedError();
      } else {
        throw error;
      }
    }
    if (++this.holds === 1) {
      this.heartbeat = setInterval(() => void this.touch(), Math.max(this.staleMs / 3, 50));
      this.heartbeat.unref();
    }
    return true;
  }

  /** Releases a lock taken with {@link link}. */
  async unlink(path: string): Promise<void> {
    if (--this.holds === 0) clearInterval(this.heartbeat);
    await unlink(path).catch(() => undefined);
  }

  private async touch(): Promise<void> {
    const now = new Date();
    this.touchedAt = now.getTime();
    await utimes(this.path, now, now).catch(() => undefined);
  }

  private async write(): Promise<void> {
    await writeFile(this.path, this.content);
    this.touchedAt = Date.now();
    ownerFiles.add(this.path);
    registerExitCleanup();
  }

  /** Removes the owner files of processes of this host that died without removing theirs. */
  async removeAbandoned(): Promise<void> {
    const directory = dirname(this.path);
    for (const name of await readdir(directory)) {
      if (!name.startsWith(OWNER_PREFIX) || name === basename(this.path)) continue;
      const path = join(directory, name);
      const owner = parseHolder<LockOwner>(await readFile(path, 'utf8').catch(() => ''));
      if (isDeadHere(owner)) await unlink(path).catch(() => undefined);
    }
  }
}

class LinkUnsupportedError extends Error {}

/** Owner files of this process, removed when it exits (a crashed one's go at the next start on its host). */
const ownerFiles = new Set<string>();
let exitCleanupRegistered = false;

function registerExitCleanup(): void {
  if (exitCleanupRegistered) return;
  exitCleanupRegistered = true;
  process.once('exit', () => {
    for (const path of ownerFiles) {
      try {
        unlinkSync(path);
      } catch {
        // Already gone with its folder.
      }
    }
  });
}

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


/**
 * Whether the lock at `path` was left by a holder that no longer runs: a process of this host (and
 * pid namespace) that is gone, or, on any host, a lock not touched for `staleMs`. False when there
 * is no lock.
 */
export async function isAbandonedLock(path: string, staleMs: number): Promise<boolean> {
  const content = await readFile(path, 'utf8').catch(() => null);
  if (content === null) return false;
  const holder = parseHolder<LockOwner>(content);
  if (holder.host === PROCESS_HOST && typeof holder.pid === 'number') return isDeadHere(holder);
  const mtimeMs = await stat(path).then((stats) => stats.mtimeMs, () => null);
  return mtimeMs !== null && Date.now() - mtimeMs >= staleMs;
}

/** `moved`: an abandoned lock was moved aside; `gone`: no lock any more; `held`: its holder lives. */
async function takeOverIfAbandoned(path: string, staleMs: number): Promise<'moved' | 'gone' | 'held'> {
  let content: string;
  let mtimeMs: number;
  try {
    [content, { mtimeMs }] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
  } catch {
    return 'gone'; // released between our attempts: try again at once
  }
  const holder = parseHolder<LockOwner>(content);
  const deadProcess = isDeadHere(holder);
  if (!deadProcess && Date.now() - mtimeMs < staleMs) return 'held';
  // Move the abandoned file aside rather than unlinking it: of two processes taking over, only
  // one rename succeeds, and if what was moved is not what was judged abandoned, it is put back.
  const aside = `${path}.${uniqueSuffix()}.stale`;
  try {
    await rename(path, aside);
  } catch {
    return 'gone';
  }
  const moved = await readFile(aside, 'utf8').catch(() => '');
  const putBack = moved !== content && (await link(aside, path).then(() => true, () => false));
  await unlink(aside).catch(() => undefined);
  return putBack ? 'gone' : 'moved';
}
