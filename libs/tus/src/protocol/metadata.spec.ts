import { describe, expect, it } from '@jest/globals';
import { InvalidRequestError } from '../errors/tus.errors.js';
import { assertValidMetadata, parseMetadata, stringifyMetadata } from './metadata.js';

describe('parseMetadata', () => {
  it('decodes the spec example, keeping key order', () => {
    const metadata = parseMetadata('filename d29ybGRfZG9taW5hdGlvbl9wbGFuLnBkZg==,is_confidential');
    expect(Object.entries(metadata)).toEqual([
      ['filename', 'world_domination_plan.pdf'],
      ['is_confidential', ''],
    ]);
  });

  it.each([
    ['no header', undefined, {}],
    ['an empty header', '', {}],
    ['an empty value with its space', 'empty ', { empty: '' }],
    ['UTF-8 values', `name ${Buffer.from('résumé ✓').toString('base64')}`, { name: 'résumé ✓' }],
    ['spaces around pairs', ' a YQ== , b Yg== ', { a: 'a', b: 'b' }],
  ])('accepts %s', (_case, header, expected) => {
    expect({ ...parseMetadata(header) }).toEqual(expected);
  });

  it.each([
    ['a duplicate key', 'a YQ==,a Yg=='],
    ['an empty key (an empty pair)', 'a YQ==,,b Yg=='],
    ['a value that is not base64', 'a not*base64'],
    ['unpadded base64', 'a YQ'],
    ['a non-ASCII key', 'clé YQ=='],
    ['a third part', 'a YQ== extra'],
  ])('rejects %s with 400', (_case, header) => {
    expect(() => parseMetadata(header)).toThrow(InvalidRequestError);
  });

  it('cannot be polluted through __proto__', () => {
    const metadata = parseMetadata('__proto__ YQ==');
    expect(metadata['__proto__']).toBe('a');
    expect(({} as Record<string, unknown>)['a']).toBeUndefined();
  });
});

describe('stringifyMetadata', () => {
  it('round-trips through parseMetadata', () => {
    const metadata = { filename: 'a b.txt', empty: '', unicode: 'π' };
    expect({ ...parseMetadata(stringifyMetadata(metadata)) }).toEqual(metadata);
  });
});

describe('assertValidMetadata', () => {
  it.each([[null], ['text'], [{ 'bad key': 'x' }], [{ key: 1 }]])('rejects %p', (value) => {
    expect(() => assertValidMetadata(value)).toThrow(TypeError);
  });

  it('accepts string values under valid keys', () => {
    expect(() => assertValidMetadata({ filename: 'x', empty: '' })).not.toThrow();
  });
});
