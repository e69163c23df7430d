import type { IncomingMessage } from 'node:http';
import type { UploadBody } from '../../core/upload-body.js';
import type { AppendCommand, CreateUploadCommand } from '../../core/upload-commands.js';
import { InconsistentLengthError, InvalidRequestError, UnsupportedMediaTypeError } from '../../errors/tus.errors.js';
import type { IetfProfile } from '../../protocol/ietf/ietf-profile.js';
import { representationMetadata } from '../../protocol/ietf/representation-metadata.js';
import { readUploadComplete, readUploadLength, readUploadOffset } from '../../protocol/ietf/upload-state-fields.js';
import { parseMetadata, stringifyMetadata, type UploadMetadata } from '../../protocol/metadata.js';
import { header } from '../raw-request.js';
import { assertBodyUnread } from '../request-body.js';
import { type IdleRule, requestUploadBody } from '../request-upload-body.js';
import { draftDigestVerifier } from './ietf-digests.js';
import { clientContentType } from './ietf-request.js';

/** What the draft's front door needs to read a request. */
export interface IetfRequestRules extends IdleRule {
  readonly maxMetadataBytes: number;
}

/** A draft request that carries content: the core's command and what follows it. */
export interface IetfTransfer<C> {
  /** The command; a creation's carries no body (the front door decides when the body goes). */
  readonly command: C;
  /** The content, or null when the request has none. */
  readonly body: UploadBody | null;
  /** `Upload-Complete: ?1` (`Upload-Incomplete: ?0` for interop 3): this request ends the upload. */
  readonly complete: boolean;
  /**
   * Complete, with content of unknown length (chunked): the length is known once the content has
   * arrived, and a second append without content declares it, as a tus deferred-length client does.
   */
  readonly finishAfterBody: boolean;
}

/**
 * A draft upload creation (a POST to the collection): the completeness field is required ("Upon
 * receiving a request with the `Upload-Complete` header field, the server can choose to offer
 * resumption support", Upload Creation), the length comes from `Upload-Length` and/or
 * `Upload-Complete: ?1` with `Content-Length`, which must agree (400, inconsistent length).
 * `Upload-Metadata` and `Upload-Defer-Length`, which tus-js-client 4.3 sends in its draft modes, are
 * accepted: the first as metadata, the second changes nothing (no length is a deferred length).
 * `Content-Type` (but `application/partial-upload`) and `Content-Disposition` give `filetype` and
 * `filename`, unless `Upload-Metadata` names them.
 */
export function draftCreation(request: IncomingMessage, profile: IetfProfile, rules: IetfRequestRules): IetfTransfer<CreateUploadCommand> {
  const complete = requiredCompleteness(request, profile);
  const contentLength = bodyLength(request);
  const declared = declaredLength(request);
  let length = declared ?? null;
  if (complete && contentLength !== undefined) {
    if (declared !== undefined && declared !== contentLength) {
      throw new InconsistentLengthError(`Upload-Length ${declared} and the content's ${contentLength} bytes of a completing request disagree`);
    }
    length = contentLength;
  } else if (declared !== undefined && contentLength !== undefined && contentLength > declared) {
    throw new InconsistentLengthError(`The content (${contentLength} bytes) is longer than Upload-Length ${declared}`);
  }
  const { metadata, metadataHeader } = creationMetadata(request, rules.maxMetadataBytes);
  const body = contentLength === 0 ? null : draftBody(request, rules, draftDigestVerifier(request, profile, complete));
  return {
    command: { metadata, metadataHeader, length, body: null, context: request, protocol: 'ietf-draft' },
    body,
    complete,
    finishAfterBody: complete && contentLength === undefined,
  };
}

/**
 * A draft upload append (a PATCH to the upload): `Upload-Offset` required; from interop 6 the
 * media type `application/partial-upload` ("The request MUST use the `PATCH` method with the
 * `application/partial-upload` media type", draft -04 on, else 415); from interop 7 the
 * completeness field is required ("The request MUST include the `Upload-Complete` header field",
 * draft -06 on). Before, a request without it says nothing about completion: tus-js-client 4.3
 * sends none on the empty last request of a deferred-length upload, whose `Upload-Length` then
 * completes it. The length comes from `Upload-Complete: ?1` with `Content-Length` (offset plus
 * content) and/or `Upload-Length`, which must agree.
 */
export function draftAppend(id: string, request: IncomingMessage, profile: IetfProfile, rules: IetfRequestRules): IetfTransfer<AppendCommand> {
  const type = profile.appendContentType;
  if (type !== null && mediaTypeOf(clientContentType(request)) !== type) throw new UnsupportedMediaTypeError(`Content-Type must be ${type}`);
  const offsetRead = readUploadOffset(request.headers['upload-offset']);
  if (offsetRead.kind !== 'valid') throw new InvalidRequestError('Upload-Offset must be a non-negative Integer');
  const offset = offsetRead.value;
  const completeRead = readUploadComplete(profile, request.headers);
  if (completeRead.kind === 'invalid') throw new InvalidRequestError(completeRead.reason);
  if (completeRead.kind === 'absent' && profile.appendResponseCompleteness) throw new InvalidRequestError(`${profile.completenessField} is required`);
  const complete = completeRead.kind === 'valid' && completeRead.value;
  const contentLength = bodyLength(request);
  const declared = declaredLength(request);
  let length = declared;
  if (complete && contentLength !== undefined) {
    if (declared !== undefined && declared !== offset + contentLength) {
      throw new InconsistentLengthError(`Upload-Length ${declared} and the ${offset + contentLength} bytes a completing request makes disagree`);
    }
    length = offset + contentLength;
  } else if (declared !== undefined && contentLength !== undefined && offset + contentLength > declared) {
    throw new InconsistentLengthError(`The content goes past Upload-Length ${declared}`);
  }
  const body = contentLength === 0 ? null : draftBody(request, rules, draftDigestVerifier(request, profile, complete && offset === 0));
  return {
    command: { id, offset, ...(length === undefined ? {} : { length }), body, context: request },
    body,
    complete,
    finishAfterBody: complete && contentLength === undefined,
  };
}

/**
 * Offset retrieval and cancellation carry no state fields: "The request MUST NOT include the
 * `Upload-Offset` header or the `Upload-Incomplete` header. The server MUST reject the request ...
 * by sending a `400 (Bad Request)` response" (drafts -01 to -05, interop 3 to 6; `Upload-Complete`
 * from -02). Later drafts dropped the rule; their requests are not checked.
 */
export function assertNoStateFields(request: IncomingMessage, profile: IetfProfile): void {
  if (profile.interopVersion > 6) return;
  for (const name of ['Upload-Offset', profile.completenessField]) {
    if (header(request, name.toLowerCase()) !== undefined) throw new InvalidRequestError(`${request.method} must not carry ${name}`);
  }
}

function requiredCompleteness(request: IncomingMessage, profile: IetfProfile): boolean {
  const read = readUploadComplete(profile, request.headers);
  if (read.kind === 'valid') return read.value;
  throw new InvalidRequestError(read.kind === 'invalid' ? read.reason : `An upload creation needs ${profile.completenessField}`);
}

/** `Upload-Length` (draft -05 on; tus-js-client sends it for interop 5 too); a value that is not a non-negative Integer is ignored, as draft -09 on asks. */
function declaredLength(request: IncomingMessage): number | undefined {
  const read = readUploadLength(request.headers['upload-length']);
  return read.kind === 'valid' ? read.value : undefined;
}

/** The content's length: `Content-Length`, 0 without a body, undefined when chunked. */
function bodyLength(request: IncomingMessage): number | undefined {
  const declared = header(request, 'content-length');
  if (declared !== undefined) return Number(declared);
  return header(request, 'transfer-encoding') === undefined ? 0 : undefined;
}

function draftBody(request: IncomingMessage, rules: IetfRequestRules, verifier: ReturnType<typeof draftDigestVerifier>): UploadBody {
  assertBodyUnread(request);
  return requestUploadBody(request, rules, verifier);
}

function creationMetadata(request: IncomingMessage, maxBytes: number): { metadata: UploadMetadata; metadataHeader: string | null } {
  const raw = header(request, 'upload-metadata');
  const sent = parseMetadata(raw, maxBytes);
  const fromRepresentation = representationMetadata(clientContentType(request), header(request, 'content-disposition'));
  const metadata: UploadMetadata = Object.assign(Object.create(null), fromRepresentation, sent);
  const added = Object.keys(fromRepresentation).some((key) => !(key in sent));
  const metadataHeader = Object.keys(metadata).length === 0 ? null : added || raw === undefined ? stringifyMetadata(metadata) : raw.trim();
  return { metadata, metadataHeader };
}

function mediaTypeOf(contentType: string | undefined): string | undefined {
  return contentType?.split(';', 1)[0]!.trim().toLowerCase();
}
