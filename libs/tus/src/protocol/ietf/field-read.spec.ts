import { describe, expect, it } from '@jest/globals';
import { ABSENT, invalid, valid, valueOrIgnored } from './field-read.js';

describe('valueOrIgnored', () => {
  it('gives the value of a valid field and ignores an absent or invalid one', () => {
    expect(valueOrIgnored(valid(25))).toBe(25);
    expect(valueOrIgnored(valid(false))).toBe(false);
    expect(valueOrIgnored(ABSENT)).toBeUndefined();
    expect(valueOrIgnored(invalid('Upload-Offset must be a non-negative Integer'))).toBeUndefined();
  });
});
