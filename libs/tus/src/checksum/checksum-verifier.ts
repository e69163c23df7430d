import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { ChecksumMismatchError } from '../tus.errors.js';
import type { UploadChecksum } from '../protocol/upload-checksum.js';

/**
 * Digests a chunk while it streams to storage (one pass, no buffering) and compares the result
 * with `Upload-Checksum` once the body has ended.
 */
export class ChecksumVerifier {
  private readonly hash: Hash;
  /** The pipeline stage that feeds the digest. */
  readonly stage: Transform;

  constructor(private readonly expected: UploadChecksum) {
    const hash = createHash(expected.algorithm);
    this.hash = hash;
    this.stage = new Transform({
      transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
        hash.update(chunk);
        callback(null, chunk);
      },
    });
  }

  /** Throws 460 when the bytes that went through do not match. */
  verify(): void {
    if (!this.hash.digest().equals(this.expected.digest)) throw new ChecksumMismatchError();
  }
}
