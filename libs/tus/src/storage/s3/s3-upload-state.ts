import type { UploadInfo } from '../../protocol/upload-info.js';
import type { StoredPart } from '../stored-part.js';
import { decodeUploadInfo, encodeUploadInfo, type StoredUploadInfo } from '../upload-info.codec.js';

/** A part of the upload's multipart upload, recorded once its request was committed (`etag` quoted, as S3 returned it). */
export type S3Part = StoredPart;

/** Received bytes short of a whole part, stored as one object until the next request. */
export interface S3PendingBytes {
  /** `<prefix><id>.pending.<random>`: a new key per request, so a losing request never overwrites the bytes a winner recorded. */
  key: string;
  size: number;
}

/** What the S3 backend keeps in `.info` beside the public {@link UploadInfo} fields. */
export interface S3UploadState {
  /** The multipart upload holding the parts; null until the first whole part, and after completion. */
  uploadId: string | null;
  /** Size of every part but the last; grows when a deferred length is declared (see partSizeFor). */
  partSize: number;
  /** Committed parts, numbered 1..n in order. */
  parts: S3Part[];
  /** The bytes past the last part, or null. */
  pending: S3PendingBytes | null;
}

/** An upload's state as read from `.info`, with the ETag that makes the next write conditional. */
export interface S3Snapshot {
  /** ETag of `.info`, without quotes (RGW only matches `If-Match` without them). */
  etag: string;
  s3: S3UploadState;
}

/**
 * `write`: a token of the write that stored this text, new for every write, so that a writer can
 * tell its own write from another's with the same content (see S3InfoRecord.save).
 */
type StoredS3Upload = StoredUploadInfo & { s3: S3UploadState; write?: string };

/** The JSON body of `.info`; `write` marks it as one write's (see {@link StoredS3Upload}). */
export function encodeS3Upload(upload: UploadInfo, s3: S3UploadState, write?: string): string {
  const stored: StoredS3Upload = { ...encodeUploadInfo(upload), s3, write };
  return JSON.stringify(stored);
}

/**
 * Parses `.info`. Throws when its parts and pending bytes do not add up to its offset: the state
 * is the truth, and a state that contradicts itself must not be built upon.
 */
export function decodeS3Upload(text: string, key: string): { upload: UploadInfo; s3: S3UploadState } {
  const { s3, write: _write, ...stored } = JSON.parse(text) as StoredS3Upload;
  const upload = decodeUploadInfo(stored);
  if (upload.completedAt === null && upload.concat?.type !== 'final') {
    const held = s3.parts.reduce((sum, part) => sum + part.size, 0) + (s3.pending?.size ?? 0);
    if (held !== upload.offset) {
      throw new Error(`Corrupt S3 upload state in ${key}: parts and pending bytes hold ${held} bytes, offset is ${upload.offset}`);
    }
  }
  return { upload, s3 };
}

/** ETags come quoted from S3; conditional requests on RGW match only the bare value. */
export function bareEtag(etag: string | undefined): string {
  return (etag ?? '').replaceAll('"', '');
}
