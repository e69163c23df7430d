import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DEFAULT_LOCK_STALE_MS, DEFAULT_LOCK_TIMEOUT_MS } from '../lock-timing.js';
import {
  InvalidRequestError,
  OffsetMismatchError,
  PayloadTooLargeError,
  StorageUnavailableError,
  TusOptionsError,
  UploadNotFoundError,
} from '../../errors/tus.errors.js';
import { isValidUploadId } from '../../protocol/upload-id.js';
import type { NewUpload, UploadInfo, UploadStorageLocation } from '../../protocol/upload-info.js';
import { keepsBytesAfter } from '../chunk-outcome.js';
import { KeyedMutex } from '../keyed-mutex.js';
import type { ChunkSource, ReleaseLock, TusStorageBackend, UploadChanges } from '../tus-storage-backend.interface.js';
import { assembleConcatenation } from './s3-concatenation.js';
import { PartSink } from './part-sink.js';
import { ProgressRecorder } from './progress-recorder.js';
import { acquireS3Lock } from './s3-lock.js';
import { MAX_PART_COUNT, MIN_PART_SIZE, partSizeFor } from './part-size.js';
import { DEFAULT_S3_PART_SIZE, type S3StorageOptions } from './s3-storage.options.js';
import { isConditionFailed, isNotFound, s3Status, S3Objects, type PutCondition } from './s3-objects.js';
import { bareEtag, decodeS3Upload, encodeS3Upload, type S3Part, type S3Snapshot, type S3UploadState } from './s3-upload-state.js';
import { checkBucketWritable } from './s3-health.js';

export { DEFAULT_S3_PART_SIZE, type S3StorageOptions };

const EMPTY = new Uint8Array(0);

const bytesIn = (parts: readonly S3Part[]) => parts.reduce((sum, part) => sum + part.size, 0);

/**
 * Tag of the `.pending` objects, so that a bucket lifecycle rule can expire those of abandoned
 * uploads (a rule filters by prefix and tags, not by a key's suffix).
 */
export const PENDING_OBJECT_TAG = 'tus-object=pending';

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
  private readonly partSize: number;
  private readonly maxParts: number;
  private readonly maxConcurrentPartUploads: number;
  private readonly lockTimeoutMs: number;
  private readonly lockStaleMs: number;
  private readonly localLocks = new KeyedMutex();
  /** The `.info` version behind each state this backend handed out, so a write needs no second read. */
  private readonly snapshots = new WeakMap<UploadInfo, S3Snapshot>();

  constructor(options: S3StorageOptions) {
    this.bucket = options.bucket;
    this.keyPrefix = options.keyPrefix ?? '';
    this.partSize = options.partSize ?? DEFAULT_S3_PART_SIZE;
    this.maxParts = options.maxParts ?? MAX_PART_COUNT;
    this.maxConcurrentPartUploads = options.maxConcurrentPartUploads ?? 4;
    this.lockTimeoutMs = options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
    this.lockStaleMs = options.lockStaleMs ?? DEFAULT_LOCK_STALE_MS;
    const problems: string[] = [];
    if (!options.client) problems.push('S3StorageBackend needs an S3Client (client)');
    if (!options.bucket) problems.push('S3StorageBackend needs a bucket');
    if (!Number.isSafeInteger(this.partSize) || this.partSize < MIN_PART_SIZE) {
      problems.push(`S3StorageBackend partSize must be an integer of at least ${MIN_PART_SIZE} bytes (5 MiB)`);
    }
    if (!Number.isInteger(this.maxParts) || this.maxParts < 1 || this.maxParts > MAX_PART_COUNT) {
      problems.push(`S3StorageBackend maxParts must be an integer from 1 to ${MAX_PART_COUNT}`);
    }
    if (!Number.isInteger(this.maxConcurrentPartUploads) || this.maxConcurrentPartUploads < 1) {
      problems.push('S3StorageBackend maxConcurrentPartUploads must be a positive integer');
    }
    if (problems.length > 0) throw new TusOptionsError(problems);
    this.objects = new S3Objects(options.client, options.bucket);
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
    const info: UploadInfo = { ...upload, offset: 0, completedAt: null, storage: this.location(upload.id) };
    return this.saveInfo(info, { uploadId: null, partSize, parts: [], pending: null }, { ifNoneMatch: '*' });
  }

  async get(id: string): Promise<UploadInfo> {
    const current = await this.currentInfo(id);
    if (current === null) throw new UploadNotFoundError();
    const { upload, s3 } = decodeS3Upload(current.text, this.infoKey(id));
    this.snapshots.set(upload, { etag: bareEtag(current.etag), s3 });
    return upload;
  }

  async lock(id: string): Promise<ReleaseLock> {
    const started = Date.now();
    const releaseLocal = await this.localLocks.acquire(id, this.lockTimeoutMs);
    try {
      const releaseShared = await acquireS3Lock(this.objects, `${this.dataKey(id)}.lock`, {
        timeoutMs: Math.max(this.lockTimeoutMs - (Date.now() - started), 0),
        staleMs: this.lockStaleMs,
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
    const snapshot = await this.snapshotOf(upload);
    const next = { ...upload, ...changes };
    return this.saveInfo(next, this.resized(snapshot.s3, upload, next.length), { ifMatch: snapshot.etag });
  }

  async write(upload: UploadInfo, chunk: ChunkSource, changes: UploadChanges = {}): Promise<UploadInfo> {
    const snapshot = await this.snapshotOf(upload);
    const changed = { ...upload, ...changes };
    const state = this.resized(snapshot.s3, upload, changed.length);
    const key = this.dataKey(upload.id);
    const prefill = state.pending === null ? EMPTY : await this.readPending(state.pending.key);

    let uploadId = state.uploadId;
    let created: Promise<string> | undefined;
    const ensureUpload = async () => uploadId ?? (uploadId = await (created ??= this.objects.createMultipartUpload(key)));
    // The version of .info this request builds on: the one read, then each record of its progress.
    let etag = snapshot.etag;
    // Whether a record names the multipart upload this request started.
    let named = false;
    // Progress is recorded part by part while the body streams, so that a crash of the process
    // loses only the parts in flight and the buffer; a chunk that must be verified whole
    // (Upload-Checksum) records nothing before its end.
    const recorder = chunk.keepOnInterrupt
      ? new ProgressRecorder(
          state.parts.length + 1,
          async (parts) => {
            const s3: S3UploadState = { ...state, uploadId: await ensureUpload(), parts: [...state.parts, ...parts], pending: null };
            const offset = bytesIn(s3.parts);
            // The part that fills the upload is recorded with its completion, at the request's
            // end: a record saying "every byte is here" while the request still runs would make a
            // HEAD meanwhile try to finish the upload itself.
            if (changed.length !== null && offset >= changed.length) return false;
            try {
              const saved = await this.saveInfo({ ...changed, offset, completedAt: null }, s3, { ifMatch: etag });
              etag = this.snapshots.get(saved)!.etag;
              named = true;
              return true;
            } catch (error) {
              // A record whose answer never came may have been applied: the multipart upload it
              // names must not be aborted by this request, whatever happens next.
              if (!(error instanceof OffsetMismatchError)) named = true;
              throw error;
            }
          },
          // Only another writer winning the upload stops the request; S3 failing a record (a 5xx,
          // a timeout) stops the records, and the request's own end saves what it stored.
          (error) => error instanceof OffsetMismatchError,
        )
      : null;
    // The multipart upload this request started is aborted when nothing of the request is kept
    // (and no record names it).
    const abandon = async () => {
      const startedId = await created?.catch(() => undefined);
      if (startedId !== undefined && !named) await this.objects.abortMultipartUpload(key, startedId).catch(() => undefined);
    };

    const sink = new PartSink({
      partSize: state.partSize,
      firstPartNumber: state.parts.length + 1,
      lastPartNumber: this.maxParts,
      maxInFlight: this.maxConcurrentPartUploads,
      prefill,
      uploadPart: async (partNumber, body) => this.objects.uploadPart(key, await ensureUpload(), partNumber, body, body.length),
      partStored: recorder === null ? undefined : (part) => recorder.stored(part),
    });
    let failure: unknown;
    try {
      await pipeline([chunk.stream, ...chunk.stages, sink]);
    } catch (error) {
      failure = error;
    }
    // What arrived is stored by this request's own end: the records stop here.
    await recorder?.close();
    const stored = await sink.settle();
    const recorded = recorder !== null && recorder.recordedParts.length > 0;
    if (stored.error !== undefined) {
      // A part not stored, or a record lost to another writer (409): the parts recorded so far
      // stay (they are stored; the client reads the offset again), nothing else of the request.
      await abandon();
      if (recorded && state.pending !== null) await this.objects.deleteQuietly(state.pending.key);
      throw failure ?? stored.error;
    }
    // Bytes are kept only when every part of the request is stored: otherwise the offset stays.
    let keep = failure === undefined || keepsBytesAfter(failure, chunk);
    if (failure === undefined) {
      try {
        await chunk.verify(upload.offset + sink.received);
      } catch (error) {
        // A throw from verify() (checksum mismatch, vetoed finish) always discards the chunk.
        failure = error;
        keep = false;
      }
    }
    if (!keep || (failure !== undefined && sink.received === 0)) {
      if (recorded && (await this.rollBack(upload, snapshot.s3, etag))) named = false;
      await abandon();
      throw failure;
    }

    const offset = upload.offset + sink.received;
    const completing = changed.length !== null && offset === changed.length;
    const parts = [...state.parts, ...stored.parts];
    let pending: S3UploadState['pending'] = null;
    let committed = false;
    try {
      if (completing && (uploadId !== null || created)) {
        if (stored.tail.length > 0) parts.push(await this.uploadLastPart(key, await ensureUpload(), parts.length + 1, stored.tail));
      } else if (stored.tail.length > 0) {
        // Also for a completing upload without parts: its bytes must be durable before .info says so.
        pending = { key: `${key}.pending.${randomBytes(6).toString('hex')}`, size: stored.tail.length };
        await this.objects.put(pending.key, stored.tail, { length: stored.tail.length, tagging: PENDING_OBJECT_TAG });
      }
      const s3: S3UploadState = { ...state, uploadId: created ? await created : uploadId, parts, pending };
      const next = await this.saveInfo({ ...changed, offset, completedAt: null }, s3, { ifMatch: etag });
      committed = true;
      if (state.pending !== null) await this.objects.deleteQuietly(state.pending.key);
      const result = completing ? await this.complete(next, stored.tail) : next;
      if (failure !== undefined) throw failure;
      return result;
    } catch (error) {
      if (!committed) {
        if (pending !== null) await this.objects.deleteQuietly(pending.key);
        await abandon();
      }
      throw error;
    }
  }

  async concatenate(upload: NewUpload | UploadInfo, parts: UploadInfo[]): Promise<UploadInfo> {
    const key = this.dataKey(upload.id);
    const sources = parts.map((part) => ({ key: this.dataKeyOf(part), size: part.offset }));
    const length = sources.reduce((sum, source) => sum + source.size, 0);
    const s3: S3UploadState = { uploadId: null, partSize: this.partSize, parts: [], pending: null };
    // A final created earlier (concatenation-unfinished) has its .info: it is replaced
    // conditionally below. A new one is written first, conditionally, so that an id that exists
    // is refused before its bytes are touched.
    const existing = 'storage' in upload;
    const placeholder = existing
      ? upload
      : await this.saveInfo({ ...upload, length, offset: 0, completedAt: null, storage: this.location(upload.id) }, s3, {
          ifNoneMatch: '*',
        });
    try {
      const { etag } = await this.snapshotOf(placeholder);
      await assembleConcatenation(this.objects, key, sources, length);
      return await this.saveInfo({ ...placeholder, length, offset: length, completedAt: new Date() }, s3, { ifMatch: etag });
    } catch (error) {
      if (!existing) await this.remove(placeholder).catch(() => undefined);
      throw error;
    }
  }

  async remove(upload: UploadInfo): Promise<void> {
    const key = this.dataKey(upload.id);
    // .info first: once it is gone the upload is unknown, whatever happens to the other objects.
    await this.objects.delete(this.infoKey(upload.id));
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
      return await this.objects.getStream(this.dataKeyOf(upload), range.start, range.end);
    } catch (error) {
      // Deleted since its state was read (a DELETE racing the download): a 404, not a 500.
      if (isNotFound(error)) throw new UploadNotFoundError();
      throw error;
    }
  }

  async *list(): AsyncIterable<UploadInfo> {
    for await (const key of this.objects.listKeys(this.keyPrefix)) {
      if (!key.endsWith('.info')) continue;
      const id = key.slice(this.keyPrefix.length, -'.info'.length);
      if (!isValidUploadId(id)) continue;
      try {
        yield await this.get(id);
      } catch (error) {
        if (!(error instanceof UploadNotFoundError)) throw error;
      }
    }
  }

  /**
   * Assembles the bytes of an upload whose last byte is recorded: `CompleteMultipartUpload`, or a
   * plain `PutObject` for an upload that never filled a part. Then records the completion.
   */
  private async complete(upload: UploadInfo, tail: Uint8Array): Promise<UploadInfo> {
    const { etag, s3 } = this.snapshots.get(upload)!;
    const key = this.dataKey(upload.id);
    if (s3.uploadId === null) {
      await this.objects.put(key, tail, { length: tail.length });
    } else {
      await this.rollBackOverwrittenParts(upload, { etag, s3 });
      try {
        await this.objects.completeMultipartUpload(key, s3.uploadId, s3.parts);
      } catch (error) {
        // A retry after a completion whose record failed: the object is there already.
        if ((await this.objects.exists(key))?.size !== upload.length) {
          // S3 out of reach (503, retried by the client) is not S3 refusing the parts.
          if (error instanceof StorageUnavailableError) throw error;
          throw new Error(`S3 refused to assemble upload ${upload.id}: ${(error as Error).message}`, { cause: error });
        }
      }
    }
    const completed = { ...upload, completedAt: new Date() };
    const next = await this.saveInfo(completed, { ...s3, uploadId: null, parts: [], pending: null }, { ifMatch: etag });
    if (s3.pending !== null) await this.objects.deleteQuietly(s3.pending.key);
    await this.removeStrays(key).catch(() => undefined);
    return next;
  }

  /**
   * What requests cut off by a crash (or lost races) left under an upload's key: a multipart
   * upload begun before `.info` named one, `.pending` objects stored but never recorded. Once the
   * upload is complete nothing can refer to them; left alone they would cost storage until a
   * lifecycle rule, if any, removed them.
   */
  private async removeStrays(key: string): Promise<void> {
    for await (const uploadId of this.objects.listMultipartUploads(key)) await this.objects.abortMultipartUpload(key, uploadId);
    for await (const pending of this.objects.listKeys(`${key}.pending.`)) await this.objects.deleteQuietly(pending);
  }

  /**
   * Puts back the state a discarded request began from (its bytes failed the chunk's rules after
   * some of its parts were recorded): "the upload exactly as it was". Its pending object is still
   * there, deleted only by a request that commits. Should S3 refuse, the recorded parts stay: they
   * are stored, and the offset they give is a true one.
   */
  private async rollBack(upload: UploadInfo, s3: S3UploadState, etag: string): Promise<boolean> {
    return this.saveInfo(upload, s3, { ifMatch: etag }).then(
      () => true,
      () => false,
    );
  }

  /**
   * A request that lost a race (or was discarded) may have uploaded its own bytes under part
   * numbers the winner recorded, after the winner's upload of them. S3 keeps the last upload of a
   * part number, so before assembling, every recorded part is checked against what S3 holds: from
   * the first part overwritten on, the bytes are dropped from the state, and the client, answered
   * 409, resumes from the lower offset (tus clients re-read the offset with HEAD).
   */
  private async rollBackOverwrittenParts(upload: UploadInfo, { etag, s3 }: S3Snapshot): Promise<void> {
    const held = new Map<number, string>();
    try {
      for await (const part of this.objects.listParts(this.dataKey(upload.id), s3.uploadId!)) held.set(part.partNumber, bareEtag(part.etag));
    } catch (error) {
      // Completed by an earlier attempt whose record failed: nothing left to check.
      if (isNotFound(error)) return;
      throw error;
    }
    const firstLost = s3.parts.findIndex((part) => held.get(part.partNumber) !== bareEtag(part.etag));
    if (firstLost === -1) return;
    const parts = s3.parts.slice(0, firstLost);
    const offset = parts.reduce((sum, part) => sum + part.size, 0);
    await this.saveInfo({ ...upload, offset, completedAt: null }, { ...s3, parts, pending: null }, { ifMatch: etag });
    throw new OffsetMismatchError(`Bytes from offset ${offset} on were overwritten by a concurrent request; resume from there`);
  }

  /** Writes `.info` conditionally; a lost condition means another request changed the upload. */
  private async saveInfo(upload: UploadInfo, s3: S3UploadState, condition: PutCondition): Promise<UploadInfo> {
    let etag: string | undefined;
    const text = encodeS3Upload(upload, s3, randomBytes(9).toString('base64url'));
    try {
      etag = await this.objects.put(this.infoKey(upload.id), text, { contentType: 'application/json', condition });
    } catch (error) {
      // The SDK retries a write whose answer was lost; if the first attempt was applied, the retry's
      // condition fails against our own write (seen with connections to S3 cut mid-answer): a creation
      // answered 400 "already exists", which tus clients do not retry. `.info` holding exactly this
      // text, its write token included, is that write.
      if (isConditionFailed(error)) {
        const current = await this.currentInfo(upload.id);
        if (current?.text === text) return this.remember(upload, s3, current.etag);
        if (!('ifNoneMatch' in condition)) throw new OffsetMismatchError('The upload was changed by another request; read its offset again');
        // No .info to read back: a conflicting write still in flight (AWS answers 409 then), maybe our own.
        if (current === null) throw new StorageUnavailableError('a write of this upload is still in flight', { cause: error });
        throw new InvalidRequestError(`Upload ${upload.id} already exists`);
      }
      if (isNotFound(error)) throw new UploadNotFoundError();
      throw error;
    }
    return this.remember(upload, s3, etag);
  }

  /** `.info` as S3 holds it now, or null when there is none; S3 out of reach throws (503). */
  private async currentInfo(id: string): Promise<{ text: string; etag: string | undefined } | null> {
    try {
      return await this.objects.getText(this.infoKey(id));
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  private remember(upload: UploadInfo, s3: S3UploadState, etag: string | undefined): UploadInfo {
    const saved = { ...upload };
    this.snapshots.set(saved, { etag: bareEtag(etag), s3 });
    return saved;
  }

  /** The `.info` version behind `upload`: remembered from get(), or read again (and checked). */
  private async snapshotOf(upload: UploadInfo): Promise<S3Snapshot> {
    const known = this.snapshots.get(upload);
    if (known !== undefined) return known;
    const current = await this.get(upload.id);
    if (current.offset !== upload.offset || (current.completedAt === null) !== (upload.completedAt === null)) {
      throw new OffsetMismatchError(`The upload's offset is ${current.offset}, not ${upload.offset}`);
    }
    return this.snapshots.get(current)!;
  }

  /** The state with the part size grown for a length declared now (deferred length); 413 if it cannot fit. */
  private resized(s3: S3UploadState, upload: UploadInfo, length: number | null): S3UploadState {
    if (upload.length !== null || length === null) return s3;
    const inParts = s3.parts.reduce((sum, part) => sum + part.size, 0);
    const partSize = partSizeFor(length - inParts, this.maxParts - s3.parts.length, s3.partSize);
    if (partSize === null) throw new PayloadTooLargeError(`Upload-Length exceeds what ${this.maxParts} parts can hold`);
    return { ...s3, partSize };
  }

  private async uploadLastPart(key: string, uploadId: string, partNumber: number, body: Uint8Array): Promise<S3Part> {
    if (partNumber > this.maxParts) throw new PayloadTooLargeError(`The upload would need more than ${this.maxParts} parts`);
    const etag = await this.objects.uploadPart(key, uploadId, partNumber, body, body.length);
    return { partNumber, etag, size: body.length };
  }

  private async readPending(key: string): Promise<Uint8Array> {
    try {
      return await this.objects.getBytes(key);
    } catch (error) {
      // A request that read the same state won and consumed these bytes.
      if (isNotFound(error)) throw new OffsetMismatchError('The upload was changed by another request; read its offset again');
      throw error;
    }
  }

  private location(id: string): UploadStorageLocation {
    return { type: 's3', bucket: this.bucket, key: this.dataKey(id) };
  }

  private dataKeyOf(upload: UploadInfo): string {
    return upload.storage.type === 's3' && typeof upload.storage.key === 'string' ? upload.storage.key : this.dataKey(upload.id);
  }

  private dataKey(id: string): string {
    return `${this.keyPrefix}${id}`;
  }

  private infoKey(id: string): string {
    return `${this.dataKey(id)}.info`;
  }
}
