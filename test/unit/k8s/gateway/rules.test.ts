import { describe, expect, it } from 'vitest';
import { routeRef } from '../../../../src/k8s/gateway/attach.ts';
import type { HTTPRouteFilter, HTTPRouteMatch } from '../../../../src/k8s/gateway/model.ts';
import { buildListenerRules, compareHostnames, headerValues, redirectAction, type L7Route } from '../../../../src/k8s/gateway/rules.ts';
import { grpcRoute, httpRoute } from '../../../support/gateway-fixtures.ts';

const parent = [{ name: 'web' }];

function l7(name: string, matches: HTTPRouteMatch[] | undefined, options: { filters?: HTTPRouteFilter[]; createdAt?: string; forward?: Array<{ targetGroupName: string; weight: number }> } = {}): L7Route {
  const route = httpRoute(name, parent, [{ ...(matches ? { matches } : {}), ...(options.filters ? { filters: options.filters } : {}) }], options.createdAt ? { createdAt: options.createdAt } : {});
  return { ref: routeRef('HTTPRoute', route), rules: [{ index: 0, filters: options.filters ?? [], forward: options.forward ?? [{ targetGroupName: `tg-${name}`, weight: 1 }] }] };
}

describe('HTTPRoute matches → ALB conditions (spec 15.1.6)', () => {
  it.each<[string, HTTPRouteMatch, unknown[]]>([
    ['PathPrefix / → path-pattern /*', { path: { type: 'PathPrefix', value: '/' } }, [{ field: 'path-pattern', values: ['/*'] }]],
    ['PathPrefix /api/ → /api and /api/*', { path: { type: 'PathPrefix', value: '/api/' } }, [{ field: 'path-pattern', values: ['/api', '/api/*'] }]],
    ['Exact /login → /login', { path: { type: 'Exact', value: '/login' } }, [{ field: 'path-pattern', values: ['/login'] }]],
    [
      'a header Exact match with an escaped comma → one http-header condition, values split at unescaped commas',
      { headers: [{ name: 'x-env', value: 'canary,beta\\,2' }] },
      [{ field: 'path-pattern', values: ['/*'] }, { field: 'http-header', httpHeaderConfig: { httpHeaderName: 'x-env', values: ['canary', 'beta,2'] } }],
    ],
    [
      'a query param and a method → query-string and http-request-method',
      { path: { type: 'PathPrefix', value: '/search' }, queryParams: [{ name: 'q', value: 'shoes' }], method: 'GET' },
      [{ field: 'path-pattern', values: ['/search', '/search/*'] }, { field: 'query-string', queryStringConfig: { values: [{ key: 'q', value: 'shoes' }] } }, { field: 'http-request-method', values: ['GET'] }],
    ],
  ])('%s', (_name, match, conditions) => {
    const { rules, problems } = buildListenerRules(80, [l7('r', [match])], () => []);
    expect(problems).toEqual([]);
    expect(rules).toEqual([{ priority: 1, conditions, actions: [{ type: 'forward', forwardConfig: { targetGroups: [{ targetGroupName: 'tg-r', weight: 1 }] } }] }]);
  });

  it('makes one rule per match and hostname, with a host-header condition each', () => {
    const { rules } = buildListenerRules(80, [l7('r', [{ path: { type: 'Exact', value: '/a' } }, { path: { type: 'Exact', value: '/b' } }])], () => ['a.example.com', 'b.example.com']);
    expect(rules.map((r) => r.conditions.map((c) => c.values?.[0]))).toEqual([
      ['a.example.com', '/a'],
      ['b.example.com', '/a'],
      ['a.example.com', '/b'],
      ['b.example.com', '/b'],
    ]);
  });

  it('orders units by the controller precedence: host, path type, path length, method, headers, query, age, name', () => {
    const routes = [
      l7('catchall', [{ path: { type: 'PathPrefix', value: '/' } }], { createdAt: '2026-01-01T00:00:00Z' }),
      l7('prefix-long', [{ path: { type: 'PathPrefix', value: '/api/v1' } }]),
      l7('prefix-short', [{ path: { type: 'PathPrefix', value: '/api' } }]),
      l7('exact', [{ path: { type: 'Exact', value: '/a' } }]),
      l7('headers', [{ path: { type: 'PathPrefix', value: '/api' }, headers: [{ name: 'x', value: '1' }] }]),
      l7('method', [{ path: { type: 'PathPrefix', value: '/api' }, method: 'POST' }]),
      l7('older', [{ path: { type: 'PathPrefix', value: '/' } }], { createdAt: '2025-01-01T00:00:00Z' }),
    ];
    const { rules } = buildListenerRules(80, routes, () => []);
    expect(rules.map((r) => (r.actions[0] as { forwardConfig: { targetGroups: Array<{ targetGroupName: string }> } }).forwardConfig.targetGroups[0]!.targetGroupName)).toEqual([
      'tg-exact',
      'tg-prefix-long',
      'tg-method',
      'tg-headers',
      'tg-prefix-short',
      'tg-older',
      'tg-catchall',
    ]);
    expect(rules.map((r) => r.priority)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it.each([
    ['a.example.com', '*.example.com', -1],
    ['*.example.com', '', -1],
    ['a.b.example.com', 'ab.example.com', -1],
    ['longer.example.com', 'a.example.com', -1],
  ])('puts hostname %s before %s', (a, b, sign) => {
    expect(Math.sign(compareHostnames(a, b))).toBe(sign);
    expect(Math.sign(compareHostnames(b, a))).toBe(-sign);
  });

  it('splits header values at unescaped commas only', () => {
    expect(headerValues('a,b\\,c,\\\\d')).toEqual(['a', 'b,c', '\\d']);
  });

  it('answers fixed-response 500 when every backend weighs 0 or none is usable', () => {
    for (const forward of [[], [{ targetGroupName: 'tg', weight: 0 }]]) {
      const { rules } = buildListenerRules(80, [l7('r', undefined, { forward })], () => []);
      expect(rules[0]!.actions).toEqual([{ type: 'fixed-response', fixedResponseConfig: { statusCode: '500', contentType: 'text/plain' } }]);
    }
  });

  it('keeps weight-0 groups in a weighted forward (80/20/0)', () => {
    const forward = [
      { targetGroupName: 'a', weight: 80 },
      { targetGroupName: 'b', weight: 20 },
      { targetGroupName: 'c', weight: 0 },
    ];
    expect(buildListenerRules(80, [l7('r', undefined, { forward })], () => []).rules[0]!.actions).toEqual([{ type: 'forward', forwardConfig: { targetGroups: forward } }]);
  });

  it.each<[string, HTTPRouteMatch, unknown[]]>([
    ['a RegularExpression path → path-pattern regexValues', { path: { type: 'RegularExpression', value: '^/v[0-9]+' } }, [{ field: 'path-pattern', pathPatternConfig: { regexValues: ['^/v[0-9]+'] } }]],
    [
      'a RegularExpression header → http-header regexValues, the value not split at commas',
      { headers: [{ type: 'RegularExpression', name: 'x-env', value: '^(dev|qa),?$' }] },
      [{ field: 'path-pattern', values: ['/*'] }, { field: 'http-header', httpHeaderConfig: { httpHeaderName: 'x-env', regexValues: ['^(dev|qa),?$'] } }],
    ],
  ])('%s (route_rule_condition.go)', (_name, match, conditions) => {
    const { rules, problems } = buildListenerRules(80, [l7('r', [match])], () => []);
    expect(problems).toEqual([]);
    expect(rules.map((r) => r.conditions)).toEqual([conditions]);
  });

  it('refuses a PathPrefix with a wildcard as the controller does', () => {
    expect(() => buildListenerRules(80, [l7('r', [{ path: { type: 'PathPrefix', value: '/a*' } }])], () => [])).toThrow("prefix path shouldn't contain wildcards: /a*");
  });
});

describe('HTTPRoute filters (spec 15.1.7)', () => {
  it.each<[string, HTTPRouteFilter[], unknown]>([
    ['scheme https → HTTPS on 443, the status code as HTTP_301', [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https', statusCode: 301 } }], { type: 'redirect', redirectConfig: { statusCode: 'HTTP_301', protocol: 'HTTPS', port: '443' } }],
    [
      'hostname, port and ReplaceFullPath; the CRD default 302',
      [{ type: 'RequestRedirect', requestRedirect: { hostname: 'new.example.com', port: 8443, path: { type: 'ReplaceFullPath', replaceFullPath: '/moved' } } }],
      { type: 'redirect', redirectConfig: { statusCode: 'HTTP_302', host: 'new.example.com', port: '8443', path: '/moved' } },
    ],
    ['no redirect filter → undefined (the forward stays)', [{ type: 'URLRewrite', urlRewrite: { hostname: 'x' } }], undefined],
    ['only the first redirect counts; later filters are not examined', [{ type: 'RequestRedirect', requestRedirect: { scheme: 'http' } }, { type: 'RequestHeaderModifier' }], { type: 'redirect', redirectConfig: { statusCode: 'HTTP_302', protocol: 'HTTP', port: '80' } }],
  ])('RequestRedirect: %s', (_name, filters, want) => {
    expect(redirectAction('HTTPRoute', filters)).toEqual(want);
  });

  it.each<[string, 'HTTPRoute' | 'GRPCRoute', HTTPRouteFilter[], string]>([
    ['RequestHeaderModifier on an HTTPRoute', 'HTTPRoute', [{ type: 'RequestHeaderModifier' }], 'Unsupported filter type: RequestHeaderModifier. Only request redirect is supported. To specify header modification, please configure it through LoadBalancerConfiguration.'],
    ['ResponseHeaderModifier after a URLRewrite', 'HTTPRoute', [{ type: 'URLRewrite' }, { type: 'ResponseHeaderModifier' }], 'Unsupported filter type: ResponseHeaderModifier. Only request redirect is supported.'],
    ['RequestHeaderModifier on a GRPCRoute', 'GRPCRoute', [{ type: 'RequestHeaderModifier' }], 'Unsupported filter type: RequestHeaderModifier. To specify header modification, please configure it through LoadBalancerConfiguration.'],
    ['a redirect scheme other than http/https', 'HTTPRoute', [{ type: 'RequestRedirect', requestRedirect: { scheme: 'ftp' } }], 'unsupported redirect scheme: FTP'],
    ['a wildcard in ReplaceFullPath', 'HTTPRoute', [{ type: 'RequestRedirect', requestRedirect: { path: { type: 'ReplaceFullPath', replaceFullPath: '/a*' } } }], "ReplaceFullPath shouldn't contain wildcards: /a*"],
  ])('refuses %s (a model build error)', (_name, kind, filters, message) => {
    expect(() => redirectAction(kind, filters)).toThrow(message);
  });

  it.each<[string, HTTPRouteMatch | undefined, HTTPRouteFilter[], unknown[]]>([
    [
      'URLRewrite ReplaceFullPath → url-rewrite ^([^?]*), the query kept',
      undefined,
      [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplaceFullPath', replaceFullPath: '/new' } } }],
      [{ type: 'url-rewrite', urlRewriteConfig: { rewrites: [{ regex: '^([^?]*)', replace: '/new' }] } }],
    ],
    [
      'URLRewrite ReplacePrefixMatch /v2 on PathPrefix /api → (^/api(/)?) → /v2$2',
      { path: { type: 'PathPrefix', value: '/api' } },
      [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/v2' } } }],
      [{ type: 'url-rewrite', urlRewriteConfig: { rewrites: [{ regex: '(^/api(/)?)', replace: '/v2$2' }] } }],
    ],
    [
      'ReplacePrefixMatch ending in / → no $2',
      { path: { type: 'PathPrefix', value: '/api' } },
      [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/v2/' } } }],
      [{ type: 'url-rewrite', urlRewriteConfig: { rewrites: [{ regex: '(^/api(/)?)', replace: '/v2/' }] } }],
    ],
    [
      'an empty ReplacePrefixMatch → / (a path stays a path)',
      { path: { type: 'PathPrefix', value: '/api' } },
      [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '' } } }],
      [{ type: 'url-rewrite', urlRewriteConfig: { rewrites: [{ regex: '(^/api(/)?)', replace: '/' }] } }],
    ],
    [
      'URLRewrite path and hostname → url-rewrite then host-header-rewrite .*',
      { path: { type: 'Exact', value: '/a' } },
      [{ type: 'URLRewrite', urlRewrite: { hostname: 'backend.internal', path: { type: 'ReplaceFullPath', replaceFullPath: '/b' } } }],
      [
        { type: 'url-rewrite', urlRewriteConfig: { rewrites: [{ regex: '^([^?]*)', replace: '/b' }] } },
        { type: 'host-header-rewrite', hostHeaderRewriteConfig: { rewrites: [{ regex: '.*', replace: 'backend.internal' }] } },
      ],
    ],
  ])('%s (route_rule_transform.go)', (_name, match, filters, transforms) => {
    const { rules, problems } = buildListenerRules(80, [l7('r', match ? [match] : undefined, { filters })], () => []);
    expect(problems).toEqual([]);
    expect(rules[0]!.actions[0]!.type).toBe('forward');
    expect(rules[0]!.transforms).toEqual(transforms);
  });

  it('keeps the path of a RequestRedirect with ReplacePrefixMatch and adds the url-rewrite that swaps the prefix', () => {
    const filters: HTTPRouteFilter[] = [{ type: 'RequestRedirect', requestRedirect: { hostname: 'new.example.com', path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/new' } } }];
    const { rules } = buildListenerRules(80, [l7('r', [{ path: { type: 'PathPrefix', value: '/old' } }], { filters })], () => []);
    expect(rules[0]!.actions).toEqual([{ type: 'redirect', redirectConfig: { statusCode: 'HTTP_302', host: 'new.example.com' } }]);
    expect(rules[0]!.transforms).toEqual([{ type: 'url-rewrite', urlRewriteConfig: { rewrites: [{ regex: '(^/old(/)?)', replace: '/new$2' }] } }]);
  });

  it('gives a rule without rewrite filters no transforms member', () => {
    expect(buildListenerRules(80, [l7('r', undefined)], () => []).rules[0]).not.toHaveProperty('transforms');
  });
});

describe('GRPCRoute matches → ALB conditions (spec 15.1.6)', () => {
  it.each<[string, { type?: 'Exact' | 'RegularExpression'; service?: string; method?: string } | undefined, string]>([
    ['service and method', { service: 'shop.Cart', method: 'Add' }, '/shop.Cart/Add'],
    ['service only', { service: 'shop.Cart' }, '/shop.Cart/*'],
    ['method only', { method: 'Add' }, '/*/Add'],
    ['no method match', undefined, '/*'],
  ])('%s → path-pattern %s', (_name, method, pattern) => {
    const route = grpcRoute('g', parent, [{ ...(method ? { matches: [{ method }] } : {}), backendRefs: [] }]);
    const { rules } = buildListenerRules(443, [{ ref: routeRef('GRPCRoute', route), rules: [{ index: 0, filters: [], forward: [{ targetGroupName: 'tg', weight: 1 }] }] }], () => []);
    expect(rules[0]!.conditions).toEqual([{ field: 'path-pattern', values: [pattern] }]);
  });
});
