import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { KiB, piecesOf } from '../support/bytes.js';
import { createUpload, offsetOf, patchHeaders, send, slowBody, uploadIdOf } from '../support/http/requests.js';
import { PLATFORMS } from '../support/apps/tus-app.js';
import { startSamplesSharingFolder, type SampleProcess } from '../support/servers/sample-process.js';


/** A body that trickles `byte` for about `ms`, so that its request holds the upload's lock meanwhile. */
const trickle = (byte: number, size: number, ms: number): Readable => slowBody(piecesOf(Buffer.alloc(size, byte), size / 20), ms / 20);

describe.each(PLATFORMS)('two processes sharing one upload folder (file backend) on %s', (platform) => {
  let a: SampleProcess;
  let b: SampleProcess;
  let dir: string;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    ({ a, b, dir, stop } = await startSamplesSharingFolder({ HTTP_ADAPTER: platform }));
  });
  afterAll(() => stop?.());

  it('lets one of two simultaneous PATCHes in; the other waits, then gets 409, and bytes never interleave', async () => {
    const size = 400 * KiB;
    const url = await createUpload(a.url, { 'Upload-Length': size * 2 });
    const onB = url.replace(new URL(a.url).origin, new URL(b.url).origin);
    const first = send('PATCH', url, { headers: { ...patchHeaders(0), 'Content-Length': size }, body: trickle(0x41, size, 600) });
    await sleep(100);
    const second = send('PATCH', onB, { headers: { ...patchHeaders(0), 'Content-Length': size }, body: trickle(0x42, size, 100) });
    const [one, two] = await Promise.all([first, second]);
    expect(one.status).toBe(204);
    expect(one.headers['upload-offset']).toBe(String(size));
    // B queued behind A's lock (the default wait, 3 s, outlasts A's 600 ms), then saw the moved offset.
    expect(two.status).toBe(409);
    const bytes = await readFile(join(dir, uploadIdOf(url)));
    expect(bytes.length).toBe(size);
    expect(bytes.every((byte) => byte === 0x41)).toBe(true);
    expect(await offsetOf(onB)).toBe(size);
  });

  it('loses no offset update when clients append through both processes at once', async () => {
    const chunk = 16 * KiB;
    const writers = 4;
    const perWriter = 6;
    const url = await createUpload(a.url, { 'Upload-Length': chunk * writers * perWriter });
    const urls = [url, url.replace(new URL(a.url).origin, new URL(b.url).origin)];

    // Each writer appends its own chunks the way a tus client resumes: HEAD for the offset, PATCH
    // there, and on 409/423 (another writer got there first) ask again.
    const writer = async (w: number) => {
      for (let n = 0; n < perWriter; n++) {
        const body = Buffer.alloc(chunk, w * perWriter + n);
        for (;;) {
          const target = urls[(w + n) % 2]!;
          const response = await send('PATCH', target, { headers: patchHeaders(await offsetOf(target)), body });
          if (response.status === 204) break;
          expect([409, 423]).toContain(response.status);
        }
      }
    };
    await Promise.all(Array.from({ length: writers }, (_, w) => writer(w)));

    expect(await offsetOf(url)).toBe(chunk * writers * perWriter);
    const bytes = await readFile(join(dir, uploadIdOf(url)));
    const seen = new Set<number>();
    for (const piece of piecesOf(bytes, chunk)) {
      expect(piece.every((byte) => byte === piece[0])).toBe(true); // one writer's chunk, whole
      seen.add(piece[0]!);
    }
    expect(seen.size).toBe(writers * perWriter); // every chunk exactly once
  });
});
