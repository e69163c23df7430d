// What the shared backend suite needs from the library, in one place.
export {
  type NewUpload,
  PayloadTooLargeError,
  type TusStorageBackend,
  type UploadInfo,
  UploadLockedError,
  UploadNotFoundError,
} from 'nestjs-tus';
export { generateUploadId as generateUploadIdForTests } from '../../../libs/tus/src/protocol/upload-id.js';
