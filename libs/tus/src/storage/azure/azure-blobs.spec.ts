import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AnonymousCredential, ContainerClient, newPipeline } from '@azure/storage-blob';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { StorageUnavailableError } from '../../errors/tus.errors.js';
import { AzureBlobs } from './azure-blobs.js';

/**
 * Every call of the backend against a service that accepts connections and never answers (a dead
 * peer behind a live load balancer): each must end, as a 503 naming the call, within its deadline.
 */
describe('AzureBlobs against a silent service', () => {
  let server: Server;
  let blobs: AzureBlobs;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    server = createServer((socket) => {
      sockets.push(socket);
      socket.resume();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    const pipeline = newPipeline(new AnonymousCredential(), { retryOptions: { maxTries: 2, retryDelayInMs: 10, maxRetryDelayInMs: 10 } });
    // 150 ms a call; a block of 1 KiB 150 ms + 1 ms.
    blobs = new AzureBlobs(new ContainerClient(`http://127.0.0.1:${port}/account/container`, pipeline), { requestTimeoutMs: 150, minBlockBytesPerSecond: 1024 * 1024 });
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  const drain = async (names: AsyncIterable<string>) => {
    for await (const _ of names);
  };
  const calls: [string, () => Promise<unknown>][] = [
    ['Get Container Properties', () => blobs.checkContainer()],
    ['Get Blob', () => blobs.getText('a.info')],
    ['Put Blob', () => blobs.putText('a.info', '{}', { condition: { ifNoneMatch: '*' } })],
    ['Put Block', () => blobs.stageBlock('a', 'AAAAAAAAAAAAAAAA', Buffer.alloc(1024))],
    ['Put Block From URL', () => blobs.stageBlockFromUrl('a', 'AAAAAAAAAAAAAAAA', 'http://127.0.0.1:1/b', 0, 1024)],
    ['Put Block List', () => blobs.commitBlocks('a', ['AAAAAAAAAAAAAAAA'])],
    ['Get Block List', () => blobs.uncommittedBlockIds('a')],
    ['Get Blob Properties', () => blobs.size('a')],
    ['Get Blob', () => blobs.getStream('a', 0)],
    ['Delete Blob', () => blobs.delete('a.lock', 'lease')],
    ['Delete Blob', () => blobs.deleteVersion('a.lock', '"0x1"')],
    ['List Blobs', () => drain(blobs.listNames('a'))],
    ['Lease Blob (acquire)', () => blobs.acquireLease('a.lock', 'lease', 15)],
    ['Lease Blob (renew)', () => blobs.renewLease('a.lock', 'lease')],
    ['Lease Blob (release)', () => blobs.releaseLease('a.lock', 'lease')],
    ['Lease Blob (break)', () => blobs.breakLease('a.lock', '"0x1"')],
  ];

  it.each(calls)('%s ends as a 503 within its deadline', async (what, call) => {
    const opened = sockets.length;
    const failure = await call().then(
      () => new Error('answered'),
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(StorageUnavailableError);
    expect((failure as Error).message).toMatch(new RegExp(`^Storage unavailable \\(Azure did not answer ${what.replace(/[()]/g, '\\$&')} within 15\\d ms\\)`));
    // One try: the abort ended the SDK's retries too.
    expect(sockets.length - opened).toBeLessThanOrEqual(1);
  });
});
