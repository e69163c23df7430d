import type { IncomingMessage } from 'node:http';
import { DigestMismatchError, InvalidRequestError } from '../../errors/tus.errors.js';
import { DIGEST_ALGORITHMS, parseDigestField } from '../../protocol/ietf/digest-fields.js';
import type { IetfProfile } from '../../protocol/ietf/ietf-profile.js';
import { ChecksumVerifier, type DigestExpectation } from '../checksum-verifier.js';

type DigestField = 'Content-Digest' | 'Repr-Digest';

/**
 * The verifier of a draft request's RFC 9530 digests (interop 6 on, draft -04's "Integrity
 * Digests"), streaming like tus checksums: `Content-Digest` on every creation and append ("If the
 * digests don't match the server SHOULD consider the transfer failed, not append the content to
 * the upload resource, and signal the failure to the client"), and `Repr-Digest` when this
 * request's content is the whole representation (it starts at offset 0 and completes the upload).
 * A `Repr-Digest` of an upload spread over several requests is not checked: RFC 9530 section 2
 * lets a recipient ignore digests, and checking it would mean keeping a hash's state across
 * requests and processes. sha-256 and sha-512 are checked; other algorithms are ignored, as RFC
 * 9651 section 3.2 asks of unknown keys. A malformed field is a 400 before any byte is read.
 */
export function draftDigestVerifier(request: IncomingMessage, profile: IetfProfile, wholeRepresentation: boolean): ChecksumVerifier | undefined {
  if (!profile.digestFields) return undefined;
  const expected = [...expectationsOf(request, 'Content-Digest'), ...(wholeRepresentation ? expectationsOf(request, 'Repr-Digest') : [])];
  return expected.length === 0 ? undefined : ChecksumVerifier.forDigests(expected);
}

function expectationsOf(request: IncomingMessage, field: DigestField): DigestExpectation[] {
  const read = parseDigestField(field, request.headers[field.toLowerCase()]);
  if (read.kind === 'invalid') throw new InvalidRequestError(read.reason);
  if (read.kind === 'absent') return [];
  return read.value.map(({ algorithm, digest }) => ({
    algorithm: DIGEST_ALGORITHMS[algorithm].hash,
    digest,
    mismatch: () => new DigestMismatchError(field),
  }));
}
