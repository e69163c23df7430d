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

/**
 * The watch of the reads and the lock's links, one for the process: the upload folders of a process
 * nearly always share one disk. Calls that create a file (`.info`'s temporary file) are judged by a
 * watch of their own: an inode's allocation is slow now and then where a read is not (0.2 to over
 * 2 ms on an ext4 without a journal), and a spell of slow creations must not send the reads of
 * every HEAD to the thread pool with them.
 */
const readsAndLinks = new SlowCallWatch();

/**
 * Runs `sync` on the event loop while such calls are fast, `pooled` (the same work through the
 * thread pool) otherwise. For the small calls of every request on a local disk: reading and
 * replacing `.info`, a lock's `link()` and `unlink()`. Through the pool each would cost a hand-over
 * to a pool thread and back (on a machine whose cores are busy, waking that thread preempts the
 * event loop), and the pool's threads would create and rename entries of the one upload folder at
 * once, contending for the folder's lock in the kernel (in a profile of the small-upload scenario
 * on an ext4 without a journal, a tenth of the server's CPU was spent spinning on it). On a network
 * file system every call is a round trip that would stall every other request meanwhile: after a
 * few slow calls, calls go back to the pool for a while. Not the data file's creation: measured on
 * the event loop too (issue 16), it saved CPU but cost 8-16 % of the small uploads' throughput, the
 * event loop waiting out each inode's allocation (0.2 to over 2 ms on an ext4 without a journal).
 */
export async function onEventLoopWhileFast<T>(
  sync: () => T,
  pooled: () => Promise<T>,
  watch: SlowCallWatch = readsAndLinks,
): Promise<T> {
  if (!watch.useEventLoop(Date.now())) return pooled();
  const started = process.hrtime.bigint();
  try {
    return sync();
  } finally {
    watch.record(process.hrtime.bigint() - started, Date.now());
  }
}
