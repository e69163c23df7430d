import { afterEach, describe, expect, it } from '@jest/globals';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { sendOnAfterEarlyAnswer } from '../../../../test/support/http/early-answer.js';
import { LINGER_MS, lingerWhileBodyArrives } from './lingering-close.js';

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

/** A server that answers 409 to every request as soon as it arrives, without reading its body. */
async function refusingServer(linger: boolean): Promise<number> {
  server = createServer((request, response) => {
    if (linger) lingerWhileBodyArrives(request);
    response.writeHead(409, { 'Content-Type': 'text/plain' }).end('Upload-Offset mismatch\n');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

describe('lingerWhileBodyArrives', () => {
  it('a connection closing with an early answer reads the rest of the body before it closes: the client sees no reset', async () => {
    const outcome = await sendOnAfterEarlyAnswer('PATCH', `http://127.0.0.1:${await refusingServer(true)}/files/abc`, {});
    expect(outcome.read).toMatch(/^HTTP\/1\.1 409 /);
    expect(outcome.read).toContain('Upload-Offset mismatch');
    expect(outcome.error).toBeUndefined();
  });

  it('without it, Node closes at once and the client writing the rest is reset (the case it exists for)', async () => {
    const outcome = await sendOnAfterEarlyAnswer('PATCH', `http://127.0.0.1:${await refusingServer(false)}/files/abc`, {});
    expect(outcome.error).toMatch(/^(EPIPE|ECONNRESET)$/);
  });

  it('closes after LINGER_MS a client that never finishes its body', async () => {
    const port = await refusingServer(true);
    const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    await once(socket, 'connect');
    socket.write('PATCH /files/abc HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 1000000\r\n\r\nabc');
    socket.on('error', () => undefined);
    socket.resume();
    const started = Date.now();
    // The answer and the server's FIN come first; the server closes its read side only later.
    await once(socket, 'end');
    const closed = new Promise((resolve) => socket.once('close', resolve));
    const writable = setInterval(() => socket.write('x'), 50);
    await closed;
    clearInterval(writable);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(LINGER_MS - 100);
    expect(elapsed).toBeLessThan(LINGER_MS + 5_000);
  });
});
