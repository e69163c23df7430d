import { createHash } from 'node:crypto';

export const KiB = 1024;
export const MiB = 1024 * KiB;

/** The hex SHA-256 of `bytes`: what tests compare to tell that stored bytes are the bytes sent. */
export const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/** `bytes` in MiB with two decimals, for the figures a test prints. */
export const mib = (bytes: number): string => (bytes / MiB).toFixed(2);

/** The base64 digest of `data` with a Node hash `algorithm` (`sha1`, `md5`, ...): the value of an `Upload-Checksum`. */
export const base64Digest = (algorithm: string, data: string | Buffer): string => createHash(algorithm).update(data).digest('base64');

/** `data` cut into pieces of `size` bytes (the last one shorter), without copying. */
export const piecesOf = (data: Buffer, size: number): Buffer[] =>
  Array.from({ length: Math.ceil(data.length / size) }, (_, index) => data.subarray(index * size, (index + 1) * size));
