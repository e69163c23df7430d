import { once } from 'node:events';
import { Agent, createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ietfRequest, rawExchange } from '../../../../../test/support/http/ietf-client.js';
import { ietfProfile } from './ietf-profile.js';
import { creationInterim, formatInterimHead, type InterimResponse, progressInterim } from './interim-response.js';
import { writeInterim } from '../../http/ietf/interim-writer.js';

describe('creationInterim / progressInterim', () => {
  it('announces the resource with the interop version, Location and, from interop 6, Upload-Limit', () => {
    expect(creationInterim(ietfProfile(8), 'https://example.com/upload/b530ce8ff', 'max-size=1234567890')).toEqual({
      status: 104,
      reason: 'Upload Resumption Supported',
      fields: [
        ['Upload-Draft-Interop-Version', '8'],
        ['Location', 'https://example.com/upload/b530ce8ff'],
        ['Upload-Limit', 'max-size=1234567890'],
      ],
    });
    expect(creationInterim(ietfProfile(3), '/upload/1', 'max-size=1').fields).toEqual([
      ['Upload-Draft-Interop-Version', '3'],
      ['Location', '/upload/1'],
    ]);
    expect(creationInterim(ietfProfile(6), '/upload/1', null).fields).toHaveLength(2);
  });

  it('reports progress from interop 5 on, without Location', () => {
    expect(progressInterim(ietfProfile(5), 50)?.fields).toEqual([
      ['Upload-Draft-Interop-Version', '5'],
      ['Upload-Offset', '50'],
    ]);
    expect(progressInterim(ietfProfile(4), 50)).toBeNull();
    expect(progressInterim(ietfProfile(3), 50)).toBeNull();
  });
});

describe('formatInterimHead', () => {
  it('writes the 104 of draft -03\'s creation example, byte for byte', () => {
    expect(formatInterimHead(creationInterim(ietfProfile(5), 'https://example.com/upload/b530ce8ff'))).toBe(
      'HTTP/1.1 104 Upload Resumption Supported\r\nUpload-Draft-Interop-Version: 5\r\nLocation: https://example.com/upload/b530ce8ff\r\n\r\n',
    );
    expect(formatInterimHead({ status: 104, reason: 'Upload Resumption Supported', fields: [] })).toBe('HTTP/1.1 104 Upload Resumption Supported\r\n\r\n');
  });

  it.each([
    [{ status: 104, reason: 'x', fields: [['Location', '/a\r\nSet-Cookie: x=1']] }, 'CRLF in a value'],
    [{ status: 104, reason: 'x', fields: [['Location', '/a\nb']] }, 'LF in a value'],
    [{ status: 104, reason: 'x', fields: [['Bad Name', 'v']] }, 'a space in a name'],
    [{ status: 104, reason: 'x', fields: [['', 'v']] }, 'an empty name'],
    [{ status: 104, reason: 'x\r\n', fields: [] }, 'CRLF in the reason'],
    [{ status: 101, reason: 'Switching Protocols', fields: [] }, '101'],
    [{ status: 200, reason: 'OK', fields: [] }, 'a final status'],
  ] as Array<[InterimResponse, string]>)('refuses %p (%s)', (interim) => {
    expect(() => formatInterimHead(interim)).toThrow(RangeError);
  });
});

// The http layer's writer (`http/ietf/interim-writer.ts`), the way docs/ietf-resumable-upload.md
// recommends writing a 104 from Node: here it proves the formatter's output on a real socket.
describe('a 104 written ahead of the final response, on a real HTTP/1.1 server', () => {
  const profile = ietfProfile(6);
  let server: Server;
  let origin: string;
  let port: number;

  beforeAll(async () => {
    server = createServer(async (req, res) => {
      const location = `${origin}/upload/${req.url === '/second' ? 'b' : 'a'}`;
      const announced = writeInterim(req, res, formatInterimHead(creationInterim(profile, location, 'max-size=1000')));
      let received = 0;
      for await (const chunk of req) received += (chunk as Buffer).length;
      const progress = progressInterim(profile, received);
      if (progress !== null) writeInterim(req, res, formatInterimHead(progress));
      const body = JSON.stringify({ received, announced });
      res.writeHead(201, { Location: location, 'Upload-Offset': String(received), 'Content-Type': 'application/json' });
      res.end(Buffer.from(body));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
    origin = `http://127.0.0.1:${port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it("Node's client sees each 104 as 'information' and then the intact final response, twice on one socket", async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const headers = { 'Upload-Draft-Interop-Version': '6', 'Upload-Complete': '?1' };
    try {
      const first = await ietfRequest('POST', `${origin}/first`, { headers, body: 'x'.repeat(300), agent });
      const second = await ietfRequest('POST', `${origin}/second`, { headers, body: 'y'.repeat(20), agent });
      expect(first.interim).toEqual([
        {
          status: 104,
          reason: 'Upload Resumption Supported',
          headers: { 'upload-draft-interop-version': '6', location: `${origin}/upload/a`, 'upload-limit': 'max-size=1000' },
        },
        { status: 104, reason: 'Upload Resumption Supported', headers: { 'upload-draft-interop-version': '6', 'upload-offset': '300' } },
      ]);
      expect([first.status, first.headers.location, JSON.parse(first.text)]).toEqual([201, `${origin}/upload/a`, { received: 300, announced: true }]);
      expect(second.reusedSocket).toBe(true);
      expect(second.interim.map((i) => i.headers.location ?? i.headers['upload-offset'])).toEqual([`${origin}/upload/b`, '20']);
      expect([second.status, JSON.parse(second.text)]).toEqual([201, { received: 20, announced: true }]);
    } finally {
      agent.destroy();
    }
  });

  it('the wire holds the 104s, then the final response', async () => {
    const wire = await rawExchange(
      '127.0.0.1',
      port,
      'POST /first HTTP/1.1\r\nHost: x\r\nUpload-Draft-Interop-Version: 6\r\nUpload-Complete: ?1\r\nContent-Length: 5\r\n\r\nhello',
      (received) => received.includes('"announced":true}'),
    );
    expect(wire.startsWith(
      `HTTP/1.1 104 Upload Resumption Supported\r\nUpload-Draft-Interop-Version: 6\r\nLocation: ${origin}/upload/a\r\nUpload-Limit: max-size=1000\r\n\r\n` +
        'HTTP/1.1 104 Upload Resumption Supported\r\nUpload-Draft-Interop-Version: 6\r\nUpload-Offset: 5\r\n\r\n' +
        'HTTP/1.1 201 Created\r\n',
    )).toBe(true);
  });

  it('sends no 104 to an HTTP/1.0 client', async () => {
    const wire = await rawExchange('127.0.0.1', port, 'POST /first HTTP/1.0\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello', (received) =>
      received.includes('}'),
    );
    expect(wire.startsWith('HTTP/1.1 201 Created\r\n')).toBe(true);
    expect(wire).toContain('{"received":5,"announced":false}');
    expect(wire).not.toContain(' 104 ');
  });

  it('keeps each response in order when two requests are pipelined', async () => {
    const post = (path: string): string => `POST ${path} HTTP/1.1\r\nHost: x\r\nUpload-Draft-Interop-Version: 6\r\nUpload-Complete: ?1\r\nContent-Length: 3\r\n\r\nabc`;
    const wire = await rawExchange('127.0.0.1', port, post('/first') + post('/second'), (received) => received.split('201 Created').length === 3 && received.endsWith('0\r\n\r\n'));
    const finals = [...wire.matchAll(/HTTP\/1\.1 201 Created\r\nLocation: (\S+)/g)].map((m) => m[1]);
    expect(finals).toEqual([`${origin}/upload/a`, `${origin}/upload/b`]);
    // Every 104 comes before the final response of its own request.
    const firstFinal = wire.indexOf('201 Created');
    expect(wire.indexOf(`Location: ${origin}/upload/a\r\nUpload-Limit`)).toBeLessThan(firstFinal);
    const secondAnnouncement = wire.indexOf(`Location: ${origin}/upload/b\r\nUpload-Limit`);
    if (secondAnnouncement !== -1) expect(secondAnnouncement).toBeGreaterThan(firstFinal);
  });
});
