import { HttpException } from '@nestjs/common';
import { UnsupportedMediaTypeError } from '../errors/tus.errors.js';

/** What the frameworks' own errors look like: Fastify's (a content type without a parser, a body its parser refused) and Express's body parsers'. */
export interface FrameworkError extends Error {
  statusCode?: number;
  code?: string;
}

/**
 * The exception the module answers for an error the framework raised on the tus path before a tus
 * route's handler ran: a content type Fastify has no parser for is the tus 415 (checklist 14, 28),
 * with the module's reason; another refusal of the request (a body a JSON parser refused, a
 * malformed length) keeps its 4xx status and first line; anything else goes on as is (an
 * `HttpException` answers its own status, the rest is a logged 500).
 */
export function frameworkException(error: unknown): unknown {
  const status = (error as FrameworkError | undefined)?.statusCode;
  if (status === 415) return new UnsupportedMediaTypeError();
  if (status !== undefined && status >= 400 && status < 500) return new HttpException((error as Error).message.split(/[\r\n]/, 1)[0]!, status);
  return error;
}
