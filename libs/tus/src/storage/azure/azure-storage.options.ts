import type { ContainerClient } from '@azure/storage-blob';

/** Options of {@link AzureBlobStorageBackend}. */
export interface AzureBlobStorageOptions {
  /**
   * The container, as a client the application configured (connection string, SAS URL or an Entra
   * ID credential). It must exist (checked at start-up). Server-side concatenation needs a client
   * that can sign a read SAS (a shared key) or a container URL carrying a SAS; with any other
   * credential the partials are streamed through the process instead.
   */
  containerClient: ContainerClient;
  /**
   * Prepended to every blob name, e.g. `'uploads/'`.
   * @default ''
   */
  keyPrefix?: string;
  /**
   * Size of the blocks a request stages, in bytes (Azure allows 4000 MiB). Grows for an upload
   * whose length would need more than `maxBlocks` blocks. Each request holds up to
   * `blockSize x (maxConcurrentBlockUploads + 1)` bytes in memory.
   * @default 8388608 (8 MiB)
   */
  blockSize?: number;
  /**
   * Highest number of blocks of one upload (Azure commits at most 50,000 per blob). Every request
   * adds its whole blocks and one short block for its last bytes, so an upload sent in many small
   * PATCHes uses a block per PATCH; a request past the limit is refused with 413.
   * @default 50000
   */
  maxBlocks?: number;
  /**
   * Blocks one request stages at once while it keeps receiving; a request whose blocks are all in
   * flight is held back (backpressure).
   * @default 4
   */
  maxConcurrentBlockUploads?: number;
  /**
   * How long a request waits for another request (of this or another process sharing the
   * container) that holds the same upload before answering 423.
   * @default 3000
   */
  lockTimeoutMs?: number;
  /**
   * Duration of the blob lease that is the upload's lock, in ms, rounded to whole seconds within
   * Azure's 15-60 s. A holder renews it every third of this; a lease its holder stopped renewing
   * (the process died on another host) expires by itself after this long. A holder of this host
   * that is known dead is broken at once.
   * @default 30000
   */
  lockStaleMs?: number;
  /**
   * Client-side deadline of each Azure call that moves no bulk bytes (`.info` reads and writes, the
   * lock's lease calls, listings, Put Block List, properties), and of a download's answer to begin
   * (its body then streams without one), in ms. The SDK has none of its own
   * (`retryOptions.tryTimeoutInMs` is only the service's `timeout` parameter), so without it a
   * connection that goes silent holds the request, and its upload's lock, for ever. It bounds the
   * call with all the SDK's retries (an aborted call is not retried): keep the client's
   * `retryOptions` within it. A call past it fails as `503 Storage unavailable`; tus clients retry.
   * @default 30000
   */
  requestTimeoutMs?: number;
  /**
   * The slowest rate, in bytes a second, at which a block upload (Put Block, and a partial's range
   * copied by Put Block From URL) is still waited for: a block of n bytes gets
   * `requestTimeoutMs + n / minBlockBytesPerSecond` before it is abandoned as stalled (8 MiB at the
   * default: 30 s + 32 s). The `maxConcurrentBlockUploads` blocks of a request share the link, so
   * the default suits a link of 1 MiB/s and more with 4 in flight.
   * @default 262144 (256 KiB/s)
   */
  minBlockBytesPerSecond?: number;
}

const MiB = 1024 * 1024;

/** The default block size: 8 MiB. */
export const DEFAULT_AZURE_BLOCK_SIZE = 8 * MiB;

/** Azure's largest block (service version 2019-12-12 and later). */
export const MAX_AZURE_BLOCK_SIZE = 4000 * MiB;

/** The default deadline of an Azure call that moves no bulk bytes: 30 s. */
export const DEFAULT_AZURE_REQUEST_TIMEOUT_MS = 30_000;

/** The default slowest block upload waited for: 256 KiB/s. */
export const DEFAULT_AZURE_MIN_BLOCK_BYTES_PER_SECOND = 256 * 1024;

/** Azure's highest number of committed blocks of one blob. */
export const MAX_AZURE_BLOCK_COUNT = 50_000;
