import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { UploadLockedError } from '../../errors/tus.errors.js';
import { isConditionFailed, isNotFound, type S3Objects } from './s3-objects.js';
import { bareEtag } from './s3-upload-state.js';
import { isDeadHere, parseHolder, PROCESS_HOST } from '../process-identity.js';

/** Options of {@link acquireS3Lock}. */
export interface S3LockOptions {
  /** How long to wait for a lock held by another process before giving up (423). */
  timeoutMs: number;
  /** A lock its holder did not renew for this long is taken over (the holder died or lost S3). */
  staleMs: number;
  /** Called when the lock was taken over from a holder judged gone: what that holder wrote may need repair. */
  onTakeOver?: () => void;
}

/** The body of a lock object: who holds it. */
interface S3LockHolder {
  host: string;
  pid: number;
  /** Drawn per acquisition: tells this holding apart from any later one, of any process. */
  token: string;
  renewedAt: number;
}

/** How often a waiter tries again, at most. */
const RETRY_MS = 100;
/** How often a waiter reads the holder to judge whether it is gone (a GET costs more than a refused PUT). */
const JUDGE_EVERY_MS = 1_000;

/**
 * An exclusive lock between processes sharing a bucket: the object `key`, written only if absent
 * (`If-None-Match: *`), deleted on release. Conditional writes of `.info` alone let two requests
 * stream at once, and the loser's part uploads could replace the winner's parts of the same
 * numbers (S3 keeps the last upload of a part number): the lock keeps them apart, as the file
 * lock does on a shared disk. The holder renews it (a new body, so a new ETag) every third of
 * `staleMs`. A waiter takes it over, by a write conditional on its ETag that one taker alone wins,
 * when its holder is a dead process of this host, or when the waiter saw the same ETag for
 * `staleMs` by its own clock (never by the holder's, which may be skewed). Returns the release
 * function, which deletes the lock only while it is still this holding's.
 */
export async function acquireS3Lock(objects: S3Objects, key: string, options: S3LockOptions): Promise<() => Promise<void>> {
  const token = randomBytes(9).toString('base64url');
  const body = () => JSON.stringify({ host: PROCESS_HOST, pid: process.pid, token, renewedAt: Date.now() } satisfies S3LockHolder);
  const judge = new AbandonmentJudge(objects, key, options.staleMs, body);
  // Counted as held from before the first write: a lock with this token is never this process's leftover.
  heldTokens.add(token);
  let etag: string;
  try {
    etag = await take(objects, key, options, judge, body);
  } catch (error) {
    heldTokens.delete(token);
    throw error;
  }
  judge.forget();
  let held = true;
  let renewedAt = performance.now();
  const renew = async () => {
    try {
      etag = etagOf(await objects.put(key, body(), { condition: { ifMatch: etag }, contentType: 'application/json' }));
      renewedAt = performance.now();
    } catch (error) {
      // Taken over, or unrenewed for so long that a waiter may have taken it: someone else's now.
      // Any other failure (S3 briefly unreachable) is tried again at the next beat.
      if (isConditionFailed(error) || isNotFound(error) || performance.now() - renewedAt >= options.staleMs) {
        held = false;
        heldTokens.delete(token);
        clearInterval(heartbeat);
      }
    }
  };
  const heartbeat = setInterval(() => void renew(), Math.max(options.staleMs / 3, 50));
  heartbeat.unref();
  return async () => {
    clearInterval(heartbeat);
    heldTokens.delete(token);
    if (!held) return;
    // Only this holding's lock is deleted: read back, and compare the token.
    const current = await objects.getText(key).catch(() => null);
    if (current !== null && parseHolder<S3LockHolder>(current.text).token === token) await objects.deleteQuietly(key);
  };
}

/** Writes the lock if absent, or takes it over once abandoned; 423 after `timeoutMs`. Resolves to its ETag. */
async function take(objects: S3Objects, key: string, options: S3LockOptions, judge: AbandonmentJudge, body: () => string): Promise<string> {
  const deadline = Date.now() + options.timeoutMs;
  let judgedAt = -Infinity;
  for (let attempt = 0; ; attempt++) {
    try {
      return etagOf(await objects.put(key, body(), { condition: { ifNoneMatch: '*' }, contentType: 'application/json' }));
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
    }
    if (Date.now() - judgedAt >= JUDGE_EVERY_MS) {
      judgedAt = Date.now();
      const etag = await judge.takeOverIfAbandoned();
      if (etag !== null) {
        options.onTakeOver?.();
        return etag;
      }
    }
    if (Date.now() >= deadline) throw new UploadLockedError();
    // Short at first (a PATCH releases within milliseconds of its body's end), then backing off.
    await sleep(Math.min(10 * 2 ** attempt, RETRY_MS));
  }
}

/**
 * Which ETag this process's waiters saw on each busy lock, since when (monotonic clock). Kept across
 * requests: one request waits only `timeoutMs`, but a client's retries come back to the same lock,
 * and together they see whether it is renewed. An entry goes once the lock is taken.
 */
const sightings = new Map<string, { etag: string; since: number }>();

/**
 * The tokens of the locks this process holds now. A lock naming this process with a token not in
 * here was left by one of its own requests whose release could not delete it (S3 unreachable at
 * that moment): abandoned at once, instead of after `staleMs` of 423s.
 */
const heldTokens = new Set<string>();

/** A waiter's judgement of one lock: abandoned when its holder is dead here, or it stopped changing. */
class AbandonmentJudge {
  /** Its entry in {@link sightings}. */
  private readonly sightingKey: string;

  constructor(
    private readonly objects: S3Objects,
    private readonly key: string,
    private readonly staleMs: number,
    private readonly body: () => string,
  ) {
    this.sightingKey = `${objects.bucket}/${key}`;
  }

  /** Drops what was seen of the lock: it was taken, or released. */
  forget(): void {
    sightings.delete(this.sightingKey);
  }

  /** Takes the lock over when its holder is gone; resolves to the new ETag, or null when it is not ours. */
  async takeOverIfAbandoned(): Promise<string | null> {
    let text: string;
    let etag: string;
    try {
      const current = await this.objects.getText(this.key);
      text = current.text;
      etag = etagOf(current.etag);
    } catch (error) {
      if (isNotFound(error)) {
        this.forget();
        return null; // released meanwhile: the next attempt creates it
      }
      throw error;
    }
    let seen = sightings.get(this.sightingKey);
    if (seen?.etag !== etag) sightings.set(this.sightingKey, (seen = { etag, since: performance.now() }));
    const unrenewed = performance.now() - seen.since >= this.staleMs;
    const holder = parseHolder<S3LockHolder>(text);
    const leftByUs = holder.host === PROCESS_HOST && holder.pid === process.pid && !heldTokens.has(holder.token ?? '');
    if (!isDeadHere(holder) && !leftByUs && !unrenewed) return null;
    try {
      return etagOf(await this.objects.put(this.key, this.body(), { condition: { ifMatch: etag }, contentType: 'application/json' }));
    } catch (error) {
      if (isConditionFailed(error) || isNotFound(error)) return null; // another taker won, or it was released
      throw error;
    }
  }
}

/** An ETag without quotes; a missing one would make the next conditional write unconditional. */
function etagOf(etag: string | undefined): string {
  const bare = bareEtag(etag);
  if (bare === '') throw new Error('S3 answered a lock write or read without an ETag');
  return bare;
}

