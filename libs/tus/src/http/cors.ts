import { TUS_ALLOWED_HEADERS, TUS_EXPOSED_HEADERS, TUS_METHODS } from '../protocol/tus.constants.js';
import type { TusHeaders } from './response-headers.js';

/** CORS for browser clients on other origins (checklist 39-40). */
export interface TusCorsOptions {
  /**
   * Allowed origins: `'*'` (any, never with credentials), a list, a pattern, or a predicate.
   */
  origin: '*' | string[] | RegExp | ((origin: string) => boolean);
  /**
   * Send `Access-Control-Allow-Credentials: true` (cookies, HTTP auth). The allowed origin is
   * then always echoed, never `*`.
   * @default false
   */
  credentials?: boolean;
  /**
   * How long a browser may cache a preflight, in seconds.
   * @default 86400
   */
  maxAge?: number;
}

const ALLOW_METHODS = TUS_METHODS.join(', ');

/** The header names a CORS answer lists: those a response exposes, and those a preflight allows. */
export interface CorsFieldLists {
  /** `Access-Control-Expose-Headers` of every response. */
  readonly expose: readonly string[];
  /** `Access-Control-Allow-Headers` of a preflight. */
  readonly allowHeaders: readonly string[];
}

/** tus 1.0's lists (checklist 39-40). */
export const TUS_CORS_FIELDS: CorsFieldLists = { expose: TUS_EXPOSED_HEADERS, allowHeaders: TUS_ALLOWED_HEADERS };

/** The value of `Access-Control-Allow-Origin` for a request from `origin`, or undefined when not allowed. */
export function allowedOrigin(cors: TusCorsOptions, origin: string | undefined): string | undefined {
  if (origin === undefined) return undefined;
  const { origin: allowed, credentials } = cors;
  if (allowed === '*') return credentials ? undefined : '*';
  const ok = Array.isArray(allowed) ? allowed.includes(origin) : allowed instanceof RegExp ? allowed.test(origin) : allowed(origin);
  return ok ? origin : undefined;
}

/**
 * CORS headers for a response to `origin` (checklist 39-40). A preflight (`OPTIONS` with
 * `Access-Control-Request-Method`) also gets the methods, the request headers of `fields` and a
 * max-age; every response exposes the response headers of `fields` (tus 1.0's by default).
 */
export function corsHeaders(cors: TusCorsOptions, origin: string | undefined, preflight: boolean, fields: CorsFieldLists = TUS_CORS_FIELDS): TusHeaders {
  const allowOrigin = allowedOrigin(cors, origin);
  if (allowOrigin === undefined) return {};
  const headers: TusHeaders = {
    'Access-Control-Allow-Origin': allowOrigin,
    'Access-Control-Allow-Credentials': cors.credentials ? 'true' : undefined,
    'Access-Control-Expose-Headers': fields.expose.join(', '),
    // The answer depends on the origin whenever it is not `*`: caches must keep them apart.
    Vary: allowOrigin === '*' ? undefined : 'Origin',
  };
  if (preflight) {
    headers['Access-Control-Allow-Methods'] = ALLOW_METHODS;
    headers['Access-Control-Allow-Headers'] = fields.allowHeaders.join(', ');
    headers['Access-Control-Max-Age'] = cors.maxAge ?? 86_400;
  }
  return headers;
}
