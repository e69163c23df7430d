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
import { FieldScanner } from './structured-field.scanner.js';

/**
 * A field's value as a server receives it: one line, several lines of the same name (Node gives an
 * array for some fields), or nothing.
 */
export type FieldLines = string | readonly string[];

const KEY_CHAR = /[a-z0-9_\-.*]/;

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

/** The containers of RFC 9651 section 4.2 (lists, dictionaries, inner lists, items, parameters, keys) over the bare items of {@link FieldScanner}. */
class Parser extends FieldScanner {
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
}
