import { describe, expect, it } from '@jest/globals';
import { once } from 'node:events';
import { createHash, randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createUpload, eventually, offsetOf, patchHeaders, send, storedBytes, uploadIdOf } from './support/http.js';
import { startHeldPatch } from './support/held-patch.js';
import { startSample, startSamplesSharingFolder } from './support/sample-process.js';
import { PLATFORMS } from './support/tus-app.js';

const MiB = 1024 * 1024;
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/**
 * Two processes sharing one upload folder. One is killed in the middle of a PATCH: the other
 * answers that upload's stored bytes at once (no restart, no waiting for staleness), and the upload
 * the survivor is writing meanwhile is never truncated nor rewound, not even by the killed
 * process's restart, whose start-up repairs the folder.
 */
describe.each(PLATFORMS)('a crash of one of two processes sharing a folder, on %s', (platform) => {
  it('the survivor repairs the dead one\'s upload on its first HEAD, and its own live upload is untouched', async () => {
    const shared = await startSamplesSharingFolder({ HTTP_ADAPTER: platform });
    let restarted: Awaited<ReturnType<typeof startSample>> | undefined;
    try {
      const { a, b, dir } = shared;
      const mine = randomBytes(24 * MiB + 11);
      const theirs = randomBytes(20 * MiB + 7);
      // A writes `mine` slowly and stays alive throughout.
      const myUrl = await createUpload(a.url, { 'Upload-Length': mine.length });
      const myPatch = startHeldPatch(myUrl, 0, mine.subarray(0, 4 * MiB), mine.length);
      let mySent = 4 * MiB;
      const myFile = join(dir, uploadIdOf(myUrl));
      const sizes: number[] = [];
      let watching = true;
      const watcher = (async () => {
        while (watching) {
          sizes.push(await stat(myFile).then((stats) => stats.size, () => -1));
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

      // B is killed with 9 MiB + 333 bytes of `theirs` on disk and the rest not sent.
      const theirUrl = await createUpload(b.url, { 'Upload-Length': theirs.length });
      const theirId = uploadIdOf(theirUrl);
      const cut = 9 * MiB + 333;
      startHeldPatch(theirUrl, 0, theirs.subarray(0, cut), theirs.length);
      await eventually(async () => (await stat(join(dir, theirId)).then((stats) => stats.size, () => 0)) === cut, 30_000);
      b.process.kill('SIGKILL');
      await once(b.process, 'exit');

      // A, with no restart, answers what B had stored.
      const viaA = `${new URL(a.url).origin}/files/${theirId}`;
      expect(await offsetOf(viaA)).toBe(cut);

      // B comes back on the same folder while A still writes: its start-up leaves A's upload alone.
      restarted = await startSample({ HTTP_ADAPTER: platform, UPLOAD_DIR: dir });
      const viaB = `${new URL(restarted.url).origin}/files/${theirId}`;
      expect(await offsetOf(viaB)).toBe(cut);
      expect((await send('PATCH', viaB, { headers: patchHeaders(cut), body: theirs.subarray(cut) })).status).toBe(204);
      expect(sha256(await storedBytes(viaB))).toBe(sha256(theirs));

      await trickle;
      await myPatch.write(mine.subarray(mySent));
      myPatch.request.end();
      expect(await myPatch.answer).toBe(204);
      watching = false;
      await watcher;
      expect(sha256(await storedBytes(myUrl))).toBe(sha256(mine));
      // Never cut back while it was being written, through B's death and B's restart.
      const seen = sizes.filter((size) => size >= 0);
      expect(seen.length).toBeGreaterThan(10);
      for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThanOrEqual(seen[i - 1]!);
    } finally {
      await restarted?.stop();
      await shared.stop();
    }
  }, 120_000);
});
