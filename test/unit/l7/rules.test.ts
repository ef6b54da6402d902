import { describe, expect, it } from 'vitest';
import type { ListenerConfig } from '../../../src/config/schema.ts';
import { parseConfig } from '../../../src/config/schema.ts';
import { compileRules, wildcardRegExp, type RequestFacts } from '../../../src/l7/rules.ts';

/** A listener whose rules each answer a fixed response carrying their priority, built through the real schema. */
function listener(rules: Array<{ priority: number; conditions: unknown[] }>): ListenerConfig {
  const config = parseConfig({
    loadBalancers: [
      {
        name: 'app',
        listeners: [
          {
            port: 80,
            defaultActions: [{ type: 'fixed-response', fixedResponseConfig: { statusCode: '404', messageBody: 'default' } }],
            rules: rules.map((r) => ({ ...r, actions: [{ type: 'fixed-response', fixedResponseConfig: { statusCode: '200', messageBody: `rule ${r.priority}` } }] })),
          },
        ],
      },
    ],
  });
  return config.loadBalancers[0]!.listeners[0]!;
}

function facts(over: Partial<Omit<RequestFacts, 'query'>> & { query?: string } = {}): RequestFacts {
  return {
    method: over.method ?? 'GET',
    path: over.path ?? '/',
    query: new URLSearchParams(over.query ?? ''),
    host: over.host ?? 'www.example.com',
    hostHeader: over.hostHeader ?? over.host ?? 'www.example.com',
    rawHeaders: over.rawHeaders ?? [],
    sourceIp: over.sourceIp ?? '192.0.2.1',
  };
}

/** Whether a single rule with `conditions` matches `f`. */
function matches(conditions: unknown[], f: RequestFacts): boolean {
  return compileRules(listener([{ priority: 1, conditions }])).match(f).priority === 1;
}

describe('compileRules: evaluation order (spec 6.1)', () => {
  const rules = compileRules(
    listener([
      { priority: 30, conditions: [{ field: 'path-pattern', values: ['/a*'] }] },
      { priority: 10, conditions: [{ field: 'path-pattern', values: ['/abc*'] }] },
      { priority: 20, conditions: [{ field: 'path-pattern', values: ['/ab*'] }] },
    ]),
  );

  it.each([
    ['/abcd', 10, 1],
    ['/abz', 20, 2],
    ['/az', 30, 3],
    ['/zzz', 0, 3],
  ])('matches %s with the lowest-numbered matching rule, priority %i, after %i evaluations', (path, priority, evaluations) => {
    const m = rules.match(facts({ path }));
    expect(m.priority).toBe(priority);
    expect(m.evaluations).toBe(evaluations);
    const body = m.action.type === 'fixed-response' ? m.action.fixedResponseConfig.messageBody : undefined;
    expect(body).toBe(priority === 0 ? 'default' : `rule ${priority}`);
  });

  it('falls to the default rule, priority 0, when there are no rules', () => {
    const m = compileRules(listener([])).match(facts());
    expect(m).toMatchObject({ priority: 0, evaluations: 0 });
  });

  it('ANDs conditions and ORs the values inside one condition', () => {
    const conditions = [
      { field: 'path-pattern', values: ['/api/*', '/v2/*'] },
      { field: 'http-request-method', values: ['POST', 'PUT'] },
    ];
    expect(matches(conditions, facts({ path: '/api/x', method: 'POST' }))).toBe(true);
    expect(matches(conditions, facts({ path: '/v2/x', method: 'PUT' }))).toBe(true);
    expect(matches(conditions, facts({ path: '/api/x', method: 'GET' }))).toBe(false);
    expect(matches(conditions, facts({ path: '/web', method: 'POST' }))).toBe(false);
  });

  it('takes the terminal action (highest order) of a rule', () => {
    const compiled = compileRules({
      rules: [],
      defaultActions: [
        { type: 'fixed-response', order: 2, fixedResponseConfig: { statusCode: '200', messageBody: 'last' } },
        { type: 'fixed-response', order: 1, fixedResponseConfig: { statusCode: '200', messageBody: 'first' } },
      ],
    } as unknown as Pick<ListenerConfig, 'rules' | 'defaultActions'>);
    const action = compiled.match(facts()).action;
    expect(action.type === 'fixed-response' && action.fixedResponseConfig.messageBody).toBe('last');
  });
});

describe('path-pattern (spec 6.2: case-sensitive, anchored, * crosses /)', () => {
  it.each([
    ['/img/*', '/img/picture.jpg', true],
    ['/img/*', '/img/a/b/c.jpg', true],
    ['/img/*', '/img/', true],
    ['/img/*', '/img', false],
    ['/img/*', '/x/img/a.jpg', false],
    ['/api', '/api', true],
    ['/api', '/api/', false],
    ['/api', '/v1/api', false],
    ['/API', '/api', false],
    ['/a?c', '/abc', true],
    ['/a?c', '/ac', false],
    ['/a?c', '/abbc', false],
    ['*.jpg', '/a/b.jpg', true],
    ['*.jpg', '/a/bxjpg', false],
    ['/a+b', '/a+b', true],
    ['/a+b', '/aab', false],
    ['/$x', '/$x', true],
    ['/(x)', '/(x)', true],
  ])('pattern %j on path %j matches: %s', (pattern, path, expected) => {
    expect(matches([{ field: 'path-pattern', values: [pattern] }], facts({ path }))).toBe(expected);
  });

  it('accepts pathPatternConfig as well as values', () => {
    expect(matches([{ field: 'path-pattern', pathPatternConfig: { values: ['/x'] } }], facts({ path: '/x' }))).toBe(true);
  });
});

describe('host-header (spec 6.2: case-insensitive)', () => {
  it.each([
    ['*.example.com', 'test.example.com', true],
    ['*.example.com', 'a.b.example.com', true],
    ['*.example.com', 'example.com', false],
    ['*.example.com', 'test.example.com.evil.net', false],
    ['www.example.com', 'WWW.Example.COM', true],
    ['WWW.EXAMPLE.COM', 'www.example.com', true],
    ['api?.example.com', 'api1.example.com', true],
    ['api?.example.com', 'api.example.com', false],
    ['www.example.com', 'wwwxexample.com', false],
  ])('pattern %j on host %j matches: %s', (pattern, host, expected) => {
    expect(matches([{ field: 'host-header', values: [pattern] }], facts({ host }))).toBe(expected);
    expect(matches([{ field: 'host-header', hostHeaderConfig: { values: [pattern] } }], facts({ host }))).toBe(expected);
  });
});

describe('http-header (spec 6.2)', () => {
  const header = (name: string, values: string[]) => [{ field: 'http-header', httpHeaderConfig: { httpHeaderName: name, values } }];

  it.each([
    ['User-Agent', ['*Mobile*'], ['user-agent', 'Foo mobile Bar'], true],
    ['user-agent', ['*Mobile*'], ['User-Agent', 'Desktop'], false],
    ['X-Env', ['staging', 'qa'], ['x-env', 'QA'], true],
    ['X-Env', ['staging'], ['X-Env', 'staging-2'], false],
    ['X-Env', ['staging'], ['X-Other', 'staging'], false],
    ['X-Env', ['st?ging'], ['X-Env', 'staging'], true],
  ])('%s with %j against %j matches: %s', (name, values, raw, expected) => {
    expect(matches(header(name, values), facts({ rawHeaders: raw }))).toBe(expected);
  });

  it('tries each instance of a repeated header', () => {
    expect(matches(header('X-Env', ['prod']), facts({ rawHeaders: ['X-Env', 'dev', 'X-Env', 'prod'] }))).toBe(true);
  });

  it('ANDs two http-header conditions', () => {
    const conditions = [...header('X-A', ['1']), ...header('X-B', ['2'])];
    expect(matches(conditions, facts({ rawHeaders: ['X-A', '1', 'X-B', '2'] }))).toBe(true);
    expect(matches(conditions, facts({ rawHeaders: ['X-A', '1'] }))).toBe(false);
  });
});

describe('regexValues (spec 6.2; search, not full match; README "Listener rules")', () => {
  it.each([
    ['path: unanchored, so a regex matches inside the path', 'path-pattern', 'v[0-9]+/', { path: '/api/v2/users' }, true],
    ['path: anchors as written', 'path-pattern', '^/v[0-9]+/', { path: '/api/v2/users' }, false],
    ['path: case-sensitive', 'path-pattern', '^/API/', { path: '/api/x' }, false],
    ['path: never sees the query string', 'path-pattern', 'debug=1', { path: '/x', query: 'debug=1' }, false],
    ['host: case-insensitive', 'host-header', '^api\\.example\\.com$', { host: 'API.example.com', hostHeader: 'API.example.com' }, true],
    ['host: sees the port', 'host-header', ':8443$', { host: 'api.example.com', hostHeader: 'api.example.com:8443' }, true],
    ['host: $ after the name fails when a port came', 'host-header', '^api\\.example\\.com$', { host: 'api.example.com', hostHeader: 'api.example.com:8443' }, false],
  ] as const)('%s', (_name, field, regex, over, expected) => {
    const key = field === 'path-pattern' ? 'pathPatternConfig' : 'hostHeaderConfig';
    expect(matches([{ field, [key]: { regexValues: [regex] } }], facts(over))).toBe(expected);
  });

  it('http-header: case-insensitive, any instance of the header', () => {
    const condition = [{ field: 'http-header', httpHeaderConfig: { httpHeaderName: 'User-Agent', regexValues: ['^curl/[0-9.]+$'] } }];
    expect(matches(condition, facts({ rawHeaders: ['user-agent', 'Mozilla/5.0', 'User-Agent', 'CURL/8.5.0'] }))).toBe(true);
    expect(matches(condition, facts({ rawHeaders: ['User-Agent', 'curl/8.5.0 extra'] }))).toBe(false);
  });

  it('ORs the regexValues of one condition', () => {
    const condition = [{ field: 'path-pattern', pathPatternConfig: { regexValues: ['^/a/', '^/b/'] } }];
    expect(matches(condition, facts({ path: '/b/x' }))).toBe(true);
    expect(matches(condition, facts({ path: '/c/x' }))).toBe(false);
  });
});

describe('http-request-method (spec 6.2: exact, case-sensitive)', () => {
  it.each([
    [['GET'], 'GET', true],
    [['GET'], 'get', false],
    [['GET', 'HEAD'], 'HEAD', true],
    [['GET'], 'GETX', false],
    [['CUSTOM-METHOD'], 'CUSTOM-METHOD', true],
  ])('%j against %s matches: %s', (values, method, expected) => {
    expect(matches([{ field: 'http-request-method', values }], facts({ method }))).toBe(expected);
  });
});

describe('query-string (spec 6.2: case-insensitive, wildcards, \\ escapes)', () => {
  const qs = (values: Array<{ key?: string; value: string }>) => [{ field: 'query-string', queryStringConfig: { values } }];

  it.each([
    [[{ key: 'version', value: 'v1' }], 'version=v1', true],
    [[{ key: 'version', value: 'v1' }], 'VERSION=V1', true],
    [[{ key: 'version', value: 'v1' }], 'version=v2', false],
    [[{ key: 'version', value: 'v1' }], 'other=v1', false],
    [[{ key: 'version', value: 'v1' }], 'a=1&version=v1&b=2', true],
    [[{ value: 'v1' }], 'anything=v1', true],
    [[{ value: '*example*' }], 'q=an-EXAMPLE-query', true],
    [[{ key: 'v?', value: '1' }], 'v2=1', true],
    [[{ key: 'a', value: '1' }, { key: 'b', value: '2' }], 'b=2', true],
    [[{ key: 'a', value: '1' }], '', false],
    [[{ key: 'q', value: 'a b' }], 'q=a%20b', true],
  ])('%j against ?%s matches: %s', (values, query, expected) => {
    expect(matches(qs(values), facts({ query }))).toBe(expected);
  });

  it.each([
    ['\\*', '*', true],
    ['\\*', 'abc', false],
    ['a\\?', 'a?', true],
    ['a\\?', 'ab', false],
    ['\\\\', '\\', true],
    ['*', 'anything', true],
  ])('value pattern %j against %j matches: %s', (pattern, value, expected) => {
    expect(matches(qs([{ key: 'k', value: pattern }]), facts({ query: new URLSearchParams({ k: value }).toString() }))).toBe(expected);
  });
});

describe('source-ip (spec 6.2)', () => {
  it.each([
    [['10.0.0.0/8'], '10.1.2.3', true],
    [['10.0.0.0/8'], '11.0.0.1', false],
    [['192.168.1.10/32'], '192.168.1.10', true],
    [['192.168.1.10/32'], '192.168.1.11', false],
    [['192.168.1.10'], '192.168.1.10', true],
    [['203.0.113.0/24', '10.0.0.0/8'], '10.9.9.9', true],
    [['2001:db8::/32'], '2001:db8::1', true],
    [['2001:db8::/32'], '2001:db9::1', false],
    [['2001:db8::/32'], '10.0.0.1', false],
    [['0.0.0.0/0'], '198.51.100.7', true],
  ])('%j against %s matches: %s', (values, sourceIp, expected) => {
    expect(matches([{ field: 'source-ip', values }], facts({ sourceIp }))).toBe(expected);
    expect(matches([{ field: 'source-ip', sourceIpConfig: { values } }], facts({ sourceIp }))).toBe(expected);
  });
});

describe('wildcardRegExp', () => {
  it('anchors the pattern and escapes every regular expression character', () => {
    const re = wildcardRegExp('a.b|c^(d)[e]{f}$\\/', false);
    expect(re.test('a.b|c^(d)[e]{f}$\\/')).toBe(true);
    expect(re.test('axb|c^(d)[e]{f}$\\/')).toBe(false);
    expect(re.test('xa.b|c^(d)[e]{f}$\\/')).toBe(false);
  });

  it('lets * match newlines too (the s flag)', () => {
    expect(wildcardRegExp('a*b', false).test('a\nb')).toBe(true);
  });

  it('treats a trailing backslash as a literal when escapes are on', () => {
    expect(wildcardRegExp('a\\', true, true).test('a\\')).toBe(true);
  });
});

describe('compileRules: a listener without rules', () => {
  it('answers with the default action without looking at the request (onlyDefault)', () => {
    const forward = { type: 'forward' as const, targetGroupName: 'web' };
    const none = compileRules({ rules: [], defaultActions: [forward] });
    expect(none.onlyDefault).toEqual({ action: forward, priority: 0, evaluations: 0 });
    const some = compileRules({ rules: [{ priority: 1, conditions: [{ field: 'path-pattern', values: ['/a'] }], actions: [forward] }], defaultActions: [forward] });
    expect(some.onlyDefault).toBeUndefined();
  });
});
