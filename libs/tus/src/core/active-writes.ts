import { Inject, Injectable, Optional } from '@nestjs/common';
import { setImmediate as ioTurn, setTimeout as sleep } from 'node:timers/promises';
import { RequestSupersededError, ShutdownInterruptionError } from '../errors/tus.errors.js';
import type { UploadBody } from './upload-body.js';
import { NO_METRICS, TusMetrics } from './observability/tus-metrics.js';


/** A request whose body sent nothing for this long gives way to a newer request for its upload. */
export const STALLED_AFTER_MS = 1_000;

/** The longest wait for a write whose client is still connected and waiting for its answer. */
export const CONNECTED_WAIT_MS = 2_000;

interface ActiveWrite {
  body: UploadBody;
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

  constructor(@Optional() @Inject(TusMetrics) private readonly metrics: TusMetrics = NO_METRICS) {
    metrics.observeWrites({ uploads: () => this.writes.size, bodies: () => this.running });
  }

  /** True once {@link drain} began: no new body is taken. */
  get draining(): boolean {
    return this.shuttingDown;
  }

  /** Registers a body being written into `id`; call the returned function when its write has ended. */
  register(id: string, body: UploadBody, lastActivity: () => number): () => void {
    let end!: () => void;
    const ended = new Promise<void>((resolve) => (end = resolve));
    const write: ActiveWrite = { body, lastActivity, ended };
    this.writes.set(id, write);
    this.running++;
    // Checked before it got here, yet it waited (for its lock) past the start of a shutdown.
    if (this.shuttingDown && body.receiving) body.interrupt(new ShutdownInterruptionError());
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
   * `waitMs`) for it to have saved what it received. A write whose client has gone (cut off, or
   * ended by the idle timeout) is still saving: it is waited for too, so that a client that saw its
   * connection close and asks at once is told the offset after the save. A write whose whole body
   * arrived and whose client still waits for the answer (the last save, the app's `tus.pre-finish`
   * listeners) is waited for at most {@link CONNECTED_WAIT_MS}: its own answer tells its client, and
   * whoever else asks meanwhile (a progress poll) may be told the offset before it.
   * Resolves to whether a write was stopped or found ending.
   */
  async stopIfStalled(id: string, waitMs = 0): Promise<boolean> {
    const write = this.writes.get(id);
    if (write === undefined) return false;
    const { body } = write;
    let stopped = false;
    // A body that has all arrived is only saving, and one the server holds back (bytes waiting
    // unread while storage is slow) is not the client's silence: neither is cut off, or the client
    // that is still sending loses its connection (seen under load: the winner of two PATCHes was
    // taken over by the loser waiting for the lock).
    if (body.receiving) {
      if (!looksSilent(write)) return false;
      // The silence is judged by this process's clock. After the event loop was blocked (a long
      // GC pause, a slow synchronous call), timers run before the sockets are read, and so does
      // the rest of the I/O callbacks of the blocked turn: every body then looks silent while its
      // client's bytes wait in the kernel. Judged again once the sockets have been read: two
      // turns, since a first immediate asked for from an I/O callback runs before the next poll.
      await ioTurn();
      await ioTurn();
      if (body.receiving && !looksSilent(write)) return false;
    }
    if (body.receiving) {
      body.interrupt(new RequestSupersededError());
      this.metrics.takeover();
      stopped = true;
    }
    const wait = stopped || body.clientGone ? waitMs : Math.min(waitMs, CONNECTED_WAIT_MS);
    // Unreferenced: a HEAD waiting here does not keep a closing process alive.
    if (wait > 0) await Promise.race([write.ended, sleep(wait, undefined, { ref: false })]);
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
    for (const write of this.writes.values()) if (write.body.receiving) write.body.interrupt(new ShutdownInterruptionError());
    const deadline = sleep(timeoutMs, 'timeout' as const, { ref: false });
    // Writes that waited for their lock register (and are ended) meanwhile: wait for them too.
    while (this.writes.size > 0) {
      const outcome = await Promise.race([Promise.all([...this.writes.values()].map((write) => write.ended)), deadline]);
      if (outcome === 'timeout') break;
    }
    return [...this.writes.keys()];
  }
}

/** No bytes for {@link STALLED_AFTER_MS}, and none waiting unread on the server's side. */
function looksSilent(write: ActiveWrite): boolean {
  return !write.body.heldBack && Date.now() - write.lastActivity() >= STALLED_AFTER_MS;
}
