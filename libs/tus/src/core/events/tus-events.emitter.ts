import { Inject, Injectable, Logger, type OnModuleInit, Optional } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import type { UploadInfo } from '../../protocol/upload-info.js';
import { TusEvent } from './tus.events.js';
import type { RequestContext } from '../upload-commands.js';
import { NO_METRICS, TusMetrics } from '../observability/tus-metrics.js';

type PreEventName = typeof TusEvent.PRE_CREATE | typeof TusEvent.PRE_FINISH | typeof TusEvent.PRE_TERMINATE;
type PostEventName = Exclude<(typeof TusEvent)[keyof typeof TusEvent], PreEventName>;

/**
 * Emits the lifecycle events. The emitter is optional: an app that did not import
 * `EventEmitterModule.forRoot()` gets no events, and pays nothing for them; it is told so once,
 * at start-up, since its `@OnEvent` listeners would otherwise wait in silence.
 */
@Injectable()
export class TusEventsEmitter implements OnModuleInit {
  private readonly lastReceive = new Map<string, number>();

  constructor(
    @Optional() private readonly emitter?: EventEmitter2,
    @Optional() @Inject(TusMetrics) private readonly metrics: TusMetrics = NO_METRICS,
  ) {}

  onModuleInit(): void {
    if (this.emitter !== undefined) return;
    new Logger('TusModule').warn(
      'EventEmitterModule is not imported: no tus lifecycle event (tus.post-finish, ...) will be emitted and no @OnEvent listener called. ' +
        'Import EventEmitterModule.forRoot() from @nestjs/event-emitter in your app module to receive them.',
    );
  }

  /** Awaits every listener; a listener's throw propagates, which vetoes the step. */
  async emitPre(name: PreEventName, upload: UploadInfo, context: RequestContext | null): Promise<void> {
    if (this.emitter === undefined || !this.emitter.hasListeners(name)) return;
    // The public payload (`TusPreEvent`) names the request `request`.
    const payload = { upload, request: context };
    await this.emitter.emitAsync(name, payload);
  }

  /** Fire and forget: a failing listener cannot undo what is already done. Counted, emitter or not. */
  emitPost(name: PostEventName, upload: UploadInfo): void {
    this.count(name);
    if (this.emitter === undefined) return;
    const payload = { upload };
    this.emitter.emit(name, payload);
  }

  /**
   * `tus.post-receive` while bytes flow, at most once per `intervalMs` per upload. Returns a
   * callback for the byte counter, taking the offset so far.
   */
  progress(upload: UploadInfo, intervalMs: number): ((offset: number) => void) | undefined {
    if (this.emitter === undefined || !this.emitter.hasListeners(TusEvent.POST_RECEIVE)) return undefined;
    // The interval starts with the request: a short request gets only its final event.
    this.lastReceive.set(upload.id, Date.now());
    return (offset) => {
      const now = Date.now();
      if (now - (this.lastReceive.get(upload.id) ?? 0) < intervalMs) return;
      this.lastReceive.set(upload.id, now);
      this.emitPost(TusEvent.POST_RECEIVE, { ...upload, offset });
    };
  }

  /** The lifecycle metrics: each `post-` event is one upload created, finished or terminated. */
  private count(name: PostEventName): void {
    if (name === TusEvent.POST_CREATE) this.metrics.uploadCreated();
    else if (name === TusEvent.POST_FINISH) this.metrics.uploadFinished();
    else if (name === TusEvent.POST_TERMINATE) this.metrics.uploadTerminated();
  }

  /** The `tus.post-receive` that ends every request that stored bytes. */
  received(upload: UploadInfo): void {
    this.lastReceive.delete(upload.id);
    this.emitPost(TusEvent.POST_RECEIVE, upload);
  }
}
