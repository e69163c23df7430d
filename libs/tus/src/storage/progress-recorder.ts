import type { StoredPart } from './stored-part.js';

/**
 * Records the parts of a request still running: `record` writes `.info` with them (conditionally).
 * Resolves to false when it chose not to record them (they wait for the request's end).
 */
export type RecordParts = (parts: readonly StoredPart[]) => Promise<boolean>;

interface Waiter {
  partNumber: number;
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * Records a request's parts in `.info` while the request runs, so that a crash of the process
 * loses only what no record covers yet. Parts finish out of order when several upload at once:
 * the contiguous run from the request's first part is what is recorded. One `.info` write at a
 * time, each with every part finished meanwhile (a slow write coalesces the next ones). A write
 * that fails with an error `stopsRequest` accepts (a lost condition: another writer won the
 * upload) stops all recording, and every part waiting for a record, and every later one, is told
 * so; any other failure, or a record `record` declines, only ends the recording: the request's own
 * end records the rest.
 */
export class ProgressRecorder {
  private readonly finished = new Map<number, StoredPart>();
  private readonly run: StoredPart[] = [];
  private readonly waiters: Waiter[] = [];
  private recorded = 0;
  private writing: Promise<void> | null = null;
  private failure: { error: unknown } | null = null;
  private closed = false;

  constructor(
    private readonly firstPartNumber: number,
    private readonly record: RecordParts,
    private readonly stopsRequest: (error: unknown) => boolean = () => true,
  ) {}

  /** Parts of this request that a write of `.info` holds. */
  get recordedParts(): readonly StoredPart[] {
    return this.run.slice(0, this.recorded);
  }

  /**
   * Adds an uploaded part. Resolves once a record holds it, or once recording is closed; rejects
   * when a record failed (the request must stop).
   */
  stored(part: StoredPart): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure.error);
    if (this.closed) return Promise.resolve();
    this.finished.set(part.partNumber, part);
    for (let next = this.nextInRun(); this.finished.has(next); next = this.nextInRun()) {
      this.run.push(this.finished.get(next)!);
      this.finished.delete(next);
    }
    const held = new Promise<void>((resolve, reject) => this.waiters.push({ partNumber: part.partNumber, resolve, reject }));
    // Started only with something to write: an async function that does not reach an await would
    // clear `writing` before it was even set.
    if (this.writing === null && this.recorded < this.run.length) this.writing = this.writeAll();
    return held;
  }

  /** Stops recording (the request's own end records the rest) and waits for a write in flight. */
  async close(): Promise<void> {
    this.closed = true;
    this.settleWaiters();
    await this.writing;
  }

  private nextInRun(): number {
    return this.firstPartNumber + this.run.length;
  }

  private async writeAll(): Promise<void> {
    try {
      while (!this.closed && this.failure === null && this.recorded < this.run.length) {
        const upTo = this.run.length;
        try {
          if (await this.record(this.run.slice(0, upTo))) this.recorded = upTo;
          else this.closed = true;
        } catch (error) {
          if (this.stopsRequest(error)) this.failure = { error };
          else this.closed = true;
        }
        this.settleWaiters();
      }
    } finally {
      this.writing = null;
    }
  }

  private settleWaiters(): void {
    const lastRecorded = this.firstPartNumber + this.recorded - 1;
    for (let index = this.waiters.length - 1; index >= 0; index--) {
      const waiter = this.waiters[index]!;
      if (this.failure !== null) waiter.reject(this.failure.error);
      else if (this.closed || waiter.partNumber <= lastRecorded) waiter.resolve();
      else continue;
      this.waiters.splice(index, 1);
    }
  }
}
