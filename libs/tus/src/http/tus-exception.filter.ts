import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { TUS_VERSION } from '../tus.constants.js';
import { TusError } from '../tus.errors.js';
import { rawRequest } from './raw-request.js';
import { TusResponder } from './tus-responder.js';

/**
 * The one place where errors become responses: a {@link TusError} answers its spec status, an
 * `HttpException` (a vetoing event listener, a guard) its own, and anything else a logged 500
 * without internals. The reason is one line of plain text.
 */
@Catch()
export class TusExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('TusModule');

  constructor(private readonly responder: TusResponder) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const response = http.getResponse<{ headersSent?: boolean; sent?: boolean }>();
    const request = rawRequest(http.getRequest());
    // The client went away mid-body (or its stalled request was ended): its bytes are saved and
    // there is no one to answer. Not an error of the server's.
    if (request.destroyed) return;
    const { status, message } = describe(exception);
    if (status >= 500) this.logger.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
    if (response.headersSent || response.sent) return;
    const headers = status === 412 ? { 'Tus-Version': TUS_VERSION } : {};
    this.responder.send(request, response, status, headers, `${message.replace(/[\r\n]+/g, ' ')}\n`);
  }
}

function describe(exception: unknown): { status: number; message: string } {
  if (exception instanceof TusError) return { status: exception.status, message: exception.message };
  if (exception instanceof HttpException) {
    const body = exception.getResponse();
    const message = typeof body === 'string' ? body : ((body as { message?: unknown }).message ?? exception.message);
    return { status: exception.getStatus(), message: Array.isArray(message) ? message.join('; ') : String(message) };
  }
  return { status: 500, message: 'Internal server error' };
}
