import { describe, expect, it } from '@jest/globals';
import { ietfProfile } from './ietf-profile.js';
import { StructuredFieldError } from './structured-field.types.js';
import { formatByteCount, formatUploadComplete, readUploadComplete, readUploadLength, readUploadOffset } from './upload-state-fields.js';

describe('readUploadOffset / readUploadLength', () => {
  it.each([
    ['0', 0],
    ['25', 25],
    ['23456789', 23_456_789], // draft -11, Upload Append example A
    ['1230000000', 1_230_000_000],
    ['999999999999999', 999_999_999_999_999],
    ['100;unit=bytes', 100],
  ])('reads %p', (value, expected) => {
    expect(readUploadOffset(value)).toEqual({ kind: 'valid', value: expected });
    expect(readUploadLength(value)).toEqual({ kind: 'valid', value: expected });
  });

  it('absent is absent', () => {
    expect(readUploadOffset(undefined)).toEqual({ kind: 'absent' });
  });

  // "Its value is a non-negative Integer ... Other values MUST cause the entire header field to be ignored."
  it.each(['-1', '1.5', '"100"', '?1', 'abc', '', '1000000000000000', '1, 2', '+1'])('reads %p as invalid', (value) => {
    expect(readUploadOffset(value).kind).toBe('invalid');
    expect(readUploadLength(value).kind).toBe('invalid');
  });
});

describe('readUploadComplete', () => {
  const v3 = ietfProfile(3);
  const v6 = ietfProfile(6);

  it('reads Upload-Complete from interop 4 on', () => {
    expect(readUploadComplete(v6, { 'upload-complete': '?1' })).toEqual({ kind: 'valid', value: true });
    expect(readUploadComplete(v6, { 'upload-complete': '?0' })).toEqual({ kind: 'valid', value: false });
    expect(readUploadComplete(ietfProfile(4), { 'upload-complete': '?1' })).toEqual({ kind: 'valid', value: true });
  });

  it('reads Upload-Incomplete, inverted, for interop 3 (draft -01)', () => {
    expect(readUploadComplete(v3, { 'upload-incomplete': '?0' })).toEqual({ kind: 'valid', value: true });
    expect(readUploadComplete(v3, { 'upload-incomplete': '?1' })).toEqual({ kind: 'valid', value: false });
  });

  it("does not look at the other version's field", () => {
    expect(readUploadComplete(v3, { 'upload-complete': '?1' })).toEqual({ kind: 'absent' });
    expect(readUploadComplete(v6, { 'upload-incomplete': '?0' })).toEqual({ kind: 'absent' });
  });

  it.each(['1', 'true', '?', '?2', '"?1"', '?1, ?0'])('reads %p as invalid', (value) => {
    expect(readUploadComplete(v6, { 'upload-complete': value }).kind).toBe('invalid');
  });
});

describe('formatUploadComplete / formatByteCount', () => {
  it('writes the version\'s field', () => {
    expect(formatUploadComplete(ietfProfile(8), true)).toEqual(['Upload-Complete', '?1']);
    expect(formatUploadComplete(ietfProfile(8), false)).toEqual(['Upload-Complete', '?0']);
    expect(formatUploadComplete(ietfProfile(3), true)).toEqual(['Upload-Incomplete', '?0']);
    expect(formatUploadComplete(ietfProfile(3), false)).toEqual(['Upload-Incomplete', '?1']);
  });

  it('writes byte counts and refuses what is not one', () => {
    expect(formatByteCount(0)).toBe('0');
    expect(formatByteCount(25_000_000)).toBe('25000000');
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 53]) expect(() => formatByteCount(bad)).toThrow(StructuredFieldError);
  });
});
