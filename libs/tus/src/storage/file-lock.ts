import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { link, open, readFile, rename, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { UploadLockedError } from '../tus.errors.js';

/** Options of {@link acquireFileLock}. */
export interface FileLockOptions {
  /** How long to wait for a lock held by another process before giving up (423). */
  timeoutMs: number;
  /** A lock whose file was not touched for this long is taken over (its holder died). */
  staleMs: number;
  /** Called while the lock is held, when another process asks for it (`<lock>.release` appears). */
  onReleaseRequested?: () => void;
}

/** How often a waiter renews its request, and a holder looks for one. */
const RELEASE_POLL_MS = 100;

interface LockOwner {
  pid: number;
  host: string;
  token: string;
}

const HOST = hostname();

/**
 * An exclusive lock between processes that share a folder, as a file created with O_EXCL. The
 * holder touches the file while it holds it; a lock left by a dead process (same host: its pid is
 * gone; any host: its file went stale) is taken over. Returns the release function.
 */
export async function acquireFileLock(path: string, options: FileLockOptions): Promise<() => Promise<void>> {
  const owner: LockOwner = { pid: process.pid, host: HOST, token: randomBytes(8).toString('hex') };
  const deadline = Date.now() + options.timeoutMs;
  const releaseRequest = `${path}.release`;
  for (let attempt = 0; ; attempt++) {
    if (await tryCreate(path, owner)) break;
    if (await takeOverIfAbandoned(path, options.staleMs)) continue;
    if (Date.now() >= deadline) throw new UploadLockedError();
    // Ask the holder to let go: it does when its request has stalled (a client that lost its
    // connection and is now retrying through this process).
    await writeFile(releaseRequest, '').catch(() => undefined);
    // Short at first (a PATCH releases within milliseconds of its body's end), then backing off.
    await sleep(Math.min(5 * 2 ** attempt, RELEASE_POLL_MS));
  }
  const heartbeat = setInterval(() => {
    const now = new Date();
    utimes(path, now, now).catch(() => undefined);
  }, Math.max(options.staleMs / 3, 50));
  heartbeat.unref();
  const { onReleaseRequested } = options;
  const listener =
    onReleaseRequested &&
    setInterval(() => {
      unlink(releaseRequest).then(onReleaseRequested, () => undefined);
    }, RELEASE_POLL_MS);
  listener?.unref();
  return async () => {
    clearInterval(heartbeat);
    clearInterval(listener);
    await unlink(path).catch(() => undefined);
  };
}

async function tryCreate(path: string, owner: LockOwner): Promise<boolean> {
  try {
    const handle = await open(path, 'wx');
    try {
      await handle.writeFile(JSON.stringify(owner));
    } finally {
      await handle.close();
    }
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

async function takeOverIfAbandoned(path: string, staleMs: number): Promise<boolean> {
  let content: string;
  let mtimeMs: number;
  try {
    [content, { mtimeMs }] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
  } catch {
    return true; // released between our attempts: try again at once
  }
  let holder: Partial<LockOwner> = {};
  try {
    holder = JSON.parse(content) as LockOwner;
  } catch {
    // A holder that died between creating and writing the file leaves it empty: staleness decides.
  }
  const deadProcess = holder.host === HOST && typeof holder.pid === 'number' && !isAlive(holder.pid);
  if (!deadProcess && Date.now() - mtimeMs < staleMs) return false;
  // Move the abandoned file aside rather than unlinking it: of two processes taking over, only
  // one rename succeeds, and if what was moved is not what was judged abandoned, it is put back.
  const aside = `${path}.${randomBytes(6).toString('hex')}.stale`;
  try {
    await rename(path, aside);
  } catch {
    return true;
  }
  const moved = await readFile(aside, 'utf8').catch(() => '');
  if (moved !== content) await link(aside, path).catch(() => undefined);
  await unlink(aside).catch(() => undefined);
  return true;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
