import { readdir, stat, truncate, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { isValidUploadId } from '../../protocol/upload-id.js';
import { UploadNotFoundError } from '../../errors/tus.errors.js';
import type { UploadInfo } from '../../protocol/upload-info.js';
import { OWNER_PREFIX } from './lock-owner-file.js';

/** What a repair reads and changes of the file backend, for one upload. */
export interface CrashRepairAccess {
  get(id: string): Promise<UploadInfo>;
  saveInfo(upload: UploadInfo): Promise<void>;
  /** The upload's bytes. */
  dataPath(id: string): string;
  /** Present while a chunk that must be verified whole (`Upload-Checksum`) is being written. */
  unverifiedPath(id: string): string;
}

/**
 * Repairs an upload whose writer died holding its lock (called by whoever takes that lock over,
 * before anything reads the state). What the dead writer had handed to the kernel is in the data
 * file after a crash of its process (not of the machine: nothing is fsynced), and is kept, as the
 * tus text asks ("store as much of the received data as possible"): the offset becomes the data
 * file's size. Only bytes that cannot be trusted are cut off:
 *
 * - the writer was storing a chunk that had to be verified whole (`Upload-Checksum`, or its
 *   trailer) and never was: its bytes go, back to the recorded offset;
 * - bytes past `Upload-Length` (none should be there: the byte meter stops them).
 *
 * An upload whose data file reached its full length is not marked complete here: the module
 * finishes it through its normal path when it is next touched (so `tus.pre-finish` can still veto).
 * A data file without `.info` is a creation that did not finish (its client never got the URL) or
 * a termination that did not: it is removed.
 */
export async function repairCrashedWrite(access: CrashRepairAccess, id: string): Promise<void> {
  const data = access.dataPath(id);
  const unverified = access.unverifiedPath(id);
  let upload: UploadInfo;
  try {
    upload = await access.get(id);
  } catch (error) {
    if (!(error instanceof UploadNotFoundError)) throw error;
    await unlink(data).catch(() => undefined);
    await unlink(unverified).catch(() => undefined);
    return;
  }
  const size = await stat(data).then(
    (stats) => stats.size,
    () => null,
  );
  // A final's bytes are a copy of its partials that its assembly writes anew: a copy cut short by
  // the crash is no progress of the final's.
  if (upload.completedAt !== null || size === null || upload.concat?.type === 'final') {
    await unlink(unverified).catch(() => undefined);
    return;
  }
  if (await exists(unverified)) {
    // Cut first, unmarked after: a crash in between repairs the same way again.
    if (size > upload.offset) await truncate(data, upload.offset);
    await unlink(unverified);
    return;
  }
  let kept = size;
  if (upload.length !== null && kept > upload.length) {
    await truncate(data, upload.length);
    kept = upload.length;
  }
  if (kept > upload.offset) await access.saveInfo({ ...upload, offset: kept });
}

/** What {@link recoverCrashedWrites} needs of the file backend. */
export interface CrashRecoveryAccess {
  directory: string;
  /**
   * Takes an upload's lock only if its holder died (no waiting), repairing what that holder left
   * ({@link repairCrashedWrite}); null when a live process holds it.
   */
  takeAbandonedLock(id: string): Promise<(() => Promise<void>) | null>;
}

/**
 * At start-up, repairs what processes killed in the middle of a request left in the folder: every
 * upload whose lock a dead process held ({@link repairCrashedWrite}), so that HEAD answers the
 * stored offset from the first request on, and `.info` replacements a dead process wrote but never
 * renamed (`<id>.info.<token>….tmp`, whose process has no owner file any more). Locks held by live
 * processes (sharing the folder) are left alone.
 */
export async function recoverCrashedWrites(access: CrashRecoveryAccess): Promise<void> {
  const names = await readdir(access.directory);
  const liveTokens = names.filter((name) => name.startsWith(OWNER_PREFIX)).map((name) => name.slice(OWNER_PREFIX.length));
  for (const name of names) {
    if (name.endsWith('.lock')) {
      const id = name.slice(0, -'.lock'.length);
      // One upload that cannot be repaired (an unreadable .info) must not keep the others, or the
      // server, from starting: whoever takes its lock next repairs it.
      if (isValidUploadId(id)) await recoverUpload(access, id).catch(() => undefined);
    } else if (name.endsWith('.tmp')) {
      const writer = /\.info\.([^.]+)\.tmp$/.exec(name)?.[1];
      if (writer !== undefined && !liveTokens.some((token) => writer.startsWith(token))) {
        await unlink(join(access.directory, name)).catch(() => undefined);
      }
    }
  }
}

async function recoverUpload(access: CrashRecoveryAccess, id: string): Promise<void> {
  const release = await access.takeAbandonedLock(id);
  await release?.();
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
