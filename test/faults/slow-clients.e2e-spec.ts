import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { eventually } from '../support/eventually.js';
import { MiB, sha256 } from '../support/bytes.js';
import { SOAK } from '../support/soak.js';
import { createUpload, offsetOf, patchHeaders, requestHead, send, storedBytes } from '../support/http/requests.js';
import { openConnections, PLATFORMS, startTusApp, type TusApp } from '../support/apps/tus-app.js';
import { runUpload } from '../support/http/tus-client.js';

const TRICKLES = 200;
const TRICKLE_LENGTH = 1000;
/** The idle window: long enough for the big uploads to finish inside it on a loaded 2-core machine. */
const IDLE_SECONDS = 6;
/** A body must deliver this much per window: a trickle of 1 byte/s delivers ~6. */
const MIN_BYTES = 256;

const openFds = async () => (await readdir('/proc/self/fd')).length;

/** A client on a raw socket that sends its PATCH's headers, then its body one byte a second. */
interface Trickle {
  url: string;
  data: Buffer;
  socket: Socket;
  sent: number;
  openedAt: number;
  closedAt: number | undefined;
}

function openTrickle(url: string, data: Buffer): Trickle {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  socket.write(requestHead('PATCH', url, { ...patchHeaders(0), 'Content-Length': data.length }));
  const trickle: Trickle = { url, data, socket, sent: 0, openedAt: Date.now(), closedAt: undefined };
  socket.on('error', () => undefined);
  socket.on('close', () => (trickle.closedAt = Date.now()));
  return trickle;
}

/** Uploads the files with tus-js-client, all at once; resolves with their URLs and the MiB/s they made together. */
async function bigUploads(files: Buffer[], endpoint: string): Promise<{ urls: string[]; mibPerSecond: number }> {
  const started = Date.now();
  const urls = await Promise.all(files.map(async (file) => (await runUpload(file, { endpoint, chunkSize: 8 * MiB })).url));
  const seconds = (Date.now() - started) / 1000;
  return { urls, mibPerSecond: files.reduce((sum, file) => sum + file.length, 0) / MiB / seconds };
}

describe.each(PLATFORMS)('slow clients on %s (file backend)', (platform) => {
  let app: TusApp;

  beforeAll(async () => {
    app = await startTusApp({ idleTimeoutSeconds: IDLE_SECONDS, idleMinBytes: MIN_BYTES }, { platform });
  });
  afterAll(() => app?.close());

  it(`${TRICKLES} uploads trickling a byte a second hold up no one, and are ended by the idle timeout keeping their bytes`, async () => {
    const server = app.app.getHttpServer() as Server;
    const files = Array.from({ length: SOAK ? 4 : 3 }, () => randomBytes(SOAK ? 64 * MiB : 32 * MiB));

    // Without the trickles, for the figure to compare with (a first run warms the code up).
    await bigUploads([randomBytes(4 * MiB)], app.url);
    const alone = await bigUploads(files, app.url);
    await eventually(async () => (await openConnections(server)) === 0, 10_000);
    const baseline = { fds: await openFds(), connections: await openConnections(server) };

    const targets = await Promise.all(
      Array.from({ length: TRICKLES }, async () => {
        const data = randomBytes(TRICKLE_LENGTH);
        return { url: await createUpload(app.url, { 'Upload-Length': data.length }), data };
      }),
    );
    const trickles = targets.map(({ url, data }) => openTrickle(url, data));
    const drip = setInterval(() => {
      for (const trickle of trickles) {
        if (trickle.closedAt !== undefined || trickle.sent >= trickle.data.length) continue;
        trickle.socket.write(trickle.data.subarray(trickle.sent, trickle.sent + 1));
        trickle.sent++;
      }
    }, 1000);
    try {
      // Every trickle's PATCH has reached the server and holds its upload.
      await eventually(async () => (await openConnections(server)) >= baseline.connections + TRICKLES, 20_000);
      const fdsWithTrickles = await openFds();

      const loaded = await bigUploads(files, app.url);
      const openWhenDone = trickles.filter((trickle) => trickle.closedAt === undefined).length;
      for (const [index, url] of loaded.urls.entries()) expect(sha256(await storedBytes(url))).toBe(sha256(files[index]!));
      for (const [index, url] of alone.urls.entries()) expect(sha256(await storedBytes(url))).toBe(sha256(files[index]!));
      // How many trickles outlived the big uploads depends on the machine's speed: reported, not asserted.

      // Then the idle timeout ends them: fewer than MIN_BYTES within IDLE_SECONDS.
      await eventually(async () => trickles.every((trickle) => trickle.closedAt !== undefined), 3 * IDLE_SECONDS * 1000);
      clearInterval(drip);
      const lifetimes = trickles.map((trickle) => (trickle.closedAt! - trickle.openedAt) / 1000).sort((a, b) => a - b);
      // Ended by the idle rule, not by anything else: never before a whole window (less a little
      // for timer rounding), never finished.
      expect(lifetimes[0]).toBeGreaterThanOrEqual(IDLE_SECONDS - 0.25);
      for (const trickle of trickles) expect(trickle.sent).toBeLessThan(trickle.data.length);

      // Each kept what it delivered: resumable at that offset, and it completes byte-exact.
      for (const trickle of trickles) {
        const offset = await offsetOf(trickle.url);
        expect(offset).toBeGreaterThanOrEqual(trickle.sent - 1); // a byte written as the server closed may be lost
        expect(offset).toBeLessThanOrEqual(trickle.sent);
        const rest = await send('PATCH', trickle.url, { headers: patchHeaders(offset), body: trickle.data.subarray(offset) });
        expect(rest.status).toBe(204);
        expect((await storedBytes(trickle.url)).equals(trickle.data)).toBe(true);
      }
      expect((await readdir(app.uploadDir)).filter((name) => name.includes('.lock'))).toEqual([]);

      // Nothing of theirs is left open: connections and file descriptors back to the baseline.
      await eventually(async () => (await openConnections(server)) === baseline.connections, 10_000);
      const fdsAfter = await openFds();
      // A few descriptors come and go with the runtime itself (timers, the test's own sockets).
      expect(fdsAfter).toBeLessThanOrEqual(baseline.fds + 8);

      const delivered = trickles.map((trickle) => trickle.sent);
      console.log(
        `[slow-clients] ${platform}: ${files.length} × ${files[0]!.length / MiB} MiB alone ${alone.mibPerSecond.toFixed(0)} MiB/s, ` +
          `beside ${TRICKLES} trickles ${loaded.mibPerSecond.toFixed(0)} MiB/s (ratio ${(loaded.mibPerSecond / alone.mibPerSecond).toFixed(2)}); ` +
          `trickles open when they finished: ${openWhenDone}; trickles ended after ${lifetimes[0]!.toFixed(1)}-${lifetimes.at(-1)!.toFixed(1)} s ` +
          `(idle ${IDLE_SECONDS} s, min ${MIN_BYTES} B), having sent ${Math.min(...delivered)}-${Math.max(...delivered)} bytes; ` +
          `fds ${baseline.fds} → ${fdsWithTrickles} with trickles → ${fdsAfter}`,
      );
    } finally {
      clearInterval(drip);
      for (const trickle of trickles) trickle.socket.destroy();
    }
  }, 120_000);
});
