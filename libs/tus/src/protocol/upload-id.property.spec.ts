import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { basename, dirname, join, resolve } from 'node:path';
import { generateUploadId, isValidUploadId } from './upload-id.js';
import { latin1, RUNS } from './testing/header-properties.js';


const UPLOADS = resolve('/srv/uploads');
/** Ids as an attacker writes them: traversal in every encoding, among id characters. */
const traversal = fc.constantFrom('..', '.', '/', '\\', '%2e', '%2E', '%2f', '%2F', '%5c', '%00', '\0', '%252e', '..%2f', '.info', '.lock', '~', ':', ' ');
const idChar = fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-');
const hostileId = fc.string({ unit: fc.oneof(idChar, traversal, latin1), maxLength: 220 });

describe('upload ids (properties)', () => {
  it('generates only valid ids', () => {
    fc.assert(
      fc.property(fc.integer(), () => {
        expect(isValidUploadId(generateUploadId())).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });

  it('accepts only ids that name a direct child of the upload folder, for the data and its .info and .lock files', () => {
    fc.assert(
      fc.property(hostileId, (id) => {
        if (!isValidUploadId(id)) return;
        for (const name of [id, `${id}.info`, `${id}.lock`]) {
          const path = join(UPLOADS, name);
          expect(dirname(path)).toBe(UPLOADS);
          expect(basename(path)).toBe(name);
        }
        // URL-safe as it is: no decoding can turn it into something else.
        expect(encodeURIComponent(id)).toBe(id);
        expect(decodeURIComponent(id)).toBe(id);
        expect(id.length).toBeLessThanOrEqual(200);
      }),
      { numRuns: RUNS },
    );
  });

  it('refuses every id holding a dot, a slash, a backslash, a percent sign, a NUL or whitespace', () => {
    fc.assert(
      fc.property(fc.string({ unit: idChar, maxLength: 20 }), fc.constantFrom('.', '/', '\\', '%', '\0', ' ', '\t', '\n'), fc.string({ unit: idChar, maxLength: 20 }), (before, bad, after) => {
        expect(isValidUploadId(`${before}${bad}${after}`)).toBe(false);
      }),
      { numRuns: RUNS },
    );
  });

  it('accepts every id of 1 to 200 URL-safe characters and none longer', () => {
    fc.assert(
      fc.property(fc.string({ unit: idChar, minLength: 1, maxLength: 260 }), (id) => {
        expect(isValidUploadId(id)).toBe(id.length <= 200);
      }),
      { numRuns: RUNS },
    );
  });
});
