import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { InvalidRequestError } from '../errors/tus.errors.js';
import { CHECKSUM_ALGORITHMS, parseUploadChecksum, type UploadChecksum } from './upload-checksum.js';
import { charEdit, editOnce, latin1, parsedOrRefused, RUNS } from './testing/header-properties.js';


const DIGEST_BYTES = { sha1: 20, md5: 16, sha256: 32, sha512: 64 } as const;
const algorithm = fc.constantFrom(...CHECKSUM_ALGORITHMS);
/** An algorithm name in any mix of upper and lower case. */
const anyCase = (name: string) =>
  fc.array(fc.boolean(), { minLength: name.length, maxLength: name.length }).map((upper) => [...name].map((c, i) => (upper[i] ? c.toUpperCase() : c)).join(''));
const validHeader = algorithm.chain((name) =>
  fc.tuple(anyCase(name), fc.uint8Array({ minLength: DIGEST_BYTES[name], maxLength: DIGEST_BYTES[name] })).map(([written, bytes]) => ({
    name,
    written,
    digest: Buffer.from(bytes),
  })),
);

const fragment = fc.constantFrom(' ', '\t', '\u00a0', '=', '==', 'sha1', 'md5 ', 'SHA256 ', 'AAAA', '+/', '-_');
const headerText = fc.string({ unit: fc.oneof(latin1, fragment), maxLength: 100 });
/** A valid header with one character inserted, removed or replaced. */
const mutatedHeader = fc
  .tuple(validHeader, fc.nat(), latin1, charEdit)
  .map(([valid, at, char, edit]) => editOnce(`${valid.written} ${valid.digest.toString('base64')}`, at, char, edit));

const parseOrRefuse = (header: string) => parsedOrRefused(() => parseUploadChecksum(header));

describe('parseUploadChecksum (properties)', () => {
  it('reads back every digest of every algorithm, its name in any case', () => {
    fc.assert(
      fc.property(validHeader, ({ name, written, digest }) => {
        const parsed = parseUploadChecksum(`${written} ${digest.toString('base64')}`);
        expect(parsed.algorithm).toBe(name);
        expect(parsed.digest.equals(digest)).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });

  it('reads any header value as a known algorithm with a digest in padded base64, or refuses it with a 400', () => {
    fc.assert(
      fc.property(fc.oneof(headerText, mutatedHeader), (header) => {
        const parsed = parseOrRefuse(header);
        if (parsed === 'refused') return;
        expect(CHECKSUM_ALGORITHMS).toContain(parsed.algorithm);
        expect(parsed.digest.length).toBeGreaterThan(0);
        // Separated by HTTP whitespace only, the digest in its one padded length.
        const match = /^[ \t]*(\S+)[ \t]+(\S+)[ \t]*$/.exec(header);
        expect(match).not.toBeNull();
        expect(match![2]!.length).toBe(parsed.digest.toString('base64').length);
      }),
      { numRuns: RUNS },
    );
  });

  it('refuses a digest whose padding is missing or wrong', () => {
    fc.assert(
      fc.property(validHeader, fc.constantFrom('', '=', '==', '==='), ({ written, digest }, padding) => {
        const encoded = digest.toString('base64').replace(/=+$/, '');
        fc.pre(encoded + padding !== digest.toString('base64'));
        expect(() => parseUploadChecksum(`${written} ${encoded}${padding}`)).toThrow(InvalidRequestError);
      }),
      { numRuns: RUNS },
    );
  });

  // A digest of another size is a checksum that does not match (460 when compared), not a header
  // that does not parse (400).
  it("reads a digest of another size than its algorithm's, bytes intact", () => {
    fc.assert(
      fc.property(algorithm, fc.uint8Array({ minLength: 1, maxLength: 80 }), (name, bytes) => {
        fc.pre(bytes.length !== DIGEST_BYTES[name]);
        const parsed = parseUploadChecksum(`${name} ${Buffer.from(bytes).toString('base64')}`);
        expect(parsed.algorithm).toBe(name);
        expect(parsed.digest.equals(Buffer.from(bytes))).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });
});
