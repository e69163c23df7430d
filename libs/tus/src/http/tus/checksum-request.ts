import type { IncomingMessage } from 'node:http';
import type { TusExtension } from '../../protocol/tus.constants.js';
import { parseUploadChecksum } from '../../protocol/upload-checksum.js';
import { header } from '../raw-request.js';
import { ChecksumVerifier } from '../checksum-verifier.js';

const VERIFIER = Symbol('tus.checksum-verifier');

type RequestWithVerifier = IncomingMessage & { [VERIFIER]?: ChecksumVerifier };

/**
 * Checksum and checksum-trailer extensions: when a chunk carries `Upload-Checksum` (or announces it
 * as a trailer with `Trailer: Upload-Checksum`), attaches a {@link ChecksumVerifier} to the
 * request; the upload service puts its stage in the body's pipeline and calls `verify()` before
 * the offset moves. A malformed header or an unknown algorithm is a 400 before any byte is read.
 * `ChecksumInterceptor` calls it on every route that takes a chunk.
 */
export function attachChecksumVerifier(request: IncomingMessage, extensions: ReadonlySet<TusExtension>): void {
  const verifier = verifierFor(request, extensions);
  if (verifier !== undefined) (request as RequestWithVerifier)[VERIFIER] = verifier;
}

/** The verifier attached to this request, if its chunk carries a checksum. */
export function checksumVerifierOf(request: IncomingMessage): ChecksumVerifier | undefined {
  return (request as RequestWithVerifier)[VERIFIER];
}

function verifierFor(request: IncomingMessage, extensions: ReadonlySet<TusExtension>): ChecksumVerifier | undefined {
  const value = header(request, 'upload-checksum');
  if (value !== undefined) return extensions.has('checksum') ? ChecksumVerifier.forHeader(parseUploadChecksum(value)) : undefined;
  const trailers = header(request, 'trailer');
  if (trailers !== undefined && extensions.has('checksum-trailer') && /(^|,)\s*upload-checksum\s*(,|$)/i.test(trailers)) {
    return ChecksumVerifier.forTrailer(request);
  }
  return undefined;
}
