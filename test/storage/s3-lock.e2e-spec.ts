import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { S3Client } from '@aws-sdk/client-s3';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { PROCESS_HOST } from '../../libs/tus/src/storage/process-identity.js';
import { acquireS3Lock } from '../../libs/tus/src/storage/s3/s3-lock.js';
import { S3Objects } from '../../libs/tus/src/storage/s3/s3-objects.js';
import { UploadLockedError } from '../../libs/tus/src/errors/tus.errors.js';
import { createTestBucket, createTestS3Client, s3ServerFromEnv } from '../support/servers/s3-server.js';

/**
 * The lock S3 writers of one upload share across processes, against a real S3 server. Another
 * process's holding is played by writing the lock object by hand, as that process would.
 */
describe('acquireS3Lock (the cross-process lock object)', () => {
  let client: S3Client;
  let bucket: { bucket: string; dispose(): Promise<void> };
  let objects: S3Objects;
  let n = 0;
  const key = () => `locks/upload-${++n}.lock`;
  /** A holder in another process (another host): never judged dead by pid, only by staleness. */
  const foreignHolder = (token: string) => JSON.stringify({ host: `${hostname()}-elsewhere`, pid: 1, token, renewedAt: Date.now() });
  const tokenOf = async (lockKey: string) => (JSON.parse((await objects.getText(lockKey)).text) as { token: string }).token;

  beforeAll(async () => {
    client = createTestS3Client(s3ServerFromEnv());
    bucket = await createTestBucket(client, 's3-lock');
    objects = new S3Objects(client, bucket.bucket);
  });
  afterAll(async () => {
    await bucket?.dispose();
    client?.destroy();
  });

  it('is exclusive: a second taker waits, and gets it once the first releases', async () => {
    const lockKey = key();
    const release = await acquireS3Lock(objects, lockKey, { timeoutMs: 5_000, staleMs: 30_000 });
    let second = false;
    const waiting = acquireS3Lock(objects, lockKey, { timeoutMs: 5_000, staleMs: 30_000 }).then((releaseSecond) => {
      second = true;
      return releaseSecond;
    });
    await sleep(300);
    expect(second).toBe(false);
    await release();
    await (await waiting)();
    expect(second).toBe(true);
    expect(await objects.exists(lockKey)).toBeNull();
  });

  it('answers 423 when a live holder keeps it past the wait', async () => {
    const lockKey = key();
    await objects.put(lockKey, foreignHolder('live'), { contentType: 'application/json' });
    // The holder renews (a new body, a new ETag) while the waiter waits: never stale.
    const renewing = setInterval(() => void objects.put(lockKey, foreignHolder('live'), { contentType: 'application/json' }), 200);
    try {
      await expect(acquireS3Lock(objects, lockKey, { timeoutMs: 1_500, staleMs: 800 })).rejects.toBeInstanceOf(UploadLockedError);
    } finally {
      clearInterval(renewing);
    }
    expect(await tokenOf(lockKey)).toBe('live');
  });

  it('takes over a lock whose holder stopped renewing it, judged by the waiter’s own clock', async () => {
    const lockKey = key();
    // renewedAt far in the future (a holder whose clock is ahead): staleness must not trust it.
    await objects.put(lockKey, JSON.stringify({ host: 'elsewhere', pid: 1, token: 'gone', renewedAt: Date.now() + 3_600_000 }), {
      contentType: 'application/json',
    });
    const release = await acquireS3Lock(objects, lockKey, { timeoutMs: 5_000, staleMs: 800 });
    expect(await tokenOf(lockKey)).not.toBe('gone');
    await release();
    expect(await objects.exists(lockKey)).toBeNull();
  });

  it('takes over at once a lock this process left behind (its release could not delete it)', async () => {
    const lockKey = key();
    await objects.put(lockKey, JSON.stringify({ host: PROCESS_HOST, pid: process.pid, token: 'left-behind', renewedAt: Date.now() }), {
      contentType: 'application/json',
    });
    // staleMs of a minute: only knowing its own holdings lets the process take it within the wait.
    const release = await acquireS3Lock(objects, lockKey, { timeoutMs: 3_000, staleMs: 60_000 });
    expect(await tokenOf(lockKey)).not.toBe('left-behind');
    await release();
  });

  it('does not delete a lock another process has taken over since', async () => {
    const lockKey = key();
    const release = await acquireS3Lock(objects, lockKey, { timeoutMs: 5_000, staleMs: 30_000 });
    // Another process judged this holding stale and took it over (as after a long S3 outage).
    await objects.put(lockKey, foreignHolder('successor'), { contentType: 'application/json' });
    await release();
    expect(await tokenOf(lockKey)).toBe('successor');
  });
});
