import type { AbstractHttpAdapter } from '@nestjs/core';
import type { IncomingMessage } from 'node:http';
import type { TusConfig } from '../../core/tus-config.js';
import { MethodNotAllowedError, type TusError, UploadNotFoundError } from '../../errors/tus.errors.js';
import { frameworkException } from '../framework-errors.js';

/** Where a request's path lies relative to the tus path. */
export type TusPathPlace = 'outside' | 'collection' | 'upload' | 'deeper';

/** What decides which methods the tus routes serve. */
export type TusRoutesConfig = Pick<TusConfig, 'extensions' | 'download'>;

/** Answers a request for the tus path as the module does (through its exception filter). */
export type TusPathAnswer = (exception: unknown, request: IncomingMessage, reply: unknown) => void;

/**
 * Where the request target `url` (path and query, as sent) lies relative to `mount` (the tus path
 * after any global prefix, normalised: `/files`): the collection (`/files`, `/files/`), one upload
 * (`/files/<id>`, `/files/<id>/`), deeper (`/files/a/b`, `/files/../x`), or outside (`/`,
 * `/filesystem`). Segments are compared as sent, neither decoded nor resolved, as the routers do.
 */
export function placeInTusPath(url: string, mount: string, caseSensitive: boolean): TusPathPlace {
  const path = url.split(/[?#]/, 1)[0]!;
  const base = mount === '/' ? '' : mount;
  const head = path.slice(0, base.length);
  if (caseSensitive ? head !== base : head.toLowerCase() !== base.toLowerCase()) return 'outside';
  const rest = path.slice(base.length);
  if (rest === '' || rest === '/') return 'collection';
  if (!rest.startsWith('/')) return 'outside';
  const segments = rest.slice(1).replace(/\/$/, '').split('/');
  return segments.length === 1 && segments[0] !== '' ? 'upload' : 'deeper';
}

/** The methods the tus routes serve at `place` with this configuration: the `Allow` of a 405. */
export function allowedMethods(place: 'collection' | 'upload', { extensions, download }: TusRoutesConfig): string[] {
  if (place === 'collection') return extensions.has('creation') ? ['OPTIONS', 'POST'] : ['OPTIONS'];
  // POST: X-HTTP-Method-Override (checklist 4).
  return ['OPTIONS', 'HEAD', ...(download ? ['GET'] : []), 'PATCH', 'POST', ...(extensions.has('termination') ? ['DELETE'] : [])];
}

/**
 * The answer to a request for the tus path that no tus route takes: 405 with `Allow` for a method
 * that the collection or an upload does not serve (the URL names a tus resource; the method is what
 * is wrong), 404 for a path deeper than an upload (it names nothing). Undefined outside the path,
 * and for a method the collection or an upload does serve (a route may still take it).
 */
export function unroutedException(place: TusPathPlace, method: string, config: TusRoutesConfig): TusError | undefined {
  if (place === 'outside') return undefined;
  if (place === 'deeper') return new UploadNotFoundError('Not found');
  const allowed = allowedMethods(place, config);
  if (allowed.includes(method)) return undefined;
  return new MethodNotAllowedError(`${method} is not allowed on ${place === 'collection' ? 'the upload collection' : 'an upload'}`, allowed);
}

interface FastifyRequestLike {
  url: string;
  method: string;
  raw: IncomingMessage;
  routeOptions: { url?: string; config?: Record<string, unknown> };
}

interface FastifyLike {
  initialConfig: { caseSensitive?: boolean; routerOptions?: { caseSensitive?: boolean } };
  addHook(name: 'onRequest', hook: (request: FastifyRequestLike, reply: unknown, done: () => void) => void): void;
}

/**
 * Checklist 1 on Fastify for the requests no tus route serves (`PUT /files/x`, `GET /files/`,
 * `/files/a/b`, `/files/../index.html`): they got Nest's JSON 404, or whatever a wildcard route
 * such as @fastify/static's `/*` made of them (its 403 for a path with `..`), without
 * `Tus-Resumable`. They now get the module's plain-text 404 or 405 ({@link unroutedException},
 * answered by `answer`: `Tus-Resumable`, CORS).
 *
 * An `onRequest` hook on the root instance, so it must be added before the server is ready (it
 * then applies to every route and to the 404 handler). Fastify has matched a route by then and has
 * not read the body: the hook lets through a request that matched a tus route (marked by
 * `FastifyTusRoute`), or an app's own route whose pattern lies under the tus path; a request that
 * matched nothing, or only a pattern from elsewhere, is answered.
 */
export function answerUnroutedOnFastify(
  adapter: AbstractHttpAdapter | undefined,
  mount: string,
  config: TusRoutesConfig,
  answer: TusPathAnswer,
): void {
  if (adapter?.getType() !== 'fastify') return;
  const fastify = adapter.getInstance<FastifyLike>();
  const { initialConfig } = fastify;
  const caseSensitive = (initialConfig.routerOptions?.caseSensitive ?? initialConfig.caseSensitive) !== false;
  fastify.addHook('onRequest', (request, reply, done) => {
    const place = placeInTusPath(request.url, mount, caseSensitive);
    const route = request.routeOptions;
    let exception: TusError | undefined;
    // find-my-way matches `<path>/` to `<path>/:id` with an empty id: that is the collection, and
    // a method it does not serve gets its 405, as on Express.
    if (route.config?.tusRoute === true) exception = place === 'collection' ? unroutedException(place, request.method, config) : undefined;
    else if (route.url === undefined || placeInTusPath(route.url, mount, caseSensitive) === 'outside') exception = unroutedException(place, request.method, config);
    if (exception === undefined) return done();
    answer(exception, request.raw, reply);
  });
}

type ExpressRequest = IncomingMessage & { originalUrl?: string };
type Next = (error?: unknown) => void;

interface ExpressLike {
  use(handler: (request: ExpressRequest, response: unknown, next: Next) => void): void;
  use(handler: (error: unknown, request: ExpressRequest, response: unknown, next: Next) => void): void;
  enabled?(setting: string): boolean;
}

/**
 * Checklist 1 on Express for the requests no tus route serves, as {@link answerUnroutedOnFastify}.
 * Express tries its middleware and routes in order: a handler added after the routes (from the
 * module's `onModuleInit`, which Nest runs after registering the routes and before its own 404
 * and error handlers) sees only the requests no route took, and an error handler there the errors
 * raised before any route ran. The one such error a tus client meets is the JSON parser's 400 for
 * a malformed body, which Express runs for every request, routed or not; for a request no route
 * would serve, the answer is that request's 404 or 405 instead, as on Fastify, which parses a body
 * only for a route it matched.
 */
export function answerUnroutedOnExpress(
  adapter: AbstractHttpAdapter | undefined,
  mount: string,
  config: TusRoutesConfig,
  answer: TusPathAnswer,
): void {
  if (adapter?.getType() !== 'express') return;
  const express = adapter.getInstance<ExpressLike>();
  // Express routes without regard to case unless told otherwise.
  const caseSensitive = express.enabled?.('case sensitive routing') === true;
  const placeOf = (request: ExpressRequest) => placeInTusPath(request.originalUrl ?? request.url ?? '/', mount, caseSensitive);
  express.use((request: ExpressRequest, response: unknown, next: Next) => {
    const place = placeOf(request);
    if (place === 'outside') return next();
    // A served method that no route took (an upload URL Express does not match): nothing there.
    answer(unroutedException(place, request.method ?? '', config) ?? new UploadNotFoundError('Not found'), request, response);
  });
  express.use((error: unknown, request: ExpressRequest, response: unknown, next: Next) => {
    const place = placeOf(request);
    if (place === 'outside') return next(error);
    answer(unroutedException(place, request.method ?? '', config) ?? frameworkException(error), request, response);
  });
}
