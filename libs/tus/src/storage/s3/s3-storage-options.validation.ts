import { TusOptionsError } from '../../errors/tus.errors.js';
import { DEFAULT_LOCK_STALE_MS, DEFAULT_LOCK_TIMEOUT_MS } from '../lock-timing.js';
import { MAX_PART_COUNT, MIN_PART_SIZE } from './part-size.js';
import { DEFAULT_S3_PART_SIZE, type S3StorageOptions } from './s3-storage.options.js';

/** {@link S3StorageOptions} with every default applied. */
export type ResolvedS3StorageOptions = Required<S3StorageOptions>;

/**
 * The options with their defaults, checked: every problem at once, as one `TusOptionsError`, at
 * construction rather than at the first request.
 */
export function resolveS3StorageOptions(options: S3StorageOptions): ResolvedS3StorageOptions {
  const resolved: ResolvedS3StorageOptions = {
    client: options.client,
    bucket: options.bucket,
    keyPrefix: options.keyPrefix ?? '',
    partSize: options.partSize ?? DEFAULT_S3_PART_SIZE,
    maxParts: options.maxParts ?? MAX_PART_COUNT,
    maxConcurrentPartUploads: options.maxConcurrentPartUploads ?? 4,
    lockTimeoutMs: options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
    lockStaleMs: options.lockStaleMs ?? DEFAULT_LOCK_STALE_MS,
  };
  const problems: string[] = [];
  if (!options.client) problems.push('S3StorageBackend needs an S3Client (client)');
  if (!options.bucket) problems.push('S3StorageBackend needs a bucket');
  if (!Number.isSafeInteger(resolved.partSize) || resolved.partSize < MIN_PART_SIZE) {
    problems.push(`S3StorageBackend partSize must be an integer of at least ${MIN_PART_SIZE} bytes (5 MiB)`);
  }
  if (!Number.isInteger(resolved.maxParts) || resolved.maxParts < 1 || resolved.maxParts > MAX_PART_COUNT) {
    problems.push(`S3StorageBackend maxParts must be an integer from 1 to ${MAX_PART_COUNT}`);
  }
  if (!Number.isInteger(resolved.maxConcurrentPartUploads) || resolved.maxConcurrentPartUploads < 1) {
    problems.push('S3StorageBackend maxConcurrentPartUploads must be a positive integer');
  }
  if (problems.length > 0) throw new TusOptionsError(problems);
  return resolved;
}
