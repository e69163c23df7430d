import { describe, expect, it } from '@jest/globals';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
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

/**
 * A creation-with-upload whose process is killed mid-body. Its client never got the upload's URL
 * (no 201), so its bytes are unreachable; the file backend records such an upload only once its
 * first chunk is stored (one `.info` write instead of two). The other process sharing the folder
 * never sees it (404 for its id, not an error) and goes on creating and finishing uploads, and the
 * killed process's restart removes what the dead creation left.
 */
describe.each(PLATFORMS)('a creation-with-upload killed mid-body, one of two processes sharing a folder, on %s', (platform) => {
  it('leaves nothing the survivor trips over, and nothing after the restart', async () => {
    const store = folderStore();
    await store.setUp();
    const env = { ...store.env(), HTTP_ADAPTER: platform };
    const dir = store.env().UPLOAD_DIR!;
    const [a, b] = await Promise.all([startSample(env), startSample(env)]);
    let restarted: SampleProcess | undefined;
    try {
      const body = randomBytes(6 * MiB + 5);
      const sent = 2 * MiB + 17;
      const request = httpRequest(b.url, {
        method: 'POST',
        agent: false,
        headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': body.length, 'Content-Type': 'application/offset+octet-stream', 'Content-Length': body.length },
      });
      const answered = new Promise<number | null>((resolve) => {
        request.on('response', (response) => resolve(response.statusCode ?? null));
        request.on('error', () => resolve(null));
        request.on('close', () => resolve(null));
      });
      request.write(body.subarray(0, sent));
      // The id the client was never told: the one data file in the folder, with the bytes sent so far.
      let id = '';
      await eventually(async () => {
        const names = await readdir(dir);
        id = names.find((name) => !name.startsWith('.') && !name.includes('.')) ?? '';
        return id !== '' && (await store.stored(id).catch(() => 0)) === sent;
      }, 30_000);
      expect((await readdir(dir)).filter((name) => name.startsWith(id)).sort()).toEqual([id, `${id}.lock`]);
      b.process.kill('SIGKILL');
      await once(b.process, 'exit');
      expect(await answered).toBeNull();

      // The survivor: a 404 for the dead creation, and its own uploads as usual.
      const viaA = `${new URL(a.url).origin}/files/${id}`;
      expect((await send('HEAD', viaA, { headers: { 'Tus-Resumable': '1.0.0' } })).status).toBe(404);
      expect((await send('PATCH', viaA, { headers: patchHeaders(0), body: 'x' })).status).toBe(404);
      const mine = randomBytes(3 * MiB + 1);
      const created = await send('POST', a.url, {
        headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': mine.length, 'Content-Type': 'application/offset+octet-stream' },
        body: mine,
      });
      expect(created.status).toBe(201);
      const myUrl = new URL(created.headers.location!, a.url).href;
      expect(sha256(await storedBytes(myUrl))).toBe(sha256(mine));

      // The restart removes the dead creation's data file and lock.
      restarted = await startSample(env);
      expect((await readdir(dir)).filter((name) => name.startsWith(id))).toEqual([]);
      expect(sha256(await storedBytes(myUrl))).toBe(sha256(mine));
    } finally {
      await Promise.all([a.stop(), b.stop(), restarted?.stop()]);
      await store.tearDown();
    }
  }, 120_000);
});
