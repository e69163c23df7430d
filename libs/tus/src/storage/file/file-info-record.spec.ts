import { describe, expect, it } from '@jest/globals';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { UploadInfo } from '../../protocol/upload-info.js';
import { fileCreations } from './fd.js';
import { FileInfoRecord } from './file-info-record.js';
import { FilePaths } from './file-paths.js';

const upload = (offset: number): UploadInfo => ({
  id: 'abc',
  length: 10,
  offset,
  metadata: { name: 'a.txt' },
  metadataHeader: 'name YS50eHQ=',
  createdAt: new Date('2026-01-01T00:00:00Z'),
  expiresAt: null,
  completedAt: null,
  concat: null,
  storage: { type: 'file', path: '/x/abc' },
});

async function inFolder(test: (record: FileInfoRecord, folder: string) => Promise<void>): Promise<void> {
  const folder = await mkdtemp(join(tmpdir(), 'file-info-record-'));
  try {
    await test(new FileInfoRecord(new FilePaths(folder)), folder);
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

// The event loop first, then the thread pool: three slow creations send saves there for 10 s.
describe.each([
  ['on the event loop', () => undefined],
  ['through the thread pool', () => [1, 2, 3].forEach(() => fileCreations.record(3_000_000n, Date.now()))],
])('FileInfoRecord.save %s', (_where, arrange) => {
  it('replaces .info whole and leaves no temporary file', async () => {
    arrange();
    await inFolder(async (record, folder) => {
      await record.save(upload(0));
      await record.save(upload(7));
      expect((await record.read('abc')).offset).toBe(7);
      expect(await readdir(folder)).toEqual(['abc.info']);
    });
  });

  it('removes its temporary file when the rename fails, and says why', async () => {
    arrange();
    await inFolder(async (record, folder) => {
      // A folder where .info belongs: the temporary file is written, its rename refused.
      await mkdir(join(folder, 'abc.info'));
      await expect(record.save(upload(3))).rejects.toMatchObject({ code: 'EISDIR' });
      expect(await readdir(folder)).toEqual(['abc.info']);
    });
  });
});
