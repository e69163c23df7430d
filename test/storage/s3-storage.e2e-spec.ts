import { CreateMultipartUploadCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { Transform } from 'node:stream';
import { S3StorageBackend, type S3StorageOptions } from '../../libs/tus/src/storage/s3/s3-storage.backend.js';
import { ChecksumMismatchError, PayloadTooLargeError, TusOptionsError, UploadNotFoundError } from '../../libs/tus/src/errors/tus.errors.js';
import type { UploadInfo } from '../../libs/tus/src/protocol/upload-info.js';
import { chunkFrom, readAll } from '../support/storage/backend-io.js';
import { etagOf, keysUnder, multipartUploadsUnder } from '../support/storage/s3-inspection.js';
import { MiB } from '../support/bytes.js';
import { createTestBucket, createTestS3Client, s3ServerFromEnv } from '../support/servers/s3-server.js';
import { newUpload } from '../support/storage/storage-backend.suite.js';

const PART = 5 * MiB;
const client = createTestS3Client(s3ServerFromEnv());
let bucket: string;
let disposeBucket: () => Promise<void>;

beforeAll(async () => {
  ({ bucket, dispose: disposeBucket } = await createTestBucket(client, 's3-storage'));
});
afterAll(async () => {
  await disposeBucket();
  client.destroy();
});

function backendWith(options: Partial<S3StorageOptions> = {}): S3StorageBackend {
  return new S3StorageBackend({ client, bucket, keyPrefix: 'uploads/', partSize: PART, ...options });
}

/** Keys of one upload, without the random suffix of its pending object. */
async function objectsOf(upload: UploadInfo, prefix = 'uploads/'): Promise<string[]> {
  const keys = await keysUnder(client, bucket, `${prefix}${upload.id}`);
  return keys.map((key) => key.slice(prefix.length + upload.id.length).replace(/^\.pending\..*$/, '.pending'));
}

describe('S3StorageBackend: options and start-up', () => {
  it('refuses a part size under 5 MiB and a part count over 10,000', () => {
    expect(() => backendWith({ partSize: PART - 1 })).toThrow(TusOptionsError);
    expect(() => backendWith({ maxParts: 10_001 })).toThrow(TusOptionsError);
  });

  it('fails init() with a clear message when the bucket does not exist', async () => {
    await expect(new S3StorageBackend({ client, bucket: `missing-${randomBytes(4).toString('hex')}` }).init()).rejects.toThrow(
      /cannot use bucket "missing-[0-9a-f]+".*create the bucket/,
    );
    await expect(backendWith().init()).resolves.toBeUndefined();
  });
});

describe('S3StorageBackend: the rolling buffer', () => {
  let backend: S3StorageBackend;
  beforeAll(() => {
    backend = backendWith();
  });

  it.each([
    ['1 byte', [1, 1, 1, PART - 3, 1, PART - 1, 1]],
    ['4 MiB', [4 * MiB, 4 * MiB, 4 * MiB, 4 * MiB, MiB + 7]],
    ['exactly one part', [PART, PART, PART]],
    ['3.5 parts', [3.5 * PART, 3.5 * PART, 0.5 * PART + 10]],
    ['mixed', [1, 4 * MiB, PART, 3.5 * PART, 17]],
  ])('stores PATCHes of %s', async (_name, sizes) => {
    const data = randomBytes(sizes.reduce((sum, size) => sum + size, 0));
    let upload = await backend.create(newUpload(data.length));
    let offset = 0;
    for (const size of sizes) {
      upload = await backend.write(upload, chunkFrom(data.subarray(offset, offset + size)));
      offset += size;
      expect(upload.offset).toBe(offset);
      // Another instance (another process) sees the same state.
      expect((await backendWith().get(upload.id)).offset).toBe(offset);
      const pending = (await objectsOf(upload)).filter((key) => key === '.pending');
      expect(pending).toHaveLength(offset % PART !== 0 && offset < data.length ? 1 : 0);
    }
    expect(upload.completedAt).toBeInstanceOf(Date);
    expect(await objectsOf(upload)).toEqual(['', '.info']);
    expect(await multipartUploadsUnder(client, bucket, `uploads/${upload.id}`)).toEqual([]);
    const stored = await readAll(backend, upload);
    expect(stored.length).toBe(data.length);
    expect(stored.equals(data)).toBe(true);
    // Every part but the last is whole: S3 assembled ceil(length / part size) parts.
    expect(await etagOf(client, bucket, `uploads/${upload.id}`)).toMatch(new RegExp(`-${Math.ceil(data.length / PART)}"$`));
  });

  it('reads byte ranges of a completed upload', async () => {
    const data = randomBytes(PART + 100);
    const upload = await backend.write(await backend.create(newUpload(data.length)), chunkFrom(data));
    expect((await readAll(backend, upload, { start: PART - 2, end: PART + 1 })).equals(data.subarray(PART - 2, PART + 2))).toBe(true);
    expect((await readAll(backend, upload, { start: PART + 90 })).equals(data.subarray(PART + 90))).toBe(true);
    expect((await readAll(backend, upload, { end: 4 })).equals(data.subarray(0, 5))).toBe(true);
  });

  it('completes uploads smaller than one part with a plain PutObject, and empty ones', async () => {
    const data = randomBytes(1000);
    let upload = await backend.create(newUpload(data.length));
    upload = await backend.write(upload, chunkFrom(data.subarray(0, 1)));
    upload = await backend.write(upload, chunkFrom(data.subarray(1, 500)));
    expect(await multipartUploadsUnder(client, bucket, `uploads/${upload.id}`)).toEqual([]);
    upload = await backend.write(upload, chunkFrom(data.subarray(500)));
    expect(upload.completedAt).toBeInstanceOf(Date);
    expect((await readAll(backend, upload)).equals(data)).toBe(true);
    expect(await etagOf(client, bucket, `uploads/${upload.id}`)).not.toMatch(/-\d+"$/);
    expect(await objectsOf(upload)).toEqual(['', '.info']);

    let empty = await backend.create(newUpload(0));
    empty = await backend.write(empty, chunkFrom(Buffer.alloc(0)));
    expect(empty.completedAt).toBeInstanceOf(Date);
    expect((await backend.get(empty.id)).completedAt).toBeInstanceOf(Date);
    expect((await readAll(backend, empty)).length).toBe(0);
    expect(await objectsOf(empty)).toEqual(['', '.info']);
  });

  it('writes an upload handed over as a copy of its state (no remembered ETag)', async () => {
    const data = randomBytes(PART + 3);
    const upload = await backend.create(newUpload(data.length));
    const first = await backend.write({ ...upload }, chunkFrom(data.subarray(0, 10)));
    const done = await backend.write({ ...first }, chunkFrom(data.subarray(10)));
    expect((await readAll(backend, done)).equals(data)).toBe(true);
    // A copy with an offset that is not the stored one is refused.
    await expect(backend.write({ ...upload, completedAt: null, offset: 0 }, chunkFrom(data))).rejects.toMatchObject({ status: 409 });
  });
});

describe('S3StorageBackend: failed and interrupted requests', () => {
  let backend: S3StorageBackend;
  beforeAll(() => {
    backend = backendWith();
  });

  it('keeps the bytes of an interrupted body (parts and pending), and the next write continues there', async () => {
    const data = randomBytes(3 * PART);
    let upload = await backend.create(newUpload(data.length));
    const cut = PART + 2 * MiB + 5;
    await expect(backend.write(upload, chunkFrom(data, { failAfter: cut }))).rejects.toThrow('connection reset');
    upload = await backend.get(upload.id);
    expect(upload.offset).toBe(cut);
    expect(await objectsOf(upload)).toEqual(['.info', '.pending']);
    upload = await backend.write(upload, chunkFrom(data.subarray(cut)));
    expect(upload.completedAt).toBeInstanceOf(Date);
    expect((await readAll(backend, upload)).equals(data)).toBe(true);
  });

  it('discards an interrupted body that must be verified whole, leaving .pending as it was', async () => {
    const data = randomBytes(3 * PART);
    let upload = await backend.create(newUpload(data.length));
    upload = await backend.write(upload, chunkFrom(data.subarray(0, 2 * MiB)));
    const pendingBefore = await keysUnder(client, bucket, `uploads/${upload.id}.pending`);
    await expect(
      backend.write(upload, chunkFrom(data.subarray(2 * MiB), { failAfter: PART + MiB, keepOnInterrupt: false })),
    ).rejects.toThrow('connection reset');
    upload = await backend.get(upload.id);
    expect(upload.offset).toBe(2 * MiB);
    expect(await keysUnder(client, bucket, `uploads/${upload.id}.pending`)).toEqual(pendingBefore);
    upload = await backend.write(upload, chunkFrom(data.subarray(2 * MiB)));
    expect((await readAll(backend, upload)).equals(data)).toBe(true);
  });

  it('leaves offset, parts and .pending unchanged when verify() throws (checksum mismatch)', async () => {
    const data = randomBytes(4 * PART);
    let upload = await backend.create(newUpload(data.length));
    upload = await backend.write(upload, chunkFrom(data.subarray(0, PART + 3 * MiB)));
    const before = await backend.get(upload.id);
    const pendingBefore = await keysUnder(client, bucket, `uploads/${upload.id}.pending`);
    // Different bytes across two part boundaries: parts are uploaded, then the digest fails.
    const wrong = randomBytes(2 * PART);
    await expect(
      backend.write(before, chunkFrom(wrong, { verify: async () => Promise.reject(new ChecksumMismatchError()) })),
    ).rejects.toBeInstanceOf(ChecksumMismatchError);
    upload = await backend.get(upload.id);
    expect(upload.offset).toBe(before.offset);
    expect(await keysUnder(client, bucket, `uploads/${upload.id}.pending`)).toEqual(pendingBefore);
    // The retry with the right bytes overwrites the parts the failed request uploaded.
    upload = await backend.write(upload, chunkFrom(data.subarray(upload.offset)));
    expect(upload.completedAt).toBeInstanceOf(Date);
    expect((await readAll(backend, upload)).equals(data)).toBe(true);
  });

  it('keeps nothing when a stage fails with a protocol error, even mid-way through parts', async () => {
    const data = randomBytes(3 * PART);
    let upload = await backend.create(newUpload(data.length));
    let seen = 0;
    const limit = new Transform({
      transform(piece: Buffer, _encoding, callback) {
        seen += piece.length;
        callback(seen > 2 * PART ? new PayloadTooLargeError('too much') : null, piece);
      },
    });
    await expect(backend.write(upload, chunkFrom(data, { stages: [limit] }))).rejects.toBeInstanceOf(PayloadTooLargeError);
    upload = await backend.get(upload.id);
    expect(upload.offset).toBe(0);
    // The multipart upload this request started was aborted with it.
    expect(await multipartUploadsUnder(client, bucket, `uploads/${upload.id}`)).toEqual([]);
    expect(await objectsOf(upload)).toEqual(['.info']);
  });
});

describe('S3StorageBackend: part size and part count', () => {
  it('grows the part size when the length needs more than maxParts parts', async () => {
    const backend = backendWith({ maxParts: 3 });
    const data = randomBytes(20 * MiB);
    const upload = await backend.write(await backend.create(newUpload(data.length)), chunkFrom(data));
    expect((await readAll(backend, upload)).equals(data)).toBe(true);
    // 7 MiB parts: 7 + 7 + 6
    expect(await etagOf(client, bucket, `uploads/${upload.id}`)).toMatch(/-3"$/);
  });

  it('refuses with 413, storing nothing, a length beyond maxParts parts of 5 GiB', async () => {
    const backend = backendWith({ maxParts: 2 });
    const upload = newUpload(2 * 5 * 1024 * MiB + 1);
    await expect(backend.create(upload)).rejects.toBeInstanceOf(PayloadTooLargeError);
    await expect(backend.get(upload.id)).rejects.toBeInstanceOf(UploadNotFoundError);
  });

  it('refuses with 413 the bytes of a deferred-length upload past maxParts parts, keeping none', async () => {
    const backend = backendWith({ maxParts: 2 });
    const upload = await backend.create(newUpload(null));
    await expect(backend.write(upload, chunkFrom(randomBytes(2 * PART + 1)))).rejects.toBeInstanceOf(PayloadTooLargeError);
    expect((await backend.get(upload.id)).offset).toBe(0);
    expect(await multipartUploadsUnder(client, bucket, `uploads/${upload.id}`)).toEqual([]);
  });

  it('grows the part size of the remaining parts when a deferred length is declared', async () => {
    const backend = backendWith({ maxParts: 3 });
    const data = randomBytes(PART + 16 * MiB);
    let upload = await backend.create(newUpload(null));
    upload = await backend.write(upload, chunkFrom(data.subarray(0, PART + 1)));
    // 16 MiB left for 2 part numbers: 8 MiB parts (the 5 MiB default would need 4).
    upload = await backend.update(upload, { length: data.length });
    upload = await backend.write(upload, chunkFrom(data.subarray(PART + 1)));
    expect(upload.completedAt).toBeInstanceOf(Date);
    expect((await readAll(backend, upload)).equals(data)).toBe(true);
    expect(await etagOf(client, bucket, `uploads/${upload.id}`)).toMatch(/-3"$/);
  });

  it('declares a deferred length with write() changes and completes', async () => {
    const backend = backendWith();
    const data = randomBytes(PART + 10);
    let upload = await backend.create(newUpload(null));
    upload = await backend.write(upload, chunkFrom(data.subarray(0, 7)));
    upload = await backend.write(upload, chunkFrom(data.subarray(7)), { length: data.length });
    expect(upload).toMatchObject({ length: data.length, offset: data.length });
    expect(upload.completedAt).toBeInstanceOf(Date);
    expect((await readAll(backend, upload)).equals(data)).toBe(true);
  });
});

describe('S3StorageBackend: list, update, remove', () => {
  it('lists the uploads under its prefix only, with their state', async () => {
    const backend = backendWith({ keyPrefix: 'listed/' });
    const other = backendWith({ keyPrefix: 'listed-not/' });
    const a = await backend.create(newUpload(PART + 1));
    await backend.write(a, chunkFrom(randomBytes(PART - 1)));
    const b = await backend.write(await backend.create(newUpload(3)), chunkFrom(Buffer.from('abc')));
    await other.create(newUpload(3));
    const listed: UploadInfo[] = [];
    for await (const upload of backend.list()) listed.push(upload);
    expect(listed.map((upload) => upload.id).sort()).toEqual([a.id, b.id].sort());
    expect(listed.find((upload) => upload.id === a.id)?.offset).toBe(PART - 1);
  });

  it('persists update() changes (expiry) conditionally', async () => {
    const backend = backendWith();
    const upload = await backend.create(newUpload(10));
    const expiresAt = new Date(Date.now() + 3_600_000);
    const updated = await backend.update(upload, { expiresAt });
    expect((await backend.get(upload.id)).expiresAt?.getTime()).toBe(expiresAt.getTime());
    // The state read before that update is stale now.
    await expect(backend.update(upload, { expiresAt: null })).rejects.toMatchObject({ status: 409 });
    await expect(backend.update(updated, { expiresAt: null })).resolves.toMatchObject({ expiresAt: null });
  });

  it.each([
    ['in progress (multipart upload, parts and pending bytes)', 2 * PART + 3],
    ['completed', 3 * PART],
    ['small and in progress', 100],
  ])('removes every object of an upload %s', async (_name, written) => {
    const backend = backendWith();
    let upload = await backend.create(newUpload(3 * PART));
    upload = await backend.write(upload, chunkFrom(randomBytes(written)));
    // A discarded request's parts, on a multipart upload of its own or on the upload's one.
    await backend
      .write(upload, chunkFrom(randomBytes(PART), { verify: async () => Promise.reject(new ChecksumMismatchError()) }))
      .catch(() => undefined);
    // And one left by a process that crashed mid-request.
    await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: `uploads/${upload.id}` }));
    expect((await objectsOf(upload)).length).toBeGreaterThan(0);
    await backend.remove(upload);
    await expect(backend.get(upload.id)).rejects.toBeInstanceOf(UploadNotFoundError);
    expect(await keysUnder(client, bucket, `uploads/${upload.id}`)).toEqual([]);
    expect(await multipartUploadsUnder(client, bucket, `uploads/${upload.id}`)).toEqual([]);
  });
});

describe('S3StorageBackend: answers lost on the way back', () => {
  /**
   * A client whose first `.info` PutObject reaches S3 and is applied, and whose answer is then
   * lost (a TimeoutError, as when the connection is cut mid-answer): the SDK retries the write,
   * and the retry's condition fails against the first attempt's own write.
   */
  function clientLosingFirstInfoAnswer(): { client: S3Client; lost: () => number; refusedRetries: () => number } {
    const lossy = createTestS3Client(s3ServerFromEnv());
    let lost = 0;
    let refusedRetries = 0;
    lossy.middlewareStack.add(
      (next, context) => async (args) => {
        const key = (args.input as { Key?: string }).Key ?? '';
        const result = await next(args);
        // The SDK's retry of the write whose answer was lost, refused by S3: its condition failed.
        if (lost === 1 && (result.response as { statusCode?: number }).statusCode === 412) refusedRetries++;
        if (context.commandName === 'PutObjectCommand' && key.endsWith('.info') && lost === 0) {
          lost++;
          throw Object.assign(new Error('the answer was lost'), { name: 'TimeoutError' });
        }
        return result;
      },
      // Inside the SDK's retry loop: each attempt is sent, and its answer lost, separately.
      { step: 'deserialize', name: 'loseFirstInfoAnswer' },
    );
    return { client: lossy, lost: () => lost, refusedRetries: () => refusedRetries };
  }

  it('a creation whose answer was lost is the upload it created, not a 400 "already exists"', async () => {
    const { client: lossy, lost, refusedRetries } = clientLosingFirstInfoAnswer();
    try {
      const backend = new S3StorageBackend({ client: lossy, bucket, keyPrefix: 'uploads/', partSize: PART });
      const upload = await backend.create(newUpload(10));
      expect(lost()).toBe(1);
      expect(refusedRetries()).toBe(1);
      const written = await backend.write(upload, chunkFrom(Buffer.from('0123456789')));
      expect(written.completedAt).not.toBeNull();
      expect((await readAll(backend, written)).toString()).toBe('0123456789');
    } finally {
      lossy.destroy();
    }
  });

  it('an update whose answer was lost is taken for the write it was', async () => {
    const backend = backendWith();
    const upload = await backend.create(newUpload(10));
    const { client: lossy, lost, refusedRetries } = clientLosingFirstInfoAnswer();
    try {
      const expiresAt = new Date(Date.now() + 3_600_000);
      const updated = await new S3StorageBackend({ client: lossy, bucket, keyPrefix: 'uploads/', partSize: PART }).update(upload, { expiresAt });
      expect(lost()).toBe(1);
      expect(refusedRetries()).toBe(1);
      expect((await backend.get(upload.id)).expiresAt?.getTime()).toBe(expiresAt.getTime());
      expect(updated.expiresAt?.getTime()).toBe(expiresAt.getTime());
    } finally {
      lossy.destroy();
    }
  });

  it('a completion while S3 is out of reach is a 503 to retry, and the retry completes', async () => {
    const backend = backendWith();
    const data = randomBytes(PART + 10);
    const upload = await backend.create(newUpload(data.length));
    const unreachable = createTestS3Client(s3ServerFromEnv(), { maxAttempts: 1 });
    unreachable.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'CompleteMultipartUploadCommand') throw Object.assign(new Error('connect timed out'), { name: 'TimeoutError' });
        return next(args);
      },
      { step: 'deserialize', name: 'completionUnreachable' },
    );
    try {
      const failing = new S3StorageBackend({ client: unreachable, bucket, keyPrefix: 'uploads/', partSize: PART });
      await expect(failing.write(await failing.get(upload.id), chunkFrom(data))).rejects.toMatchObject({ status: 503 });
    } finally {
      unreachable.destroy();
    }
    const now = await backend.get(upload.id);
    const done = await backend.write(now, chunkFrom(data.subarray(now.offset)));
    expect(done.completedAt).not.toBeNull();
    expect((await readAll(backend, done)).equals(data)).toBe(true);
  });
});
