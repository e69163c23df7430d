import { describe, expect, it } from '@jest/globals';
import { MAX_AZURE_BLOCK_SIZE } from './azure-storage.options.js';
import { blockSizeFor } from './block-size.js';

const MiB = 1024 * 1024;

describe('blockSizeFor', () => {
  it('keeps the preferred size when the blocks suffice, or the length is unknown or nothing is left', () => {
    expect(blockSizeFor(100 * MiB, 50_000, 8 * MiB)).toBe(8 * MiB);
    expect(blockSizeFor(null, 50_000, 8 * MiB)).toBe(8 * MiB);
    expect(blockSizeFor(0, 0, 8 * MiB)).toBe(8 * MiB);
  });

  it('grows to whole MiB so that the bytes fit the blocks left, one kept back for a short last block', () => {
    // 1 TiB over 49,999 blocks: 20.97... MiB, rounded up to 21 MiB.
    expect(blockSizeFor(1024 * 1024 * MiB, 50_000, 8 * MiB)).toBe(21 * MiB);
    expect(blockSizeFor(30 * MiB, 3, 8 * MiB)).toBe(15 * MiB);
  });

  it('is null when even the largest blocks cannot hold the bytes, or no block is left for them', () => {
    expect(blockSizeFor(3 * MAX_AZURE_BLOCK_SIZE, 3, 8 * MiB)).toBeNull();
    expect(blockSizeFor(MiB, 1, 8 * MiB)).toBeNull();
  });
});
