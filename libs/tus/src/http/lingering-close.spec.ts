import { afterEach, describe, expect, it } from '@jest/globals';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
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

/**
 * A client that sent `Connection: close` and a body of 64 parts of 16 KiB: it reads the answer
 * once it comes, and goes on sending the parts (as a client does that writes its body without
 * watching for an early answer). Resolves to what it read and the socket's error, if any.
 */
async function sendAfterAnswer(port: number): Promise<{ read: string; error?: string }> {
  const socket: Socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  await once(socket, 'connect');
  const part = Buffer.alloc(16 * 1024, 1);
  socket.write(`PATCH /files/abc HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: ${64 * part.length}\r\n\r\n`);
  socket.write(part);
  let read = '';
  let error: string | undefined;
  socket.setEncoding('utf8');
  socket.on('data', (text: string) => (read += text));
  socket.on('error', (failure: NodeJS.ErrnoException) => (error = failure.code ?? failure.message));
  // Not events.once: it rejects on the 'error' the case without lingering expects.
  const closed = new Promise((resolve) => socket.once('close', resolve));
  const deadline = Date.now() + 10_000;
  while (!read.includes('\r\n\r\n') && !socket.destroyed && Date.now() < deadline) await sleep(5);
  for (let i = 1; i < 64 && !socket.destroyed; i++) {
    socket.write(part);
    await sleep(2);
  }
  if (!socket.destroyed) socket.end();
  await closed;
  return { read, error };
}

describe('lingerWhileBodyArrives', () => {
  it('a connection closing with an early answer reads the rest of the body before it closes: the client sees no reset', async () => {
    const outcome = await sendAfterAnswer(await refusingServer(true));
    expect(outcome.read).toMatch(/^HTTP\/1\.1 409 /);
    expect(outcome.read).toContain('Upload-Offset mismatch');
    expect(outcome.error).toBeUndefined();
  });

  it('without it, Node closes at once and the client writing the rest is reset (the case it exists for)', async () => {
    const outcome = await sendAfterAnswer(await refusingServer(false));
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
