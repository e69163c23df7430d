import { type CallHandler, type ExecutionContext, Inject, Injectable, type NestInterceptor } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { Observable } from 'rxjs';
import { TusConfig } from '../core/tus-config.js';
import type { TusSpan } from '../core/observability/tus-tracing.js';
import { NO_METRICS } from '../core/observability/tus-metrics.js';
import { header, rawRequest, rawResponse } from './raw-request.js';

/**
 * Watches each tus request for the metrics and the traces. {@link TusRequestInterceptor} (the first
 * on the tus routes) calls {@link observe}: the request counts as running and gets its span
 * (`tus <METHOD>`), active while the handler runs so that the storage calls' spans are its
 * children; both end when the response is closed. {@link answered} and {@link failed} hear from
 * the responder and the exception filter, through which every answer goes, also for requests a
 * guard refused before the interceptor ran.
 */
@Injectable()
export class TusRequestObserver {
  private readonly spans = new WeakMap<IncomingMessage, TusSpan>();

  constructor(@Inject(TusConfig) private readonly config: TusConfig) {}

  observe(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    const request = rawRequest(http.getRequest());
    const response = rawResponse(http.getResponse());
    const { metrics, tracing } = this.config;
    if (metrics === NO_METRICS && !tracing.enabled) return next.handle();
    const method = request.method ?? 'UNKNOWN';
    const ended = metrics.requestStarted(method);
    if (!tracing.enabled) {
      response.once('close', ended);
      return next.handle();
    }
    const id = (http.getRequest() as { params?: Record<string, string> }).params?.id;
    const offset = header(request, 'upload-offset');
    const span = tracing.start(`tus ${method}`, {
      'http.request.method': method,
      'tus.upload.id': id,
      'tus.upload.offset': offset !== undefined && /^\d+$/.test(offset) ? Number(offset) : undefined,
    });
    this.spans.set(request, span);
    response.once('close', () => {
      ended();
      if (response.headersSent) span.setAttributes({ 'http.response.status_code': response.statusCode });
      else span.setAttributes({ 'tus.request.unanswered': true });
      span.end();
    });
    return new Observable((subscriber) => tracing.within(span, () => next.handle().subscribe(subscriber)));
  }

  /** A response is sent: counted, and its status and new offset go on the request's span. */
  answered(request: IncomingMessage, status: number, offset: string | number | undefined): void {
    this.config.metrics.requestAnswered(request.method ?? 'UNKNOWN', status);
    const span = this.spans.get(request);
    if (span === undefined) return;
    span.setAttributes({ 'http.response.status_code': status, 'tus.upload.new_offset': offset === undefined ? undefined : Number(offset) });
  }

  /** A request ended in an error, answered with `status` (or not at all: the client left). */
  failed(request: IncomingMessage, exception: unknown, kind: string, status: number | undefined): void {
    this.config.metrics.error(kind, status);
    const span = this.spans.get(request);
    if (span === undefined) return;
    span.setAttributes({ 'tus.error.kind': kind });
    if (status === undefined || status >= 500) span.fail(exception);
  }
}

/**
 * The observer as an interceptor. A class of its own: Nest makes a separate instance of each class
 * named in `@UseInterceptors`, while the responder and the filter must share the observer's spans.
 */
@Injectable()
export class TusRequestInterceptor implements NestInterceptor {
  constructor(private readonly observer: TusRequestObserver) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return this.observer.observe(context, next);
  }
}
