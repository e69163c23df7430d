import type { TusExtension } from '../protocol/tus.constants.js';
import type { NewUpload, UploadInfo } from '../protocol/upload-info.js';
import { DEFAULT_LOCK_TIMEOUT_MS } from './lock-timing.js';
import { KeyedMutex } from './keyed-mutex.js';
import type { ReleaseLock, TusStorageBackend } from './tus-storage-backend.interface.js';

/** Extensions every backend makes possible: the core implements them over the required contract. */
const CORE_EXTENSIONS: readonly TusExtension[] = [
  'creation',
  'creation-with-upload',
  'creation-defer-length',
  'termination',
  'expiration',
  'checksum',
  'checksum-trailer',
];

/**
 * A backend as the core uses it, composed once at start-up from the capabilities it has (as
 * tusd's store composer does): its own shared lock or an in-process one, and the extensions it
 * makes possible.
 */
export interface ComposedStorage {
  /** The backend's required operations, called directly. */
  readonly backend: TusStorageBackend;
  /** Extensions the backend makes possible, in `Tus-Extension` order. */
  readonly extensions: readonly TusExtension[];
  /** True when the lock is the backend's own (shared across processes), false for the in-process fallback. */
  readonly sharedLock: boolean;
  readonly readsUnfinished: boolean;
  /** The backend's lock, or an in-process one (enough for a backend that one process uses). */
  lock(id: string, onReleaseRequested?: () => void): Promise<ReleaseLock>;
  /** Absent when the backend cannot concatenate (the concatenation extensions are then off). */
  readonly concatenate: ((upload: NewUpload | UploadInfo, parts: UploadInfo[]) => Promise<UploadInfo>) | undefined;
  /** Absent when the backend cannot list (no expiry sweep, no `TusStorageService.list()`). */
  readonly list: (() => AsyncIterable<UploadInfo>) | undefined;
}

/** Finds the backend's capabilities; methods are looked up at each call (tests replace them on the instance). */
export function composeStorage(backend: TusStorageBackend, lockTimeoutMs = DEFAULT_LOCK_TIMEOUT_MS): ComposedStorage {
  const ownLock = typeof backend.lock === 'function';
  const canConcatenate = typeof backend.concatenate === 'function';
  const canList = typeof backend.list === 'function';
  const local = new KeyedMutex();
  return {
    backend,
    extensions: canConcatenate ? [...CORE_EXTENSIONS, 'concatenation', 'concatenation-unfinished'] : CORE_EXTENSIONS,
    sharedLock: ownLock,
    readsUnfinished: backend.readsUnfinished === true,
    lock: ownLock
      ? (id, onReleaseRequested) => backend.lock!(id, onReleaseRequested)
      : async (id) => {
          const release = await local.acquire(id, lockTimeoutMs);
          return async () => release();
        },
    concatenate: canConcatenate ? (upload, parts) => backend.concatenate!(upload, parts) : undefined,
    list: canList ? () => backend.list!() : undefined,
  };
}
