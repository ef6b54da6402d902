/**
 * Target group `protocolVersion` and the gRPC matcher (spec 1.1, 2.1, 6.3, 12.4.1, 12.4.4):
 * defaults per version, where each is allowed, and the errors that name the field.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/core/errors.ts';
import { printableConfig } from '../../../src/config/print.ts';
import { parseConfig } from '../../../src/config/schema.ts';
import { TargetGroup } from '../../../src/targets/target-group.ts';

const group = (overrides: Record<string, unknown> = {}) => ({ name: 'svc', protocol: 'HTTP', port: 50051, ...overrides });
const https = (defaultActions: unknown[], rules: unknown[] = []) => ({ port: 443, protocol: 'HTTPS', defaultActions, rules });
const forward = (targetGroupName = 'svc') => ({ type: 'forward', targetGroupName });
const fixed = { type: 'fixed-response', fixedResponseConfig: { statusCode: '404' } };
const pathRule = (priority: number, actions: unknown[]) => ({ priority, conditions: [{ field: 'path-pattern', values: ['/pkg.Svc/*'] }], actions });

function issues(input: unknown): Array<{ path: string; message: string }> {
  try {
    parseConfig(input);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues.map((i) => ({ path: i.path, message: i.message }));
  }
  throw new Error('parseConfig accepted an invalid configuration');
}

describe('protocolVersion defaults (spec 12.4.1, 14.7)', () => {
  it.each([
    ['HTTP', undefined, 'HTTP1', '/', { httpCode: '200' }],
    ['HTTPS', undefined, 'HTTP1', '/', { httpCode: '200' }],
    ['HTTP', 'HTTP1', 'HTTP1', '/', { httpCode: '200' }],
    ['HTTPS', 'HTTP2', 'HTTP2', '/', { httpCode: '200' }],
    ['HTTP', 'GRPC', 'GRPC', '/AWS.ALB/healthcheck', { grpcCode: '12' }],
    ['HTTPS', 'GRPC', 'GRPC', '/AWS.ALB/healthcheck', { grpcCode: '12' }],
  ])('a %s group with protocolVersion %s is %s, health-check path %s, matcher %j', (protocol, given, version, path, matcher) => {
    const tg = parseConfig({ targetGroups: [group({ protocol, ...(given ? { protocolVersion: given } : {}) })] }).targetGroups[0]!;
    expect(tg.protocolVersion).toBe(version);
    expect(tg.healthCheckPath).toBe(path);
    expect(tg.matcher).toEqual(matcher);
    expect(tg.healthCheckProtocol).toBe(protocol);
  });

  it('leaves NLB groups without a protocol version', () => {
    const tg = parseConfig({ targetGroups: [group({ protocol: 'TCP' })] }).targetGroups[0]!;
    expect(tg.protocolVersion).toBeUndefined();
    expect('protocolVersion' in tg).toBe(false);
  });

  it('keeps a path and matcher given on a GRPC group', () => {
    const tg = parseConfig({ targetGroups: [group({ protocolVersion: 'GRPC', healthCheckPath: '/grpc.health.v1.Health/Check', matcher: { grpcCode: '0' } })] }).targetGroups[0]!;
    expect(tg).toMatchObject({ healthCheckPath: '/grpc.health.v1.Health/Check', matcher: { grpcCode: '0' } });
  });

  it.each([
    [0, '0'],
    [12, '12'],
  ])('reads a bare YAML number grpcCode %j as the string %j', (grpcCode, text) => {
    expect(parseConfig({ targetGroups: [group({ protocolVersion: 'GRPC', matcher: { grpcCode } })] }).targetGroups[0]!.matcher).toEqual({ grpcCode: text });
  });

  it('prints protocolVersion and the gRPC matcher, and reads them back as the same config', () => {
    const config = parseConfig({ targetGroups: [group({ protocolVersion: 'GRPC' }), group({ name: 'tcp', protocol: 'TCP' })] });
    const printed = printableConfig(config).targetGroups!;
    expect(printed[0]).toMatchObject({ protocolVersion: 'GRPC', healthCheckPath: '/AWS.ALB/healthcheck', matcher: { grpcCode: '12' } });
    expect('protocolVersion' in printed[1]!).toBe(false);
    expect(parseConfig(JSON.parse(JSON.stringify(printableConfig(config))))).toEqual(config);
  });

  it('shows protocolVersion and matcher { grpcCode } in DescribeTargetGroups, and no protocol version on NLB groups', () => {
    const config = parseConfig({ targetGroups: [group({ protocolVersion: 'GRPC', matcher: { grpcCode: '0-5' } }), group({ name: 'web' }), group({ name: 'tcp', protocol: 'TCP' })] });
    const [grpc, web, tcp] = config.targetGroups.map((c) => new TargetGroup({ config: c, probe: () => ({ ok: true }) }));
    expect(grpc!.describe()).toMatchObject({ protocol: 'HTTP', protocolVersion: 'GRPC', healthCheckPath: '/AWS.ALB/healthcheck', matcher: { grpcCode: '0-5' } });
    expect(web!.describe()).toMatchObject({ protocolVersion: 'HTTP1', matcher: { httpCode: '200' } });
    expect(tcp!.describe()).not.toHaveProperty('protocolVersion');
    for (const g of [grpc, web, tcp]) g!.close();
  });
});

describe('protocolVersion and matcher errors name the field', () => {
  it.each(['TCP', 'UDP', 'TLS', 'TCP_UDP'])('refuses protocolVersion on a %s group', (protocol) => {
    expect(issues({ targetGroups: [group({ protocol, protocolVersion: 'HTTP1' })] })).toEqual([
      { path: 'targetGroups[0].protocolVersion', message: `applies to HTTP and HTTPS target groups only (spec 12.4.1); this one is ${protocol}` },
    ]);
  });

  it('refuses an unknown protocolVersion, listing the allowed ones', () => {
    expect(issues({ targetGroups: [group({ protocolVersion: 'HTTP3' })] })).toEqual([
      { path: 'targetGroups[0].protocolVersion', message: 'must be one of HTTP1 | HTTP2 | GRPC: got "HTTP3"' },
    ]);
  });

  it("refuses an httpCode on a GRPC group with AWS's message, naming the field", () => {
    const [issue, ...rest] = issues({ targetGroups: [group({ protocolVersion: 'GRPC', matcher: { httpCode: '200' } })] });
    expect(rest).toEqual([]);
    expect(issue!.path).toBe('targetGroups[0].matcher.httpCode');
    expect(issue!.message).toContain('use grpcCode');
    expect(issue!.message).toContain("Health check matcher GRPC code '200' must be within '0-99' inclusive");
  });

  it.each(['200', '100', '0-100', 'OK', ''])('refuses grpcCode %j with AWS\'s message', (grpcCode) => {
    const [issue, ...rest] = issues({ targetGroups: [group({ protocolVersion: 'GRPC', matcher: { grpcCode } })] });
    expect(rest).toEqual([]);
    expect(issue!.path).toBe('targetGroups[0].matcher.grpcCode');
    expect(issue!.message).toContain(`Health check matcher GRPC code '${grpcCode}' must be within '0-99' inclusive`);
    expect(issue!.message).toContain(`got ${JSON.stringify(grpcCode)}`);
  });

  it.each([
    ['HTTP1', { protocolVersion: 'HTTP1' }],
    ['HTTP2', { protocolVersion: 'HTTP2', protocol: 'HTTPS' }],
  ])('refuses grpcCode on an %s group', (version, fields) => {
    expect(issues({ targetGroups: [group({ ...fields, matcher: { grpcCode: '12' } })] })).toEqual([
      { path: 'targetGroups[0].matcher.grpcCode', message: `applies to GRPC target groups only (protocolVersion: GRPC); this one is ${version}` },
    ]);
  });

  it('refuses grpcCode on an NLB group', () => {
    expect(issues({ targetGroups: [group({ protocol: 'TCP', healthCheckProtocol: 'HTTP', matcher: { grpcCode: '12' } })] })[0]).toMatchObject({ path: 'targetGroups[0].matcher.grpcCode' });
  });

  it.each([
    ['neither', {}],
    ['both', { httpCode: '200', grpcCode: '12' }],
  ])('refuses a matcher with %s of httpCode and grpcCode', (_, matcher) => {
    const found = issues({ targetGroups: [group({ matcher })] });
    expect(found[0]).toMatchObject({ path: 'targetGroups[0].matcher', message: expect.stringContaining('needs exactly one of httpCode or grpcCode') as unknown as string });
  });

  it('refuses an unknown matcher key, listing the allowed ones', () => {
    expect(issues({ targetGroups: [group({ matcher: { HttpCode: '200' } })] })).toEqual([
      { path: 'targetGroups[0].matcher', message: 'unknown key "HttpCode"; allowed: httpCode, grpcCode' },
    ]);
  });
});

describe('listeners for HTTP2 and GRPC groups: HTTPS only, forward only (spec 1.1, 6.3, 12.4.1)', () => {
  it.each(['HTTP2', 'GRPC'])('lets an HTTPS listener forward to a %s group by default action, rule and weighted forward', (protocolVersion) => {
    const config = parseConfig({
      targetGroups: [group({ protocolVersion }), group({ name: 'other', protocolVersion })],
      loadBalancers: [
        {
          name: 'app',
          listeners: [
            https([forward()], [
              pathRule(1, [forward('other')]),
              pathRule(2, [{ type: 'forward', forwardConfig: { targetGroups: [{ targetGroupName: 'svc', weight: 1 }, { targetGroupName: 'other', weight: 2 }] } }]),
            ]),
          ],
        },
      ],
    });
    expect(config.loadBalancers[0]!.listeners[0]!.protocol).toBe('HTTPS');
  });

  it.each(['HTTP2', 'GRPC'])('refuses a %s group behind an HTTP listener, naming the listener action', (protocolVersion) => {
    const found = issues({
      targetGroups: [group({ protocolVersion }), group({ name: 'web' })],
      loadBalancers: [{ name: 'app', listeners: [{ port: 80, defaultActions: [forward('web')], rules: [pathRule(1, [forward()])] }] }],
    });
    expect(found).toEqual([
      {
        path: 'loadBalancers[0].listeners[0].rules[0].actions[0]',
        message: `a HTTP listener cannot forward to ${protocolVersion} target group "svc"; protocolVersion ${protocolVersion} takes HTTPS listeners only (spec 12.4.1)`,
      },
    ]);
  });

  it('refuses a GRPC group in a weighted forward of an HTTP listener', () => {
    const found = issues({
      targetGroups: [group({ name: 'web' }), group({ protocolVersion: 'GRPC' })],
      loadBalancers: [{ name: 'app', listeners: [{ port: 80, defaultActions: [{ type: 'forward', forwardConfig: { targetGroups: [{ targetGroupName: 'web' }, { targetGroupName: 'svc' }] } }] }] }],
    });
    expect(found.map((i) => i.path)).toEqual(['loadBalancers[0].listeners[0].defaultActions[0]']);
    expect(found[0]!.message).toContain('GRPC target group "svc"');
  });

  it('lets an HTTPS listener that forwards to GRPC groups keep other rules and a fixed-response default (the rule is per group, as the Load Balancer Controller builds gRPC Ingresses)', () => {
    expect(() =>
      parseConfig({
        targetGroups: [group({ protocolVersion: 'GRPC' })],
        loadBalancers: [
          { name: 'app', listeners: [https([fixed], [pathRule(1, [forward()]), pathRule(2, [{ type: 'redirect', redirectConfig: { path: '/new', statusCode: 'HTTP_301' } }])])] },
        ],
      }),
    ).not.toThrow();
  });

  it('refuses any other action in a rule that forwards to a GRPC group', () => {
    const found = issues({
      targetGroups: [group({ protocolVersion: 'GRPC' })],
      loadBalancers: [{ name: 'app', listeners: [https([fixed], [pathRule(1, [forward(), fixed])])] }],
    });
    expect(found).toContainEqual({ path: 'loadBalancers[0].listeners[0].rules[0].actions[1]', message: 'a rule that forwards to GRPC target group "svc" may only forward (spec 6.3): got "fixed-response"' });
  });
});
