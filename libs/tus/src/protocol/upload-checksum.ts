import { InvalidRequestError } from '../errors/tus.errors.js';
import { isBase64 } from './base64.js';

/** Algorithms of the checksum extension, as `Tus-Checksum-Algorithm` lists them; sha1 is mandatory. */
export const CHECKSUM_ALGORITHMS = ['sha1', 'md5', 'sha256', 'sha512'] as const;
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];

// "<algorithm> <digest>", apart by HTTP whitespace (SP / HTAB) only: String.trim() and \s take more.
const HEADER = /^[ \t]*(\S+)[ \t]+(\S+)[ \t]*$/;

/** A parsed `Upload-Checksum` header. */
export interface UploadChecksum {
  algorithm: ChecksumAlgorithm;
  /** The expected digest, decoded from base64. */
  digest: Buffer;
}

/**
 * Parses `Upload-Checksum: <algorithm> <base64 digest>` (tus checksum extension, checklist 32).
 * An unknown algorithm or a value that does not parse is a 400. A digest of the wrong size for its
 * algorithm parses: it is a checksum that cannot match, so the comparison answers 460 and the
 * chunk is discarded, as for any other wrong digest.
 */
export function parseUploadChecksum(header: string): UploadChecksum {
  const parts = HEADER.exec(header);
  if (parts === null) throw new InvalidRequestError('Upload-Checksum must be "<algorithm> <base64 digest>"');
  const [, name = '', encoded = ''] = parts;
  const algorithm = name.toLowerCase() as ChecksumAlgorithm;
  if (!CHECKSUM_ALGORITHMS.includes(algorithm)) {
    throw new InvalidRequestError(`Unsupported checksum algorithm "${name}"`);
  }
  if (!isBase64(encoded)) throw new InvalidRequestError('Upload-Checksum: the digest is not base64');
  return { algorithm, digest: Buffer.from(encoded, 'base64') };
}
