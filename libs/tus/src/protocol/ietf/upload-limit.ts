import { type FieldInput, type FieldRead, invalid, readDictionary, valid } from './field-read.js';
import type { IetfProfile } from './ietf-profile.js';
import { serializeDictionary } from './structured-field.serializer.js';
import { type Member, sf, StructuredFieldError } from './structured-field.types.js';

/**
 * The limits an upload resource announces in `Upload-Limit` (interop 6 on), each in bytes except
 * the lifetime. Absent members are limits that do not apply.
 */
export interface UploadLimits {
  /** `max-size`: the largest representation the resource accepts. */
  readonly maxSize?: number;
  /** `min-size`: the smallest representation for which the server offers resumption. */
  readonly minSize?: number;
  /** `max-append-size`: the largest content of one append (since the editor's copy after -11, of one creation too). */
  readonly maxAppendSize?: number;
  /** `min-append-size`: the smallest content of one append that does not complete the upload. */
  readonly minAppendSize?: number;
  /** `expires` (interop 6) / `max-age` (interop 7 on): seconds the resource has left, counted from this response. */
  readonly lifetimeSeconds?: number;
}

const SIZE_KEYS = [
  ['max-size', 'maxSize'],
  ['min-size', 'minSize'],
  ['max-append-size', 'maxAppendSize'],
  ['min-append-size', 'minAppendSize'],
] as const;

/**
 * The `Upload-Limit` value for these limits, in the version's key for the lifetime; `null` for
 * interop 3 to 5, which have no such field. With no limit at all it is `min-size=0`: "If the
 * server does not apply any limits, it MUST use `min-size=0` instead of an empty header value."
 * (Upload-Limit / Limits, drafts -05 to -09 and the editor's copy after -11.)
 *
 * A lifetime is rounded down to whole seconds and never below 0 (an expired resource says
 * `max-age=0`). Sizes must be non-negative integers: anything else is a bug in the caller and
 * throws `StructuredFieldError`.
 */
export function formatUploadLimit(profile: IetfProfile, limits: UploadLimits): string | null {
  const lifetimeKey = profile.lifetimeLimitKey;
  if (lifetimeKey === null) return null;
  const members = new Map<string, Member>();
  for (const [key, property] of SIZE_KEYS) {
    const size = limits[property];
    if (size === undefined) continue;
    if (!Number.isSafeInteger(size) || size < 0) throw new StructuredFieldError(`${key} must be a non-negative integer, not ${size}`);
    members.set(key, sf.item(sf.integer(size)));
  }
  if (limits.lifetimeSeconds !== undefined) {
    if (Number.isNaN(limits.lifetimeSeconds)) throw new StructuredFieldError(`${lifetimeKey} must be a number of seconds`);
    members.set(lifetimeKey, sf.item(sf.integer(Math.max(0, Math.floor(limits.lifetimeSeconds)))));
  }
  if (members.size === 0) members.set('min-size', sf.item(sf.integer(0)));
  return serializeDictionary(members);
}

/**
 * Reads an `Upload-Limit` value (what a client does; the test client uses it). "First, a member
 * with an unknown key MUST be ignored. Second, a member with a known key but a value of unexpected
 * type MUST cause the entire `Upload-Limit` header field to be ignored, or alternatively the
 * complete HTTP message MUST be treated as malformed." (Limits, draft -10 on.) A negative value is
 * read as the wrong type too. For interop 6, `expires` is the lifetime and `max-age` an unknown
 * key; from 7 on the other way round.
 */
export function parseUploadLimit(profile: IetfProfile, value: FieldInput): FieldRead<UploadLimits> {
  const read = readDictionary('Upload-Limit', value);
  if (read.kind !== 'valid') return read;
  const dictionary = read.value;
  const limits: { -readonly [K in keyof UploadLimits]: number } = {};
  const known: ReadonlyArray<readonly [string, keyof UploadLimits]> = [
    ...SIZE_KEYS,
    ...(profile.lifetimeLimitKey === null ? [] : [[profile.lifetimeLimitKey, 'lifetimeSeconds'] as const]),
  ];
  for (const [key, property] of known) {
    const member = dictionary.get(key);
    if (member === undefined) continue;
    if (member.kind !== 'item' || member.value.type !== 'integer' || member.value.value < 0) {
      return invalid(`Upload-Limit: ${key} must be a non-negative Integer`);
    }
    limits[property] = member.value.value;
  }
  return valid(limits);
}
