import { InvalidRequestError } from '../tus.errors.js';
import { isBase64 } from './base64.js';

/** Algorithms of the checksum extension, as `Tus-Checksum-Algorithm` lists them; sha1 is mandatory. */
export const CHECKSUM_ALGORITHMS = ['sha1', 'md5', 'sha256', 'sha512'] as const;
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];

const DIGEST_BYTES: Record<ChecksumAlgorithm, number> = { sha1: 20, md5: 16, sha256: 32, sha512: 64 };
// "<algorithm> <digest>", apart by HTTP whitespace (SP / HTAB) only: String.trim() and \s take more.
const HEADER = /^[ \t]*(\S+)[ \t]+(\S+)[ \t]*$/;

/** A parsed `Upload-Checksum` header. */
export interface UploadChecksum {
  algorithm: ChecksumAlgorithm;
  /** The expected digest, decoded from base64. */
  digest: Buffer;
}

/**
 * Parses `Upload-Checksum: <algorithm> <base64 digest>` (tus checksum extension). An unknown
 * algorithm, a malformed value, or a digest of the wrong size for its algorithm is a 400.
 */
export function parseUploadChecksum(header: string): UploadChecksum {
  const parts = HEADER.exec(header);
  if (parts === null) throw new InvalidRequestError('Upload-Checksum must be "<algorithm> <base64 digest>"');
  const [, name = '', encoded = ''] = parts;
  const algorithm = name.toLowerCase() as ChecksumAlgorithm;
  if (!CHECKSUM_ALGORITHMS.includes(algorithm)) {
    throw new InvalidRequestError(`Unsupported checksum algorithm "${name}"`);
  }
  const digest = Buffer.from(encoded, 'base64');
  if (!isBase64(encoded) || digest.length !== DIGEST_BYTES[algorithm]) {
    throw new InvalidRequestError(`Upload-Checksum: not a base64 ${algorithm} digest`);
  }
  return { algorithm, digest };
}
