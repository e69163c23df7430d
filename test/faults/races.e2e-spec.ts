import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { S3Client } from '@aws-sdk/client-s3';
import type { ContainerClient } from '@azure/storage-blob';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import type { IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { KiB, MiB } from '../support/bytes.js';
import { SOAK } from '../support/soak.js';
import { createUpload, head, offsetOf, patchHeaders, requestHead, send, slowBody, storedBytes, TUS, uploadIdOf } from '../support/http/requests.js';
import { inspectS3Upload, s3ObjectsOf } from '../support/storage/s3-inspection.js';
import { createTestBucket, createTestS3Client, s3ServerFromEnv, sampleS3Env } from '../support/servers/s3-server.js';
import { blobsUnder, inspectAzureUpload, uncommittedBlocks } from '../support/storage/azure-inspection.js';
import { sampleAzureEnv, sharedAzurite } from '../support/servers/azurite.js';
import { startSample, type SampleProcess } from '../support/servers/sample-process.js';

const ROUNDS = SOAK ? 300 : 50;
const DELETE_ROUNDS = SOAK ? 30 : 6;

/** One store shared by two sample processes, and what the test reads of it behind their backs. */
interface SharedStore {
  name: 'file' | 's3' | 'azure';
  /**
   * Chunk of a PATCH round. On S3 the 50 rounds cross two 8 MiB parts: at the second, both
   * racers upload the same part number into the upload's one multipart upload. On Azure each
   * request stages blocks under ids of its own: every round's two chunks are staged side by side.
   */
  roundChunk: number;
  /** Size of the PATCH a DELETE races with (on S3, past a part: a multipart upload is in flight; on Azure, past a block). */
  deleteChunk: number;
  setUp(): Promise<void>;
  env(): Record<string, string>;
  durable(id: string): Promise<number>;
  /** Everything stored under the upload's name (files, objects, multipart uploads in progress, blobs and their staged blocks). */
  traces(id: string): Promise<string[]>;
  tearDown(): Promise<void>;
}

function sharedFolder(): SharedStore {
  let dir = '';
  return {
    name: 'file',
    roundChunk: 256 * KiB,
    deleteChunk: 2 * MiB,
    setUp: async () => {
      dir = await mkdtemp(join(tmpdir(), 'nestjs-tus-races-'));
    },
    env: () => ({ UPLOAD_DIR: dir }),
    durable: async (id) => (await stat(join(dir, id))).size,
    traces: async (id) => (await readdir(dir)).filter((name) => name.startsWith(id)),
    tearDown: () => rm(dir, { recursive: true, force: true }),
  };
}

function sharedBucket(): SharedStore {
  let client: S3Client;
  let bucket: { bucket: string; dispose(): Promise<void> };
  return {
    name: 's3',
    roundChunk: 384 * KiB,
    deleteChunk: 9 * MiB,
    setUp: async () => {
      client = createTestS3Client(s3ServerFromEnv());
      bucket = await createTestBucket(client, 'races');
    },
    env: () => sampleS3Env(s3ServerFromEnv(), bucket.bucket),
    durable: async (id) => (await inspectS3Upload(client, bucket.bucket, id)).durable,
    traces: async (id) => {
      const { objects, multipartUploads } = await s3ObjectsOf(client, bucket.bucket, id);
      return multipartUploads === 0 ? objects : [...objects, `${multipartUploads} multipart upload(s) in progress`];
    },
    tearDown: async () => {
      await bucket?.dispose();
      client?.destroy();
    },
  };
}

function sharedContainer(): SharedStore {
  let made: { container: ContainerClient; dispose(): Promise<void> } | undefined;
  const container = () => made!.container;
  return {
    name: 'azure',
    roundChunk: 384 * KiB,
    deleteChunk: 9 * MiB,
    setUp: async () => {
      made = await sharedAzurite().createContainer('races');
    },
    env: () => sampleAzureEnv(sharedAzurite(), container().containerName),
    durable: async (id) => (await inspectAzureUpload(container(), id)).durable,
    traces: async (id) => {
      // Blobs with only uncommitted blocks are listed too.
      const blobs = await blobsUnder(container(), id);
      const staged = (await uncommittedBlocks(container(), id)).size;
      return staged === 0 ? blobs : [...blobs, `${staged} uncommitted block(s)`];
    },
    tearDown: async () => {
      await made?.dispose();
    },
  };
}

/** The same upload URL on another process's origin. */
const on = (sample: SampleProcess, url: string) => `${new URL(sample.url).origin}${new URL(url).pathname}`;

/** A PATCH whose head is on the wire (`headSent`) while its body waits for `release()`. */
interface HeldPatch {
  headSent: Promise<void>;
  release(): void;
  /** Its status and headers, and whether they came before the body was released. */
  response: Promise<{ status: number; headers: IncomingHttpHeaders; beforeRelease: boolean }>;
}

/** On a raw socket, so that "the head is sent" is a fact (written to the kernel), not a guess about the client's buffering. */
function heldPatch(url: string, offset: number, body: Buffer): HeldPatch {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  const headers = { ...patchHeaders(offset), 'Content-Length': body.length, Connection: 'close' };
  const headSent = new Promise<void>((resolve, reject) => {
    socket.write(requestHead('PATCH', url, headers), (error) => (error ? reject(error) : resolve()));
  });
  let released = false;
  const response = new Promise<{ status: number; headers: IncomingHttpHeaders; beforeRelease: boolean }>((resolve, reject) => {
    let received = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) return;
      const [statusLine, ...lines] = received.subarray(0, end).toString('latin1').split('\r\n');
      const fields = lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]);
      resolve({ status: Number(statusLine!.split(' ')[1]), headers: Object.fromEntries(fields) as IncomingHttpHeaders, beforeRelease: !released });
      socket.destroy();
    });
    // After the answer, a reset (the server closing on an unread body) is no news.
    socket.on('error', reject);
    socket.on('close', () => reject(new Error(`${url}: connection closed without an answer`)));
  });
  // Awaited only after `headSent`: a failure before then must not count as unhandled.
  response.catch(() => undefined);
  return {
    headSent,
    release: () => {
      released = true;
      if (!socket.destroyed) socket.write(body);
    },
    response,
  };
}

describe.each([sharedFolder(), sharedBucket(), sharedContainer()])('two sample processes sharing one $name store, one on Express and one on Fastify', (store) => {
  let a: SampleProcess;
  let b: SampleProcess;

  beforeAll(async () => {
    await store.setUp();
    [a, b] = await Promise.all([
      startSample({ ...store.env(), HTTP_ADAPTER: 'express' }),
      startSample({ ...store.env(), HTTP_ADAPTER: 'fastify' }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await store.tearDown();
  });

  it(`${ROUNDS} rounds of two clients PATCHing one upload at the same offset through both: one wins each, the other gets 409 or 423, the bytes are the winners'`, async () => {
    const length = ROUNDS * store.roundChunk;
    const url = await createUpload(a.url, { 'Upload-Length': length });
    const winners: Buffer[] = [];
    const outcomes = { won: 0, 409: 0, 423: 0, expressWon: 0 };
    let refusedOnHead = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const offset = winners.length * store.roundChunk;
      const chunks = [randomBytes(store.roundChunk), randomBytes(store.roundChunk)];
      // Which client goes through which process alternates, so that each adapter is on both sides.
      const targets = round % 2 === 0 ? [a, b] : [b, a];
      // Both heads are on the wire before either body byte: neither request can finish before the
      // other has arrived, so the two are in flight together by construction, whatever the timing.
      const patches = [heldPatch(on(targets[0]!, url), offset, chunks[0]!), heldPatch(on(targets[1]!, url), offset, chunks[1]!)];
      await Promise.all(patches.map((patch) => patch.headSent));
      for (const patch of patches) patch.release();
      const responses = await Promise.all(patches.map((patch) => patch.response));
      // Only the other's lock can refuse a request before its body: never a 204 without the bytes.
      for (const response of responses.filter((response) => response.beforeRelease)) expect(response.status).toBe(423);
      refusedOnHead += responses.filter((response) => response.beforeRelease).length;
      expect(responses.filter((response) => response.status === 204)).toHaveLength(1);
      const winner = responses.findIndex((response) => response.status === 204);
      const loser = responses[1 - winner]!;
      expect([409, 423]).toContain(loser.status);
      expect(responses[winner]!.headers['upload-offset']).toBe(String(offset + store.roundChunk));
      outcomes.won++;
      outcomes[loser.status as 409 | 423]++;
      if (targets[winner] === a) outcomes.expressWon++;
      winners.push(chunks[winner]!);
      // Durably stored, as HEAD says (every fifth round; on S3: the committed parts as S3 holds
      // them, their ETags checked, and `.pending`; on Azure: the recorded blocks as Azure holds
      // them, their sizes checked).
      if (round % 5 === 4 && round < ROUNDS - 1) expect(await store.durable(uploadIdOf(url))).toBe(offset + store.roundChunk);
    }
    expect(await offsetOf(url)).toBe(length);
    // Every part as its winner sent it (on S3, a loser's part upload of the same number would
    // replace it: S3 keeps the last upload of a part number; Azure likewise keeps the last upload
    // of a block id, which the per-request ids avoid).
    expect((await storedBytes(url)).equals(Buffer.concat(winners))).toBe(true);
    console.log(
      `${store.name}: ${ROUNDS} rounds of ${store.roundChunk / KiB} KiB, both heads sent before both bodies (${refusedOnHead} refused on their head): ` +
        `${outcomes.won} won (${outcomes.expressWon} on Express, ${outcomes.won - outcomes.expressWon} on Fastify), ` +
        `losers ${outcomes[409]}x 409, ${outcomes[423]}x 423`,
    );
  }, 120_000);

  it(`DELETE racing a PATCH through the other process (${DELETE_ROUNDS} rounds): the upload is gone without a trace, or intact`, async () => {
    const results: string[] = [];
    for (let round = 0; round < DELETE_ROUNDS; round++) {
      const [writer, deleter] = round % 2 === 0 ? [a, b] : [b, a];
      const url = await createUpload(writer.url, { 'Upload-Length': store.deleteChunk });
      const id = uploadIdOf(url);
      const body = randomBytes(store.deleteChunk);
      // The body trickles for about 400 ms; the DELETE comes at a random moment of it (or before).
      const pieces = Array.from({ length: 16 }, (_, n) => body.subarray((n * body.length) / 16, ((n + 1) * body.length) / 16));
      const patch = send('PATCH', url, { headers: patchHeaders(0), body: slowBody(pieces, 25) }).catch((error: Error) => ({
        status: 0,
        text: error.message,
      }));
      await sleep(randomInt(0, 450));
      const removal = await send('DELETE', on(deleter, url), { headers: TUS });
      const patched = await patch;
      // Whatever the order, a race is no server error (a PATCH that lost its file answered 500).
      expect(patched.status).toBeLessThan(500);
      expect(removal.status).toBeLessThan(500);
      // A request that lost the race may still be tidying up (aborting its multipart upload).
      await sleep(200);
      const state = await head(on(writer, url));
      const traces = await store.traces(id);
      if (state.status === 404) {
        expect(traces).toEqual([]);
      } else {
        // Intact and consistent: the DELETE did not happen, HEAD's offset is what is stored.
        expect(state.status).toBe(200);
        expect(removal.status).not.toBe(204);
        expect(Number(state.headers['upload-offset'])).toBe(await store.durable(id));
        expect((await send('DELETE', url, { headers: TUS })).status).toBe(204);
        expect(await store.traces(id)).toEqual([]);
      }
      results.push(`PATCH ${patched.status} / DELETE ${removal.status} -> ${state.status === 404 ? 'gone' : 'intact'}`);
    }
    const counts = results.reduce<Record<string, number>>((tally, result) => ({ ...tally, [result]: (tally[result] ?? 0) + 1 }), {});
    console.log(`${store.name}: DELETE during PATCH, ${DELETE_ROUNDS} rounds: ${JSON.stringify(counts)}`);
  }, 120_000);
});
