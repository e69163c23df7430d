import { Inject, Injectable, Optional } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { STALLED_AFTER_MS } from '../protocol/tus.constants.js';
import { NO_METRICS, TUS_METRICS, type TusMetrics } from './observability/tus-metrics.js';

/** A request asked to stop because a newer one for the same upload arrived while it was stalled. */
export class RequestSupersededError extends Error {
  constructor() {
    super('A newer request for this upload took over');
    this.name = 'RequestSupersededError';
  }
}

/**
 * A request ended because the app shuts down. Like a cut-off body (not a protocol error), it keeps
 * what it received: the client resumes on the next process.
 */
export class ShutdownInterruptionError extends Error {
  constructor() {
    super('The server is shutting down');
    this.name = 'ShutdownInterruptionError';
  }
}

interface ActiveWrite {
  request: IncomingMessage;
  /** When its body last delivered bytes. */
  lastActivity(): number;
  ended: Promise<void>;
}

/**
 * The requests of this process that are streaming a body into an upload. When a client loses its
 * connection and retries, its old request may still hold the upload without receiving anything:
 * a newer request then asks it to stop (checklist 21). It ends like a cut-off body, keeping what
 * it received, so the retry is not blocked until a timeout. A request still receiving is left alone.
 * On shutdown they are all ended that way ({@link drain}).
 */
@Injectable()
export class ActiveWrites {
  private readonly writes = new Map<string, ActiveWrite>();
  /** Registered writes not yet ended: more than {@link writes} while a superseded one still saves. */
  private running = 0;
  private shuttingDown = false;

  constructor(@Optional() @Inject(TUS_METRICS) private readonly metrics: TusMetrics = NO_METRICS) {
    metrics.observeWrites({ uploads: () => this.writes.size, bodies: () => this.running });
  }

  /** True once {@link drain} began: no new body is taken. */
  get draining(): boolean {
    return this.shuttingDown;
  }

  /** Registers a request writing `id`; call the returned function when its write has ended. */
  register(id: string, request: IncomingMessage, lastActivity: () => number): () => void {
    let end!: () => void;
    const ended = new Promise<void>((resolve) => (end = resolve));
    const write: ActiveWrite = { request, lastActivity, ended };
    this.writes.set(id, write);
    this.running++;
    // Checked before it got here, yet it waited (for its lock) past the start of a shutdown.
    if (this.shuttingDown && !request.complete) request.destroy(new ShutdownInterruptionError());
    let done = false;
    return () => {
      if (this.writes.get(id) === write) this.writes.delete(id);
      if (!done) this.running--;
      done = true;
      end();
    };
  }

  /** Whether a request of this process is streaming into `id` (a synchronous check before {@link stopIfStalled}). */
  isWriting(id: string): boolean {
    return this.writes.has(id);
  }

  /**
   * Stops the write of `id` when its body has been silent for a while, and waits (at most
   * `waitMs`) for it to have saved what it received. A write whose request has already ended
   * (its client left, or the idle timeout ended it) is still saving: it is waited for too, so that
   * a client that saw its connection close and asks at once is told the offset after the save.
   * Resolves to whether a write was stopped or found ending.
   */
  async stopIfStalled(id: string, waitMs = 0): Promise<boolean> {
    const write = this.writes.get(id);
    if (write === undefined) return false;
    const { request } = write;
    // A body that has all arrived is only saving, and one the server holds back (bytes waiting
    // unread while storage is slow) is not the client's silence: neither is cut off, or the client
    // that is still sending loses its connection (seen under load: the winner of two PATCHes was
    // taken over by the loser waiting for the lock).
    if (!request.destroyed && !request.complete) {
      const heldBack = request.readableLength > 0 || request.readableFlowing === false;
      if (heldBack || Date.now() - write.lastActivity() < STALLED_AFTER_MS) return false;
      request.destroy(new RequestSupersededError());
      this.metrics.takeover();
    }
    if (waitMs > 0) await Promise.race([write.ended, sleep(waitMs)]);
    return true;
  }

  /**
   * Shutdown: takes no new body, ends every running one (each keeps what it received, as a cut-off
   * body does, and releases its lock), and waits at most `timeoutMs` for them to have saved.
   * Resolves to the ids of the uploads still saving when the time ran out.
   */
  async drain(timeoutMs: number): Promise<string[]> {
    this.shuttingDown = true;
    // A body that has all arrived is only saving: it answers as usual.
    for (const write of this.writes.values()) if (!write.request.complete) write.request.destroy(new ShutdownInterruptionError());
    const deadline = sleep(timeoutMs, 'timeout' as const, { ref: false });
    // Writes that waited for their lock register (and are ended) meanwhile: wait for them too.
    while (this.writes.size > 0) {
      const outcome = await Promise.race([Promise.all([...this.writes.values()].map((write) => write.ended)), deadline]);
      if (outcome === 'timeout') break;
    }
    return [...this.writes.keys()];
  }
}
