import { Readable } from 'node:stream';
import { PayloadTooLargeError, StorageUnavailableError, UploadLockedError, UploadNotFoundError } from '../../errors/tus.errors.js';
import type { NewUpload, UploadInfo } from '../../protocol/upload-info.js';
import { KeyedMutex } from '../keyed-mutex.js';
import type { ChunkSource, ReleaseLock, TusStorageBackend, UploadChanges } from '../tus-storage-backend.interface.js';
import { listUploads } from '../upload-listing.js';
import { resizedForLength } from './deferred-length.js';
import { partSizeFor } from './part-size.js';
import { type S3ChunkWriteAccess, writeS3Chunk } from './s3-chunk-write.js';
import { assembleConcatenation } from './s3-concatenation.js';
import { checkBucketWritable } from './s3-health.js';
import { S3InfoRecord } from './s3-info-record.js';
import { PENDING_OBJECT_TAG, S3Keys } from './s3-keys.js';
import { acquireS3Lock } from './s3-lock.js';
import { recoverS3Parts } from './s3-part-recovery.js';
import { isNotFound, s3Status, S3Objects } from './s3-objects.js';
import { resolveS3StorageOptions } from './s3-storage-options.validation.js';
import { DEFAULT_S3_PART_SIZE, type S3StorageOptions } from './s3-storage.options.js';
import type { S3UploadState } from './s3-upload-state.js';

export { DEFAULT_S3_PART_SIZE, PENDING_OBJECT_TAG, type S3StorageOptions };

/**
 * Stores each upload in an S3 bucket as `<prefix><id>` (the assembled bytes, once complete),
 * `<prefix><id>.info` (the state, as JSON: the upload's fields, its multipart upload and committed
 * parts), `<prefix><id>.pending.<random>` (bytes short of a part) and `<prefix><id>.lock` (held
 * while a request writes; see acquireS3Lock). Any number of processes may share the bucket:
 * writers of one upload are serialised by the lock, and every write of `.info` is conditional on
 * the version the writer read (should two requests race all the same, exactly one is recorded; the
 * other answers 409).
 */
export class S3StorageBackend implements TusStorageBackend {
  readonly bucket: string;
  readonly keyPrefix: string;
  private readonly objects: S3Objects;
  private readonly keys: S3Keys;
  private readonly info: S3InfoRecord;
  private readonly partSize: number;
  private readonly maxParts: number;
  private readonly lockTimeoutMs: number;
  private readonly lockStaleMs: number;
  private readonly localLocks = new KeyedMutex();
  /** Recoveries running in this process, by upload id: a read meanwhile waits for the outcome. */
  private readonly recoveries = new Map<string, Promise<void>>();
  private readonly chunkWrites: S3ChunkWriteAccess;

  constructor(options: S3StorageOptions) {
    const resolved = resolveS3StorageOptions(options);
    this.bucket = resolved.bucket;
    this.keyPrefix = resolved.keyPrefix;
    this.partSize = resolved.partSize;
    this.maxParts = resolved.maxParts;
    this.lockTimeoutMs = resolved.lockTimeoutMs;
    this.lockStaleMs = resolved.lockStaleMs;
    this.objects = new S3Objects(options.client, options.bucket);
    this.keys = new S3Keys(this.bucket, this.keyPrefix);
    this.info = new S3InfoRecord(this.objects, this.keys);
    this.chunkWrites = {
      objects: this.objects,
      keys: this.keys,
      info: this.info,
      maxParts: this.maxParts,
      maxConcurrentPartUploads: resolved.maxConcurrentPartUploads,
    };
  }

  async init(): Promise<void> {
    try {
      await this.objects.headBucket();
    } catch (error) {
      const reason =
        error instanceof StorageUnavailableError ? error.message : error instanceof Error ? `${error.name} ${s3Status(error) ?? ''}`.trim() : String(error);
      throw new Error(
        `S3StorageBackend cannot use bucket "${this.bucket}" (${reason}): create the bucket, or check the S3Client's endpoint, region and credentials`,
        { cause: error },
      );
    }
  }

  /** Reachable and writable: the bucket takes a probe object under the key prefix. */
  checkHealth(): Promise<void> {
    return checkBucketWritable(this.objects, this.keyPrefix);
  }

  async create(upload: NewUpload): Promise<UploadInfo> {
    const partSize = partSizeFor(upload.length, this.maxParts, this.partSize);
    if (partSize === null) throw new PayloadTooLargeError(`Upload-Length exceeds what ${this.maxParts} parts can hold`);
    const info: UploadInfo = { ...upload, offset: 0, completedAt: null, storage: this.keys.location(upload.id) };
    return this.info.save(info, { uploadId: null, partSize, parts: [], pending: null }, { ifNoneMatch: '*' });
  }

  /**
   * The state in `.info`; after a crash, with the parts the dead request stored recovered first, so
   * that the first HEAD after it answers them. The trigger is the `writing` mark that a request's
   * records carry until its end: an upload no one writes costs the one `.info` read, as before (no
   * ListParts per HEAD, as tusd does). Only a marked upload that no request of this process holds
   * tries its lock, without waiting: a live writer elsewhere keeps it (two more requests to S3, a
   * refused PUT and a GET of the lock, per such HEAD), a dead one's is taken over and recovered.
   */
  async get(id: string): Promise<UploadInfo> {
    const upload = await this.info.read(id);
    if (this.info.known(upload)?.s3.writing === undefined) return upload;
    // A recovery of this process under way (another HEAD's, or a PATCH's that took the lock over):
    // its outcome, not the state before it (seen: a HEAD answered the recorded offset meanwhile).
    const running = this.recoveries.get(id);
    if (running !== undefined) {
      await running;
      return this.info.read(id);
    }
    if (this.localLocks.isLocked(id)) return upload;
    // Known to other reads from here on, the lock's acquisition included.
    await this.tracked(id, this.recoverIfAbandoned(id));
    return this.info.read(id);
  }

  /** Takes the lock without waiting (a live holder elsewhere keeps it) and recovers under it. */
  private async recoverIfAbandoned(id: string): Promise<void> {
    let release: ReleaseLock;
    try {
      release = await this.acquire(id, 0);
    } catch (error) {
      if (error instanceof UploadLockedError) return;
      throw error;
    }
    try {
      await recoverS3Parts(this.chunkWrites, id);
    } finally {
      await release();
    }
  }

  /**
   * The upload's lock; when it was taken over from a dead or silent holder, what that holder stored
   * is recovered before the caller reads the state (a PATCH that came without a HEAD, or a holder
   * judged gone only by staleness: the client is then told the new offset by a 409).
   */
  async lock(id: string): Promise<ReleaseLock> {
    let tookOver = false;
    const release = await this.acquire(id, this.lockTimeoutMs, () => (tookOver = true));
    if (!tookOver) return release;
    try {
      await this.tracked(id, recoverS3Parts(this.chunkWrites, id));
    } catch (error) {
      await release();
      throw error;
    }
    return release;
  }

  /** Waits for a recovery, known meanwhile to reads of the same upload (see get). */
  private async tracked(id: string, recovery: Promise<unknown>): Promise<void> {
    const settled = recovery.then(
      () => undefined,
      () => undefined,
    );
    this.recoveries.set(id, settled);
    try {
      await recovery;
    } finally {
      if (this.recoveries.get(id) === settled) this.recoveries.delete(id);
    }
  }

  /** This process's lock of the upload, then the one shared through the bucket. */
  private async acquire(id: string, timeoutMs: number, onTakeOver?: () => void): Promise<ReleaseLock> {
    const started = Date.now();
    const releaseLocal = await this.localLocks.acquire(id, timeoutMs);
    try {
      const releaseShared = await acquireS3Lock(this.objects, this.keys.lock(id), {
        timeoutMs: Math.max(timeoutMs - (Date.now() - started), 0),
        staleMs: this.lockStaleMs,
        onTakeOver,
      });
      return async () => {
        await releaseShared();
        releaseLocal();
      };
    } catch (error) {
      releaseLocal();
      throw error;
    }
  }

  async update(upload: UploadInfo, changes: UploadChanges): Promise<UploadInfo> {
    const snapshot = await this.info.snapshotOf(upload);
    const next = { ...upload, ...changes };
    return this.info.save(next, resizedForLength(snapshot.s3, upload, next.length, this.maxParts), { ifMatch: snapshot.etag });
  }

  write(upload: UploadInfo, chunk: ChunkSource, changes: UploadChanges = {}): Promise<UploadInfo> {
    return writeS3Chunk(this.chunkWrites, upload, chunk, changes);
  }

  async concatenate(upload: NewUpload | UploadInfo, parts: UploadInfo[]): Promise<UploadInfo> {
    const key = this.keys.data(upload.id);
    const sources = parts.map((part) => ({ key: this.keys.dataOf(part), size: part.offset }));
    const length = sources.reduce((sum, source) => sum + source.size, 0);
    const s3: S3UploadState = { uploadId: null, partSize: this.partSize, parts: [], pending: null };
    // A final created earlier (concatenation-unfinished) has its .info: it is replaced
    // conditionally below. A new one is written first, conditionally, so that an id that exists
    // is refused before its bytes are touched.
    const existing = 'storage' in upload;
    const placeholder = existing
      ? upload
      : await this.info.save({ ...upload, length, offset: 0, completedAt: null, storage: this.keys.location(upload.id) }, s3, {
          ifNoneMatch: '*',
        });
    try {
      const { etag } = await this.info.snapshotOf(placeholder);
      await assembleConcatenation(this.objects, key, sources, length);
      return await this.info.save({ ...placeholder, length, offset: length, completedAt: new Date() }, s3, { ifMatch: etag });
    } catch (error) {
      if (!existing) await this.remove(placeholder).catch(() => undefined);
      throw error;
    }
  }

  async remove(upload: UploadInfo): Promise<void> {
    const key = this.keys.data(upload.id);
    // .info first: once it is gone the upload is unknown, whatever happens to the other objects.
    await this.objects.delete(this.keys.info(upload.id));
    // Every multipart upload of the key, including those of requests that lost a race or crashed.
    for await (const uploadId of this.objects.listMultipartUploads(key)) await this.objects.abortMultipartUpload(key, uploadId);
    const keys = [key];
    for await (const pendingKey of this.objects.listKeys(`${key}.`)) keys.push(pendingKey);
    await Promise.all(keys.map((each) => this.objects.delete(each)));
  }

  async createReadStream(upload: UploadInfo, range: { start?: number; end?: number } = {}): Promise<Readable> {
    // S3 answers 416 to any range of an empty object.
    if (upload.offset === 0) return Readable.from([]);
    try {
      return await this.objects.getStream(this.keys.dataOf(upload), range.start, range.end);
    } catch (error) {
      // Deleted since its state was read (a DELETE racing the download): a 404, not a 500.
      if (isNotFound(error)) throw new UploadNotFoundError();
      throw error;
    }
  }

  async *list(): AsyncIterable<UploadInfo> {
    yield* listUploads(this.objects.listKeys(this.keyPrefix), this.keyPrefix, (id) => this.get(id));
  }
}
