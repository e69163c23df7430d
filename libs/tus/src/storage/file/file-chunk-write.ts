import { createWriteStream } from 'node:fs';
import { stat, truncate, unlink, writeFile } from 'node:fs/promises';
import { OffsetMismatchError } from '../../errors/tus.errors.js';
import type { UploadInfo } from '../../protocol/upload-info.js';
import { keepsBytesAfter } from '../chunk-outcome.js';
import { pumpChunk } from '../chunk-pump.js';
import type { ChunkSource, UploadChanges } from '../tus-storage-backend.interface.js';
import type { FileInfoRecord } from './file-info-record.js';
import type { FilePaths } from './file-paths.js';
import { closeFd } from './fd.js';
import { storageError } from './file-storage-error.js';

/** What a chunk write uses of the file backend. */
export interface ChunkWriteAccess {
  paths: FilePaths;
  info: FileInfoRecord;
  /** Repairs what a dead writer left of the upload (see repairCrashedWrite). */
  repair(id: string): Promise<void>;
}

/**
 * Appends a chunk at the upload's offset and records in `.info` the bytes it keeps; what it does
 * not keep is cut off the data file. `fresh`: the data file's descriptor, when this process just
 * created it under its lock and has not recorded it yet (see FreshDataFiles); closed here, and
 * `.info` is written whatever the outcome (with the upload as created when nothing is kept).
 */
export async function writeChunk(
  access: ChunkWriteAccess,
  upload: UploadInfo,
  fresh: number | undefined,
  chunk: ChunkSource,
  changes: UploadChanges,
): Promise<UploadInfo> {
  const path = access.paths.data(upload.id);
  // Bytes past the recorded offset that no repair recorded (only a race of two processes taking
  // over a dead writer's lock leaves them): repaired now like any crashed write, and when that
  // moves the offset, the client is told to ask again (409) and sends only what is missing.
  // (A file this process just created under its lock is empty.)
  if (fresh === undefined && (await stat(path)).size > upload.offset) {
    await access.repair(upload.id);
    const repaired = await access.info.read(upload.id);
    if (repaired.offset !== upload.offset) {
      throw new OffsetMismatchError(`The upload is at offset ${repaired.offset}: read it again`);
    }
    // Nothing was kept (an unverified chunk, bytes past the length): cut back, the write goes on.
  }
  // A chunk verified only at its end: marked while it is written, so that a crash mid-chunk cuts
  // it off instead of keeping bytes no one verified (repairCrashedWrite).
  const unverified = chunk.keepOnInterrupt ? undefined : access.paths.unverified(upload.id);
  if (unverified !== undefined) {
    try {
      await writeFile(unverified, '');
    } catch (error) {
      if (fresh !== undefined) await closeFd(fresh).catch(() => undefined);
      throw storageError(error);
    }
  }
  try {
    return await appendAndRecord(access.info, upload, path, fresh, chunk, changes);
  } finally {
    if (unverified !== undefined) await unlink(unverified).catch(() => undefined);
  }
}

async function appendAndRecord(
  info: FileInfoRecord,
  upload: UploadInfo,
  path: string,
  fresh: number | undefined,
  chunk: ChunkSource,
  changes: UploadChanges,
): Promise<UploadInfo> {
  // The stream owns the fresh descriptor: it closes it once finished or destroyed. (Kept open, the
  // stream would not destroy itself on an error either, and a failed write would wait for ever.)
  const sink = createWriteStream(path, {
    fd: fresh,
    flags: 'r+',
    start: upload.offset,
    highWaterMark: 1 << 20,
  });
  let failure: unknown;
  try {
    failure = await pumpChunk(chunk, sink);
  } catch (error) {
    // The file itself failed (a full disk: 507, whose chunk is discarded like a refused one).
    failure = storageError(error);
  }
  const stored = sink.bytesWritten;
  let kept = failure === undefined || keepsBytesAfter(failure, chunk) ? stored : 0;
  if (failure === undefined) {
    try {
      await chunk.verify(upload.offset + stored);
    } catch (error) {
      failure = error;
      kept = 0;
    }
  }
  // On any failure cut the file back to what is kept: nothing past the new offset survives.
  if (failure !== undefined) await truncate(path, upload.offset + kept);
  let next = upload;
  if (kept > 0 || failure === undefined) {
    next = { ...upload, ...changes, offset: upload.offset + kept };
    if (next.completedAt === null && next.offset === next.length) next.completedAt = new Date();
  }
  // A fresh upload is recorded for the first time here, even when the chunk left nothing.
  if (next !== upload || fresh !== undefined) {
    try {
      await info.save(next);
    } catch (error) {
      // Not recorded (the chunk filled the disk): its bytes go, so that the data file never
      // holds more than .info counts; a fresh upload's data file goes whole (no .info names it).
      if (fresh !== undefined) await unlink(path).catch(() => undefined);
      else await truncate(path, upload.offset).catch(() => undefined);
      throw storageError(error);
    }
  }
  if (failure !== undefined) throw failure;
  return next;
}
