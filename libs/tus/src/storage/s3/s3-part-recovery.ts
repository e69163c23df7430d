import { OffsetMismatchError, UploadNotFoundError } from '../../errors/tus.errors.js';
import type { UploadInfo } from '../../protocol/upload-info.js';
import { adoptableParts, highestLeftOut, type ListedPart } from './part-adoption.js';
import type { S3UploadAccess } from './s3-completion.js';
import { isNotFound } from './s3-objects.js';
import { type S3Part, withUntrusted } from './s3-upload-state.js';

/** Bytes held by parts. */
const bytesIn = (parts: readonly S3Part[]): number => parts.reduce((sum, part) => sum + part.size, 0);

/**
 * Recovers what a request killed mid-body left in S3 (tusd rebuilds the offset from ListParts on
 * every access; here only when `.info` says a request was writing and no live one holds the upload:
 * the caller holds the upload's lock, taken over from the dead holder or found free). The parts S3
 * stored that the request's records had not listed yet (up to its parts in flight) are added, as
 * {@link adoptableParts} allows, and `.info` is written conditionally (another process recovering
 * the same upload at once loses the condition, and nothing). The `writing` mark is cleared whatever
 * is found, so that later HEADs cost one `.info` read again; parts left out (past a gap, of another
 * size) become untrusted. Resolves to the bytes recovered.
 */
export async function recoverS3Parts(access: S3UploadAccess, id: string): Promise<number> {
  const { objects, keys, info } = access;
  let upload: UploadInfo;
  try {
    upload = await info.read(id);
  } catch (error) {
    if (error instanceof UploadNotFoundError) return 0;
    throw error;
  }
  const { etag, s3 } = info.known(upload)!;
  if (s3.writing === undefined) return 0;
  const listed: ListedPart[] = [];
  if (upload.completedAt === null && s3.uploadId !== null) {
    try {
      for await (const part of objects.listParts(keys.data(id), s3.uploadId)) listed.push(part);
    } catch (error) {
      // The multipart upload is gone (completed or aborted meanwhile): nothing to add.
      if (!isNotFound(error)) throw error;
    }
  }
  const adopted = adoptableParts(listed, {
    recordedParts: s3.parts.length,
    partSize: s3.partSize,
    partsInFlight: s3.writing.partsInFlight,
    untrustedThrough: s3.untrustedThrough ?? 0,
    recordedBytes: bytesIn(s3.parts),
    length: upload.length,
  });
  const { writing: _cleared, ...rest } = s3;
  const parts = [...s3.parts, ...adopted];
  // The first adopted part began with the pending bytes (a request's first part is filled from them).
  const pending = adopted.length > 0 ? null : s3.pending;
  const next = withUntrusted({ ...rest, parts, pending }, Math.max(s3.untrustedThrough ?? 0, highestLeftOut(listed, parts.length)));
  const offset = adopted.length > 0 ? bytesIn(parts) : upload.offset;
  try {
    await info.save({ ...upload, offset }, next, { ifMatch: etag });
  } catch (error) {
    // Another process recovered it first, or a writer moved on: its state stands.
    if (error instanceof OffsetMismatchError) return 0;
    throw error;
  }
  if (adopted.length > 0 && s3.pending !== null) await objects.deleteQuietly(s3.pending.key);
  return offset - upload.offset;
}
