/** A call on the event loop slower than this (a network file system, a cold disk) blocks it too long. */
const SLOW_CALL_NS = 2_000_000n;
/**
 * How many slow calls among the last {@link WINDOW} send calls to the thread pool. One is not
 * enough: on a busy machine the scheduler preempts the event loop's thread for a time slice (a few
 * milliseconds) in the middle of a call that took microseconds of work (measured under load: about
 * 1 call in 30). A network file system is slow at most calls, even where fast answers (an `EEXIST`,
 * a cached read) come between them: hence a window, not a streak in a row.
 */
const SLOW_CALLS = 3;
const WINDOW = 10;
/** How long calls go through the thread pool after that, before the event loop is tried again. */
const SLOW_SPELL_MS = 10_000;

/**
 * Decides whether the small file-system calls of a request run on the event loop: yes while they
 * are fast, no for a while after {@link SLOW_CALLS} slow ones among the last {@link WINDOW}. Pure:
 * the caller measures.
 */
export class SlowCallWatch {
  /** Whether each of the last calls (at most {@link WINDOW}) was slow, oldest first. */
  private readonly recent: boolean[] = [];
  /** Until when calls go through the thread pool (`Date.now()`). */
  private poolUntil = 0;

  /** Whether the next call may run on the event loop, at `nowMs`. */
  useEventLoop(nowMs: number): boolean {
    return nowMs >= this.poolUntil;
  }

  /** Records how long a call on the event loop took, ending at `nowMs`. */
  record(elapsedNs: bigint, nowMs: number): void {
    this.recent.push(elapsedNs > SLOW_CALL_NS);
    if (this.recent.length > WINDOW) this.recent.shift();
    if (this.recent.filter(Boolean).length < SLOW_CALLS) return;
    // Each try on the event loop after a spell starts from a clean window.
    this.recent.length = 0;
    this.poolUntil = nowMs + SLOW_SPELL_MS;
  }
}

/** One watch for the process: the upload folders of a process nearly always share one disk. */
const watch = new SlowCallWatch();

/**
 * Runs `sync` on the event loop while such calls are fast, `pooled` (the same work through the
 * thread pool) otherwise. For the small calls of every request on a local disk: reading and
 * replacing `.info`, creating the data file, a lock's `link()` and `unlink()`. Through the pool
 * each would cost a hand-over to a pool thread and back (on a machine whose cores are busy, waking
 * that thread preempts the event loop), and the pool's threads would create and rename entries of
 * the one upload folder at once, contending for the folder's lock in the kernel (in a profile of
 * the small-upload scenario on this machine's ext4, a tenth of the server's CPU was spent spinning
 * on it). On a network file system every call is a round trip that would stall every other request
 * meanwhile: after a few slow calls, calls go back to the pool for a while.
 */
export async function onEventLoopWhileFast<T>(sync: () => T, pooled: () => Promise<T>): Promise<T> {
  if (!watch.useEventLoop(Date.now())) return pooled();
  const started = process.hrtime.bigint();
  try {
    return sync();
  } finally {
    watch.record(process.hrtime.bigint() - started, Date.now());
  }
}
