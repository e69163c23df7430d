import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ContainerClient } from '@azure/storage-blob';
import { randomBytes, randomInt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { blobsUnder, inspectAzureUpload } from '../support/storage/azure-inspection.js';
import { sampleAzureEnv, startAzurite, type Azurite } from '../support/servers/azurite.js';
import { startHeldPatch } from '../support/http/held-patch.js';
import { createUpload, head, offsetOf, patchHeaders, send, slowBody, storedBytes, TUS, uploadIdOf } from '../support/http/requests.js';
import { startSample, type SampleProcess } from '../support/servers/sample-process.js';

/**
 * Two sample processes (one on Express, one on Fastify) sharing one container, as two nodes
 * behind a load balancer would: the lease, the conditional `.info` writes and the per-request
 * block ids keep their writers of one upload apart.
 */
const KiB = 1024;
const ROUNDS = 20;
const CHUNK = 512 * KiB;
let azurite: Azurite;
let container: ContainerClient;
let dispose: () => Promise<void>;
let a: SampleProcess;
let b: SampleProcess;
const on = (sample: SampleProcess, url: string) => `${new URL(sample.url).origin}${new URL(url).pathname}`;

beforeAll(async () => {
  azurite = await startAzurite();
  ({ container, dispose } = await azurite.createContainer('races'));
  const env = sampleAzureEnv(azurite, container.containerName);
  [a, b] = await Promise.all([startSample({ ...env, HTTP_ADAPTER: 'express' }), startSample({ ...env, HTTP_ADAPTER: 'fastify' })]);
});
afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await dispose?.();
  await azurite?.stop();
});

describe('two sample processes sharing one Azure container, one on Express and one on Fastify', () => {
  it(`${ROUNDS} rounds of two clients PATCHing one upload at the same offset through both: one wins each, the other gets 409 or 423, the bytes are the winners'`, async () => {
    const url = await createUpload(a.url, { 'Upload-Length': ROUNDS * CHUNK });
    const winners: Buffer[] = [];
    const losers: Record<string, number> = {};
    for (let round = 0; round < ROUNDS; round++) {
      const offset = winners.length * CHUNK;
      const chunks = [randomBytes(CHUNK), randomBytes(CHUNK)];
      const targets = round % 2 === 0 ? [a, b] : [b, a];
      // Both requests are in flight, 1 KiB of each sent, before either sends the rest.
      const patches = chunks.map((chunk, n) => startHeldPatch(on(targets[n]!, url), offset, chunk.subarray(0, KiB), CHUNK));
      await sleep(50);
      await Promise.all(patches.map((patch, n) => patch.write(chunks[n]!.subarray(KiB)).then(() => patch.request.end())));
      const statuses = await Promise.all(patches.map((patch) => patch.answer));
      expect(statuses.filter((status) => status === 204)).toHaveLength(1);
      const winner = statuses.indexOf(204);
      const loser = statuses[1 - winner];
      expect([409, 423, null]).toContain(loser);
      losers[String(loser)] = (losers[String(loser)] ?? 0) + 1;
      winners.push(chunks[winner]!);
      if (round % 5 === 4 && round < ROUNDS - 1) expect((await inspectAzureUpload(container, uploadIdOf(url))).durable).toBe(offset + CHUNK);
    }
    expect(await offsetOf(url)).toBe(ROUNDS * CHUNK);
    expect((await storedBytes(url)).equals(Buffer.concat(winners))).toBe(true);
    console.log(`azure: ${ROUNDS} same-offset rounds through two processes, losers: ${JSON.stringify(losers)}`);
  }, 120_000);

  it('DELETE racing a PATCH through the other process: the upload is gone without a trace, or intact', async () => {
    const results: string[] = [];
    for (let round = 0; round < 6; round++) {
      const [writer, deleter] = round % 2 === 0 ? [a, b] : [b, a];
      const url = await createUpload(writer.url, { 'Upload-Length': 9 * 1024 * KiB });
      const id = uploadIdOf(url);
      const body = randomBytes(9 * 1024 * KiB);
      const pieces = Array.from({ length: 16 }, (_, n) => body.subarray((n * body.length) / 16, ((n + 1) * body.length) / 16));
      const patch = send('PATCH', url, { headers: patchHeaders(0), body: slowBody(pieces, 25) }).catch((error: Error) => ({ status: 0, text: error.message }));
      await sleep(randomInt(0, 450));
      const removal = await send('DELETE', on(deleter, url), { headers: TUS });
      const patched = await patch;
      expect(patched.status).toBeLessThan(500);
      expect(removal.status).toBeLessThan(500);
      await sleep(200);
      const state = await head(on(writer, url));
      if (state.status === 404) {
        expect(await blobsUnder(container, id)).toEqual([]);
      } else {
        expect(state.status).toBe(200);
        expect(Number(state.headers['upload-offset'])).toBe((await inspectAzureUpload(container, id)).durable);
        expect((await send('DELETE', url, { headers: TUS })).status).toBe(204);
        expect(await blobsUnder(container, id)).toEqual([]);
      }
      results.push(`PATCH ${patched.status} / DELETE ${removal.status} -> ${state.status === 404 ? 'gone' : 'intact'}`);
    }
    console.log(`azure: DELETE during PATCH: ${JSON.stringify(results)}`);
  }, 120_000);
});
