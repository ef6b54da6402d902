/**
 * Ingress rules as the controller builds them, through translate() (spec 15.5, 9.3): the worked
 * examples of 15.5.4, the 503s of the --tolerate-non-existent-backend-* defaults, forwards to
 * target groups the controller does not make, the controller's errors, and each Ingress of a
 * group on the listeners of its own listen-ports only.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/schema.ts';
import { translate, type DesiredStack, type TranslateResult } from '../../../src/k8s/translate.ts';
import { albClass, ingress, lbService, node, snapshot } from '../../support/k8s-fixtures.ts';

const ING = 'alb.ingress.kubernetes.io/';
const nodes = [node('worker', '172.18.0.3')];
const svc = (name: string, nodePort: number) => lbService(name, { type: 'NodePort', loadBalancerClass: null, ports: [{ name: 'http', port: 80, targetPort: 8080, nodePort }] });
const services = [svc('api', 30081), svc('web', 30082), svc('v2', 30083)];
const CERT = 'arn:aws:acm:us-east-1:111122223333:certificate/shop';

function run(ingresses: Parameters<typeof snapshot>[0]['ingresses']): TranslateResult {
  return translate(snapshot({ services, ingresses, ingressClasses: [albClass], nodes }));
}

function stackOf(result: TranslateResult): DesiredStack {
  expect(result.rejected).toEqual([]);
  expect(result.stacks).toHaveLength(1);
  const stack = result.stacks[0]!;
  expect(() => parseConfig(stack.config)).not.toThrow();
  return stack;
}

const listener = (stack: DesiredStack, port: number) => stack.config.loadBalancers![0]!.listeners.find((l) => l.port === port)!;
const notFound = [{ type: 'fixed-response', fixedResponseConfig: { statusCode: '404', contentType: 'text/plain' } }];

describe('worked examples of spec 15.5.4', () => {
  it('A: the legacy PascalCase redirect is rule 1 on listener 80 and dropped on 443, where it would loop', () => {
    const stack = stackOf(
      run([
        ingress('shop', [{ paths: [{ path: '/', pathType: 'Prefix', service: 'go-secure', port: 'use-annotation' }] }], {
          annotations: {
            [`${ING}listen-ports`]: '[{"HTTP":80},{"HTTPS":443}]',
            [`${ING}certificate-arn`]: CERT,
            [`${ING}actions.go-secure`]: '{"Type":"redirect","RedirectConfig":{"Protocol":"HTTPS","Port":"443","StatusCode":"HTTP_301"}}',
          },
        }),
      ]),
    );
    expect(listener(stack, 80).rules).toEqual([
      { priority: 1, conditions: [{ field: 'path-pattern', values: ['/*'] }], actions: [{ type: 'redirect', redirectConfig: { protocol: 'HTTPS', port: '443', statusCode: 'HTTP_301' } }] },
    ]);
    expect(listener(stack, 443).rules).toEqual([]);
    expect(listener(stack, 443).defaultActions).toEqual(notFound);
  });

  it('B: conditions and a rewrite for a real Service make one rule with four conditions, a forward and the transform', () => {
    const stack = stackOf(
      run([
        ingress('shop', [{ host: 'shop.example.com', paths: [{ path: '/api', pathType: 'Prefix', service: 'api', port: 80 }] }], {
          annotations: {
            [`${ING}conditions.api`]: '[{"field":"http-header","httpHeaderConfig":{"httpHeaderName":"X-Canary","values":["on"]}},{"field":"source-ip","sourceIPConfig":{"values":["10.0.0.0/8"]}}]',
            [`${ING}transforms.api`]: '[{"type":"url-rewrite","urlRewriteConfig":{"rewrites":[{"regex":"^/api/(.*)$","replace":"/$1"}]}}]',
          },
        }),
      ]),
    );
    const [rule, ...rest] = listener(stack, 80).rules!;
    expect(rest).toEqual([]);
    expect(rule).toEqual({
      priority: 1,
      conditions: [
        { field: 'http-header', httpHeaderConfig: { httpHeaderName: 'X-Canary', values: ['on'] } },
        { field: 'source-ip', sourceIpConfig: { values: ['10.0.0.0/8'] } },
        { field: 'host-header', values: ['shop.example.com'] },
        { field: 'path-pattern', values: ['/api', '/api/*'] },
      ],
      actions: [{ type: 'forward', targetGroupName: stack.config.targetGroups![0]!.name }],
      transforms: [{ type: 'url-rewrite', urlRewriteConfig: { rewrites: [{ regex: '^/api/(.*)$', replace: '/$1' }] } }],
    });
  });

  it('C: a weighted forward to a Service and a target group by name keeps the Service and names the other in a Warning', () => {
    const stack = stackOf(
      run([
        ingress('shop', [{ paths: [{ path: '/', pathType: 'Prefix', service: 'split', port: 'use-annotation' }] }], {
          annotations: {
            [`${ING}actions.split`]:
              '{"type":"forward","forwardConfig":{"targetGroups":[{"serviceName":"v2","servicePort":"80","weight":90},{"targetGroupName":"legacy-tg","weight":10}],"targetGroupStickinessConfig":{"enabled":true,"durationSeconds":300}}}',
          },
        }),
      ]),
    );
    const tg = stack.config.targetGroups!.map((t) => t.name);
    expect(tg).toHaveLength(1);
    expect(listener(stack, 80).rules![0]!.actions).toEqual([
      { type: 'forward', forwardConfig: { targetGroups: [{ targetGroupName: tg[0], weight: 90 }], targetGroupStickinessConfig: { enabled: true, durationSeconds: 300 } } },
    ]);
    expect(stack.problems).toEqual([
      `default/shop: annotation ${ING}actions.split forwards to target group named legacy-tg: a target group the controller does not make is not part of this load balancer on local-elb (an ALB cannot forward into another load balancer's runtime), so those entries are left out and their weight goes to the other target groups`,
    ]);
  });
});

describe('backends that do not exist here answer the controller’s 503', () => {
  const only = (annotations: Record<string, string>, service: string, port: number | string) =>
    stackOf(run([ingress('shop', [{ paths: [{ path: '/x', pathType: 'Exact', service, port }, { path: '/', pathType: 'Prefix', service: 'web', port: 80 }] }], { annotations })]));
  const body = (messageBody: string) => [{ type: 'fixed-response', fixedResponseConfig: { contentType: 'text/plain', statusCode: '503', messageBody } }];

  it.each([
    ['a use-annotation backend without its actions annotation', {}, 'missing', 'use-annotation', 'Backend action does not exist', /backend missing uses use-annotation but alb\.ingress\.kubernetes\.io\/actions\.missing is missing: the rule answers 503/],
    ['a Service that does not exist', {}, 'gone', 80, 'Backend service does not exist', /backend gone: backend service default\/gone does not exist: the rule answers 503 "Backend service does not exist"/],
    ['a forward action to one Service that does not exist', { [`${ING}actions.x`]: '{"type":"forward","forwardConfig":{"targetGroups":[{"serviceName":"gone","servicePort":80}]}}' }, 'x', 'use-annotation', 'Backend service does not exist', /does not exist/],
    ['the simplified forward by ARN', { [`${ING}actions.x`]: '{"Type":"forward","TargetGroupArn":"arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/legacy/0123456789abcdef"}' }, 'x', 'use-annotation', 'Backend service does not exist', /annotation alb\.ingress\.kubernetes\.io\/actions\.x forwards to target group arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup\/legacy\/0123456789abcdef: .* so the rule answers 503 "Backend service does not exist"/],
    ['the simplified forward by name', { [`${ING}actions.x`]: '{"type":"forward","targetGroupName":"legacy"}' }, 'x', 'use-annotation', 'Backend service does not exist', /forwards to target group named legacy/],
  ] as Array<[string, Record<string, string>, string, number | string, string, RegExp]>)('%s: a fixed 503 instead of a rule that vanishes, and a Warning', (_case, annotations, service, port, message, warning) => {
    const stack = only(annotations, service, port);
    const rules = listener(stack, 80).rules!;
    expect(rules.map((r) => r.conditions)).toEqual([[{ field: 'path-pattern', values: ['/x'] }], [{ field: 'path-pattern', values: ['/*'] }]]);
    expect(rules[0]!.actions).toEqual(body(message));
    expect(stack.problems.join('\n')).toMatch(warning);
  });

  it('gives a default backend that does not exist the same 503', () => {
    const stack = stackOf(run([ingress('shop', [], { defaultBackend: { service: 'gone', port: 80 } })]));
    expect(listener(stack, 80).defaultActions).toEqual(body('Backend service does not exist'));
  });
});

describe('the controller’s errors fail the group, with its message', () => {
  const rejected = (annotations: Record<string, string>, paths: Parameters<typeof ingress>[1][number]['paths'], host?: string) => {
    const r = run([ingress('shop', [{ ...(host ? { host } : {}), paths }], { annotations })]);
    expect(r.stacks).toEqual([]);
    return r.rejected.map((x) => x.reason);
  };

  it.each([
    ['"Type":"Redirect" (values compare exactly)', { [`${ING}actions.r`]: '{"Type":"Redirect","RedirectConfig":{"StatusCode":"HTTP_301"}}' }, `ingress: default/shop: unknown action type: Redirect (annotation ${ING}actions.r)`],
    ['weights missing on a two-entry forward', { [`${ING}actions.r`]: '{"type":"forward","forwardConfig":{"targetGroups":[{"serviceName":"api","servicePort":80},{"serviceName":"web","servicePort":80}]}}' }, `ingress: default/shop: invalid ForwardConfig: weight must be set when route to multiple target groups (annotation ${ING}actions.r)`],
    ['a missing Service in a weighted forward', { [`${ING}actions.r`]: '{"type":"forward","forwardConfig":{"targetGroups":[{"serviceName":"api","servicePort":80,"weight":1},{"serviceName":"gone","servicePort":80,"weight":1}]}}' }, 'ingress: default/shop: Service "gone" not found'],
    ['an actions annotation that is not JSON', { [`${ING}actions.r`]: '{type: redirect}' }, `ingress: default/shop: failed to parse json annotation, ${ING}actions.r: {type: redirect}: invalid character 't' looking for beginning of object key string`],
    ['bad conditions on the backend', { [`${ING}actions.r`]: '{"type":"fixed-response","fixedResponseConfig":{"statusCode":"200"}}', [`${ING}conditions.r`]: '[{"field":"source-ip","sourceIPConfig":{"values":[]}}]' }, `ingress: default/shop: invalid sourceIPConfig: values cannot be empty (annotation ${ING}conditions.r)`],
    ['a bad use-regex-path-match', { [`${ING}actions.r`]: '{"type":"fixed-response","fixedResponseConfig":{"statusCode":"200"}}', [`${ING}use-regex-path-match`]: 'yes' }, `ingress: default/shop: failed to parse bool annotation, ${ING}use-regex-path-match: yes: strconv.ParseBool: parsing "yes": invalid syntax`],
  ])('%s', (_case, annotations, reason) => {
    expect(rejected(annotations, [{ path: '/', pathType: 'Prefix', service: 'r', port: 'use-annotation' }])).toEqual([reason]);
  });

  it('refuses a host regex beside the Ingress host', () => {
    expect(rejected({ [`${ING}conditions.api`]: '[{"field":"host-header","hostHeaderConfig":{"regexValues":["^b\\\\."]}}]' }, [{ path: '/', pathType: 'Prefix', service: 'api', port: 80 }], 'a.example.com')).toEqual([
      'ingress: default/shop: host condition must specify exactly one of Values and RegexValues, got both Values [a.example.com] and RegexValues [^b\\.]',
    ]);
  });
});

describe('conditions and transforms through translate()', () => {
  it('applies conditions.<name> of a use-annotation action to its rule, and a request without them falls through to the next rule', () => {
    const stack = stackOf(
      run([
        ingress('shop', [{ paths: [{ path: '/', pathType: 'Prefix', service: 'canary', port: 'use-annotation' }, { path: '/', pathType: 'Prefix', service: 'web', port: 80 }] }], {
          annotations: {
            [`${ING}actions.canary`]: '{"type":"forward","forwardConfig":{"targetGroups":[{"serviceName":"v2","servicePort":80}]}}',
            [`${ING}conditions.canary`]: '[{"Field":"http-header","HttpHeaderConfig":{"HttpHeaderName":"X-Canary","Values":["on"]}},{"field":"http-request-method","httpRequestMethodConfig":{"values":["GET"]}}]',
          },
        }),
      ]),
    );
    const rules = listener(stack, 80).rules!;
    expect(rules.map((r) => r.conditions)).toEqual([
      [
        { field: 'http-header', httpHeaderConfig: { httpHeaderName: 'X-Canary', values: ['on'] } },
        { field: 'http-request-method', httpRequestMethodConfig: { values: ['GET'] } },
        { field: 'path-pattern', values: ['/*'] },
      ],
      [{ field: 'path-pattern', values: ['/*'] }],
    ]);
  });

  it('takes regex paths with use-regex-path-match: "true"', () => {
    const stack = stackOf(
      run([
        ingress('shop', [{ paths: [{ path: '/^/api/(.+)$', pathType: 'ImplementationSpecific', service: 'api', port: 80 }] }], { annotations: { [`${ING}use-regex-path-match`]: 'true' } }),
      ]),
    );
    expect(listener(stack, 80).rules![0]!.conditions).toEqual([{ field: 'path-pattern', pathPatternConfig: { regexValues: ['^/api/(.+)$'] } }]);
  });

  it('sorts paths within each spec.rules entry, not across entries, as the controller does', () => {
    const stack = stackOf(
      run([
        ingress('shop', [
          { host: 'a.example.com', paths: [{ path: '/', pathType: 'Prefix', service: 'web', port: 80 }, { path: '/a', pathType: 'Exact', service: 'api', port: 80 }] },
          { host: 'b.example.com', paths: [{ path: '/b', pathType: 'Exact', service: 'api', port: 80 }] },
        ]),
      ]),
    );
    expect(listener(stack, 80).rules!.map((r) => r.conditions.map((c) => c.values?.join(',')).join(' '))).toEqual(['a.example.com /a', 'a.example.com /*', 'b.example.com /b']);
  });
});

describe('auth-* of the one Service an actions.<name> forward goes to', () => {
  it('merges that Service’s auth annotations, as for a plain backend (buildAuthConfig), and not for a weighted forward', () => {
    const cognito = JSON.stringify({ userPoolARN: 'arn:aws:cognito-idp:us-east-1:111122223333:userpool/us-east-1_abc', userPoolClientID: 'client', userPoolDomain: 'auth.example.com' });
    const authed = lbService('authed', {
      type: 'NodePort',
      loadBalancerClass: null,
      annotations: { [`${ING}auth-type`]: 'cognito', [`${ING}auth-idp-cognito`]: cognito },
      ports: [{ name: 'http', port: 80, nodePort: 30090 }],
    });
    const r = translate(
      snapshot({
        services: [...services, authed],
        ingresses: [
          ingress('shop', [{ paths: [{ path: '/one', pathType: 'Exact', service: 'one', port: 'use-annotation' }, { path: '/two', pathType: 'Exact', service: 'two', port: 'use-annotation' }] }], {
            annotations: {
              [`${ING}listen-ports`]: '[{"HTTPS":443}]',
              [`${ING}certificate-arn`]: CERT,
              [`${ING}actions.one`]: '{"Type":"forward","ForwardConfig":{"TargetGroups":[{"ServiceName":"authed","ServicePort":"80"}]}}',
              [`${ING}actions.two`]: '{"type":"forward","forwardConfig":{"targetGroups":[{"serviceName":"authed","servicePort":80,"weight":1},{"serviceName":"web","servicePort":80,"weight":1}]}}',
            },
          }),
        ],
        ingressClasses: [albClass],
        nodes,
      }),
    );
    const stack = stackOf(r);
    expect(listener(stack, 443).rules!.map((rule) => rule.actions.map((a) => a.type))).toEqual([['authenticate-cognito', 'forward'], ['forward']]);
  });
});

describe('per-listener rule sets in an Ingress group', () => {
  const member = (name: string, listenPorts: string, path: string, service: string, extra: Record<string, string> = {}) =>
    ingress(name, [{ paths: [{ path, pathType: 'Prefix', service, port: 80 }] }], { annotations: { [`${ING}group.name`]: 'shared', [`${ING}listen-ports`]: listenPorts, ...extra } });

  it('puts each Ingress’s rules only on the listeners of its own listen-ports', () => {
    const stack = stackOf(run([member('a', '[{"HTTP":8080}]', '/a', 'api'), member('b', '[{"HTTP":8081}]', '/b', 'web'), member('both', '[{"HTTP":8080},{"HTTP":8081}]', '/both', 'v2')]));
    const paths = (port: number) => listener(stack, port).rules!.map((r) => r.conditions.at(-1)!.values![0]);
    expect(paths(8080)).toEqual(['/a', '/both']);
    expect(paths(8081)).toEqual(['/b', '/both']);
  });

  it('with ssl-redirect, gives the HTTP listener only the redirect and the HTTPS listener only the rules of Ingresses on it', () => {
    const stack = stackOf(
      run([
        member('a', '[{"HTTP":8080}]', '/a', 'api'),
        member('b', '[{"HTTP":8080},{"HTTPS":8443}]', '/b', 'web', { [`${ING}certificate-arn`]: CERT, [`${ING}ssl-redirect`]: '8443' }),
      ]),
    );
    expect(listener(stack, 8080)).toMatchObject({ rules: [], defaultActions: [{ type: 'redirect', redirectConfig: { protocol: 'HTTPS', port: '8443', statusCode: 'HTTP_301' } }] });
    expect(listener(stack, 8443).rules!.map((r) => r.conditions.at(-1)!.values![0])).toEqual(['/b']);
    // api's group is named only by a rule of the redirected listener: not made.
    expect(stack.config.targetGroups).toHaveLength(1);
  });
});
