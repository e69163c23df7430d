import { Transform, type TransformCallback } from 'node:stream';
import { PayloadTooLargeError } from '../errors/tus.errors.js';

/**
 * Counts the bytes of a request body on their way to storage: past `maxBytes` it fails the
 * stream with 413 before the excess byte reaches a backend (checklist 17, also for chunked
 * bodies that declare no length), and it reports progress for `tus.post-receive`.
 */
export class ByteMeter extends Transform {
  private count = 0;
  /** When the last bytes went through (ms since the epoch): how a stalled request is told apart. */
  lastActivity = Date.now();

  constructor(
    private readonly maxBytes: number,
    private readonly reason: string,
    private readonly onProgress?: (bytes: number) => void,
  ) {
    super();
  }

  /** Bytes that went through so far. */
  get bytes(): number {
    return this.count;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.count += chunk.length;
    this.lastActivity = Date.now();
    if (this.count > this.maxBytes) {
      callback(new PayloadTooLargeError(this.reason));
      return;
    }
    this.onProgress?.(this.count);
    callback(null, chunk);
  }
}
