import { type FieldInput, type FieldRead, invalid, readItem, type RequestFields, valid } from './field-read.js';
import type { IetfProfile } from './ietf-profile.js';
import { serializeItem } from './structured-field.serializer.js';
import { StructuredFieldError } from './structured-field.types.js';

/**
 * Reads `Upload-Offset`: "`Upload-Offset` is an Item Structured Header Field. Its value is a
 * non-negative Integer ... Other values MUST cause the entire header field to be ignored." (State,
 * Offset, draft -09 on; earlier drafts: "The `Upload-Offset` field value is an Integer.") A value
 * that is not a non-negative Integer reads as `invalid`.
 */
export function readUploadOffset(value: FieldInput): FieldRead<number> {
  return readNonNegativeInteger('Upload-Offset', value);
}

/** Reads `Upload-Length` (draft -05 on), with the same rule as `Upload-Offset` (State, Length). */
export function readUploadLength(value: FieldInput): FieldRead<number> {
  return readNonNegativeInteger('Upload-Length', value);
}

/**
 * Reads whether a request says its content completes the upload, from the field the version uses:
 * `Upload-Complete: ?1` (interop 4 on), or `Upload-Incomplete: ?0` (interop 3, draft -01: "It MUST
 * be set to true if the end of the request body is not the end of the upload. Otherwise, it MUST
 * be set to false."). The other version's field is not looked at. A value that is not a Boolean
 * reads as `invalid` ("Its value is a Boolean ... Other values MUST cause the entire header field
 * to be ignored", State, Completeness, draft -09 on).
 */
export function readUploadComplete(profile: IetfProfile, fields: RequestFields): FieldRead<boolean> {
  const name = profile.completenessField;
  const item = readItem(name, fields[name.toLowerCase()]);
  if (item.kind !== 'valid') return item;
  if (item.value.type !== 'boolean') return invalid(`${name} must be a Boolean (?1 or ?0)`);
  return valid(name === 'Upload-Incomplete' ? !item.value.value : item.value.value);
}

/** The response field saying whether the upload is complete, in the version's spelling. */
export function formatUploadComplete(profile: IetfProfile, complete: boolean): readonly [name: string, value: string] {
  const value = profile.completenessField === 'Upload-Incomplete' ? !complete : complete;
  return [profile.completenessField, serializeItem({ type: 'boolean', value })];
}

/** `Upload-Offset` / `Upload-Length` response value: a non-negative Integer of at most 15 digits. */
export function formatByteCount(count: number): string {
  if (!Number.isSafeInteger(count) || count < 0) throw new StructuredFieldError(`${count} is not a byte count`);
  return serializeItem({ type: 'integer', value: count });
}

function readNonNegativeInteger(name: string, value: FieldInput): FieldRead<number> {
  const item = readItem(name, value);
  if (item.kind !== 'valid') return item;
  if (item.value.type !== 'integer' || item.value.value < 0) return invalid(`${name} must be a non-negative Integer`);
  return valid(item.value.value);
}
