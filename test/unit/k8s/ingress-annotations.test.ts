/**
 * The controller's rule annotations decoded as Go's encoding/json decodes them into its structs
 * (spec 15.5.3), validated with its messages (config_types.go), conditions merged as
 * model_build_listener_rules.go merges them (15.5.1) and the rule optimiser (rule_optimizer.go).
 */
import { describe, expect, it } from 'vitest';
import { decodeGoJson, goPtr, goSlice, goString, goStruct } from '../../../src/k8s/go-json.ts';
import {
  optimizeRules,
  parseActionAnnotation,
  parseConditionsAnnotation,
  parseTransformsAnnotation,
  parseUseRegexPathMatch,
  ruleConditions,
  type ActionInput,
  type ConditionInput,
} from '../../../src/k8s/ingress-annotations.ts';

const ING = 'alb.ingress.kubernetes.io/';
const action = (json: string) => parseActionAnnotation({ [`${ING}actions.x`]: json }, ING, 'x');

describe('decodeGoJson: encoding/json into structs', () => {
  const tuple = goStruct('ingress', 'Tuple', { serviceName: goPtr(goString()), weight: goPtr({ kind: 'int32' }), servicePort: goPtr({ kind: 'intOrString' }) });
  const outer = goStruct('ingress', 'Outer', { type: goString('ingress.Kind'), config: goPtr(goStruct('ingress', 'Config', { groups: goSlice(tuple), on: goPtr({ kind: 'bool' }) })) });

  it.each([
    ['exact keys', '{"type":"a"}', { type: 'a' }],
    ['PascalCase keys (case-insensitive match)', '{"Type":"a","Config":{"Groups":[{"ServiceName":"s","Weight":3}]}}', { type: 'a', config: { groups: [{ serviceName: 's', weight: 3 }] } }],
    ['upper-case keys', '{"TYPE":"a"}', { type: 'a' }],
    ['the long s matching s (Go folds runes: ToLower(ToUpper(ſ)) is s)', '{"config":{"GROUPſ":[]}}', { config: { groups: [] } }],
    ['unknown keys skipped', '{"type":"a","nope":{"deep":[1,2]}}', { type: 'a' }],
    ['the last duplicate wins, whatever its case', '{"type":"a","Type":"b","type":"c"}', { type: 'c' }],
    ['the last duplicate wins, the other way round', '{"Type":"b","type":"c","TYPE":"d"}', { type: 'd' }],
    ['duplicate objects merge into the value already there', '{"config":{"on":true},"Config":{"groups":[]}}', { config: { on: true, groups: [] } }],
    ['slice elements decoded into the elements already there', '{"config":{"groups":[{"serviceName":"s","weight":1}]},"config":{"groups":[{"weight":2}]}}', { config: { groups: [{ serviceName: 's', weight: 2 }] } }],
    ['null clears a pointer', '{"config":{"on":true},"config":null}', {}],
    ['null leaves a non-pointer string as it was', '{"type":"a","type":null}', { type: 'a' }],
    ['a numeric servicePort stays a number, a string a string', '{"config":{"groups":[{"servicePort":80},{"servicePort":"80"}]}}', { config: { groups: [{ servicePort: 80 }, { servicePort: '80' }] } }],
    ['unicode escapes', '{"type":"\\u0041b"}', { type: 'Ab' }],
  ])('decodes %s', (_case, json, expected) => {
    expect(decodeGoJson(json, outer)).toEqual(expected);
  });

  it.each([
    ['a string into an enum', '{"type":1}', 'json: cannot unmarshal number into Go struct field Outer.type of type ingress.Kind'],
    ['a string into a bool', '{"config":{"on":"true"}}', 'json: cannot unmarshal string into Go struct field Config.config.on of type bool'],
    ['a fraction into int32', '{"config":{"groups":[{"weight":1.5}]}}', 'json: cannot unmarshal number 1.5 into Go struct field Tuple.config.groups.weight of type int32'],
    ['an int32 overflow', '{"config":{"groups":[{"weight":2147483648}]}}', 'json: cannot unmarshal number 2147483648 into Go struct field Tuple.config.groups.weight of type int32'],
    ['a bool into IntOrString', '{"config":{"groups":[{"servicePort":true}]}}', 'json: cannot unmarshal bool into Go struct field Tuple.config.groups.servicePort of type int32'],
    ['a string into a struct', '{"config":"x"}', 'json: cannot unmarshal string into Go struct field Outer.config of type ingress.Config'],
    ['an object into a slice', '{"config":{"groups":{}}}', 'json: cannot unmarshal object into Go struct field Config.config.groups of type []ingress.Tuple'],
    ['an array at the top', '[]', 'json: cannot unmarshal array into Go value of type ingress.Outer'],
    ['a syntax error', '{"type":x}', "invalid character 'x' looking for beginning of value"],
    ['a missing colon', '{"type" "a"}', "invalid character '\"' after object key"],
    ['a trailing comma', '{"type":"a",}', "invalid character '}' looking for beginning of object key string"],
    ['a missing comma', '{"type":"a" "b":1}', "invalid character '\"' after object key:value pair"],
    ['an unterminated object', '{"type":"a"', 'unexpected end of JSON input'],
    ['trailing text', '{} x', "invalid character 'x' after top-level value"],
    ['a bad literal', '{"config":{"on":tru}}', "invalid character '}' in literal true (expecting 'e')"],
    ['empty input', '', 'unexpected end of JSON input'],
  ])('refuses %s with Go’s message', (_case, json, message) => {
    expect(() => decodeGoJson(json, outer)).toThrow(message);
  });

  it('reports a syntax error anywhere before a type error earlier in the text (Go scans first)', () => {
    expect(() => decodeGoJson('{"type":1,"x":}', outer)).toThrow("invalid character '}' looking for beginning of value");
  });
});

describe('actions.<name>', () => {
  it.each([
    [
      'the legacy PascalCase redirect',
      '{"Type":"redirect","RedirectConfig":{"Protocol":"HTTPS","Port":"443","StatusCode":"HTTP_301"}}',
      { type: 'redirect', redirectConfig: { protocol: 'HTTPS', port: '443', statusCode: 'HTTP_301' } },
    ],
    [
      'the camelCase redirect',
      '{"type":"redirect","redirectConfig":{"protocol":"HTTPS","port":"443","statusCode":"HTTP_301"}}',
      { type: 'redirect', redirectConfig: { protocol: 'HTTPS', port: '443', statusCode: 'HTTP_301' } },
    ],
    [
      'mixed case in one object',
      '{"type":"fixed-response","FixedResponseConfig":{"contentType":"text/plain","StatusCode":"503","messageBody":"x"}}',
      { type: 'fixed-response', fixedResponseConfig: { contentType: 'text/plain', statusCode: '503', messageBody: 'x' } },
    ],
    [
      'the PascalCase weighted forward, servicePort strings that look numeric as numbers',
      '{"Type":"forward","ForwardConfig":{"TargetGroups":[{"ServiceName":"a","ServicePort":"80","Weight":20},{"ServiceName":"b","ServicePort":"http","Weight":80}],"TargetGroupStickinessConfig":{"Enabled":true,"DurationSeconds":200}}}',
      {
        type: 'forward',
        forwardConfig: { targetGroups: [{ serviceName: 'a', servicePort: 80, weight: 20 }, { serviceName: 'b', servicePort: 'http', weight: 80 }], targetGroupStickinessConfig: { enabled: true, durationSeconds: 200 } },
      },
    ],
    ['the simplified forward by ARN, into a one-entry forwardConfig', '{"Type":"forward","TargetGroupArn":"arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/legacy/1"}', {
      type: 'forward',
      forwardConfig: { targetGroups: [{ targetGroupARN: 'arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/legacy/1' }] },
    }],
    ['the simplified forward by name', '{"type":"forward","targetGroupName":"legacy"}', { type: 'forward', forwardConfig: { targetGroups: [{ targetGroupName: 'legacy' }] } }],
    ['one forward entry needs no weight', '{"type":"forward","forwardConfig":{"targetGroups":[{"serviceName":"a","servicePort":80}]}}', {
      type: 'forward',
      forwardConfig: { targetGroups: [{ serviceName: 'a', servicePort: 80 }] },
    }],
  ])('decodes %s', (_case, json, expected) => {
    expect(action(json)).toEqual({ value: expected });
  });

  it('is undefined when the annotation is absent', () => {
    expect(parseActionAnnotation({}, ING, 'x')).toBeUndefined();
  });

  it.each([
    ['a value in another case ("Redirect")', '{"Type":"Redirect","RedirectConfig":{"StatusCode":"HTTP_301"}}', 'unknown action type: Redirect'],
    ['no type', '{"redirectConfig":{"statusCode":"HTTP_301"}}', 'unknown action type: '],
    ['a redirect without its config', '{"type":"redirect"}', 'missing RedirectConfig'],
    ['a redirect without statusCode', '{"type":"redirect","redirectConfig":{"path":"/x"}}', 'invalid RedirectConfig: statusCode is required'],
    ['a fixed response without statusCode', '{"type":"fixed-response","fixedResponseConfig":{}}', 'invalid FixedResponseConfig: statusCode is required'],
    ['a forward with nothing', '{"type":"forward"}', 'missing ForwardConfig or TargetGroupARN/TargetGroupName'],
    ['a forward with both forms', '{"type":"forward","targetGroupARN":"a","forwardConfig":{"targetGroups":[]}}', 'either ForwardConfig or TargetGroupARN/TargetGroupName can be specified'],
    ['two entries, one without weight', '{"type":"forward","forwardConfig":{"targetGroups":[{"serviceName":"a","servicePort":80,"weight":1},{"serviceName":"b","servicePort":80}]}}', 'invalid ForwardConfig: weight must be set when route to multiple target groups'],
    ['an entry without servicePort', '{"type":"forward","forwardConfig":{"targetGroups":[{"serviceName":"a"}]}}', 'invalid ForwardConfig: invalid TargetGroupTuple: missing servicePort'],
    ['an entry with a Service and an ARN', '{"type":"forward","forwardConfig":{"targetGroups":[{"serviceName":"a","servicePort":80,"targetGroupARN":"x"}]}}', 'invalid ForwardConfig: invalid TargetGroupTuple: either serviceName or targetGroupARN/targetGroupName can be specified'],
    ['an empty entry', '{"type":"forward","forwardConfig":{"targetGroups":[{}]}}', 'invalid ForwardConfig: invalid TargetGroupTuple: missing serviceName or targetGroupARN/targetGroupName'],
  ])('refuses %s with the controller’s message, naming the annotation', (_case, json, message) => {
    expect(action(json)).toEqual({ error: `${message} (annotation ${ING}actions.x)` });
  });

  it('wraps a decoding error as the controller’s annotation parser does', () => {
    const raw = '{"type":"forward","forwardConfig":{"targetGroups":[{"serviceName":"a","servicePort":80,"weight":"20"}]}}';
    expect(action(raw)).toEqual({
      error: `failed to parse json annotation, ${ING}actions.x: ${raw}: json: cannot unmarshal string into Go struct field TargetGroupTuple.forwardConfig.targetGroups.weight of type int32`,
    });
  });
});

describe('conditions.<name> and transforms.<name>', () => {
  const conditions = (json: string) => parseConditionsAnnotation({ [`${ING}conditions.api`]: json }, ING, 'api');

  it('decodes the docs’ sourceIpConfig and Values spellings into the controller’s fields', () => {
    expect(conditions('[{"field":"source-ip","sourceIpConfig":{"values":["10.0.0.0/8"]}},{"Field":"http-request-method","HttpRequestMethodConfig":{"Values":["GET","HEAD"]}}]')).toEqual({
      value: [
        { field: 'source-ip', sourceIPConfig: { values: ['10.0.0.0/8'] } },
        { field: 'http-request-method', httpRequestMethodConfig: { values: ['GET', 'HEAD'] } },
      ],
    });
  });

  it('keeps an unknown field (or one in another case) and validates nothing of it, as the code does', () => {
    expect(conditions('[{"field":"Host-Header","hostHeaderConfig":{}}]')).toEqual({ value: [{ field: 'Host-Header', hostHeaderConfig: {} }] });
  });

  it.each([
    ['host-header without its config', '[{"field":"host-header"}]', 'missing hostHeaderConfig'],
    ['host-header with neither', '[{"field":"host-header","hostHeaderConfig":{}}]', 'invalid hostHeaderConfig: values or regexValues must be specified'],
    ['path-pattern with both', '[{"field":"path-pattern","pathPatternConfig":{"values":["/a"],"regexValues":["^/a"]}}]', 'invalid pathPatternConfig: precisely one of values and regexValues can be specified'],
    ['http-header with both', '[{"field":"http-header","httpHeaderConfig":{"httpHeaderName":"X","values":["a"],"regexValues":["a"]}}]', 'invalid httpHeaderConfig: precisely one of values and regexValues can be specified'],
    ['http-request-method without values', '[{"field":"http-request-method","httpRequestMethodConfig":{}}]', 'invalid httpRequestMethodConfig: values cannot be empty'],
    ['query-string without values', '[{"field":"query-string","queryStringConfig":{"values":[]}}]', 'invalid queryStringConfig: Values cannot be empty'],
    ['query-string with an empty value', '[{"field":"query-string","queryStringConfig":{"values":[{"key":"a"}]}}]', 'invalid queryStringConfig: value cannot be empty'],
    ['source-ip without its config', '[{"field":"source-ip"}]', 'missing sourceIPConfig'],
  ])('refuses %s', (_case, json, message) => {
    expect(conditions(json)).toEqual({ error: `${message} (annotation ${ING}conditions.api)` });
  });

  it('refuses an object where the controller wants an array', () => {
    expect(conditions('{"field":"host-header"}')).toEqual({
      error: `failed to parse json annotation, ${ING}conditions.api: {"field":"host-header"}: json: cannot unmarshal object into Go value of type []ingress.RuleCondition`,
    });
  });

  it('turns transforms into the config’s, PascalCase or not', () => {
    const json = '[{"Type":"url-rewrite","UrlRewriteConfig":{"Rewrites":[{"Regex":"^/api/(.*)$","Replace":"/$1"}]}},{"type":"host-header-rewrite","hostHeaderRewriteConfig":{"rewrites":[{"regex":"^(.+)\\\\.example\\\\.com$","replace":"$1.example.org"}]}}]';
    expect(parseTransformsAnnotation({ [`${ING}transforms.api`]: json }, ING, 'api')).toEqual({
      value: [
        { type: 'url-rewrite', urlRewriteConfig: { rewrites: [{ regex: '^/api/(.*)$', replace: '/$1' }] } },
        { type: 'host-header-rewrite', hostHeaderRewriteConfig: { rewrites: [{ regex: '^(.+)\\.example\\.com$', replace: '$1.example.org' }] } },
      ],
    });
  });

  it.each([
    ['an unknown type', '[{"type":"URL-rewrite"}]', 'unknown transform type: URL-rewrite'],
    ['a missing config', '[{"type":"url-rewrite"}]', 'missing urlRewriteConfig'],
    ['empty rewrites', '[{"type":"host-header-rewrite","hostHeaderRewriteConfig":{"rewrites":[]}}]', 'hostHeaderRewriteConfig.rewrites cannot be empty'],
  ])('refuses a transform with %s', (_case, json, message) => {
    expect(parseTransformsAnnotation({ [`${ING}transforms.api`]: json }, ING, 'api')).toEqual({ error: `${message} (annotation ${ING}transforms.api)` });
  });

  it.each([
    ['true', true],
    ['True', true],
    ['1', true],
    ['false', false],
    ['F', false],
  ])('reads use-regex-path-match %s with strconv.ParseBool', (raw, expected) => {
    expect(parseUseRegexPathMatch({ [`${ING}use-regex-path-match`]: raw }, ING)).toEqual({ value: expected });
  });

  it('refuses use-regex-path-match yes as strconv.ParseBool does', () => {
    expect(parseUseRegexPathMatch({ [`${ING}use-regex-path-match`]: 'yes' }, ING)).toEqual({
      error: `failed to parse bool annotation, ${ING}use-regex-path-match: yes: strconv.ParseBool: parsing "yes": invalid syntax`,
    });
  });
});

describe('ruleConditions: the Ingress host and path with conditions.<name> merged in', () => {
  it('builds worked example B: four conditions, extra ones first', () => {
    const json = '[{"field":"http-header","httpHeaderConfig":{"httpHeaderName":"X-Canary","values":["on"]}},{"field":"source-ip","sourceIPConfig":{"values":["10.0.0.0/8"]}}]';
    expect(ruleConditions({ host: 'shop.example.com', path: '/api', pathType: 'Prefix', useRegexPathMatch: false, conditions: conditionsOf(json) })).toEqual({
      value: [
        { field: 'http-header', httpHeaderConfig: { httpHeaderName: 'X-Canary', values: ['on'] } },
        { field: 'source-ip', sourceIpConfig: { values: ['10.0.0.0/8'] } },
        { field: 'host-header', values: ['shop.example.com'] },
        { field: 'path-pattern', values: ['/api', '/api/*'] },
      ],
    });
  });

  it.each([
    ['adds annotation hosts to the rule host (OR)', 'www.example.com', '/path1', 'Exact', '[{"field":"host-header","hostHeaderConfig":{"values":["anno.example.com"]}}]', [
      { field: 'host-header', values: ['www.example.com', 'anno.example.com'] },
      { field: 'path-pattern', values: ['/path1'] },
    ]],
    ['adds annotation paths to the rule paths (OR)', undefined, '/path2', 'Exact', '[{"field":"path-pattern","pathPatternConfig":{"values":["/anno/path2"]}}]', [{ field: 'path-pattern', values: ['/path2', '/anno/path2'] }]],
    ['keeps a host regex apart when the rule has no host', undefined, '/', 'Prefix', '[{"field":"host-header","hostHeaderConfig":{"regexValues":["^(.+)\\\\.example\\\\.com"]}}]', [
      { field: 'host-header', hostHeaderConfig: { regexValues: ['^(.+)\\.example\\.com'] } },
      { field: 'path-pattern', values: ['/*'] },
    ]],
    ['ANDs each query-string entry', undefined, '/p', 'Exact', '[{"field":"query-string","queryStringConfig":{"values":[{"key":"a","value":"1"}]}},{"field":"query-string","queryStringConfig":{"values":[{"value":"b"}]}}]', [
      { field: 'query-string', queryStringConfig: { values: [{ key: 'a', value: '1' }] } },
      { field: 'query-string', queryStringConfig: { values: [{ value: 'b' }] } },
      { field: 'path-pattern', values: ['/p'] },
    ]],
    ['an http-header regex', undefined, '/p', 'Exact', '[{"field":"http-header","httpHeaderConfig":{"httpHeaderName":"User-Agent","regexValues":[".+Chrome.+"]}}]', [
      { field: 'http-header', httpHeaderConfig: { httpHeaderName: 'User-Agent', regexValues: ['.+Chrome.+'] } },
      { field: 'path-pattern', values: ['/p'] },
    ]],
    ['ignores an unknown field', undefined, '/p', 'Exact', '[{"field":"Host-Header","hostHeaderConfig":{"values":["x.example.com"]}}]', [{ field: 'path-pattern', values: ['/p'] }]],
    ['gives a rule with nothing path-pattern /*', undefined, undefined, undefined, '[]', [{ field: 'path-pattern', values: ['/*'] }]],
    ['gives a rule with only a host no path condition', 'a.example.com', undefined, undefined, '[]', [{ field: 'host-header', values: ['a.example.com'] }]],
    ['a rule with only a header condition matches every path', undefined, undefined, undefined, '[{"field":"http-header","httpHeaderConfig":{"httpHeaderName":"X","values":["1"]}}]', [
      { field: 'http-header', httpHeaderConfig: { httpHeaderName: 'X', values: ['1'] } },
    ]],
  ] as Array<[string, string | undefined, string | undefined, string | undefined, string, ConditionInput[]]>)('%s', (_case, host, path, pathType, json, expected) => {
    expect(ruleConditions({ host, path, pathType, useRegexPathMatch: false, conditions: conditionsOf(json) })).toEqual({ value: expected });
  });

  it('takes an ImplementationSpecific path as a regex, its leading / stripped, with use-regex-path-match', () => {
    expect(ruleConditions({ path: '/^/api/(.+)$', pathType: 'ImplementationSpecific', useRegexPathMatch: true, conditions: conditionsOf('[{"field":"path-pattern","pathPatternConfig":{"regexValues":["^/v2/.*"]}}]') })).toEqual({
      value: [{ field: 'path-pattern', pathPatternConfig: { regexValues: ['^/api/(.+)$', '^/v2/.*'] } }],
    });
  });

  it('leaves Exact and Prefix paths alone with use-regex-path-match', () => {
    expect(ruleConditions({ path: '/api', pathType: 'Prefix', useRegexPathMatch: true, conditions: [] })).toEqual({ value: [{ field: 'path-pattern', values: ['/api', '/api/*'] }] });
  });

  it.each([
    ['a host regex with an Ingress host', 'a.example.com', '/', 'Prefix', '[{"field":"host-header","hostHeaderConfig":{"regexValues":["^b"]}}]', 'host condition must specify exactly one of Values and RegexValues, got both Values [a.example.com] and RegexValues [^b]'],
    ['a path regex with a wildcard path', undefined, '/app', 'Prefix', '[{"field":"path-pattern","pathPatternConfig":{"regexValues":["^/x"]}}]', 'path condition must specify exactly one of Values and RegexValues, got both Values [/app /app/*] and RegexValues [^/x]'],
    ['a wildcard in an Exact path', undefined, '/a*', 'Exact', '[]', "exact path shouldn't contain wildcards: /a*"],
    ['a wildcard in a Prefix path', undefined, '/a?', 'Prefix', '[]', "prefix path shouldn't contain wildcards: /a?"],
  ])('refuses %s as the controller does', (_case, host, path, pathType, json, message) => {
    expect(ruleConditions({ host, path, pathType, useRegexPathMatch: false, conditions: conditionsOf(json) })).toEqual({ error: message });
  });
});

function conditionsOf(json: string) {
  const r = parseConditionsAnnotation({ [`${ING}conditions.x`]: json }, ING, 'x');
  if ('error' in r) throw new Error(r.error);
  return r.value;
}

describe('optimizeRules (rule_optimizer.go)', () => {
  const redirect = (config: Record<string, string>): ActionInput => ({ type: 'redirect', redirectConfig: { statusCode: 'HTTP_301', ...config } });
  const forward: ActionInput = { type: 'forward', targetGroupName: 'tg' };
  const rule = (name: string, conditions: ConditionInput[], actions: ActionInput[]) => ({ name, conditions, actions });
  const all = [{ field: 'path-pattern' as const, values: ['/*'] }];

  it('drops the HTTPS redirect of worked example A on listener 443 and keeps it on 80', () => {
    const rules = [rule('go-secure', all, [redirect({ protocol: 'HTTPS', port: '443' })])];
    expect(optimizeRules(443, 'HTTPS', rules).map((r) => r.name)).toEqual([]);
    expect(optimizeRules(80, 'HTTP', rules).map((r) => r.name)).toEqual(['go-secure']);
  });

  it.each([
    ['a loop with #{…} keywords everywhere', { protocol: '#{protocol}', host: '#{host}', port: '#{port}', path: '/#{path}', query: '#{query}' }, all, 0],
    ['a loop to the rule’s own host and path', { host: 'a.example.com', path: '/x' }, [{ field: 'host-header' as const, values: ['a.example.com'] }, { field: 'path-pattern' as const, values: ['/x'] }], 0],
    ['a redirect changing the query', { protocol: 'HTTPS', port: '443', query: 'a=1' }, all, 1],
    ['a redirect to another host', { host: 'b.example.com' }, all, 1],
    ['a redirect to another path', { path: '/new' }, all, 1],
    ['a redirect on a regex path (never treated as a loop)', { port: '443' }, [{ field: 'path-pattern' as const, pathPatternConfig: { regexValues: ['^/'] } }], 1],
  ] as Array<[string, Record<string, string>, ConditionInput[], number]>)('on HTTPS:443, %s', (_case, config, conditions, kept) => {
    expect(optimizeRules(443, 'HTTPS', [rule('r', conditions, [redirect(config)])])).toHaveLength(kept);
  });

  it('drops rules an earlier redirect with a superset of conditions shadows, and keeps the others', () => {
    const rules = [
      rule('redirect /old', [{ field: 'path-pattern', values: ['/old', '/old/*'] }], [redirect({ path: '/new' })]),
      rule('shadowed /old', [{ field: 'path-pattern', values: ['/old'] }], [forward]),
      rule('other path', [{ field: 'path-pattern', values: ['/x'] }], [forward]),
      // The redirect already takes every /old request, with the header or without.
      rule('same path with a header', [{ field: 'http-header', httpHeaderConfig: { httpHeaderName: 'X', values: ['1'] } }, { field: 'path-pattern', values: ['/old'] }], [forward]),
      rule('a host the redirect does not name', [{ field: 'host-header', values: ['a.example.com'] }, { field: 'path-pattern', values: ['/old'] }], [forward]),
    ];
    expect(optimizeRules(80, 'HTTP', rules).map((r) => r.name)).toEqual(['redirect /old', 'other path']);
  });

  it('never lets a redirect with an extra condition shadow anything', () => {
    const rules = [
      rule('redirect with header', [{ field: 'http-header', httpHeaderConfig: { httpHeaderName: 'X', values: ['1'] } }], [redirect({ path: '/new' })]),
      rule('later', [{ field: 'path-pattern', values: ['/x'] }], [forward]),
    ];
    expect(optimizeRules(80, 'HTTP', rules).map((r) => r.name)).toEqual(['redirect with header', 'later']);
  });

  it('lets a catch-all redirect shadow every later rule on the listener (the historical actions.ssl-redirect)', () => {
    const rules = [rule('ssl-redirect', all, [redirect({ protocol: 'HTTPS', port: '443' })]), rule('app', [{ field: 'host-header', values: ['a.example.com'] }, { field: 'path-pattern', values: ['/app'] }], [forward])];
    expect(optimizeRules(80, 'HTTP', rules).map((r) => r.name)).toEqual(['ssl-redirect']);
    expect(optimizeRules(443, 'HTTPS', rules).map((r) => r.name)).toEqual(['app']);
  });
});
