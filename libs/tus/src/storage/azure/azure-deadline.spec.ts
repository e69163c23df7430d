import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AnonymousCredential, ContainerClient, newPipeline } from '@azure/storage-blob';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { StorageUnavailableError } from '../../errors/tus.errors.js';
import { blockDeadlineMs, MAX_TIMER_MS, withDeadline } from './azure-deadline.js';

const MiB = 1024 * 1024;

describe('Azure call deadlines', () => {
  it('gives a block its bytes’ time at the slowest rate on top of the request deadline, within what a timer takes', () => {
    expect(blockDeadlineMs({ requestTimeoutMs: 30_000, minBlockBytesPerSecond: 256 * 1024 }, 8 * MiB)).toBe(62_000);
    expect(blockDeadlineMs({ requestTimeoutMs: 2_000, minBlockBytesPerSecond: 2 * MiB }, 1)).toBe(2_001);
    expect(blockDeadlineMs({ requestTimeoutMs: 30_000, minBlockBytesPerSecond: 1 }, 4000 * MiB)).toBe(MAX_TIMER_MS);
  });

  it('ends a call left unanswered as a 503 naming the call, and leaves a settled call’s signal alone', async () => {
    const hung = withDeadline(50, 'Get Blob', (signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted')))));
    await expect(hung).rejects.toThrow(StorageUnavailableError);
    await expect(hung).rejects.toThrow('Azure did not answer Get Blob within 50 ms');

    let kept: AbortSignal | undefined;
    await expect(withDeadline(50, 'Get Blob', async (signal) => ((kept = signal), 'body streams on'))).resolves.toBe('body streams on');
    await sleep(100);
    expect(kept!.aborted).toBe(false);
  });

  it('lets a failure before the deadline through as it is', async () => {
    const failure = Object.assign(new Error('refused'), { statusCode: 403 });
    await expect(withDeadline(1_000, 'Get Blob', () => Promise.reject(failure))).rejects.toBe(failure);
  });

  describe('with the SDK, against a server that accepts connections and never answers', () => {
    let server: Server;
    const sockets: Socket[] = [];
    beforeAll(async () => {
      server = createServer((socket) => {
        sockets.push(socket);
        socket.resume(); // reads, never answers: the client's close is seen
      });
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
    });
    afterAll(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    });

    it('the deadline ends the call and the SDK’s retries with it: one connection, no further try', async () => {
      const { port } = server.address() as AddressInfo;
      // Retries that would go on for a while: 4 tries, 10 ms apart.
      const pipeline = newPipeline(new AnonymousCredential(), { retryOptions: { maxTries: 4, retryDelayInMs: 10, maxRetryDelayInMs: 10 } });
      const container = new ContainerClient(`http://127.0.0.1:${port}/account/container`, pipeline);
      const started = Date.now();
      await expect(withDeadline(300, 'Get Container Properties', (abortSignal) => container.getProperties({ abortSignal }))).rejects.toThrow(
        'Azure did not answer Get Container Properties within 300 ms',
      );
      // Generous: proves the call ended, not how fast.
      expect(Date.now() - started).toBeLessThan(5_000);
      // The aborted request's connection is closed, and no retry opened another.
      await sleep(300);
      expect(sockets).toHaveLength(1);
      expect(sockets[0]!.readableEnded || sockets[0]!.destroyed).toBe(true);
    });
  });
});
