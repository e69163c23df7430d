import { describe, expect, it } from '@jest/globals';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { eventually } from '../support/eventually.js';
import { MiB, sha256 } from '../support/bytes.js';
import { createUpload, offsetOf, patchHeaders, send, storedBytes, uploadIdOf } from '../support/http/requests.js';
import { startHeldPatch } from '../support/http/held-patch.js';
import { startSample, type SampleProcess } from '../support/servers/sample-process.js';
import { bucketStore, containerStore, folderStore } from '../support/storage/sample-stores.js';
import { PLATFORMS } from '../support/apps/tus-app.js';

const CASES = [folderStore(), bucketStore(), containerStore()].flatMap((store) => PLATFORMS.map((platform) => ({ store, platform })));

/**
 * Two processes sharing one folder, bucket or container. One is killed in the middle of a PATCH: the other
 * answers that upload's stored bytes at once (no restart, no waiting for staleness), and the upload
 * the survivor is writing meanwhile is never cut back nor rewound, not even by the killed
 * process's restart, whose start-up repairs what it finds.
 */
describe.each(CASES)('a crash of one of two processes sharing a $store.name store, on $platform', ({ store, platform }) => {
  it('the survivor answers the dead one\'s stored bytes on its first HEAD, and its own live upload is untouched', async () => {
    await store.setUp();
    const env = { ...store.env(), HTTP_ADAPTER: platform };
    const [a, b] = await Promise.all([startSample(env), startSample(env)]);
    let restarted: SampleProcess | undefined;
    try {
      const mine = randomBytes(24 * MiB + 11);
      const theirs = randomBytes(20 * MiB + 7);
      // A writes `mine` slowly and stays alive throughout.
      const myUrl = await createUpload(a.url, { 'Upload-Length': mine.length });
      const myPatch = startHeldPatch(myUrl, 0, mine.subarray(0, 4 * MiB), mine.length);
      let mySent = 4 * MiB;
      const myId = uploadIdOf(myUrl);
      const sizes: number[] = [];
      let watching = true;
      const watcher = (async () => {
        while (watching) {
          sizes.push(await store.stored(myId).catch(() => -1));
          await sleep(20);
        }
      })();
      const trickle = (async () => {
        // 1 MiB every 100 ms: a live writer, never silent long enough to be taken over.
        while (mySent < mine.length - MiB) {
          await myPatch.write(mine.subarray(mySent, mySent + MiB));
          mySent += MiB;
          await sleep(100);
        }
      })();

      // B is killed with 9 MiB + 333 bytes of `theirs` sent and the rest not: on a folder all of
      // it is on disk; in an object store the whole part (S3) or block (Azure) is recorded, the
      // rest in B's buffer is lost.
      const theirUrl = await createUpload(b.url, { 'Upload-Length': theirs.length });
      const theirId = uploadIdOf(theirUrl);
      const cut = 9 * MiB + 333;
      startHeldPatch(theirUrl, 0, theirs.subarray(0, cut), theirs.length);
      const kept = Math.floor(cut / store.recordedIn) * store.recordedIn;
      await eventually(async () => (await store.stored(theirId).catch(() => 0)) === kept, 30_000);
      b.process.kill('SIGKILL');
      await once(b.process, 'exit');

      // A, with no restart, answers what B had stored.
      const viaA = `${new URL(a.url).origin}/files/${theirId}`;
      expect(await offsetOf(viaA)).toBe(kept);

      // B comes back on the same store while A still writes: its start-up leaves A's upload alone.
      restarted = await startSample(env);
      const viaB = `${new URL(restarted.url).origin}/files/${theirId}`;
      expect(await offsetOf(viaB)).toBe(kept);
      expect((await send('PATCH', viaB, { headers: patchHeaders(kept), body: theirs.subarray(kept) })).status).toBe(204);
      expect(sha256(await storedBytes(viaB))).toBe(sha256(theirs));

      await trickle;
      // Watched until its last bytes (a completed upload's record no longer lists its parts on S3,
      // nor its blocks on Azure).
      watching = false;
      await watcher;
      await myPatch.write(mine.subarray(mySent));
      myPatch.request.end();
      expect(await myPatch.answer).toBe(204);
      expect(sha256(await storedBytes(myUrl))).toBe(sha256(mine));
      // Never cut back while it was being written, through B's death and B's restart.
      const seen = sizes.filter((size) => size >= 0);
      expect(seen.length).toBeGreaterThan(10);
      for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThanOrEqual(seen[i - 1]!);
    } finally {
      await Promise.all([a.stop(), b.stop(), restarted?.stop()]);
      await store.tearDown();
    }
  }, 120_000);
});
