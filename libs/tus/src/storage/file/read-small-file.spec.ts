import { describe, expect, it } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSmallFile, readSmallFileSync } from './read-small-file.js';

describe('readSmallFile', () => {
  it.each([
    ['empty', ''],
    ['an .info of a few hundred bytes', JSON.stringify({ id: 'x', offset: 12, metadata: { name: 'naïve.txt' } })],
    // Past the first read's 16 KiB (a long Upload-Metadata): read on, not cut at the buffer's size.
    ['40 KiB', 'é'.repeat(20 * 1024)],
    ['exactly 16 KiB', 'a'.repeat(16 * 1024)],
  ])('reads %s whole, on the event loop and through the promise', async (_name, text) => {
    const dir = await mkdtemp(join(tmpdir(), 'read-small-file-'));
    try {
      const path = join(dir, 'f.info');
      await writeFile(path, text);
      expect(readSmallFileSync(path)).toBe(text);
      expect(await readSmallFile(path)).toBe(text);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rejects a missing file with ENOENT (the caller turns it into 404)', async () => {
    await expect(readSmallFile(join(tmpdir(), 'no-such-dir-read-small-file', 'x.info'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
