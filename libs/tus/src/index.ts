export { TusModule } from './module/tus.module.js';
export { TUS_MODULE_OPTIONS, TUS_OPTIONS_TYPE, TUS_ASYNC_OPTIONS_TYPE } from './module/tus.module-definition.js';
export type {
  TusModuleOptions,
  TusModuleExtras,
  TusIetfOptions,
  TusIntent,
  TusCorsOptions,
  TusMetricsOptions,
  TusMetricsRegistry,
} from './module/tus-options.interface.js';
export { TusStorageService, type TusStorageHealth, type TusListOptions, type TusListPage } from './core/tus-storage.service.js';
export { TusClock, InjectTusClock, SystemClock } from './core/tus.clock.js';
export { TusEvent, type TusEventName } from './core/events/tus.events.js';
export type { TusPreEvent, TusPostEvent } from './module/tus-event-payloads.js';
export { TUS_VERSION, TUS_EXTENSIONS, TUS_EXPOSED_HEADERS, type TusExtension } from './protocol/tus.constants.js';
export * from './errors/tus.errors.js';
export type { UploadInfo, UploadConcatInfo, UploadStorageLocation, NewUpload, UploadProtocol } from './protocol/upload-info.js';
export type { UploadMetadata } from './protocol/metadata.js';
export {
  TusStorageBackend,
  InjectTusStorageBackend,
  type ChunkSource,
  type UploadChanges,
  type ReleaseLock,
  type TusStorageBackendCore,
  type TusConcatenationCapability,
  type TusLockingCapability,
  type TusListingCapability,
  type TusUnfinishedReadsCapability,
} from './storage/tus-storage-backend.interface.js';
export { FileStorageBackend, type FileStorageOptions } from './storage/file/file-storage.backend.js';
export { MemoryStorageBackend } from './storage/memory/memory-storage.backend.js';
export { KeyedMutex } from './storage/keyed-mutex.js';
export { keepsBytesAfter } from './storage/chunk-outcome.js';
export { encodeUploadInfo, decodeUploadInfo, type StoredUploadInfo } from './storage/upload-info.codec.js';
