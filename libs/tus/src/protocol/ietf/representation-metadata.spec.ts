import { describe, expect, it } from '@jest/globals';
import { dispositionFilename, representationMetadata } from './representation-metadata.js';

describe('representationMetadata', () => {
  it("takes the draft's example: a JPEG with a UTF-8 file name", () => {
    expect({ ...representationMetadata('image/jpeg', `inline; filename="file name.jpg"; filename*=UTF-8''file%20name.jpg`) }).toEqual({
      filetype: 'image/jpeg',
      filename: 'file name.jpg',
    });
  });

  it('keeps the media type without its parameters, lower-cased', () => {
    expect({ ...representationMetadata('Text/Plain; charset=utf-8', undefined) }).toEqual({ filetype: 'text/plain' });
  });

  it("never takes application/partial-upload for the file's type", () => {
    expect({ ...representationMetadata('application/partial-upload', undefined) }).toEqual({});
    expect({ ...representationMetadata(undefined, undefined) }).toEqual({});
  });
});

describe('dispositionFilename', () => {
  it.each([
    ['attachment; filename=report.pdf', 'report.pdf'],
    ['inline; filename="a \\"quoted\\" name.txt"', 'a "quoted" name.txt'],
    [`attachment; filename="fallback.txt"; filename*=UTF-8''%E2%82%AC%20rates.txt`, '€ rates.txt'],
    [`attachment; filename*=iso-8859-1'en'%A3%20rates.txt`, '£ rates.txt'],
    [`attachment; filename*=UTF-8''%E2%28; filename="kept.txt"`, 'kept.txt'],
    ['attachment; filename="../../etc/passwd"', 'passwd'],
    ['attachment; FILENAME="upper.txt"', 'upper.txt'],
    ['inline', undefined],
    ['attachment; filename=""', undefined],
  ])('%s -> %p', (value, expected) => {
    expect(dispositionFilename(value)).toBe(expected);
  });
});
