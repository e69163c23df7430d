import type { IncomingMessage } from 'node:http';
import { header } from './raw-request.js';

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
  return `${proto}://${stripDefaultPort(header(request, 'host') ?? 'localhost', proto)}`;
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
  return `${proto}://${stripDefaultPort(host, proto)}`;
}

function stripDefaultPort(host: string, proto: string): string {
  const defaultPort = proto === 'https' ? ':443' : ':80';
  return host.endsWith(defaultPort) ? host.slice(0, -defaultPort.length) : host;
}
