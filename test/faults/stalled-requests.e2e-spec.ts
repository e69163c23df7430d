import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { type ClientRequest, request as httpRequest } from 'node:http';
import { Transform } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { FileStorageBackend, type ChunkSource, type UploadChanges, type UploadInfo } from 'nestjs-tus';
import { startHeldPatch } from '../support/http/held-patch.js';
import { KiB } from '../support/bytes.js';
import { blockEventLoop, patchFromAnotherProcess } from '../support/http/patch-from-another-process.js';
import { createUpload, offsetOf, patchHeaders, send, TUS } from '../support/http/requests.js';
import { TARGETS } from '../support/apps/targets.js';
import { startSamplesSharingFolder, type SampleProcess } from '../support/servers/sample-process.js';
import { startTusApp, tempDir, type RunningApp, PLATFORMS } from '../support/apps/tus-app.js';


/**
 * A PATCH that sends `sent` and then nothing, its connection left open: a client whose network
 * went away without closing anything. Resolves once the bytes left this process.
 */
async function stalledPatch(url: string, offset: number, sent: Buffer, promised: number): Promise<ClientRequest> {
  const held = startHeldPatch(url, offset, sent, promised);
  await held.sent;
  return held.request;
}

describe.each(TARGETS)('stalled requests on the $name', ({ backend, platform }) => {
  let app: RunningApp;
  let idleApp: RunningApp;
  const data = randomBytes(256 * KiB);

  beforeAll(async () => {
    [app, idleApp] = await Promise.all([
      startTusApp({}, { backend, platform }),
      startTusApp({ idleTimeoutSeconds: 1 }, { backend, platform }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([app.close(), idleApp.close()]);
  });

  it('ends a PATCH whose body stops arriving for idleTimeoutSeconds, keeping the bytes received', async () => {
    const url = await createUpload(idleApp.url, { 'Upload-Length': data.length });
    const stalled = await stalledPatch(url, 0, data.subarray(0, 40 * KiB), data.length);
    const closed = new Promise<void>((resolve) => stalled.on('close', () => resolve()));
    await closed; // the server ended it: nothing here closes it
    expect(await offsetOf(url)).toBe(40 * KiB);
    const rest = await send('PATCH', url, { headers: patchHeaders(40 * KiB), body: data.subarray(40 * KiB) });
    expect(rest.status).toBe(204);
    expect((await send('GET', url)).body.equals(data)).toBe(true);
  });

  it('a HEAD for an upload held by a stalled request makes it stop and save: the retry resumes at once', async () => {
    const url = await createUpload(app.url, { 'Upload-Length': data.length });
    const stalled = await stalledPatch(url, 0, data.subarray(0, 40 * KiB), data.length);
    await sleep(1_300); // silent past the stall threshold (1 s), far below the idle timeout (60 s)
    expect(await offsetOf(url)).toBe(40 * KiB);
    const resumed = await send('PATCH', url, { headers: patchHeaders(40 * KiB), body: data.subarray(40 * KiB) });
    expect(resumed.status).toBe(204);
    expect((await send('GET', url)).body.equals(data)).toBe(true);
    stalled.destroy();
  });

  it('a PATCH for an upload held by a stalled request takes over without waiting for a timeout', async () => {
    const url = await createUpload(app.url, { 'Upload-Length': data.length });
    const stalled = await stalledPatch(url, 0, data.subarray(0, 10 * KiB), data.length);
    await sleep(1_300);
    // The client retries without asking (it still believes offset 0): the stalled request saves
    // its 10 KiB, so this one is told the offset moved (409), and the next HEAD knows where.
    const blind = await send('PATCH', url, { headers: patchHeaders(0), body: data });
    expect(blind.status).toBe(409);
    expect(await offsetOf(url)).toBe(10 * KiB);
    stalled.destroy();
  });

  it('leaves a request that is still receiving alone', async () => {
    const url = await createUpload(app.url, { 'Upload-Length': 20 * KiB });
    const live = httpRequest(url, { method: 'PATCH', agent: false, headers: { ...patchHeaders(0), 'Content-Length': 20 * KiB } });
    const answered = new Promise<number>((resolve) => live.on('response', (res) => (res.resume(), resolve(res.statusCode!))));
    for (let i = 0; i < 20; i++) {
      live.write(Buffer.alloc(KiB, 1));
      await sleep(100); // a slow client, but a live one: bytes every 100 ms for 2 s
      if (i === 12) expect((await send('HEAD', url, { headers: TUS })).status).toBe(200);
    }
    live.end();
    expect(await answered).toBe(204);
    expect(await offsetOf(url)).toBe(20 * KiB);
  });

  // Seen in CI: after a long pause of the server's own (a GC, a slow synchronous call), the timers
  // ran before the sockets were read, and a client still sending looked silent for longer than
  // the stall threshold: a PATCH waiting for the lock took its upload over and cut it (EPIPE).
  it('a client still sending while the server was blocked for longer than the stall threshold is not taken over', async () => {
    const parts = 40;
    const url = await createUpload(app.url, { 'Upload-Length': parts * 16 * KiB });
    const live = patchFromAnotherProcess(url, 0, 16 * KiB, parts, 50); // 2 s of sending
    await live.started;
    await sleep(200);
    const waiting = send('PATCH', url, { headers: patchHeaders(0), body: data.subarray(0, KiB) });
    await sleep(200); // waiting for the lock, asking the holder to give way if it is silent
    await blockEventLoop(1_500); // past the 1 s threshold; the client goes on sending meanwhile
    expect(await live.answered).toEqual({ status: 204 });
    expect([409, 423]).toContain((await waiting).status);
    expect(await offsetOf(url)).toBe(parts * 16 * KiB);
  });

  it('nor is it ended by the idle timeout', async () => {
    const parts = 40;
    const url = await createUpload(idleApp.url, { 'Upload-Length': parts * 16 * KiB });
    const live = patchFromAnotherProcess(url, 0, 16 * KiB, parts, 50);
    await live.started;
    await sleep(300);
    await blockEventLoop(1_500); // past idleTimeoutSeconds (1 s)
    expect(await live.answered).toEqual({ status: 204 });
    expect(await offsetOf(url)).toBe(parts * 16 * KiB);
  });
});

/**
 * The file backend with storage that stops taking bytes for `holdMs` once the first MiB of a
 * chunk has passed (a disk or S3 slower than the client, which holds the body back), or, for a
 * chunk under 1 MiB, once the whole body has arrived (the last part and the record still being
 * saved).
 */
class SlowStorage extends FileStorageBackend {
  constructor(
    directory: string,
    private readonly holdMs: number,
  ) {
    super({ directory });
  }

  override write(upload: UploadInfo, chunk: ChunkSource, changes?: UploadChanges): Promise<UploadInfo> {
    let passed = 0;
    let held = false;
    const slow = new Transform({
      transform: (piece: Buffer, _encoding, callback) => {
        passed += piece.length;
        if (held || passed < 1024 * KiB) return callback(null, piece);
        held = true;
        setTimeout(() => callback(null, piece), this.holdMs);
      },
      flush: (callback) => (held ? callback() : setTimeout(callback, this.holdMs)),
    });
    return super.write(upload, { ...chunk, stages: [slow, ...chunk.stages] }, changes);
  }
}

describe.each(PLATFORMS)('slow storage and the idle timeout on %s', (platform) => {
  let app: RunningApp;
  let dir: { path: string; cleanup: () => Promise<void> };

  beforeAll(async () => {
    dir = await tempDir();
    app = await startTusApp({ idleTimeoutSeconds: 1, storage: new SlowStorage(dir.path, 3_000) }, { platform });
  });
  afterAll(async () => {
    await app?.close();
    await dir?.cleanup();
  });

  it('a client kept waiting by storage for longer than idleTimeoutSeconds is not silent: its PATCH completes', async () => {
    // Far more than the socket buffers of both ends hold, so the client really is stopped by the server.
    const data = randomBytes(48 * 1024 * KiB);
    const url = await createUpload(app.url, { 'Upload-Length': data.length });
    const response = await send('PATCH', url, { headers: patchHeaders(0), body: data });
    expect(response.status).toBe(204);
    expect(response.headers['upload-offset']).toBe(String(data.length));
  });

  it('a client that goes silent once the storage took up reading again is still ended, its bytes kept', async () => {
    const data = randomBytes(4 * 1024 * KiB);
    const url = await createUpload(app.url, { 'Upload-Length': data.length });
    const stalled = await stalledPatch(url, 0, data.subarray(0, 2 * 1024 * KiB), data.length);
    await new Promise<void>((resolve) => stalled.on('close', () => resolve())); // the server ended it
    expect(await offsetOf(url)).toBe(2 * 1024 * KiB);
  });

  it('a body that has all arrived while storage is still saving it is not silent either: the client gets its answer', async () => {
    const data = randomBytes(64 * KiB);
    const url = await createUpload(app.url, { 'Upload-Length': data.length });
    const response = await send('PATCH', url, { headers: patchHeaders(0), body: data });
    expect(response.status).toBe(204);
    expect(response.headers['upload-offset']).toBe(String(data.length));
  });
});

describe.each(PLATFORMS)('stalled requests across processes (file backend, shared folder) on %s', (platform) => {
  let a: SampleProcess;
  let b: SampleProcess;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    ({ a, b, stop } = await startSamplesSharingFolder({ HTTP_ADAPTER: platform }));
  });
  afterAll(() => stop?.());

  it("a retry through another process asks the stalled holder to let go (its lock file's release request)", async () => {
    const data = randomBytes(64 * KiB);
    const url = await createUpload(a.url, { 'Upload-Length': data.length });
    const onB = url.replace(new URL(a.url).origin, new URL(b.url).origin);
    const stalled = await stalledPatch(url, 0, data.subarray(0, 16 * KiB), data.length);
    await sleep(1_300);
    // B cannot see A's request: its PATCH waits for the lock, A hears the request, stops and
    // saves; B then finds the offset moved (409), as tus clients expect and retry.
    const first = await send('PATCH', onB, { headers: patchHeaders(0), body: data });
    expect(first.status).toBe(409);
    expect(await offsetOf(onB)).toBe(16 * KiB);
    const second = await send('PATCH', onB, { headers: patchHeaders(16 * KiB), body: data.subarray(16 * KiB) });
    expect(second.status).toBe(204);
    expect((await send('GET', onB)).body.equals(data)).toBe(true);
    stalled.destroy();
  });
});
