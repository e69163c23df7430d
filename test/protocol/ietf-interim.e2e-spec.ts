import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { Agent } from 'node:http';
import { connect } from 'node:net';
import { send } from '../support/http/requests.js';
import { ietfRequest, rawExchange } from '../support/http/ietf-client.js';
import { appendFields, draft, INTEROP, type Interop, saysComplete } from '../support/http/ietf-draft.js';
import { TARGETS } from '../support/apps/targets.js';
import { startTusApp, type RunningApp } from '../support/apps/tus-app.js';
import { KiB } from '../support/bytes.js';


/**
 * Sends a creation's head and the first `sent` bytes of its `total`-byte content on a raw socket,
 * waits for the 104, then cuts the connection before the final response: a client that lost its
 * network mid-upload, knowing only the 104's Location.
 */
async function creationCutAfterInterim(origin: string, version: Interop, content: Buffer, sent: number): Promise<{ location: string; before: string }> {
  const { hostname, port } = new URL(origin);
  const socket = connect(Number(port), hostname);
  await once(socket, 'connect');
  const fields = Object.entries(draft(version, true)).map(([name, value]) => `${name}: ${value}\r\n`).join('');
  socket.write(`POST /files HTTP/1.1\r\nHost: ${hostname}:${port}\r\n${fields}Content-Length: ${content.length}\r\n\r\n`);
  socket.write(content.subarray(0, sent));
  let received = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no 104 within 5 s: ${JSON.stringify(received)}`)), 5_000);
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (received.includes('\r\n\r\n')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  socket.destroy();
  const location = /\r\nLocation: (\S+)\r\n/.exec(received)?.[1];
  if (location === undefined) throw new Error(`no Location in ${JSON.stringify(received)}`);
  return { location, before: received };
}

describe.each(TARGETS)('the 104 (Upload Resumption Supported) on the socket, $name', ({ backend, platform }) => {
  let app: RunningApp;
  let quiet: RunningApp;

  beforeAll(async () => {
    [app, quiet] = await Promise.all([
      startTusApp({}, { backend, platform }),
      startTusApp({ ietf: { interimResponses: false } }, { backend, platform }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([app?.close(), quiet?.close()]);
  });

  const port = () => Number(new URL(app.origin).port);
  const creation = (version: string, body: string) =>
    `POST /files HTTP/1.1\r\nHost: 127.0.0.1\r\nUpload-Draft-Interop-Version: ${version}\r\nUpload-Complete: ?1\r\nContent-Length: ${body.length}\r\n\r\n${body}`;

  it('on the wire, byte for byte: the 104 with the interop version, Location and Upload-Limit, then the 201', async () => {
    const wire = await rawExchange('127.0.0.1', port(), creation('8', 'hello'), (received) => /\r\n\r\n[\s\S]*201 Created[\s\S]*\r\n\r\n/.test(received));
    const location = /HTTP\/1\.1 201 Created\r\n[\s\S]*?Location: (\S+)\r\n/i.exec(wire)?.[1];
    expect(location).toMatch(/^http:\/\/127\.0\.0\.1\/files\/[A-Za-z0-9_-]+$/);
    expect(wire).toMatch(
      new RegExp(`^HTTP/1\\.1 104 Upload Resumption Supported\\r\\nUpload-Draft-Interop-Version: 8\\r\\nLocation: ${location}\\r\\nUpload-Limit: max-age=86\\d{3}\\r\\n\\r\\nHTTP/1\\.1 201 Created\\r\\n`),
    );
    expect(wire).not.toMatch(/tus-resumable/i);
  });

  it('on a kept-alive connection: two creations, each with its own 104 and an intact final response', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = await ietfRequest('POST', app.url, { headers: draft(6, true), body: 'x'.repeat(3000), agent });
      const second = await ietfRequest('POST', app.url, { headers: draft(5, false), body: 'yy', agent });
      expect(second.reusedSocket).toBe(true);
      for (const [exchange, offset] of [[first, '3000'], [second, '2']] as const) {
        expect(exchange.interim.map((interim) => interim.headers.location)).toEqual([exchange.headers.location]);
        expect([exchange.status, exchange.headers['upload-offset']]).toEqual([201, offset]);
      }
      expect((await send('GET', first.headers.location!)).body.length).toBe(3000);
    } finally {
      agent.destroy();
    }
  });

  it('with Expect: 100-continue: 100, then the 104, then the 201', async () => {
    const exchange = await ietfRequest('POST', app.url, { headers: { ...draft(8, true), Expect: '100-continue' }, body: 'abc' });
    expect(exchange.interim.map((interim) => interim.status)).toEqual([100, 104]);
    expect(exchange.status).toBe(201);
  });

  it('never to an HTTP/1.0 client; the content then goes with the creation', async () => {
    const wire = await rawExchange(
      '127.0.0.1',
      port(),
      'POST /files HTTP/1.0\r\nHost: 127.0.0.1\r\nUpload-Draft-Interop-Version: 8\r\nUpload-Complete: ?1\r\nContent-Length: 5\r\n\r\nhello',
      (received) => received.includes('\r\n\r\n'),
    );
    expect(wire.startsWith('HTTP/1.1 201 Created\r\n')).toBe(true);
    expect(wire).not.toContain(' 104 ');
  });

  it('never for an unknown interop version: that is a tus request (412 without Tus-Resumable)', async () => {
    for (const version of ['2', '9', 'x', '6, 7']) {
      const exchange = await ietfRequest('POST', app.url, {
        headers: { 'Upload-Draft-Interop-Version': version, 'Upload-Complete': '?1', 'Content-Type': 'application/offset+octet-stream' },
        body: 'abc',
      });
      expect([version, exchange.status, exchange.interim]).toEqual([version, 412, []]);
      expect(exchange.headers['tus-version']).toBe('1.0.0');
      expect(exchange.headers['upload-draft-interop-version']).toBeUndefined();
    }
  });

  it('two creations pipelined in one write: each 104 comes before its own final response', async () => {
    const wire = await rawExchange('127.0.0.1', port(), creation('8', 'abc') + creation('8', 'def'), (received) => received.split('201 Created').length === 3 && received.endsWith('\r\n\r\n'));
    const finals = [...wire.matchAll(/HTTP\/1\.1 201 Created\r\n/g)].map((match) => match.index);
    expect(finals).toHaveLength(2);
    const announced = [...wire.matchAll(/HTTP\/1\.1 104 [^\r]*\r\n[\s\S]*?Location: (\S+)\r\n/gi)];
    const locations = [...wire.matchAll(/HTTP\/1\.1 201 Created\r\n[\s\S]*?Location: (\S+)\r\n/gi)].map((match) => match[1]);
    // The first always has its 104 ahead of its 201; the second, queued behind it, may go without.
    expect(announced[0]?.[1]).toBe(locations[0]);
    expect(announced[0]!.index).toBeLessThan(finals[0]!);
    if (announced.length > 1) {
      expect(announced[1]![1]).toBe(locations[1]);
      expect(announced[1]!.index).toBeGreaterThan(finals[0]!);
    }
  });

  it('ietf.interimResponses false: no 104, the same final response', async () => {
    const exchange = await ietfRequest('POST', quiet.url, { headers: draft(8, true), body: 'hello' });
    expect([exchange.interim, exchange.status, exchange.headers['upload-offset'], saysComplete(8, exchange.headers)]).toEqual([[], 201, '5', true]);
  });

  it.each(INTEROP)('interop %i: a client cut off before the final response resumes from the Location of the 104', async (version) => {
    const content = randomBytes(96 * KiB);
    const { location, before } = await creationCutAfterInterim(app.origin, version, content, 40 * KiB);
    expect(before.startsWith('HTTP/1.1 104 Upload Resumption Supported\r\n')).toBe(true);
    const url = new URL(location, app.url).href;
    const head = await ietfRequest('HEAD', url, { headers: draft(version) });
    expect(head.status).toBe(204);
    expect(saysComplete(version, head.headers)).toBe(false);
    const offset = Number(head.headers['upload-offset']);
    expect(offset).toBeLessThanOrEqual(40 * KiB);
    const rest = await ietfRequest('PATCH', url, { headers: appendFields(version, offset, true), body: content.subarray(offset) });
    expect([rest.status, rest.headers['upload-offset'], saysComplete(version, rest.headers)]).toEqual([200, String(content.length), true]);
    expect((await send('GET', url)).body.equals(content)).toBe(true);
  });
});
