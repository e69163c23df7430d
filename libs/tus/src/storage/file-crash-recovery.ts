import { readdir, stat, truncate, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { isValidUploadId } from '../protocol/upload-id.js';
import { UploadNotFoundError } from '../tus.errors.js';
import type { UploadInfo } from '../upload-info.js';
import { OWNER_PREFIX } from './file-lock.js';

/** What {@link recoverCrashedWrites} needs of the file backend. */
export interface CrashRecoveryAccess {
  directory: string;
  /** Takes an upload's lock only if its holder died (no waiting); null when a live process holds it. */
  takeAbandonedLock(id: string): Promise<(() => Promise<void>) | null>;
  get(id: string): Promise<UploadInfo>;
}

/**
 * Repairs what processes killed in the middle of a request left in the folder, at start-up:
 *
 * - an upload whose lock a dead process held was being written: bytes past the offset `.info`
 *   records reached the disk but were never recorded, and are cut off now, so that HEAD's offset
 *   is the data file's size from the first request on (the next write would cut them off too, but
 *   a client asks HEAD first). A data file without `.info` under such a lock is a creation or a
 *   termination that did not finish: the client never got its URL, or asked for its removal.
 * - `.info` replacements a dead process wrote but never renamed (`<id>.info.<token>….tmp`, whose
 *   process has no owner file any more).
 *
 * Locks held by live processes (sharing the folder) are left alone.
 */
export async function recoverCrashedWrites(access: CrashRecoveryAccess): Promise<void> {
  const names = await readdir(access.directory);
  const liveTokens = names.filter((name) => name.startsWith(OWNER_PREFIX)).map((name) => name.slice(OWNER_PREFIX.length));
  for (const name of names) {
    if (name.endsWith('.lock')) {
      const id = name.slice(0, -'.lock'.length);
      // One upload that cannot be repaired (an unreadable .info) must not keep the others, or the
      // server, from starting: the next write of it cuts off what recovery could not.
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
  if (release === null) return;
  try {
    const data = join(access.directory, id);
    let upload: UploadInfo | undefined;
    try {
      upload = await access.get(id);
    } catch (error) {
      if (!(error instanceof UploadNotFoundError)) throw error;
    }
    if (upload === undefined) {
      await unlink(data).catch(() => undefined);
      return;
    }
    if (upload.completedAt !== null) return;
    const size = await stat(data).then(
      (stats) => stats.size,
      () => null,
    );
    if (size !== null && size > upload.offset) await truncate(data, upload.offset);
  } finally {
    await release();
  }
}
