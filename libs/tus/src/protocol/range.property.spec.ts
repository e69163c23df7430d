import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { parseRange } from './range.js';
import { latin1, RUNS } from './testing/header-properties.js';


const digits = fc.oneof(fc.nat(200).map(String), fc.maxSafeNat().map(String), fc.bigInt({ min: 0n, max: 10n ** 30n }).map(String), fc.constant(''));
/** `bytes=<a>-<b>` and its near misses: other units, several ranges, signs, spaces. */
const rangeLike = fc
  .tuple(fc.constantFrom('bytes=', 'Bytes=', 'items=', 'bytes =', ' bytes='), digits, fc.constantFrom('-', '--', '+', '-+'), digits, fc.constantFrom('', ',0-1', ' ', 'x'))
  .map(([unit, first, dash, last, tail]) => `${unit}${first}${dash}${last}${tail}`);
const header = fc.option(fc.oneof(fc.string({ unit: latin1, maxLength: 30 }), rangeLike), { nil: undefined });
const size = fc.oneof(fc.nat(200), fc.maxSafeNat());

describe('parseRange (properties)', () => {
  it('never throws, and any range it serves lies inside the resource', () => {
    fc.assert(
      fc.property(header, size, (value, bytes) => {
        const range = parseRange(value, bytes);
        if (range === undefined || range === 'unsatisfiable') return;
        expect(Number.isSafeInteger(range.start) && Number.isSafeInteger(range.end)).toBe(true);
        expect(0 <= range.start && range.start <= range.end && range.end < bytes).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });

  it('serves exactly the bytes first-last asks for, cut at the end of the resource', () => {
    fc.assert(
      fc.property(size.filter((bytes) => bytes > 0), fc.nat(), fc.nat(), (bytes, a, b) => {
        const start = a % bytes;
        const end = start + (b % 300);
        expect(parseRange(`bytes=${start}-${end}`, bytes)).toEqual({ start, end: Math.min(end, bytes - 1) });
        expect(parseRange(`bytes=${start}-`, bytes)).toEqual({ start, end: bytes - 1 });
      }),
      { numRuns: RUNS },
    );
  });

  it('serves the last N bytes for a suffix, and 416 from the end of the resource on', () => {
    fc.assert(
      fc.property(size, fc.nat(), (bytes, suffix) => {
        const expected = suffix === 0 || bytes === 0 ? 'unsatisfiable' : { start: Math.max(bytes - suffix, 0), end: bytes - 1 };
        expect(parseRange(`bytes=-${suffix}`, bytes)).toEqual(expected);
        expect(parseRange(`bytes=${bytes}-`, bytes)).toBe('unsatisfiable');
      }),
      { numRuns: RUNS },
    );
  });
});
