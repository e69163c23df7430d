import { Inject, Injectable } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { TusConfig } from '../core/tus-config.js';
import type { TusSpan } from '../core/observability/tus-tracing.js';
import { NO_METRICS } from '../core/observability/tus-metrics.js';
import { header } from './raw-request.js';

/**
 * Watches each tus request for the metrics and the traces. Every tus route runs its work through
 * {@link run}: the request counts as running and gets its span (`tus <METHOD>`), active while the
 * handler runs so that the storage calls' spans are its children; both end when the response is
 * closed. {@link answered} and {@link failed} hear from the responder and the exception filter,
 * through which every answer goes, also for requests a guard refused before the route ran.
 *
 * Called by the routes rather than being an interceptor: with any interceptor on a route, Nest runs
 * each of its requests through an RxJS pipeline, about a tenth of the CPU of a HEAD (issue 16),
 * paid even with metrics and tracing off.
 */
@Injectable()
export class TusRequestObserver {
  private readonly spans = new WeakMap<IncomingMessage, TusSpan>();

  constructor(@Inject(TusConfig) private readonly config: TusConfig) {}

  /**
   * Runs a route's `work` as one observed request: counted as running until its response closes,
   * and, with tracing, inside its span (`tus <METHOD>`), so that the storage calls' spans are its
   * children. Without metrics and tracing it is only `work()`: a request pays nothing for them.
   */
  run<T>(request: IncomingMessage, response: ServerResponse, id: string | undefined, work: () => Promise<T>): Promise<T> {
    const { metrics, tracing } = this.config;
    if (metrics === NO_METRICS && !tracing.enabled) return work();
    const method = request.method ?? 'UNKNOWN';
    const ended = metrics.requestStarted(method);
    if (!tracing.enabled) {
      response.once('close', ended);
      return work();
    }
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
    return tracing.within(span, work);
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
