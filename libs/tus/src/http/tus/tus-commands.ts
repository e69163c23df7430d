import type { IncomingMessage } from 'node:http';
import type { AppendCommand, ConcatRequest, CreateUploadCommand } from '../../core/upload-commands.js';
import type { TusExtension } from '../../protocol/tus.constants.js';
import { ForbiddenUploadError, InvalidRequestError, MethodNotAllowedError, UnsupportedMediaTypeError } from '../../errors/tus.errors.js';
import { isOffsetOctetStream, parseCreationLength, parseNonNegativeInteger } from '../../protocol/headers.js';
import { parseMetadata } from '../../protocol/metadata.js';
import { parseUploadConcat, uploadIdFromUrl } from '../../protocol/upload-concat.js';
import { header } from '../raw-request.js';
import { assertBodyUnread, hasBody } from '../request-body.js';
import { type IdleRule, requestUploadBody } from '../request-upload-body.js';
import { checksumVerifierOf } from './checksum-request.js';

/** What the tus front door needs to read a request. */
export interface TusRequestRules extends IdleRule {
  readonly extensions: ReadonlySet<TusExtension>;
  readonly maxMetadataBytes: number;
}

/**
 * A tus 1.0 POST as a creation command: `Upload-Length` or `Upload-Defer-Length`,
 * `Upload-Metadata`, `Upload-Concat`, and the first chunk (creation-with-upload). Header rules
 * are checked here (400, 415); what depends on the server's state is the core's.
 */
export function tusCreateCommand(request: IncomingMessage, rules: TusRequestRules): CreateUploadCommand {
  const { extensions } = rules;
  if (!extensions.has('creation')) throw new MethodNotAllowedError('The creation extension is disabled on this server');
  const concatValue = extensions.has('concatenation') ? header(request, 'upload-concat') : undefined;
  const concat = concatValue === undefined ? undefined : concatRequest(concatValue);
  const withBody = hasBody(request);
  if (concat?.type === 'final') {
    if (header(request, 'upload-length') !== undefined || header(request, 'upload-defer-length') !== undefined) {
      throw new InvalidRequestError('A final upload takes its length from its partials: no Upload-Length');
    }
    if (withBody) throw new ForbiddenUploadError('A final upload cannot carry a body');
  }
  if (withBody) {
    if (!isOffsetOctetStream(header(request, 'content-type'))) throw new UnsupportedMediaTypeError();
    assertBodyUnread(request);
  }
  const rawMetadata = header(request, 'upload-metadata');
  const metadata = parseMetadata(rawMetadata, rules.maxMetadataBytes);
  const metadataHeader = rawMetadata === undefined || rawMetadata.trim() === '' ? null : rawMetadata;
  const length =
    concat?.type === 'final'
      ? null
      : parseCreationLength(header(request, 'upload-length'), header(request, 'upload-defer-length'), extensions.has('creation-defer-length'));
  return {
    metadata,
    metadataHeader,
    length,
    concat,
    body: withBody ? requestUploadBody(request, rules, checksumVerifierOf(request)) : null,
    context: request,
    protocol: 'tus',
  };
}

/** A tus 1.0 PATCH as an append command: `Upload-Offset`, a deferred `Upload-Length`, the chunk. */
export function tusAppendCommand(id: string, request: IncomingMessage, rules: IdleRule): AppendCommand {
  if (!isOffsetOctetStream(header(request, 'content-type'))) throw new UnsupportedMediaTypeError();
  const offset = parseNonNegativeInteger('Upload-Offset', header(request, 'upload-offset'));
  assertBodyUnread(request);
  const declared = header(request, 'upload-length');
  return {
    id,
    offset,
    length: declared === undefined ? undefined : parseNonNegativeInteger('Upload-Length', declared),
    body: requestUploadBody(request, rules, checksumVerifierOf(request)),
    context: request,
  };
}

function concatRequest(value: string): ConcatRequest {
  const concat = parseUploadConcat(value);
  if (concat.type === 'partial') return concat;
  return { type: 'final', partIds: concat.urls.map(uploadIdFromUrl), header: value.trim() };
}
