import { Inject, Injectable, Logger } from '@nestjs/common';
import { TusConfig } from './tus-config.js';
import { TusClock } from './tus.clock.js';
import { InvalidRequestError, PayloadTooLargeError, UploadLockedError, UploadNotFoundError } from '../errors/tus.errors.js';
import { TusEvent } from './events/tus.events.js';
import { TusEventsEmitter } from './events/tus-events.emitter.js';
import { UploadAccess } from './upload-access.js';
import { isExpired, type NewUpload, type UploadInfo, uploadPreview } from '../protocol/upload-info.js';
import type { ConcatRequest, RequestContext } from './upload-commands.js';

/**
 * The concatenation extensions: a final upload made of partials, assembled at once when they are
 * complete, or (concatenation-unfinished) recorded now and assembled when the last one completes.
 *
 * A final is assembled holding every partial's lock (and, when it was recorded before, its own),
 * taken in one sorted order (so two finals, or a final and a DELETE, never wait on each other),
 * with the partials read again under them: a DELETE or an expiry sweep of a partial either waits for the copy or comes first,
 * never in between. A final whose partial is gone (terminated, expired, or never fully recorded)
 * can never complete: it is terminated, with its `tus.pre-terminate` / `tus.post-terminate` events,
 * and answers 404 from then on.
 */
@Injectable()
export class TusConcatenationService {
  private readonly logger = new Logger('TusModule');

  constructor(
    @Inject(TusConfig) private readonly config: TusConfig,
    private readonly events: TusEventsEmitter,
    private readonly access: UploadAccess,
    @Inject(TusClock) private readonly clock: TusClock,
  ) {}

  private get backend() {
    return this.config.backend;
  }

  /** Creation of a final upload (tus: POST with `Upload-Concat: final;...`). */
  async createFinal(
    context: RequestContext,
    base: Pick<NewUpload, 'id' | 'metadata' | 'metadataHeader' | 'createdAt' | 'protocol'>,
    concat: Extract<ConcatRequest, { type: 'final' }>,
  ): Promise<UploadInfo> {
    const { partIds } = concat;
    const parts = await Promise.all(partIds.map((partId) => this.access.getLive(partId)));
    const unfinishedAllowed = this.config.extensions.has('concatenation-unfinished');
    for (const part of parts) {
      if (part.concat?.type !== 'partial') throw new InvalidRequestError(`Upload ${part.id} is not a partial upload`);
      if (part.completedAt === null && !unfinishedAllowed) throw new InvalidRequestError(`Partial upload ${part.id} is not complete`);
      await this.access.authorize(context, 'read', part);
    }
    // With concatenation-unfinished the length is known once every partial's length is.
    const length = parts.every((part) => part.length !== null) ? parts.reduce((sum, part) => sum + part.length!, 0) : null;
    const maxSize = await this.config.maxSize(context);
    if (length !== null && length > maxSize) throw new PayloadTooLargeError(`The concatenation exceeds the maximum of ${maxSize} bytes`);
    const newUpload: NewUpload = {
      ...base,
      length,
      expiresAt: null,
      concat: { type: 'final', parts: partIds, header: concat.header },
    };
    const preview = uploadPreview(newUpload);
    await this.access.authorize(context, 'create', preview);
    await this.events.emitPre(TusEvent.PRE_CREATE, preview, context);

    if (parts.every((part) => part.completedAt !== null)) {
      await this.events.emitPre(TusEvent.PRE_FINISH, { ...preview, offset: length! }, context);
      // Read again under the partials' locks: a DELETE meanwhile has made this a 404.
      const upload = await this.withLocks(partIds, async () =>
        this.concatenate(newUpload, await Promise.all(partIds.map((partId) => this.access.getLive(partId)))),
      );
      this.events.emitPost(TusEvent.POST_CREATE, upload);
      this.events.emitPost(TusEvent.POST_FINISH, upload);
      return upload;
    }

    // concatenation-unfinished: record the final now, tell each unfinished partial about it, and
    // assemble it when the last one completes (or now, if they all completed meanwhile).
    const upload = await this.backend.create(newUpload);
    this.events.emitPost(TusEvent.POST_CREATE, upload);
    for (const partId of new Set(parts.filter((part) => part.completedAt === null).map((part) => part.id))) {
      const told = await this.access.withLock(partId, async () => {
        const part = await this.backend.get(partId).catch(nullIfNotFound);
        if (part === null) return false;
        const finals = part.concat?.type === 'partial' ? (part.concat.finals ?? []) : [];
        await this.backend.update(part, { concat: { type: 'partial', finals: [...finals, upload.id] } });
        return true;
      });
      // Terminated since it was read: the final can never complete (settled below).
      if (!told) break;
    }
    // Busy: the last partial's PATCH is assembling it right now. The final exists and its creation
    // was announced: the client gets its URL whatever the settling says.
    const settled = await this.settleFinal(upload.id, context).catch((error: unknown) => {
      if (error instanceof UploadLockedError) return upload;
      throw error;
    });
    if (settled === null) throw new UploadNotFoundError('A partial upload of this concatenation no longer exists');
    return settled;
  }

  /**
   * Brings a final upload up to date with its partials: assembles it when they have all completed,
   * terminates it when one of them is gone or expired, and otherwise leaves it waiting. Returns its
   * state, or null when it no longer exists. Idempotent: any request that touches the final, or
   * ends one of its partials (the last PATCH, a DELETE, an expiry), may call it.
   */
  async settleFinal(finalId: string, context: RequestContext | null): Promise<UploadInfo | null> {
    const final = await this.backend.get(finalId).catch(nullIfNotFound);
    if (final === null || final.concat?.type !== 'final' || final.completedAt !== null) return final;
    const partIds = final.concat.parts;
    // Read without locks first: while a partial is still being uploaded nothing can be done, and
    // a request must not wait on that partial's lock to learn it.
    if (this.stillWaiting(await this.readParts(partIds))) return final;
    return this.withLocks([finalId, ...partIds], async () => {
      const current = await this.backend.get(finalId).catch(nullIfNotFound);
      if (current === null || current.completedAt !== null) return current;
      const parts = await this.readParts(partIds);
      if (parts.some((part) => part === null || isExpired(part, this.clock.now()))) {
        await this.events.emitPre(TusEvent.PRE_TERMINATE, current, context);
        await this.backend.remove(current);
        this.events.emitPost(TusEvent.POST_TERMINATE, current);
        return null;
      }
      const complete = parts as UploadInfo[];
      if (complete.some((part) => part.completedAt === null)) return current;
      const length = complete.reduce((sum, part) => sum + part.offset, 0);
      await this.events.emitPre(TusEvent.PRE_FINISH, { ...current, length, offset: length }, context);
      const assembled = await this.concatenate(current, complete);
      this.events.emitPost(TusEvent.POST_FINISH, assembled);
      return assembled;
    });
  }

  /**
   * {@link settleFinal} for the finals a partial names, after that partial completed or was
   * removed. A failure is the final's, not the request's that triggered it: the final stays as it
   * was and is settled again by the next request that touches it (its HEAD, say).
   */
  async settleFinals(finalIds: readonly string[], context: RequestContext | null): Promise<void> {
    for (const finalId of finalIds) {
      await this.settleFinal(finalId, context).catch((error: unknown) => {
        // Busy: another request holds the final or a partial, and settles it when it is done.
        if (error instanceof UploadLockedError) return;
        this.logger.warn(`Final upload ${finalId} not settled yet (${error instanceof Error ? error.message : String(error)}); its next request retries`);
      });
    }
  }

  /** The finals still waiting for `upload`, if it is a partial. */
  pendingFinalsOf(upload: UploadInfo): readonly string[] {
    return upload.concat?.type === 'partial' ? (upload.concat.finals ?? []) : [];
  }

  /** The backend's concatenation; only reached when the concatenation extension is on, which needs it. */
  private concatenate(upload: NewUpload | UploadInfo, parts: UploadInfo[]): Promise<UploadInfo> {
    const concatenate = this.config.store.concatenate;
    if (concatenate === undefined) throw new Error('The storage backend cannot concatenate');
    return concatenate(upload, parts);
  }

  /** Whether some partial is still being uploaded (present, live and unfinished). */
  private stillWaiting(parts: (UploadInfo | null)[]): boolean {
    const now = this.clock.now();
    const gone = parts.some((part) => part === null || isExpired(part, now));
    return !gone && parts.some((part) => part!.completedAt === null);
  }

  private readParts(partIds: readonly string[]): Promise<(UploadInfo | null)[]> {
    return Promise.all(partIds.map((partId) => this.backend.get(partId).catch(nullIfNotFound)));
  }

  /** Runs `work` holding the locks of `ids`, taken in one (sorted) order so that two callers never wait on each other. */
  private withLocks<T>(ids: string[], work: () => Promise<T>): Promise<T> {
    return [...new Set(ids)].sort().reduceRight<() => Promise<T>>((inner, id) => () => this.access.withLock(id, inner), work)();
  }
}

function nullIfNotFound(error: unknown): null {
  if (error instanceof UploadNotFoundError) return null;
  throw error;
}
