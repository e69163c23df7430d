import { TUS_VERSION } from './tus.constants.js';
import { InvalidRequestError, UnsupportedVersionError } from '../errors/tus.errors.js';

const DIGITS = /^\d+$/;

/**
 * Parses `Upload-Offset` / `Upload-Length`: "MUST be a non-negative integer" (tus 1.0.0). Only
 * digits are accepted (no sign, no spaces, no exponent); values beyond 2^53 - 1 are a 400 too.
 */
export function parseNonNegativeInteger(name: string, value: string | undefined): number {
  if (value === undefined || !DIGITS.test(value)) {
    throw new InvalidRequestError(`${name} must be a non-negative integer`);
  }
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed)) throw new InvalidRequestError(`${name} is too large`);
  return parsed;
}

/** The declared length of a new upload: a number, or `null` for `Upload-Defer-Length: 1`. */
export type DeclaredLength = number | null;

/**
 * Reads the creation length headers: exactly one of `Upload-Length` and `Upload-Defer-Length: 1`
 * (creation, creation-defer-length). Both, neither, or a defer value other than 1: 400.
 */
export function parseCreationLength(
  uploadLength: string | undefined,
  deferLength: string | undefined,
  deferAllowed: boolean,
): DeclaredLength {
  if (uploadLength !== undefined && deferLength !== undefined) {
    throw new InvalidRequestError('Upload-Length and Upload-Defer-Length are mutually exclusive');
  }
  if (deferLength !== undefined) {
    if (!deferAllowed) throw new InvalidRequestError('Upload-Defer-Length is not supported');
    if (deferLength !== '1') throw new InvalidRequestError('Upload-Defer-Length must be 1');
    return null;
  }
  if (uploadLength === undefined) throw new InvalidRequestError('Upload-Length or Upload-Defer-Length: 1 is required');
  return parseNonNegativeInteger('Upload-Length', uploadLength);
}

/** Checklist 2: a request without a supported `Tus-Resumable` is not processed (412). */
export function assertTusResumable(value: string | undefined): void {
  if (value !== TUS_VERSION) throw new UnsupportedVersionError();
}

/** Methods a POST may carry in `X-HTTP-Method-Override` (checklist 4). */
export type OverridableMethod = 'PATCH' | 'DELETE' | 'HEAD';

/** The method a POST stands for, from `X-HTTP-Method-Override`; anything else is a 400. */
export function parseMethodOverride(value: string | undefined): OverridableMethod | undefined {
  if (value === undefined) return undefined;
  const method = value.trim().toUpperCase();
  if (method === 'PATCH' || method === 'DELETE' || method === 'HEAD') return method;
  throw new InvalidRequestError(`X-HTTP-Method-Override: ${value} is not supported`);
}

/** Formats a date as an IMF-fixdate (RFC 9110), the form `Upload-Expires` uses. */
export function formatHttpDate(date: Date): string {
  return date.toUTCString();
}

/** True when the request body is a tus chunk (`application/offset+octet-stream`, parameters ignored). */
export function isOffsetOctetStream(contentType: string | undefined): boolean {
  return contentType?.split(';', 1)[0]?.trim().toLowerCase() === 'application/offset+octet-stream';
}
