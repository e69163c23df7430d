import { describe, expect, it } from '@jest/globals';
import type { S3Client } from '@aws-sdk/client-s3';
import { once } from 'node:events';
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DetailedError, Upload } from 'tus-js-client';
import { offsetOf, patchHeaders, send, storedBytes, uploadIdOf } from './support/http.js';
import { startRelay, type Relay } from './support/relay.js';
import { inspectS3Upload, s3ObjectsOf } from './support/s3-inspection.js';
import { createTestBucket, createTestS3Client, s3ServerFromEnv, sampleS3Env } from './support/s3-server.js';
import { startSample, type SampleProcess } from './support/sample-process.js';
import { PLATFORMS } from './support/tus-app.js';

const MiB = 1024 * 1024;
const SOAK = process.env.TUS_SOAK === '1';
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** Where one backend's bytes are, as the test reads them behind the server's back. */
interface CrashTarget {
  name: 'file' | 's3';
  /** Kills in its run: 20 in the default run for both (restarts on S3 cost more), more under TUS_SOAK=1. */
  kills: number;
  /** A chunk always among the killed ones, cut past a fraction `from` of it. */
  alwaysKilled?: { chunk: number; from: number };
  /** tus-js-client's chunk size: each kill lands inside one chunk's PATCH. */
  chunkSize: number;
  setUp(): Promise<void>;
  env(): Record<string, string>;
  /** Waits, once the relay has cut a body off, for the server to have done with what it got (or a random moment). */
  settle(id: string): Promise<void>;
  /** Bytes durably stored for the upload (file: the data file's size; S3: committed parts + `.pending`). */
  durable(id: string): Promise<number>;
  /** Bytes of the upload's data on storage that its record does not count (a request cut off), and stray objects. */
  unrecorded(id: string): Promise<{ bytes: number; strays: number }>;
  /** Whatever is stored for the upload besides its bytes and its `.info`. */
  leftovers(id: string): Promise<string[]>;
  tearDown(): Promise<void>;
}

function fileTarget(): CrashTarget {
  let dir = '';
  return {
    name: 'file',
    kills: SOAK ? 40 : 12,
    chunkSize: (SOAK ? 8 : 3) * MiB,
    setUp: async () => {
      dir = await mkdtemp(join(tmpdir(), 'nestjs-tus-crash-'));
    },
    env: () => ({ UPLOAD_DIR: dir }),
    settle: async (id) => {
      // Until the data file stops growing: the server has written all the relay let through.
      let last = -1;
      for (let quiet = 0; quiet < 4; ) {
        const size = (await stat(join(dir, id))).size;
        quiet = size === last ? quiet + 1 : 0;
        last = size;
        await sleep(25);
      }
    },
    durable: async (id) => (await stat(join(dir, id))).size,
    unrecorded: async () => ({ bytes: 0, strays: 0 }),
    leftovers: async (id) =>
      (await readdir(dir)).filter((name) => !name.startsWith('.tus-lock-owner-') && name !== id && name !== `${id}.info`),
    tearDown: () => rm(dir, { recursive: true, force: true }),
  };
}

function s3Target(): CrashTarget {
  let client: S3Client;
  let bucket: { bucket: string; dispose(): Promise<void> };
  return {
    name: 's3',
    kills: SOAK ? 25 : 8,
    // Not a multiple of the sample's 8 MiB part: kills land before, in and after part uploads,
    // with and without a `.pending` object.
    chunkSize: (SOAK ? 20 : 5) * MiB,
    // The second chunk starts with 5 MiB pending: cut past 70% of it, its request has begun the
    // upload's first multipart upload, which `.info` does not name yet.
    alwaysKilled: SOAK ? undefined : { chunk: 1, from: 0.7 },
    setUp: async () => {
      client = createTestS3Client(s3ServerFromEnv());
      bucket = await createTestBucket(client, 'crash');
    },
    env: () => sampleS3Env(s3ServerFromEnv(), bucket.bucket),
    // Its part uploads in flight, done or not: a random moment.
    settle: () => sleep(randomInt(0, 400)),
    durable: async (id) => {
      const snapshot = await inspectS3Upload(client, bucket.bucket, id);
      return snapshot.durable;
    },
    unrecorded: async (id) => {
      const snapshot = await inspectS3Upload(client, bucket.bucket, id);
      return { bytes: snapshot.uncommittedPartBytes, strays: snapshot.strays };
    },
    leftovers: async (id) => {
      const { objects, multipartUploads } = await s3ObjectsOf(client, bucket.bucket, id);
      const stray = objects.filter((key) => key !== id && key !== `${id}.info`);
      return multipartUploads === 0 ? stray : [...stray, `${multipartUploads} multipart upload(s) in progress`];
    },
    tearDown: async () => {
      await bucket?.dispose();
      client?.destroy();
    },
  };
}

/** One kill: where the stream was, what the server had acknowledged, what storage held. */
interface Kill {
  /** Byte of the upload where the relay cut the PATCH's body off (before the signal was sent). */
  at: number;
  /** The offset of the last PATCH answered 204 before the kill. */
  acknowledged: number;
  /** Bytes of the killed PATCH on storage but not recorded (file: past `.info`'s offset; S3: uncommitted parts). */
  unrecorded: number;
  /** S3: multipart uploads and `.pending` objects of the key that `.info` does not name. */
  strays: number;
  /** HEAD's offset after the restart (equal to the durable bytes). */
  resumedAt: number;
  /** How long the first PATCH after the restart took (an empty one: lock, record, release). */
  firstPatchMs: number;
  adapter: string;
}

/**
 * Runs tus-js-client over the relay until the upload succeeds or, with `killAt`, until the relay
 * has let that many bytes of it through (request lines and headers, a few hundred bytes a request,
 * count too): there it holds the rest back, and once the server has settled, SIGKILLs it.
 * Resolves with the client's error (or null on success).
 */
function uploadUntil(
  relay: Relay,
  sample: SampleProcess,
  target: CrashTarget,
  source: Buffer,
  options: { uploadUrl: string | null; chunkSize: number; from: number; killAt: number | null },
  seen: { url: string | null; acknowledged: number },
): Promise<{ error: unknown; at: number }> {
  return new Promise((resolve) => {
    let at = -1;
    const baseline = relay.upstreamBytes;
    relay.limit = options.killAt === null ? null : baseline + (options.killAt - options.from);
    relay.onUpstream =
      options.killAt === null
        ? undefined
        : () => {
            if (at !== -1 || relay.upstreamBytes < relay.limit!) return;
            at = options.from + (relay.upstreamBytes - baseline);
            void target.settle(uploadIdOf(seen.url!)).finally(() => sample.process.kill('SIGKILL'));
          };
    const upload = new Upload(source, {
      endpoint: `${relay.origin}/files`,
      uploadUrl: options.uploadUrl,
      chunkSize: options.chunkSize,
      retryDelays: [],
      storeFingerprintForResuming: false,
      metadata: { filename: 'crash.bin' },
      onUploadUrlAvailable: () => {
        seen.url = upload.url;
      },
      onChunkComplete: (_size, accepted) => {
        seen.acknowledged = accepted;
      },
      onSuccess: () => resolve({ error: null, at }),
      onError: (error) => resolve({ error, at }),
    });
    upload.start();
  });
}

/**
 * One upload through the relay, killed at each of the kill points, restarted on the same store
 * (the adapter alternating), checked after each kill, and finished.
 */
async function crashAndResume(target: CrashTarget, relay: Relay, running: { sample?: SampleProcess }): Promise<void> {
  // One kill in each of `kills` chunks drawn at random (the last one included), at a random
  // point between 10% and 90% of the chunk.
  const chunks = target.kills + 3;
  const source = randomBytes(chunks * target.chunkSize - randomInt(1, target.chunkSize / 2));
  const lastChunk = Math.ceil(source.length / target.chunkSize) - 1;
  const killedChunks = new Set<number>(target.alwaysKilled === undefined ? [] : [target.alwaysKilled.chunk]);
  while (killedChunks.size < target.kills) killedChunks.add(randomInt(0, lastChunk + 1));
  const killPoints = [...killedChunks]
    .sort((a, b) => a - b)
    .map((chunk) => {
      const start = chunk * target.chunkSize;
      const size = Math.min(target.chunkSize, source.length - start);
      const lowest = chunk === target.alwaysKilled?.chunk ? target.alwaysKilled.from : 0.1;
      return start + Math.floor(size * (lowest + (0.9 - lowest) * Math.random()));
    });

  const kills: Kill[] = [];
  const seen = { url: null as string | null, acknowledged: 0 };
  let restarts = 0;
  const start = async () => {
    const adapter = PLATFORMS[restarts++ % PLATFORMS.length]!;
    running.sample = await startSample({ ...target.env(), HTTP_ADAPTER: adapter });
    relay.target = Number(new URL(running.sample.url).port);
    return adapter;
  };
  let adapter = await start();
  let from = 0;
  for (;;) {
    const killAt = killPoints[kills.length] ?? null;
    const outcome = await uploadUntil(relay, running.sample!, target, source, { uploadUrl: seen.url, chunkSize: target.chunkSize, from, killAt }, seen);
    if (outcome.error === null) break;
    // Every kill must have cut a PATCH off mid-body: the client's failed request is a PATCH
    // that got no answer, after bytes of it had gone upstream.
    expect(killAt).not.toBeNull();
    expect(outcome.at).toBeGreaterThanOrEqual(killAt!);
    const error = outcome.error as DetailedError;
    expect(error.originalRequest?.getMethod()).toBe('PATCH');
    expect(error.originalResponse ?? null).toBeNull();
    if (running.sample!.process.exitCode === null && running.sample!.process.signalCode === null) await once(running.sample!.process, 'exit');
    expect(running.sample!.process.signalCode).toBe('SIGKILL');
    const id = uploadIdOf(seen.url!);
    const acknowledged = seen.acknowledged;
    const onStorageAtKill = await target.durable(id);
    const { bytes, strays } = await target.unrecorded(id);
    const unrecorded = target.name === 'file' ? onStorageAtKill - acknowledged : bytes;
    // On the file backend the cut is visible: bytes of the killed PATCH had reached the disk.
    if (target.name === 'file') expect(unrecorded).toBeGreaterThan(0);

    adapter = await start();
    const direct = `${new URL(running.sample!.url).origin}/files/${id}`;
    const resumedAt = await offsetOf(direct);
    // The issue's rule: HEAD's offset is what storage durably holds, read before anything resumes.
    expect(resumedAt).toBe(await target.durable(id));
    // Nothing acknowledged is lost; nothing of the killed PATCH past the kill point is counted.
    expect(resumedAt).toBeGreaterThanOrEqual(acknowledged);
    expect(resumedAt).toBeLessThanOrEqual(outcome.at);
    // The killed process's lock must not hold the restarted one up (an empty PATCH: lock, record, release).
    const began = Date.now();
    const probe = await send('PATCH', direct, { headers: { ...patchHeaders(resumedAt), 'Content-Length': 0 } });
    const firstPatchMs = Date.now() - began;
    expect(probe.status).toBe(204);
    expect(probe.headers['upload-offset']).toBe(String(resumedAt));
    kills.push({ at: outcome.at, acknowledged, unrecorded, strays, resumedAt, firstPatchMs, adapter });
    from = resumedAt;
  }

  expect(kills).toHaveLength(target.kills);
  const id = uploadIdOf(seen.url!);
  const downloaded = await storedBytes(`${new URL(running.sample!.url).origin}/files/${id}`);
  expect(downloaded.length).toBe(source.length);
  expect(sha256(downloaded)).toBe(sha256(source));
  // Nothing left behind by the killed requests once the upload is complete.
  expect(await target.leftovers(id)).toEqual([]);

  const waits = kills.map((kill) => kill.firstPatchMs).sort((a, b) => a - b);
  const mib = (bytes: number) => (bytes / MiB).toFixed(2);
  const kib = (bytes: number) => Math.round(bytes / 1024);
  console.log(
    [
      `${target.name}: ${kills.length} SIGKILLs in one ${mib(source.length)} MiB upload (chunks of ${mib(target.chunkSize)} MiB), sha256 ok`,
      ...kills.map(
        (kill, n) =>
          `  kill ${n + 1}: body cut at byte ${kill.at} (${mib(kill.at - kill.acknowledged)} MiB into the PATCH from ${kill.acknowledged}), ` +
          `${kib(kill.unrecorded)} KiB of it on storage unrecorded${kill.strays ? ` (${kill.strays} stray objects)` : ''}, resumed at ${kill.resumedAt} on ${kill.adapter}, first PATCH ${kill.firstPatchMs} ms`,
      ),
      `  first PATCH after a restart: median ${waits[waits.length >> 1]} ms, max ${waits.at(-1)} ms`,
    ].join('\n'),
  );
}

// The two backends run at the same time: most of a cycle is waiting (a restart, S3's answers).
describe('SIGKILL of the sample in the middle of PATCH bodies, restarted on the same store', () => {
  it.concurrent.each([fileTarget(), s3Target()])(
    '$name backend: resumes after $kills kills at random points, HEAD\'s offset equal to the bytes stored after each, and the sha256 matches',
    async (target) => {
      await target.setUp();
      const relay = await startRelay();
      const running: { sample?: SampleProcess } = {};
      try {
        await crashAndResume(target, relay, running);
      } finally {
        await running.sample?.stop();
        await relay.close();
        await target.tearDown();
      }
    },
    (SOAK ? 1_200 : 180) * 1000,
  );
});
