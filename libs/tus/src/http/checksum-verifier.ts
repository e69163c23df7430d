import { createHash, type Hash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Transform, type TransformCallback } from 'node:stream';
import { ChecksumMismatchError, InvalidRequestError } from '../errors/tus.errors.js';
import { CHECKSUM_ALGORITHMS, type ChecksumAlgorithm, parseUploadChecksum, type UploadChecksum } from '../protocol/upload-checksum.js';

/** A digest the bytes must have, and the error that says they do not. */
export interface DigestExpectation {
  readonly algorithm: ChecksumAlgorithm;
  readonly digest: Buffer;
  readonly mismatch: () => Error;
}

/**
 * Digests a chunk while it streams to storage (one pass, no buffering) and compares the result
 * with what the request announced: tus's `Upload-Checksum`, from the header (checksum) or from
 * the trailer that follows the body (checksum-trailer), or the IETF draft's RFC 9530 digests
 * (`Content-Digest`, `Repr-Digest`), once the body has ended.
 */
export class ChecksumVerifier {
  /** The pipeline stage that feeds the digests. */
  readonly stage: Transform;

  private constructor(
    private readonly hashes: Map<ChecksumAlgorithm, Hash>,
    private readonly expected: () => readonly DigestExpectation[],
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
    const expectation = { ...expected, mismatch: () => new ChecksumMismatchError() };
    return new ChecksumVerifier(new Map([[expected.algorithm, createHash(expected.algorithm)]]), () => [expectation]);
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
      return [{ ...parseUploadChecksum(trailer), mismatch: () => new ChecksumMismatchError() }];
    });
  }

  /**
   * Verifies against several digests at once (the IETF draft: `Content-Digest` and `Repr-Digest`,
   * each with sha-256 and/or sha-512): every one must match, each algorithm computed once.
   */
  static forDigests(expected: readonly DigestExpectation[]): ChecksumVerifier {
    const hashes = new Map(expected.map(({ algorithm }) => [algorithm, createHash(algorithm)] as const));
    return new ChecksumVerifier(hashes, () => expected);
  }

  /** Throws the expectation's error when the bytes that went through do not match (400 when the checksum is unusable). */
  verify(): void {
    const expectations = this.expected();
    const actual = new Map([...this.hashes].map(([algorithm, hash]) => [algorithm, hash.digest()] as const));
    for (const { algorithm, digest, mismatch } of expectations) {
      if (!actual.get(algorithm)!.equals(digest)) throw mismatch();
    }
  }
}
