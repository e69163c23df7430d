import { describe, expect, it } from '@jest/globals';
import { InvalidRequestError } from '../errors/tus.errors.js';
import { formatFinalConcat, parseUploadConcat, uploadIdFromUrl } from './upload-concat.js';

describe('parseUploadConcat', () => {
  it('reads partial', () => {
    expect(parseUploadConcat('partial')).toEqual({ type: 'partial' });
  });

  it('reads a final with absolute and relative URLs, order kept, repeats allowed', () => {
    expect(parseUploadConcat('final;http://tus.io/files/a /files/b http://tus.io/files/a')).toEqual({
      type: 'final',
      urls: ['http://tus.io/files/a', '/files/b', 'http://tus.io/files/a'],
    });
  });

  it.each([['final;'], ['final; '], ['partial;x'], ['full'], ['']])('rejects %p with 400', (header) => {
    expect(() => parseUploadConcat(header)).toThrow(InvalidRequestError);
  });
});

describe('uploadIdFromUrl', () => {
  it.each([
    ['http://tus.io/files/abc', 'abc'],
    ['/files/abc', 'abc'],
    ['/files/abc/', 'abc'],
    ['https://h:8443/api/files/x_y-Z?token=1', 'x_y-Z'],
    ['abc', 'abc'],
  ])('%s names %s', (url, id) => {
    expect(uploadIdFromUrl(url)).toBe(id);
  });

  // Found by the properties: new URL() threw a TypeError, which the final's creation answered 500.
  it.each([['http://]'], ['http://[']])('refuses %p, which is no URL, with 400', (url) => {
    expect(() => uploadIdFromUrl(url)).toThrow(InvalidRequestError);
  });
});

describe('formatFinalConcat', () => {
  it('formats what parseUploadConcat reads', () => {
    const urls = ['/files/a', '/files/b'];
    expect(parseUploadConcat(formatFinalConcat(urls))).toEqual({ type: 'final', urls });
  });
});
