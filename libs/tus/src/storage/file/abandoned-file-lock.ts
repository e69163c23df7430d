import { existsSync } from 'node:fs';
import { link, readFile, rename, stat, unlink } from 'node:fs/promises';
import { isDeadHere, parseHolder, PROCESS_HOST } from '../process-identity.js';
import { uniqueSuffix } from '../unique-suffix.js';
import type { LockOwner } from './lock-owner-file.js';
import { readSmallFile } from './read-small-file.js';

/**
 * Whether the lock at `path` was left by a holder that no longer runs: a process of this host (and
 * pid namespace) that is gone, or, on any host, a lock not touched for `staleMs`. False when there
 * is no lock.
 */
export async function isAbandonedLock(path: string, staleMs: number): Promise<boolean> {
  // Asked at every HEAD of an unfinished upload, which nearly always has no lock: one access() on
  // the event loop (a local folder answers in microseconds) rather than a failed open through the
  // thread pool and the error object it builds.
  if (!existsSync(path)) return false;
  let content: string;
  try {
    content = await readSmallFile(path);
  } catch {
    return false;
  }
  const holder = parseHolder<LockOwner>(content);
  if (holder.host === PROCESS_HOST && typeof holder.pid === 'number') return isDeadHere(holder);
  const mtimeMs = await stat(path).then((stats) => stats.mtimeMs, () => null);
  return mtimeMs !== null && Date.now() - mtimeMs >= staleMs;
}

/** `moved`: an abandoned lock was moved aside; `gone`: no lock any more; `held`: its holder lives. */
export async function takeOverIfAbandoned(path: string, staleMs: number): Promise<'moved' | 'gone' | 'held'> {
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
