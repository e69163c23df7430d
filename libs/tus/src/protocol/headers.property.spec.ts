import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { InvalidRequestError } from '../errors/tus.errors.js';
import { formatHttpDate, isOffsetOctetStream, parseCreationLength, parseMethodOverride, parseNonNegativeInteger } from './headers.js';
import { latin1, parsedOrRefused, RUNS } from './testing/header-properties.js';


/** The characters of every number notation JavaScript would read: sign, point, exponent, hex, separators. */
const numberish = fc.string({
  unit: fc.oneof(fc.constantFrom(...'0123456789'), fc.constantFrom('-', '+', '.', 'e', 'E', 'x', 'b', 'o', '_', ' ', '\t', '\n', '\u00a0', 'Infinity', 'NaN', '٣')),
  maxLength: 24,
});
const text = fc.oneof(fc.string({ unit: latin1, maxLength: 30 }), numberish);
const safeInteger = fc.oneof(fc.nat(1_000), fc.maxSafeNat(), fc.constant(Number.MAX_SAFE_INTEGER));

const parseOrRefuse = (value: string | undefined) => parsedOrRefused(() => parseNonNegativeInteger('Upload-Offset', value));

describe('parseNonNegativeInteger (properties)', () => {
  it('reads back every safe non-negative integer, with or without leading zeros', () => {
    // "MUST be a non-negative integer": like Content-Length (1*DIGIT), leading zeros are digits too.
    fc.assert(
      fc.property(safeInteger, fc.nat(5), (n, zeros) => {
        expect(parseNonNegativeInteger('Upload-Offset', String(n))).toBe(n);
        expect(parseNonNegativeInteger('Upload-Offset', '0'.repeat(zeros) + String(n))).toBe(n);
      }),
      { numRuns: RUNS },
    );
  });

  it('reads any value as a safe non-negative integer written in plain digits, or refuses it with a 400', () => {
    fc.assert(
      fc.property(text, (value) => {
        const parsed = parseOrRefuse(value);
        if (parsed === 'refused') return;
        expect(Number.isSafeInteger(parsed) && parsed >= 0).toBe(true);
        expect(value).toMatch(/^[0-9]+$/);
        expect(BigInt(value)).toBe(BigInt(parsed));
      }),
      { numRuns: RUNS },
    );
  });

  it('refuses a sign, a point, an exponent, a base prefix or whitespace around any number', () => {
    const decoration = fc.constantFrom(['+', ''], ['-', ''], ['', '.0'], ['', 'e0'], ['0x', ''], ['0b', ''], [' ', ''], ['', ' '], ['', '\n'], ['', '_0']);
    fc.assert(
      fc.property(safeInteger, decoration, (n, [before, after]) => {
        expect(() => parseNonNegativeInteger('Upload-Length', `${before}${n}${after}`)).toThrow(InvalidRequestError);
      }),
      { numRuns: RUNS },
    );
  });

  it('refuses every integer beyond 2^53 - 1 rather than rounding it', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: BigInt(Number.MAX_SAFE_INTEGER) + 1n, max: 10n ** 40n }), (n) => {
        expect(() => parseNonNegativeInteger('Upload-Length', n.toString())).toThrow(InvalidRequestError);
      }),
      { numRuns: RUNS },
    );
  });
});

describe('parseCreationLength (properties)', () => {
  it('gives a declared length or null (deferred), or refuses with a 400, for any pair of headers', () => {
    const header = fc.option(fc.oneof(text, safeInteger.map(String), fc.constant('1')), { nil: undefined });
    fc.assert(
      fc.property(header, header, fc.boolean(), (length, defer, deferAllowed) => {
        let parsed: number | null;
        try {
          parsed = parseCreationLength(length, defer, deferAllowed);
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidRequestError);
          return;
        }
        // Exactly one of the two headers, and a deferred length only when allowed and "1".
        expect((length === undefined) !== (defer === undefined)).toBe(true);
        if (parsed === null) expect([defer, deferAllowed]).toEqual(['1', true]);
        else expect(parsed).toBe(Number(length));
      }),
      { numRuns: RUNS },
    );
  });
});

describe('parseMethodOverride (properties)', () => {
  it('gives PATCH, DELETE or HEAD in any case, nothing when absent, or refuses with a 400', () => {
    const method = fc
      .tuple(fc.constantFrom('PATCH', 'DELETE', 'HEAD', 'GET', 'POST', 'PUT', 'OPTIONS', 'TRACE'), fc.boolean(), fc.constantFrom('', ' ', '\t'))
      .map(([name, lower, pad]) => pad + (lower ? name.toLowerCase() : name) + pad);
    fc.assert(
      fc.property(fc.option(fc.oneof(text, method), { nil: undefined }), (value) => {
        let parsed: string | undefined;
        try {
          parsed = parseMethodOverride(value);
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidRequestError);
          return;
        }
        if (value === undefined) expect(parsed).toBeUndefined();
        else expect(parsed).toBe(value.trim().toUpperCase());
        if (parsed !== undefined) expect(['PATCH', 'DELETE', 'HEAD']).toContain(parsed);
      }),
      { numRuns: RUNS },
    );
  });
});

describe('isOffsetOctetStream (properties)', () => {
  it('never throws, and is true only for application/offset+octet-stream with any parameters', () => {
    fc.assert(
      fc.property(fc.option(fc.oneof(text, fc.constant('application/offset+octet-stream').map((t) => t + '; x=1')), { nil: undefined }), (value) => {
        const result = isOffsetOctetStream(value);
        expect(result).toBe(value !== undefined && value.split(';')[0]!.trim().toLowerCase() === 'application/offset+octet-stream');
      }),
      { numRuns: RUNS },
    );
  });
});

describe('formatHttpDate (properties)', () => {
  it('writes an IMF-fixdate that parses back to the same second', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }), (date) => {
        const formatted = formatHttpDate(date);
        expect(formatted).toMatch(/^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/);
        expect(Date.parse(formatted)).toBe(Math.floor(date.getTime() / 1000) * 1000);
      }),
      { numRuns: RUNS },
    );
  });
});
