import { type BareItem, StructuredFieldError } from './structured-field.types.js';

// RFC 9651 section 4.2: Integers up to 15 digits; Decimals up to 12 integer and 3 fraction digits.
const MAX_INTEGER_DIGITS = 15;
const MAX_DECIMAL_INTEGER_DIGITS = 12;
const MAX_DECIMAL_FRACTION_DIGITS = 3;
const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z:/]/; // tchar from RFC 9110, plus ":" and "/"
const BASE64_CHAR = /[A-Za-z0-9+/=]/;

/**
 * The input of one field value and a position in it, with the algorithms of RFC 9651 that read
 * one bare item (sections 4.2.4 to 4.2.10: numbers, strings, tokens, byte sequences, booleans,
 * dates, display strings). The parser (`structured-field.parser.ts`) adds the containers (lists,
 * dictionaries, parameters) on top.
 */
export class FieldScanner {
  position = 0;

  constructor(protected readonly input: string) {}

  done(): boolean {
    return this.position >= this.input.length;
  }

  peek(): string {
    return this.input.charAt(this.position);
  }

  skipSpaces(): void {
    while (this.peek() === ' ') this.position++;
  }

  protected skipOws(): void {
    while (this.peek() === ' ' || this.peek() === '\t') this.position++;
  }

  protected fail(what: string): never {
    throw new StructuredFieldError(`${what} at position ${this.position}`);
  }

  /** Section 4.2.4. */
  protected number(): BareItem {
    let sign = 1;
    if (this.peek() === '-') {
      sign = -1;
      this.position++;
    }
    if (this.done()) this.fail('empty integer');
    if (!(this.peek() >= '0' && this.peek() <= '9')) this.fail('a number needs a digit');
    let digits = '';
    let decimal = false;
    while (!this.done()) {
      const char = this.peek();
      if (char >= '0' && char <= '9') {
        digits += char;
      } else if (!decimal && char === '.') {
        if (digits.length > MAX_DECIMAL_INTEGER_DIGITS) this.fail('too many integer digits in a decimal');
        digits += char;
        decimal = true;
      } else {
        break;
      }
      this.position++;
      if (!decimal && digits.length > MAX_INTEGER_DIGITS) this.fail('an integer has at most 15 digits');
      if (decimal && digits.length > MAX_DECIMAL_INTEGER_DIGITS + MAX_DECIMAL_FRACTION_DIGITS + 1) {
        this.fail('a decimal has at most 16 characters');
      }
    }
    if (!decimal) return { type: 'integer', value: sign * Number(digits) };
    if (digits.endsWith('.')) this.fail('a decimal needs a fraction digit');
    if (digits.length - digits.indexOf('.') - 1 > MAX_DECIMAL_FRACTION_DIGITS) this.fail('a decimal has at most 3 fraction digits');
    return { type: 'decimal', value: sign * Number(digits) };
  }

  /** Section 4.2.5. */
  protected string(): string {
    this.position++; // DQUOTE
    let output = '';
    while (!this.done()) {
      const char = this.input.charAt(this.position++);
      if (char === '\\') {
        if (this.done()) this.fail('a string ends in an escape');
        const next = this.input.charAt(this.position++);
        if (next !== '"' && next !== '\\') this.fail('only DQUOTE and "\\" can be escaped');
        output += next;
      } else if (char === '"') {
        return output;
      } else if (char < ' ' || char > '~') {
        this.fail('a string holds printable ASCII only');
      } else {
        output += char;
      }
    }
    return this.fail('unterminated string');
  }

  /** Section 4.2.6. */
  protected token(): string {
    const start = this.position;
    this.position++; // ALPHA or "*", checked by the caller
    while (!this.done() && TCHAR.test(this.peek())) this.position++;
    return this.input.slice(start, this.position);
  }

  /**
   * Section 4.2.7. Missing "=" padding and non-zero pad bits are accepted ("parsers SHOULD NOT
   * fail"); characters outside the base64 alphabet, misplaced padding and impossible lengths fail.
   */
  protected byteSequence(): Buffer {
    this.position++; // ":"
    const end = this.input.indexOf(':', this.position);
    if (end === -1) this.fail('unterminated byte sequence');
    const content = this.input.slice(this.position, end);
    for (const char of content) if (!BASE64_CHAR.test(char)) this.fail(`"${char}" is not base64`);
    const data = content.replace(/={1,2}$/, '');
    const padding = content.length - data.length;
    if (data.includes('=') || data.length % 4 === 1 || (padding > 0 && content.length % 4 !== 0)) {
      this.fail('malformed base64');
    }
    this.position = end + 1;
    return Buffer.from(data, 'base64');
  }

  /** Section 4.2.8. */
  protected boolean(): boolean {
    this.position++; // "?"
    const char = this.peek();
    if (char !== '0' && char !== '1') this.fail('a boolean is ?0 or ?1');
    this.position++;
    return char === '1';
  }

  /** Section 4.2.9 (RFC 9651). */
  protected date(): BareItem {
    this.position++; // "@"
    const number = this.number();
    if (number.type !== 'integer') this.fail('a date is an integer');
    return { type: 'date', value: number.value };
  }

  /** Section 4.2.10 (RFC 9651). */
  protected displayString(): string {
    if (this.input.charAt(this.position + 1) !== '"') this.fail('a display string starts with %"');
    this.position += 2;
    const bytes: number[] = [];
    while (!this.done()) {
      const char = this.input.charAt(this.position++);
      if (char < ' ' || char > '~') this.fail('a display string holds printable ASCII only');
      if (char === '%') {
        const hex = this.input.slice(this.position, this.position + 2);
        if (!/^[0-9a-f]{2}$/.test(hex)) this.fail('"%" must be followed by two lowercase hex digits');
        bytes.push(Number.parseInt(hex, 16));
        this.position += 2;
      } else if (char === '"') {
        try {
          return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bytes));
        } catch {
          return this.fail('a display string is not UTF-8');
        }
      } else {
        bytes.push(char.charCodeAt(0));
      }
    }
    return this.fail('unterminated display string');
  }
}
