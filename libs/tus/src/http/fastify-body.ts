import type { AbstractHttpAdapter } from '@nestjs/core';
import { OFFSET_OCTET_STREAM } from '../protocol/tus.constants.js';

interface FastifyLike {
  hasContentTypeParser(type: string): boolean;
  addContentTypeParser(type: string, parser: (request: unknown, payload: unknown, done: (error: Error | null) => void) => void): void;
}

/**
 * Fastify answers 415 to a content type it has no parser for, and its own parsers buffer the whole
 * body. Registers a parser for tus chunks that reads nothing, so the module streams `req.raw`.
 */
export function registerFastifyChunkParser(adapter: AbstractHttpAdapter | undefined): void {
  if (adapter?.getType() !== 'fastify') return;
  const fastify = adapter.getInstance<FastifyLike>();
  if (fastify.hasContentTypeParser(OFFSET_OCTET_STREAM)) return;
  fastify.addContentTypeParser(OFFSET_OCTET_STREAM, (_request, _payload, done) => done(null));
}
