import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { AzureBlobStorageBackend } from 'nestjs-tus/azure';
import { eventually } from '../support/eventually.js';
import { MiB, sha256 } from '../support/bytes.js';
import { head, locationOf, patchHeaders, send, storedBytes, TUS, type TestResponse } from '../support/http/requests.js';
import { containerClientAt, sharedAzurite } from '../support/servers/azurite.js';
import { TcpProxy } from '../support/http/tcp-proxy.js';
import { startTusApp, type RunningApp } from '../support/apps/tus-app.js';

/**
 * Short deadlines, so the test runs in seconds: 2 s for a call that moves no bulk bytes, and a Put
 * Block of 8 MiB (the default block size) allowed 2 s + 8 MiB at 2 MiB/s = 6 s.
 */
const DEADLINES = { requestTimeoutMs: 2_000, minBlockBytesPerSecond: 2 * MiB };
const BLOCK = 8 * MiB;

/**
 * Issue 17: `@azure/storage-blob` has no client-side deadline of its own (`tryTimeoutInMs` is only
 * the service's `timeout` parameter), so a connection that goes silent was waited on for ever, and
 * the upload's lease renewed meanwhile: the upload stayed locked. The backend now gives every call
 * a deadline (DEADLINES); here the app's connections to Azurite go silent in the middle of a PATCH.
 */
describe('the app’s connections to Azure go silent mid-upload (Azurite behind a proxy)', () => {
  let app: RunningApp;
  let proxy: TcpProxy;
  let dispose: () => Promise<void>;

  beforeAll(async () => {
    const azurite = sharedAzurite();
    const made = await azurite.createContainer('deadline');
    dispose = made.dispose;
    proxy = await TcpProxy.start(`http://127.0.0.1:${azurite.port}`);
    // Slowed, so that a 48 MiB PATCH lasts a few seconds: the stall lands while blocks are in flight.
    proxy.planFor = () => ({ up: { bytesPerSecond: 4 * MiB } });
    // Few, quick SDK retries (its defaults wait 4-12 s between tries): the deadline is the subject here.
    const containerClient = containerClientAt(proxy.origin, made.container.containerName, { retryOptions: { maxTries: 3, retryDelayInMs: 100, maxRetryDelayInMs: 1_000 } });
    app = await startTusApp({ storage: new AzureBlobStorageBackend({ containerClient, keyPrefix: 'up/', ...DEADLINES }) }, { platform: 'express' });
  });
  afterAll(async () => {
    // The proxy first: a storage call still open ends at once rather than at its deadline.
    await proxy?.close();
    await app?.close();
    await dispose?.();
  }, 60_000);

  it('the PATCH ends 503 within its deadline, keeps what was recorded, frees the lock, and the upload resumes byte-exact', async () => {
    const data = randomBytes(6 * BLOCK);
    const url = locationOf(await send('POST', app.url, { headers: { ...TUS, 'Upload-Length': data.length } }), app.url);
    const patch = send('PATCH', url, { headers: patchHeaders(0), body: data });
    // Once a first block is recorded, every connection in use goes silent: the blocks in flight, a
    // record of progress, the lock's renewal and polls, the idle ones in the SDK's pool.
    await eventually(async () => Number((await head(url)).headers['upload-offset'] ?? 0) >= BLOCK, 30_000, 'a first block recorded');
    proxy.stallOpen();
    const stalledAt = Date.now();
    const answer = await Promise.race([patch, sleep(60_000, 'no answer within 60 s', { ref: false })]);
    const failedAfterMs = Date.now() - stalledAt;
    expect(answer).toMatchObject({ status: 503 });
    expect((answer as TestResponse).text).toMatch(/^Storage unavailable \(Azure did not answer[^\n]*\n$/);
    // "Did not hang": the Put Block's deadline is 6 s, the SDK's retries end with it.
    expect(failedAfterMs).toBeLessThan(30_000);

    // The client resumes as tus clients do: HEAD, then PATCH from the offset. A call that meets one
    // of the silent connections still pooled fails the same clean way (503), each within its
    // deadline; never a 423 (a lock left held, or its lease still renewed), a 409 or a 500.
    const resumeStarted = Date.now();
    const statuses: number[] = [];
    const offsets: number[] = [];
    for (let attempt = 0; attempt < 12 && statuses.at(-1) !== 204; attempt++) {
      const state = await head(url);
      if (state.status !== 200) {
        statuses.push(state.status);
        continue;
      }
      const offset = Number(state.headers['upload-offset']);
      offsets.push(offset);
      statuses.push((await send('PATCH', url, { headers: patchHeaders(offset), body: data.subarray(offset) })).status);
    }
    const resumedAfterMs = Date.now() - resumeStarted;
    expect(statuses.at(-1)).toBe(204);
    for (const status of statuses.slice(0, -1)) expect(status).toBe(503);
    // Every block recorded before the stall was kept; the offset counts whole blocks only (the short
    // last block is staged at a request's end, which this one never reached).
    expect(offsets[0]).toBeGreaterThanOrEqual(BLOCK);
    expect(offsets[0]! % BLOCK).toBe(0);
    expect(sha256(await storedBytes(url))).toBe(sha256(data));
    const fresh = await send('PATCH', url, { headers: patchHeaders(data.length), body: Buffer.alloc(0) });
    expect(fresh.status).toBe(204);
    console.log(
      `[azure-deadline] PATCH answered ${(answer as TestResponse).status} "${(answer as TestResponse).text.trim()}" ${failedAfterMs} ms after the stall; ` +
        `offset kept ${(offsets[0]! / MiB).toFixed(0)} MiB; resumed and finished in ${resumedAfterMs} ms (statuses ${statuses.join(', ')}); proxy ${JSON.stringify(proxy.stats)}`,
    );
  }, 120_000);
});
