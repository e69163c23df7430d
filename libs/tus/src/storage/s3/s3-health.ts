import { uniqueSuffix } from '../unique-suffix.js';
import type { S3Objects } from './s3-objects.js';

/**
 * The S3 backend's health: the bucket answers, and takes a small object under the key prefix (a
 * probe, written and deleted). An unreachable server fails it as `StorageUnavailableError`, a
 * missing bucket or lost credentials with S3's own error.
 */
export async function checkBucketWritable(objects: S3Objects, keyPrefix: string): Promise<void> {
  await objects.headBucket();
  const probe = `${keyPrefix}.tus-health-${uniqueSuffix()}`;
  await objects.put(probe, 'ok', { length: 2, contentType: 'text/plain' });
  await objects.delete(probe);
}
