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
  /**
   * Set by the records a request makes while its body streams (never by its end): S3 may hold up
   * to `partsInFlight` more of its parts than this state lists. Read while no live request holds the
   * upload, it says that request died, and what S3 stored is recovered (see recoverS3Parts). Absent
   * otherwise, so that a HEAD of an upload no one writes costs no more than the `.info` read.
   */
  writing?: { partsInFlight: number };
  /**
   * Part numbers up to this one, past the recorded parts, may hold bytes that must never count: a
   * chunk that had to be verified whole (`Upload-Checksum`) and was not, a chunk refused, parts left
   * beyond a gap by a recovery. Crash recovery adopts no part at or below it. Absent: none.
   */
  untrustedThrough?: number;
}

/**
 * The state with `untrustedThrough` set to `through` when that still matters: a mark at or below
 * the recorded parts is spent (those numbers hold recorded bytes now) and is dropped.
 */
export function withUntrusted(state: S3UploadState, through: number): S3UploadState {
  const { untrustedThrough: _spent, ...rest } = state;
  return through > state.parts.length ? { ...rest, untrustedThrough: through } : rest;
}

/**
 * The state a new request builds on, without a `writing` mark. A mark still there means a request
 * died (or failed) and no recovery ran: its parts past the recorded ones may lie beyond the new
 * request's reach, so their numbers become untrusted rather than be counted some day in the middle
 * of other bytes.
 */
export function settledState(state: S3UploadState): S3UploadState {
  const { writing, ...rest } = state;
  const dead = writing === undefined ? 0 : state.parts.length + writing.partsInFlight;
  return withUntrusted(rest, Math.max(state.untrustedThrough ?? 0, dead));
}

/** An upload's state as read from `.info`, with the ETag that makes the next write conditional. */
export interface S3Snapshot {
  /** ETag of `.info`, without quotes (RGW only matches `If-Match` without them). */
  etag: string;
  s3: S3UploadState;
  /**
   * This version is the one that created `.info` (`If-None-Match: *`), saved by this process: no
   * request has written anything else of the upload to S3 yet, so there are no strays to look for.
   */
  created?: boolean;
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
