import type { TusCorsOptions } from '../module/tus-options.interface.js';
import { TUS_ALLOWED_HEADERS, TUS_EXPOSED_HEADERS, TUS_METHODS } from '../protocol/tus.constants.js';
import type { TusHeaders } from './tus-responder.js';

const EXPOSE = TUS_EXPOSED_HEADERS.join(', ');
const ALLOW_HEADERS = TUS_ALLOWED_HEADERS.join(', ');
const ALLOW_METHODS = TUS_METHODS.join(', ');

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
 * `Access-Control-Request-Method`) also gets the methods, the tus request headers and a max-age.
 */
export function corsHeaders(cors: TusCorsOptions, origin: string | undefined, preflight: boolean): TusHeaders {
  const allowOrigin = allowedOrigin(cors, origin);
  if (allowOrigin === undefined) return {};
  const headers: TusHeaders = {
    'Access-Control-Allow-Origin': allowOrigin,
    'Access-Control-Allow-Credentials': cors.credentials ? 'true' : undefined,
    'Access-Control-Expose-Headers': EXPOSE,
    // The answer depends on the origin whenever it is not `*`: caches must keep them apart.
    Vary: allowOrigin === '*' ? undefined : 'Origin',
  };
  if (preflight) {
    headers['Access-Control-Allow-Methods'] = ALLOW_METHODS;
    headers['Access-Control-Allow-Headers'] = ALLOW_HEADERS;
    headers['Access-Control-Max-Age'] = cors.maxAge ?? 86_400;
  }
  return headers;
}
