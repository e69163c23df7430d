import { describe, expect, it } from '@jest/globals';
import { parseDictionaryField, parseItemField, parseListField } from './structured-field.parser.js';
import { type BareItem, type Member, StructuredFieldError } from './structured-field.types.js';

const bare = (text: string): BareItem => parseItemField(text).value;
const item = (value: BareItem, params: Array<[string, BareItem]> = []): Member => ({ kind: 'item', value, params: new Map(params) });
const int = (value: number): BareItem => ({ type: 'integer', value });
const token = (value: string): BareItem => ({ type: 'token', value });
const TRUE: BareItem = { type: 'boolean', value: true };

describe('parseItemField: the examples of RFC 9651 section 3.3 and the drafts', () => {
  it.each<[string, BareItem]>([
    ['42', int(42)],
    ['-42', int(-42)],
    ['0002', int(2)],
    ['999999999999999', int(999_999_999_999_999)],
    ['4.5', { type: 'decimal', value: 4.5 }],
    ['-0.125', { type: 'decimal', value: -0.125 }],
    ['"hello world"', { type: 'string', value: 'hello world' }],
    ['"a \\"quoted\\" \\\\ word"', { type: 'string', value: 'a "quoted" \\ word' }],
    ['foo123/456', token('foo123/456')],
    ['*', token('*')],
    ['?1', { type: 'boolean', value: true }], // Upload-Complete: ?1
    ['?0', { type: 'boolean', value: false }], // Upload-Incomplete: ?0 (draft -01)
    ['@1659578233', { type: 'date', value: 1_659_578_233 }],
    ['%"This is intended for display to %c3%bcsers."', { type: 'display-string', value: 'This is intended for display to üsers.' }],
  ])('%s', (text, expected) => {
    expect(bare(text)).toEqual(expected);
  });

  it('decodes a Byte Sequence (RFC 9651 section 3.3.5)', () => {
    expect(bare(':cHJldGVuZCB0aGlzIGlzIGJpbmFyeSBjb250ZW50Lg==:')).toEqual({
      type: 'byte-sequence',
      value: Buffer.from('pretend this is binary content.'),
    });
    expect(bare('::')).toEqual({ type: 'byte-sequence', value: Buffer.alloc(0) });
    // "parsers SHOULD NOT fail when "=" padding is not present"
    expect(bare(':aGVsbG8:')).toEqual({ type: 'byte-sequence', value: Buffer.from('hello') });
  });

  it('reads parameters and ignores surrounding spaces', () => {
    expect(parseItemField('  5; foo=bar;baz  ')).toEqual(item(int(5), [['foo', token('bar')], ['baz', TRUE]]));
  });

  it.each([
    ['', 'empty'],
    ['1 2', 'two items'],
    ['1, 2', 'a list'],
    ['?2', 'not a boolean'],
    ['?', 'a bare "?"'],
    ['1000000000000000', '16 digits'],
    ['-', 'a lone minus'],
    ['1.', 'a decimal without fraction'],
    ['1.1234', 'four fraction digits'],
    ['1234567890123.4', '13 integer digits in a decimal'],
    ['"unterminated', 'an open string'],
    ['"bad \\n escape"', 'an escape other than \\" or \\\\'],
    ['"tab\there"', 'a control character in a string'],
    [':aGVs bG8=:', 'a space in base64'],
    [':a=GVsbG8=:', 'padding in the middle'],
    [':_-Ah:', 'base64url'],
    [':aGVsbG8=', 'no closing colon'],
    ['@1.5', 'a decimal date'],
    ['%"%C3%BC"', 'uppercase hex in a display string'],
    ['%"%ff"', 'a display string that is not UTF-8'],
    ['\t1', 'a leading tab (only SP is discarded)'],
    ['5;Foo=1', 'an uppercase parameter key'],
    ['caf\u00e9', 'a byte above 0x7F'],
    ['(1 2)', 'an inner list where an item is expected'],
  ])('refuses %p (%s)', (text) => {
    expect(() => parseItemField(text)).toThrow(StructuredFieldError);
  });

  it('combines several field lines into one value, so two lines of an Item fail', () => {
    expect(() => parseItemField(['6', '6'])).toThrow(StructuredFieldError);
    expect(parseItemField(['6'])).toEqual(item(int(6)));
  });
});

describe('parseDictionaryField: the examples of RFC 9651 section 3.2 and the drafts', () => {
  it('en="Applepie", da=:w4ZibGV0w6ZydGU=:', () => {
    const dictionary = parseDictionaryField('en="Applepie", da=:w4ZibGV0w6ZydGU=:');
    expect(dictionary.get('en')).toEqual(item({ type: 'string', value: 'Applepie' }));
    expect(dictionary.get('da')).toEqual(item({ type: 'byte-sequence', value: Buffer.from('Æbletærte', 'utf8') }));
  });

  it('a=?0, b, c; foo=bar: a member without value is Boolean true', () => {
    expect([...parseDictionaryField('a=?0, b, c; foo=bar')]).toEqual([
      ['a', item({ type: 'boolean', value: false })],
      ['b', item(TRUE)],
      ['c', item(TRUE, [['foo', token('bar')]])],
    ]);
  });

  it('a=(1 2), b=3, c=4;aa=bb, d=(5 6);valid: inner lists with parameters', () => {
    const dictionary = parseDictionaryField('a=(1 2), b=3, c=4;aa=bb, d=(5 6);valid');
    expect(dictionary.get('a')).toEqual({ kind: 'inner-list', items: [item(int(1)), item(int(2))], params: new Map() });
    expect(dictionary.get('d')).toEqual({ kind: 'inner-list', items: [item(int(5)), item(int(6))], params: new Map([['valid', TRUE]]) });
    expect(dictionary.get('c')).toEqual(item(int(4), [['aa', token('bb')]]));
  });

  it('joins the lines of a field: "foo=1" and "bar=2" equal "foo=1, bar=2"', () => {
    expect([...parseDictionaryField(['foo=1', 'bar=2'])]).toEqual([...parseDictionaryField('foo=1, bar=2')]);
  });

  it('keeps the last of duplicate keys, in the first one\'s place', () => {
    expect([...parseDictionaryField('a=1, b=2, a=3')]).toEqual([
      ['a', item(int(3))],
      ['b', item(int(2))],
    ]);
  });

  it('reads the Upload-Limit examples of the drafts, tabs allowed around commas', () => {
    expect([...parseDictionaryField('max-size=1234567890')]).toEqual([['max-size', item(int(1_234_567_890))]]);
    expect([...parseDictionaryField('min-size=0,\tmax-size=1000000000')]).toEqual([
      ['min-size', item(int(0))],
      ['max-size', item(int(1_000_000_000))],
    ]);
  });

  it('an empty value is an empty dictionary', () => {
    expect(parseDictionaryField('').size).toBe(0);
  });

  it.each(['a=1,', 'a=1,,b=2', 'A=1', '1=a', 'a=1 b=2', 'a=(1 2', 'a=(1,2)', 'a=', ', a=1'])('refuses %p', (text) => {
    expect(() => parseDictionaryField(text)).toThrow(StructuredFieldError);
  });
});

describe('parseListField', () => {
  it('reads items and inner lists', () => {
    expect(parseListField('sugar, tea, rum')).toEqual([item(token('sugar')), item(token('tea')), item(token('rum'))]);
    expect(parseListField('("foo" "bar"), ("baz"), ("bat" "one"), ()')).toHaveLength(4);
  });

  it('refuses a trailing comma', () => {
    expect(() => parseListField('1, 2,')).toThrow(StructuredFieldError);
  });
});
