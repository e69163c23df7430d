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

/**
 * A field's value as a server receives it: one line, several lines of the same name (Node gives an
 * array for some fields), or nothing.
 */
export type FieldLines = string | readonly string[];

// RFC 9651 section 4.2: Integers up to 15 digits; Decimals up to 12 integer and 3 fraction digits.
const MAX_INTEGER_DIGITS = 15;
const MAX_DECIMAL_INTEGER_DIGITS = 12;
const MAX_DECIMAL_FRACTION_DIGITS = 3;
const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z:/]/; // tchar from RFC 9110, plus ":" and "/"
const KEY_CHAR = /[a-z0-9_\-.*]/;
const BASE64_CHAR = /[A-Za-z0-9+/=]/;

/**
 * Parses a Structured Field whose type is Item (RFC 9651 section 4.2.3), e.g. `Upload-Offset`.
 * Throws `StructuredFieldError` when the value does not parse.
 */
export function parseItemField(lines: FieldLines): Item {
  return parseField(lines, (p) => p.item());
}

/** Parses a Structured Field whose type is Dictionary (section 4.2.2), e.g. `Upload-Limit`. */
export function parseDictionaryField(lines: FieldLines): Dictionary {
  return parseField(lines, (p) => p.dictionary());
}

/** Parses a Structured Field whose type is List (section 4.2.1). */
export function parseListField(lines: FieldLines): List {
  return parseField(lines, (p) => p.list());
}

function parseField<T>(lines: FieldLines, parseTop: (parser: Parser) => T): T {
  // "parsers MUST combine all field lines in the same section ... into one comma-separated field-value"
  const text = typeof lines === 'string' ? lines : lines.join(', ');
  // "Convert input_bytes into an ASCII string input_string; if conversion fails, fail parsing."
  // (Node decodes header bytes as latin1, so a byte above 0x7F shows up as a character above it.)
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) > 0x7f) throw new StructuredFieldError('the field value is not ASCII');
  }
  const parser = new Parser(text);
  parser.skipSpaces();
  const value = parseTop(parser);
  parser.skipSpaces();
  if (!parser.done()) throw new StructuredFieldError(`unexpected "${parser.peek()}" at position ${parser.position}`);
  return value;
}

/** The algorithms of RFC 9651 section 4.2, each consuming what it parsed from the input. */
class Parser {
  position = 0;

  constructor(private readonly input: string) {}

  done(): boolean {
    return this.position >= this.input.length;
  }

  peek(): string {
    return this.input.charAt(this.position);
  }

  skipSpaces(): void {
    while (this.peek() === ' ') this.position++;
  }

  private skipOws(): void {
    while (this.peek() === ' ' || this.peek() === '\t') this.position++;
  }

  private fail(what: string): never {
    throw new StructuredFieldError(`${what} at position ${this.position}`);
  }

  /** Section 4.2.1. */
  list(): List {
    const members: Member[] = [];
    while (!this.done()) {
      members.push(this.itemOrInnerList());
      if (this.afterMember()) break;
    }
    return members;
  }

  /** Section 4.2.2; a duplicate key overwrites the earlier member in place. */
  dictionary(): Dictionary {
    const members = new Map<string, Member>();
    while (!this.done()) {
      const key = this.key();
      let member: Member;
      if (this.peek() === '=') {
        this.position++;
        member = this.itemOrInnerList();
      } else {
        member = { kind: 'item', value: { type: 'boolean', value: true }, params: this.parameters() };
      }
      members.set(key, member);
      if (this.afterMember()) break;
    }
    return members;
  }

  /** The separator between List or Dictionary members; true at the end of the input. */
  private afterMember(): boolean {
    this.skipOws();
    if (this.done()) return true;
    if (this.peek() !== ',') this.fail(`expected "," but found "${this.peek()}"`);
    this.position++;
    this.skipOws();
    if (this.done()) this.fail('trailing comma');
    return false;
  }

  private itemOrInnerList(): Member {
    return this.peek() === '(' ? this.innerList() : this.item();
  }

  /** Section 4.2.1.2. */
  private innerList(): InnerList {
    this.position++; // "("
    const items: Item[] = [];
    while (!this.done()) {
      this.skipSpaces();
      if (this.peek() === ')') {
        this.position++;
        return { kind: 'inner-list', items, params: this.parameters() };
      }
      items.push(this.item());
      const next = this.peek();
      if (next !== ' ' && next !== ')') this.fail('expected " " or ")" in an inner list');
    }
    return this.fail('unterminated inner list');
  }

  /** Section 4.2.3. */
  item(): Item {
    return { kind: 'item', value: this.bareItem(), params: this.parameters() };
  }

  /** Section 4.2.3.1. */
  private bareItem(): BareItem {
    const first = this.peek();
    if (first === '-' || (first >= '0' && first <= '9')) return this.number();
    if (first === '"') return { type: 'string', value: this.string() };
    if ((first >= 'A' && first <= 'Z') || (first >= 'a' && first <= 'z') || first === '*') {
      return { type: 'token', value: this.token() };
    }
    if (first === ':') return { type: 'byte-sequence', value: this.byteSequence() };
    if (first === '?') return { type: 'boolean', value: this.boolean() };
    if (first === '@') return this.date();
    if (first === '%') return { type: 'display-string', value: this.displayString() };
    return this.fail(first === '' ? 'missing item' : `unrecognised item starting with "${first}"`);
  }

  /** Section 4.2.3.2. */
  private parameters(): Parameters {
    const params = new Map<string, BareItem>();
    while (this.peek() === ';') {
      this.position++;
      this.skipSpaces();
      const key = this.key();
      let value: BareItem = { type: 'boolean', value: true };
      if (this.peek() === '=') {
        this.position++;
        value = this.bareItem();
      }
      params.set(key, value);
    }
    return params;
  }

  /** Section 4.2.3.3. */
  private key(): string {
    const first = this.peek();
    if (!((first >= 'a' && first <= 'z') || first === '*')) this.fail('a key must start with a lowercase letter or "*"');
    const start = this.position;
    while (!this.done() && KEY_CHAR.test(this.peek())) this.position++;
    return this.input.slice(start, this.position);
  }

  /** Section 4.2.4. */
  private number(): BareItem {
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
  private string(): string {
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
  private token(): string {
    const start = this.position;
    this.position++; // ALPHA or "*", checked by the caller
    while (!this.done() && TCHAR.test(this.peek())) this.position++;
    return this.input.slice(start, this.position);
  }

  /**
   * Section 4.2.7. Missing "=" padding and non-zero pad bits are accepted ("parsers SHOULD NOT
   * fail"); characters outside the base64 alphabet, misplaced padding and impossible lengths fail.
   */
  private byteSequence(): Buffer {
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
  private boolean(): boolean {
    this.position++; // "?"
    const char = this.peek();
    if (char !== '0' && char !== '1') this.fail('a boolean is ?0 or ?1');
    this.position++;
    return char === '1';
  }

  /** Section 4.2.9 (RFC 9651). */
  private date(): BareItem {
    this.position++; // "@"
    const number = this.number();
    if (number.type !== 'integer') this.fail('a date is an integer');
    return { type: 'date', value: number.value };
  }

  /** Section 4.2.10 (RFC 9651). */
  private displayString(): string {
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
