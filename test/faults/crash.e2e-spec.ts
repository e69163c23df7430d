import { describe, expect, it } from '@jest/globals';
import type { S3Client } from '@aws-sdk/client-s3';
import type { ContainerClient } from '@azure/storage-blob';
import { once } from 'node:events';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DetailedError, Upload } from 'tus-js-client';
import { eventually } from '../support/eventually.js';
import { mib, MiB, sha256 } from '../support/bytes.js';
import { SOAK } from '../support/soak.js';
import { offsetOf, patchHeaders, send, storedBytes, uploadIdOf } from '../support/http/requests.js';
import { startRelay, type Relay } from '../support/http/relay.js';
import { inspectS3Upload, s3ObjectsOf } from '../support/storage/s3-inspection.js';
import { createTestBucket, createTestS3Client, s3ServerFromEnv, sampleS3Env } from '../support/servers/s3-server.js';
import { blobsUnder, inspectAzureUpload, uncommittedBlocks } from '../support/storage/azure-inspection.js';
import { sampleAzureEnv, sharedAzurite } from '../support/servers/azurite.js';
import { startSample, type SampleProcess } from '../support/servers/sample-process.js';
import { PLATFORMS } from '../support/apps/tus-app.js';

/** The sample's S3 part size (the backend's default). */
const PART_SIZE = 8 * MiB;
/** The sample's Azure block size (the backend's default). */
const BLOCK_SIZE = 8 * MiB;

/** Where one backend's bytes are, as the test reads them behind the server's back. */
interface CrashTarget {
  name: 'file' | 's3' | 'azure';
  /** Where the bytes go (see BackendFixture.kind). */
  kind: 'file system' | 'object store';
  /** Upload size: 64 MiB or more, never a multiple of a part. */
  size: number;
  setUp(): Promise<void>;
  env(): Record<string, string>;
  /**
   * Waits, once the relay holds the body back at byte `at` of the upload, for the server to have
   * done with what it got: a deadline of its own, never a fixed pause (under load a server takes
   * its time, and a kill before it stored what it got would count as a loss).
   */
  settle(id: string, at: number): Promise<void>;
  /** Bytes of the upload stored at this moment (file: the data file's size; S3: recorded parts + `.pending`; Azure: recorded blocks). */
  stored(id: string): Promise<number>;
  /** Most bytes a kill of a client that stopped sending may lose (the S3 backend's part buffer, the Azure backend's block buffer). */
  stalledLossBound: number;
  /** Whatever is stored for the upload besides its bytes and its `.info`. */
  leftovers(id: string): Promise<string[]>;
  tearDown(): Promise<void>;
}

function fileTarget(): CrashTarget {
  let dir = '';
  return {
    name: 'file',
    kind: 'file system',
    size: 64 * MiB + randomInt(1, 4 * MiB),
    setUp: async () => {
      dir = await mkdtemp(join(tmpdir(), 'nestjs-tus-crash-'));
    },
    env: () => ({ UPLOAD_DIR: dir }),
    // Every byte the relay let through is written to the data file.
    settle: (id, at) => eventually(async () => (await stat(join(dir, id))).size === at, 60_000),
    stored: async (id) => (await stat(join(dir, id))).size,
    stalledLossBound: 0,
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
    kind: 'object store',
    size: 80 * MiB + randomInt(1, PART_SIZE),
    setUp: async () => {
      client = createTestS3Client(s3ServerFromEnv());
      bucket = await createTestBucket(client, 'crash');
    },
    env: () => sampleS3Env(s3ServerFromEnv(), bucket.bucket),
    // Every whole part of what the relay let through is stored and recorded (the rest, under a
    // part, waits in the server's buffer), then a random moment more.
    settle: async (id, at) => {
      await eventually(async () => (await inspectS3Upload(client, bucket.bucket, id)).durable >= Math.floor(at / PART_SIZE) * PART_SIZE, 60_000);
      await sleep(randomInt(0, 300));
    },
    stored: async (id) => (await inspectS3Upload(client, bucket.bucket, id)).durable,
    // What has not filled a part yet is in memory until the request ends.
    stalledLossBound: PART_SIZE,
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

function azureTarget(): CrashTarget {
  let made: { container: ContainerClient; dispose(): Promise<void> } | undefined;
  const container = () => made!.container;
  return {
    name: 'azure',
    kind: 'object store',
    size: 80 * MiB + randomInt(1, BLOCK_SIZE),
    setUp: async () => {
      made = await sharedAzurite().createContainer('crash');
    },
    env: () => sampleAzureEnv(sharedAzurite(), container().containerName),
    // Every whole block of what the relay let through is staged and recorded (blocks count from
    // the PATCH's first byte; the rest, under a block, waits in the server's buffer), then a
    // random moment more.
    settle: async (id, at) => {
      await eventually(async () => at - (await inspectAzureUpload(container(), id)).durable < BLOCK_SIZE, 60_000);
      await sleep(randomInt(0, 300));
    },
    stored: async (id) => (await inspectAzureUpload(container(), id)).durable,
    // What has not filled a block yet is in memory until the request ends.
    stalledLossBound: BLOCK_SIZE,
    leftovers: async (id) => {
      const stray = (await blobsUnder(container(), id)).filter((name) => name !== id && name !== `${id}.info`);
      // The completion's commit discards every block it does not name.
      const staged = (await uncommittedBlocks(container(), id)).size;
      return staged === 0 ? stray : [...stray, `${staged} uncommitted block(s)`];
    },
    tearDown: async () => {
      await made?.dispose();
    },
  };
}

/** One kill: where the body was, what the server had acknowledged, what storage held. */
interface Kill {
  mode: 'flowing' | 'stalled';
  /** Byte of the upload up to which the relay had passed the PATCH's body when the signal went. */
  at: number;
  /** What storage held of the upload right after the kill. */
  storedAtKill: number;
  /** HEAD's offset after the restart. */
  resumedAt: number;
  /** How long the first PATCH after the restart took (an empty one: lock, record, release). */
  firstPatchMs: number;
  adapter: string;
}

/**
 * Runs tus-js-client (its default chunkSize: the whole rest of the file in one PATCH) over the
 * relay until the upload succeeds or, with `killAt`, until the relay has passed the body up to that
 * byte of the upload: `flowing` kills the server at once while bytes keep coming; `stalled` holds
 * the rest back (the client waits), lets the server settle, then kills it.
 */
function uploadUntil(
  relay: Relay,
  sample: SampleProcess,
  target: CrashTarget,
  source: Buffer,
  options: { uploadUrl: string | null; from: number; killAt: number | null; mode: Kill['mode'] },
  seen: { url: string | null },
): Promise<{ error: unknown; at: number }> {
  return new Promise((resolve) => {
    let at = -1;
    const baseline = relay.bodyBytes;
    const killAfter = options.killAt === null ? null : baseline + (options.killAt - options.from);
    relay.bodyLimit = options.mode === 'stalled' ? killAfter : null;
    relay.onUpstream =
      killAfter === null
        ? undefined
        : () => {
            if (at !== -1 || relay.bodyBytes < killAfter) return;
            at = options.from + (relay.bodyBytes - baseline);
            if (options.mode === 'flowing') sample.process.kill('SIGKILL');
            // A settle that never comes still ends in the kill; the assertions then count the loss.
            else
              void target
                .settle(uploadIdOf(seen.url!), at)
                .catch(() => undefined)
                .then(() => sample.process.kill('SIGKILL'));
          };
    const upload = new Upload(source, {
      endpoint: `${relay.origin}/files/`,
      uploadUrl: options.uploadUrl,
      retryDelays: [],
      storeFingerprintForResuming: false,
      metadata: { filename: 'crash.bin' },
      onUploadUrlAvailable: () => {
        seen.url = upload.url;
      },
      onSuccess: () => resolve({ error: null, at }),
      onError: (error) => resolve({ error, at }),
    });
    upload.start();
  });
}

/**
 * One upload through the relay, its single PATCH killed at each kill point (alternately while
 * bytes flow and while the client waits), the server restarted on the same store after each (the
 * adapter alternating), checked, and the upload finished.
 */
async function crashAndResume(target: CrashTarget, kills: number, relay: Relay, running: { sample?: SampleProcess }): Promise<Kill[]> {
  const source = randomBytes(target.size);
  const killPoints = Array.from({ length: kills }, () => randomInt(MiB, source.length - MiB)).sort((a, b) => a - b);
  const done: Kill[] = [];
  const seen = { url: null as string | null };
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
    const mode: Kill['mode'] = done.length % 2 === 0 ? 'flowing' : 'stalled';
    // A point the upload has already passed (a kill cost less than the gap) moves just past it.
    const next = killPoints[done.length];
    const killAt = next === undefined ? null : Math.max(next, from + 64 * 1024);
    const outcome = await uploadUntil(relay, running.sample!, target, source, { uploadUrl: seen.url, from, killAt, mode }, seen);
    if (outcome.error === null) break;
    // Every kill cut a PATCH off mid-body: the client's failed request is a PATCH that got no answer.
    expect(killAt).not.toBeNull();
    expect(outcome.at).toBeGreaterThanOrEqual(killAt!);
    const error = outcome.error as DetailedError;
    expect(error.originalRequest?.getMethod()).toBe('PATCH');
    expect(error.originalResponse ?? null).toBeNull();
    if (running.sample!.process.exitCode === null && running.sample!.process.signalCode === null) await once(running.sample!.process, 'exit');
    expect(running.sample!.process.signalCode).toBe('SIGKILL');
    const id = uploadIdOf(seen.url!);
    const storedAtKill = await target.stored(id);

    adapter = await start();
    const direct = `${new URL(running.sample!.url).origin}/files/${id}`;
    const resumedAt = await offsetOf(direct);
    // The killed process's lock must not hold the restarted one up (an empty PATCH: lock, record, release).
    const began = Date.now();
    const probe = await send('PATCH', direct, { headers: { ...patchHeaders(resumedAt), 'Content-Length': 0 } });
    const firstPatchMs = Date.now() - began;
    expect(probe.status).toBe(204);
    expect(probe.headers['upload-offset']).toBe(String(resumedAt));
    done.push({ mode, at: outcome.at, storedAtKill, resumedAt, firstPatchMs, adapter });
    from = resumedAt;
  }

  const id = uploadIdOf(seen.url!);
  const downloaded = await storedBytes(`${new URL(running.sample!.url).origin}/files/${id}`);
  expect(downloaded.length).toBe(source.length);
  expect(sha256(downloaded)).toBe(sha256(source));
  // Nothing left behind by the killed requests once the upload is complete.
  expect(await target.leftovers(id)).toEqual([]);
  return done;
}

function report(target: CrashTarget, kills: Kill[]): string {
  const lost = (mode: Kill['mode']) => kills.filter((kill) => kill.mode === mode).map((kill) => kill.at - kill.resumedAt).sort((a, b) => a - b);
  const summary = (mode: Kill['mode']) => {
    const losses = lost(mode);
    return `${mode}: lost median ${mib(losses[losses.length >> 1] ?? 0)} MiB, worst ${mib(losses.at(-1) ?? 0)} MiB over ${losses.length} kills`;
  };
  const waits = kills.map((kill) => kill.firstPatchMs).sort((a, b) => a - b);
  return [
    `${target.name}: ${kills.length} SIGKILLs in one ${mib(target.size)} MiB upload sent as single PATCHes, sha256 ok`,
    ...kills.map(
      (kill, n) =>
        `  kill ${n + 1} (${kill.mode}): body at byte ${kill.at}, ${kill.storedAtKill} stored at the kill, resumed at ${kill.resumedAt} ` +
        `(lost ${kill.at - kill.resumedAt} bytes) on ${kill.adapter}, first PATCH ${kill.firstPatchMs} ms`,
    ),
    `  ${summary('flowing')}; ${summary('stalled')}`,
    `  first PATCH after a restart: median ${waits[waits.length >> 1]} ms, max ${waits.at(-1)} ms`,
  ].join('\n');
}

// The backends run at the same time: most of a cycle is waiting (a restart, the store's answers).
describe('SIGKILL of the sample in the middle of a single-PATCH upload (tus-js-client defaults), restarted on the same store', () => {
  const KILLS = SOAK ? 60 : 20;
  it.concurrent.each([fileTarget(), s3Target(), azureTarget()])(
    `$name backend: ${KILLS} kills, while bytes flow and while the client waits; HEAD answers what was stored, and the sha256 matches`,
    async (target) => {
      await target.setUp();
      const relay = await startRelay();
      const running: { sample?: SampleProcess } = {};
      try {
        const kills = await crashAndResume(target, KILLS, relay, running);
        console.log(report(target, kills));
        expect(kills).toHaveLength(KILLS);
        for (const kill of kills) {
          // Nothing stored is lost: HEAD answers at least what storage held at the kill (file:
          // exactly the data file's size; an object store may still finish a write the dead
          // process had sent, a part or block and its record), and never more than the body had brought.
          if (target.kind === 'file system') expect(kill.resumedAt).toBe(kill.storedAtKill);
          else expect(kill.resumedAt).toBeGreaterThanOrEqual(kill.storedAtKill);
          expect(kill.resumedAt).toBeLessThanOrEqual(kill.at);
          // A client that had stopped sending loses nothing on a file system, less than a part on
          // S3 or a block on Azure.
          if (kill.mode === 'stalled') {
            if (target.stalledLossBound === 0) expect(kill.resumedAt).toBe(kill.at);
            else expect(kill.at - kill.resumedAt).toBeLessThan(target.stalledLossBound);
          }
        }
      } finally {
        await running.sample?.stop();
        await relay.close();
        await target.tearDown();
      }
    },
    (SOAK ? 1_800 : 420) * 1000,
  );
});
