import { Injectable } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { STALLED_AFTER_MS } from './tus.constants.js';

/** A request asked to stop because a newer one for the same upload arrived while it was stalled. */
export class RequestSupersededError extends Error {
  constructor() {
    super('A newer request for this upload took over');
    this.name = 'RequestSupersededError';
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
 */
@Injectable()
export class ActiveWrites {
  private readonly writes = new Map<string, ActiveWrite>();

  /** Registers a request writing `id`; call the returned function when its write has ended. */
  register(id: string, request: IncomingMessage, lastActivity: () => number): () => void {
    let end!: () => void;
    const ended = new Promise<void>((resolve) => (end = resolve));
    const write: ActiveWrite = { request, lastActivity, ended };
    this.writes.set(id, write);
    return () => {
      if (this.writes.get(id) === write) this.writes.delete(id);
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
    if (!write.request.destroyed) {
      if (Date.now() - write.lastActivity() < STALLED_AFTER_MS) return false;
      write.request.destroy(new RequestSupersededError());
    }
    if (waitMs > 0) await Promise.race([write.ended, sleep(waitMs)]);
    return true;
  }
}
