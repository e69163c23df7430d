import { TusOptionsError } from '../../errors/tus.errors.js';
import { DEFAULT_LOCK_STALE_MS, DEFAULT_LOCK_TIMEOUT_MS } from '../lock-timing.js';
import { MAX_TIMER_MS } from './azure-deadline.js';
import {
  DEFAULT_AZURE_BLOCK_SIZE,
  DEFAULT_AZURE_MIN_BLOCK_BYTES_PER_SECOND,
  DEFAULT_AZURE_REQUEST_TIMEOUT_MS,
  MAX_AZURE_BLOCK_COUNT,
  MAX_AZURE_BLOCK_SIZE,
  type AzureBlobStorageOptions,
} from './azure-storage.options.js';

/** {@link AzureBlobStorageOptions} with every default applied. */
export type ResolvedAzureBlobStorageOptions = Required<AzureBlobStorageOptions>;

/**
 * The options with their defaults, checked: every problem at once, as one `TusOptionsError`, at
 * construction rather than at the first request.
 */
export function resolveAzureBlobStorageOptions(options: AzureBlobStorageOptions): ResolvedAzureBlobStorageOptions {
  const resolved: ResolvedAzureBlobStorageOptions = {
    containerClient: options.containerClient,
    keyPrefix: options.keyPrefix ?? '',
    blockSize: options.blockSize ?? DEFAULT_AZURE_BLOCK_SIZE,
    maxBlocks: options.maxBlocks ?? MAX_AZURE_BLOCK_COUNT,
    maxConcurrentBlockUploads: options.maxConcurrentBlockUploads ?? 4,
    lockTimeoutMs: options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
    lockStaleMs: options.lockStaleMs ?? DEFAULT_LOCK_STALE_MS,
    requestTimeoutMs: options.requestTimeoutMs ?? DEFAULT_AZURE_REQUEST_TIMEOUT_MS,
    minBlockBytesPerSecond: options.minBlockBytesPerSecond ?? DEFAULT_AZURE_MIN_BLOCK_BYTES_PER_SECOND,
  };
  const problems: string[] = [];
  if (!options.containerClient) problems.push('AzureBlobStorageBackend needs a ContainerClient (containerClient)');
  if (!Number.isSafeInteger(resolved.blockSize) || resolved.blockSize < 1 || resolved.blockSize > MAX_AZURE_BLOCK_SIZE) {
    problems.push(`AzureBlobStorageBackend blockSize must be an integer from 1 to ${MAX_AZURE_BLOCK_SIZE} bytes (4000 MiB)`);
  }
  if (!Number.isInteger(resolved.maxBlocks) || resolved.maxBlocks < 2 || resolved.maxBlocks > MAX_AZURE_BLOCK_COUNT) {
    problems.push(`AzureBlobStorageBackend maxBlocks must be an integer from 2 to ${MAX_AZURE_BLOCK_COUNT}`);
  }
  if (!Number.isInteger(resolved.maxConcurrentBlockUploads) || resolved.maxConcurrentBlockUploads < 1) {
    problems.push('AzureBlobStorageBackend maxConcurrentBlockUploads must be a positive integer');
  }
  if (!Number.isInteger(resolved.requestTimeoutMs) || resolved.requestTimeoutMs < 1 || resolved.requestTimeoutMs > MAX_TIMER_MS) {
    problems.push(`AzureBlobStorageBackend requestTimeoutMs must be an integer from 1 to ${MAX_TIMER_MS} ms`);
  }
  if (!Number.isSafeInteger(resolved.minBlockBytesPerSecond) || resolved.minBlockBytesPerSecond < 1) {
    problems.push('AzureBlobStorageBackend minBlockBytesPerSecond must be a positive integer (bytes a second)');
  }
  if (problems.length > 0) throw new TusOptionsError(problems);
  return resolved;
}
