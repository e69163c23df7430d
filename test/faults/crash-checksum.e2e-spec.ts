import { describe, expect, it } from '@jest/globals';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { eventually } from '../support/eventually.js';
import { base64Digest, MiB, sha256 } from '../support/bytes.js';
import { createUpload, offsetOf, patchHeaders, send, storedBytes, uploadIdOf } from '../support/http/requests.js';
import { startHeldPatch } from '../support/http/held-patch.js';
import { bucketStore, containerStore, folderStore } from '../support/storage/sample-stores.js';
import { startSample } from '../support/servers/sample-process.js';
import { PLATFORMS } from '../support/apps/tus-app.js';

/**
 * A chunk that carries `Upload-Checksum` can only be trusted whole: a server killed while it
 * arrives must not keep any of it, whatever reached storage.
 */
describe.each([folderStore(), bucketStore(), containerStore()])('SIGKILL during a checksummed PATCH on the $name backend', (store) => {
  it.each(PLATFORMS)('%s: the chunk is discarded, the offset is the one before it, and the upload resumes byte-exact', async (platform) => {
    await store.setUp();
    const source = randomBytes(40 * MiB + 12345);
    let sample = await startSample({ ...store.env(), HTTP_ADAPTER: platform });
    try {
      const url = await createUpload(sample.url, { 'Upload-Length': source.length });
      const first = 3 * MiB;
      expect((await send('PATCH', url, { headers: patchHeaders(0), body: source.subarray(0, first) })).status).toBe(204);
      // 20 MiB announced with its sha1; 18 MiB sent (past two S3 parts or Azure blocks), then the client waits.
      const chunk = source.subarray(first, first + 20 * MiB);
      const checksum = `sha1 ${base64Digest('sha1', chunk)}`;
      const held = startHeldPatch(url, first, chunk.subarray(0, 18 * MiB), chunk.length, { 'Upload-Checksum': checksum });
      const id = uploadIdOf(url);
      // Bytes of the unverified chunk reached storage: they are there to be (wrongly) kept.
      await eventually(async () => (await store.reached(id)) > first + 8 * MiB, 30_000);
      sample.process.kill('SIGKILL');
      await once(sample.process, 'exit');
      expect(await held.answer).toBeNull();

      sample = await startSample({ ...store.env(), HTTP_ADAPTER: platform });
      const direct = `${new URL(sample.url).origin}/files/${id}`;
      expect(await offsetOf(direct)).toBe(first);
      // A file system's data file is cut back at once; in an object store the killed chunk's parts
      // or blocks stay, recorded nowhere, until the upload's completion discards them.
      if (store.kind === 'file system') expect(await store.reached(id)).toBe(first);
      const rest = source.subarray(first);
      const resumed = await send('PATCH', direct, {
        headers: { ...patchHeaders(first), 'Upload-Checksum': `sha1 ${base64Digest('sha1', rest)}` },
        body: rest,
      });
      expect(resumed.status).toBe(204);
      const stored = await storedBytes(direct);
      expect(sha256(stored)).toBe(sha256(source));
      // Nothing of the killed chunk is left behind (file: its marker; S3: its parts; Azure: its blocks).
      expect(await store.extras(id)).toEqual([]);
    } finally {
      await sample.stop();
      await store.tearDown();
    }
  }, 120_000);
});
