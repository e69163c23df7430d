import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { StorageUnavailableError, UploadLockedError } from '../../errors/tus.errors.js';
import { isDeadHere, parseHolder, PROCESS_HOST } from '../process-identity.js';
import type { AzureBlobs } from './azure-blobs.js';
import { isConditionFailed, isLeaseConflict, isNotFound } from './azure-errors.js';

/** Options of {@link acquireAzureLock}. */
export interface AzureLockOptions {
  /** How long to wait for a lease held by another request before giving up (423). */
  timeoutMs: number;
  /** Lease duration, 15-60 s: a lease its holder stops renewing expires this long after. */
  leaseSeconds: number;
  /** Called while the lock is held when a request of another process asks for it. */
  onReleaseRequested?: () => void;
}

/** The body of the lock blob: who holds its lease. */
interface AzureLockHolder {
  host: string;
  pid: number;
  /** Drawn per acquisition: tells this holding apart from any later one, of any process. */
  token: string;
}

/** How often a waiter tries again, at most. */
const RETRY_MS = 100;
/** How often a waiter reads the holder (to break a dead one's lease) and asks it to let go. */
const JUDGE_EVERY_MS = 1_000;
/** How often a holder looks for a waiter's request to let go. */
const RELEASE_POLL_MS = 500;

/** Tokens of the locks this process holds: a lock naming this process with another token was left behind. */
const heldTokens = new Set<string>();

/**
 * An exclusive lock between processes sharing a container: a lease on the blob `name` (created
 * empty when missing, deleted on release). Why a lease rather than S3's renewed lock object: the
 * service itself ends a lease its holder stopped renewing (a process dead on another host frees
 * the upload `leaseSeconds` after its last renewal, judged by no one's clock), a holder learns for
 * certain that it lost its lease (the renewal is refused), and a holder known dead (a process of
 * this host that is gone, or this process's own leftover) is broken at once. Once leased, the
 * holder writes who it is into the blob, under the lease; a waiter breaks a dead holder's lease
 * only if the blob is still the version it judged (`If-Match`), so a lease just taken by a live
 * request, whose holder body is not written yet, is never broken by a judgement of the previous
 * holder. A lease on the data blob itself would fence its writes, but the module locks an id
 * before its upload exists. Returns the release function.
 */
export async function acquireAzureLock(blobs: AzureBlobs, name: string, options: AzureLockOptions): Promise<() => Promise<void>> {
  const token = randomBytes(9).toString('base64url');
  heldTokens.add(token);
  let leaseId: string;
  try {
    leaseId = await take(blobs, name, options, JSON.stringify({ host: PROCESS_HOST, pid: process.pid, token } satisfies AzureLockHolder));
  } catch (error) {
    heldTokens.delete(token);
    throw error;
  }
  const { onReleaseRequested } = options;
  let held = true;
  let renewedAt = performance.now();
  const lose = () => {
    held = false;
    heldTokens.delete(token);
    clearInterval(heartbeat);
    clearInterval(releasePoll);
  };
  const renew = async () => {
    try {
      await blobs.renewLease(name, leaseId);
      renewedAt = performance.now();
    } catch (error) {
      // Broken or taken: someone else's now. Any other failure is tried again at the next beat.
      if (isLeaseConflict(error) || isNotFound(error) || performance.now() - renewedAt >= options.leaseSeconds * 1000) lose();
    }
  };
  const heartbeat = setInterval(() => void renew(), (options.leaseSeconds * 1000) / 3);
  heartbeat.unref();
  // One poll at a time: a poll Azure leaves unanswered runs to its deadline, past many intervals.
  let polling = false;
  const releasePoll =
    onReleaseRequested &&
    setInterval(() => {
      if (polling) return;
      polling = true;
      void blobs
        .delete(`${name}.release`)
        .then(
          (existed) => existed && onReleaseRequested(),
          () => undefined,
        )
        .finally(() => (polling = false));
    }, RELEASE_POLL_MS);
  releasePoll?.unref();
  return async () => {
    const wasHeld = held;
    lose();
    // Side by side, so that a release Azure leaves unanswered costs one deadline, not three.
    await Promise.all([
      // A waiter's request to let go is answered by this release.
      onReleaseRequested === undefined ? undefined : blobs.delete(`${name}.release`).catch(() => undefined),
      wasHeld ? releaseHeld(blobs, name, leaseId) : undefined,
    ]);
  };
}

/**
 * Deleting the blob ends the lease; should Azure refuse that, the lease is released all the same.
 * Should Azure not answer (unreachable, or past the deadline), no second call is tried: the lease,
 * no longer renewed, ends by itself within its duration, and a request of this process for the
 * upload breaks it at once meanwhile (a holding this process left behind, see breakIfAbandoned).
 */
async function releaseHeld(blobs: AzureBlobs, name: string, leaseId: string): Promise<void> {
  try {
    await blobs.delete(name, leaseId);
  } catch (error) {
    if (!(error instanceof StorageUnavailableError)) await blobs.releaseLease(name, leaseId).catch(() => undefined);
  }
}

/**
 * Leases the lock blob, or breaks a dead holder's lease; 423 after `timeoutMs`. The usual case, no
 * lock blob, costs two requests: the blob created with the holder in it (`If-None-Match: *`), then
 * leased. A blob that exists (held, or left by a holder that died) is leased, then the holder
 * written under the lease.
 */
async function take(blobs: AzureBlobs, name: string, options: AzureLockOptions, holder: string): Promise<string> {
  const deadline = Date.now() + options.timeoutMs;
  let judgedAt = -Infinity;
  let absent = true;
  for (let attempt = 0; ; attempt++) {
    const leaseId = randomUUID();
    let created = false;
    try {
      if (absent) {
        created = await blobs.putText(name, holder, { condition: { ifNoneMatch: '*' } }).then(
          () => true,
          (failure: unknown) => {
            if (isConditionFailed(failure)) return false;
            throw failure;
          },
        );
        absent = false;
      }
      await blobs.acquireLease(name, leaseId, options.leaseSeconds);
      // On a blob that was there, this confirms the holding: it fails when a waiter broke the
      // lease on a judgement of the previous holder's body.
      if (!created) await blobs.putText(name, holder, { leaseId });
      return leaseId;
    } catch (error) {
      if (isNotFound(error)) {
        // Released (deleted) meanwhile: created again at once.
        absent = true;
        if (Date.now() < deadline) continue;
      } else if (!isLeaseConflict(error)) throw error;
    }
    if (Date.now() - judgedAt >= JUDGE_EVERY_MS) {
      judgedAt = Date.now();
      if (await breakIfAbandoned(blobs, name)) continue;
      // Asks the holder to let go; it does if its request is stalled (checklist 21).
      await blobs.putText(`${name}.release`, '').catch(() => undefined);
    }
    if (Date.now() >= deadline) {
      // A request to let go outlives no waiter (another still waiting writes it again within a second).
      await blobs.delete(`${name}.release`).catch(() => undefined);
      throw new UploadLockedError();
    }
    // Short at first (a PATCH releases within milliseconds of its body's end), then backing off.
    await sleep(Math.min(10 * 2 ** attempt, RETRY_MS));
  }
}

/** Breaks the lease of a holder that is gone: a dead process of this host, or this process's leftover. */
async function breakIfAbandoned(blobs: AzureBlobs, name: string): Promise<boolean> {
  const current = await blobs.getText(name);
  if (current === null) return true; // released meanwhile: the next attempt creates it
  const holder = parseHolder<AzureLockHolder>(current.text);
  const leftByUs = holder.host === PROCESS_HOST && holder.pid === process.pid && !heldTokens.has(holder.token ?? '');
  if (!isDeadHere(holder) && !leftByUs) return false;
  try {
    await blobs.breakLease(name, current.etag);
    return true;
  } catch (error) {
    if (isConditionFailed(error) || isNotFound(error) || isLeaseConflict(error)) return false;
    throw error;
  }
}
