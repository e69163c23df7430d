import type { IncomingMessage } from 'node:http';
import { header } from './raw-request.js';

/** True when the request announces a body: a non-zero `Content-Length`, or a chunked one. */
export function hasBody(request: IncomingMessage): boolean {
  const length = header(request, 'content-length');
  if (length !== undefined) return length !== '0';
  return header(request, 'transfer-encoding') !== undefined;
}

/**
 * A body parser registered for every content type (`express.raw()`, Fastify's `useBodyParser`)
 * reads the chunk before the module sees it. Fail loudly rather than store nothing.
 */
export function assertBodyUnread(request: IncomingMessage): void {
  const consumed = (request as IncomingMessage & { _body?: boolean })._body === true || request.readableEnded;
  if (consumed && hasBody(request)) {
    throw new Error(
      'The request body was consumed by a body parser before nestjs-tus read it: exclude the tus path from parsers of application/offset+octet-stream',
    );
  }
}
