import type { FieldLines } from './structured-field.parser.js';

/**
 * What reading one request field gave. The drafts leave the consequence of a bad value to the
 * receiver, and it differs by field and method: since draft -09, "Other values MUST cause the
 * entire header field to be ignored" for `Upload-Offset`, `Upload-Complete` and `Upload-Length`,
 * which for a required field (`Upload-Offset` on PATCH) still ends in a 400, while RFC 9651
 * section 4.2 also allows treating a message whose field does not parse as malformed. So readers
 * never throw on client input: they say which of the three it was, and the front door decides.
 */
export type FieldRead<T> =
  | { readonly kind: 'absent' }
  | { readonly kind: 'invalid'; readonly reason: string }
  | { readonly kind: 'valid'; readonly value: T };

/** A request field as Node's `IncomingHttpHeaders` holds it. */
export type FieldInput = FieldLines | undefined;

/** Request fields by lowercase name, as Node's `IncomingHttpHeaders` holds them. */
export type RequestFields = Readonly<Record<string, FieldInput>>;

export const ABSENT: FieldRead<never> = { kind: 'absent' };

export function invalid(reason: string): FieldRead<never> {
  return { kind: 'invalid', reason };
}

export function valid<T>(value: T): FieldRead<T> {
  return { kind: 'valid', value };
}

/** The value of a read field, or `undefined` when it was absent or invalid (the "ignore" reading). */
export function valueOrIgnored<T>(read: FieldRead<T>): T | undefined {
  return read.kind === 'valid' ? read.value : undefined;
}
