import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';

/**
 * How many bytes of a body the module takes in before the core reads it (while the request waits
 * for its lock and for the storage), and at most between the client and a slower storage. A few
 * TCP windows: enough to keep the bytes a client sends and then cuts off during that wait, small
 * enough that hundreds of waiting requests cost little memory.
 */
export const EARLY_BODY_BYTES = 64 * 1024;

/** The bodies taken in early, by request: the error answer lets go of them ({@link discardEarlyBody}). */
const earlyBodies = new WeakMap<IncomingMessage, EarlyBody>();

/**
 * A request's body, read from the moment the front door sees the request rather than from the
 * moment the core starts storing it. Node discards what a destroyed request had buffered: a client
 * that sent bytes and lost its connection while its request waited for the upload's lock or for
 * the storage (a lock PUT and an `.info` GET on S3, seconds on a loaded machine) lost them all, and
 * checklist 18 asks to keep what arrived. The bytes taken in here are the module's: a cut
 * connection ends the body only once they have been handed on, as a body cut off mid-write does.
 *
 * At most {@link EARLY_BODY_BYTES} wait here: past that the request is paused, and TCP holds the
 * client back as it would without this stage.
 */
export class EarlyBody extends Readable {
  private readonly queue: Buffer[] = [];
  private queued = 0;
  /** The consumer asked for bytes that have not come yet. */
  private wanted = false;
  private ended = false;
  private failure: Error | undefined;
  private dropped = false;
  /** The end has been handed on: nothing more comes. */
  private over = false;

  constructor(
    private readonly request: IncomingMessage,
    private readonly limit = EARLY_BODY_BYTES,
  ) {
    // No buffer of the stream's own: a byte is either in `queue` or handed on, so that a failure
    // delivered once `queue` is empty loses nothing that arrived.
    super({ highWaterMark: 0 });
    earlyBodies.set(request, this);
    // Read to its end already (nothing to take in): the body is empty from here.
    if (request.readableEnded) {
      this.ended = true;
      return;
    }
    // The connection closed before the front door saw the request: its buffered bytes are gone.
    if (request.destroyed) {
      this.failure = request.errored ?? new Error('aborted');
      return;
    }
    request.on('data', this.onData);
    request.once('end', this.onEnd);
    request.once('error', this.onFailure);
    // A body whose end was never read is an interruption: the connection closed mid-body, or even
    // after the whole body arrived but before its end was read.
    request.once('close', this.onClose);
  }

  /** Bytes taken in and not yet handed on. */
  get pending(): number {
    return this.queued;
  }

  /**
   * Lets go of the request: what was taken in is dropped and the rest of the body is read and
   * thrown away, so that a client still sending gets its answer (an error before the chunk was
   * stored) and a kept-alive connection stays usable.
   */
  discard(): void {
    this.dropped = true;
    this.queue.length = 0;
    this.queued = 0;
    this.request.off('data', this.onData);
    this.request.resume();
    if (!this.destroyed) this.destroy();
  }

  override _read(): void {
    this.wanted = true;
    this.deliver();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // Destroyed by its consumer (a chunk refused midway): the request itself stays, for its answer.
    this.request.off('data', this.onData);
    callback(error);
  }

  private readonly onData = (piece: Buffer): void => {
    if (this.dropped) return;
    this.queue.push(piece);
    this.queued += piece.length;
    if (this.queued >= this.limit) this.request.pause();
    this.deliver();
  };

  private readonly onEnd = (): void => {
    this.ended = true;
    this.deliver();
  };

  private readonly onFailure = (error: Error): void => {
    this.failure ??= error;
    this.deliver();
  };

  private readonly onClose = (): void => {
    if (!this.request.readableEnded) this.onFailure(this.request.errored ?? new Error('aborted'));
  };

  /** Hands on what the consumer asked for; the end or the failure only once nothing waits. */
  private deliver(): void {
    if (this.destroyed || this.dropped || this.over) return;
    while (this.wanted && this.queue.length > 0) {
      const piece = this.queue.shift()!;
      this.queued -= piece.length;
      this.wanted = this.push(piece);
    }
    if (this.queue.length === 0 && this.wanted) {
      if (this.ended) {
        this.over = true;
        this.push(null);
        return;
      }
      if (this.failure !== undefined) return this.fail(this.failure);
    }
    if (!this.ended && this.failure === undefined && this.queued < this.limit && this.request.isPaused()) this.request.resume();
  }

  /**
   * Ends the body with the request's failure, once the bytes handed on have all left the stream:
   * destroying it drops what it still holds. While a piece waits in it, an empty push lets the
   * consumer come back for more (a `_read` that pushes nothing is not called again).
   */
  private fail(failure: Error): void {
    if (this.readableLength === 0) {
      this.destroy(failure);
    } else {
      this.wanted = false;
      this.push(Buffer.alloc(0));
    }
  }
}

/** Takes a request's body in from now on ({@link EarlyBody}); the same one if it was taken already (on arrival). */
export function takeBodyEarly(request: IncomingMessage): EarlyBody {
  return earlyBodies.get(request) ?? new EarlyBody(request);
}

/**
 * An error answer's last word on a body taken in early and left unread (a chunk refused before it
 * was stored): drops it and drains the rest of the request. Without one, drains the request.
 */
export function discardEarlyBody(request: IncomingMessage): void {
  const body = earlyBodies.get(request);
  if (body === undefined) request.resume();
  else body.discard();
}
