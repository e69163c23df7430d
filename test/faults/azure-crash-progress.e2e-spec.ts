import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { ContainerClient } from '@azure/storage-blob';
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { blobsUnder, inspectAzureUpload, type AzureUploadSnapshot } from '../support/storage/azure-inspection.js';
import { sampleAzureEnv, startAzurite, type Azurite } from '../support/servers/azurite.js';
import { createUpload, offsetOf, patchHeaders, send, storedBytes, uploadIdOf } from '../support/http/requests.js';
import { eventually } from '../support/eventually.js';
import { startRelay, type Relay } from '../support/http/relay.js';
import { startSample, type SampleProcess } from '../support/servers/sample-process.js';

/**
 * Azure: a long PATCH records its staged blocks in `.info` as they are staged, so that a SIGKILL of
 * the server costs only what no recorded block holds; a checksummed PATCH records nothing before it
 * is verified. The sample runs on Azurite as a real process (its defaults: 8 MiB blocks, 4 in
 * flight); a relay in front of it cuts the body where the test says, and the test reads the
 * container behind its back.
 */
const MiB = 1024 * 1024;
const BLOCK = 8 * MiB;
const IN_FLIGHT = 4;
/** The first PATCH: a whole block and a short one, so that the killed PATCH starts after a short block. */
const FIRST = 11 * MiB + 4321;
/** The killed PATCH: at least 64 MiB, not block-aligned. */
const KILLED = 72 * MiB + 777;
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const mib = (bytes: number) => (bytes / MiB).toFixed(2);

let azurite: Azurite;
let container: ContainerClient;
let dispose: () => Promise<void>;
let relay: Relay;
let sample: SampleProcess | undefined;
const lines: string[] = [];

beforeAll(async () => {
  azurite = await startAzurite();
  ({ container, dispose } = await azurite.createContainer('crash-progress'));
  relay = await startRelay();
});
afterEach(() => {
  if (lines.length > 0) console.log(lines.splice(0).join('\n'));
});
afterAll(async () => {
  await stopSample();
  await relay?.close();
  await dispose?.();
  await azurite?.stop();
});

async function stopSample(): Promise<void> {
  const running = sample;
  sample = undefined;
  await running?.stop();
}

async function restart(): Promise<string> {
  await stopSample();
  sample = await startSample(sampleAzureEnv(azurite, container.containerName));
  relay.target = Number(new URL(sample.url).port);
  return new URL(sample.url).origin;
}

async function kill(): Promise<void> {
  const child = sample!.process;
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGKILL');
    await once(child, 'exit');
  }
  expect(child.signalCode).toBe('SIGKILL');
}

async function preparedUpload(origin: string): Promise<{ id: string; source: Buffer }> {
  const source = randomBytes(FIRST + KILLED);
  const url = await createUpload(`${origin}/files`, { 'Upload-Length': source.length });
  expect((await send('PATCH', url, { headers: patchHeaders(0), body: source.subarray(0, FIRST) })).status).toBe(204);
  return { id: uploadIdOf(url), source };
}

/** The rest of the upload in one PATCH through the relay, on a socket of the test's own; `holdAt` holds the body back there. */
async function patchThroughRelay(id: string, source: Buffer, options: { checksum?: boolean; holdAt?: number } = {}): Promise<void> {
  const body = source.subarray(FIRST);
  const headers: Record<string, string | number> = { ...patchHeaders(FIRST), 'Content-Length': body.length, Connection: 'close' };
  if (options.checksum) headers['Upload-Checksum'] = `sha1 ${createHash('sha1').update(body).digest('base64')}`;
  const head = `PATCH /files/${id} HTTP/1.1\r\nHost: ${new URL(relay.origin).host}\r\n${Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('')}\r\n`;
  relay.bodyLimit = options.holdAt === undefined ? null : relay.bodyBytes + (options.holdAt - FIRST);
  const socket = connect(Number(new URL(relay.origin).port), '127.0.0.1');
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  socket.write(head);
  void (async () => {
    for (let at = 0; at < body.length && !socket.destroyed; at += MiB) {
      if (!socket.write(body.subarray(at, at + MiB))) await drainedOrClosed(socket);
    }
  })().catch(() => undefined);
}

function drainedOrClosed(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      socket.off('drain', done).off('close', done);
      resolve();
    };
    socket.on('drain', done).on('close', done);
  });
}

/** Finishes the upload from HEAD's offset, checks its sha256, deletes it and finds nothing of it left. */
async function resumeAndCheck(origin: string, id: string, source: Buffer, resumedAt: number): Promise<void> {
  const url = `${origin}/files/${id}`;
  const rest = await send('PATCH', url, { headers: patchHeaders(resumedAt), body: source.subarray(resumedAt) });
  expect(rest.status).toBe(204);
  expect(sha256(await storedBytes(url))).toBe(sha256(source));
  expect((await send('DELETE', url, { headers: { 'Tus-Resumable': '1.0.0' } })).status).toBe(204);
  await eventually(async () => (await blobsUnder(container, id)).length === 0, 5_000);
}

const inspect = (id: string): Promise<AzureUploadSnapshot> => inspectAzureUpload(container, id);

describe('Azure: a SIGKILL in the middle of a long PATCH costs only the bytes no recorded block holds', () => {
  it('(a) killed while the body flows: HEAD is what .info recorded at the kill, well past the offset before the PATCH', async () => {
    for (let round = 1; round <= 2; round++) {
      let origin = await restart();
      const { id, source } = await preparedUpload(origin);
      const baseline = relay.bodyBytes;
      const cutAt = randomInt((IN_FLIGHT + 3) * BLOCK, KILLED - MiB);
      let killed: Promise<void> | undefined;
      let at = 0;
      relay.onUpstream = () => {
        if (killed !== undefined || relay.bodyBytes - baseline < cutAt) return;
        at = FIRST + relay.bodyBytes - baseline;
        killed = kill();
      };
      await patchThroughRelay(id, source);
      await eventually(async () => killed !== undefined, 60_000);
      await killed;
      relay.onUpstream = undefined;
      const atKill = await inspect(id);
      origin = await restart();
      const resumedAt = await offsetOf(`${origin}/files/${id}`);
      lines.push(
        `(a) round ${round}: killed ${mib(at - FIRST)} MiB into the PATCH; .info recorded ${atKill.recordedOffset}, ` +
          `${mib(atKill.unrecordedBytes)} MiB staged but not recorded; resumed at ${resumedAt}: ${mib(at - resumedAt)} MiB lost`,
      );
      // HEAD is what is durably staged and recorded: every recorded block is there with its size.
      expect(resumedAt).toBe(atKill.recordedOffset);
      expect(resumedAt).toBe(atKill.durable);
      expect(resumedAt).toBeLessThanOrEqual(at);
      expect(resumedAt).toBeGreaterThan(FIRST);
      // Staged unrecorded at the kill: at most the blocks in flight (a block keeps its slot until recorded).
      expect(atKill.unrecordedBytes).toBeLessThanOrEqual(IN_FLIGHT * BLOCK);
      await resumeAndCheck(origin, id, source, resumedAt);
      await stopSample();
    }
  }, 240_000);

  it('(b) killed while the client waits: under one block is lost, HEAD is every byte of a staged block', async () => {
    for (let round = 1; round <= 2; round++) {
      let origin = await restart();
      const { id, source } = await preparedUpload(origin);
      const baseline = relay.bodyBytes;
      // A cut at least 64 KiB away from a block boundary of the PATCH (its blocks start at FIRST).
      let at: number;
      do at = FIRST + randomInt(5 * BLOCK, KILLED - MiB);
      while ((at - FIRST) % BLOCK < 64 * 1024 || BLOCK - ((at - FIRST) % BLOCK) < 64 * 1024);
      await patchThroughRelay(id, source, { holdAt: at });
      const staged = FIRST + Math.floor((at - FIRST) / BLOCK) * BLOCK;
      await eventually(async () => (await inspect(id)).recordedOffset >= staged, 30_000);
      expect(relay.bodyBytes - baseline).toBe(at - FIRST);
      await kill();
      relay.bodyLimit = null;
      const atKill = await inspect(id);
      origin = await restart();
      const resumedAt = await offsetOf(`${origin}/files/${id}`);
      lines.push(`(b) round ${round}: held ${mib(at - FIRST)} MiB into the PATCH; resumed at ${resumedAt}: ${mib(at - resumedAt)} MiB lost (${at - resumedAt} bytes)`);
      expect(resumedAt).toBe(atKill.durable);
      expect(atKill.unrecordedBytes).toBe(0);
      expect(resumedAt).toBe(staged);
      expect(at - resumedAt).toBeLessThan(BLOCK);
      await resumeAndCheck(origin, id, source, resumedAt);
      await stopSample();
    }
  }, 240_000);

  it('(c) a checksummed PATCH killed mid-body counts nothing, though Azure holds blocks of it', async () => {
    let origin = await restart();
    const { id, source } = await preparedUpload(origin);
    await patchThroughRelay(id, source, { checksum: true, holdAt: FIRST + 5 * BLOCK + 12345 });
    await eventually(async () => (await inspect(id)).unrecordedBytes >= 4 * BLOCK, 30_000);
    await kill();
    relay.bodyLimit = null;
    const atKill = await inspect(id);
    expect(atKill.recordedOffset).toBe(FIRST);
    origin = await restart();
    const resumedAt = await offsetOf(`${origin}/files/${id}`);
    lines.push(`(c) checksummed PATCH killed with ${mib(atKill.unrecordedBytes)} MiB of it staged: resumed at ${resumedAt}`);
    expect(resumedAt).toBe(FIRST);
    await resumeAndCheck(origin, id, source, resumedAt);
    await stopSample();
  }, 120_000);
});
