import { describe, expect, it } from '@jest/globals';
import type { IncomingMessage } from 'node:http';
import { InvalidRequestError } from '../errors/tus.errors.js';
import { uploadLocation } from './upload-location.js';

function request(url: string, headers: Record<string, string>, encrypted = false): IncomingMessage {
  return { url, headers, socket: { encrypted } } as unknown as IncomingMessage;
}

const direct = { relative: false, trustForwardedHeaders: false };
const trusting = { relative: false, trustForwardedHeaders: true };

describe('uploadLocation', () => {
  it.each<[string, IncomingMessage, typeof direct, string]>([
    ['absolute from Host', request('/files', { host: 'h:3000' }), direct, 'http://h:3000/files/ID'],
    ['https on a TLS socket', request('/files/', { host: 'h' }, true), direct, 'https://h/files/ID'],
    ['relative, query dropped', request('/api/files?x=1', { host: 'h' }), { ...direct, relative: true }, '/api/files/ID'],
    ['forwarded headers ignored unless trusted', request('/files', { host: 'h', 'x-forwarded-host': 'evil' }), direct, 'http://h/files/ID'],
    ['X-Forwarded-Host and -Proto', request('/files', { host: 'h', 'x-forwarded-host': 'tus.io', 'x-forwarded-proto': 'https' }), trusting, 'https://tus.io/files/ID'],
    ['the first of a list of X-Forwarded-Host', request('/files', { host: 'h', 'x-forwarded-host': 'a.io, b.io' }), trusting, 'http://a.io/files/ID'],
    ['Forwarded (RFC 7239), first hop, quoted', request('/files', { host: 'h', forwarded: 'for=1.2.3.4;proto=https;host="tus.io:443", for=5.6.7.8;host=x' }), trusting, 'https://tus.io/files/ID'],
    ['the default http port dropped', request('/files', { host: 'h', 'x-forwarded-host': 'tus.io:80', 'x-forwarded-proto': 'http' }), trusting, 'http://tus.io/files/ID'],
    ['a non-default port kept', request('/files', { host: 'h', 'x-forwarded-host': 'tus.io:8443', 'x-forwarded-proto': 'https' }), trusting, 'https://tus.io:8443/files/ID'],
    ['proto only: host from Host', request('/files', { host: 'h:8080', 'x-forwarded-proto': 'https' }), trusting, 'https://h:8080/files/ID'],
  ])('%s', (_case, req, options, expected) => {
    expect(uploadLocation(req, 'ID', options)).toBe(expected);
  });

  // Found by the HTTP fuzz: each came back in Location, which was then no URL, or another one.
  it.each([['a b'], ['[::1'], ['h/../x'], ['@'], ['evil.example:99999'], ['\xff\xfe'], ['']])('refuses Host %p with 400', (host) => {
    expect(() => uploadLocation(request('/files', { host }), 'ID', direct)).toThrow(InvalidRequestError);
    // An empty X-Forwarded-Host is no forwarded host at all: Host then says.
    if (host !== '') expect(() => uploadLocation(request('/files', { host: 'h', 'x-forwarded-host': host }), 'ID', trusting)).toThrow(InvalidRequestError);
  });

  it.each([['[::1]:8080'], ['xn--bcher-kva.example'], ['127.0.0.1'], ['my_host.local:1']])('takes Host %p', (host) => {
    expect(uploadLocation(request('/files', { host }), 'ID', direct)).toBe(`http://${host}/files/ID`);
  });

  it('prefers originalUrl (Express mounts) over url', () => {
    const req = Object.assign(request('/files', { host: 'h' }), { originalUrl: '/api/files' });
    expect(uploadLocation(req, 'ID', direct)).toBe('http://h/api/files/ID');
  });
});
