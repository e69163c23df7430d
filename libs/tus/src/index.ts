export { TusModule } from './tus.module.js';
export { TUS_MODULE_OPTIONS, TUS_OPTIONS_TYPE, TUS_ASYNC_OPTIONS_TYPE } from './tus.module-definition.js';
export type { TusModuleOptions, TusModuleExtras, TusIntent, TusCorsOptions, TusMetricsOptions, TusMetricsRegistry } from './tus-options.interface.js';
export { TusStorageService, type TusStorageHealth } from './tus-storage.service.js';
export { TusClock } from './tus.clock.js';
export { TusEvent, type TusEventName, type TusPreEvent, type TusPostEvent } from './events/tus.events.js';
export { TUS_VERSION, TUS_EXTENSIONS, TUS_EXPOSED_HEADERS, type TusExtension } from './tus.constants.js';
export * from './tus.errors.js';
export type { UploadInfo, UploadConcatInfo, UploadStorageLocation, NewUpload } from './upload-info.js';
export type { UploadMetadata } from './protocol/metadata.js';
export {
  TusStorageBackend,
  InjectTusStorageBackend,
  type ChunkSource,
  type UploadChanges,
  type ReleaseLock,
} from './storage/tus-storage-backend.interface.js';
export { FileStorageBackend, type FileStorageOptions } from './storage/file-storage.backend.js';
export { KeyedMutex } from './storage/keyed-mutex.js';
export { keepsBytesAfter } from './storage/chunk-outcome.js';
export { encodeUploadInfo, decodeUploadInfo, type StoredUploadInfo } from './storage/upload-info.codec.js';
