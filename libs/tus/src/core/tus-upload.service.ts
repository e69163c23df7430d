import { Inject, Injectable } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { PassThrough, Readable } from 'node:stream';
import { TUS_CONFIG, type TusConfig } from '../module/tus-config.factory.js';
import { TusClock } from './tus.clock.js';
import {
  ForbiddenUploadError,
  InvalidRequestError,
  MethodNotAllowedError,
  OffsetMismatchError,
  PayloadTooLargeError,
  ShuttingDownError,
  UnsupportedMediaTypeError,
  UploadLockedError,
  UploadNotFoundError,
} from '../errors/tus.errors.js';
import { TusEvent } from './events/tus.events.js';
import { TusEventsEmitter } from './events/tus-events.emitter.js';
import { ByteMeter } from './byte-meter.transform.js';
import { checksumVerifierOf } from '../http/tus/checksum-request.js';
import { assertBodyUnread, hasBody } from '../http/request-body.js';
import { header } from '../http/raw-request.js';
import { assertValidMetadata, parseMetadata, stringifyMetadata } from '../protocol/metadata.js';
import { isOffsetOctetStream, parseCreationLength, parseNonNegativeInteger } from '../protocol/headers.js';
import { parseUploadConcat } from '../protocol/upload-concat.js';
import { isValidUploadId } from '../protocol/upload-id.js';
import type { ChunkSource, UploadChanges } from '../storage/tus-storage-backend.interface.js';
import { isExpired, type NewUpload, type UploadInfo, uploadPreview } from '../protocol/upload-info.js';
import { UploadAccess } from './upload-access.js';
import { TusConcatenationService } from './tus-concatenation.service.js';
import { watchIdleBody } from '../http/idle-timeout.js';
import { ActiveWrites } from './active-writes.js';

/**
 * The protocol's operations on uploads (create, append, terminate), independent of HTTP routing:
 * validation against the upload's state, locking, expiry and events. The controller maps headers
 * to these calls; `TusStorageService` reuses them for the application's own calls.
 */
@Injectable()
export class TusUploadService {
  constructor(
    @Inject(TUS_CONFIG) private readonly config: TusConfig,
    private readonly events: TusEventsEmitter,
    private readonly clock: TusClock,
    private readonly activeWrites: ActiveWrites,
    private readonly access: UploadAccess,
    private readonly concatenation: TusConcatenationService,
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
      if (this.activeWrites.draining) throw new ShuttingDownError();
      if (!isOffsetOctetStream(header(request, 'content-type'))) throw new UnsupportedMediaTypeError();
      if (!extensions.has('creation-with-upload')) throw new InvalidRequestError('creation-with-upload is disabled');
      assertBodyUnread(request);
    }

    const rawMetadata = header(request, 'upload-metadata');
    let metadata = parseMetadata(rawMetadata, this.config.maxMetadataBytes);
    let metadataHeader = rawMetadata === undefined || rawMetadata.trim() === '' ? null : rawMetadata;
    if (this.config.metadataOverride) {
      metadata = await this.config.metadataOverride(request, metadata);
      assertValidMetadata(metadata);
      metadataHeader = Object.keys(metadata).length === 0 ? null : stringifyMetadata(metadata);
    }

    const now = this.clock.now();
    const base = { metadata, metadataHeader, createdAt: now, id: await this.newId(request) };
    if (concat?.type === 'final') return this.concatenation.createFinal(request, base, concat);

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
    const preview = uploadPreview(newUpload);
    await this.access.authorize(request, 'create', preview);
    await this.events.emitPre(TusEvent.PRE_CREATE, preview, request);
    if (length !== 0 && !withBody) {
      const upload = await this.backend.create(newUpload);
      this.events.emitPost(TusEvent.POST_CREATE, upload);
      return upload;
    }
    // A first chunk (or an empty upload, complete at once): the lock is taken before the upload
    // exists and held until its first chunk is stored, so no one can move it in between and the
    // state just created needs no re-reading.
    return this.access.withLock(newUpload.id, async () => {
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
    if (this.activeWrites.draining) throw new ShuttingDownError();
    if (!isOffsetOctetStream(header(request, 'content-type'))) throw new UnsupportedMediaTypeError();
    const offset = parseNonNegativeInteger('Upload-Offset', header(request, 'upload-offset'));
    assertBodyUnread(request);
    if (this.config.authorize) await this.access.authorize(request, 'write', await this.access.getLive(id));
    return this.append(id, request, { offset, body: true });
  }

  /** HEAD: the upload's state, without taking the lock (backends replace state atomically). */
  async head(id: string, request: IncomingMessage): Promise<UploadInfo> {
    // A client resuming after a lost connection asks first: answer with what its stalled old
    // request had received, not with the offset before it.
    if (this.activeWrites.isWriting(id)) await this.activeWrites.stopIfStalled(id, TAKEOVER_WAIT_MS);
    const upload = await this.access.getLive(id);
    await this.access.authorize(request, 'read', upload);
    if (upload.completedAt !== null) return upload;
    if (upload.concat?.type === 'final') {
      // A final whose partials completed or went while its assembly could not run (a crash, a
      // busy partial) is settled by the next request that asks about it.
      const settled = await this.concatenation.settleFinal(id, request).catch(this.stateIfBusy(id));
      if (settled === null) throw new UploadNotFoundError();
      return settled;
    }
    if (upload.offset === upload.length) {
      // Every byte is stored but the upload was never finished: its last PATCH was cut off (a
      // crash) after its bytes reached storage. It finishes now, through the normal path, so that
      // `tus.pre-finish` can still veto and `tus.post-finish` fires once.
      return this.append(id, request, { offset: upload.offset, body: false }).catch(this.stateIfBusy(id));
    }
    return upload;
  }

  /** GET: a completed upload to stream (or an unfinished one, when configured). */
  async download(id: string, request: IncomingMessage): Promise<UploadInfo> {
    if (!this.config.download) throw new UploadNotFoundError();
    const upload = await this.access.getLive(id);
    // Authorised first: a stranger learns nothing, not even whether the upload is complete.
    await this.access.authorize(request, 'download', upload);
    const readable = this.config.downloadUnfinished && this.backend.readsUnfinished === true && upload.concat?.type !== 'final';
    if (upload.completedAt === null && !readable) {
      throw new UploadNotFoundError('Upload not complete');
    }
    return upload;
  }

  /** DELETE (termination), and `TusStorageService.delete` with `request` null. */
  async terminate(id: string, request: IncomingMessage | null): Promise<UploadInfo> {
    if (!this.config.extensions.has('termination') && request !== null) throw new MethodNotAllowedError('The termination extension is disabled on this server');
    if (request !== null && this.config.authorize) await this.access.authorize(request, 'delete', await this.access.getLive(id));
    const removed = await this.access.withLock(id, async () => this.remove(await this.access.getLive(id), request));
    // The finals that waited for this partial can never complete now (settled outside its lock).
    await this.concatenation.settleFinals(this.concatenation.pendingFinalsOf(removed), request);
    return removed;
  }

  /** Removes the uploads that expired unfinished (expiry cleanup), each re-checked under its lock. */
  async removeExpired(): Promise<UploadInfo[]> {
    const removed: UploadInfo[] = [];
    for await (const candidate of this.backend.list()) {
      if (!isExpired(candidate, this.clock.now())) continue;
      const upload = await this.access.withLock(candidate.id, async () => {
        const current = await this.backend.get(candidate.id).catch(() => undefined);
        return current && isExpired(current, this.clock.now()) ? this.remove(current, null) : undefined;
      });
      if (upload === undefined) continue;
      removed.push(upload);
      await this.concatenation.settleFinals(this.concatenation.pendingFinalsOf(upload), null);
    }
    return removed;
  }

  private async remove(upload: UploadInfo, request: IncomingMessage | null): Promise<UploadInfo> {
    await this.events.emitPre(TusEvent.PRE_TERMINATE, upload, request);
    await this.backend.remove(upload);
    this.events.emitPost(TusEvent.POST_TERMINATE, upload);
    return upload;
  }

  /** Appends a request's body (or nothing) at `offset` under the upload's lock. */
  private async append(id: string, request: IncomingMessage, options: { offset: number; body: boolean }): Promise<UploadInfo> {
    // Re-read under the lock: another request (or process) may have moved the upload on.
    const stored = await this.access.withLock(id, async () => this.appendLocked(await this.access.getLive(id), request, options));
    // A partial that is complete may be the last one its finals waited for. Settled once its own
    // lock is released: a final is assembled holding the locks of all its partials.
    if (stored.completedAt !== null) await this.concatenation.settleFinals(this.concatenation.pendingFinalsOf(stored), request);
    return stored;
  }

  /** {@link append} once the lock is held and `upload` is its current state. */
  private async appendLocked(upload: UploadInfo, request: IncomingMessage, options: { offset: number; body: boolean }): Promise<UploadInfo> {
    if (upload.concat?.type === 'final') throw new ForbiddenUploadError('A final upload cannot be patched');
    if (options.offset !== upload.offset) {
      throw new OffsetMismatchError(`Upload-Offset ${options.offset} does not match the upload's offset ${upload.offset}`);
    }
    // Headers are checked first: a completed upload still refuses a different Upload-Length (400).
    const changes = await this.changesFor(upload, request);
    // A completed upload is never written again, as in tusd: an empty PATCH at its end (a client
    // retrying a PATCH whose answer it lost) gets the state; a write would reassemble the S3 object
    // from no parts, and so empty it.
    if (upload.completedAt !== null) {
      if (options.body && hasBody(request)) throw new PayloadTooLargeError('The upload is complete: no more bytes');
      return upload;
    }
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
    const stopWatching = body ? watchIdleBody(request, this.config.idleTimeoutMs, this.config.idleMinBytes) : () => undefined;
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
    // "no finish processing for partials": their finals are settled by the caller, unlocked.
    if (stored.completedAt !== null && upload.completedAt === null && stored.concat?.type !== 'partial') {
      this.events.emitPost(TusEvent.POST_FINISH, stored);
    }
    return stored;
  }

  /**
   * A HEAD that found work to finish (a final to assemble, a recovered upload to complete) and the
   * upload busy or moved on meanwhile: the request holding it finishes that work; the HEAD answers
   * the state as it is now (read again: what it read first may have been rolled back since).
   */
  private stateIfBusy(id: string): (error: unknown) => Promise<UploadInfo> {
    return async (error) => {
      if (error instanceof UploadLockedError || error instanceof OffsetMismatchError) return this.access.getLive(id);
      throw error;
    };
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

/** How long a HEAD waits for a stalled request it stopped to save its bytes. */
const TAKEOVER_WAIT_MS = 2_000;

/**
 * The request body as a backend reads it. A backend's pipeline destroys its source when a stage
 * fails (413 past the length), and destroying a request whose body is still arriving destroys its
 * socket: the client would never see the 413. `pipe()` forwards the bytes (with backpressure) and
 * the request's own failure, but not the pipeline's destruction; the error response then drains
 * what is left of the body.
 */
function bodyOf(request: IncomingMessage): Readable {
  const body = new PassThrough();
  const fail = (error: Error) => body.destroy(error);
  // It may fail before the backend's pipeline reads it (which then gets the error from the stream
  // itself): without a listener meanwhile, its 'error' event would crash the process.
  body.on('error', () => undefined);
  // The connection closed while the request waited (for its lock, for the storage): the bytes it
  // had buffered went with it, and no event will come any more. Waiting for them held the
  // upload's lock for good (found by the HTTP fuzz: a whole PATCH followed by garbage bytes).
  if (request.destroyed) {
    fail(request.errored ?? new Error('aborted'));
    return body;
  }
  request.once('error', fail);
  // A body whose end was never read is an interruption: the connection closed mid-body, or even
  // after the whole body arrived but before it was read (`complete` is true then, yet the bytes
  // still buffered are lost and the pipe never ends).
  request.once('close', () => request.readableEnded || body.destroyed || fail(new Error('aborted')));
  return request.pipe(body);
}
