import { OffsetMismatchError, StorageUnavailableError } from '../../errors/tus.errors.js';
import type { UploadInfo } from '../../protocol/upload-info.js';
import type { S3InfoRecord } from './s3-info-record.js';
import type { S3Keys } from './s3-keys.js';
import { isConditionFailed, isNotFound, type S3Objects } from './s3-objects.js';
import { bareEtag, type S3Snapshot, type S3UploadState, withUntrusted } from './s3-upload-state.js';

/** What completing and repairing a multipart upload use of the S3 backend. */
export interface S3UploadAccess {
  objects: S3Objects;
  keys: S3Keys;
  info: S3InfoRecord;
}

/**
 * Assembles the bytes of an upload whose last byte is recorded: `CompleteMultipartUpload`, or a
 * plain `PutObject` for an upload that never filled a part. Then records the completion.
 */
export async function completeUpload(access: S3UploadAccess, upload: UploadInfo, tail: Uint8Array): Promise<UploadInfo> {
  const { objects, info } = access;
  const { etag, s3 } = info.known(upload)!;
  const key = access.keys.data(upload.id);
  if (s3.uploadId === null) {
    await objects.put(key, tail, { length: tail.length });
  } else {
    await rollBackOverwrittenParts(access, upload, { etag, s3 });
    try {
      await objects.completeMultipartUpload(key, s3.uploadId, s3.parts);
    } catch (error) {
      // A retry after a completion whose record failed: the object is there already.
      if ((await objects.exists(key))?.size !== upload.length) {
        // S3 out of reach (503, retried by the client) is not S3 refusing the parts.
        if (error instanceof StorageUnavailableError) throw error;
        throw new Error(`S3 refused to assemble upload ${upload.id}: ${(error as Error).message}`, { cause: error });
      }
    }
  }
  const completed = { ...upload, completedAt: new Date() };
  const next = await info.save(completed, { ...s3, uploadId: null, parts: [], pending: null }, { ifMatch: etag });
  if (s3.pending !== null) await objects.deleteQuietly(s3.pending.key);
  await removeStrays(objects, key).catch(() => undefined);
  return next;
}

/**
 * Completes an upload that one request's bytes fill from an empty state (nothing recorded, no
 * multipart upload, no pending bytes), short of a part: a creation-with-upload of a small file.
 * One PutObject of the bytes, then `.info` written once, completed: 2 requests where the general
 * path makes 7 (a `.pending` object, `.info` at the full offset, the object, `.info` completed,
 * the pending deleted, two listings for strays). Resolves to null when the general path must run.
 * Why each guarantee holds:
 * - Durable before recorded: the object is stored before `.info` says so. A crash between the two
 *   leaves `.info` as it was (the client, unanswered, resumes from the recorded offset) and the
 *   object unreferenced, overwritten by the upload's completion or deleted by `remove`.
 * - Verified first: called after the chunk's `verify()` (Upload-Checksum, a vetoed pre-finish):
 *   nothing of a refused chunk is stored, and no part number becomes untrusted.
 * - Never over another writer's object: it is written only if absent (`If-None-Match: *`). The lock
 *   keeps writers apart; should one have taken it over (judged stale) and completed the upload
 *   meanwhile, its object stays, and the general path, whose `.info` write is conditional, answers
 *   409. A leftover of a crashed attempt also sends this request down the general path, which
 *   overwrites it as before. `.info` itself is conditional on the version this request built on.
 * - No `writing` mark: nothing is recorded while the body streams, so no HEAD starts a recovery.
 * - Strays (a multipart upload or `.pending` object of a request cut off earlier) are looked for as
 *   completeUpload does, except when this request created `.info` itself: nothing of the upload
 *   existed before it, and it stored nothing but this object.
 */
export async function completeWhole(
  access: S3UploadAccess,
  upload: UploadInfo,
  s3: S3UploadState,
  bytes: Uint8Array,
  { etag, created }: Pick<S3Snapshot, 'etag' | 'created'>,
): Promise<UploadInfo | null> {
  const key = access.keys.data(upload.id);
  try {
    await access.objects.put(key, bytes, { length: bytes.length, condition: { ifNoneMatch: '*' } });
  } catch (error) {
    if (isConditionFailed(error)) return null;
    throw error;
  }
  const next = await access.info.save({ ...upload, completedAt: new Date() }, { ...s3, uploadId: null, parts: [], pending: null }, { ifMatch: etag });
  if (created !== true) await removeStrays(access.objects, key).catch(() => undefined);
  return next;
}

/**
 * What requests cut off by a crash (or lost races) left under an upload's key: a multipart
 * upload begun before `.info` named one, `.pending` objects stored but never recorded. Once the
 * upload is complete nothing can refer to them; left alone they would cost storage until a
 * lifecycle rule, if any, removed them.
 */
async function removeStrays(objects: S3Objects, key: string): Promise<void> {
  for await (const uploadId of objects.listMultipartUploads(key)) await objects.abortMultipartUpload(key, uploadId);
  for await (const pending of objects.listKeys(`${key}.pending.`)) await objects.deleteQuietly(pending);
}

/**
 * Puts back the state a discarded request began from (its bytes failed the chunk's rules after
 * some of its parts were recorded): "the upload exactly as it was". Its pending object is still
 * there, deleted only by a request that commits. Should S3 refuse, the recorded parts stay: they
 * are stored, and the offset they give is a true one.
 */
export async function rollBack(info: S3InfoRecord, upload: UploadInfo, s3: S3UploadState, etag: string): Promise<boolean> {
  return info.save(upload, s3, { ifMatch: etag }).then(
    () => true,
    () => false,
  );
}

/**
 * A request that lost a race (or was discarded) may have uploaded its own bytes under part
 * numbers the winner recorded, after the winner's upload of them. S3 keeps the last upload of a
 * part number, so before assembling, every recorded part is checked against what S3 holds: from
 * the first part overwritten on, the bytes are dropped from the state, and the client, answered
 * 409, resumes from the lower offset (tus clients re-read the offset with HEAD).
 */
async function rollBackOverwrittenParts(access: S3UploadAccess, upload: UploadInfo, { etag, s3 }: S3Snapshot): Promise<void> {
  const held = new Map<number, string>();
  try {
    for await (const part of access.objects.listParts(access.keys.data(upload.id), s3.uploadId!)) held.set(part.partNumber, bareEtag(part.etag));
  } catch (error) {
    // Completed by an earlier attempt whose record failed: nothing left to check.
    if (isNotFound(error)) return;
    throw error;
  }
  const firstLost = s3.parts.findIndex((part) => held.get(part.partNumber) !== bareEtag(part.etag));
  if (firstLost === -1) return;
  const parts = s3.parts.slice(0, firstLost);
  const offset = parts.reduce((sum, part) => sum + part.size, 0);
  // The overwritten parts and those after them stay in S3: never to be recovered.
  const through = Math.max(s3.untrustedThrough ?? 0, s3.parts.at(-1)!.partNumber);
  await access.info.save({ ...upload, offset, completedAt: null }, withUntrusted({ ...s3, parts, pending: null }, through), { ifMatch: etag });
  throw new OffsetMismatchError(`Bytes from offset ${offset} on were overwritten by a concurrent request; resume from there`);
}
