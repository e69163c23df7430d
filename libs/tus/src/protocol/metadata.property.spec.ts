import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { InvalidRequestError, MetadataTooLargeError } from '../errors/tus.errors.js';
import { parseMetadata, stringifyMetadata, type UploadMetadata } from './metadata.js';
import { charEdit, editOnce, latin1, parsedOrRefused, RUNS } from './testing/header-properties.js';


// What Node hands over as a header value: latin1 text, plus the fragments this grammar cares about.
const fragment = fc.constantFrom(' ', ',', '=', '==', 'YQ==', 'a', '__proto__', '+', '/', '\t', '\u00a0');
const headerText = fc.string({ unit: fc.oneof(latin1, fragment), maxLength: 60 });

// "The key MUST NOT contain spaces and commas and MUST NOT be empty. The key SHOULD be ASCII encoded."
const keyChar = fc.integer({ min: 0x21, max: 0x7e }).filter((code) => code !== 0x2c).map((code) => String.fromCharCode(code));
const key = fc.oneof(fc.string({ unit: keyChar, minLength: 1, maxLength: 16 }), fc.constantFrom('__proto__', 'constructor', 'toString', '1', '007'));
const entries = fc.uniqueArray(fc.tuple(key, fc.string({ unit: 'grapheme', maxLength: 24 })), { selector: ([name]) => name, maxLength: 8 });
const metadataOf = (pairs: [string, string][]): UploadMetadata => {
  const metadata: UploadMetadata = Object.create(null);
  for (const [name, value] of pairs) metadata[name] = value;
  return metadata;
};

/** A valid header with one edit: a character inserted, removed or replaced, or a pair repeated. */
const mutatedHeader = fc
  .tuple(entries.filter((pairs) => pairs.length > 0), fc.nat(), latin1, fc.oneof(charEdit, fc.constant('repeat' as const)))
  .map(([pairs, at, char, edit]) => {
    const header = stringifyMetadata(metadataOf(pairs));
    return edit === 'repeat' ? `${header},${header.split(',')[0]}` : editOnce(header, at, char, edit);
  });

const KEY = /^[\x21-\x2b\x2d-\x7e]+$/;

/** Parses, and says whether the header was refused: with the module's 400, never anything else. */
const parseOrRefuse = (header: string) => parsedOrRefused(() => parseMetadata(header));

describe('parseMetadata (properties)', () => {
  it('gives back every valid metadata that stringifyMetadata formats, key order included', () => {
    fc.assert(
      fc.property(entries, (pairs) => {
        const metadata = metadataOf(pairs);
        expect(Object.entries(parseMetadata(stringifyMetadata(metadata)))).toEqual(Object.entries(metadata));
      }),
      { numRuns: RUNS },
    );
  });

  it('reads any header value as grammar-valid keys with string values, or refuses it with a 400', () => {
    fc.assert(
      fc.property(fc.oneof(headerText, mutatedHeader), (header) => {
        const parsed = parseOrRefuse(header);
        if (parsed === 'refused') return;
        const keys = Object.keys(parsed);
        expect(keys.length).toBeLessThanOrEqual(header.split(',').length);
        for (const name of keys) {
          expect(name).toMatch(KEY);
          expect(typeof parsed[name]).toBe('string');
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('is idempotent: what it accepted, formatted again, parses to the same metadata', () => {
    fc.assert(
      fc.property(fc.oneof(headerText, mutatedHeader), (header) => {
        const parsed = parseOrRefuse(header);
        if (parsed === 'refused') return;
        expect(Object.entries(parseMetadata(stringifyMetadata(parsed)))).toEqual(Object.entries(parsed));
      }),
      { numRuns: RUNS },
    );
  });

  it('refuses a value that is not padded base64', () => {
    const unpadded = fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'), minLength: 1, maxLength: 30 });
    fc.assert(
      fc.property(key, unpadded.filter((value) => value.length % 4 !== 0), (name, value) => {
        expect(() => parseMetadata(`${name} ${value}`)).toThrow(InvalidRequestError);
      }),
      { numRuns: RUNS },
    );
  });

  it('refuses a key repeated anywhere in the header', () => {
    fc.assert(
      fc.property(entries.filter((pairs) => pairs.length > 0), fc.nat(), (pairs, at) => {
        const header = stringifyMetadata(metadataOf(pairs));
        const repeated = pairs[at % pairs.length]![0];
        expect(() => parseMetadata(`${header},${repeated}`)).toThrow(InvalidRequestError);
      }),
      { numRuns: RUNS },
    );
  });

  it('cannot reach Object.prototype, whatever the keys', () => {
    const prototypeNames = Object.getOwnPropertyNames(Object.prototype);
    fc.assert(
      fc.property(entries, (pairs) => {
        const parsed = parseMetadata(stringifyMetadata(metadataOf(pairs)));
        expect(Object.getPrototypeOf(parsed)).toBeNull();
        expect(Object.getOwnPropertyNames(Object.prototype)).toEqual(prototypeNames);
        for (const [name, value] of pairs) expect(Object.getOwnPropertyDescriptor(parsed, name)?.value).toBe(value);
      }),
      { numRuns: RUNS },
    );
  });

  it('accepts a header of exactly maxBytes and refuses one byte more with a 431', () => {
    fc.assert(
      fc.property(entries.filter((pairs) => pairs.length > 0), (pairs) => {
        const header = stringifyMetadata(metadataOf(pairs));
        expect(() => parseMetadata(header, header.length)).not.toThrow();
        expect(() => parseMetadata(header, header.length - 1)).toThrow(MetadataTooLargeError);
      }),
      { numRuns: RUNS },
    );
  });
});
