import { createHash, type Hash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Transform, type TransformCallback } from 'node:stream';
import { ChecksumMismatchError, InvalidRequestError } from '../errors/tus.errors.js';
import { CHECKSUM_ALGORITHMS, type ChecksumAlgorithm, parseUploadChecksum, type UploadChecksum } from '../protocol/upload-checksum.js';

/**
 * Digests a chunk while it streams to storage (one pass, no buffering) and compares the result
 * with `Upload-Checksum`, from the header (checksum) or from the trailer that follows the body
 * (checksum-trailer), once the body has ended.
 */
export class ChecksumVerifier {
  /** The pipeline stage that feeds the digests. */
  readonly stage: Transform;

  private constructor(
    private readonly hashes: Map<ChecksumAlgorithm, Hash>,
    private readonly expected: () => UploadChecksum,
  ) {
    const all = [...hashes.values()];
    this.stage = new Transform({
      transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
        for (const hash of all) hash.update(chunk);
        callback(null, chunk);
      },
    });
  }

  /** Verifies against the `Upload-Checksum` request header. */
  static forHeader(expected: UploadChecksum): ChecksumVerifier {
    return new ChecksumVerifier(new Map([[expected.algorithm, createHash(expected.algorithm)]]), () => expected);
  }

  /**
   * Verifies against an `Upload-Checksum` trailer. Its algorithm is known only at the end, so every
   * supported digest is computed on the way: the price of a single pass.
   */
  static forTrailer(request: IncomingMessage): ChecksumVerifier {
    const hashes = new Map(CHECKSUM_ALGORITHMS.map((algorithm) => [algorithm, createHash(algorithm)] as const));
    return new ChecksumVerifier(hashes, () => {
      const trailer = request.trailers['upload-checksum'];
      if (trailer === undefined) throw new InvalidRequestError('The announced Upload-Checksum trailer was not sent');
      return parseUploadChecksum(trailer);
    });
  }

  /** Throws 460 when the bytes that went through do not match (400 when the checksum is unusable). */
  verify(): void {
    const { algorithm, digest } = this.expected();
    if (!this.hashes.get(algorithm)!.digest().equals(digest)) throw new ChecksumMismatchError();
  }
}
