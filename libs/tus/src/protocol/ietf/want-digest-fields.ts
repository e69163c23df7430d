import { type DigestAlgorithm, DIGEST_ALGORITHMS } from './digest-fields.js';
import { type FieldInput, type FieldRead, invalid, readDictionary, valid } from './field-read.js';

/** An algorithm a client would like digests in, with its preference (1 lowest to 10 highest). */
export interface DigestPreference {
  readonly algorithm: DigestAlgorithm;
  readonly preference: number;
}

/**
 * Reads `Want-Repr-Digest` / `Want-Content-Digest` (RFC 9530 section 4): a Dictionary of
 * algorithms to Integers from 0 to 10, "where 1 is the least preferred and 10 is the most
 * preferred"; 0 means "not acceptable". The drafts (-05 on): "when creating an upload, the client
 * can ask the server to compute and return the integrity digests using a `Want-Repr-Digest` field".
 *
 * Returns the supported algorithms the client accepts, most preferred first; unknown and
 * deprecated algorithms are skipped. A known algorithm with a value that is not an Integer from 0
 * to 10 makes the field `invalid`.
 */
export function parseWantDigestField(name: 'Want-Repr-Digest' | 'Want-Content-Digest', value: FieldInput): FieldRead<DigestPreference[]> {
  const read = readDictionary(name, value);
  if (read.kind !== 'valid') return read;
  const dictionary = read.value;
  const preferences: DigestPreference[] = [];
  for (const [key, member] of dictionary) {
    if (!Object.hasOwn(DIGEST_ALGORITHMS, key)) continue;
    if (member.kind !== 'item' || member.value.type !== 'integer' || member.value.value < 0 || member.value.value > 10) {
      return invalid(`${name}: the preference for ${key} must be an Integer from 0 to 10`);
    }
    if (member.value.value > 0) preferences.push({ algorithm: key as DigestAlgorithm, preference: member.value.value });
  }
  return valid(preferences.sort((a, b) => b.preference - a.preference));
}
