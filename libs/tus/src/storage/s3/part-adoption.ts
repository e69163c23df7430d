import type { StoredPart } from '../stored-part.js';

/** A part as ListParts reports it (`etag` as S3 quotes it). */
export interface ListedPart {
  partNumber: number;
  etag: string;
  size: number;
}

/** What {@link adoptableParts} judges the listed parts against: the state `.info` recorded. */
export interface AdoptionRule {
  /** Parts `.info` records, numbered 1..n. */
  recordedParts: number;
  /** The size every adopted part must have: the upload's part size (parts are never shorter, but the last). */
  partSize: number;
  /** How many parts past the recorded ones the dead request can have begun (its parts in flight); none beyond. */
  partsInFlight: number;
  /** Part numbers up to this one may hold bytes that must never count (an unverified checksummed chunk, a refused chunk). */
  untrustedThrough: number;
  /** Bytes `.info` records in parts, and the upload's length (null while deferred): nothing past the length. */
  recordedBytes: number;
  length: number | null;
}

/**
 * Which parts S3 holds past those `.info` records a crash recovery may add to the upload: the
 * contiguous run from the first unrecorded part number on, each of exactly the part size (a short
 * one is a last part, written only after its request ended well, or something else), none numbered
 * past what the dead request could have begun, none marked untrusted, none past the upload's
 * length. The run stops at the first part that fails a rule: what lies beyond a gap cannot be
 * placed in the upload's bytes. ETags are kept quoted, as the backend records the parts it uploads.
 */
export function adoptableParts(listed: readonly ListedPart[], rule: AdoptionRule): StoredPart[] {
  const byNumber = new Map(listed.map((part) => [part.partNumber, part]));
  const adopted: StoredPart[] = [];
  let bytes = rule.recordedBytes;
  const last = rule.recordedParts + rule.partsInFlight;
  for (let partNumber = rule.recordedParts + 1; partNumber <= last; partNumber++) {
    const part = byNumber.get(partNumber);
    if (part === undefined || part.size !== rule.partSize || partNumber <= rule.untrustedThrough) break;
    const etag = part.etag.replaceAll('"', '');
    if (etag === '') break;
    if (rule.length !== null && bytes + part.size > rule.length) break;
    bytes += part.size;
    adopted.push({ partNumber, etag: `"${etag}"`, size: part.size });
  }
  return adopted;
}

/**
 * The highest part number listed that is left out (past the recorded and adopted ones): its bytes
 * must not count later either, when another request's parts happen to close the gap before it.
 */
export function highestLeftOut(listed: readonly ListedPart[], partsKept: number): number {
  return listed.reduce((highest, part) => (part.partNumber > partsKept ? Math.max(highest, part.partNumber) : highest), 0);
}
