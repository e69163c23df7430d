import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { InvalidRequestError } from '../errors/tus.errors.js';
import { CHECKSUM_ALGORITHMS, parseUploadChecksum } from './upload-checksum.js';

const digest = (algorithm: string) => createHash(algorithm).update('hello').digest();

describe('parseUploadChecksum', () => {
  it('lists sha1, the mandatory algorithm', () => {
    expect(CHECKSUM_ALGORITHMS).toContain('sha1');
  });

  it.each(CHECKSUM_ALGORITHMS)('reads %s', (algorithm) => {
    const parsed = parseUploadChecksum(`${algorithm} ${digest(algorithm).toString('base64')}`);
    expect(parsed.algorithm).toBe(algorithm);
    expect(parsed.digest.equals(digest(algorithm))).toBe(true);
  });

  it('accepts the algorithm name in any case', () => {
    expect(parseUploadChecksum(`SHA1 ${digest('sha1').toString('base64')}`).algorithm).toBe('sha1');
  });

  it('reads a digest of the wrong size for its algorithm: it cannot match, a 460 once compared, not a 400', () => {
    const parsed = parseUploadChecksum(`sha256 ${digest('sha1').toString('base64')}`);
    expect(parsed.algorithm).toBe('sha256');
    expect(parsed.digest.equals(digest('sha1'))).toBe(true);
  });

  it.each([
    ['an unknown algorithm', `crc32 ${digest('md5').toString('base64')}`],
    ['a missing digest', 'sha1'],
    ['a digest that is not base64', 'sha1 !!!!'],
    ['extra parts', `sha1 ${digest('sha1').toString('base64')} more`],
    // Found by the properties: Buffer.from() decoded these, and String.trim() took a line feed as space.
    ['an unpadded digest', `md5 ${'A'.repeat(22)}`],
    ['a digest with extra padding', `sha1 ${'A'.repeat(27)}==`],
    ['a line feed before the algorithm', `\nsha1 ${'A'.repeat(27)}=`],
    ['a no-break space as the separator', `sha1\u00a0${'A'.repeat(27)}=`],
  ])('rejects %s with 400', (_case, header) => {
    expect(() => parseUploadChecksum(header)).toThrow(InvalidRequestError);
  });
});
