import { Writable } from 'node:stream';
import { PayloadTooLargeError } from '../errors/tus.errors.js';
import type { StoredPart } from './stored-part.js';

/** Options of {@link PartSink}. */
export interface PartSinkOptions {
  /** Size of every part this sink uploads. */
  partSize: number;
  /** Number of the first part it uploads. */
  firstPartNumber: number;
  /** The highest part number allowed; a part past it fails the stream with 413. */
  lastPartNumber: number;
  /**
   * Parts uploading at once (a part counts until {@link partStored} has settled for it); a full
   * part waits for a free slot, which holds the stream back.
   */
  maxInFlight: number;
  /** Bytes received by an earlier request (the pending object), placed before the stream's bytes. */
  prefill: Uint8Array;
  /** Uploads one part, resolving to its ETag. `body` is reused once the promise settles. */
  uploadPart(partNumber: number, body: Buffer): Promise<string>;
  /**
   * Called once a part is uploaded; its slot is freed when the promise settles. A rejection fails
   * the stream as a failed upload does. Used to record progress while the request runs: holding
   * the slot until then bounds what a crash can lose to the parts in flight plus the buffer.
   */
  partStored?(part: StoredPart): Promise<void>;
}

/** What a {@link PartSink} stored, once its uploads settled. */
export interface PartSinkResult {
  /**
   * Parts uploaded, in order. When an upload failed they need not be contiguous: only those
   * below the first failed part number can be built upon.
   */
  parts: StoredPart[];
  /** The first failure (of an upload or of `partStored`); the request's bytes cannot all be trusted to be stored when set. */
  error: unknown;
  /** Bytes after the last uploaded part (prefill included): the next pending object, or the last part. */
  tail: Buffer;
}

/**
 * The rolling buffer: bytes fill a part-sized buffer; each full buffer is uploaded as a part while
 * the next one fills. At most `maxInFlight` parts upload at once and buffers are reused, so memory
 * stays at `partSize x (maxInFlight + 1)` whatever the request's size.
 */
export class PartSink extends Writable {
  /** Bytes taken from the stream (the prefill not included). */
  received = 0;
  private buffer: Buffer;
  private filled: number;
  private nextPartNumber: number;
  private readonly spare: Buffer[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly uploaded: StoredPart[] = [];
  private uploadError: unknown;

  constructor(private readonly options: PartSinkOptions) {
    super({ highWaterMark: 1 << 20 });
    this.buffer = Buffer.allocUnsafe(options.partSize);
    this.buffer.set(options.prefill);
    this.filled = options.prefill.length;
    this.nextPartNumber = options.firstPartNumber;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.append(chunk).then(() => callback(), callback);
  }

  /** Waits for every part upload to settle; call once the stream has ended or failed. */
  async settle(): Promise<PartSinkResult> {
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
    const parts = this.uploaded.sort((a, b) => a.partNumber - b.partNumber);
    return { parts, error: this.uploadError, tail: this.buffer.subarray(0, this.filled) };
  }

  private async append(chunk: Buffer): Promise<void> {
    let position = 0;
    while (position < chunk.length) {
      if (this.uploadError !== undefined) throw this.uploadError;
      // Every part number is used up: not even a short last part could hold another byte.
      if (this.nextPartNumber > this.options.lastPartNumber) throw this.tooManyParts();
      const count = Math.min(chunk.length - position, this.buffer.length - this.filled);
      chunk.copy(this.buffer, this.filled, position, position + count);
      this.filled += count;
      position += count;
      this.received += count;
      if (this.filled === this.buffer.length) await this.sendFullPart();
    }
  }

  private async sendFullPart(): Promise<void> {
    const partNumber = this.nextPartNumber++;
    if (partNumber > this.options.lastPartNumber) throw this.tooManyParts();
    const body = this.buffer;
    const fail = (error: unknown) => {
      this.uploadError ??= error;
    };
    const upload: Promise<void> = this.options.uploadPart(partNumber, body).then(
      async (etag) => {
        const part = { partNumber, etag, size: body.length };
        this.uploaded.push(part);
        this.spare.push(body);
        await this.options.partStored?.(part).catch(fail);
      },
      // A failed request may still read its body: that buffer is not reused.
      fail,
    );
    const tracked = upload.finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
    if (this.inFlight.size >= this.options.maxInFlight) await Promise.race(this.inFlight);
    this.buffer = this.spare.pop() ?? Buffer.allocUnsafe(this.options.partSize);
    this.filled = 0;
  }

  private tooManyParts(): PayloadTooLargeError {
    return new PayloadTooLargeError(`The upload would need more than ${this.options.lastPartNumber} parts`);
  }
}
