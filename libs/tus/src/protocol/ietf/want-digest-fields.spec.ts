import { describe, expect, it } from '@jest/globals';
import { parseWantDigestField } from './want-digest-fields.js';

describe('parseWantDigestField', () => {
  it('reads RFC 9530 section 4\'s example, most preferred first, without the unacceptable', () => {
    expect(parseWantDigestField('Want-Repr-Digest', 'sha-512=3, sha-256=10, unixsum=0')).toEqual({
      kind: 'valid',
      value: [
        { algorithm: 'sha-256', preference: 10 },
        { algorithm: 'sha-512', preference: 3 },
      ],
    });
  });

  it('drops an algorithm with preference 0 ("not acceptable")', () => {
    expect(parseWantDigestField('Want-Content-Digest', 'sha-256=0, sha-512=1')).toEqual({ kind: 'valid', value: [{ algorithm: 'sha-512', preference: 1 }] });
  });

  it('skips unknown algorithms, even with values of another type', () => {
    expect(parseWantDigestField('Want-Repr-Digest', 'md5=10, blake3="x"')).toEqual({ kind: 'valid', value: [] });
  });

  it.each(['sha-256=11', 'sha-256=-1', 'sha-256=1.5', 'sha-256', 'sha-256=?1', 'sha-256=1,'])('reads %p as invalid', (value) => {
    expect(parseWantDigestField('Want-Repr-Digest', value).kind).toBe('invalid');
  });

  it('absent is absent', () => {
    expect(parseWantDigestField('Want-Repr-Digest', undefined)).toEqual({ kind: 'absent' });
  });
});
