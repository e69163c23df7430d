import type { AbstractHttpAdapter } from '@nestjs/core';
import type { IncomingMessage } from 'node:http';
import { PARTIAL_UPLOAD_MEDIA_TYPE } from '../../protocol/ietf/ietf-profile.js';
import type { UploadProtocol } from '../../protocol/upload-info.js';
import { draftProfileOf, stashContentType } from './ietf-request.js';

interface FastifyRequestLike {
  method: string;
  raw: IncomingMessage;
  routeOptions: { config?: Record<string, unknown> };
}

interface FastifyLike {
  hasContentTypeParser(type: string): boolean;
  addContentTypeParser(type: string, parser: (request: unknown, payload: unknown, done: (error: Error | null) => void) => void): void;
  addHook(name: 'onRequest', hook: (request: FastifyRequestLike, reply: unknown, done: () => void) => void): void;
}

/**
 * Fastify parses a body by its `Content-Type` before the route's handler runs, and answers 415 to
 * a type it has no parser for, or to a body without a type. The draft's content has any type: a
 * creation carries the file's own (`image/jpeg`, or none: tus-js-client's `ietf-draft-03`), an
 * append of interop 3 to 5 none at all. For a draft creation or append on a tus route, the client's
 * `Content-Type` is kept aside for the front door (`clientContentType`) and replaced with
 * `application/partial-upload`, for which a parser that reads nothing is registered, so the body
 * streams to storage as tus chunks do. Other requests and routes are left alone.
 *
 * An `onRequest` hook: added before the server is ready (`TusModule.configure`).
 */
export function passDraftBodiesOnFastify(adapter: AbstractHttpAdapter | undefined, protocols: ReadonlySet<UploadProtocol>): void {
  if (adapter?.getType() !== 'fastify' || !protocols.has('ietf-draft')) return;
  const fastify = adapter.getInstance<FastifyLike>();
  if (!fastify.hasContentTypeParser(PARTIAL_UPLOAD_MEDIA_TYPE)) {
    fastify.addContentTypeParser(PARTIAL_UPLOAD_MEDIA_TYPE, (_request, _payload, done) => done(null));
  }
  fastify.addHook('onRequest', (request, _reply, done) => {
    const { raw } = request;
    if ((request.method === 'POST' || request.method === 'PATCH') && request.routeOptions.config?.tusRoute === true && draftProfileOf(raw, protocols) !== null) {
      stashContentType(raw, raw.headers['content-type']);
      raw.headers['content-type'] = PARTIAL_UPLOAD_MEDIA_TYPE;
    }
    done();
  });
}
