/**
 * `alb.ingress.kubernetes.io/backend-protocol-version` translated (spec 12.7.1, 12.4): HTTP1 (the
 * default), HTTP2 and GRPC target groups; on GRPC groups `success-codes` read as gRPC status codes
 * into `matcher.grpcCode` and the controller's gRPC health-check defaults (`/AWS.ALB/healthcheck`,
 * `12`); the Service's alb.ingress annotations winning over the Ingress's; and the errors the
 * controller and AWS fail the group with, in their words.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/schema.ts';
import { translate, type DesiredStack } from '../../../src/k8s/translate.ts';
import { albClass, ingress, lbService, node, snapshot } from '../../support/k8s-fixtures.ts';

const nodes = [node('worker', '172.18.0.3')];
const ING = 'alb.ingress.kubernetes.io/';
const ARN = 'arn:aws:acm:eu-west-1:111122223333:certificate/a';
const HTTPS_ONLY = { [`${ING}listen-ports`]: '[{"HTTPS": 443}]', [`${ING}certificate-arn`]: ARN };

function service(name: string, annotations: Record<string, string> = {}) {
  return lbService(name, { type: 'NodePort', loadBalancerClass: null, annotations, ports: [{ name: 'grpc', port: 50051, nodePort: 30051 }] });
}

function ing(name: string, annotations: Record<string, string>, options: { path?: string; service?: string } = {}) {
  return ingress(name, [{ paths: [{ path: options.path ?? '/', service: options.service ?? 'greeter', port: 50051 }] }], { annotations });
}

function translateWith(services: ReturnType<typeof service>[], ...ingresses: ReturnType<typeof ing>[]) {
  return translate(snapshot({ services, ingresses, ingressClasses: [albClass], nodes }));
}

function stackOf(services: ReturnType<typeof service>[], ...ingresses: ReturnType<typeof ing>[]): DesiredStack {
  const r = translateWith(services, ...ingresses);
  expect(r.rejected).toEqual([]);
  expect(r.stacks).toHaveLength(1);
  const stack = r.stacks[0]!;
  expect(() => parseConfig(stack.config)).not.toThrow();
  return stack;
}

function rejection(services: ReturnType<typeof service>[], ...ingresses: ReturnType<typeof ing>[]): string {
  const r = translateWith(services, ...ingresses);
  expect(r.stacks).toEqual([]);
  expect(r.rejected.length).toBeGreaterThan(0);
  return r.rejected[0]!.reason;
}

const onlyGroup = (stack: DesiredStack) => {
  expect(stack.config.targetGroups).toHaveLength(1);
  return stack.config.targetGroups![0]!;
};

describe('backend-protocol-version → target group protocolVersion (spec 12.7.1)', () => {
  it.each<[string, Record<string, string>, Record<string, unknown>]>([
    ['no annotation: HTTP1, path /, HTTP codes 200', {}, { protocol: 'HTTP', protocolVersion: 'HTTP1', healthCheckPath: '/', matcher: { httpCode: '200' } }],
    ['HTTP1 named: the same', { [`${ING}backend-protocol-version`]: 'HTTP1' }, { protocolVersion: 'HTTP1', healthCheckPath: '/', matcher: { httpCode: '200' } }],
    ['HTTP2: path / and HTTP codes 200, as HTTP1', { [`${ING}backend-protocol-version`]: 'HTTP2' }, { protocolVersion: 'HTTP2', healthCheckPath: '/', matcher: { httpCode: '200' } }],
    ['HTTP2 with success-codes 200-299: HTTP codes', { [`${ING}backend-protocol-version`]: 'HTTP2', [`${ING}success-codes`]: '200-299' }, { protocolVersion: 'HTTP2', matcher: { httpCode: '200-299' } }],
    [
      'GRPC: the gRPC defaults, path /AWS.ALB/healthcheck and gRPC code 12, checked over the target group protocol',
      { [`${ING}backend-protocol-version`]: 'GRPC' },
      { protocol: 'HTTP', protocolVersion: 'GRPC', healthCheckProtocol: 'HTTP', healthCheckPath: '/AWS.ALB/healthcheck', matcher: { grpcCode: '12' } },
    ],
    ['GRPC with success-codes 0-99: a gRPC range', { [`${ING}backend-protocol-version`]: 'GRPC', [`${ING}success-codes`]: '0-99' }, { matcher: { grpcCode: '0-99' } }],
    ['GRPC with success-codes 12', { [`${ING}backend-protocol-version`]: 'GRPC', [`${ING}success-codes`]: '12' }, { matcher: { grpcCode: '12' } }],
    ['GRPC with success-codes 0,12: a gRPC list', { [`${ING}backend-protocol-version`]: 'GRPC', [`${ING}success-codes`]: '0,12' }, { matcher: { grpcCode: '0,12' } }],
    [
      'GRPC with a healthcheck-path of its own and success-codes 0 (the standard health service)',
      { [`${ING}backend-protocol-version`]: 'GRPC', [`${ING}healthcheck-path`]: '/grpc.health.v1.Health/Check', [`${ING}success-codes`]: '0' },
      { healthCheckPath: '/grpc.health.v1.Health/Check', matcher: { grpcCode: '0' } },
    ],
    [
      'GRPC with backend-protocol HTTPS: TLS to the targets, gRPC checks over HTTPS',
      { [`${ING}backend-protocol-version`]: 'GRPC', [`${ING}backend-protocol`]: 'HTTPS' },
      { protocol: 'HTTPS', protocolVersion: 'GRPC', healthCheckProtocol: 'HTTPS', healthCheckPath: '/AWS.ALB/healthcheck', matcher: { grpcCode: '12' } },
    ],
    [
      'GRPC with healthcheck-protocol HTTP behind HTTPS: success-codes still gRPC codes',
      { [`${ING}backend-protocol-version`]: 'GRPC', [`${ING}backend-protocol`]: 'HTTPS', [`${ING}healthcheck-protocol`]: 'HTTP', [`${ING}success-codes`]: '0' },
      { protocol: 'HTTPS', healthCheckProtocol: 'HTTP', matcher: { grpcCode: '0' } },
    ],
  ])('%s', (_name, annotations, expected) => {
    const stack = stackOf([service('greeter')], ing('greeter', { ...HTTPS_ONLY, ...annotations }));
    expect(onlyGroup(stack)).toMatchObject(expected);
    expect(stack.problems).toEqual([]);
  });

  it('gives an HTTP1 group no grpcCode and a GRPC group no httpCode', () => {
    const http1 = onlyGroup(stackOf([service('greeter')], ing('greeter', HTTPS_ONLY)));
    const grpc = onlyGroup(stackOf([service('greeter')], ing('greeter', { ...HTTPS_ONLY, [`${ING}backend-protocol-version`]: 'GRPC' })));
    expect(http1.matcher).toEqual({ httpCode: '200' });
    expect(grpc.matcher).toEqual({ grpcCode: '12' });
  });

  it('names the HTTP1, HTTP2 and GRPC target groups of one Service port apart (the version is part of the name hash)', () => {
    const names = ['HTTP1', 'HTTP2', 'GRPC'].map((version) => onlyGroup(stackOf([service('greeter')], ing('greeter', { ...HTTPS_ONLY, [`${ING}backend-protocol-version`]: version }))).name);
    expect(new Set(names).size).toBe(3);
    for (const name of names) expect(name).toMatch(/^k8s-default-greeter-[0-9a-f]{10}$/);
  });

  it('makes two target groups for one Service port used by a GRPC and an HTTP1 Ingress of one group', () => {
    const group = { [`${ING}group.name`]: 'shared' };
    const grpc = ing('grpc', { ...group, ...HTTPS_ONLY, [`${ING}backend-protocol-version`]: 'GRPC' }, { path: '/localelb.test.Echo' });
    const web = ing('web', { ...group, ...HTTPS_ONLY }, { path: '/web' });
    const stack = stackOf([service('greeter')], grpc, web);
    expect(stack.config.targetGroups!.map((t) => [t.protocolVersion, t.matcher])).toEqual([
      ['GRPC', { grpcCode: '12' }],
      ['HTTP1', { httpCode: '200' }],
    ]);
    const rules = stack.config.loadBalancers![0]!.listeners[0]!.rules!;
    expect(rules.map((r) => (r.actions![0] as { targetGroupName: string }).targetGroupName)).toEqual(stack.config.targetGroups!.map((t) => t.name));
  });

  it('serves a GRPC Ingress on HTTPS and an HTTP1 Ingress on HTTP in one group: each listener takes only its own Ingress’s rules', () => {
    const group = { [`${ING}group.name`]: 'shared' };
    const grpc = ing('grpc', { ...group, ...HTTPS_ONLY, [`${ING}backend-protocol-version`]: 'GRPC' });
    const web = ing('web', { ...group, [`${ING}listen-ports`]: '[{"HTTP": 80}]' }, { service: 'web' });
    const stack = stackOf([service('greeter'), service('web')], grpc, web);
    const versionOf = (name: string) => stack.config.targetGroups!.find((t) => t.name === name)!.protocolVersion;
    expect(stack.config.loadBalancers![0]!.listeners.map((l) => [l.protocol, versionOf((l.rules![0]!.actions![0] as { targetGroupName: string }).targetGroupName)])).toEqual([
      ['HTTP', 'HTTP1'],
      ['HTTPS', 'GRPC'],
    ]);
  });

  it('accepts a GRPC backend behind HTTP and HTTPS listen ports with ssl-redirect (the HTTP listener only redirects)', () => {
    const stack = stackOf([service('greeter')], ing('greeter', { [`${ING}listen-ports`]: '[{"HTTP": 80}, {"HTTPS": 443}]', [`${ING}certificate-arn`]: ARN, [`${ING}ssl-redirect`]: '443', [`${ING}backend-protocol-version`]: 'GRPC' }));
    expect(stack.config.loadBalancers![0]!.listeners.map((l) => [l.port, l.defaultActions![0]!.type, l.rules!.length])).toEqual([
      [80, 'redirect', 0],
      [443, 'fixed-response', 1],
    ]);
  });
});

describe("the Service's alb.ingress annotations win over the Ingress's (spec 12.7.1)", () => {
  it.each<[string, Record<string, string>, Record<string, string>, Record<string, unknown>]>([
    ['the Service says GRPC, the Ingress nothing', { [`${ING}backend-protocol-version`]: 'GRPC' }, {}, { protocolVersion: 'GRPC', healthCheckPath: '/AWS.ALB/healthcheck', matcher: { grpcCode: '12' } }],
    ['the Service says HTTP1, the Ingress GRPC', { [`${ING}backend-protocol-version`]: 'HTTP1' }, { [`${ING}backend-protocol-version`]: 'GRPC' }, { protocolVersion: 'HTTP1', healthCheckPath: '/', matcher: { httpCode: '200' } }],
    ['the Service says HTTP2, the Ingress GRPC', { [`${ING}backend-protocol-version`]: 'HTTP2' }, { [`${ING}backend-protocol-version`]: 'GRPC' }, { protocolVersion: 'HTTP2', matcher: { httpCode: '200' } }],
    [
      "the Ingress says GRPC with success-codes 0-5, the Service's success-codes 0",
      { [`${ING}success-codes`]: '0' },
      { [`${ING}backend-protocol-version`]: 'GRPC', [`${ING}success-codes`]: '0-5' },
      { protocolVersion: 'GRPC', matcher: { grpcCode: '0' } },
    ],
    [
      "the Service says GRPC and its own path, the Ingress's path is for HTTP",
      { [`${ING}backend-protocol-version`]: 'GRPC', [`${ING}healthcheck-path`]: '/grpc.health.v1.Health/Check' },
      { [`${ING}healthcheck-path`]: '/healthz' },
      { healthCheckPath: '/grpc.health.v1.Health/Check' },
    ],
  ])('%s', (_name, serviceAnnotations, ingressAnnotations, expected) => {
    expect(onlyGroup(stackOf([service('greeter', serviceAnnotations)], ing('greeter', { ...HTTPS_ONLY, ...ingressAnnotations })))).toMatchObject(expected);
  });

  it("rejects the group when the Service makes it GRPC and the Ingress's success-codes are HTTP codes (AWS's ValidationError)", () => {
    const reason = rejection([service('greeter', { [`${ING}backend-protocol-version`]: 'GRPC' })], ing('greeter', { ...HTTPS_ONLY, [`${ING}success-codes`]: '200' }));
    expect(reason).toMatch(/^ValidationError: Health check matcher GRPC code '200' must be within '0-99' inclusive \(target group k8s-default-greeter-[0-9a-f]{10}: /);
  });
});

describe('errors the controller and AWS fail the group with', () => {
  it.each([
    ['lower case grpc', 'grpc'],
    ['HTTP3', 'HTTP3'],
    ['an empty value', ''],
  ])('rejects backend-protocol-version %s with the controller’s message', (_name, value) => {
    expect(rejection([service('greeter')], ing('greeter', { ...HTTPS_ONLY, [`${ING}backend-protocol-version`]: value }))).toBe(
      `ingress: default/greeter: backend protocol version must be within [HTTP1, HTTP2, GRPC]: ${value}`,
    );
  });

  it.each([
    ['an HTTP code', '200'],
    ['a range past 99', '0-100'],
    ['HTTP-style range', '200-399'],
    ['not a number', 'OK'],
    ['a reversed range', '12-0'],
  ])('rejects GRPC success-codes that are %s (%s) as AWS does', (_name, value) => {
    const reason = rejection([service('greeter')], ing('greeter', { ...HTTPS_ONLY, [`${ING}backend-protocol-version`]: 'GRPC', [`${ING}success-codes`]: value }));
    expect(reason).toMatch(new RegExp(`^ValidationError: Health check matcher GRPC code '${value}' must be within '0-99' inclusive \\(target group k8s-default-greeter-[0-9a-f]{10}: with ${ING.replace(/\./g, '\\.')}backend-protocol-version GRPC, `));
  });

  it.each<[string, Record<string, string>, string]>([
    ['GRPC on the default HTTP:80 listener', { [`${ING}backend-protocol-version`]: 'GRPC' }, 'GRPC'],
    ['HTTP2 on the default HTTP:80 listener', { [`${ING}backend-protocol-version`]: 'HTTP2' }, 'HTTP2'],
    ['GRPC on HTTP and HTTPS listen ports without ssl-redirect', { [`${ING}listen-ports`]: '[{"HTTP": 80}, {"HTTPS": 443}]', [`${ING}certificate-arn`]: ARN, [`${ING}backend-protocol-version`]: 'GRPC' }, 'GRPC'],
  ])('rejects %s (InvalidLoadBalancerAction: HTTP2 and GRPC groups take HTTPS listeners only)', (_name, annotations, version) => {
    expect(rejection([service('greeter')], ing('greeter', annotations))).toMatch(
      new RegExp(`^InvalidLoadBalancerAction: Listener protocol 'HTTP' is not supported with a target group with the protocol-version '${version}' \\(listener HTTP:80 forwards to k8s-default-greeter-[0-9a-f]{10}; `),
    );
  });

  it('reports the target-group error before the listener error, as AWS meets them (the group is created before its rules)', () => {
    expect(rejection([service('greeter')], ing('greeter', { [`${ING}backend-protocol-version`]: 'GRPC', [`${ING}success-codes`]: '200' }))).toMatch(/^ValidationError: /);
  });

  it('does not report backend-protocol-version as not emulated', () => {
    const stack = stackOf([service('greeter')], ing('greeter', { ...HTTPS_ONLY, [`${ING}backend-protocol-version`]: 'HTTP2' }));
    expect(stack.problems).toEqual([]);
  });
});
