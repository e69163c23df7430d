import { StorageUnavailableError } from '../../errors/tus.errors.js';

/**
 * The client-side deadlines of the Azure backend's calls. `@azure/storage-blob` 12.x has none of
 * its own: `retryOptions.tryTimeoutInMs` only becomes the service's `timeout` parameter, so a
 * connection that goes silent (a dead peer, a black-holed network) is waited on for ever, while the
 * upload's lease is renewed and the upload stays locked.
 */
export interface AzureDeadlines {
  /** A call that moves no bulk bytes (`.info`, the lock, a listing, a commit), in ms. */
  requestTimeoutMs: number;
  /** The slowest a block upload may go: a Put Block of n bytes gets `requestTimeoutMs + n / this`. */
  minBlockBytesPerSecond: number;
}

/** The longest delay `setTimeout` takes (about 24.8 days); a longer one would fire at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** The deadline of a call that sends (or, in the service, copies) `bytes` bytes of blocks. */
export function blockDeadlineMs(deadlines: AzureDeadlines, bytes: number): number {
  return Math.min(deadlines.requestTimeoutMs + Math.ceil((bytes * 1000) / deadlines.minBlockBytesPerSecond), MAX_TIMER_MS);
}

/**
 * Runs `work` with an abort signal that fires `ms` after the start; a call it ends fails as
 * `StorageUnavailableError` (503, which tus clients retry) saying which call Azure left unanswered.
 * The signal is handed to the SDK call, whose retry policy stops at an aborted signal (the abort is
 * no `RestError`, and its wait between tries listens to the signal too), so the deadline bounds the
 * call with all its tries. Once `work` settles the timer is cleared and the signal never fires: a
 * download's body, still streaming, is not cut by a deadline meant for its answer to begin.
 * `controller` lets one signal serve several calls in turn (the pages of a listing).
 */
export async function withDeadline<T>(ms: number, what: string, work: (abortSignal: AbortSignal) => Promise<T>, controller = new AbortController()): Promise<T> {
  const timer = setTimeout(() => controller.abort(), ms);
  try {
    return await work(controller.signal);
  } catch (error) {
    if (controller.signal.aborted) throw new StorageUnavailableError(`Azure did not answer ${what} within ${ms} ms`, { cause: error });
    throw error;
  } finally {
    clearTimeout(timer);
  }
}
