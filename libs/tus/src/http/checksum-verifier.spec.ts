import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { ChecksumMismatchError, DigestMismatchError } from '../errors/tus.errors.js';
import { ChecksumVerifier } from './checksum-verifier.js';

const digest = (algorithm: string, text: string) => createHash(algorithm).update(text).digest();
const through = async (verifier: ChecksumVerifier, parts: string[]) => buffer(Readable.from(parts.map((p) => Buffer.from(p))).pipe(verifier.stage));

describe('ChecksumVerifier', () => {
  it('passes the bytes through unchanged and checks an Upload-Checksum', async () => {
    const verifier = ChecksumVerifier.forHeader({ algorithm: 'sha1', digest: digest('sha1', 'hello') });
    expect((await through(verifier, ['hel', 'lo'])).toString()).toBe('hello');
    expect(() => verifier.verify()).not.toThrow();
    const wrong = ChecksumVerifier.forHeader({ algorithm: 'sha1', digest: digest('sha1', 'hellO') });
    await through(wrong, ['hello']);
    expect(() => wrong.verify()).toThrow(ChecksumMismatchError);
  });

  it('checks every digest of the IETF draft, an algorithm computed once for several fields', async () => {
    const mismatch = (field: string) => () => new DigestMismatchError(field);
    const expected = [
      { algorithm: 'sha256' as const, digest: digest('sha256', 'hello'), mismatch: mismatch('Content-Digest') },
      { algorithm: 'sha512' as const, digest: digest('sha512', 'hello'), mismatch: mismatch('Content-Digest') },
      { algorithm: 'sha256' as const, digest: digest('sha256', 'hello'), mismatch: mismatch('Repr-Digest') },
    ];
    const verifier = ChecksumVerifier.forDigests(expected);
    await through(verifier, ['he', 'llo']);
    expect(() => verifier.verify()).not.toThrow();

    const wrongRepr = ChecksumVerifier.forDigests([expected[0]!, { ...expected[2]!, digest: digest('sha256', 'other') }]);
    await through(wrongRepr, ['hello']);
    expect(() => wrongRepr.verify()).toThrow('Repr-Digest does not match the content');
  });
});
