/** What a listing tells of a blob, as far as a sweep needs it. */
export interface ListedBlob {
  name: string;
  etag: string;
  /** A lease holds it (leased, or being broken). */
  leased: boolean;
  lastModified: Date;
}

/**
 * How long an unleased lock blob is left alone. A live holding is leased within milliseconds of the
 * blob's creation (If-None-Match: *, then Acquire Lease); Azure's shortest lease is 15 s.
 */
export const LOCK_LEFTOVER_AFTER_MS = 15_000;

/**
 * A lock blob (`<id>.lock`) or a waiter's ask to let go (`<id>.lock.release`) that nothing holds:
 * no lease, unchanged for {@link LOCK_LEFTOVER_AFTER_MS}. A crash leaves them: a holder killed
 * (its lease then expires), or killed while terminating, after `.info` was deleted (then no listing
 * of uploads ever names the id again, and no later holder's release deletes them).
 */
export function isLockLeftover(blob: ListedBlob, now: number): boolean {
  if (!blob.name.endsWith('.lock') && !blob.name.endsWith('.lock.release')) return false;
  return !blob.leased && now - blob.lastModified.getTime() >= LOCK_LEFTOVER_AFTER_MS;
}
