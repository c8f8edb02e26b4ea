/**
 * (Over 350 lines on purpose: one recursive-descent reader of RE2's syntax, whose parts only
 * make sense together.)
 *
 * A syntax check for the regular expressions Envoy compiles with RE2 (`safe_regex`), and an
 * estimate of their RE2 program size, so a spec is refused at write time instead of being
 * NACKed by every sidecar. JavaScript's RegExp is not RE2: backreferences, lookarounds,
 * possessive and atomic groups are JavaScript or PCRE, and RE2 refuses them.
 *
 * The check accepts a SUBSET of RE2's syntax (https://github.com/google/re2/wiki/Syntax):
 * anything it accepts, RE2 compiles (test/shared/model/re2.test.ts checks that against RE2
 * itself, compiled to WebAssembly); a few things RE2 would take are refused with a message
 * that says how to write them instead: a literal `{` or `]` must be escaped, `(?<name>` is
 * written `(?P<name>`, octal escapes are written `\x{..}`, and `\C` (one byte, which can split
 * a UTF-8 character) is refused outright.
 *
 * The program size is an ESTIMATE, modelled on how RE2 compiles to UTF-8 byte ranges: a
 * literal costs its UTF-8 bytes, an ASCII class its ranges, `.` and negated or Unicode classes
 * a dozen or more, repetitions multiply. It is calibrated so that Envoy's own test cases come
 * out right (`/asdf/.*` passes the default limit of 100, thirteen of them in a row do not) and
 * errs high, so a regex near the limit may be refused although Envoy would take it.
 */

/** maxRe2ProgramSize is Envoy's default `re2.max_program_size.error_level`: larger programs fail to compile. */
export const maxRe2ProgramSize = 100;

/** Re2Check is the verdict on one pattern: a problem (and where in the pattern), or the estimated program size. */
export type Re2Check = { readonly ok: true; readonly programSize: number } | { readonly ok: false; readonly message: string };

class Re2SyntaxError extends Error {
  constructor(
    message: string,
    readonly at: number,
  ) {
    super(message);
    this.name = 'Re2SyntaxError';
  }
}

const MAX_REPEAT = 1000;
const MAX_DEPTH = 100;
/** Cost of `.` (any character but newline) in UTF-8: the byte-range trie of every code point. */
const ANY_CHAR_COST = 12;
/** Cost of a Unicode class (\pL, \p{Greek}): coarse, they have tens to hundreds of ranges. */
const UNICODE_CLASS_COST = 60;
/** Fixed instructions of every program: fail, match and the unanchored `.*?` prefix. */
const PROGRAM_OVERHEAD = 4;

const posixClasses = new Set(['alnum', 'alpha', 'ascii', 'blank', 'cntrl', 'digit', 'graph', 'lower', 'print', 'punct', 'space', 'upper', 'word', 'xdigit']);
/** ASCII ranges each POSIX class and Perl class covers: their cost. */
const posixCost: Record<string, number> = { alnum: 3, alpha: 2, ascii: 1, blank: 2, cntrl: 2, digit: 1, graph: 1, lower: 1, print: 1, punct: 4, space: 2, upper: 1, word: 4, xdigit: 3 };
const perlCost: Record<string, number> = { d: 1, s: 3, w: 4 };
/** Single-letter Unicode general categories RE2 knows (\pL, \pN, ...). */
const unicodeLetters = new Set(['C', 'L', 'M', 'N', 'P', 'S', 'Z']);

/** utf8Length is the number of bytes of a code point in UTF-8. */
function utf8Length(cp: number): number {
  return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

/** rangeCost estimates the byte-range instructions of one class range lo-hi. */
function rangeCost(lo: number, hi: number): number {
  let cost = 0;
  if (lo < 0x80) cost += 1;
  for (const [start, end, bytes] of [
    [0x80, 0x7ff, 2],
    [0x800, 0xffff, 3],
    [0x10000, 0x10ffff, 4],
  ] as const) {
    if (hi >= start && lo <= end) cost += bytes * (lo <= start && hi >= end ? 1 : 2);
  }
  return cost;
}

/**
 * Parser is a recursive-descent reader of RE2 syntax that returns each piece's estimated
 * program size. Positions are code-point indexes into the pattern.
 */
class Parser {
  private pos = 0;
  private depth = 0;
  private foldCase = false;
  private readonly cps: number[];

  constructor(pattern: string) {
    this.cps = [...pattern].map((c) => c.codePointAt(0)!);
    const lone = this.cps.findIndex((cp) => cp >= 0xd800 && cp <= 0xdfff);
    if (lone >= 0) throw new Re2SyntaxError('a lone UTF-16 surrogate is not a character', lone);
  }

  parse(): number {
    const size = this.alternation();
    if (this.pos < this.cps.length) throw new Re2SyntaxError('unmatched ")"', this.pos);
    return size + PROGRAM_OVERHEAD;
  }

  private peek(offset = 0): string | undefined {
    const cp = this.cps[this.pos + offset];
    return cp === undefined ? undefined : String.fromCodePoint(cp);
  }

  private fail(message: string, at = this.pos): never {
    throw new Re2SyntaxError(message, at);
  }

  private alternation(): number {
    const branches = [this.concatenation()];
    while (this.peek() === '|') {
      this.pos += 1;
      branches.push(this.concatenation());
    }
    return branches.reduce((a, b) => a + b, 0) + branches.length - 1;
  }

  private concatenation(): number {
    let size = 0;
    while (this.pos < this.cps.length && this.peek() !== '|' && this.peek() !== ')') {
      const start = this.pos;
      const atom = this.atom();
      size += this.repetitions(atom, start);
    }
    return size;
  }

  /** repetitions applies any `*`, `+`, `?` or `{n,m}` that follow an atom (each optionally lazy with `?`). */
  private repetitions(atom: number | undefined, start: number): number {
    let size = atom;
    let repeated = false;
    for (;;) {
      const c = this.peek();
      const at = this.pos;
      let next: number;
      if (c === '*' || c === '+' || c === '?') {
        this.pos += 1;
        next = (size ?? 0) + 1;
      } else if (c === '{') {
        const counts = this.repeatCounts();
        const unit = size ?? 0;
        next = counts.max === undefined ? counts.min * unit + 1 : counts.min * unit + (counts.max - counts.min) * (unit + 1);
      } else break;
      if (size === undefined) this.fail(`missing argument to repetition operator: ${c}`, at);
      if (repeated) this.fail(`bad repetition operator: a repetition of a repetition (write (?:...)${c} to repeat a group)`, at);
      repeated = true;
      if (this.peek() === '?') this.pos += 1; // lazy
      if (this.peek() === '+') this.fail('possessive quantifiers (*+, ++, ?+) are not RE2 syntax', this.pos);
      if (this.peek() === '*' || this.peek() === '+' || this.peek() === '?' || this.peek() === '{') {
        this.fail(`bad repetition operator: ${String.fromCodePoint(...this.cps.slice(at, this.pos + 1))}`, at);
      }
      size = next;
    }
    void start;
    return size ?? 0;
  }

  private repeatCounts(): { min: number; max: number | undefined } {
    const at = this.pos;
    const rest = String.fromCodePoint(...this.cps.slice(this.pos, this.pos + 16));
    const m = /^\{(\d+)(,(\d*))?\}/.exec(rest);
    if (!m) this.fail('a literal "{" must be escaped as \\{ (or write a repetition {n}, {n,} or {n,m})', at);
    this.pos += m[0].length;
    const min = Number(m[1]);
    const max = m[2] === undefined ? min : m[3] === '' ? undefined : Number(m[3]);
    if (min > MAX_REPEAT || (max !== undefined && max > MAX_REPEAT)) this.fail(`invalid repetition size: ${m[0]} (RE2 allows at most ${MAX_REPEAT})`, at);
    if (max !== undefined && max < min) this.fail(`invalid repetition size: ${m[0]} (the maximum is below the minimum)`, at);
    return { min, max };
  }

  /** atom reads one atom and returns its size, or undefined for something a repetition cannot follow (a flag group). */
  private atom(): number | undefined {
    const c = this.peek()!;
    const at = this.pos;
    switch (c) {
      case '(':
        return this.group();
      case '[':
        return this.charClass();
      case '\\':
        return this.escape(false).cost;
      case '.':
        this.pos += 1;
        return ANY_CHAR_COST;
      case '^':
      case '$':
        this.pos += 1;
        return 1;
      case '*':
      case '+':
      case '?':
        this.fail(`missing argument to repetition operator: ${c}`, at);
        break;
      case '{':
        this.fail('a literal "{" must be escaped as \\{', at);
        break;
      case ']':
      case '}':
        this.fail(`a literal "${c}" must be escaped as \\${c}`, at);
        break;
    }
    const cp = this.cps[this.pos]!;
    this.pos += 1;
    return this.literalCost(cp);
  }

  private literalCost(cp: number): number {
    const bytes = utf8Length(cp);
    return this.foldCase && bytes > 1 ? bytes * 2 : bytes;
  }

  private group(): number | undefined {
    const at = this.pos;
    this.pos += 1; // (
    let capture = true;
    const savedFold = this.foldCase;
    if (this.peek() === '?') {
      const next = this.peek(1);
      if (next === ':') {
        this.pos += 2;
        capture = false;
      } else if (next === 'P' && this.peek(2) === '<') {
        this.pos += 3;
        this.groupName(at);
      } else if (next === '<' && this.peek(2) !== '=' && this.peek(2) !== '!') {
        this.fail('write a named group as (?P<name>...)', at);
      } else if (next === '=' || next === '!' || (next === '<' && (this.peek(2) === '=' || this.peek(2) === '!'))) {
        this.fail('lookahead and lookbehind ((?=, (?!, (?<=, (?<!) are not RE2 syntax', at);
      } else if (next === '>') {
        this.fail('atomic groups ((?>...)) are not RE2 syntax', at);
      } else {
        this.pos += 1; // ?
        const flags = this.flags(at);
        if (this.peek() === ')') {
          this.pos += 1;
          this.foldCase = flags.fold ?? this.foldCase; // applies to the rest of the enclosing group
          return undefined;
        }
        this.pos += 1; // :
        capture = false;
        this.foldCase = flags.fold ?? this.foldCase;
      }
    }
    this.depth += 1;
    if (this.depth > MAX_DEPTH) this.fail(`groups nest deeper than ${MAX_DEPTH}`, at);
    const size = this.alternation();
    this.depth -= 1;
    if (this.peek() !== ')') this.fail('missing ")"', at);
    this.pos += 1;
    this.foldCase = savedFold;
    return size + (capture ? 2 : 0);
  }

  private groupName(at: number): void {
    const start = this.pos;
    while (this.peek() !== undefined && /[A-Za-z0-9_]/.test(this.peek()!)) this.pos += 1;
    if (this.pos === start || this.peek() !== '>') this.fail('invalid named capture group: a name is letters, digits and "_"', at);
    this.pos += 1;
  }

  /** flags reads `(?flags)` or `(?flags:` up to the ")" or ":", e.g. `i`, `-s`, `im-U`. */
  private flags(at: number): { fold?: boolean } {
    let negated = false;
    let any = false;
    let fold: boolean | undefined;
    for (;;) {
      const c = this.peek();
      if (c === ')' || c === ':') {
        if (!any || (negated && this.peek(-1) === '-')) this.fail('missing or malformed flags in (?...)', at);
        return fold === undefined ? {} : { fold };
      }
      if (c === '-' && !negated) negated = true;
      else if (c !== undefined && 'imsU'.includes(c)) {
        if (c === 'i') fold = !negated;
        any = true;
      } else if (c === undefined) this.fail('missing ")"', at);
      else this.fail(`"(?${c}" is not RE2 syntax (flags are i, m, s and U; groups are (?:...) and (?P<name>...))`, at);
      this.pos += 1;
    }
  }

  /**
   * escape reads a backslash escape. In a class it returns the code point it stands for (or
   * undefined for a class escape like \d); outside, its cost.
   */
  private escape(inClass: boolean): { cost: number; cp?: number } {
    const at = this.pos;
    this.pos += 1; // backslash
    const c = this.peek();
    if (c === undefined) this.fail('trailing backslash at end of expression', at);
    this.pos += 1;
    if (/[1-9]/.test(c)) this.fail(`backreferences (\\${c}) are not RE2 syntax`, at);
    if (c === '0') this.fail('octal escapes are not accepted here; write the character as \\x{..}', at);
    if ('dsw'.includes(c)) return { cost: perlCost[c]! };
    if ('DSW'.includes(c)) return { cost: ANY_CHAR_COST };
    if (c === 'p' || c === 'P') return { cost: this.unicodeClass(at) };
    if (!inClass && 'bBAz'.includes(c)) return { cost: 1 };
    if (c === 'C') this.fail('\\C (any single byte) is refused: it can split a UTF-8 character', at);
    if (!inClass && c === 'Q') return { cost: this.quoted() };
    const simple: Record<string, number> = { a: 7, f: 12, t: 9, n: 10, r: 13, v: 11 };
    if (simple[c] !== undefined) return { cost: 1, cp: simple[c] };
    if (c === 'x') {
      const cp = this.hexEscape(at);
      return { cost: this.literalCost(cp), cp };
    }
    if (/[A-Za-z0-9_]/.test(c)) {
      const hint = c === 'Z' ? ' (RE2 writes end of text as \\z)' : '';
      this.fail(`invalid escape sequence: \\${c}${hint}`, at);
    }
    const cp = c.codePointAt(0)!;
    if (cp > 0x7f) this.fail(`invalid escape sequence: \\${c}`, at);
    return { cost: 1, cp };
  }

  private unicodeClass(at: number): number {
    const c = this.peek();
    if (c === '{') {
      const end = this.cps.indexOf('}'.codePointAt(0)!, this.pos);
      if (end < 0) this.fail('missing "}" in \\p{...}', at);
      const name = String.fromCodePoint(...this.cps.slice(this.pos + 1, end)).replace(/^\^/, '');
      if (!/^[A-Z][A-Za-z_]*$/.test(name)) this.fail(`invalid Unicode class name: \\p{${name}}`, at);
      this.pos = end + 1;
      return UNICODE_CLASS_COST;
    }
    if (c === undefined || !unicodeLetters.has(c)) this.fail(`invalid Unicode class: \\p${c ?? ''} (use \\pL, \\pN, ... or \\p{Name})`, at);
    this.pos += 1;
    return UNICODE_CLASS_COST;
  }

  /** quoted reads \Q...\E (or to the end): literal text. */
  private quoted(): number {
    let cost = 0;
    while (this.pos < this.cps.length) {
      if (this.peek() === '\\' && this.peek(1) === 'E') {
        this.pos += 2;
        return cost;
      }
      cost += this.literalCost(this.cps[this.pos]!);
      this.pos += 1;
    }
    return cost;
  }

  private hexEscape(at: number): number {
    const rest = String.fromCodePoint(...this.cps.slice(this.pos, this.pos + 10));
    const m = /^(?:\{([0-9A-Fa-f]{1,6})\}|([0-9A-Fa-f]{2}))/.exec(rest);
    if (!m) this.fail('invalid escape sequence: \\x needs two hex digits or \\x{...}', at);
    const cp = parseInt(m[1] ?? m[2]!, 16);
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) this.fail('invalid escape sequence: \\x{...} is not a Unicode scalar value', at);
    this.pos += m[0].length;
    return cp;
  }

  private charClass(): number {
    const at = this.pos;
    this.pos += 1; // [
    let negated = false;
    if (this.peek() === '^') {
      negated = true;
      this.pos += 1;
    }
    let cost = 0;
    let items = 0;
    let nonAscii = false;
    for (;;) {
      const c = this.peek();
      if (c === undefined) this.fail('missing "]" at the end of a character class', at);
      if (c === ']') {
        if (items === 0) this.fail('empty character class; a literal "]" must be escaped as \\]', at);
        this.pos += 1;
        break;
      }
      if (c === '[' && this.peek(1) === ':') {
        const end = String.fromCodePoint(...this.cps.slice(this.pos)).indexOf(':]');
        const name = end < 0 ? '' : String.fromCodePoint(...this.cps.slice(this.pos + 2, this.pos + end)).replace(/^\^/, '');
        if (!posixClasses.has(name)) this.fail('invalid POSIX class (use [:alpha:], [:digit:], ...; a literal "[" in a class is \\[)', this.pos);
        this.pos += end + 2;
        cost += posixCost[name]!;
        items += 1;
        continue;
      }
      if (c === '[') this.fail('a literal "[" in a character class must be escaped as \\[', this.pos);
      const lo = this.classChar();
      if (lo === undefined) {
        if (this.peek() === '-' && this.peek(1) !== ']') this.fail('bad character class range: a range cannot start at a class like \\d', this.pos);
        items += 1;
        cost += 2;
        continue;
      }
      let hi = lo;
      if (this.peek() === '-' && this.peek(1) !== ']' && this.peek(1) !== undefined) {
        const dash = this.pos;
        this.pos += 1;
        const end = this.classChar();
        if (end === undefined) this.fail('bad character class range: a range ends at a character, not a class', dash);
        if (end < lo) this.fail(`bad character class range: ${String.fromCodePoint(lo)}-${String.fromCodePoint(end)}`, dash);
        hi = end;
      }
      if (hi > 0x7f) nonAscii = true;
      cost += rangeCost(lo, hi) * (this.foldCase && hi > 0x7f ? 2 : 1);
      items += 1;
    }
    // A negated class covers most of Unicode: as costly as `.`, plus what it cuts out.
    return negated || (nonAscii && cost > ANY_CHAR_COST) ? Math.max(cost, ANY_CHAR_COST) + (negated ? cost : 0) : cost;
  }

  /** classChar reads one character of a class (a code point), or a class escape (undefined). */
  private classChar(): number | undefined {
    if (this.peek() === '\\') {
      const e = this.escape(true);
      return e.cp;
    }
    const cp = this.cps[this.pos]!;
    this.pos += 1;
    return cp;
  }
}

/**
 * checkRe2 says whether RE2 (as Envoy runs it, UTF-8) compiles `pattern`, and estimates its
 * program size; a refusal says what is wrong and at which character.
 */
export function checkRe2(pattern: string): Re2Check {
  try {
    return { ok: true, programSize: new Parser(pattern).parse() };
  } catch (err) {
    if (err instanceof Re2SyntaxError) return { ok: false, message: `${err.message} (at character ${err.at + 1})` };
    throw err;
  }
}

/**
 * re2Problem is the write-time verdict on a regex field: undefined when RE2 compiles it within
 * Envoy's default program size, else the reason.
 */
export function re2Problem(pattern: string): string | undefined {
  const check = checkRe2(pattern);
  if (!check.ok) return `is not an RE2 regex: ${check.message}`;
  if (check.programSize > maxRe2ProgramSize) {
    return `is too complex for Envoy: its RE2 program size is about ${check.programSize}, over the limit of ${maxRe2ProgramSize} (simplify it, e.g. fewer ".*" or smaller repetitions)`;
  }
  return undefined;
}
