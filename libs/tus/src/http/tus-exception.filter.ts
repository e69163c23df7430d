import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Inject, Injectable, Logger } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { TUS_VERSION } from '../protocol/tus.constants.js';
import { BodyIdleTimeoutError, InsufficientStorageError, MethodNotAllowedError, RequestSupersededError, ShutdownInterruptionError, ShuttingDownError, StorageUnavailableError, TusError } from '../errors/tus.errors.js';
import { discardEarlyBody } from './early-body.js';
import { closeWithoutLingering, lingerWhileBodyArrives } from './lingering-close.js';
import { rawRequest } from './raw-request.js';
import { TusResponder } from './tus-responder.js';
import type { TusHeaders } from './response-headers.js';
import { TusRequestObserver } from './tus-request.observer.js';
import { TusHttpConfig } from './tus-http-config.js';
import { draftProfileOf } from './ietf/ietf-request.js';
import { draftErrorAnswer, IETF_CORS_FIELDS } from './ietf/ietf-errors.js';

/**
 * The one place where errors become responses: a {@link TusError} answers its spec status, an
 * `HttpException` (a vetoing event listener, a guard) its own, and anything else a logged 500
 * without internals. The reason is one line of plain text, with the tus headers; a request of the
 * IETF draft is answered in the draft's terms instead (`draftErrorAnswer`: problem details where
 * its version defines a problem type, never a tus field).
 */
@Catch()
@Injectable()
export class TusExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('TusModule');

  constructor(
    private readonly responder: TusResponder,
    private readonly observer: TusRequestObserver,
    @Inject(TusHttpConfig) private readonly config: TusHttpConfig,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    this.answer(exception, rawRequest(http.getRequest()), http.getResponse());
  }

  /** The answer to `exception`; also for errors Fastify raises before a tus route's handler runs. */
  answer(exception: unknown, request: IncomingMessage, reply: unknown): void {
    const response = reply as { headersSent?: boolean; sent?: boolean };
    // The client went away: there is no one to answer. (The socket tells, not the request: a
    // request whose body was read to the end is destroyed too, and still awaits its answer.)
    if (request.socket?.destroyed === true) {
      this.observer.failed(request, exception, kindOf(exception), undefined);
      return;
    }
    const { status, message } = describe(exception);
    this.observer.failed(request, exception, kindOf(exception), status);
    // A shutdown's 503 is expected, not a fault: nothing to log.
    const shuttingDown = exception instanceof ShuttingDownError;
    if (status >= 500 && !shuttingDown) this.log(exception, request);
    if (response.headersSent || response.sent) return;
    const headers: TusHeaders = {};
    if (exception instanceof MethodNotAllowedError && exception.allow !== undefined) headers.Allow = exception.allow.join(', ');
    if (shuttingDown) {
      // The connection ends with the answer: reading the rest of a body a slow client sends would
      // keep the server, and so the shutdown, waiting for it.
      headers.Connection = 'close';
      closeWithoutLingering(request);
    } else if (!request.complete) {
      // Answered before its body has all arrived: a connection that closes with the answer must
      // not reset it away (upload requests are set so on arrival; others, here).
      lingerWhileBodyArrives(request);
      // A body left unread (a chunk refused midway) is read and dropped: a client still sending
      // gets its answer instead of a broken pipe, and a kept-alive connection stays usable.
      discardEarlyBody(request);
    }
    const text = `${message.replace(/[\r\n]+/g, ' ')}\n`;
    const draft = draftProfileOf(request, this.config.protocols);
    if (draft !== null) {
      const answer = draftErrorAnswer(exception, status, message, draft, request);
      this.responder.reply(request, response, status, { ...answer.headers, ...headers }, answer.body, IETF_CORS_FIELDS);
    } else if (this.config.protocols.has('tus')) {
      this.responder.send(request, response, status, status === 412 ? { 'Tus-Version': TUS_VERSION, ...headers } : headers, text);
    } else {
      this.responder.reply(request, response, status, headers, { type: 'text/plain; charset=utf-8', text });
    }
  }

  private log(exception: unknown, request: IncomingMessage): void {
    // An unreachable storage or a full disk is the operator's to see, not a fault in the code: one
    // line a request, whose reason names the cause; a stack would only show the module's own calls.
    if (exception instanceof StorageUnavailableError || exception instanceof InsufficientStorageError) {
      // The system's own code names which limit a full disk hit (ENOSPC, EDQUOT); the 503's reason has its cause already.
      const code = (exception.cause as { code?: unknown } | undefined)?.code;
      const cause = exception instanceof InsufficientStorageError && typeof code === 'string' ? ` [${code}]` : '';
      this.logger.warn(`${request.method} ${(request.url ?? '').split('?')[0]}: ${exception.message}${cause}`);
      return;
    }
    this.logger.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
  }
}

function describe(exception: unknown): { status: number; message: string } {
  if (exception instanceof TusError) return { status: exception.getStatus(), message: exception.message };
  if (exception instanceof HttpException) {
    const body = exception.getResponse();
    const message = typeof body === 'string' ? body : ((body as { message?: unknown }).message ?? exception.message);
    return { status: exception.getStatus(), message: Array.isArray(message) ? message.join('; ') : String(message) };
  }
  // A body cut off in transit (lost connection, idle timeout, a newer request took over): the
  // bytes that arrived are saved; not a fault of the server's, so nothing to log.
  if (isInterruption(exception)) return { status: 400, message: 'Request body interrupted' };
  return { status: 500, message: 'Internal server error' };
}

/** The error's kind in metrics and spans: its class for an HTTP error, else `interrupted` or `internal`. */
function kindOf(exception: unknown): string {
  if (exception instanceof HttpException) return exception.constructor.name;
  return isInterruption(exception) ? 'interrupted' : 'internal';
}

function isInterruption(exception: unknown): boolean {
  if (exception instanceof BodyIdleTimeoutError || exception instanceof RequestSupersededError || exception instanceof ShutdownInterruptionError) return true;
  const code = (exception as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' || (exception as Error | undefined)?.message === 'aborted';
}
