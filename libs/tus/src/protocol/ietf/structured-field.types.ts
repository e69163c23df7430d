/**
 * The data model of Structured Field Values for HTTP (RFC 8941, revised by RFC 9651, which adds
 * Dates and Display Strings). The resumable-upload draft's fields use Items (`Upload-Offset`,
 * `Upload-Complete`, `Upload-Length`, `Upload-Draft-Interop-Version`) and Dictionaries
 * (`Upload-Limit`); RFC 9530's digest fields are Dictionaries of Byte Sequences.
 *
 * Bare items are tagged, because the wire distinguishes what JavaScript would merge: a Token from
 * a String, an Integer from a Decimal, an Integer from a Date.
 */
export type BareItem =
  | { readonly type: 'integer'; readonly value: number }
  | { readonly type: 'decimal'; readonly value: number }
  | { readonly type: 'string'; readonly value: string }
  | { readonly type: 'token'; readonly value: string }
  | { readonly type: 'byte-sequence'; readonly value: Buffer }
  | { readonly type: 'boolean'; readonly value: boolean }
  | { readonly type: 'date'; readonly value: number }
  | { readonly type: 'display-string'; readonly value: string };

/** The name of a bare item's type, as the tag says. */
export type BareItemType = BareItem['type'];

/** Parameters (RFC 9651 section 3.1.2): an ordered map; on duplicates the last one wins. */
export type Parameters = ReadonlyMap<string, BareItem>;

/** An Item (RFC 9651 section 3.3): a bare item with its parameters. */
export interface Item {
  readonly kind: 'item';
  readonly value: BareItem;
  readonly params: Parameters;
}

/** An Inner List (RFC 9651 section 3.1.1): items in parentheses, with parameters of its own. */
export interface InnerList {
  readonly kind: 'inner-list';
  readonly items: readonly Item[];
  readonly params: Parameters;
}

/** A member of a List or a Dictionary. */
export type Member = Item | InnerList;

/** A Dictionary (RFC 9651 section 3.2): ordered, keys unique; on duplicates the last one wins. */
export type Dictionary = ReadonlyMap<string, Member>;

/** A List (RFC 9651 section 3.1). */
export type List = readonly Member[];

/**
 * A field value that does not parse as its Structured Field type, or a value that cannot be
 * serialised. RFC 9651 section 4.2: when parsing fails, "either the entire field value MUST be
 * ignored (i.e., treated as if the field were not present in the section), or alternatively the
 * complete HTTP message MUST be treated as malformed" - the caller chooses, so this is a plain
 * error, not an HTTP one.
 */
export class StructuredFieldError extends Error {
  override readonly name = 'StructuredFieldError';
}

/** Shorthands for building values to serialise. */
export const sf = {
  integer: (value: number): BareItem => ({ type: 'integer', value }),
  decimal: (value: number): BareItem => ({ type: 'decimal', value }),
  string: (value: string): BareItem => ({ type: 'string', value }),
  token: (value: string): BareItem => ({ type: 'token', value }),
  bytes: (value: Buffer): BareItem => ({ type: 'byte-sequence', value }),
  boolean: (value: boolean): BareItem => ({ type: 'boolean', value }),
  date: (value: number): BareItem => ({ type: 'date', value }),
  displayString: (value: string): BareItem => ({ type: 'display-string', value }),
  item: (value: BareItem, params: Parameters = new Map()): Item => ({ kind: 'item', value, params }),
  innerList: (items: readonly Item[], params: Parameters = new Map()): InnerList => ({ kind: 'inner-list', items, params }),
} as const;
