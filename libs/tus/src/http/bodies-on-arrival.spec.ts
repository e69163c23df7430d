import { afterEach, describe, expect, it } from '@jest/globals';
import { once } from 'node:events';
import { Agent, createServer, type IncomingMessage, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { carriesUploadBody, takeUploadBodiesOnArrival } from './bodies-on-arrival.js';

function requestOf(method: string, url: string, headers: Record<string, string | undefined>): IncomingMessage {
  // Node leaves out a header the request did not carry.
  const present = Object.fromEntries(Object.entries(headers).filter(([, value]) => value !== undefined));
  return { method, url, headers: present } as unknown as IncomingMessage;
}

describe('carriesUploadBody', () => {
  const tus = { 'tus-resumable': '1.0.0', 'content-length': '10', 'content-type': 'application/offset+octet-stream' };
  const draft = { 'upload-draft-interop-version': '8', 'content-length': '10' };

  it.each([
    ['a tus PATCH to an upload', 'PATCH', '/files/abc', tus, true],
    ['a creation-with-upload', 'POST', '/files', tus, true],
    ['a creation-with-upload, query string', 'POST', '/files?x=1', tus, true],
    ['a tus chunk, type with parameters and in capitals', 'PATCH', '/files/abc', { ...tus, 'content-type': 'Application/Offset+Octet-Stream; x=1' }, true],
    ['a draft append (no Tus-Resumable)', 'PATCH', '/files/abc', { ...draft, 'content-type': 'application/partial-upload' }, true],
    ['a draft append without a type (interop 3 to 5)', 'PATCH', '/files/abc', draft, true],
    ['a draft creation with the file’s own type: its route takes it', 'POST', '/files', { ...draft, 'content-type': 'image/jpeg' }, false],
    ['a chunked body', 'PATCH', '/files/abc', { ...tus, 'content-length': undefined, 'transfer-encoding': 'chunked' }, true],
    ['a creation without a body', 'POST', '/files', { ...tus, 'content-length': '0' }, false],
    ['no length and no transfer coding: no body', 'POST', '/files', { ...tus, 'content-length': undefined }, false],
    ['a JSON body (an app parser may read it)', 'POST', '/files', { ...tus, 'content-type': 'application/json' }, false],
    ['a tus request without a type', 'POST', '/files', { ...tus, 'content-type': undefined }, false],
    ['a HEAD', 'HEAD', '/files/abc', tus, false],
    ['a request naming no protocol (an app route under the path)', 'POST', '/files', { 'content-length': '10' }, false],
    ['another path', 'PATCH', '/other/abc', tus, false],
    ['a path that only starts like the tus path', 'PATCH', '/filesystem', tus, false],
  ])('%s', (_name, method, url, headers, expected) => {
    expect(carriesUploadBody(requestOf(method, url, headers), '/files')).toBe(expected);
  });

  it('under a tus path of `/`, every upload request, and still none that names no protocol', () => {
    expect(carriesUploadBody(requestOf('PATCH', '/abc', tus), '/')).toBe(true);
    expect(carriesUploadBody(requestOf('POST', '/api/things', { 'content-length': '10', 'content-type': 'application/offset+octet-stream' }), '/')).toBe(false);
  });
});

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

describe('takeUploadBodiesOnArrival', () => {
  it('a request answered by something other than a tus route (a middleware refusing it) has its body drained: the client gets the answer, its kept-alive connection serves the next request', async () => {
    // The app's handler answers 401 at once and never reads the body, as an auth middleware does.
    server = createServer((request, response) => {
      response.statusCode = request.method === 'PATCH' ? 401 : 200;
      response.end();
    });
    takeUploadBodiesOnArrival(server, '/files');
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    // Far more than the 64 KiB taken in before a route: the rest is read and dropped. (Node itself
    // keeps such a connection when nothing took the body in; past a few MiB it closes it.)
    const body = Buffer.alloc(1024 * 1024, 1);
    try {
      const statuses: string[] = [];
      for (const method of ['PATCH', 'GET']) {
        statuses.push(
          await new Promise<string>((resolve, reject) => {
            const headers = method === 'PATCH' ? { 'Tus-Resumable': '1.0.0', 'Content-Type': 'application/offset+octet-stream', 'Content-Length': String(body.length) } : {};
            const req = httpRequest({ host: '127.0.0.1', port, path: '/files/abc', method, agent, headers });
            req.on('error', reject);
            req.on('response', (response) => {
              response.resume();
              response.on('end', () => resolve(`${response.statusCode} ${req.reusedSocket ? 'same connection' : 'new connection'}`));
            });
            req.end(method === 'PATCH' ? body : undefined);
          }),
        );
      }
      expect(statuses).toEqual(['401 new connection', '200 same connection']);
    } finally {
      agent.destroy();
    }
  });
});
