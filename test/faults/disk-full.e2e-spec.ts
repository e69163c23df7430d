import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rm, stat, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { MiB } from '../support/bytes.js';
import { createUpload, head, OFFSET_OCTET_STREAM, patchHeaders, send, storedBytes, TUS, uploadIdOf } from '../support/http/requests.js';
import { mountTmpfs, type SmallFileSystem } from '../support/storage/tmpfs.js';
import { PLATFORMS, startTusApp, type RunningApp } from '../support/apps/tus-app.js';

/** The file system's size: room for the upload below with a filler beside it. */
const FS_SIZE = 16 * MiB;

/** Bytes still free on the file system of `path`. */
async function freeBytes(path: string): Promise<number> {
  const { bavail, bsize } = await statfs(path);
  return bavail * bsize;
}

/** Takes all but `leave` bytes of the free space with one file; `leave` 0 fills it to the last block. */
async function fill(path: string, leave: number): Promise<void> {
  const handle = await open(path, 'w');
  try {
    const block = Buffer.alloc(64 * 1024);
    for (;;) {
      const room = (await freeBytes(path)) - leave;
      if (room <= 0) break;
      try {
        await handle.write(block, 0, Math.min(block.length, room));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOSPC') break;
        throw error;
      }
    }
  } finally {
    await handle.close();
  }
}

describe.each(PLATFORMS)('the file backend on a full disk (%s)', (platform) => {
  let disk: SmallFileSystem;
  let app: RunningApp;
  let dir: string;
  const filler = () => join(disk.path, 'filler.bin');
  /** What the folder holds besides the owner file of the process's locks. */
  const uploadFiles = async () => (await readdir(dir)).filter((name) => !name.startsWith('.tus-lock-owner-')).sort();

  beforeAll(async () => {
    disk = await mountTmpfs(FS_SIZE);
    dir = join(disk.path, 'uploads');
    await mkdir(dir);
    app = await startTusApp({ uploadDir: dir }, { platform });
  });
  afterAll(async () => {
    await app?.close();
    await disk?.unmount();
  });

  it('answers 507 to a PATCH that fills the disk, keeps the offset equal to the data file, and resumes once space is freed', async () => {
    const source = randomBytes(8 * MiB);
    const url = await createUpload(app.url, { 'Upload-Length': source.length });
    const id = uploadIdOf(url);
    expect((await send('PATCH', url, { headers: patchHeaders(0), body: source.subarray(0, MiB) })).status).toBe(204);

    await fill(filler(), 2 * MiB);
    const warnings = jest.spyOn(Logger.prototype, 'warn');
    let logged: string[] = [];
    const full = await send('PATCH', url, { headers: patchHeaders(MiB), body: source.subarray(MiB) }).finally(() => {
      logged = warnings.mock.calls.map(([message]) => String(message));
      warnings.mockRestore();
    });
    expect(full.status).toBe(507);
    // The operator's line: the request, the reason, and which limit the system hit.
    expect(logged).toContainEqual(
      expect.stringMatching(/^PATCH \/files\/\S+: Insufficient storage: .+ \[ENOSPC\]$/),
    );
    expect(full.text.trim()).toMatch(/^Insufficient storage: .+/);
    expect(full.text.trim().split('\n')).toHaveLength(1);

    const state = await head(url);
    expect(state.status).toBe(200);
    const offset = Number(state.headers['upload-offset']);
    expect(offset).toBeGreaterThanOrEqual(MiB);
    expect(offset).toBe((await stat(join(dir, id))).size);
    // Nothing half-written left behind (a `.info` replacement that did not fit).
    expect(await uploadFiles()).toEqual([id, `${id}.info`]);

    await rm(filler());
    const resumed = await send('PATCH', url, { headers: patchHeaders(offset), body: source.subarray(offset) });
    expect(resumed.status).toBe(204);
    expect(resumed.headers['upload-offset']).toBe(String(source.length));
    expect((await storedBytes(url)).equals(source)).toBe(true);
    expect((await send('DELETE', url, { headers: TUS })).status).toBe(204);
    console.log(`${platform}: PATCH of ${(source.length - MiB) / MiB} MiB with 2 MiB free: ${full.status} "${full.text.trim()}", offset kept at ${offset}; resumed: ${resumed.status}`);
  });

  it('answers 507 to a creation on a full disk, with or without a first chunk, and leaves no half-made upload', async () => {
    await fill(filler(), 0);
    const before = await uploadFiles();
    const bare = await send('POST', app.url, { headers: { ...TUS, 'Upload-Length': 1000 } });
    const withBody = await send('POST', app.url, {
      headers: { ...TUS, 'Upload-Length': 300_000, 'Content-Type': OFFSET_OCTET_STREAM },
      body: randomBytes(300_000),
    });
    expect([bare.status, withBody.status]).toEqual([507, 507]);
    expect(bare.text).toMatch(/^Insufficient storage: /);
    expect(await uploadFiles()).toEqual(before);

    await rm(filler());
    const url = await createUpload(app.url, { 'Upload-Length': 10 });
    expect((await send('PATCH', url, { headers: patchHeaders(0), body: Buffer.from('0123456789') })).status).toBe(204);
  });
});
