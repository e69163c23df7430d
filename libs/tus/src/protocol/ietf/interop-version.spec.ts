import { describe, expect, it } from '@jest/globals';
import { detectInteropVersion, INTEROP_VERSIONS } from './interop-version.js';

describe('detectInteropVersion', () => {
  it.each(INTEROP_VERSIONS.map((version): [string, number] => [String(version), version]))('reads %p', (value, version) => {
    expect(detectInteropVersion(value)).toBe(version);
  });

  it.each([
    ['6;foo=bar', 6, 'parameters are ignored'],
    ['06', 6, 'an Integer may have leading zeros'],
    [['5'], 5, 'one field line as an array'],
  ] as Array<[string | string[], number, string]>)('reads %p as %p (%s)', (value, version) => {
    expect(detectInteropVersion(value)).toBe(version);
  });

  it.each([
    [undefined, 'absent'],
    ['', 'empty'],
    ['2', 'draft -00 (Upload-Token), not supported'],
    ['9', 'a version newer than this library knows'],
    ['-6', 'negative'],
    ['6.0', 'a Decimal'],
    ['"6"', 'a String'],
    ['?1', 'a Boolean'],
    ['6, 7', 'two values'],
    [['6', '6'], 'two field lines'],
    ['six', 'a Token'],
  ] as Array<[string | string[] | undefined, string]>)('gives null for %p (%s)', (value) => {
    expect(detectInteropVersion(value)).toBeNull();
  });
});
