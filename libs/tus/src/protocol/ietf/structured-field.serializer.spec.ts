import { describe, expect, it } from '@jest/globals';
import { parseDictionaryField, parseItemField } from './structured-field.parser.js';
import { serializeBareItem, serializeDictionary, serializeItem, serializeList } from './structured-field.serializer.js';
import { type BareItem, sf, StructuredFieldError } from './structured-field.types.js';

describe('serializeItem / serializeBareItem', () => {
  it.each<[BareItem, string]>([
    [sf.boolean(true), '?1'],
    [sf.boolean(false), '?0'],
    [sf.integer(42), '42'],
    [sf.integer(-0), '0'],
    [sf.integer(999_999_999_999_999), '999999999999999'],
    [sf.decimal(4.5), '4.5'],
    [sf.decimal(2), '2.0'],
    [sf.decimal(1.0625), '1.062'], // half to even
    [sf.decimal(1.1875), '1.188'],
    [sf.decimal(-0.5), '-0.5'],
    [sf.string('say "hi" \\ bye'), '"say \\"hi\\" \\\\ bye"'],
    [sf.token('foo123/456'), 'foo123/456'],
    [sf.bytes(Buffer.from('hello')), ':aGVsbG8=:'],
    [sf.date(1_659_578_233), '@1659578233'],
    [sf.displayString('This is intended for display to üsers.'), '%"This is intended for display to %c3%bcsers."'],
    [sf.displayString('100% "sure"'), '%"100%25 %22sure%22"'],
  ])('%p is %s', (value, expected) => {
    expect(serializeBareItem(value)).toBe(expected);
    expect(parseItemField(expected).value).toEqual(value.type === 'integer' ? { type: 'integer', value: value.value === 0 ? 0 : value.value } : value.type === 'decimal' ? { type: 'decimal', value: Number(expected) } : value);
  });

  it('writes parameters, Boolean true without a value', () => {
    expect(serializeItem(sf.item(sf.integer(5), new Map([['foo', sf.token('bar')], ['baz', sf.boolean(true)], ['off', sf.boolean(false)]])))).toBe(
      '5;foo=bar;baz;off=?0',
    );
  });

  it.each<[BareItem, string]>([
    [sf.integer(1_000_000_000_000_000), 'beyond 15 digits'],
    [sf.integer(1.5), 'not an integer'],
    [sf.decimal(Number.NaN), 'NaN'],
    [sf.decimal(1e12), '13 integer digits'],
    [sf.string('line\nbreak'), 'a control character'],
    [sf.string('café'), 'non-ASCII in a String'],
    [sf.token('1abc'), 'a token starting with a digit'],
    [sf.token('a b'), 'a space in a token'],
    [sf.displayString('\ud800'), 'a lone surrogate'],
  ])('refuses %p (%s)', (value) => {
    expect(() => serializeBareItem(value)).toThrow(StructuredFieldError);
  });
});

describe('serializeDictionary', () => {
  it('writes members apart by ", ", Boolean true as the bare key (RFC 9651 section 3.2)', () => {
    const dictionary = new Map([
      ['a', sf.item(sf.boolean(false))],
      ['b', sf.item(sf.boolean(true))],
      ['c', sf.item(sf.boolean(true), new Map([['foo', sf.token('bar')]]))],
    ]);
    expect(serializeDictionary(dictionary)).toBe('a=?0, b, c;foo=bar');
  });

  it('writes inner lists and round-trips through the parser', () => {
    const text = 'a=(1 2), b=3, c=4;aa=bb, d=(5 6);valid';
    expect(serializeDictionary(parseDictionaryField(text))).toBe(text);
  });

  it('an empty dictionary is the empty string (the field is then omitted)', () => {
    expect(serializeDictionary(new Map())).toBe('');
  });

  it('refuses a key with an uppercase letter', () => {
    expect(() => serializeDictionary(new Map([['Max-Size', sf.item(sf.integer(1))]]))).toThrow(StructuredFieldError);
  });
});

describe('serializeList', () => {
  it('writes items and inner lists', () => {
    expect(serializeList([sf.item(sf.token('sugar')), sf.innerList([sf.item(sf.string('foo')), sf.item(sf.string('bar'))], new Map([['lvl', sf.integer(5)]]))])).toBe(
      'sugar, ("foo" "bar");lvl=5',
    );
  });
});
