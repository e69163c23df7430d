import { Inject, Injectable } from '@nestjs/common';
import type { Readable } from 'node:stream';
import {
  ForbiddenUploadError,
  InvalidRequestError,
  MethodNotAllowedError,
  OffsetMismatchError,
  PayloadTooLargeError,
  ShuttingDownError,
  UploadLockedError,
  UploadNotFoundError,
} from '../errors/tus.errors.js';
import { assertValidMetadata, stringifyMetadata } from '../protocol/metadata.js';
import { isValidUploadId } from '../protocol/upload-id.js';
import { isExpired, type NewUpload, type UploadInfo, uploadPreview } from '../protocol/upload-info.js';
import type { UploadChanges } from '../storage/tus-storage-backend.interface.js';
import { ActiveWrites } from './active-writes.js';
import { TusEvent } from './events/tus.events.js';
import { TusEventsEmitter } from './events/tus-events.emitter.js';
import { TusConcatenationService } from './tus-concatenation.service.js';
import { TusConfig } from './tus-config.js';
import { TusClock } from './tus.clock.js';
import { UploadAccess } from './upload-access.js';
import type { AppendCommand, CreateUploadCommand, RequestContext } from './upload-commands.js';
import { UploadWriter } from './upload-writer.js';

/**
 * The operations on uploads (create, append, finish, terminate, expire), whatever protocol asked
 * for them: validation against the upload's state, locking, expiry and events. A front door turns
 * a request into a command; `TusStorageService` reuses the same operations for the app's own calls.
 */
@Injectable()
export class TusUploadService {
  constructor(
    @Inject(TusConfig) private readonly config: TusConfig,
    private readonly events: TusEventsEmitter,
    @Inject(TusClock) private readonly clock: TusClock,
    private readonly activeWrites: ActiveWrites,
    private readonly access: UploadAccess,
    private readonly concatenation: TusConcatenationService,
    private readonly writer: UploadWriter,
  ) {}

  private get backend() {
    return this.config.backend;
  }

  /** Creation, creation-defer-length, creation-with-upload, concatenation. */
  async create(command: CreateUploadCommand): Promise<UploadInfo> {
    const { extensions } = this.config;
    if (!extensions.has('creation')) throw new MethodNotAllowedError('The creation extension is disabled on this server');
    const { concat, body, context } = command;
    if (concat?.type === 'final' && body !== null) throw new ForbiddenUploadError('A final upload cannot carry a body');
    if (body !== null) {
      if (this.activeWrites.draining) throw new ShuttingDownError();
      if (!extensions.has('creation-with-upload')) throw new InvalidRequestError('creation-with-upload is disabled');
    }
    let { metadata, metadataHeader } = command;
    if (this.config.metadataOverride) {
      metadata = await this.config.metadataOverride(context, metadata);
      assertValidMetadata(metadata);
      metadataHeader = Object.keys(metadata).length === 0 ? null : stringifyMetadata(metadata);
    }

    const now = this.clock.now();
    const base = {
      metadata,
      metadataHeader,
      createdAt: now,
      id: await this.newId(context),
      ...(command.protocol === undefined ? {} : { protocol: command.protocol }),
    };
    if (concat?.type === 'final') return this.concatenation.createFinal(context, base, concat);

    const { length } = command;
    const maxSize = await this.config.maxSize(context);
    if (length !== null && length > maxSize) throw new PayloadTooLargeError(`Upload-Length exceeds the maximum of ${maxSize} bytes`);
    const newUpload: NewUpload = { ...base, length, expiresAt: this.expiryFrom(now), concat: concat === undefined ? null : { type: 'partial' } };
    const preview = uploadPreview(newUpload);
    await this.access.authorize(context, 'create', preview);
    await this.events.emitPre(TusEvent.PRE_CREATE, preview, context);
    if (length !== 0 && body === null) {
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
        return await this.appendLocked(upload, { id: upload.id, offset: 0, body, context });
      } catch (error) {
        // The client never learns the URL of an upload whose creation failed (a vetoed finish, a
        // rejected or cut-off first chunk): it must not linger half-created.
        await this.backend.remove(upload).catch(() => undefined);
        throw error;
      }
    });
  }

  /** Appends a chunk: checks it against the upload under its lock, then streams it to storage. */
  async append(command: AppendCommand): Promise<UploadInfo> {
    if (command.body !== null && this.activeWrites.draining) throw new ShuttingDownError();
    if (this.config.authorize) await this.access.authorize(command.context, 'write', await this.access.getLive(command.id));
    return this.appendAndSettle(command);
  }

  /** The upload's state, without taking the lock (backends replace state atomically). */
  async head(id: string, context: RequestContext): Promise<UploadInfo> {
    // A client resuming after a lost connection asks first: answer with what its stalled old
    // request had received, not with the offset before it. Only a client allowed to read the
    // upload may make its writer stop: with `authorize`, it is asked first.
    let authorized = false;
    if (this.activeWrites.isWriting(id)) {
      if (this.config.authorize) {
        await this.access.authorize(context, 'read', await this.access.getLive(id));
        authorized = true;
      }
      await this.activeWrites.stopIfStalled(id, TAKEOVER_WAIT_MS);
    }
    const upload = await this.access.getLive(id);
    if (!authorized) await this.access.authorize(context, 'read', upload);
    if (upload.completedAt !== null) return upload;
    if (upload.concat?.type === 'final') {
      // A final whose partials completed or went while its assembly could not run (a crash, a
      // busy partial) is settled by the next request that asks about it.
      const settled = await this.concatenation.settleFinal(id, context).catch(this.stateIfBusy(id));
      if (settled === null) throw new UploadNotFoundError();
      return settled;
    }
    if (upload.offset === upload.length) {
      // Every byte is stored but the upload was never finished: its last PATCH was cut off (a
      // crash) after its bytes reached storage. It finishes now, through the normal path, so that
      // `tus.pre-finish` can still veto and `tus.post-finish` fires once.
      return this.appendAndSettle({ id, offset: upload.offset, body: null, context }).catch(this.stateIfBusy(id));
    }
    return upload;
  }

  /** A completed upload to stream (or an unfinished one, when configured). */
  async download(id: string, context: RequestContext): Promise<UploadInfo> {
    if (!this.config.download) throw new UploadNotFoundError();
    const upload = await this.access.getLive(id);
    // Authorised first: a stranger learns nothing, not even whether the upload is complete.
    await this.access.authorize(context, 'download', upload);
    const readable = this.config.downloadUnfinished && this.config.store.readsUnfinished && upload.concat?.type !== 'final';
    if (upload.completedAt === null && !readable) throw new UploadNotFoundError('Upload not complete');
    return upload;
  }

  /** The stored bytes of an upload {@link download} returned; `end` is inclusive. */
  read(upload: UploadInfo, range: { start?: number; end?: number } = {}): Promise<Readable> {
    return this.backend.createReadStream(upload, range);
  }

  /** Termination, and `TusStorageService.delete` with `context` null. */
  async terminate(id: string, context: RequestContext | null): Promise<UploadInfo> {
    if (!this.config.extensions.has('termination') && context !== null) throw new MethodNotAllowedError('The termination extension is disabled on this server');
    if (context !== null && this.config.authorize) await this.access.authorize(context, 'delete', await this.access.getLive(id));
    const removed = await this.access.withLock(id, async () => this.remove(await this.access.getLive(id), context));
    // The finals that waited for this partial can never complete now (settled outside its lock).
    await this.concatenation.settleFinals(this.concatenation.pendingFinalsOf(removed), context);
    return removed;
  }

  /** Removes the uploads that expired unfinished (expiry cleanup), each re-checked under its lock. */
  async removeExpired(): Promise<UploadInfo[]> {
    const removed: UploadInfo[] = [];
    const list = this.config.store.list;
    if (list === undefined) return removed;
    for await (const candidate of list()) {
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

  private async remove(upload: UploadInfo, context: RequestContext | null): Promise<UploadInfo> {
    await this.events.emitPre(TusEvent.PRE_TERMINATE, upload, context);
    await this.backend.remove(upload);
    this.events.emitPost(TusEvent.POST_TERMINATE, upload);
    return upload;
  }

  /** Appends under the upload's lock, then settles the finals a completed partial waited for. */
  private async appendAndSettle(command: AppendCommand): Promise<UploadInfo> {
    // Re-read under the lock: another request (or process) may have moved the upload on.
    const stored = await this.access.withLock(command.id, async () => this.appendLocked(await this.access.getLive(command.id), command));
    // A partial that is complete may be the last one its finals waited for. Settled once its own
    // lock is released: a final is assembled holding the locks of all its partials.
    if (stored.completedAt !== null) await this.concatenation.settleFinals(this.concatenation.pendingFinalsOf(stored), command.context);
    return stored;
  }

  /** {@link appendAndSettle} once the lock is held and `upload` is its current state. */
  private async appendLocked(upload: UploadInfo, command: AppendCommand): Promise<UploadInfo> {
    if (upload.concat?.type === 'final') throw new ForbiddenUploadError('A final upload cannot be patched');
    if (command.offset !== upload.offset) {
      throw new OffsetMismatchError(`Upload-Offset ${command.offset} does not match the upload's offset ${upload.offset}`);
    }
    // Lengths are checked first: a completed upload still refuses a different Upload-Length (400).
    const changes = await this.changesFor(upload, command);
    // A completed upload is never written again, as in tusd: an empty PATCH at its end (a client
    // retrying a PATCH whose answer it lost) gets the state; a write would reassemble the S3 object
    // from no parts, and so empty it.
    if (upload.completedAt !== null) {
      if (command.body !== null && command.body.declaredLength !== 0) throw new PayloadTooLargeError('The upload is complete: no more bytes');
      return upload;
    }
    const length = changes.length ?? upload.length;
    const limit = length ?? (await this.config.maxSize(command.context));
    return this.writer.write(upload, command.body, changes, limit - upload.offset, command.context);
  }

  /** The state an append changes besides the bytes: a deferred length declared now, the renewed expiry. */
  private async changesFor(upload: UploadInfo, command: AppendCommand): Promise<UploadChanges> {
    const changes: UploadChanges = {};
    if (upload.expiresAt !== null) changes.expiresAt = this.expiryFrom(this.clock.now());
    const { length } = command;
    if (length === undefined) return changes;
    if (upload.length !== null) {
      if (length !== upload.length) throw new InvalidRequestError('Upload-Length cannot change once set');
      return changes;
    }
    if (length < upload.offset) throw new InvalidRequestError("Upload-Length is below the upload's offset");
    const maxSize = await this.config.maxSize(command.context);
    if (length > maxSize) throw new PayloadTooLargeError(`Upload-Length exceeds the maximum of ${maxSize} bytes`);
    changes.length = length;
    return changes;
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

  private async newId(context: RequestContext): Promise<string> {
    const id = await this.config.generateId(context);
    if (typeof id !== 'string' || !isValidUploadId(id)) {
      throw new Error(`generateId returned "${String(id)}": ids must match [A-Za-z0-9_-]{1,200}`);
    }
    return id;
  }
}

/**
 * How long a HEAD waits for a stalled request it stopped (or one already ending) to save its
 * bytes. Past it, HEAD answers the offset before them, and the client resends bytes the server is
 * still saving (a 409 and another round at best). A save is a part or block upload and an `.info`
 * write: 2 s was not enough for them under load (S3 and Azurite on a loaded machine: three tests
 * saw the offset before the save), and a storage that hangs is ended by its own deadlines.
 */
const TAKEOVER_WAIT_MS = 10_000;
