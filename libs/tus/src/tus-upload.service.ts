import { Inject, Injectable, Logger } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { PassThrough, Readable } from 'node:stream';
import { TUS_CONFIG, type TusConfig } from './tus.config.js';
import { TusClock } from './tus.clock.js';
import {
  ForbiddenUploadError,
  InvalidRequestError,
  MethodNotAllowedError,
  OffsetMismatchError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
  UploadExpiredError,
  UploadNotFoundError,
} from './tus.errors.js';
import { TusEvent } from './events/tus.events.js';
import { TusEventsEmitter } from './events/tus-events.emitter.js';
import { ByteMeter } from './byte-meter.transform.js';
import { checksumVerifierOf } from './checksum/checksum-request.js';
import { assertBodyUnread, hasBody } from './http/request-body.js';
import { header } from './http/raw-request.js';
import { assertValidMetadata, parseMetadata, stringifyMetadata } from './protocol/metadata.js';
import { isOffsetOctetStream, parseCreationLength, parseNonNegativeInteger } from './protocol/headers.js';
import { parseUploadConcat, uploadIdFromUrl, type UploadConcat } from './protocol/upload-concat.js';
import { isValidUploadId } from './protocol/upload-id.js';
import type { ChunkSource, UploadChanges } from './storage/tus-storage-backend.interface.js';
import { isExpired, type NewUpload, type UploadInfo } from './upload-info.js';
import type { TusIntent } from './tus-options.interface.js';
import { watchIdleBody } from './http/idle-timeout.js';
import { ActiveWrites } from './active-writes.js';

/**
 * The protocol's operations on uploads (create, append, terminate), independent of HTTP routing:
 * validation against the upload's state, locking, expiry and events. The controller maps headers
 * to these calls; `TusStorageService` reuses them for the application's own calls.
 */
@Injectable()
export class TusUploadService {
  private readonly logger = new Logger('TusModule');

  constructor(
    @Inject(TUS_CONFIG) private readonly config: TusConfig,
    private readonly events: TusEventsEmitter,
    private readonly clock: TusClock,
    private readonly activeWrites: ActiveWrites,
  ) {}

  private get backend() {
    return this.config.backend;
  }

  /** POST (creation, creation-defer-length, creation-with-upload, concatenation). */
  async create(request: IncomingMessage): Promise<UploadInfo> {
    const { extensions } = this.config;
    if (!extensions.has('creation')) throw new MethodNotAllowedError('The creation extension is disabled on this server');
    const concatHeader = extensions.has('concatenation') ? header(request, 'upload-concat') : undefined;
    const concat = concatHeader === undefined ? undefined : parseUploadConcat(concatHeader);
    const withBody = hasBody(request);
    if (concat?.type === 'final') {
      if (header(request, 'upload-length') !== undefined || header(request, 'upload-defer-length') !== undefined) {
        throw new InvalidRequestError('A final upload takes its length from its partials: no Upload-Length');
      }
      if (withBody) throw new ForbiddenUploadError('A final upload cannot carry a body');
    }
    if (withBody) {
      if (!isOffsetOctetStream(header(request, 'content-type'))) throw new UnsupportedMediaTypeError();
      if (!extensions.has('creation-with-upload')) throw new InvalidRequestError('creation-with-upload is disabled');
      assertBodyUnread(request);
    }

    const rawMetadata = header(request, 'upload-metadata');
    let metadata = parseMetadata(rawMetadata);
    let metadataHeader = rawMetadata === undefined || rawMetadata.trim() === '' ? null : rawMetadata;
    if (this.config.metadataOverride) {
      metadata = await this.config.metadataOverride(request, metadata);
      assertValidMetadata(metadata);
      metadataHeader = Object.keys(metadata).length === 0 ? null : stringifyMetadata(metadata);
    }

    const now = this.clock.now();
    const base = { metadata, metadataHeader, createdAt: now, id: await this.newId(request) };
    if (concat?.type === 'final') return this.createFinal(request, base, concat);

    const length = parseCreationLength(
      header(request, 'upload-length'),
      header(request, 'upload-defer-length'),
      extensions.has('creation-defer-length'),
    );
    const maxSize = await this.config.maxSize(request);
    if (length !== null && length > maxSize) throw new PayloadTooLargeError(`Upload-Length exceeds the maximum of ${maxSize} bytes`);
    const newUpload: NewUpload = {
      ...base,
      length,
      expiresAt: this.expiryFrom(now),
      concat: concat === undefined ? null : { type: 'partial' },
    };
    const preview = previewOf(newUpload);
    await this.authorize(request, 'create', preview);
    await this.events.emitPre(TusEvent.PRE_CREATE, preview, request);
    if (length !== 0 && !withBody) {
      const upload = await this.backend.create(newUpload);
      this.events.emitPost(TusEvent.POST_CREATE, upload);
      return upload;
    }
    // A first chunk (or an empty upload, complete at once): the lock is taken before the upload
    // exists and held until its first chunk is stored, so no one can move it in between and the
    // state just created needs no re-reading.
    return this.withLock(newUpload.id, async () => {
      const upload = await this.backend.create(newUpload);
      this.events.emitPost(TusEvent.POST_CREATE, upload);
      try {
        return await this.appendLocked(upload, request, { offset: 0, body: withBody });
      } catch (error) {
        // The client never learns the URL of an upload whose creation failed (a vetoed finish, a
        // rejected or cut-off first chunk): it must not linger half-created.
        await this.backend.remove(upload).catch(() => undefined);
        throw error;
      }
    });
  }

  /** PATCH: checks the request against the upload under its lock, then streams the body to storage. */
  async patch(id: string, request: IncomingMessage): Promise<UploadInfo> {
    if (!isOffsetOctetStream(header(request, 'content-type'))) throw new UnsupportedMediaTypeError();
    const offset = parseNonNegativeInteger('Upload-Offset', header(request, 'upload-offset'));
    assertBodyUnread(request);
    if (this.config.authorize) await this.authorize(request, 'write', await this.getLive(id));
    return this.append(id, request, { offset, body: true });
  }

  /** HEAD: the upload's state, without taking the lock (backends replace state atomically). */
  async head(id: string, request: IncomingMessage): Promise<UploadInfo> {
    // A client resuming after a lost connection asks first: answer with what its stalled old
    // request had received, not with the offset before it.
    if (this.activeWrites.isWriting(id)) await this.activeWrites.stopIfStalled(id, TAKEOVER_WAIT_MS);
    const upload = await this.getLive(id);
    await this.authorize(request, 'read', upload);
    return upload;
  }

  /** GET: a completed upload to stream (or an unfinished one, when configured). */
  async download(id: string, request: IncomingMessage): Promise<UploadInfo> {
    if (!this.config.download) throw new UploadNotFoundError();
    const upload = await this.getLive(id);
    // Authorised first: a stranger learns nothing, not even whether the upload is complete.
    await this.authorize(request, 'download', upload);
    const readable = this.config.downloadUnfinished && this.backend.readsUnfinished === true && upload.concat?.type !== 'final';
    if (upload.completedAt === null && !readable) {
      throw new UploadNotFoundError('Upload not complete');
    }
    return upload;
  }

  /** DELETE (termination), and `TusStorageService.delete` with `request` null. */
  async terminate(id: string, request: IncomingMessage | null): Promise<UploadInfo> {
    if (!this.config.extensions.has('termination') && request !== null) throw new MethodNotAllowedError('The termination extension is disabled on this server');
    if (request !== null && this.config.authorize) await this.authorize(request, 'delete', await this.getLive(id));
    return this.withLock(id, async () => this.remove(await this.getLive(id), request));
  }

  /** Removes the uploads that expired unfinished (expiry cleanup), each re-checked under its lock. */
  async removeExpired(): Promise<UploadInfo[]> {
    const removed: UploadInfo[] = [];
    for await (const candidate of this.backend.list()) {
      if (!isExpired(candidate, this.clock.now())) continue;
      await this.withLock(candidate.id, async () => {
        const upload = await this.backend.get(candidate.id).catch(() => undefined);
        if (upload && isExpired(upload, this.clock.now())) removed.push(await this.remove(upload, null));
      });
    }
    return removed;
  }

  /** Reads an upload for a protocol request: unknown ids are 404, expired unfinished uploads 410. */
  async getLive(id: string): Promise<UploadInfo> {
    const upload = await this.get(id);
    if (isExpired(upload, this.clock.now())) throw new UploadExpiredError();
    return upload;
  }

  /** Reads an upload by id; an id that is not one of ours is 404 before it reaches storage. */
  async get(id: string): Promise<UploadInfo> {
    if (!isValidUploadId(id)) throw new UploadNotFoundError();
    return this.backend.get(id);
  }

  private async remove(upload: UploadInfo, request: IncomingMessage | null): Promise<UploadInfo> {
    await this.events.emitPre(TusEvent.PRE_TERMINATE, upload, request);
    await this.backend.remove(upload);
    this.events.emitPost(TusEvent.POST_TERMINATE, upload);
    return upload;
  }

  private async createFinal(
    request: IncomingMessage,
    base: Pick<NewUpload, 'id' | 'metadata' | 'metadataHeader' | 'createdAt'>,
    concat: Extract<UploadConcat, { type: 'final' }>,
  ): Promise<UploadInfo> {
    const partIds = concat.urls.map(uploadIdFromUrl);
    const parts = await Promise.all(partIds.map((partId) => this.getLive(partId)));
    const unfinishedAllowed = this.config.extensions.has('concatenation-unfinished');
    for (const part of parts) {
      if (part.concat?.type !== 'partial') throw new InvalidRequestError(`Upload ${part.id} is not a partial upload`);
      if (part.completedAt === null && !unfinishedAllowed) throw new InvalidRequestError(`Partial upload ${part.id} is not complete`);
      await this.authorize(request, 'read', part);
    }
    // With concatenation-unfinished the length is known once every partial's length is.
    const length = parts.every((part) => part.length !== null) ? parts.reduce((sum, part) => sum + part.length!, 0) : null;
    const maxSize = await this.config.maxSize(request);
    if (length !== null && length > maxSize) throw new PayloadTooLargeError(`The concatenation exceeds the maximum of ${maxSize} bytes`);
    const newUpload: NewUpload = {
      ...base,
      length,
      expiresAt: null,
      concat: { type: 'final', parts: partIds, header: header(request, 'upload-concat')!.trim() },
    };
    const preview = previewOf(newUpload);
    await this.authorize(request, 'create', preview);
    await this.events.emitPre(TusEvent.PRE_CREATE, preview, request);

    if (parts.every((part) => part.completedAt !== null)) {
      await this.events.emitPre(TusEvent.PRE_FINISH, { ...preview, offset: length! }, request);
      const upload = await this.backend.concatenate(newUpload, parts);
      this.events.emitPost(TusEvent.POST_CREATE, upload);
      this.events.emitPost(TusEvent.POST_FINISH, upload);
      return upload;
    }

    // concatenation-unfinished: record the final now, tell each unfinished partial about it, and
    // assemble it when the last one completes (or now, if they all completed meanwhile).
    const upload = await this.backend.create(newUpload);
    this.events.emitPost(TusEvent.POST_CREATE, upload);
    for (const partId of new Set(parts.filter((part) => part.completedAt === null).map((part) => part.id))) {
      await this.withLock(partId, async () => {
        const part = await this.backend.get(partId);
        const finals = part.concat?.type === 'partial' ? (part.concat.finals ?? []) : [];
        await this.backend.update(part, { concat: { type: 'partial', finals: [...finals, upload.id] } });
      });
    }
    return (await this.completeFinal(upload.id, request)) ?? upload;
  }

  /**
   * Assembles a final upload whose partials have all completed (concatenation-unfinished).
   * Returns the completed final, or undefined while a partial is still missing bytes.
   */
  private async completeFinal(finalId: string, request: IncomingMessage | null): Promise<UploadInfo | undefined> {
    return this.withLock(finalId, async () => {
      const final = await this.backend.get(finalId);
      if (final.completedAt !== null || final.concat?.type !== 'final') return undefined;
      const parts = await Promise.all(final.concat.parts.map((partId) => this.backend.get(partId)));
      if (parts.some((part) => part.completedAt === null)) return undefined;
      const length = parts.reduce((sum, part) => sum + part.offset, 0);
      await this.events.emitPre(TusEvent.PRE_FINISH, { ...final, length, offset: length }, request);
      const completed = await this.backend.concatenate(final, parts);
      this.events.emitPost(TusEvent.POST_FINISH, completed);
      return completed;
    });
  }

  /** Appends a request's body (or nothing) at `offset` under the upload's lock. */
  private async append(id: string, request: IncomingMessage, options: { offset: number; body: boolean }): Promise<UploadInfo> {
    // Re-read under the lock: another request (or process) may have moved the upload on.
    return this.withLock(id, async () => this.appendLocked(await this.getLive(id), request, options));
  }

  /** {@link append} once the lock is held and `upload` is its current state. */
  private async appendLocked(upload: UploadInfo, request: IncomingMessage, options: { offset: number; body: boolean }): Promise<UploadInfo> {
    if (upload.concat?.type === 'final') throw new ForbiddenUploadError('A final upload cannot be patched');
    if (options.offset !== upload.offset) {
      throw new OffsetMismatchError(`Upload-Offset ${options.offset} does not match the upload's offset ${upload.offset}`);
    }
    const changes = await this.changesFor(upload, request);
    const length = changes.length ?? upload.length;
    const limit = length ?? (await this.config.maxSize(request));
    return this.store(upload, request, options.body, changes, limit - upload.offset);
  }

  /** The state a PATCH changes besides the bytes: a deferred length declared now, the renewed expiry. */
  private async changesFor(upload: UploadInfo, request: IncomingMessage): Promise<UploadChanges> {
    const changes: UploadChanges = {};
    if (upload.expiresAt !== null) changes.expiresAt = this.expiryFrom(this.clock.now());
    const declared = header(request, 'upload-length');
    if (declared === undefined) return changes;
    const length = parseNonNegativeInteger('Upload-Length', declared);
    if (upload.length !== null) {
      if (length !== upload.length) throw new InvalidRequestError('Upload-Length cannot change once set');
      return changes;
    }
    if (length < upload.offset) throw new InvalidRequestError("Upload-Length is below the upload's offset");
    const maxSize = await this.config.maxSize(request);
    if (length > maxSize) throw new PayloadTooLargeError(`Upload-Length exceeds the maximum of ${maxSize} bytes`);
    changes.length = length;
    return changes;
  }

  private async store(
    upload: UploadInfo,
    request: IncomingMessage,
    body: boolean,
    changes: UploadChanges,
    maxBytes: number,
  ): Promise<UploadInfo> {
    const declared = header(request, 'content-length');
    if (body && declared !== undefined && Number(declared) > maxBytes) {
      throw new PayloadTooLargeError('The chunk goes past Upload-Length');
    }
    const length = changes.length ?? upload.length;
    const verifier = body ? checksumVerifierOf(request) : undefined;
    const progress = this.events.progress(upload, this.config.postReceiveIntervalMs);
    const meter = new ByteMeter(maxBytes, 'The chunk goes past Upload-Length', progress && ((bytes) => progress(upload.offset + bytes)));
    const chunk: ChunkSource = {
      stream: body ? bodyOf(request) : Readable.from([]),
      stages: verifier ? [meter, verifier.stage] : [meter],
      keepOnInterrupt: verifier === undefined,
      verify: async (newOffset) => {
        verifier?.verify();
        // "no finish processing for partials": they complete into a final, not on their own.
        if (newOffset === length && upload.completedAt === null && upload.concat?.type !== 'partial') {
          await this.events.emitPre(TusEvent.PRE_FINISH, { ...upload, ...changes, offset: newOffset }, request);
        }
      },
    };
    const stopWatching = body ? watchIdleBody(request, this.config.idleTimeoutMs) : () => undefined;
    const unregister = body ? this.activeWrites.register(upload.id, request, () => meter.lastActivity) : () => undefined;
    let stored: UploadInfo;
    try {
      stored = await this.backend.write(upload, chunk, changes);
    } catch (error) {
      // An interrupted body may still have moved the offset: report where the upload stands.
      if (meter.bytes > 0) this.backend.get(upload.id).then((now) => this.events.received(now), () => undefined);
      throw error;
    } finally {
      stopWatching();
      unregister();
    }
    if (stored.offset !== upload.offset) this.events.received(stored);
    if (stored.completedAt !== null && upload.completedAt === null) {
      if (stored.concat?.type === 'partial') await this.completeFinals(stored.concat.finals ?? [], request);
      else this.events.emitPost(TusEvent.POST_FINISH, stored);
    }
    return stored;
  }

  /** Finals waiting for this partial: a failure there is the final's, not this PATCH's. */
  private async completeFinals(finalIds: string[], request: IncomingMessage): Promise<void> {
    for (const finalId of finalIds) {
      await this.completeFinal(finalId, request).catch((error: unknown) => {
        this.logger.error(`Concatenating final upload ${finalId} failed: ${error instanceof Error ? error.message : String(error)}`);
      });
    }
  }

  /** Applies the `authorize` option; an app's own calls (request null) are trusted. */
  private authorize(request: IncomingMessage | null, intent: TusIntent, upload: UploadInfo): Promise<void> | undefined {
    // Without the option nothing to wait for, not even a promise.
    if (request === null || this.config.authorize === undefined) return undefined;
    return this.checkAuthorized(this.config.authorize, request, intent, upload);
  }

  private async checkAuthorized(
    authorize: NonNullable<TusConfig['authorize']>,
    request: IncomingMessage,
    intent: TusIntent,
    upload: UploadInfo,
  ): Promise<void> {
    if (!(await authorize(request, intent, upload))) throw new ForbiddenUploadError(`Not allowed to ${intent} this upload`);
  }

  private async withLock<T>(id: string, work: () => Promise<T>): Promise<T> {
    if (!isValidUploadId(id)) throw new UploadNotFoundError();
    // While waiting, and while holding (asked by another process), give way to a stalled writer.
    const takeOver = () => void this.activeWrites.stopIfStalled(id);
    takeOver();
    const polling = setInterval(takeOver, 100);
    let release;
    try {
      release = await this.backend.lock(id, takeOver);
    } finally {
      clearInterval(polling);
    }
    try {
      return await work();
    } finally {
      await release();
    }
  }

  private expiryFrom(now: Date): Date | null {
    const seconds = this.config.extensions.has('expiration') ? this.config.expirationSeconds : null;
    return seconds === null ? null : new Date(now.getTime() + seconds * 1000);
  }

  private async newId(request: IncomingMessage): Promise<string> {
    const id = await this.config.generateId(request);
    if (typeof id !== 'string' || !isValidUploadId(id)) {
      throw new Error(`generateId returned "${String(id)}": ids must match [A-Za-z0-9_-]{1,200}`);
    }
    return id;
  }
}

/** How an upload about to be created appears to listeners and `authorize`. */
function previewOf(upload: NewUpload): UploadInfo {
  return { ...upload, offset: 0, completedAt: null, storage: { type: 'pending' } };
}

/** How long a HEAD waits for a stalled request it stopped to save its bytes. */
const TAKEOVER_WAIT_MS = 2_000;

/**
 * The request body as a backend reads it. A backend's pipeline destroys its source when a stage
 * fails (413 past the length), and destroying a request whose body is still arriving destroys its
 * socket: the client would never see the 413. `pipe()` forwards the bytes (with backpressure) and
 * the request's own failure, but not the pipeline's destruction; the error response then closes
 * the connection.
 */
function bodyOf(request: IncomingMessage): Readable {
  const body = new PassThrough();
  const fail = (error: Error) => body.destroy(error);
  request.once('error', fail);
  // A body that ended without completing (the connection closed mid-body) is an interruption.
  request.once('close', () => request.complete || body.destroyed || fail(new Error('aborted')));
  return request.pipe(body);
}
