import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { InvalidRequestError } from '../errors/tus.errors.js';
import { formatFinalConcat, parseUploadConcat, type UploadConcat, uploadIdFromUrl } from './upload-concat.js';
import { latin1, parsedOrRefused, RUNS } from './testing/header-properties.js';


const fragment = fc.constantFrom('final;', 'partial', ' ', '\t', ';', '/files/', 'http://', '[', ']', '%', '%2e%2e', '..', '\\', '?', '#', ':');
const text = fc.string({ unit: fc.oneof(latin1, fragment), maxLength: 60 });

const idChar = fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-');
const uploadId = fc.string({ unit: idChar, minLength: 1, maxLength: 40 });
/** A partial's URL as clients write it: absolute or relative, with a trailing slash, a query or a fragment. */
const partialUrl = fc
  .tuple(
    fc.constantFrom('http://tus.example', 'https://tus.example:8443', 'http://127.0.0.1:1080', 'http://[::1]', ''),
    fc.constantFrom('/files/', '/api/v1/files/', '/'),
    uploadId,
    fc.constantFrom('', '/', '?token=a%20b', '#x', '/?a=/b/c'),
  )
  .map(([origin, path, id, tail]) => ({ url: `${origin}${path}${id}${tail}`, id }));
/** A URL token of a final's list: anything without whitespace. */
const urlToken = fc.string({ unit: fc.oneof(latin1, fragment), minLength: 1, maxLength: 30 }).filter((token) => !/\s/.test(token));

const parseOrRefuse = (header: string) => parsedOrRefused(() => parseUploadConcat(header));

describe('parseUploadConcat (properties)', () => {
  it('reads back every list of URLs formatFinalConcat writes, order and repeats kept', () => {
    fc.assert(
      fc.property(fc.array(urlToken, { minLength: 1, maxLength: 6 }), (urls) => {
        expect(parseUploadConcat(formatFinalConcat(urls))).toEqual({ type: 'final', urls });
      }),
      { numRuns: RUNS },
    );
  });

  it('reads any header value as partial or a final of non-empty URLs without whitespace, or refuses it with a 400', () => {
    const nearValid = fc.tuple(fc.constantFrom('final;', 'partial', 'final; ', ' final;'), text).map(([head, rest]) => head + rest);
    fc.assert(
      fc.property(fc.oneof(text, nearValid), (header) => {
        const parsed = parseOrRefuse(header);
        if (parsed === 'refused' || parsed.type === 'partial') return;
        expect(header.trim().startsWith('final;')).toBe(true);
        expect(parsed.urls.length).toBeGreaterThan(0);
        for (const url of parsed.urls) expect(url).toMatch(/^\S+$/);
      }),
      { numRuns: RUNS },
    );
  });

  it('reads partial only as the whole value', () => {
    fc.assert(
      fc.property(text, text, (before, after) => {
        fc.pre((before + after).trim() !== '');
        const header = `${before}partial${after}`;
        const parsed = parseOrRefuse(header);
        if (parsed !== 'refused' && parsed.type === 'partial') expect(header.trim()).toBe('partial');
      }),
      { numRuns: RUNS },
    );
  });
});

describe('uploadIdFromUrl (properties)', () => {
  it('finds the id in every form of a partial URL', () => {
    fc.assert(
      fc.property(partialUrl, ({ url, id }) => {
        expect(uploadIdFromUrl(url)).toBe(id);
      }),
      { numRuns: RUNS },
    );
  });

  it('reads any token as one path segment (no slash), or refuses it with a 400', () => {
    fc.assert(
      fc.property(fc.oneof(urlToken, text), (url) => {
        let id: string;
        try {
          id = uploadIdFromUrl(url);
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidRequestError);
          return;
        }
        expect(id).not.toContain('/');
      }),
      { numRuns: RUNS },
    );
  });
});
