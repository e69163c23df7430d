import { describe, expect, it } from '@jest/globals';
import type { ContainerClient } from '@azure/storage-blob';
import { TusOptionsError } from '../../errors/tus.errors.js';
import { resolveAzureBlobStorageOptions } from './azure-storage-options.validation.js';

const containerClient = {} as ContainerClient;

describe('Azure backend options', () => {
  it('applies the defaults: a 30 s deadline per call, block uploads waited for down to 256 KiB/s', () => {
    expect(resolveAzureBlobStorageOptions({ containerClient })).toMatchObject({
      keyPrefix: '',
      blockSize: 8 * 1024 * 1024,
      maxBlocks: 50_000,
      maxConcurrentBlockUploads: 4,
      requestTimeoutMs: 30_000,
      minBlockBytesPerSecond: 256 * 1024,
    });
  });

  it('names every problem at once, at construction', () => {
    const refused = () =>
      resolveAzureBlobStorageOptions({ containerClient, requestTimeoutMs: 0, minBlockBytesPerSecond: 0.5, maxBlocks: 50_001, blockSize: -1 });
    expect(refused).toThrow(TusOptionsError);
    expect(refused).toThrow(/requestTimeoutMs must be an integer from 1 to 2147483647 ms/);
    expect(refused).toThrow(/minBlockBytesPerSecond must be a positive integer/);
    expect(refused).toThrow(/maxBlocks must be an integer from 2 to 50000/);
    expect(refused).toThrow(/blockSize must be an integer from 1/);
    // A deadline past what a timer takes would fire at once: refused rather than silently wrong.
    expect(() => resolveAzureBlobStorageOptions({ containerClient, requestTimeoutMs: 2 ** 31 })).toThrow(/requestTimeoutMs/);
  });
});
