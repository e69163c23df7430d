import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { DIGEST_ALGORITHMS, formatDigestField, parseDigestField } from './digest-fields.js';
import { StructuredFieldError } from './structured-field.types.js';

// RFC 9530 Appendix D, "Sample Digest Values" of the JSON object {"hello": "world"}.
const HELLO = '{"hello": "world"}';
const SHA256 = 'X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=';
const SHA512 = 'WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==';

describe('parseDigestField', () => {
  it('reads the sample values of RFC 9530 Appendix D, which node:crypto reproduces', () => {
    const read = parseDigestField('Content-Digest', `sha-256=:${SHA256}:, sha-512=:${SHA512}:`);
    expect(read.kind).toBe('valid');
    if (read.kind !== 'valid') return;
    expect(read.value.map((d) => d.algorithm)).toEqual(['sha-256', 'sha-512']);
    for (const { algorithm, digest } of read.value) {
      expect(digest).toEqual(createHash(DIGEST_ALGORITHMS[algorithm].hash).update(HELLO).digest());
      expect(digest).toHaveLength(DIGEST_ALGORITHMS[algorithm].length);
    }
  });

  it('reads the Repr-Digest of RFC 9530 section 3', () => {
    expect(parseDigestField('Repr-Digest', `sha-256=:${SHA256}:`)).toEqual({
      kind: 'valid',
      value: [{ algorithm: 'sha-256', digest: Buffer.from(SHA256, 'base64') }],
    });
  });

  it('ignores unknown and deprecated algorithms ("A recipient MAY ignore any or all digests")', () => {
    expect(parseDigestField('Content-Digest', `md5=:Sd/dVLAcvNLSq16eXua5uQ==:, sha=:07CavjDP4u3/TungoUHJO/Wzr4c=:, sha-256=:${SHA256}:`)).toEqual({
      kind: 'valid',
      value: [{ algorithm: 'sha-256', digest: Buffer.from(SHA256, 'base64') }],
    });
    expect(parseDigestField('Content-Digest', 'sha-3=:AAAA:, crc32c=:Q3lHIA==:, id-sha-256="x"')).toEqual({ kind: 'valid', value: [] });
  });

  it('reads a digest of the wrong length as it is: it cannot match', () => {
    expect(parseDigestField('Content-Digest', 'sha-256=:AAAA:')).toEqual({
      kind: 'valid',
      value: [{ algorithm: 'sha-256', digest: Buffer.from([0, 0, 0]) }],
    });
  });

  it.each([
    [`sha-256=${SHA256}`, 'base64 without colons (the RFC 3230 Digest form)'],
    ['sha-256="abc"', 'a String'],
    ['sha-256', 'Boolean true'],
    ['sha-256=(:AAAA:)', 'an inner list'],
    ['SHA-256=:AAAA:', 'an uppercase key'],
    ['sha-256=:AA!A:', 'not base64'],
  ])('reads %p as invalid (%s)', (value) => {
    expect(parseDigestField('Content-Digest', value).kind).toBe('invalid');
  });

  it('absent is absent', () => {
    expect(parseDigestField('Repr-Digest', undefined)).toEqual({ kind: 'absent' });
  });
});

describe('formatDigestField', () => {
  it('writes RFC 9530\'s form and reads back', () => {
    const digests = [
      { algorithm: 'sha-256' as const, digest: Buffer.from(SHA256, 'base64') },
      { algorithm: 'sha-512' as const, digest: Buffer.from(SHA512, 'base64') },
    ];
    const text = formatDigestField(digests);
    expect(text).toBe(`sha-256=:${SHA256}:, sha-512=:${SHA512}:`);
    expect(parseDigestField('Repr-Digest', text)).toEqual({ kind: 'valid', value: digests });
  });

  it('refuses an empty list (the field would be omitted)', () => {
    expect(() => formatDigestField([])).toThrow(StructuredFieldError);
  });
});
