const MiB = 1024 * 1024;

/** S3's minimum size of every part of a multipart upload but the last (5 MiB). */
export const MIN_PART_SIZE = 5 * MiB;

/** S3's maximum size of one part (5 GiB). */
export const MAX_PART_SIZE = 5 * 1024 * MiB;

/** S3's highest part number: a multipart upload has at most 10,000 parts. */
export const MAX_PART_COUNT = 10_000;

/**
 * The size of an upload's remaining parts: `preferred`, grown to a whole number of MiB when the
 * remaining bytes would otherwise need more parts than `partsLeft`. For a length not known yet
 * (deferred), `preferred`. Null when even parts of {@link MAX_PART_SIZE} cannot hold the bytes.
 *
 * @param remainingBytes bytes not yet in an uploaded part (the not-yet-received ones and those
 *   held as pending), or null while the length is deferred
 * @param partsLeft part numbers still free
 * @param preferred the configured part size
 */
export function partSizeFor(remainingBytes: number | null, partsLeft: number, preferred: number): number | null {
  if (remainingBytes === null || remainingBytes === 0) return preferred;
  if (partsLeft <= 0) return null;
  const needed = Math.ceil(Math.ceil(remainingBytes / partsLeft) / MiB) * MiB;
  const size = Math.max(preferred, needed);
  return size <= MAX_PART_SIZE ? size : null;
}
