import { describe, expect, it } from '@jest/globals';
import { MAX_PART_SIZE, MIN_PART_SIZE, partSizeFor } from './part-size.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

describe('partSizeFor', () => {
  it('keeps the preferred size when the parts suffice', () => {
    expect(partSizeFor(100 * MiB, 10_000, 8 * MiB)).toBe(8 * MiB);
    expect(partSizeFor(8 * MiB * 10_000, 10_000, 8 * MiB)).toBe(8 * MiB);
  });

  it('keeps the preferred size for a deferred length and for nothing left', () => {
    expect(partSizeFor(null, 10_000, 8 * MiB)).toBe(8 * MiB);
    expect(partSizeFor(0, 0, 8 * MiB)).toBe(8 * MiB);
  });

  it('grows to whole MiB when the length needs more parts than are left', () => {
    expect(partSizeFor(8 * MiB * 10_000 + 1, 10_000, 8 * MiB)).toBe(9 * MiB);
    // 1 TB in 10,000 parts: 100 MB each, rounded up to 96 MiB
    const size = partSizeFor(1e12, 10_000, 8 * MiB)!;
    expect(size).toBe(96 * MiB);
    expect(Math.ceil(1e12 / size)).toBeLessThanOrEqual(10_000);
  });

  it('counts only the part numbers left', () => {
    expect(partSizeFor(20 * MiB, 3, MIN_PART_SIZE)).toBe(7 * MiB);
    expect(partSizeFor(20 * MiB, 1, MIN_PART_SIZE)).toBe(20 * MiB);
  });

  it('refuses what even the largest parts cannot hold', () => {
    expect(partSizeFor(MAX_PART_SIZE * 10_000, 10_000, 8 * MiB)).toBe(MAX_PART_SIZE);
    expect(partSizeFor(MAX_PART_SIZE * 10_000 + 1, 10_000, 8 * MiB)).toBeNull();
    expect(partSizeFor(6 * GiB, 1, 8 * MiB)).toBeNull();
    expect(partSizeFor(1, 0, 8 * MiB)).toBeNull();
  });
});
