import type { IncomingMessage } from 'node:http';
import { type IetfProfile, ietfProfile } from '../../protocol/ietf/ietf-profile.js';
import { detectInteropVersion, INTEROP_VERSION_FIELD } from '../../protocol/ietf/interop-version.js';
import type { UploadProtocol } from '../../protocol/upload-info.js';
import { header } from '../raw-request.js';

/**
 * The draft's profile when `request` is a request of the IETF draft this server serves: it names a
 * known interop version (3 to 8) in `Upload-Draft-Interop-Version` and `ietf-draft` is among the
 * protocols served. Anything else (no version, an unknown one, the draft not served) is null: a
 * tus 1.0 request, answered as today, never with a 104 ("Server implementations of draft versions
 * of the protocol MUST NOT send a `104 (Upload Resumption Supported)` informational response when
 * the interop version indicated ... is missing or mismatching", Draft Version Identification).
 */
export function draftProfileOf(request: IncomingMessage, protocols: ReadonlySet<UploadProtocol>): IetfProfile | null {
  if (!protocols.has('ietf-draft')) return null;
  const version = detectInteropVersion(request.headers[INTEROP_VERSION_FIELD]);
  return version === null ? null : ietfProfile(version);
}

const ORIGINAL_CONTENT_TYPE = Symbol('tus.ietf-original-content-type');

type StashingRequest = IncomingMessage & { [ORIGINAL_CONTENT_TYPE]?: { value: string | undefined } };

/**
 * Records the `Content-Type` a draft request came with before Fastify's content-type parsing
 * (see `fastify-draft-body.ts`) replaced it with the module's pass-through type.
 */
export function stashContentType(request: IncomingMessage, value: string | undefined): void {
  (request as StashingRequest)[ORIGINAL_CONTENT_TYPE] = { value };
}

/** The `Content-Type` the client sent (on Fastify, as it was before the module's parser saw it). */
export function clientContentType(request: IncomingMessage): string | undefined {
  const stashed = (request as StashingRequest)[ORIGINAL_CONTENT_TYPE];
  return stashed === undefined ? header(request, 'content-type') : stashed.value;
}
