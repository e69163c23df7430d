import { Inject, Injectable } from '@nestjs/common';
import { Readable } from 'node:stream';
import { PayloadTooLargeError } from '../errors/tus.errors.js';
import type { UploadInfo } from '../protocol/upload-info.js';
import type { ChunkSource, UploadChanges } from '../storage/tus-storage-backend.interface.js';
import { ActiveWrites } from './active-writes.js';
import { ByteMeter } from './byte-meter.transform.js';
import { TusEvent } from './events/tus.events.js';
import { TusEventsEmitter } from './events/tus-events.emitter.js';
import { TusConfig } from './tus-config.js';
import type { UploadBody } from './upload-body.js';
import type { RequestContext } from './upload-commands.js';

/**
 * Stores one chunk of an upload whose lock is held and whose state was just checked: the body
 * through its byte count (the limit, `tus.post-receive` progress) and the front door's stages into
 * the backend, registered as an active write (so a newer request or a shutdown can end it), then
 * the events of what it stored.
 */
@Injectable()
export class UploadWriter {
  constructor(
    @Inject(TusConfig) private readonly config: TusConfig,
    private readonly events: TusEventsEmitter,
    private readonly activeWrites: ActiveWrites,
  ) {}

  /** Appends `body` (or nothing: a finish) at `upload.offset`, at most `maxBytes`, with `changes`. */
  async write(upload: UploadInfo, body: UploadBody | null, changes: UploadChanges, maxBytes: number, context: RequestContext | null): Promise<UploadInfo> {
    if (body?.declaredLength !== undefined && body.declaredLength > maxBytes) {
      throw new PayloadTooLargeError('The chunk goes past Upload-Length');
    }
    const length = changes.length ?? upload.length;
    const progress = this.events.progress(upload, this.config.postReceiveIntervalMs);
    const meter = new ByteMeter(maxBytes, 'The chunk goes past Upload-Length', progress && ((bytes) => progress(upload.offset + bytes)));
    const chunk: ChunkSource = {
      stream: body ? body.open() : Readable.from([]),
      stages: body ? [meter, ...body.stages] : [meter],
      keepOnInterrupt: body?.keepOnInterrupt ?? true,
      verify: async (newOffset) => {
        body?.verify();
        // "no finish processing for partials": they complete into a final, not on their own.
        if (newOffset === length && upload.completedAt === null && upload.concat?.type !== 'partial') {
          await this.events.emitPre(TusEvent.PRE_FINISH, { ...upload, ...changes, offset: newOffset }, context);
        }
      },
    };
    const unregister = body ? this.activeWrites.register(upload.id, body, () => meter.lastActivity) : () => undefined;
    let stored: UploadInfo;
    try {
      stored = await this.config.backend.write(upload, chunk, changes);
    } catch (error) {
      // An interrupted body may still have moved the offset: report where the upload stands.
      if (meter.bytes > 0) this.config.backend.get(upload.id).then((now) => this.events.received(now), () => undefined);
      throw error;
    } finally {
      body?.close();
      unregister();
    }
    if (stored.offset !== upload.offset) this.events.received(stored);
    // "no finish processing for partials": their finals are settled by the caller, unlocked.
    if (stored.completedAt !== null && upload.completedAt === null && stored.concat?.type !== 'partial') {
      this.events.emitPost(TusEvent.POST_FINISH, stored);
    }
    return stored;
  }
}
