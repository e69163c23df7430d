import { describe, expect, it } from '@jest/globals';
import { adoptableParts, highestLeftOut, type AdoptionRule, type ListedPart } from './part-adoption.js';

const MiB = 1024 * 1024;
const PART = 8 * MiB;

/** Two parts recorded, four may have been in flight, nothing untrusted, a 100 MiB upload. */
const rule: AdoptionRule = { recordedParts: 2, partSize: PART, partsInFlight: 4, untrustedThrough: 0, recordedBytes: 2 * PART, length: 100 * MiB };

const part = (partNumber: number, size = PART, etag = `"etag-${partNumber}"`): ListedPart => ({ partNumber, etag, size });
const numbers = (listed: ListedPart[], over: Partial<AdoptionRule> = {}) => adoptableParts(listed, { ...rule, ...over }).map((each) => each.partNumber);

describe('adoptableParts (crash recovery: which stored parts .info may add)', () => {
  it('adopts the contiguous run after the recorded parts, with quoted ETags and their sizes', () => {
    expect(adoptableParts([part(1), part(2), part(3), part(4)], rule)).toEqual([
      { partNumber: 3, etag: '"etag-3"', size: PART },
      { partNumber: 4, etag: '"etag-4"', size: PART },
    ]);
  });

  it('quotes a bare ETag as the backend records the parts it uploads', () => {
    expect(adoptableParts([part(3, PART, 'bare')], rule)).toEqual([{ partNumber: 3, etag: '"bare"', size: PART }]);
  });

  it('adopts nothing when the next part number is missing, and nothing beyond a gap', () => {
    expect(numbers([part(1), part(2), part(4), part(5)])).toEqual([]);
    expect(numbers([part(3), part(4), part(6)])).toEqual([3, 4]);
  });

  it('stops at a part of another size (a short last part, or a part of another part-size scheme)', () => {
    expect(numbers([part(3), part(4, PART - 1), part(5)])).toEqual([3]);
    expect(numbers([part(3, 2 * PART)])).toEqual([]);
  });

  it('adopts no more parts than the dead request could have had in flight past its last record', () => {
    expect(numbers([part(3), part(4), part(5), part(6), part(7), part(8)])).toEqual([3, 4, 5, 6]);
    expect(numbers([part(3), part(4), part(5)], { partsInFlight: 1 })).toEqual([3]);
  });

  it('adopts no part marked untrusted (a checksummed chunk never verified, a refused one), nor any after it', () => {
    expect(numbers([part(3), part(4), part(5)], { untrustedThrough: 12 })).toEqual([]);
    expect(numbers([part(3), part(4), part(5)], { untrustedThrough: 3 })).toEqual([]);
    // Marks at or below the recorded parts are spent: those numbers hold recorded bytes.
    expect(numbers([part(3), part(4)], { untrustedThrough: 2 })).toEqual([3, 4]);
  });

  it('adopts nothing past the upload length, and up to exactly the length', () => {
    expect(numbers([part(3), part(4)], { length: 3 * PART + 5 })).toEqual([3]);
    expect(numbers([part(3), part(4)], { length: 4 * PART })).toEqual([3, 4]);
    expect(numbers([part(3), part(4)], { length: null })).toEqual([3, 4]);
  });

  it('adopts a part without an ETag never (it could not be completed)', () => {
    expect(numbers([part(3, PART, '')])).toEqual([]);
  });

  it('adopts from part 1 when nothing is recorded yet', () => {
    expect(numbers([part(1), part(2)], { recordedParts: 0, recordedBytes: 0 })).toEqual([1, 2]);
  });
});

describe('highestLeftOut', () => {
  it('is the highest listed part number past the kept ones, 0 when none is left out', () => {
    expect(highestLeftOut([part(1), part(2), part(3), part(9), part(5)], 4)).toBe(9);
    expect(highestLeftOut([part(1), part(2)], 2)).toBe(0);
    expect(highestLeftOut([], 0)).toBe(0);
  });
});
