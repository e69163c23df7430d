import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { INTEROP_VERSION_FIELD } from '../protocol/ietf/interop-version.js';
import { PARTIAL_UPLOAD_MEDIA_TYPE } from '../protocol/ietf/ietf-profile.js';
import { OFFSET_OCTET_STREAM } from '../protocol/tus.constants.js';
import { discardEarlyBody, takeBodyEarly } from './early-body.js';
import { lingerWhileBodyArrives } from './lingering-close.js';

/**
 * Takes in the body of a tus or draft upload request (a chunk, or a creation carrying one) from the
 * moment the HTTP server emits the request, before the app's middleware, Nest's guards and the
 * route run: a client that sends bytes and then loses its connection while an app's guard checks
 * a token (or a middleware waits on anything) loses none of them, as it loses none while the route
 * waits for the upload's lock ({@link takeBodyEarly}, checklist 18). At most 64 KiB a request wait
 * in the module's buffer; past that TCP holds the client back, as it did before.
 *
 * Only requests that name a protocol (`Tus-Resumable`, `Upload-Draft-Interop-Version`) under the
 * tus path: other routes' bodies, under a path of `/` too, are the app's parsers'. A request no tus
 * route took up (a guard or a middleware answered it) has what was taken in dropped and the rest
 * drained once its answer is sent, as the route's own error answers do.
 */
export function takeUploadBodiesOnArrival(server: Server | undefined, mount: string): void {
  if (typeof server?.prependListener !== 'function') return;
  server.prependListener('request', (request: IncomingMessage, response: ServerResponse) => {
    if (!carriesUploadBody(request, mount)) return;
    takeBodyEarly(request);
    lingerWhileBodyArrives(request);
    response.once('finish', () => {
      if (!request.complete) discardEarlyBody(request);
    });
  });
}

/**
 * A POST or PATCH with a body, naming tus or the draft, to the tus path or an upload under it, of
 * the upload media types (`application/offset+octet-stream`, `application/partial-upload`, or none,
 * as the draft's early appends send). Not a body of any other type: an app's parser (Nest's JSON
 * and urlencoded ones, on by default) may read it before the route, and would wait for ever on a
 * request paused once 64 KiB were taken in. (A draft creation carrying a file's own type, say
 * `image/jpeg`, is taken in by its route, as before.)
 */
export function carriesUploadBody(request: IncomingMessage, mount: string): boolean {
  const { method, headers } = request;
  if (method !== 'PATCH' && method !== 'POST') return false;
  if (headers['content-length'] === undefined ? headers['transfer-encoding'] === undefined : headers['content-length'] === '0') return false;
  const draft = headers[INTEROP_VERSION_FIELD] !== undefined;
  if (headers['tus-resumable'] === undefined && !draft) return false;
  const type = (headers['content-type'] ?? '').split(';', 1)[0]!.trim().toLowerCase();
  if (type !== OFFSET_OCTET_STREAM && type !== PARTIAL_UPLOAD_MEDIA_TYPE && !(draft && type === '')) return false;
  return underMount(request.url ?? '', mount);
}

function underMount(url: string, mount: string): boolean {
  const path = url.split('?', 1)[0]!;
  const base = mount.replace(/\/+$/, '');
  return base === '' || path === base || path.startsWith(`${base}/`);
}
