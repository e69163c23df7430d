import { type FieldLines, parseDictionaryField, parseItemField } from './structured-field.parser.js';
import { type BareItem, type Dictionary, StructuredFieldError } from './structured-field.types.js';

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

/** The reading of a field the request does not carry. */
export const ABSENT: FieldRead<never> = { kind: 'absent' };

/** The reading of a field whose value is not what its definition allows. */
export function invalid(reason: string): FieldRead<never> {
  return { kind: 'invalid', reason };
}

/** The reading of a well-formed field. */
export function valid<T>(value: T): FieldRead<T> {
  return { kind: 'valid', value };
}

/** Reads a field defined as a Structured Field Item; its parameters are dropped (no draft defines any). */
export function readItem(name: string, value: FieldInput): FieldRead<BareItem> {
  return readStructured(name, 'Item', value, (lines) => parseItemField(lines).value);
}

/** Reads a field defined as a Structured Field Dictionary. */
export function readDictionary(name: string, value: FieldInput): FieldRead<Dictionary> {
  return readStructured(name, 'Dictionary', value, parseDictionaryField);
}

function readStructured<T>(name: string, type: string, value: FieldInput, parse: (lines: FieldLines) => T): FieldRead<T> {
  if (value === undefined) return ABSENT;
  try {
    return valid(parse(value));
  } catch (error) {
    if (error instanceof StructuredFieldError) return invalid(`${name} is not a Structured Field ${type}: ${error.message}`);
    throw error;
  }
}

/** The value of a read field, or `undefined` when it was absent or invalid (the "ignore" reading). */
export function valueOrIgnored<T>(read: FieldRead<T>): T | undefined {
  return read.kind === 'valid' ? read.value : undefined;
}
