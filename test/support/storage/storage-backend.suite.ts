import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { Transform } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  generateUploadIdForTests,
  type NewUpload,
  PayloadTooLargeError,
  type TusStorageBackend,
  type UploadInfo,
  UploadLockedError,
  UploadNotFoundError,
} from './storage-backend.fixtures.js';
import { chunkOf, readAll } from './backend-io.js';

/** A backend with every optional capability, as the suite tests them all. */
export type CapableBackend = TusStorageBackend & Required<Pick<TusStorageBackend, 'concatenate' | 'lock' | 'list'>>;

/** A backend under test, and how to dispose of it. */
export interface BackendUnderTest {
  backend: CapableBackend;
  /** A second instance on the same store, as another process would have. */
  twin?: CapableBackend;
  cleanup(): Promise<void>;
}

export function newUpload(length: number | null, extra: Partial<NewUpload> = {}): NewUpload {
  return {
    id: generateUploadIdForTests(),
    length,
    metadata: { filename: 'x.bin' },
    metadataHeader: 'filename eC5iaW4=',
    createdAt: new Date(),
    expiresAt: new Date(Date.now() + 60_000),
    concat: null,
    ...extra,
  };
}

/**
 * The storage contract, as every backend must honour it (file and S3 alike): one suite, run by
 * each backend's spec against the real store.
 */
/**
 * The contract every backend passes. `sharedLock: false` for a backend without the locking
 * capability (the module locks for it, in-process): its lock tests do not apply.
 */
export function describeStorageBackend(name: string, setup: () => Promise<BackendUnderTest>, { sharedLock = true } = {}): void {
  describe(`storage backend contract: ${name}`, () => {
    let subject: BackendUnderTest;
    let backend: CapableBackend;

    beforeAll(async () => {
      subject = await setup();
      backend = subject.backend;
    });
    afterAll(() => subject.cleanup());

    it('creates an upload at offset 0 and reads it back', async () => {
      const created = await backend.create(newUpload(10));
      expect(created).toMatchObject({ offset: 0, length: 10, completedAt: null, metadata: { filename: 'x.bin' } });
      const read = await backend.get(created.id);
      expect(read).toMatchObject({ id: created.id, offset: 0, length: 10, metadataHeader: 'filename eC5iaW4=' });
      expect(read.createdAt).toBeInstanceOf(Date);
    });

    it('refuses to create an id that exists', async () => {
      const upload = newUpload(1);
      await backend.create(upload);
      await expect(backend.create(upload)).rejects.toThrow();
    });

    it('throws UploadNotFoundError for an unknown id', async () => {
      await expect(backend.get(generateUploadIdForTests())).rejects.toBeInstanceOf(UploadNotFoundError);
    });

    it('appends chunks, moves the offset, and completes at the length', async () => {
      const data = randomBytes(300_000);
      let upload = await backend.create(newUpload(data.length));
      upload = await backend.write(upload, chunkOf([data.subarray(0, 1)]));
      expect(upload.offset).toBe(1);
      upload = await backend.write(upload, chunkOf([data.subarray(1, 100_000), data.subarray(100_000, 200_000)]));
      expect(upload.offset).toBe(200_000);
      expect(upload.completedAt).toBeNull();
      upload = await backend.write(upload, chunkOf([data.subarray(200_000)]));
      expect(upload.offset).toBe(data.length);
      expect(upload.completedAt).toBeInstanceOf(Date);
      expect((await backend.get(upload.id)).completedAt).toBeInstanceOf(Date);
      expect((await readAll(backend, upload)).equals(data)).toBe(true);
      expect((await readAll(backend, upload, { start: 5, end: 9 })).equals(data.subarray(5, 10))).toBe(true);
    });

    it('keeps the bytes of an interrupted body, and the next write continues there', async () => {
      const data = randomBytes(64_000);
      let upload = await backend.create(newUpload(data.length));
      await expect(backend.write(upload, chunkOf([data.subarray(0, 20_000)], { fail: true }))).rejects.toThrow('connection reset');
      upload = await backend.get(upload.id);
      expect(upload.offset).toBe(20_000);
      upload = await backend.write(upload, chunkOf([data.subarray(20_000)]));
      expect((await readAll(backend, upload)).equals(data)).toBe(true);
    });

    it('discards an interrupted body that must be verified whole', async () => {
      const upload = await backend.create(newUpload(100));
      await expect(backend.write(upload, chunkOf([Buffer.alloc(40)], { fail: true, keepOnInterrupt: false }))).rejects.toThrow();
      expect((await backend.get(upload.id)).offset).toBe(0);
    });

    it('discards the whole chunk when verify() throws, and the upload is unchanged', async () => {
      const data = randomBytes(50);
      let upload = await backend.create(newUpload(100));
      upload = await backend.write(upload, chunkOf([data.subarray(0, 10)]));
      await expect(
        backend.write(upload, chunkOf([Buffer.alloc(30, 1)], { verify: async () => Promise.reject(new Error('bad digest')) })),
      ).rejects.toThrow('bad digest');
      upload = await backend.get(upload.id);
      expect(upload.offset).toBe(10);
      upload = await backend.write(upload, chunkOf([data.subarray(10), Buffer.alloc(50, 2)]));
      const bytes = await readAll(backend, upload);
      expect(bytes.subarray(0, 50).equals(data)).toBe(true);
    });

    it('discards the whole chunk when a stage fails with a protocol error (413)', async () => {
      const upload = await backend.create(newUpload(100));
      const limit = new Transform({
        transform(piece: Buffer, _encoding, callback) {
          callback(new PayloadTooLargeError('too much'));
        },
      });
      await expect(backend.write(upload, chunkOf([Buffer.alloc(10)], { stages: [limit] }))).rejects.toBeInstanceOf(PayloadTooLargeError);
      expect((await backend.get(upload.id)).offset).toBe(0);
    });

    it('records a deferred length with update(), and state changes with write()', async () => {
      let upload = await backend.create(newUpload(null));
      upload = await backend.write(upload, chunkOf([Buffer.alloc(5, 1)]));
      upload = await backend.update(upload, { length: 8 });
      expect((await backend.get(upload.id)).length).toBe(8);
      const expiresAt = new Date(Date.now() + 120_000);
      upload = await backend.write(upload, chunkOf([Buffer.alloc(3, 2)]), { expiresAt });
      const stored = await backend.get(upload.id);
      expect(stored).toMatchObject({ offset: 8, length: 8 });
      expect(stored.expiresAt?.getTime()).toBe(expiresAt.getTime());
      expect(stored.completedAt).toBeInstanceOf(Date);
    });

    it('concatenates completed partials in order, a partial repeated', async () => {
      const parts: UploadInfo[] = [];
      const datas = [randomBytes(1000), randomBytes(1), randomBytes(2000)];
      for (const data of datas) {
        const part = await backend.create(newUpload(data.length, { concat: { type: 'partial' } }));
        parts.push(await backend.write(part, chunkOf([data])));
      }
      const order = [parts[0]!, parts[1]!, parts[2]!, parts[0]!];
      const final = await backend.concatenate(
        newUpload(null, { concat: { type: 'final', parts: order.map((part) => part.id), header: 'final;...' }, expiresAt: null }),
        order,
      );
      const expected = Buffer.concat([datas[0]!, datas[1]!, datas[2]!, datas[0]!]);
      expect(final).toMatchObject({ offset: expected.length, length: expected.length });
      expect(final.completedAt).toBeInstanceOf(Date);
      expect((await readAll(backend, final)).equals(expected)).toBe(true);
    });

    it('completes an empty upload', async () => {
      let upload = await backend.create(newUpload(0));
      upload = await backend.write(upload, chunkOf([]));
      expect(upload.completedAt).toBeInstanceOf(Date);
      expect((await readAll(backend, upload)).length).toBe(0);
    });

    it('removes every trace of an upload', async () => {
      let upload = await backend.create(newUpload(10));
      upload = await backend.write(upload, chunkOf([Buffer.alloc(4)]));
      await backend.remove(upload);
      await expect(backend.get(upload.id)).rejects.toBeInstanceOf(UploadNotFoundError);
      const ids: string[] = [];
      for await (const listed of backend.list()) ids.push(listed.id);
      expect(ids).not.toContain(upload.id);
    });

    it('lists the uploads it holds', async () => {
      const upload = await backend.create(newUpload(3));
      const ids: string[] = [];
      for await (const listed of backend.list()) ids.push(listed.id);
      expect(ids).toContain(upload.id);
    });

    // A backend without the locking capability is locked by the module, in-process: nothing to test here.
    if (sharedLock) {
      it('serialises lock holders of one upload, and times out with 423', async () => {
        const upload = await backend.create(newUpload(3));
        const release = await backend.lock(upload.id);
        const order: string[] = [];
        const second = backend.lock(upload.id).then(async (releaseSecond) => {
          order.push('second');
          await releaseSecond();
        });
        await sleep(50);
        order.push('first releases');
        await release();
        await second;
        expect(order).toEqual(['first releases', 'second']);
      });

      it('excludes a second instance on the same store (another process) while locked', async () => {
        const twin = subject.twin;
        expect(twin).toBeDefined();
        const upload = await backend.create(newUpload(3));
        const release = await backend.lock(upload.id);
        const started = Date.now();
        const contender = twin!.lock(upload.id);
        await sleep(100);
        await release();
        const releaseTwin = await contender;
        expect(Date.now() - started).toBeGreaterThanOrEqual(100);
        await releaseTwin();
      });

      it('gives up with UploadLockedError (423) when the holder does not let go', async () => {
        const upload = await backend.create(newUpload(3));
        const release = await backend.lock(upload.id);
        try {
          await expect(backend.lock(upload.id)).rejects.toBeInstanceOf(UploadLockedError);
        } finally {
          await release();
        }
      });
    }
  });
}
