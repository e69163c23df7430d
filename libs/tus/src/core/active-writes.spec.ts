import { describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import { RequestSupersededError, ShutdownInterruptionError } from '../errors/tus.errors.js';
import { ActiveWrites } from './active-writes.js';
import type { UploadBody } from './upload-body.js';
import { CONNECTED_WAIT_MS, STALLED_AFTER_MS } from './active-writes.js';

/** A stand-in request: a stream that records what destroyed it, on a connection that closes when it is destroyed (a cut). */
function fakeRequest(): IncomingMessage & { reason?: Error } {
  const request = new PassThrough() as unknown as IncomingMessage & { reason?: Error };
  const socket = { destroyed: false };
  Object.defineProperty(request, 'socket', { value: socket });
  request.on('error', (error) => (request.reason = error));
  const destroy = request.destroy.bind(request);
  request.destroy = (error?: Error) => {
    socket.destroyed = true;
    return destroy(error);
  };
  return request;
}

/** The body a front door would hand the core for `request` (as requestUploadBody does). */
function bodyOf(request: IncomingMessage): UploadBody {
  return {
    declaredLength: undefined,
    stages: [],
    keepOnInterrupt: true,
    verify: () => undefined,
    open: () => request,
    close: () => undefined,
    get receiving() {
      return !request.destroyed && !request.complete;
    },
    get heldBack() {
      return request.readableLength > 0 || request.readableFlowing === false;
    },
    get clientGone() {
      return request.socket?.destroyed ?? true;
    },
    interrupt: (reason) => request.destroy(reason),
  };
}

/** Registers a write that saves `saveMs` after its request is destroyed. */
function writeSaving(writes: ActiveWrites, request: IncomingMessage, lastActivity: number, saveMs: number): { saved: () => boolean } {
  let saved = false;
  const unregister = writes.register('u1', bodyOf(request), () => lastActivity);
  request.once('close', () =>
    setTimeout(() => {
      saved = true;
      unregister();
    }, saveMs),
  );
  return { saved: () => saved };
}

describe('ActiveWrites.stopIfStalled', () => {
  it('leaves a request that received bytes recently alone', async () => {
    const writes = new ActiveWrites();
    const request = fakeRequest();
    writeSaving(writes, request, Date.now(), 10);
    expect(await writes.stopIfStalled('u1', 100)).toBe(false);
    expect(request.destroyed).toBe(false);
  });

  it('stops a silent request and waits for it to save', async () => {
    const writes = new ActiveWrites();
    const request = fakeRequest();
    const write = writeSaving(writes, request, Date.now() - STALLED_AFTER_MS - 1, 50);
    expect(await writes.stopIfStalled('u1', 2_000)).toBe(true);
    expect(request.reason).toBeInstanceOf(RequestSupersededError);
    expect(write.saved()).toBe(true);
  });

  it('waits for a request that already ended (idle timeout, client gone) to save, however recent its last bytes', async () => {
    const writes = new ActiveWrites();
    const request = fakeRequest();
    const write = writeSaving(writes, request, Date.now(), 50);
    const ended = new Error('ended by the idle timeout');
    request.destroy(ended);
    expect(await writes.stopIfStalled('u1', 2_000)).toBe(true);
    expect(request.reason).toBe(ended);
    expect(write.saved()).toBe(true);
  });

  it('waits for a client that has gone past the short wait of one still connected (its save is slow: storage under load)', async () => {
    const writes = new ActiveWrites();
    const request = fakeRequest();
    const write = writeSaving(writes, request, Date.now(), CONNECTED_WAIT_MS + 500);
    request.destroy();
    expect(await writes.stopIfStalled('u1', 10_000)).toBe(true);
    expect(write.saved()).toBe(true);
  });

  it('waits no longer than asked', async () => {
    const writes = new ActiveWrites();
    const request = fakeRequest();
    const write = writeSaving(writes, request, Date.now(), 500);
    request.destroy();
    expect(await writes.stopIfStalled('u1', 50)).toBe(true);
    expect(write.saved()).toBe(false);
  });

  it('judges the silence again after one turn of I/O: bytes read then (they waited in the kernel while the event loop was blocked) keep the request', async () => {
    const writes = new ActiveWrites();
    const request = fakeRequest();
    let lastActivity = Date.now() - STALLED_AFTER_MS - 500;
    writes.register('u1', bodyOf(request), () => lastActivity);
    // Scheduled before the check: what the poll phase reads, after the timers that fell behind.
    setImmediate(() => (lastActivity = Date.now()));
    expect(await writes.stopIfStalled('u1', 100)).toBe(false);
    expect(request.destroyed).toBe(false);
  });

  it('asked from an I/O callback that follows a blocked event loop, waits for the sockets to be read before it judges', async () => {
    // A client in another process sends a byte every 10 ms, through the server's block too.
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    const client = spawn(process.execPath, ['-e', `const s = require('net').connect(${port}, '127.0.0.1', () => setInterval(() => s.write('x'), 10)); s.on('error', () => process.exit(0));`]);
    try {
      const [socket] = (await once(server, 'connection')) as [Socket];
      let lastActivity = Date.now();
      socket.on('data', () => (lastActivity = Date.now()));
      socket.on('error', () => undefined);
      const writes = new ActiveWrites();
      const request = fakeRequest();
      writes.register('u1', bodyOf(request), () => lastActivity);
      // In a data callback (the poll phase): the loop blocked past the threshold, then the question.
      const stopped = await new Promise<boolean>((resolve) =>
        socket.once('data', () => {
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, STALLED_AFTER_MS + 500);
          resolve(writes.stopIfStalled('u1', 0));
        }),
      );
      expect(stopped).toBe(false);
      expect(request.destroyed).toBe(false);
      socket.destroy();
    } finally {
      client.kill();
      server.close();
    }
  });

  it('has nothing to stop for an upload nobody writes', async () => {
    expect(await new ActiveWrites().stopIfStalled('u1', 50)).toBe(false);
  });
});

describe('ActiveWrites.stopIfStalled, bodies the client is not holding up', () => {
  it('leaves a body the server holds back alone (bytes waiting unread), however long ago the last one was read', async () => {
    const writes = new ActiveWrites();
    const request = fakeRequest();
    (request as unknown as PassThrough).write(Buffer.from('waiting'));
    writes.register('u1', bodyOf(request), () => Date.now() - STALLED_AFTER_MS - 1);
    expect(await writes.stopIfStalled('u1')).toBe(false);
    expect(request.destroyed).toBe(false);
  });

  it('waits for a body that has all arrived, without cutting its connection', async () => {
    const writes = new ActiveWrites();
    const request = fakeRequest();
    Object.assign(request, { complete: true });
    const unregister = writes.register('u1', bodyOf(request), () => Date.now() - STALLED_AFTER_MS - 1);
    setTimeout(unregister, 30);
    expect(await writes.stopIfStalled('u1', 2_000)).toBe(true);
    expect(request.destroyed).toBe(false);
  });

  it('waits for such a body only so long while its client is still there for the answer (the last save, pre-finish listeners): whoever else asks is not held for the whole wait', async () => {
    const writes = new ActiveWrites();
    const request = fakeRequest();
    Object.assign(request, { complete: true });
    let ended = false;
    const unregister = writes.register('u1', bodyOf(request), () => Date.now());
    const timer = setTimeout(() => ((ended = true), unregister()), CONNECTED_WAIT_MS + 2_000);
    try {
      expect(await writes.stopIfStalled('u1', 30_000)).toBe(true);
      expect(ended).toBe(false);
    } finally {
      clearTimeout(timer);
    }
  });
});

describe('ActiveWrites.drain (shutdown)', () => {
  it('ends every running body, receiving or not, and waits for each to save', async () => {
    const writes = new ActiveWrites();
    const receiving = fakeRequest();
    const silent = fakeRequest();
    let saved = 0;
    for (const [id, request, lastActivity] of [['a', receiving, Date.now()], ['b', silent, 0]] as const) {
      const unregister = writes.register(id, bodyOf(request), () => lastActivity);
      request.once('close', () => setTimeout(() => (saved++, unregister()), 30));
    }
    expect(await writes.drain(2_000)).toEqual([]);
    expect(saved).toBe(2);
    expect(receiving.reason).toBeInstanceOf(ShutdownInterruptionError);
    expect(silent.reason).toBeInstanceOf(ShutdownInterruptionError);
    expect(writes.draining).toBe(true);
  });

  it('leaves a body that has all arrived to save and answer', async () => {
    const writes = new ActiveWrites();
    const request = fakeRequest();
    Object.assign(request, { complete: true });
    const unregister = writes.register('a', bodyOf(request), () => Date.now());
    setTimeout(unregister, 30);
    expect(await writes.drain(2_000)).toEqual([]);
    expect(request.destroyed).toBe(false);
  });

  it('gives up after its timeout and names the uploads still saving', async () => {
    const writes = new ActiveWrites();
    writes.register('slow', bodyOf(fakeRequest()), () => Date.now());
    expect(await writes.drain(50)).toEqual(['slow']);
  });

  it('ends a body that registers after the shutdown began (it waited for its lock)', async () => {
    const writes = new ActiveWrites();
    await writes.drain(10);
    const late = fakeRequest();
    writes.register('late', bodyOf(late), () => Date.now());
    await new Promise((resolve) => setImmediate(resolve));
    expect(late.reason).toBeInstanceOf(ShutdownInterruptionError);
  });
});
