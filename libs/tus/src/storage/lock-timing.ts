/** How long a request waits for an upload held by another request before answering 423. */
export const DEFAULT_LOCK_TIMEOUT_MS = 3_000;
/** How long a lock goes unrenewed before it counts as abandoned (a crashed holder on another host). */
export const DEFAULT_LOCK_STALE_MS = 30_000;
