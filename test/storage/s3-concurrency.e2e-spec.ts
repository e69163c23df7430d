import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { S3StorageBackend } from '../../libs/tus/src/storage/s3/s3-storage.backend.js';
import { InvalidRequestError, OffsetMismatchError } from '../../libs/tus/src/errors/tus.errors.js';
import type { UploadInfo } from '../../libs/tus/src/protocol/upload-info.js';
import { chunkFrom, readAll } from '../support/storage/backend-io.js';
import { keysUnder, multipartUploadsUnder } from '../support/storage/s3-inspection.js';
import { MiB } from '../support/bytes.js';
import { createTestBucket, createTestS3Client, s3ServerFromEnv } from '../support/servers/s3-server.js';
import { newUpload } from '../support/storage/storage-backend.suite.js';

const PART = 5 * MiB;
const server = s3ServerFromEnv();
// Two clients and two backends on one bucket and prefix: what two processes behind a load balancer have.
const clients = [createTestS3Client(server), createTestS3Client(server)] as const;
let bucket: string;
let disposeBucket: () => Promise<void>;
let one: S3StorageBackend;
let two: S3StorageBackend;

beforeAll(async () => {
  ({ bucket, dispose: disposeBucket } = await createTestBucket(clients[0], 's3-race'));
  [one, two] = clients.map((client) => new S3StorageBackend({ client, bucket, keyPrefix: 'race/', partSize: PART })) as [
    S3StorageBackend,
    S3StorageBackend,
  ];
});
afterAll(async () => {
  await disposeBucket();
  clients.forEach((client) => client.destroy());
});

/** Settles racing calls and returns the winner's value and the loser's error; fails unless exactly one won. */
async function race<T>(calls: Array<Promise<T>>): Promise<{ winner: T; winnerIndex: number; loserError: unknown }> {
  const results = await Promise.allSettled(calls);
  const won = results.flatMap((result, index) => (result.status === 'fulfilled' ? [{ value: result.value, index }] : []));
  const lost = results.flatMap((result) => (result.status === 'rejected' ? [result.reason as unknown] : []));
  expect(won).toHaveLength(1);
  expect(lost).toHaveLength(1);
  return { winner: won[0]!.value, winnerIndex: won[0]!.index, loserError: lost[0] };
}

async function expectOnlyFinalObjects(upload: UploadInfo): Promise<void> {
  expect(await keysUnder(clients[0], bucket, `race/${upload.id}`)).toEqual([`race/${upload.id}`, `race/${upload.id}.info`]);
  expect(await multipartUploadsUnder(clients[0], bucket, `race/${upload.id}`)).toEqual([]);
}

describe('S3StorageBackend: two processes on one upload', () => {
  it('create() racing on one id: If-None-Match lets exactly one create it', async () => {
    for (let round = 0; round < 5; round++) {
      const upload = newUpload(10);
      const { winnerIndex, loserError } = await race([
        one.create({ ...upload, metadata: { by: 'one' } }),
        two.create({ ...upload, metadata: { by: 'two' } }),
      ]);
      expect(loserError).toBeInstanceOf(InvalidRequestError);
      expect((await one.get(upload.id)).metadata).toEqual({ by: winnerIndex === 0 ? 'one' : 'two' });
    }
  });

  it('write() racing on one upload (a client retry): one wins, the other gets 409, the upload stays intact', async () => {
    for (const [lengthOne, lengthTwo] of [
      [2.5 * PART, 1.5 * PART],
      [PART + 7, 3 * PART],
      [MiB, 2 * MiB],
    ]) {
      const data = randomBytes(4 * PART + 123);
      const created = await one.create(newUpload(data.length));
      const [seenByOne, seenByTwo] = await Promise.all([one.get(created.id), two.get(created.id)]);
      const { winner, loserError } = await race([
        one.write(seenByOne, chunkFrom(data.subarray(0, lengthOne))),
        two.write(seenByTwo, chunkFrom(data.subarray(0, lengthTwo))),
      ]);
      expect(loserError).toBeInstanceOf(OffsetMismatchError);
      expect((loserError as OffsetMismatchError).status).toBe(409);
      expect([lengthOne, lengthTwo]).toContain(winner.offset);
      // Both processes see the winner's offset, and either can finish the upload.
      const now = await two.get(created.id);
      expect(now.offset).toBe(winner.offset);
      expect((await one.get(created.id)).offset).toBe(winner.offset);
      const done = await two.write(now, chunkFrom(data.subarray(now.offset)));
      expect(done.completedAt).toBeInstanceOf(Date);
      expect((await readAll(one, done)).equals(data)).toBe(true);
      await expectOnlyFinalObjects(done);
    }
  });

  it('write() racing with different bytes short of a part: the winner’s bytes only, never a mix', async () => {
    for (let round = 0; round < 3; round++) {
      const created = await one.create(newUpload(PART + 10));
      const bytes = [randomBytes(MiB), randomBytes(2 * MiB)];
      const [seenByOne, seenByTwo] = await Promise.all([one.get(created.id), two.get(created.id)]);
      const { winner, winnerIndex } = await race([
        one.write(seenByOne, chunkFrom(bytes[0]!)),
        two.write(seenByTwo, chunkFrom(bytes[1]!)),
      ]);
      const rest = randomBytes(PART + 10 - winner.offset);
      const done = await one.write(await one.get(created.id), chunkFrom(rest));
      expect((await readAll(one, done)).equals(Buffer.concat([bytes[winnerIndex]!, rest]))).toBe(true);
      await expectOnlyFinalObjects(done);
    }
  });

  it('refuses with 409 a write from a state another process has moved on from, changing nothing', async () => {
    const data = randomBytes(3 * PART);
    const created = await one.create(newUpload(data.length));
    const stale = await two.get(created.id);
    const moved = await one.write(await one.get(created.id), chunkFrom(data.subarray(0, MiB)));
    const pendingBefore = await keysUnder(clients[0], bucket, `race/${created.id}.pending`);
    // Short of a part, then across parts (on a multipart upload of its own, which it aborts).
    await expect(two.write(stale, chunkFrom(randomBytes(MiB)))).rejects.toBeInstanceOf(OffsetMismatchError);
    await expect(two.write(stale, chunkFrom(randomBytes(2 * PART)))).rejects.toBeInstanceOf(OffsetMismatchError);
    await expect(two.update(stale, { expiresAt: null })).rejects.toBeInstanceOf(OffsetMismatchError);
    expect((await two.get(created.id)).offset).toBe(MiB);
    expect(await keysUnder(clients[0], bucket, `race/${created.id}.pending`)).toEqual(pendingBefore);
    expect(await multipartUploadsUnder(clients[0], bucket, `race/${created.id}`)).toEqual([]);
    const done = await two.write(await two.get(created.id), chunkFrom(data.subarray(MiB)));
    expect(done.offset).toBe(moved.offset + data.length - MiB);
    expect((await readAll(two, done)).equals(data)).toBe(true);
  });

  it('recovers when racers send different whole parts: the loser’s overwrites are found and resent', async () => {
    // The loser's parts land on the same part numbers of the shared multipart upload, possibly
    // after the winner's: before assembling, the recorded ETags are checked against the parts S3
    // holds, the offset goes back to the first overwritten part (409), and the client resends.
    const outcomes: string[] = [];
    for (let round = 0; round < 3; round++) {
      const head = randomBytes(PART);
      const created = await one.create(newUpload(4 * PART));
      await one.write(created, chunkFrom(head));
      const bytes = [randomBytes(2 * PART), randomBytes(2 * PART)];
      const [seenByOne, seenByTwo] = await Promise.all([one.get(created.id), two.get(created.id)]);
      const { winnerIndex } = await race([
        one.write(seenByOne, chunkFrom(bytes[0]!)),
        two.write(seenByTwo, chunkFrom(bytes[1]!)),
      ]);
      const expected = Buffer.concat([head, bytes[winnerIndex]!, randomBytes(PART)]);
      let upload = await one.get(created.id);
      for (let attempt = 0; upload.completedAt === null; attempt++) {
        expect(attempt).toBeLessThan(3);
        try {
          upload = await one.write(upload, chunkFrom(expected.subarray(upload.offset)));
        } catch (error) {
          expect(error).toBeInstanceOf(OffsetMismatchError);
          upload = await one.get(created.id);
          outcomes.push(`rolled back to ${upload.offset / MiB} MiB`);
        }
      }
      expect((await readAll(one, upload)).equals(expected)).toBe(true);
      await expectOnlyFinalObjects(upload);
      outcomes.push('completed');
    }
    console.log(`different whole parts racing, 3 rounds: ${outcomes.join(', ')}`);
  });
});
