import { describe, expect, it } from '@jest/globals';
import { ABSENT, invalid, readDictionary, readItem, valid, valueOrIgnored } from './field-read.js';

describe('valueOrIgnored', () => {
  it('gives the value of a valid field and ignores an absent or invalid one', () => {
    expect(valueOrIgnored(valid(25))).toBe(25);
    expect(valueOrIgnored(valid(false))).toBe(false);
    expect(valueOrIgnored(ABSENT)).toBeUndefined();
    expect(valueOrIgnored(invalid('Upload-Offset must be a non-negative Integer'))).toBeUndefined();
  });
});

describe('readItem / readDictionary', () => {
  it('reads a field that parses, without its parameters', () => {
    expect(readItem('Upload-Complete', '?1;x=1')).toEqual({ kind: 'valid', value: { type: 'boolean', value: true } });
    const read = readDictionary('Upload-Limit', 'max-size=10');
    expect(read.kind === 'valid' && [...read.value.keys()]).toEqual(['max-size']);
  });

  it('reads an absent field as absent', () => {
    expect(readItem('Upload-Offset', undefined)).toEqual(ABSENT);
    expect(readDictionary('Upload-Limit', undefined)).toEqual(ABSENT);
  });

  it('reads a field that does not parse as invalid, naming the field', () => {
    expect(readItem('Upload-Offset', '1 2')).toEqual({ kind: 'invalid', reason: expect.stringContaining('Upload-Offset is not a Structured Field Item') });
    expect(readDictionary('Repr-Digest', 'sha-256=:AA!A:')).toEqual({
      kind: 'invalid',
      reason: expect.stringContaining('Repr-Digest is not a Structured Field Dictionary'),
    });
  });
});
