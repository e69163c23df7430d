import { InvalidRequestError, MetadataTooLargeError } from '../errors/tus.errors.js';
import { isBase64 } from './base64.js';

/**
 * Decoded `Upload-Metadata`: keys in the order the client sent them (except that JavaScript lists
 * integer-like keys such as `1` first; the raw header, echoed by HEAD, keeps the client's order),
 * values as UTF-8 text.
 */
export type UploadMetadata = Record<string, string>;

// "The key MUST NOT contain spaces and commas and MUST NOT be empty. The key SHOULD be ASCII encoded"
const KEY = /^[\x21-\x2b\x2d-\x7e]+$/;

/**
 * Parses `Upload-Metadata` (tus 1.0.0, creation extension): comma-separated `key base64value`
 * pairs; a value may be empty, and then the space may be missing. Throws 400 on an empty or
 * non-ASCII key, a duplicate key, or a value that is not base64, and 431 on a header longer than
 * `maxBytes` (Node gives header values as latin1 text: one character a byte).
 */
export function parseMetadata(header: string | undefined, maxBytes = Infinity): UploadMetadata {
  const metadata: UploadMetadata = Object.create(null);
  if (header !== undefined && header.length > maxBytes) throw new MetadataTooLargeError(maxBytes);
  if (header === undefined || header.trim() === '') return metadata;
  for (const rawPair of header.split(',')) {
    const pair = rawPair.trim();
    const space = pair.indexOf(' ');
    const key = space === -1 ? pair : pair.slice(0, space);
    const value = space === -1 ? '' : pair.slice(space + 1).trim();
    if (!KEY.test(key)) throw new InvalidRequestError(`Upload-Metadata: invalid key "${key}"`);
    if (key in metadata) throw new InvalidRequestError(`Upload-Metadata: duplicate key "${key}"`);
    if (!isBase64(value)) throw new InvalidRequestError(`Upload-Metadata: value of "${key}" is not base64`);
    metadata[key] = Buffer.from(value, 'base64').toString('utf8');
  }
  return metadata;
}

/** Encodes metadata as an `Upload-Metadata` header, keys in insertion order. */
export function stringifyMetadata(metadata: UploadMetadata): string {
  return Object.entries(metadata)
    .map(([key, value]) => (value === '' ? key : `${key} ${Buffer.from(value, 'utf8').toString('base64')}`))
    .join(',');
}

/** Validates metadata produced by application code (e.g. `metadataOverride`) before it is stored. */
export function assertValidMetadata(metadata: unknown): asserts metadata is UploadMetadata {
  if (metadata === null || typeof metadata !== 'object') {
    throw new TypeError('metadata must be an object of strings');
  }
  for (const [key, value] of Object.entries(metadata)) {
    if (!KEY.test(key)) throw new TypeError(`metadata key "${key}" is not a valid Upload-Metadata key`);
    if (typeof value !== 'string') throw new TypeError(`metadata value of "${key}" must be a string`);
  }
}
