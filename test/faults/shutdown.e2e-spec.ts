import { describe, expect, it } from '@jest/globals';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Upload } from 'tus-js-client';
import { eventually } from '../support/eventually.js';
import { MiB, sha256 } from '../support/bytes.js';
import { offsetOf, storedBytes, uploadIdOf } from '../support/http/requests.js';
import { startRelay, type Relay } from '../support/http/relay.js';
import { bucketStore, containerStore, folderStore } from '../support/storage/sample-stores.js';
import { startSample, type SampleProcess } from '../support/servers/sample-process.js';
import { PLATFORMS } from '../support/apps/tus-app.js';

/** The sample's `shutdownTimeoutSeconds` (the module's default). */
const SHUTDOWN_TIMEOUT_MS = 10_000;

/** tus-js-client with its defaults (one PATCH for the rest of the file), no retries: the test resumes by hand. */
function upload(relay: Relay, source: Buffer, uploadUrl: string | null, seen: { url: string | null }): Promise<unknown> {
  return new Promise((resolve) => {
    const client = new Upload(source, {
      endpoint: `${relay.origin}/files`,
      uploadUrl,
      retryDelays: [],
      storeFingerprintForResuming: false,
      onUploadUrlAvailable: () => {
        seen.url = client.url;
      },
      onSuccess: () => resolve(null),
      onError: resolve,
    });
    client.start();
  });
}

/** Sends SIGTERM and resolves with how long the process took to exit. */
async function terminate(sample: SampleProcess): Promise<number> {
  const began = Date.now();
  sample.process.kill('SIGTERM');
  await once(sample.process, 'exit');
  return Date.now() - began;
}

/**
 * A graceful stop (SIGTERM, the sample calls `app.enableShutdownHooks()`) while a client is in
 * the middle of a single-PATCH upload: the process exits within the shutdown timeout, the next one
 * answers every byte the server had received, and the upload resumes to a matching sha256.
 */
describe.each([folderStore(), bucketStore(), containerStore()])('SIGTERM mid-upload on the $name backend', (store) => {
  it.each(PLATFORMS)('%s: a client waiting mid-body loses nothing, and a client sending loses only what was in flight', async (platform) => {
    await store.setUp();
    const relay = await startRelay();
    const source = randomBytes(48 * MiB + 4321);
    const seen = { url: null as string | null };
    let sample = await startSample({ ...store.env(), HTTP_ADAPTER: platform });
    const exits: number[] = [];
    try {
      relay.target = Number(new URL(sample.url).port);
      // 1. The client waits: the relay holds the body back at 21 MiB + 77 bytes (not part-aligned).
      const heldAt = 21 * MiB + 77;
      relay.bodyLimit = heldAt;
      const first = upload(relay, source, null, seen);
      await eventually(async () => relay.bodyBytes >= heldAt);
      const id = () => uploadIdOf(seen.url!);
      // What the server got is on its way to storage (file) or in its part (S3) or block (Azure) buffer.
      await sleep(500);
      exits.push(await terminate(sample));
      expect(await first).not.toBeNull();
      sample = await startSample({ ...store.env(), HTTP_ADAPTER: platform });
      relay.target = Number(new URL(sample.url).port);
      const direct = () => `${new URL(sample.url).origin}/files/${id()}`;
      expect(await offsetOf(direct())).toBe(heldAt);
      expect(await store.stored(id())).toBe(heldAt);

      // 2. The client sends at full speed: SIGTERM 10 MiB later, bytes still flowing.
      relay.bodyLimit = null;
      const base = relay.bodyBytes;
      let exited: Promise<number> | undefined;
      const signalled = new Promise<number>((resolve) => {
        relay.onUpstream = () => {
          if (relay.bodyBytes - base < 10 * MiB) return;
          relay.onUpstream = undefined;
          exited = terminate(sample);
          resolve(heldAt + (relay.bodyBytes - base));
        };
      });
      const outcome = await upload(relay, source, seen.url, seen);
      const signalledAt = await signalled;
      exits.push(await exited!);
      // The client kept sending until the server closed its connection: all it sent, at most.
      const sent = heldAt + (relay.bodyBytes - base);
      sample = await startSample({ ...store.env(), HTTP_ADAPTER: platform });
      relay.target = Number(new URL(sample.url).port);
      const resumedAt = await offsetOf(direct());
      // Everything the server saved is counted, and nothing it never received.
      expect(resumedAt).toBe(await store.stored(id()));
      expect(outcome).not.toBeNull();
      expect(resumedAt).toBeGreaterThanOrEqual(heldAt);
      expect(resumedAt).toBeLessThanOrEqual(sent);
      console.log(
        `${store.name} on ${platform}: SIGTERM with the client waiting at ${heldAt}: resumed at ${heldAt}, exit in ${exits[0]} ms; ` +
          `SIGTERM while sending at ${signalledAt}, ${sent} bytes sent before the connection closed: resumed at ${resumedAt} (${sent - resumedAt} in flight, lost), exit in ${exits[1]} ms`,
      );

      // 3. The rest, through the restarted process: byte-exact.
      expect(await upload(relay, source, seen.url, seen)).toBeNull();
      expect(sha256(await storedBytes(direct()))).toBe(sha256(source));
      for (const ms of exits) expect(ms).toBeLessThan(SHUTDOWN_TIMEOUT_MS);
    } finally {
      relay.onUpstream = undefined;
      await sample.stop();
      await relay.close();
      await store.tearDown();
    }
  }, 180_000);
});
