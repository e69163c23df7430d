import { afterEach, describe, expect, it } from '@jest/globals';
import { once } from 'node:events';
import { createServer, type IncomingMessage, request as httpRequest, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { discardEarlyBody, EARLY_BODY_BYTES, type EarlyBody, takeBodyEarly } from './early-body.js';

/** What a consumer read from a body: its bytes, and how it ended. */
async function readAll(body: EarlyBody): Promise<{ bytes: Buffer; error: Error | undefined }> {
  const pieces: Buffer[] = [];
  try {
    for await (const piece of body) pieces.push(piece as Buffer);
    return { bytes: Buffer.concat(pieces), error: undefined };
  } catch (error) {
    return { bytes: Buffer.concat(pieces), error: error as Error };
  }
}

/**
 * A real server whose handler takes the body in at once and hands each request to the test; the
 * test decides when (if ever) the body is read, as the core does once it holds the upload's lock.
 */
async function startServer(): Promise<{ port: number; next: () => Promise<{ request: IncomingMessage; response: ServerResponse; body: EarlyBody }> }> {
  const arrivals: { request: IncomingMessage; response: ServerResponse; body: EarlyBody }[] = [];
  const waiting: ((arrival: (typeof arrivals)[number]) => void)[] = [];
  server = createServer((request, response) => {
    const arrival = { request, response, body: takeBodyEarly(request) };
    arrival.body.on('error', () => undefined);
    const taker = waiting.shift();
    if (taker) taker(arrival);
    else arrivals.push(arrival);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    next: () => new Promise((resolve) => (arrivals.length > 0 ? resolve(arrivals.shift()!) : waiting.push(resolve))),
  };
}

/** The request's 'close' (its 'error', if any, is the body's business: `once` would reject on it). */
function closed(request: IncomingMessage): Promise<void> {
  return request.destroyed ? Promise.resolve() : new Promise((resolve) => request.once('close', () => resolve()));
}

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

/** A request announcing `promised` bytes that sends `sent` and, unless `cutAfterMs` is undefined, is cut that long after. */
function sendBody(port: number, sent: Buffer, promised: number, cutAfterMs?: number) {
  const client = httpRequest({ host: '127.0.0.1', port, method: 'PATCH', agent: false, headers: { 'Content-Length': promised } });
  client.on('error', () => undefined);
  const answered = new Promise<number>((resolve) => {
    client.on('response', (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    client.on('close', () => resolve(0));
  });
  client.write(sent, () => {
    if (cutAfterMs !== undefined) setTimeout(() => client.destroy(), cutAfterMs);
  });
  return { client, answered };
}

describe('EarlyBody', () => {
  it('keeps the bytes that arrived before the connection was cut, while nobody read them yet', async () => {
    const { port, next } = await startServer();
    sendBody(port, Buffer.from('8 bytes!'), 100, 20);
    const { request, body } = await next();
    // The request waits (for its lock, for the storage) while the client cuts the connection.
    await closed(request);
    await sleep(20);
    const { bytes, error } = await readAll(body);
    expect(bytes.toString()).toBe('8 bytes!');
    // Still an interruption: the body did not end.
    expect(error?.message).toMatch(/aborted/);
  });

  it('keeps a whole body that arrived before its reader came, and ends it normally after a close', async () => {
    const { port, next } = await startServer();
    const { client } = sendBody(port, Buffer.alloc(3000, 7), 3000);
    const { request, body } = await next();
    client.end();
    await sleep(50);
    client.destroy();
    await closed(request);
    const { bytes, error } = await readAll(body);
    expect(error).toBeUndefined();
    expect(bytes).toEqual(Buffer.alloc(3000, 7));
  });

  it('takes in at most about its limit while unread: TCP holds the client back past it', async () => {
    const { port, next } = await startServer();
    const big = Buffer.alloc(8 * 1024 * 1024, 1);
    const { client } = sendBody(port, big, big.length);
    const { request, body } = await next();
    await sleep(300);
    // The limit, plus what the request and the socket buffer before the pause reaches them.
    expect(body.pending).toBeGreaterThanOrEqual(EARLY_BODY_BYTES);
    expect(request.socket.bytesRead).toBeLessThan(EARLY_BODY_BYTES + 1024 * 1024);
    const { bytes, error } = await readAll(body);
    expect(error).toBeUndefined();
    expect(bytes.length).toBe(big.length);
    client.destroy();
  });

  it('hands a failure on only after the bytes before it, also when the reader is already waiting', async () => {
    const { port, next } = await startServer();
    const { client } = sendBody(port, Buffer.from('first '), 100);
    const { request, body } = await next();
    const read = readAll(body);
    await sleep(20);
    client.write('second');
    await sleep(20);
    request.destroy(new Error('taken over'));
    const { bytes, error } = await read;
    expect(bytes.toString()).toBe('first second');
    expect(error?.message).toBe('taken over');
  });

  it('lets go of an unread body for an error answer: the rest is drained and the client gets its answer', async () => {
    const { port, next } = await startServer();
    const big = Buffer.alloc(4 * 1024 * 1024, 2);
    const { answered } = sendBody(port, big, big.length);
    const { request, response } = await next();
    await sleep(100);
    discardEarlyBody(request);
    await once(request, 'end');
    response.writeHead(409).end();
    expect(await answered).toBe(409);
  });

  it('destroyed by its reader (a chunk refused midway), it leaves the request to the answer', async () => {
    const { port, next } = await startServer();
    const big = Buffer.alloc(2 * 1024 * 1024, 3);
    const { answered } = sendBody(port, big, big.length);
    const { request, response, body } = await next();
    body.destroy(new Error('413'));
    expect(request.destroyed).toBe(false);
    discardEarlyBody(request);
    await once(request, 'end');
    response.writeHead(413).end();
    expect(await answered).toBe(413);
  });
});
