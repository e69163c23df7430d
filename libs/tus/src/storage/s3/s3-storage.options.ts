import type { S3Client } from '@aws-sdk/client-s3';

/** Options of {@link S3StorageBackend}. */
export interface S3StorageOptions {
  /**
   * The client, configured by the application. Many S3-compatible servers (Ceph RGW among them)
   * need `requestChecksumCalculation: 'WHEN_REQUIRED'` and `responseChecksumValidation:
   * 'WHEN_REQUIRED'` for streamed bodies; AWS accepts both settings.
   */
  client: S3Client;
  /** The bucket; it must exist (checked at start-up). */
  bucket: string;
  /**
   * Prepended to every key, e.g. `'uploads/'`.
   * @default ''
   */
  keyPrefix?: string;
  /**
   * Size of the parts of the multipart upload behind each upload, at least 5 MiB. Grows for an
   * upload whose length would need more than `maxParts` parts. Each request holds up to
   * `partSize x (maxConcurrentPartUploads + 1)` bytes in memory.
   * @default 8388608 (8 MiB)
   */
  partSize?: number;
  /**
   * Highest number of parts of one upload (S3 allows 10,000). A deferred-length upload keeps
   * `partSize` until its length is declared, so it is assumed to fit `partSize x maxParts` bytes
   * (78 GiB with the defaults); bytes past that are refused with 413.
   * @default 10000
   */
  maxParts?: number;
  /**
   * Parts one request uploads at once while it keeps receiving; a request whose parts are all in
   * flight is held back (backpressure).
   * @default 4
   */
  maxConcurrentPartUploads?: number;
  /**
   * How long a request waits for another request (of this or another process sharing the bucket)
   * that holds the same upload before answering 423. Processes share the lock through a
   * `<prefix><id>.lock` object, present while a request writes.
   * @default 3000
   */
  lockTimeoutMs?: number;
  /**
   * A lock object not renewed for this long belongs to a crashed process (on another host; one of
   * this host is known dead at once) and is taken over. Holders renew theirs every third of this.
   * @default 30000
   */
  lockStaleMs?: number;
}

/** The default part size: 8 MiB. */
export const DEFAULT_S3_PART_SIZE = 8 * 1024 * 1024;
