import {
  type BareItem,
  type Dictionary,
  type InnerList,
  type Item,
  type List,
  type Member,
  type Parameters,
  StructuredFieldError,
} from './structured-field.types.js';

const MAX_INTEGER = 999_999_999_999_999;
const KEY = /^[a-z*][a-z0-9_\-.*]*$/;
const TOKEN = /^[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*$/;
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Serialises an Item (RFC 9651 section 4.1.3), e.g. `?1` for `Upload-Complete: ?1`. Throws
 * `StructuredFieldError` for a value the type cannot hold (an Integer beyond 15 digits, a String
 * with a control character, a key with uppercase letters): a bug in the caller, not the client.
 */
export function serializeItem(item: Item | BareItem): string {
  return 'kind' in item ? serializeBareItem(item.value) + serializeParameters(item.params) : serializeBareItem(item);
}

/**
 * Serialises a Dictionary (section 4.1.2). An empty Dictionary is the empty string: RFC 9651 says
 * to omit the field then, so the caller must not send it.
 */
export function serializeDictionary(dictionary: Dictionary): string {
  const members: string[] = [];
  for (const [key, member] of dictionary) {
    const value = member.kind === 'item' && member.value.type === 'boolean' && member.value.value
      ? serializeParameters(member.params) // Boolean true omits "=?1"
      : `=${serializeMember(member)}`;
    members.push(serializeKey(key) + value);
  }
  return members.join(', ');
}

/** Serialises a List (section 4.1.1). */
export function serializeList(list: List): string {
  return list.map(serializeMember).join(', ');
}

function serializeMember(member: Member): string {
  return member.kind === 'item' ? serializeItem(member) : serializeInnerList(member);
}

function serializeInnerList(list: InnerList): string {
  return `(${list.items.map((item) => serializeItem(item)).join(' ')})${serializeParameters(list.params)}`;
}

function serializeParameters(params: Parameters): string {
  let output = '';
  for (const [key, value] of params) {
    output += `;${serializeKey(key)}`;
    if (!(value.type === 'boolean' && value.value)) output += `=${serializeBareItem(value)}`;
  }
  return output;
}

function serializeKey(key: string): string {
  if (!KEY.test(key)) throw new StructuredFieldError(`"${key}" is not a valid key`);
  return key;
}

/** Section 4.1.3.1. */
export function serializeBareItem(item: BareItem): string {
  switch (item.type) {
    case 'integer':
      return serializeInteger(item.value);
    case 'decimal':
      return serializeDecimal(item.value);
    case 'string':
      if (!PRINTABLE_ASCII.test(item.value)) throw new StructuredFieldError('a String holds printable ASCII only');
      return `"${item.value.replace(/[\\"]/g, (char) => `\\${char}`)}"`;
    case 'token':
      if (!TOKEN.test(item.value)) throw new StructuredFieldError(`"${item.value}" is not a valid Token`);
      return item.value;
    case 'byte-sequence':
      return `:${item.value.toString('base64')}:`;
    case 'boolean':
      return item.value ? '?1' : '?0';
    case 'date':
      return `@${serializeInteger(item.value)}`;
    case 'display-string':
      return serializeDisplayString(item.value);
  }
}

function serializeInteger(value: number): string {
  if (!Number.isInteger(value) || Math.abs(value) > MAX_INTEGER) {
    throw new StructuredFieldError(`${value} is not an Integer of at most 15 digits`);
  }
  return String(value === 0 ? 0 : value); // no "-0"
}

/** Section 4.1.5: rounded to three fraction digits, half to even. */
function serializeDecimal(value: number): string {
  if (!Number.isFinite(value)) throw new StructuredFieldError(`${value} is not a Decimal`);
  const scaled = value * 1000;
  const floor = Math.floor(scaled);
  const rest = scaled - floor;
  const rounded = rest > 0.5 || (rest === 0.5 && floor % 2 !== 0) ? floor + 1 : floor;
  const magnitude = Math.abs(rounded);
  const integer = Math.trunc(magnitude / 1000);
  if (String(integer).length > 12) throw new StructuredFieldError(`${value} has more than 12 integer digits`);
  const fraction = String(magnitude % 1000).padStart(3, '0').replace(/0+$/, '') || '0';
  return `${rounded < 0 ? '-' : ''}${integer}.${fraction}`;
}

function serializeDisplayString(value: string): string {
  if (LONE_SURROGATE.test(value)) throw new StructuredFieldError('a Display String cannot hold a lone surrogate');
  let output = '%"';
  for (const byte of Buffer.from(value, 'utf8')) {
    output += byte === 0x25 || byte === 0x22 || byte < 0x20 || byte > 0x7e
      ? `%${byte.toString(16).padStart(2, '0')}`
      : String.fromCharCode(byte);
  }
  return `${output}"`;
}
