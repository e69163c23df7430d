import { type FieldInput, type FieldRead, invalid, readDictionary, valid } from './field-read.js';
import { serializeDictionary } from './structured-field.serializer.js';
import { type Member, sf, StructuredFieldError } from './structured-field.types.js';

/**
 * The hash algorithms of RFC 9530's registry whose status is "Active", with the name `node:crypto`
 * gives them and their digest length. The "Deprecated" ones (md5, sha, unixsum, unixcksum, adler,
 * crc32c) "MUST NOT be used in a potentially adversarial setting" (RFC 9530 section 5) and are
 * ignored like unknown keys.
 */
export const DIGEST_ALGORITHMS = {
  'sha-256': { hash: 'sha256', length: 32 },
  'sha-512': { hash: 'sha512', length: 64 },
} as const;

/** A key of `Content-Digest` / `Repr-Digest` this library verifies. */
export type DigestAlgorithm = keyof typeof DIGEST_ALGORITHMS;

/** One digest from a `Content-Digest` or `Repr-Digest` field. */
export interface FieldDigest {
  readonly algorithm: DigestAlgorithm;
  /** The digest bytes, decoded from the Byte Sequence. */
  readonly digest: Buffer;
}

function isDigestAlgorithm(key: string): key is DigestAlgorithm {
  return Object.hasOwn(DIGEST_ALGORITHMS, key);
}

/**
 * Reads `Content-Digest` (RFC 9530 section 2) or `Repr-Digest` (section 3): a Dictionary whose
 * keys are hash algorithms and whose values are Byte Sequences. Members with other keys are
 * skipped: "A recipient MAY ignore any or all digests." (section 2) and "Recipients MUST ignore
 * members whose keys are undefined or unknown" (RFC 9651 section 3.2); so a field with none of
 * sha-256 and sha-512 reads as valid and empty (nothing to verify). A sha-256 or sha-512 member
 * whose value is not a Byte Sequence makes the field `invalid`: skipping it would let a client's
 * mistake (or a downgrade) pass unverified.
 *
 * A digest of the wrong length for its algorithm is read as it is (as `Upload-Checksum` is): it
 * cannot match, so verification fails like any other wrong digest.
 */
export function parseDigestField(name: 'Content-Digest' | 'Repr-Digest', value: FieldInput): FieldRead<FieldDigest[]> {
  const read = readDictionary(name, value);
  if (read.kind !== 'valid') return read;
  const dictionary = read.value;
  const digests: FieldDigest[] = [];
  for (const [key, member] of dictionary) {
    if (!isDigestAlgorithm(key)) continue;
    if (member.kind !== 'item' || member.value.type !== 'byte-sequence') {
      return invalid(`${name}: the ${key} digest must be a Byte Sequence (:base64:)`);
    }
    digests.push({ algorithm: key, digest: member.value.value });
  }
  return valid(digests);
}

/** A `Content-Digest` / `Repr-Digest` value for these digests, e.g. `sha-256=:X48E...=:`. */
export function formatDigestField(digests: readonly FieldDigest[]): string {
  if (digests.length === 0) throw new StructuredFieldError('a digest field needs at least one digest');
  const members = new Map<string, Member>(digests.map((d) => [d.algorithm, sf.item(sf.bytes(d.digest))]));
  return serializeDictionary(members);
}
