import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileCreations, writeAndRename, writeAndRenamePooled, writeAndRenameSync } from './fd.js';

const paths = {
  'on the event loop': async (temporary: string, target: string, data: string) => writeAndRenameSync(temporary, target, data),
  'through the thread pool': writeAndRenamePooled,
};

describe.each(Object.entries(paths))('writeAndRename %s', (_how, writeAndRename) => {
  it('replaces the target whole and leaves no temporary file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'write-and-rename-'));
    try {
      const target = join(dir, 'a.info');
      await writeFile(target, 'x'.repeat(1000));
      await writeAndRename(join(dir, 'a.info.1.tmp'), target, '{"offset":5}');
      expect(await readFile(target, 'utf8')).toBe('{"offset":5}');
      expect(await readdir(dir)).toEqual(['a.info']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('fails without touching the target when the temporary file cannot be written', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'write-and-rename-'));
    try {
      const target = join(dir, 'a.info');
      await writeFile(target, 'before');
      await expect(writeAndRename(join(dir, 'missing-folder', 'a.info.1.tmp'), target, 'after')).rejects.toMatchObject({ code: 'ENOENT' });
      expect(await readFile(target, 'utf8')).toBe('before');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('writeAndRename', () => {
  it('runs on the event loop while file creations are fast, through the thread pool after three slow ones', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'write-and-rename-'));
    try {
      const target = join(dir, 'a.info');
      await writeFile(target, 'old');
      // On the event loop: done by the time the call returns, before its promise is awaited.
      const onLoop = writeAndRename(join(dir, 'a.info.1.tmp'), target, 'new');
      expect(readFileSync(target, 'utf8')).toBe('new');
      await onLoop;
      for (let i = 0; i < 3; i++) fileCreations.record(3_000_000n, Date.now());
      // Through the pool: nothing has happened yet when the call returns.
      const pooled = writeAndRename(join(dir, 'a.info.2.tmp'), target, 'newer');
      expect(readFileSync(target, 'utf8')).toBe('new');
      await pooled;
      expect(await readFile(target, 'utf8')).toBe('newer');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
