/**
 * Property tests for listener rule matching (spec 6.1, 6.2): wildcard patterns and rule sets
 * checked against a small reference written here (a memoised glob matcher over tokens, and a
 * sort-and-scan over rules), over patterns and strings whose alphabets include regex
 * metacharacters, `/`, `*` and `?`.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ActionConfig, ConditionConfig, RuleConfig } from '../../../src/config/schema.ts';
import { compileRules, wildcardRegExp, type RequestFacts } from '../../../src/l7/rules.ts';

type Token = { readonly kind: 'star' } | { readonly kind: 'one' } | { readonly kind: 'literal'; readonly ch: string };

/** Characters a literal may be: regex metacharacters, `/`, `\` and letters in both cases. */
const LITERALS = ['a', 'b', 'A', 'B', '/', '.', '+', '(', ')', '[', ']', '{', '}', '$', '^', '|', '\\', '-', '~', ':', '&'] as const;
/** Characters a matched string may hold: the literals, and `*` and `?` as plain characters. */
const VALUE_CHARS = [...LITERALS, '*', '?'] as const;

const literalChar = fc.constantFrom(...LITERALS);
const valueChar = fc.constantFrom(...VALUE_CHARS);
const token: fc.Arbitrary<Token> = fc.oneof(
  { weight: 5, arbitrary: literalChar.map((ch): Token => ({ kind: 'literal', ch })) },
  { weight: 2, arbitrary: fc.constant<Token>({ kind: 'star' }) },
  { weight: 1, arbitrary: fc.constant<Token>({ kind: 'one' }) },
);
/**
 * For query-string patterns a literal may also be `*` or `?`, written escaped as `\*` and `\?`.
 * A literal `\` is left out: the spec says only that `\` escapes `*` and `?`, not what `\\` or `\a` mean.
 */
const queryToken: fc.Arbitrary<Token> = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...LITERALS.filter((ch) => ch !== '\\')).map((ch): Token => ({ kind: 'literal', ch })) },
  { weight: 2, arbitrary: fc.constant<Token>({ kind: 'star' }) },
  { weight: 1, arbitrary: fc.constant<Token>({ kind: 'one' }) },
  { weight: 1, arbitrary: fc.constantFrom('*', '?').map((ch): Token => ({ kind: 'literal', ch })) },
);

/** A pattern as a user writes it for path-pattern and host-header (no escapes). */
function plainPattern(tokens: readonly Token[]): string {
  return tokens.map((t) => (t.kind === 'star' ? '*' : t.kind === 'one' ? '?' : t.ch)).join('');
}

/** A query-string pattern: literal `*` and `?` escaped with `\` (spec 6.2). Literal `\` is never generated (see below). */
function escapedPattern(tokens: readonly Token[]): string {
  return tokens.map((t) => (t.kind === 'star' ? '*' : t.kind === 'one' ? '?' : t.ch === '*' || t.ch === '?' ? `\\${t.ch}` : t.ch)).join('');
}

/** Reference matcher: `*` any run (including `/`), `?` exactly one character, the rest literal; anchored. */
function globMatches(tokens: readonly Token[], value: string, caseInsensitive: boolean): boolean {
  const same = (a: string, b: string) => (caseInsensitive ? a.toLowerCase() === b.toLowerCase() : a === b);
  const memo = new Map<number, boolean>();
  const from = (t: number, v: number): boolean => {
    if (t === tokens.length) return v === value.length;
    const key = t * (value.length + 1) + v;
    const known = memo.get(key);
    if (known !== undefined) return known;
    const tok = tokens[t]!;
    const result =
      tok.kind === 'star'
        ? from(t + 1, v) || (v < value.length && from(t, v + 1))
        : v < value.length && (tok.kind === 'one' || same(tok.ch, value[v]!)) && from(t + 1, v + 1);
    memo.set(key, result);
    return result;
  };
  return from(0, 0);
}

function flipCase(ch: string): string {
  return ch === ch.toLowerCase() ? ch.toUpperCase() : ch.toLowerCase();
}

/** A string the pattern matches (case kept, or flipped when `flip`), so both outcomes are common. */
function instanceOf(tokens: readonly Token[], flip: boolean): fc.Arbitrary<string> {
  return fc
    .tuple(
      ...tokens.map((t) =>
        t.kind === 'star'
          ? fc.string({ unit: valueChar, maxLength: 4 })
          : t.kind === 'one'
            ? valueChar
            : flip
              ? fc.boolean().map((f) => (f ? flipCase(t.ch) : t.ch))
              : fc.constant(t.ch),
      ),
    )
    .map((parts) => parts.join(''));
}

/** A pattern's tokens with a string to try: often an instance of the pattern, sometimes a mutated instance or a random string. */
function patternAndValue(tokenArb: fc.Arbitrary<Token>, flip: boolean): fc.Arbitrary<{ tokens: Token[]; value: string }> {
  return fc.array(tokenArb, { maxLength: 8 }).chain((tokens) =>
    fc.record({
      tokens: fc.constant(tokens),
      value: fc.oneof(
        instanceOf(tokens, flip),
        fc.tuple(instanceOf(tokens, flip), fc.nat(), valueChar).map(([s, at, ch]) => (s.length === 0 ? ch : s.slice(0, at % s.length) + ch + s.slice((at % s.length) + 1))),
        instanceOf(tokens, flip).map((s) => s.slice(0, -1)),
        fc.string({ unit: valueChar, maxLength: 10 }),
      ),
    }),
  );
}

const RUNS = 2000;

describe('wildcardRegExp against the reference glob matcher (spec 6.2)', () => {
  it('path-pattern: matches exactly when the reference does, case-sensitively, with * crossing /', () => {
    fc.assert(
      fc.property(patternAndValue(token, true), ({ tokens, value }) => {
        expect(wildcardRegExp(plainPattern(tokens), false).test(value)).toBe(globMatches(tokens, value, false));
      }),
      { numRuns: RUNS },
    );
  });

  it('host-header: matches exactly when the reference does, ignoring case', () => {
    fc.assert(
      fc.property(patternAndValue(token, true), ({ tokens, value }) => {
        expect(wildcardRegExp(plainPattern(tokens), true).test(value)).toBe(globMatches(tokens, value, true));
      }),
      { numRuns: RUNS },
    );
  });

  it('query-string: \\* and \\? match a literal * and ?, ignoring case', () => {
    fc.assert(
      fc.property(patternAndValue(queryToken, true), ({ tokens, value }) => {
        expect(wildcardRegExp(escapedPattern(tokens), true, true).test(value)).toBe(globMatches(tokens, value, true));
      }),
      { numRuns: RUNS },
    );
  });

  it('a pattern without wildcards matches only itself (path-pattern) or itself in any case (host-header)', () => {
    fc.assert(
      fc.property(fc.string({ unit: literalChar, maxLength: 10 }), fc.string({ unit: valueChar, maxLength: 10 }), (literal, other) => {
        expect(wildcardRegExp(literal, false).test(literal)).toBe(true);
        expect(wildcardRegExp(literal, true).test(literal.toUpperCase())).toBe(true);
        expect(wildcardRegExp(literal, false).test(other)).toBe(other === literal);
      }),
      { numRuns: RUNS },
    );
  });
});

function facts(over: Partial<RequestFacts>): RequestFacts {
  return {
    method: over.method ?? 'GET',
    path: over.path ?? '/',
    query: over.query ?? new URLSearchParams(),
    host: over.host ?? 'www.example.com',
    hostHeader: over.hostHeader ?? over.host ?? 'www.example.com',
    rawHeaders: over.rawHeaders ?? [],
    sourceIp: over.sourceIp ?? '192.0.2.1',
  };
}

function fixedResponse(messageBody: string): ActionConfig {
  return { type: 'fixed-response', fixedResponseConfig: { statusCode: '200', messageBody } };
}

const DEFAULT_ACTION = fixedResponse('default');

/** Whether a listener holding one rule with `condition` routes `f` to that rule. */
function oneRuleMatches(condition: ConditionConfig, f: RequestFacts): boolean {
  const rules: RuleConfig[] = [{ priority: 1, conditions: [condition], actions: [fixedResponse('rule')] }];
  return compileRules({ rules, defaultActions: [DEFAULT_ACTION] }).match(f).priority === 1;
}

describe('compileRules conditions against the reference (spec 6.2)', () => {
  const values = fc.array(patternAndValue(token, true), { minLength: 1, maxLength: 3 });

  it('path-pattern: the rule matches when any of its values matches the path, case-sensitively', () => {
    fc.assert(
      fc.property(values, fc.boolean(), (pairs, viaConfig) => {
        const patterns = pairs.map((p) => plainPattern(p.tokens)).filter((p) => p !== '');
        fc.pre(patterns.length > 0);
        const condition: ConditionConfig = viaConfig ? { field: 'path-pattern', pathPatternConfig: { values: patterns } } : { field: 'path-pattern', values: patterns };
        for (const { value } of pairs) {
          const expected = pairs.some((p) => plainPattern(p.tokens) !== '' && globMatches(p.tokens, value, false));
          expect(oneRuleMatches(condition, facts({ path: value }))).toBe(expected);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('host-header: the rule matches when any of its values matches the host, ignoring case', () => {
    fc.assert(
      fc.property(values, fc.boolean(), (pairs, viaConfig) => {
        const patterns = pairs.map((p) => plainPattern(p.tokens)).filter((p) => p !== '');
        fc.pre(patterns.length > 0);
        const condition: ConditionConfig = viaConfig ? { field: 'host-header', hostHeaderConfig: { values: patterns } } : { field: 'host-header', values: patterns };
        for (const { value } of pairs) {
          const expected = pairs.some((p) => plainPattern(p.tokens) !== '' && globMatches(p.tokens, value, true));
          expect(oneRuleMatches(condition, facts({ host: value }))).toBe(expected);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('http-header: the rule matches when any instance of the header (name in any case) matches any value', () => {
    const headerName = fc.constantFrom('X-Test', 'x-test', 'X-TEST', 'X-Other');
    fc.assert(
      fc.property(
        patternAndValue(token, true),
        fc.array(fc.tuple(headerName, fc.string({ unit: valueChar, maxLength: 8 })), { maxLength: 3 }),
        ({ tokens, value }, others) => {
          const pattern = plainPattern(tokens);
          fc.pre(pattern !== '');
          const condition: ConditionConfig = { field: 'http-header', httpHeaderConfig: { httpHeaderName: 'x-Test', values: [pattern] } };
          const headers: Array<[string, string]> = [...others, ['X-Test', value]];
          const rawHeaders = headers.flat();
          const expected = headers.some(([n, v]) => n.toLowerCase() === 'x-test' && globMatches(tokens, v, true));
          expect(oneRuleMatches(condition, facts({ rawHeaders }))).toBe(expected);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('query-string: the rule matches when some query pair matches some {key?, value} item, ignoring case', () => {
    const item = fc.record({ key: fc.option(patternAndValue(queryToken, true), { nil: undefined }), value: patternAndValue(queryToken, true) });
    fc.assert(
      fc.property(
        fc.array(item, { minLength: 1, maxLength: 3 }),
        fc.array(fc.tuple(fc.string({ unit: valueChar, maxLength: 6 }), fc.string({ unit: valueChar, maxLength: 6 })), { maxLength: 2 }),
        (items, extraPairs) => {
          const condition: ConditionConfig = {
            field: 'query-string',
            queryStringConfig: { values: items.map((i) => ({ ...(i.key ? { key: escapedPattern(i.key.tokens) } : {}), value: escapedPattern(i.value.tokens) })) },
          };
          const pairs: Array<[string, string]> = [...items.map((i): [string, string] => [i.key?.value ?? 'k', i.value.value]), ...extraPairs];
          const query = new URLSearchParams(pairs);
          const expected = [...query].some(([k, v]) => items.some((i) => (i.key === undefined || globMatches(i.key.tokens, k, true)) && globMatches(i.value.tokens, v, true)));
          expect(oneRuleMatches(condition, facts({ query }))).toBe(expected);
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('compileRules: a rule set against sort-and-scan (spec 6.1)', () => {
  /** Short patterns over a tiny alphabet, so that rules often match and often overlap. */
  const smallToken: fc.Arbitrary<Token> = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom('a', 'b', '/').map((ch): Token => ({ kind: 'literal', ch })) },
    { weight: 1, arbitrary: fc.constantFrom<Token>({ kind: 'star' }, { kind: 'one' }) },
  );
  const smallPattern = fc.array(smallToken, { minLength: 1, maxLength: 4 });
  const METHODS = ['GET', 'POST', 'get', 'PUT'] as const;

  interface GeneratedRule {
    readonly priority: number;
    readonly paths: Token[][];
    readonly methods: string[] | undefined;
  }
  const rules = fc
    .uniqueArray(fc.integer({ min: 1, max: 50000 }), { maxLength: 8 })
    .chain((priorities) =>
      fc.tuple(
        ...priorities.map((priority) =>
          fc.record({
            priority: fc.constant(priority),
            paths: fc.array(smallPattern, { minLength: 1, maxLength: 3 }),
            methods: fc.option(fc.uniqueArray(fc.constantFrom(...METHODS), { minLength: 1, maxLength: 2 }), { nil: undefined }),
          }),
        ),
      ),
    )
    .map((generated): GeneratedRule[] => generated);
  const request = fc.record({ path: fc.string({ unit: fc.constantFrom('a', 'b', '/'), maxLength: 5 }), method: fc.constantFrom(...METHODS) });

  function toRuleConfig(r: GeneratedRule): RuleConfig {
    const conditions: ConditionConfig[] = [{ field: 'path-pattern', values: r.paths.map(plainPattern) }];
    if (r.methods !== undefined) conditions.push({ field: 'http-request-method', values: r.methods });
    return { priority: r.priority, conditions, actions: [fixedResponse(`rule ${r.priority}`)] };
  }

  it('returns the lowest-priority rule whose conditions all match, after trying that many rules, else the default rule', () => {
    fc.assert(
      fc.property(rules, fc.array(request, { minLength: 1, maxLength: 4 }), (generated, requests) => {
        const configs = generated.map(toRuleConfig);
        const compiled = compileRules({ rules: configs, defaultActions: [DEFAULT_ACTION] });
        expect(compiled.onlyDefault === undefined).toBe(generated.length > 0);
        const byPriority = [...generated].sort((a, b) => a.priority - b.priority);
        for (const { path, method } of requests) {
          const at = byPriority.findIndex(
            (r) => r.paths.some((p) => globMatches(p, path, false)) && (r.methods === undefined || r.methods.includes(method)),
          );
          const m = compiled.match(facts({ path, method }));
          if (at < 0) {
            expect(m).toEqual({ action: DEFAULT_ACTION, priority: 0, evaluations: generated.length });
          } else {
            const winner = byPriority[at]!;
            expect(m.priority).toBe(winner.priority);
            expect(m.evaluations).toBe(at + 1);
            expect(m.action).toBe(configs[generated.indexOf(winner)]!.actions[0]);
          }
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('gives the default rule with no evaluations when the listener has no rules', () => {
    fc.assert(
      fc.property(request, ({ path, method }) => {
        const compiled = compileRules({ rules: [], defaultActions: [DEFAULT_ACTION] });
        expect(compiled.onlyDefault).toEqual({ action: DEFAULT_ACTION, priority: 0, evaluations: 0 });
        expect(compiled.match(facts({ path, method }))).toEqual({ action: DEFAULT_ACTION, priority: 0, evaluations: 0 });
      }),
      { numRuns: 50 },
    );
  });
});
