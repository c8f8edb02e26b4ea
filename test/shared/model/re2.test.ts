import fc from 'fast-check';
import { RE2 } from 're2-wasm';
import { checkRe2, maxRe2ProgramSize, re2Problem } from '../../../shared/model/re2';

/**
 * The RE2 check against RE2 itself: re2-wasm is Google's RE2 compiled to WebAssembly (the
 * engine @grpc/grpc-js-xds matches routes with), run in UTF-8 mode as Envoy runs it.
 */

/**
 * compiles says whether RE2 compiles the pattern: RE2 refuses it with a SyntaxError. Anything
 * else is thrown: re2-wasm never frees a compiled pattern and its heap is fixed at 16 MiB, so
 * a run that compiled too many (Unicode classes are large) fails loudly instead of passing.
 */
function compiles(pattern: string): boolean {
  try {
    new RE2(pattern, 'u');
    return true;
  } catch (err) {
    if (err instanceof SyntaxError) return false;
    throw err;
  }
}

const runs = (numRuns: number) => ({ numRuns: Number(process.env.FUZZ_RUNS) || numRuns });

describe('checkRe2', () => {
  it.each([
    ['(a)\\1', /backreferences \(\\1\) are not RE2 syntax \(at character 4\)/],
    ['(?=x)y', /lookahead and lookbehind/],
    ['(?<!x)y', /lookahead and lookbehind/],
    ['a++', /possessive quantifiers/],
    ['(?>a)', /atomic groups/],
    ['x**', /bad repetition operator: \*\*/],
    ['*a', /missing argument to repetition operator: \*/],
    ['a{1001}', /invalid repetition size: \{1001\}/],
    ['a{3,2}', /the maximum is below the minimum/],
    ['\\Z', /RE2 writes end of text as \\z/],
    ['(ab', /missing "\)"/],
    ['ab)', /unmatched "\)"/],
    ['[z-a]', /bad character class range: z-a/],
    ['[abc', /missing "\]"/],
    ['[[:alfa:]]', /invalid POSIX class/],
    ['\\pQ', /invalid Unicode class/],
    ['(?#comment)', /is not RE2 syntax/],
    ['abc\\', /trailing backslash/],
  ])('refuses %s, which RE2 refuses too', (pattern, message) => {
    const check = checkRe2(pattern);
    expect(check.ok).toBe(false);
    expect(check.ok ? '' : check.message).toMatch(message);
    expect(compiles(pattern)).toBe(false);
  });

  it.each([
    ['\\C', /\\C \(any single byte\) is refused/],
    ['a{,5}', /a literal "\{" must be escaped/],
    ['[]a]', /a literal "\]" must be escaped/],
    ['(?<name>x)', /write a named group as \(\?P<name>\.\.\.\)/],
    ['\\012', /octal escapes are not accepted/],
  ])('refuses %s, which RE2 would take, with a message that says how to write it', (pattern, message) => {
    const check = checkRe2(pattern);
    expect(check.ok ? '' : check.message).toMatch(message);
    expect(compiles(pattern)).toBe(true);
  });

  it.each([
    '/api/v[0-9]+/orders',
    '/orders/[0-9]+/items(/.*)?',
    '(?i)/Admin/.*',
    '(?P<id>[a-f0-9]{8})-[a-f0-9]{4}',
    '[[:alpha:]][[:alnum:]_-]*',
    '\\d{3}-\\d{4}|\\w+@\\w+\\.com',
    '/caf\u00e9/\\x{1F600}?',
    '\\Q.*+?\\E/x',
    '^/a\\b.*\\z',
    '[^/]+/(?:foo|bar)??',
    '(?s:.)(?U)a*',
  ])('accepts %s, which RE2 compiles', (pattern) => {
    expect(checkRe2(pattern)).toMatchObject({ ok: true });
    expect(compiles(pattern)).toBe(true);
  });

  it("estimates program sizes on the side of Envoy's own cases: one /asdf/.* passes the default limit, thirteen do not", () => {
    expect(re2Problem('/asdf/.*')).toBeUndefined();
    const thirteen = '/asdf/.*'.repeat(13);
    expect(re2Problem(thirteen)).toMatch(new RegExp(`its RE2 program size is about \\d+, over the limit of ${maxRe2ProgramSize}`));
    expect(re2Problem('a{2,1000}')).toMatch(/too complex/);
    expect(re2Problem('(a)\\1')).toMatch(/^is not an RE2 regex: backreferences/);
  });

  it('gives a verdict on any string, never an exception', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (pattern) => {
        const check = checkRe2(pattern);
        expect(check.ok ? check.programSize : check.message).toEqual(check.ok ? expect.any(Number) : expect.any(String));
      }),
      runs(2000),
    );
    expect(checkRe2('('.repeat(150) + 'a' + ')'.repeat(150))).toMatchObject({ ok: false, message: expect.stringMatching(/groups nest deeper than 100/) });
  });

  it('accepts nothing RE2 refuses: random patterns built from regex tokens', () => {
    const tokens = [
      'a', 'b', '/', '.', '*', '+', '?', '|', '(', ')', '[', ']', '^', '$', '{', '}', '-', ',', ':', '<', '>', '=', '!', 'P',
      '\\', 'd', 'w', 'S', 'b', 'z', 'x', 'p', 'L', 'Q', 'E', '0', '1', '2', '3', 'é', '😀',
      '{2}', '{1,3}', '{2,}', '(?:', '(?i)', '(?-i:', '(?P<n>', '[a-z]', '[^a]', '\\d', '\\.', '\\x{41}', '[[:digit:]]',
    ];
    let accepted = 0;
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...tokens), { maxLength: 10 }), (parts) => {
        const pattern = parts.join('');
        const check = checkRe2(pattern);
        if (check.ok) {
          accepted += 1;
          expect({ pattern, compiles: compiles(pattern) }).toEqual({ pattern, compiles: true });
        }
      }),
      runs(2000),
    );
    // The property is not vacuous: a fair share of random patterns is accepted (and compiled).
    expect(accepted).toBeGreaterThan(100);
  });
});
