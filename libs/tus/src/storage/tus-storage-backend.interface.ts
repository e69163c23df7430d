import { Inject } from '@nestjs/common';
import type { Readable, Transform } from 'node:stream';
import type { NewUpload, UploadConcatInfo, UploadInfo } from '../protocol/upload-info.js';

/** The bytes of one request, as a backend stores them. */
export interface ChunkSource {
  /** The request body. */
  readonly stream: Readable;
  /** Stages every byte passes through before it is stored (size limit, digest), in order. */
  readonly stages: readonly Transform[];
  /**
   * Runs once the body has ended, before the offset moves: a throw (checksum mismatch, a vetoed
   * finish) discards the whole chunk and leaves the upload exactly as it was.
   */
  verify(newOffset: number): Promise<void>;
  /**
   * Whether the bytes that arrived before the body was cut off are kept (checklist 18). False when
   * the chunk must be verified as a whole, e.g. against `Upload-Checksum`.
   */
  readonly keepOnInterrupt: boolean;
}

/** Changes a request makes to an upload's state besides its bytes. */
export interface UploadChanges {
  /** The length declared by a PATCH of a deferred-length upload. */
  length?: number;
  /** The renewed expiry. */
  expiresAt?: Date | null;
  /** A partial learning of the finals that wait for it (concatenation-unfinished). */
  concat?: UploadConcatInfo;
}

/** Releases a lock taken with {@link TusStorageBackend.lock}. */
export type ReleaseLock = () => Promise<void>;

/**
 * The storage contract: what every backend must do. A backend stores bytes and state; the module
 * owns the protocol (headers, validation, events, expiry). Every method that takes an id throws
 * `UploadNotFoundError` for an unknown upload.
 *
 * Everything else is an optional capability ({@link TusConcatenationCapability},
 * {@link TusLockingCapability}, {@link TusListingCapability}, {@link TusUnfinishedReadsCapability}),
 * found on the backend at start-up as tusd's store composer does: the module advertises the
 * extensions the backend makes possible, and falls back to an in-process lock where it has none.
 */
export interface TusStorageBackendCore {
  /** Prepares the storage (folder, bucket checks) once, at module start-up. */
  init?(): Promise<void>;

  /**
   * Optional: whether the storage is reachable and writable now (file: the folder takes a file;
   * S3: the bucket takes an object), for health checks (`TusStorageService.checkHealth()`,
   * `TusHealthIndicator`). Resolves when it is; throws an error saying why not. Leaves nothing
   * behind. A backend without it is reported healthy, unchecked.
   */
  checkHealth?(): Promise<void>;

  /** Creates an upload at offset 0. Must refuse an id that exists. */
  create(upload: NewUpload): Promise<UploadInfo>;

  /** Reads an upload's state. Safe without the lock: state is replaced atomically. */
  get(id: string): Promise<UploadInfo>;

  /** Applies state changes (under the lock), returning the new state. */
  update(upload: UploadInfo, changes: UploadChanges): Promise<UploadInfo>;

  /**
   * Appends one request's bytes at `upload.offset` (under the lock) and records the new offset; an
   * upload whose offset reaches its length is completed. See {@link ChunkSource} for what is kept
   * when the body fails.
   */
  write(upload: UploadInfo, chunk: ChunkSource, changes?: UploadChanges): Promise<UploadInfo>;

  /** Deletes every object of an upload (termination, expiry). */
  remove(upload: UploadInfo): Promise<void>;

  /** Streams stored bytes; `end` is inclusive, as in a `Range` header. */
  createReadStream(upload: UploadInfo, range?: { start?: number; end?: number }): Promise<Readable>;
}

/** Capability: the concatenation and concatenation-unfinished extensions. */
export interface TusConcatenationCapability {
  /**
   * Assembles a final upload from completed partials, in order, and records it as completed.
   * `upload` is either new, or a final created earlier by `create()` while its partials were
   * unfinished (concatenation-unfinished), whose state this replaces.
   */
  concatenate(upload: NewUpload | UploadInfo, parts: UploadInfo[]): Promise<UploadInfo>;
}

/**
 * Capability: a lock shared by every process that uses the same storage. Without it the module
 * serialises writers of an upload within its own process only, which is enough for one process.
 */
export interface TusLockingCapability {
  /**
   * Serialises writers of one upload, across processes where the backend is shared. Waits briefly
   * for a busy upload, then throws `UploadLockedError` (423). While it holds the lock, the holder
   * hears through `onReleaseRequested` that a request in another process waits for it (so that a
   * stalled holder can stop and save; checklist 21).
   */
  lock(id: string, onReleaseRequested?: () => void): Promise<ReleaseLock>;
}

/** Capability: listing, for the expiry sweep and `TusStorageService.list()`. */
export interface TusListingCapability {
  /** Every upload in the store, in no particular order. */
  list(): AsyncIterable<UploadInfo>;
}

/**
 * Capability: `createReadStream` can read an unfinished upload's bytes (option
 * `downloadUnfinished`). S3 cannot: a multipart upload's parts are not readable until completed.
 */
export interface TusUnfinishedReadsCapability {
  readonly readsUnfinished: boolean;
}

/** A backend: the core contract plus whichever capabilities it has. */
export type TusStorageBackend = TusStorageBackendCore &
  Partial<TusConcatenationCapability & TusLockingCapability & TusListingCapability & TusUnfinishedReadsCapability>;

/** Injection token of the backend the module uses (interface and token share the name). */
export const TusStorageBackend = Symbol('TusStorageBackend');

/** Injects the configured {@link TusStorageBackend}. */
export const InjectTusStorageBackend = (): ParameterDecorator => Inject(TusStorageBackend);
