import { describe, expect, it } from '@jest/globals';
import { InvalidRequestError, UnsupportedVersionError } from '../errors/tus.errors.js';
import {
  assertTusResumable,
  formatHttpDate,
  isOffsetOctetStream,
  parseCreationLength,
  parseMethodOverride,
  parseNonNegativeInteger,
} from './headers.js';

describe('parseNonNegativeInteger', () => {
  it.each([
    ['0', 0],
    ['42', 42],
    ['007', 7],
    ['9007199254740991', Number.MAX_SAFE_INTEGER],
  ])('reads %p', (value, expected) => {
    expect(parseNonNegativeInteger('Upload-Offset', value)).toBe(expected);
  });

  it.each([[undefined], [''], ['-1'], ['+1'], ['1.5'], ['1e3'], [' 1'], ['0x10'], ['9007199254740992']])(
    'rejects %p with 400',
    (value) => {
      expect(() => parseNonNegativeInteger('Upload-Offset', value)).toThrow(InvalidRequestError);
    },
  );
});

describe('parseCreationLength', () => {
  it('reads Upload-Length', () => expect(parseCreationLength('12', undefined, true)).toBe(12));
  it('reads Upload-Defer-Length: 1 as null', () => expect(parseCreationLength(undefined, '1', true)).toBeNull());

  it.each([
    ['both headers', '12', '1', true],
    ['neither header', undefined, undefined, true],
    ['a defer value other than 1', undefined, '2', true],
    ['a deferred length when the extension is off', undefined, '1', false],
    ['a malformed length', 'ten', undefined, true],
  ])('rejects %s with 400', (_case, length, defer, allowed) => {
    expect(() => parseCreationLength(length, defer, allowed)).toThrow(InvalidRequestError);
  });
});

describe('assertTusResumable', () => {
  it('accepts 1.0.0', () => expect(() => assertTusResumable('1.0.0')).not.toThrow());
  it.each([[undefined], ['0.2.2'], ['1.0']])('rejects %p with 412', (value) => {
    expect(() => assertTusResumable(value)).toThrow(UnsupportedVersionError);
  });
});

describe('parseMethodOverride', () => {
  it.each([
    ['PATCH', 'PATCH'],
    ['patch', 'PATCH'],
    ['DELETE', 'DELETE'],
    ['HEAD', 'HEAD'],
    [undefined, undefined],
  ])('%p is %p', (value, expected) => expect(parseMethodOverride(value)).toBe(expected));

  it.each([['GET'], ['POST'], ['PUT']])('rejects %p with 400', (value) => {
    expect(() => parseMethodOverride(value)).toThrow(InvalidRequestError);
  });
});

describe('formatHttpDate', () => {
  it('writes an IMF-fixdate', () => {
    expect(formatHttpDate(new Date(Date.UTC(2025, 5, 25, 16, 0, 0)))).toBe('Wed, 25 Jun 2025 16:00:00 GMT');
  });
});

describe('isOffsetOctetStream', () => {
  it.each([
    ['application/offset+octet-stream', true],
    ['Application/Offset+Octet-Stream; charset=x', true],
    ['application/octet-stream', false],
    [undefined, false],
  ])('%p -> %p', (value, expected) => expect(isOffsetOctetStream(value)).toBe(expected));
});
