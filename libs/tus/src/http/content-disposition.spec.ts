import { describe, expect, it } from '@jest/globals';
import { contentDisposition, downloadContentType } from './content-disposition.js';

describe('downloadContentType', () => {
  it.each([
    [{ filetype: 'image/png' }, 'image/png'],
    [{ contentType: 'Application/PDF' }, 'application/pdf'],
    [{ filetype: 'text/html\r\nSet-Cookie: x=1' }, 'application/octet-stream'],
    [{}, 'application/octet-stream'],
  ])('%p -> %p', (metadata, expected) => expect(downloadContentType(metadata)).toBe(expected));
});

describe('contentDisposition', () => {
  it('serves safe types inline and everything else as an attachment', () => {
    expect(contentDisposition('image/png', 'a.png')).toBe(`inline; filename="a.png"; filename*=UTF-8''a.png`);
    expect(contentDisposition('text/html', 'a.html')).toMatch(/^attachment;/);
    expect(contentDisposition('image/svg+xml', 'a.svg')).toMatch(/^attachment;/);
  });

  it('cannot be used to inject a header or break out of the quotes', () => {
    const value = contentDisposition('application/octet-stream', 'evil"\r\nSet-Cookie: a=1;.txt');
    expect(value).not.toMatch(/[\r\n]/);
    expect(value).toBe(`attachment; filename="evilSet-Cookie: a=1;.txt"; filename*=UTF-8''evilSet-Cookie%3A%20a%3D1%3B.txt`);
  });

  it('encodes non-ASCII names per RFC 5987 with an ASCII fallback', () => {
    expect(contentDisposition('text/plain', 'résumé.txt')).toBe(`inline; filename="r_sum_.txt"; filename*=UTF-8''r%C3%A9sum%C3%A9.txt`);
  });

  it('omits the filename when there is none', () => {
    expect(contentDisposition('application/octet-stream', undefined)).toBe('attachment');
  });
});
