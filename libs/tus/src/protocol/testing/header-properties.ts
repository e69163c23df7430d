import { expect } from '@jest/globals';
import fc from 'fast-check';
import { InvalidRequestError } from '../../errors/tus.errors.js';

// What the header parsers' property specs share. Not part of the library (tsconfig.lib.json
// leaves out `testing/`): fast-check and Jest are devDependencies.

/** Runs per property: 1,000 by default, 50,000 with `TUS_SOAK=1`. */
export const RUNS = process.env.TUS_SOAK === '1' ? 50_000 : 1_000;

/** One character of what Node hands over as a header value: latin1. */
export const latin1 = fc.integer({ min: 0, max: 0xff }).map((code) => String.fromCharCode(code));

/** A one-character edit of a header. */
export type CharEdit = 'insert' | 'delete' | 'replace';
export const charEdit = fc.constantFrom<CharEdit>('insert', 'delete', 'replace');

/** `header` with `char` inserted at, or the character at, `at` (wrapped to its length) removed or replaced. */
export function editOnce(header: string, at: number, char: string, edit: CharEdit): string {
  const i = at % (header.length + 1);
  if (edit === 'insert') return header.slice(0, i) + char + header.slice(i);
  if (edit === 'delete') return header.slice(0, i) + header.slice(i + 1);
  return header.slice(0, i) + char + header.slice(i + 1);
}

/** Runs a parse, and says whether it refused: with the module's 400, never anything else. */
export function parsedOrRefused<T>(parse: () => T): T | 'refused' {
  try {
    return parse();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidRequestError);
    return 'refused';
  }
}
