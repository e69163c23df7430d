import { Inject, Injectable, Logger } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { TUS_CONFIG, type TusConfig } from './tus.config.js';
import { InvalidRequestError, PayloadTooLargeError } from './tus.errors.js';
import { TusEvent } from './events/tus.events.js';
import { TusEventsEmitter } from './events/tus-events.emitter.js';
import { header } from './http/raw-request.js';
import { uploadIdFromUrl, type UploadConcat } from './protocol/upload-concat.js';
import { UploadAccess } from './upload-access.js';
import { type NewUpload, type UploadInfo, uploadPreview } from './upload-info.js';

/**
 * The concatenation extensions: a final upload made of partials, assembled at once when they are
 * complete, or (concatenation-unfinished) recorded now and assembled when the last one completes.
 */
@Injectable()
export class TusConcatenationService {
  private readonly logger = new Logger('TusModule');

  constructor(
    @Inject(TUS_CONFIG) private readonly config: TusConfig,
    private readonly events: TusEventsEmitter,
    private readonly access: UploadAccess,
  ) {}

  private get backend() {
    return this.config.backend;
  }

  /** POST with `Upload-Concat: final;...`. */
  async createFinal(
    request: IncomingMessage,
    base: Pick<NewUpload, 'id' | 'metadata' | 'metadataHeader' | 'createdAt'>,
    concat: Extract<UploadConcat, { type: 'final' }>,
  ): Promise<UploadInfo> {
    const partIds = concat.urls.map(uploadIdFromUrl);
    const parts = await Promise.all(partIds.map((partId) => this.access.getLive(partId)));
    const unfinishedAllowed = this.config.extensions.has('concatenation-unfinished');
    for (const part of parts) {
      if (part.concat?.type !== 'partial') throw new InvalidRequestError(`Upload ${part.id} is not a partial upload`);
      if (part.completedAt === null && !unfinishedAllowed) throw new InvalidRequestError(`Partial upload ${part.id} is not complete`);
      await this.access.authorize(request, 'read', part);
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
    const preview = uploadPreview(newUpload);
    await this.access.authorize(request, 'create', preview);
    await this.events.emitPre(TusEvent.PRE_CREATE, preview, request);

    if (parts.every((part) => part.completedAt !== null)) {
      await this.events.emitPre(TusEvent.PRE_FINISH, { ...preview, offset: length! }, request);
      // The partials are held while their bytes are copied, and read again once held: a DELETE
      // meanwhile waits, or has already made this a 404, instead of pulling a partial from under
      // the copy (a 500, found by the HTTP fuzz).
      const upload = await this.withLocks(partIds, async () =>
        this.backend.concatenate(newUpload, await Promise.all(partIds.map((partId) => this.access.getLive(partId)))),
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
      await this.access.withLock(partId, async () => {
        const part = await this.backend.get(partId);
        const finals = part.concat?.type === 'partial' ? (part.concat.finals ?? []) : [];
        await this.backend.update(part, { concat: { type: 'partial', finals: [...finals, upload.id] } });
      });
    }
    return (await this.completeFinal(upload.id, request)) ?? upload;
  }

  /** Runs `work` holding the locks of `ids`, taken in one (sorted) order so that two finals never wait on each other. */
  private withLocks<T>(ids: string[], work: () => Promise<T>): Promise<T> {
    return [...new Set(ids)].sort().reduceRight<() => Promise<T>>((inner, id) => () => this.access.withLock(id, inner), work)();
  }

  /** Finals waiting for a partial that just completed: a failure there is the final's, not this PATCH's. */
  async completeFinals(finalIds: string[], request: IncomingMessage): Promise<void> {
    for (const finalId of finalIds) {
      await this.completeFinal(finalId, request).catch((error: unknown) => {
        this.logger.error(`Concatenating final upload ${finalId} failed: ${error instanceof Error ? error.message : String(error)}`);
      });
    }
  }

  /**
   * Assembles a final upload whose partials have all completed (concatenation-unfinished).
   * Returns the completed final, or undefined while a partial is still missing bytes.
   */
  private async completeFinal(finalId: string, request: IncomingMessage | null): Promise<UploadInfo | undefined> {
    return this.access.withLock(finalId, async () => {
      const final = await this.backend.get(finalId);
      if (final.concat?.type !== 'final' || final.completedAt !== null) return undefined;
      const parts = await Promise.all(final.concat.parts.map((partId) => this.backend.get(partId)));
      if (parts.some((part) => part.completedAt === null)) return undefined;
      const length = parts.reduce((sum, part) => sum + part.offset, 0);
      await this.events.emitPre(TusEvent.PRE_FINISH, { ...final, length, offset: length }, request);
      const completed = await this.backend.concatenate(final, parts);
      this.events.emitPost(TusEvent.POST_FINISH, completed);
      return completed;
    });
  }
}
