import type { IncomingMessage } from 'node:http';
import { InvalidRequestError } from '../errors/tus.errors.js';
import { header } from './raw-request.js';

// RFC 9110 7.2: Host = uri-host [ ":" port ], uri-host an IP literal or a reg-name (RFC 3986).
const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})+)(?::[0-9]{0,5})?$/;

/** How `Location` is built (checklist 24). */
export interface LocationOptions {
  relative: boolean;
  trustForwardedHeaders: boolean;
}

/**
 * The URL of a new upload: the collection URL the POST was sent to, plus the id. Absolute by
 * default, from the request's `Host` (or the proxy's forwarded headers when trusted), or a path.
 */
export function uploadLocation(request: IncomingMessage, id: string, options: LocationOptions): string {
  const url = (request as IncomingMessage & { originalUrl?: string }).originalUrl ?? request.url ?? '/';
  const path = `${url.split('?', 1)[0]!.replace(/\/+$/, '')}/${id}`;
  if (options.relative) return path;
  const origin = (options.trustForwardedHeaders && forwardedOrigin(request)) || directOrigin(request);
  return `${origin}${path}`;
}

function directOrigin(request: IncomingMessage): string {
  const proto = (request.socket as { encrypted?: boolean }).encrypted === true ? 'https' : 'http';
  return originOf(proto, header(request, 'host') ?? 'localhost');
}

/** Origin from RFC 7239 `Forwarded` (first hop), else from `X-Forwarded-Host` / `-Proto`. */
export function forwardedOrigin(request: IncomingMessage): string | undefined {
  let proto: string | undefined;
  let host: string | undefined;
  const forwarded = header(request, 'forwarded');
  if (forwarded) {
    for (const pair of forwarded.split(',', 1)[0]!.split(';')) {
      const [key, raw = ''] = pair.split('=', 2).map((part) => part.trim());
      const value = raw.replace(/^"(.*)"$/, '$1');
      if (key?.toLowerCase() === 'proto') proto = value;
      if (key?.toLowerCase() === 'host') host = value;
    }
  }
  host ??= header(request, 'x-forwarded-host')?.split(',', 1)[0]!.trim();
  proto ??= header(request, 'x-forwarded-proto')?.split(',', 1)[0]!.trim();
  if (!host && !proto) return undefined;
  proto = proto?.toLowerCase() === 'https' ? 'https' : 'http';
  host ??= header(request, 'host') ?? 'localhost';
  return originOf(proto, host);
}

/**
 * `proto://host`. "A server MUST respond with a 400 (Bad Request) status code to any request
 * message that contains [...] a Host header field with an invalid field value" (RFC 9110 7.2):
 * a Host such as `a b` or `h/../x` would make a Location that is no URL, or another one.
 */
function originOf(proto: string, host: string): string {
  const origin = `${proto}://${stripDefaultPort(host, proto)}`;
  if (!HOST.test(host) || !URL.canParse(origin)) throw new InvalidRequestError('Host is not a valid host[:port]');
  return origin;
}

function stripDefaultPort(host: string, proto: string): string {
  const defaultPort = proto === 'https' ? ':443' : ':80';
  return host.endsWith(defaultPort) ? host.slice(0, -defaultPort.length) : host;
}
