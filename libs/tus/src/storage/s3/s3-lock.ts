import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { UploadLockedError } from '../../tus.errors.js';
import { isConditionFailed, isNotFound, type S3Objects } from './s3-objects.js';
import { bareEtag } from './s3-upload-state.js';

/** Options of {@link acquireS3Lock}. */
export interface S3LockOptions {
  /** How long to wait for a lock held by another process before giving up (423). */
  timeoutMs: number;
  /** A lock its holder did not renew for this long is taken over (the holder died or lost S3). */
  staleMs: number;
}

/** The body of a lock object: who holds it, and when it last said so. */
interface S3LockHolder {
  host: string;
  pid: number;
  renewedAt: number;
}

const HOST = hostname();
/** How often a waiter tries again, at most. */
const RETRY_MS = 100;
/** How often a waiter reads the holder to judge whether it is gone (a GET costs more than a refused PUT). */
const JUDGE_EVERY_MS = 1_000;

/**
 * An exclusive lock between processes sharing a bucket: the object `key`, written only if absent
 * (`If-None-Match: *`), deleted on release. Conditional writes of `.info` alone let two requests
 * stream at once, and the loser's part uploads could replace the winner's parts of the same
 * numbers (S3 keeps the last upload of a part number): the lock keeps them apart, as the file
 * lock does on a shared disk. The holder renews it every third of `staleMs`; a lock whose holder
 * is a dead process of this host, or that went unrenewed for `staleMs`, is taken over by a write
 * conditional on its ETag, which one taker alone wins. Returns the release function.
 */
export async function acquireS3Lock(objects: S3Objects, key: string, options: S3LockOptions): Promise<() => Promise<void>> {
  const body = () => JSON.stringify({ host: HOST, pid: process.pid, renewedAt: Date.now() } satisfies S3LockHolder);
  const deadline = Date.now() + options.timeoutMs;
  let etag: string | null = null;
  let judgedAt = -Infinity;
  for (let attempt = 0; etag === null; attempt++) {
    try {
      etag = bareEtag(await objects.put(key, body(), { condition: { ifNoneMatch: '*' }, contentType: 'application/json' }));
      break;
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
    }
    if (Date.now() - judgedAt >= JUDGE_EVERY_MS) {
      judgedAt = Date.now();
      etag = await takeOverIfAbandoned(objects, key, options.staleMs, body);
      if (etag !== null) break;
    }
    if (Date.now() >= deadline) throw new UploadLockedError();
    // Short at first (a PATCH releases within milliseconds of its body's end), then backing off.
    await sleep(Math.min(10 * 2 ** attempt, RETRY_MS));
  }
  let held = true;
  const renew = async () => {
    try {
      etag = bareEtag(await objects.put(key, body(), { condition: { ifMatch: etag! }, contentType: 'application/json' }));
    } catch (error) {
      // Taken over (this holder looked dead or stale): it is someone else's now. Any other
      // failure (S3 briefly unreachable) is tried again at the next beat.
      if (isConditionFailed(error) || isNotFound(error)) {
        held = false;
        clearInterval(heartbeat);
      }
    }
  };
  const heartbeat = setInterval(() => void renew(), Math.max(options.staleMs / 3, 50));
  heartbeat.unref();
  return async () => {
    clearInterval(heartbeat);
    if (held) await objects.deleteQuietly(key);
  };
}

/** Takes the lock over when its holder is gone; resolves to the new ETag, or null when it is not ours. */
async function takeOverIfAbandoned(objects: S3Objects, key: string, staleMs: number, body: () => string): Promise<string | null> {
  let text: string;
  let etag: string | undefined;
  try {
    ({ text, etag } = await objects.getText(key));
  } catch (error) {
    if (isNotFound(error)) return null; // released meanwhile: the next attempt creates it
    throw error;
  }
  const holder = parseHolder(text);
  const deadProcess = holder.host === HOST && typeof holder.pid === 'number' && !isAlive(holder.pid);
  const stale = typeof holder.renewedAt !== 'number' || Date.now() - holder.renewedAt >= staleMs;
  if (!deadProcess && !stale) return null;
  try {
    return bareEtag(await objects.put(key, body(), { condition: { ifMatch: bareEtag(etag) }, contentType: 'application/json' }));
  } catch (error) {
    if (isConditionFailed(error) || isNotFound(error)) return null; // another taker won, or it was released
    throw error;
  }
}

function parseHolder(text: string): Partial<S3LockHolder> {
  try {
    return JSON.parse(text) as S3LockHolder;
  } catch {
    return {};
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
