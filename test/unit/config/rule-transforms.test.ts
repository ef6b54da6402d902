import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/core/errors.ts';
import { parseConfig } from '../../../src/config/schema.ts';
import { captureGroupCount, refusedRegexFeature, replacementGroups } from '../../../src/config/rule-regex.ts';

/** A config with one rule carrying `extra` (transforms, conditions). */
function withRule(rule: Record<string, unknown>): unknown {
  return {
    loadBalancers: [
      {
        name: 'app',
        listeners: [
          {
            port: 80,
            defaultActions: [{ type: 'fixed-response', fixedResponseConfig: { statusCode: '404' } }],
            rules: [{ priority: 1, conditions: [{ field: 'path-pattern', values: ['/*'] }], actions: [{ type: 'fixed-response', fixedResponseConfig: { statusCode: '200' } }], ...rule }],
          },
        ],
      },
    ],
  };
}

function issuesOf(input: unknown): Array<{ path: string; message: string }> {
  try {
    parseConfig(input as never);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues.map((i) => ({ path: i.path, message: i.message }));
  }
  return [];
}

const url = (regex: string, replace: string) => ({ type: 'url-rewrite', urlRewriteConfig: { rewrites: [{ regex, replace }] } });
const host = (regex: string, replace: string) => ({ type: 'host-header-rewrite', hostHeaderRewriteConfig: { rewrites: [{ regex, replace }] } });
const RULE = 'loadBalancers[0].listeners[0].rules[0]';

describe('rule transforms in the config (spec 6.1)', () => {
  it('accepts one url-rewrite and one host-header-rewrite on a rule', () => {
    expect(issuesOf(withRule({ transforms: [url('^/api/(.*)$', '/$1'), host('^www\\.(.+)$', 'internal.$1')] }))).toEqual([]);
  });

  it('refuses a second transform of the same type, naming the field and what is allowed', () => {
    const issues = issuesOf(withRule({ transforms: [url('^/a', '/b'), url('^/c', '/d')] }));
    expect(issues).toHaveLength(1);
    expect(issues[0]!.path).toBe(`${RULE}.transforms[1].type`);
    expect(issues[0]!.message).toContain('at most one url-rewrite transform per rule');
    expect(issues[0]!.message).toContain('got a second "url-rewrite"');
  });

  it('refuses an unknown transform type with the types allowed', () => {
    const issues = issuesOf(withRule({ transforms: [{ type: 'path-rewrite' }] }));
    expect(issues[0]!.path).toBe(`${RULE}.transforms[0].type`);
    expect(issues[0]!.message).toBe('type must be one of host-header-rewrite | url-rewrite: got "path-rewrite"');
  });

  it.each([
    ['a lookahead', '^/a(?=b)', 'lookaheads'],
    ['a negative lookahead', '^/a(?!b)', 'lookaheads'],
    ['a lookbehind', '(?<=/a)b', 'lookbehinds'],
    ['a backreference', '^/(a)\\1', 'backreferences'],
    ['a named backreference', '^/(?<x>a)\\k<x>', 'backreferences'],
    ['an atomic group', '^/(?>a+)', 'atomic groups'],
    ['a possessive quantifier', '^/a*+', 'possessive quantifiers'],
    ['recursion', '^(a(?R)?b)$', 'recursion'],
    ['a subroutine', '^(a)(?1)$', 'recursion and subroutines'],
    ['a Unicode class', '^/\\p{L}+$', 'Unicode character classes'],
    ['a syntax error', '^/(a', 'does not compile'],
  ])('refuses %s in a url-rewrite regex', (_name, regex, says) => {
    const issues = issuesOf(withRule({ transforms: [url(regex, '/x')] }));
    expect(issues).toHaveLength(1);
    expect(issues[0]!.path).toBe(`${RULE}.transforms[0].urlRewriteConfig.rewrites[0].regex`);
    expect(issues[0]!.message).toContain(says);
    expect(issues[0]!.message).toContain(`got ${JSON.stringify(regex)}`);
  });

  it('refuses a replacement that names a capture group the regex lacks', () => {
    const issues = issuesOf(withRule({ transforms: [host('^(.+)\\.example\\.com$', '$2.internal')] }));
    expect(issues).toEqual([
      { path: `${RULE}.transforms[0].hostHeaderRewriteConfig.rewrites[0].replace`, message: 'refers to $2, but regex "^(.+)\\\\.example\\\\.com$" has 1 capture group ($1–$1 allowed): got "$2.internal"' },
    ]);
  });

  it.each([
    ['regex', 'x'.repeat(1025), '/x'],
    ['replace', '^/x', '/'.repeat(1025)],
  ])('refuses a %s over 1024 characters', (field, regex, replace) => {
    const issues = issuesOf(withRule({ transforms: [url(regex, replace)] }));
    expect(issues.map((i) => i.path)).toEqual([`${RULE}.transforms[0].urlRewriteConfig.rewrites[0].${field}`]);
  });

  it('refuses two rewrites in one transform (AWS takes one)', () => {
    const issues = issuesOf(withRule({ transforms: [{ type: 'url-rewrite', urlRewriteConfig: { rewrites: [{ regex: 'a', replace: 'b' }, { regex: 'c', replace: 'd' }] } }] }));
    expect(issues.map((i) => i.path)).toEqual([`${RULE}.transforms[0].urlRewriteConfig.rewrites`]);
  });
});

describe('regexValues in conditions (spec 6.2)', () => {
  it('accepts regexValues on host-header, path-pattern and http-header', () => {
    expect(
      issuesOf(
        withRule({
          conditions: [
            { field: 'host-header', hostHeaderConfig: { regexValues: ['^api\\.example\\.com(:\\d+)?$'] } },
            { field: 'path-pattern', pathPatternConfig: { regexValues: ['^/v[0-9]+/'] } },
            { field: 'http-header', httpHeaderConfig: { httpHeaderName: 'User-Agent', regexValues: ['curl/'] } },
          ],
        }),
      ),
    ).toEqual([]);
  });

  it('refuses a lookbehind in a path regex, naming the value', () => {
    const issues = issuesOf(withRule({ conditions: [{ field: 'path-pattern', pathPatternConfig: { regexValues: ['(?<!/admin)/x'] } }] }));
    expect(issues).toHaveLength(1);
    expect(issues[0]!.path).toBe(`${RULE}.conditions[0].pathPatternConfig.regexValues[0]`);
    expect(issues[0]!.message).toContain('lookbehinds');
  });

  it('refuses a regex over 128 characters', () => {
    const issues = issuesOf(withRule({ conditions: [{ field: 'path-pattern', pathPatternConfig: { regexValues: ['a'.repeat(129)] } }] }));
    expect(issues.map((i) => i.path)).toEqual([`${RULE}.conditions[0].pathPatternConfig.regexValues[0]`]);
  });

  it('refuses values and regexValues together', () => {
    const issues = issuesOf(withRule({ conditions: [{ field: 'host-header', hostHeaderConfig: { values: ['a.example.com'], regexValues: ['^a'] } }] }));
    expect(issues).toEqual([{ path: `${RULE}.conditions[0].hostHeaderConfig`, message: 'needs exactly one of values or regexValues' }]);
  });
});

describe('rule-regex helpers', () => {
  it.each([
    ['[\\p{L}]', 'Unicode'],
    ['[(?=]', undefined],
    ['\\(?=x', undefined],
    ['[\\1]', undefined],
    ['a{2}+', 'possessive'],
    ['(?<name>a)', undefined],
  ])('refusedRegexFeature(%j) mentions %s', (source, says) => {
    const refused = refusedRegexFeature(source);
    if (says === undefined) expect(refused).toBeUndefined();
    else expect(refused).toContain(says);
  });

  it('counts capture groups, not non-capturing ones', () => {
    expect(captureGroupCount('^(a)(?:b)(c(d))$')).toBe(3);
  });

  it('reads $N references and skips $$', () => {
    expect(replacementGroups('/$1/$$2/$10')).toEqual([1, 10]);
  });
});
