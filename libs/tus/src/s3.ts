// The S3 backend, a separate entry (`nestjs-tus/s3`) so that apps on the file backend need not
// install the optional peer `@aws-sdk/client-s3`.
export { S3StorageBackend, PENDING_OBJECT_TAG } from './storage/s3/s3-storage.backend.js';
export type { S3StorageOptions } from './storage/s3/s3-storage.options.js';
export { TusS3Client, S3_CLIENT, InjectS3Client } from './storage/s3/s3-client.token.js';
