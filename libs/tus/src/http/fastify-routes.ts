import { SetMetadata } from '@nestjs/common';
import type { AbstractHttpAdapter } from '@nestjs/core';
import type { IncomingMessage } from 'node:http';
import type { FrameworkError } from './framework-errors.js';

/**
 * The metadata key of `@RouteConfig()` from `@nestjs/platform-fastify`, whose value Nest's Fastify
 * adapter hands to Fastify as the route's `config`. Spelled out: the library cannot import that
 * package, which Express apps do not install. Express ignores the metadata.
 */
const FASTIFY_ROUTE_CONFIG = '__fastify_route_config__';
/** Where in the route's `config` a tus route says which it is. */
const TUS_ROUTE = 'tusRoute';
/** Marks a route options object once shaped, when several tus modules (paths) share one Fastify. */
const SHAPED = Symbol('tus.fastify-shaped');

/** Marks a tus route so that {@link shapeFastifyTusRoutes} finds it on Fastify. */
export const FastifyTusRoute = (): MethodDecorator => SetMetadata(FASTIFY_ROUTE_CONFIG, { [TUS_ROUTE]: true });

/** Answers an error Fastify raised before the route's handler ran. */
export type FastifyErrorAnswer = (error: FrameworkError, request: IncomingMessage, reply: unknown) => void;

interface FastifyRouteOptions {
  method: string | string[];
  url: string;
  handler: unknown;
  config?: Record<string, unknown>;
  constraints?: unknown;
  errorHandler?: (error: FrameworkError, request: { raw: IncomingMessage }, reply: unknown) => void;
  [SHAPED]?: true;
}

interface FastifyLike {
  initialConfig: { ignoreTrailingSlash?: boolean; routerOptions?: { ignoreTrailingSlash?: boolean } };
  addHook(name: 'onRoute', hook: (route: FastifyRouteOptions) => void): void;
  route(options: FastifyRouteOptions): void;
}

/**
 * Fastify, unlike Express, treats `/files` and `/files/` as two routes unless the app sets
 * `ignoreTrailingSlash`, and Nest registers only the first: a tus client whose endpoint ends in
 * `/` (tus-js-client's examples do) got 404. Fastify also answers some requests itself, before the
 * route's handler and so before the module's exception filter: a content type it has no parser
 * for (415), a body its JSON parser refused (400). Those answers lacked `Tus-Resumable` and the
 * CORS headers, and came as JSON.
 *
 * Registers an `onRoute` hook (so this must run before Nest registers the routes). Each route of
 * this module's `path` (marked with {@link FastifyTusRoute}) gets an error handler that answers as
 * the module does (`answer`), and the collection routes are registered a second time at `<path>/`,
 * the same Nest handler (guards, interceptors, filter) behind both. A router that ignores trailing
 * slashes already serves both, and gets no second route.
 */
export function shapeFastifyTusRoutes(adapter: AbstractHttpAdapter | undefined, path: string, answer: FastifyErrorAnswer): void {
  if (adapter?.getType() !== 'fastify') return;
  const fastify = adapter.getInstance<FastifyLike>();
  const { initialConfig } = fastify;
  const bothSlashes = initialConfig.routerOptions?.ignoreTrailingSlash === true || initialConfig.ignoreTrailingSlash === true;
  const base = path === '/' ? '' : path;
  fastify.addHook('onRoute', (route) => {
    if (route.config?.[TUS_ROUTE] !== true || route[SHAPED] === true) return;
    // Nest puts a global prefix before `path`: this module's routes are those that end with it.
    const url = route.url.replace(/\/$/, '');
    const upload = url.endsWith(`${base}/:id`);
    const collection = !upload && url.endsWith(base);
    if (!upload && !collection) return;
    route[SHAPED] = true;
    route.errorHandler = (error, request, reply) => answer(error, request.raw, reply);
    if (collection && !bothSlashes && !route.url.endsWith('/')) {
      const { method, handler, config, constraints } = route;
      fastify.route({ method, url: `${url}/`, handler, config, ...(constraints === undefined ? {} : { constraints }) });
    }
  });
}
