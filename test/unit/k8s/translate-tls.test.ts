/**
 * The TLS annotations of the AWS Load Balancer Controller (spec 12.7), translated: Ingress
 * listen-ports / certificate-arn / ssl-policy / ssl-redirect / backend-protocol /
 * healthcheck-protocol, merged across a group as the controller merges them, and Service
 * ssl-cert / ssl-ports / ssl-negotiation-policy / backend-protocol / alpn-policy. Messages are
 * the controller's own.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/schema.ts';
import { translate, type DesiredStack } from '../../../src/k8s/translate.ts';
import { localCertificateArn } from '../../../src/tls/provider.ts';
import { albClass, ingress, lbService, node, snapshot } from '../../support/k8s-fixtures.ts';

const nodes = [node('worker', '172.18.0.3')];
const ING = 'alb.ingress.kubernetes.io/';
const SVC = 'service.beta.kubernetes.io/';
const ARN_A = 'arn:aws:acm:eu-west-1:111122223333:certificate/a';
const ARN_B = 'arn:aws:acm:eu-west-1:111122223333:certificate/b';
const ARN_C = 'arn:aws:acm:eu-west-1:111122223333:certificate/c';

const web = lbService('web', { type: 'NodePort', loadBalancerClass: null, ports: [{ name: 'http', port: 80, nodePort: 30082 }] });
const api = lbService('api', { type: 'NodePort', loadBalancerClass: null, ports: [{ name: 'http', port: 80, nodePort: 30081 }] });

function ing(name: string, annotations: Record<string, string>, options: { host?: string; path?: string; service?: string; tls?: string[][] } = {}) {
  return ingress(name, [{ ...(options.host ? { host: options.host } : {}), paths: [{ path: options.path ?? '/', service: options.service ?? 'web', port: 80 }] }], {
    annotations,
    ...(options.tls ? { tls: options.tls.map((hosts) => ({ hosts })) } : {}),
  });
}

function group(annotations: Record<string, string>): Record<string, string> {
  return { [`${ING}group.name`]: 'shared', ...annotations };
}

function translateIngresses(...ingresses: ReturnType<typeof ingress>[]) {
  return translate(snapshot({ services: [web, api], ingresses, ingressClasses: [albClass], nodes }));
}

function stackOf(...ingresses: ReturnType<typeof ingress>[]): DesiredStack {
  const r = translateIngresses(...ingresses);
  expect(r.rejected).toEqual([]);
  expect(r.stacks).toHaveLength(1);
  const stack = r.stacks[0]!;
  expect(() => parseConfig(stack.config)).not.toThrow();
  return stack;
}

const listenersOf = (stack: DesiredStack) => stack.config.loadBalancers![0]!.listeners;
const lbNameOf = (stack: DesiredStack) => stack.config.loadBalancers![0]!.name;

function rejection(...ingresses: ReturnType<typeof ingress>[]): string {
  const r = translateIngresses(...ingresses);
  expect(r.stacks).toEqual([]);
  expect(r.rejected.length).toBeGreaterThan(0);
  return r.rejected[0]!.reason;
}

describe('Ingress listen-ports and certificate-arn (spec 12.7.1)', () => {
  it.each<[string, Record<string, string>, Array<{ port: number; protocol: string; certificates?: string[] }>]>([
    ['no annotations: HTTP:80', {}, [{ port: 80, protocol: 'HTTP' }]],
    ['certificate-arn alone: HTTPS:443 with it', { [`${ING}certificate-arn`]: ARN_A }, [{ port: 443, protocol: 'HTTPS', certificates: [ARN_A] }]],
    [
      'HTTP and HTTPS listen-ports with certificate-arn: the certificates on the HTTPS port only',
      { [`${ING}listen-ports`]: '[{"HTTP": 8080}, {"HTTPS": 8443}]', [`${ING}certificate-arn`]: ARN_A },
      [
        { port: 8080, protocol: 'HTTP' },
        { port: 8443, protocol: 'HTTPS', certificates: [ARN_A] },
      ],
    ],
    ['explicit listen-ports HTTP:80 with certificate-arn: no HTTPS listener', { [`${ING}listen-ports`]: '[{"HTTP": 80}]', [`${ING}certificate-arn`]: ARN_A }, [{ port: 80, protocol: 'HTTP' }]],
    [
      'one entry naming both protocols on two ports',
      { [`${ING}listen-ports`]: '[{"HTTP": 80, "HTTPS": 443}]', [`${ING}certificate-arn`]: ARN_A },
      [
        { port: 80, protocol: 'HTTP' },
        { port: 443, protocol: 'HTTPS', certificates: [ARN_A] },
      ],
    ],
  ])('%s', (_name, annotations, expected) => {
    const listeners = listenersOf(stackOf(ing('shop', annotations)));
    expect(listeners.map((l) => ({ port: l.port, protocol: l.protocol, ...(l.certificates ? { certificates: l.certificates.map((c) => c.certificateArn) } : {}) }))).toEqual(expected);
  });

  it('takes certificate-arn as a comma list: the first is the default certificate, the rest the SNI list; spaces and empty items dropped', () => {
    const [listener] = listenersOf(stackOf(ing('shop', { [`${ING}certificate-arn`]: ` ${ARN_A} , ${ARN_B},,${ARN_C}` })));
    expect(listener!.certificates).toEqual([{ certificateArn: ARN_A }, { certificateArn: ARN_B }, { certificateArn: ARN_C }]);
  });

  it.each([
    ['not JSON', '[{"HTTPS": 443', /^ingress: default\/shop: failed to parse listen-ports configuration: `\[\{"HTTPS": 443`: /],
    ['not a list of objects of ports', '{"HTTPS": 443}', /^ingress: default\/shop: failed to parse listen-ports configuration: `\{"HTTPS": 443\}`: expected a JSON list/],
    ['a port as a string', '[{"HTTPS": "443"}]', /^ingress: default\/shop: failed to parse listen-ports configuration/],
    ['an empty list', '[]', /^ingress: default\/shop: empty listen-ports configuration: `\[\]`$/],
    ['port 0', '[{"HTTP": 0}]', /^ingress: default\/shop: listen port must be within \[1, 65535\]: 0$/],
    ['port 65536', '[{"HTTPS": 65536}]', /^ingress: default\/shop: listen port must be within \[1, 65535\]: 65536$/],
    ['protocol TCP', '[{"TCP": 80}]', /^ingress: default\/shop: listen protocol must be within \[HTTP, HTTPS\]: TCP$/],
  ])('rejects listen-ports that are %s, as the controller does', (_name, value, message) => {
    expect(rejection(ing('shop', { [`${ING}listen-ports`]: value }))).toMatch(message);
  });

  it('rejects the group when one port is HTTP in one Ingress and HTTPS in another', () => {
    const a = ing('a', group({ [`${ING}listen-ports`]: '[{"HTTP": 8443}]' }));
    const b = ing('b', group({ [`${ING}listen-ports`]: '[{"HTTPS": 8443}]', [`${ING}certificate-arn`]: ARN_A }));
    const r = translateIngresses(a, b);
    expect(r.stacks).toEqual([]);
    expect(r.rejected.map((x) => [x.ref.name, x.reason])).toEqual([
      ['a', 'failed to merge listenPort config for port: 8443: conflicting protocol, default/a: HTTP | default/b: HTTPS'],
      ['b', 'failed to merge listenPort config for port: 8443: conflicting protocol, default/a: HTTP | default/b: HTTPS'],
    ]);
  });

  it('gives each listener only the rules of the Ingresses that listen on its port', () => {
    const a = ing('a', group({ [`${ING}listen-ports`]: '[{"HTTP": 80}]' }), { path: '/a', service: 'api' });
    const b = ing('b', group({ [`${ING}listen-ports`]: '[{"HTTP": 80}, {"HTTPS": 443}]', [`${ING}certificate-arn`]: ARN_A }), { path: '/b' });
    const listeners = listenersOf(stackOf(a, b));
    expect(listeners.map((l) => [l.port, l.rules!.map((r) => r.conditions.at(-1)!.values![0])])).toEqual([
      [80, ['/a', '/b']],
      [443, ['/b']],
    ]);
  });
});

describe('certificate-arn merged across an IngressGroup (spec 12.7.1)', () => {
  it('takes the default from the first member with certificates and adds the others once, a repeat of the default included', () => {
    const a = ing('a', group({ [`${ING}group.order`]: '1', [`${ING}certificate-arn`]: `${ARN_A},${ARN_B}` }));
    const b = ing('b', group({ [`${ING}group.order`]: '2', [`${ING}certificate-arn`]: `${ARN_B},${ARN_C},${ARN_A}` }));
    const [listener] = listenersOf(stackOf(b, a));
    expect(listener!.certificates!.map((c) => c.certificateArn)).toEqual([ARN_A, ARN_B, ARN_C, ARN_A]);
  });

  it('skips a first member without certificates and without hosts (discovery finds none for it)', () => {
    const a = ing('a', group({ [`${ING}group.order`]: '1', [`${ING}listen-ports`]: '[{"HTTPS": 443}]' }));
    const b = ing('b', group({ [`${ING}group.order`]: '2', [`${ING}certificate-arn`]: ARN_B }));
    const [listener] = listenersOf(stackOf(a, b));
    expect(listener!.certificates).toEqual([{ certificateArn: ARN_B }]);
  });

  it('puts the locally issued certificate first when the first member has hosts but no certificate-arn', () => {
    const a = ing('a', group({ [`${ING}group.order`]: '1', [`${ING}listen-ports`]: '[{"HTTPS": 443}]' }), { host: 'a.example.com' });
    const b = ing('b', group({ [`${ING}group.order`]: '2', [`${ING}certificate-arn`]: ARN_B }));
    const stack = stackOf(a, b);
    expect(listenersOf(stack)[0]!.certificates).toEqual([{ certificateArn: localCertificateArn(lbNameOf(stack)) }, { certificateArn: ARN_B }]);
  });
});

describe('HTTPS without certificate-arn: the local CA stands in for ACM discovery (spec 12.7.1)', () => {
  it('issues one certificate for rules[].host and tls[].hosts, and says so', () => {
    const stack = stackOf(ing('shop', { [`${ING}listen-ports`]: '[{"HTTPS": 8443}]' }, { host: 'shop.example.com', tls: [['shop.example.com', 'www.example.com']] }));
    const [listener] = listenersOf(stack);
    expect(listener).toMatchObject({ port: 8443, protocol: 'HTTPS', sslPolicy: 'ELBSecurityPolicy-2016-08', certificates: [{ certificateArn: localCertificateArn(lbNameOf(stack)) }] });
    expect(stack.certificateHosts).toEqual(['shop.example.com', 'www.example.com']);
    expect(stack.notices).toEqual([
      "default/shop: HTTPS port 8443 without certificate-arn: on EKS the controller attaches the ACM certificates that match the Ingress hosts; local-elb's CA issues one for shop.example.com, www.example.com instead (trust it: local-elb ca path)",
    ]);
  });

  it('leaves the certificates out when the Ingress has no hosts: the listener gets one for localhost and its address', () => {
    const stack = stackOf(ing('shop', { [`${ING}listen-ports`]: '[{"HTTPS": 8443}]' }));
    expect(listenersOf(stack)[0]!.certificates).toBeUndefined();
    expect(stack.notices[0]).toContain('issues one for localhost and the load balancer address (the Ingress has no hosts)');
  });

  it('discovers nothing when listen-ports is not given (HTTP:80), so no notice', () => {
    const stack = stackOf(ing('shop', {}, { host: 'shop.example.com' }));
    expect(stack.notices).toEqual([]);
    expect(listenersOf(stack).map((l) => l.protocol)).toEqual(['HTTP']);
  });
});

describe('ssl-policy (spec 12.7.1)', () => {
  it.each([
    ['no ssl-policy: the controller default', {}, 'ELBSecurityPolicy-2016-08'],
    ['an explicit policy', { [`${ING}ssl-policy`]: 'ELBSecurityPolicy-TLS13-1-2-2021-06' }, 'ELBSecurityPolicy-TLS13-1-2-2021-06'],
  ])('%s', (_name, annotations, policy) => {
    const [listener] = listenersOf(stackOf(ing('shop', { [`${ING}certificate-arn`]: ARN_A, ...annotations })));
    expect(listener!.sslPolicy).toBe(policy);
  });

  it('sets no policy on HTTP listeners', () => {
    const listeners = listenersOf(stackOf(ing('shop', { [`${ING}listen-ports`]: '[{"HTTP": 80}, {"HTTPS": 443}]', [`${ING}certificate-arn`]: ARN_A, [`${ING}ssl-policy`]: 'ELBSecurityPolicy-TLS13-1-2-2021-06' })));
    expect(listeners.map((l) => [l.protocol, l.sslPolicy])).toEqual([
      ['HTTP', undefined],
      ['HTTPS', 'ELBSecurityPolicy-TLS13-1-2-2021-06'],
    ]);
  });

  it('rejects two policies for one port across the group', () => {
    const a = ing('a', group({ [`${ING}certificate-arn`]: ARN_A, [`${ING}ssl-policy`]: 'ELBSecurityPolicy-TLS13-1-2-2021-06' }));
    const b = ing('b', group({ [`${ING}certificate-arn`]: ARN_B, [`${ING}ssl-policy`]: 'ELBSecurityPolicy-2016-08' }));
    expect(rejection(a, b)).toBe('failed to merge listenPort config for port: 443: conflicting sslPolicy, default/a: ELBSecurityPolicy-TLS13-1-2-2021-06 | default/b: ELBSecurityPolicy-2016-08');
  });

  it('takes one member’s policy when the other names none, and allows different policies on different ports', () => {
    const a = ing('a', group({ [`${ING}certificate-arn`]: ARN_A }));
    const b = ing('b', group({ [`${ING}listen-ports`]: '[{"HTTPS": 443}, {"HTTPS": 8443}]', [`${ING}certificate-arn`]: ARN_B, [`${ING}ssl-policy`]: 'ELBSecurityPolicy-TLS13-1-2-2021-06' }));
    const c = ing('c', group({ [`${ING}listen-ports`]: '[{"HTTPS": 9443}]', [`${ING}certificate-arn`]: ARN_C, [`${ING}ssl-policy`]: 'ELBSecurityPolicy-FS-1-2-2019-08' }));
    expect(listenersOf(stackOf(a, b, c)).map((l) => [l.port, l.sslPolicy])).toEqual([
      [443, 'ELBSecurityPolicy-TLS13-1-2-2021-06'],
      [8443, 'ELBSecurityPolicy-TLS13-1-2-2021-06'],
      [9443, 'ELBSecurityPolicy-FS-1-2-2019-08'],
    ]);
  });

  it.each([
    ['an unknown name', 'ELBSecurityPolicy-Nope', /^listener HTTPS:443: annotation alb\.ingress\.kubernetes\.io\/ssl-policy must be one of the \d+ security policies for application load balancers: got "ELBSecurityPolicy-Nope"; allowed: .* \(SSLPolicyNotFound\)$/],
    ['an NLB-only policy', 'ELBSecurityPolicy-2015-05', /got "ELBSecurityPolicy-2015-05" \(a network-only policy\).*\(SSLPolicyNotFound\)$/],
  ])('rejects %s as AWS would (SSLPolicyNotFound)', (_name, policy, message) => {
    expect(rejection(ing('shop', { [`${ING}certificate-arn`]: ARN_A, [`${ING}ssl-policy`]: policy }))).toMatch(message);
  });
});

describe('ssl-redirect (spec 12.7.1)', () => {
  const annotations = { [`${ING}listen-ports`]: '[{"HTTP": 80}, {"HTTP": 8080}, {"HTTPS": 443}]', [`${ING}certificate-arn`]: ARN_A, [`${ING}ssl-redirect`]: '443' };

  it('gives every HTTP listener only a default redirect to HTTPS:<port> 301 and no rules; the HTTPS listener keeps the rules', () => {
    const stack = stackOf(ing('shop', annotations, { host: 'shop.example.com', path: '/app' }));
    const listeners = listenersOf(stack);
    const redirect = { type: 'redirect', redirectConfig: { protocol: 'HTTPS', port: '443', statusCode: 'HTTP_301' } };
    expect(listeners[0]).toEqual({ port: 80, protocol: 'HTTP', defaultActions: [redirect], rules: [] });
    expect(listeners[1]).toMatchObject({ port: 443, protocol: 'HTTPS', defaultActions: [{ type: 'fixed-response' }] });
    expect(listeners[1]!.rules!.map((r) => r.conditions.map((c) => c.values))).toEqual([[['shop.example.com'], ['/app', '/app/*']]]);
    expect(listeners[2]).toEqual({ port: 8080, protocol: 'HTTP', defaultActions: [redirect], rules: [] });
    expect(stack.config.targetGroups).toHaveLength(1);
  });

  it('applies to the whole group when one member sets it', () => {
    const a = ing('a', group({ [`${ING}listen-ports`]: '[{"HTTP": 80}]' }), { path: '/a' });
    const b = ing('b', group({ [`${ING}listen-ports`]: '[{"HTTP": 80}, {"HTTPS": 443}]', [`${ING}certificate-arn`]: ARN_A, [`${ING}ssl-redirect`]: '443' }), { path: '/b', service: 'api' });
    const stack = stackOf(a, b);
    expect(listenersOf(stack)[0]).toMatchObject({ port: 80, rules: [], defaultActions: [{ type: 'redirect' }] });
    // web's target group was only named by a's rules on the redirected listener: not made.
    expect(stack.config.targetGroups!.map((t) => t.name)).toEqual([expect.stringMatching(/^k8s-default-api-/)]);
    expect(Object.keys(stack.targets)).toEqual(stack.config.targetGroups!.map((t) => t.name));
  });

  it.each<[string, ReturnType<typeof ingress>[], string]>([
    ['a port that is not a listen port', [ing('shop', { ...annotations, [`${ING}ssl-redirect`]: '8443' })], 'listener does not exist for SSLRedirect port: 8443'],
    ['an HTTP listen port', [ing('shop', { ...annotations, [`${ING}ssl-redirect`]: '8080' })], 'listener protocol non-SSL for SSLRedirect port: 8080'],
    ['not a number', [ing('shop', { ...annotations, [`${ING}ssl-redirect`]: 'https' })], 'ingress: default/shop: failed to parse int32 annotation, alb.ingress.kubernetes.io/ssl-redirect: https'],
    [
      'two ports across the group',
      [ing('a', group({ ...annotations, [`${ING}ssl-redirect`]: '443' })), ing('b', group({ [`${ING}listen-ports`]: '[{"HTTPS": 8443}]', [`${ING}certificate-arn`]: ARN_A, [`${ING}ssl-redirect`]: '8443' }))],
      'conflicting sslRedirect port: [443 8443]',
    ],
  ])('rejects %s', (_name, ingresses, message) => {
    expect(rejection(...ingresses)).toBe(message);
  });
});

describe('backend-protocol and healthcheck-protocol (spec 12.7.1)', () => {
  it.each([
    ['no annotations: HTTP target group, HTTP checks', {}, 'HTTP', 'HTTP'],
    ['backend-protocol HTTPS: HTTPS target group, HTTPS checks (the target group protocol is the default)', { [`${ING}backend-protocol`]: 'HTTPS' }, 'HTTPS', 'HTTPS'],
    ['backend-protocol HTTPS with healthcheck-protocol HTTP', { [`${ING}backend-protocol`]: 'HTTPS', [`${ING}healthcheck-protocol`]: 'HTTP' }, 'HTTPS', 'HTTP'],
    ['healthcheck-protocol HTTPS behind an HTTP target group', { [`${ING}healthcheck-protocol`]: 'HTTPS' }, 'HTTP', 'HTTPS'],
  ])('%s', (_name, annotations, protocol, healthCheckProtocol) => {
    const [tg] = stackOf(ing('shop', annotations)).config.targetGroups!;
    expect(tg).toMatchObject({ protocol, healthCheckProtocol, healthCheckPath: '/', matcher: { httpCode: '200' } });
  });

  it('names HTTP and HTTPS target groups of one Service port apart', () => {
    const http = stackOf(ing('shop', {})).config.targetGroups![0]!.name;
    const https = stackOf(ing('shop', { [`${ING}backend-protocol`]: 'HTTPS' })).config.targetGroups![0]!.name;
    expect(https).not.toBe(http);
  });

  it("takes the Service's own alb.ingress.kubernetes.io/backend-protocol over the Ingress's", () => {
    const tlsWeb = lbService('web', { type: 'NodePort', loadBalancerClass: null, annotations: { [`${ING}backend-protocol`]: 'HTTPS' }, ports: [{ name: 'http', port: 80, nodePort: 30082 }] });
    const r = translate(snapshot({ services: [tlsWeb], ingresses: [ing('shop', { [`${ING}backend-protocol`]: 'HTTP' })], ingressClasses: [albClass], nodes }));
    expect(r.stacks[0]!.config.targetGroups![0]).toMatchObject({ protocol: 'HTTPS', healthCheckProtocol: 'HTTPS' });
  });

  it.each([
    ['backend-protocol GRPC', { [`${ING}backend-protocol`]: 'GRPC' }, 'ingress: default/shop: backend protocol must be within [HTTP, HTTPS]: GRPC'],
    ['healthcheck-protocol TCP', { [`${ING}healthcheck-protocol`]: 'TCP' }, 'ingress: default/shop: healthCheckProtocol must be within [HTTP, HTTPS]'],
  ])('rejects %s', (_name, annotations, message) => {
    expect(rejection(ing('shop', annotations))).toBe(message);
  });

  it('reports none of the TLS annotations as not emulated', () => {
    const stack = stackOf(ing('shop', { ...{ [`${ING}listen-ports`]: '[{"HTTP": 80}, {"HTTPS": 443}]' }, [`${ING}certificate-arn`]: ARN_A, [`${ING}ssl-policy`]: 'ELBSecurityPolicy-2016-08', [`${ING}ssl-redirect`]: '443', [`${ING}backend-protocol`]: 'HTTPS', [`${ING}healthcheck-protocol`]: 'HTTPS' }));
    expect(stack.problems).toEqual([]);
  });
});

describe('Service TLS annotations → NLB TLS listeners (spec 12.7.2)', () => {
  const ports = [
    { name: 'https', port: 443, targetPort: 8443, nodePort: 30443 },
    { name: 'admin', port: 9443, targetPort: 9443, nodePort: 30944 },
    { name: 'dns', port: 53, targetPort: 53, nodePort: 30053, protocol: 'UDP' as const },
  ];
  const service = (annotations: Record<string, string>) => lbService('svc', { annotations, ports });
  const translateService = (annotations: Record<string, string>) => translate(snapshot({ services: [service(annotations)], nodes }));
  const stackFor = (annotations: Record<string, string>) => {
    const r = translateService(annotations);
    expect(r.rejected).toEqual([]);
    const stack = r.stacks[0]!;
    expect(() => parseConfig(stack.config)).not.toThrow();
    return stack;
  };
  const shape = (stack: DesiredStack) =>
    listenersOf(stack).map((l) => {
      const tg = stack.config.targetGroups!.find((t) => t.name === (l.defaultActions![0] as { targetGroupName: string }).targetGroupName)!;
      return [l.port, l.protocol, tg.protocol];
    });

  it.each<[string, Record<string, string>, Array<[number, string, string]>]>([
    ['no ssl-cert: TCP and UDP', {}, [[443, 'TCP', 'TCP'], [9443, 'TCP', 'TCP'], [53, 'UDP', 'UDP']]],
    ['ssl-cert alone: every TCP port is TLS (to TCP targets), UDP never', { [`${SVC}aws-load-balancer-ssl-cert`]: ARN_A }, [[443, 'TLS', 'TCP'], [9443, 'TLS', 'TCP'], [53, 'UDP', 'UDP']]],
    ['ssl-ports by name', { [`${SVC}aws-load-balancer-ssl-cert`]: ARN_A, [`${SVC}aws-load-balancer-ssl-ports`]: 'https' }, [[443, 'TLS', 'TCP'], [9443, 'TCP', 'TCP'], [53, 'UDP', 'UDP']]],
    ['ssl-ports by number', { [`${SVC}aws-load-balancer-ssl-cert`]: ARN_A, [`${SVC}aws-load-balancer-ssl-ports`]: '9443' }, [[443, 'TCP', 'TCP'], [9443, 'TLS', 'TCP'], [53, 'UDP', 'UDP']]],
    ['ssl-ports naming the UDP port: still UDP', { [`${SVC}aws-load-balancer-ssl-cert`]: ARN_A, [`${SVC}aws-load-balancer-ssl-ports`]: 'dns, https' }, [[443, 'TLS', 'TCP'], [9443, 'TCP', 'TCP'], [53, 'UDP', 'UDP']]],
    ['ssl-ports without ssl-cert: no TLS', { [`${SVC}aws-load-balancer-ssl-ports`]: 'https' }, [[443, 'TCP', 'TCP'], [9443, 'TCP', 'TCP'], [53, 'UDP', 'UDP']]],
    ['backend-protocol ssl: TLS target groups behind the TLS listeners', { [`${SVC}aws-load-balancer-ssl-cert`]: ARN_A, [`${SVC}aws-load-balancer-ssl-ports`]: 'https', [`${SVC}aws-load-balancer-backend-protocol`]: 'ssl' }, [[443, 'TLS', 'TLS'], [9443, 'TCP', 'TCP'], [53, 'UDP', 'UDP']]],
    ['backend-protocol ssl without ssl-cert: TCP', { [`${SVC}aws-load-balancer-backend-protocol`]: 'ssl' }, [[443, 'TCP', 'TCP'], [9443, 'TCP', 'TCP'], [53, 'UDP', 'UDP']]],
    ['backend-protocol tcp: TCP target groups', { [`${SVC}aws-load-balancer-ssl-cert`]: ARN_A, [`${SVC}aws-load-balancer-backend-protocol`]: 'tcp' }, [[443, 'TLS', 'TCP'], [9443, 'TLS', 'TCP'], [53, 'UDP', 'UDP']]],
  ])('%s', (_name, annotations, expected) => {
    expect(shape(stackFor(annotations))).toEqual(expected);
  });

  it('puts the ssl-cert list on each TLS listener (first the default) with the default policy ELBSecurityPolicy-2016-08', () => {
    const [listener] = listenersOf(stackFor({ [`${SVC}aws-load-balancer-ssl-cert`]: `${ARN_A}, ${ARN_B}`, [`${SVC}aws-load-balancer-ssl-ports`]: '443' }));
    expect(listener).toMatchObject({ port: 443, protocol: 'TLS', sslPolicy: 'ELBSecurityPolicy-2016-08', certificates: [{ certificateArn: ARN_A }, { certificateArn: ARN_B }] });
    expect(listener!.alpnPolicy).toBeUndefined();
  });

  it.each([
    ['ssl-negotiation-policy', 'ELBSecurityPolicy-TLS13-1-2-2021-06'],
    ['ssl-negotiation-policy ELBSecurityPolicy-2015-05 (offered on NLB only)', 'ELBSecurityPolicy-2015-05'],
  ])('takes %s on TLS listeners only', (_name, policy) => {
    const stack = stackFor({ [`${SVC}aws-load-balancer-ssl-cert`]: ARN_A, [`${SVC}aws-load-balancer-ssl-ports`]: 'https', [`${SVC}aws-load-balancer-ssl-negotiation-policy`]: policy });
    expect(listenersOf(stack).map((l) => [l.protocol, l.sslPolicy])).toEqual([
      ['TLS', policy],
      ['TCP', undefined],
      ['UDP', undefined],
    ]);
  });

  it('applies the alpn-policy to TLS listeners only', () => {
    const stack = stackFor({ [`${SVC}aws-load-balancer-ssl-cert`]: ARN_A, [`${SVC}aws-load-balancer-ssl-ports`]: 'https', [`${SVC}aws-load-balancer-alpn-policy`]: 'HTTP2Preferred' });
    expect(listenersOf(stack).map((l) => [l.protocol, l.alpnPolicy])).toEqual([
      ['TLS', 'HTTP2Preferred'],
      ['TCP', undefined],
      ['UDP', undefined],
    ]);
  });

  it('keeps the controller TCP health-check defaults for TLS target groups', () => {
    const stack = stackFor({ [`${SVC}aws-load-balancer-ssl-cert`]: ARN_A, [`${SVC}aws-load-balancer-backend-protocol`]: 'ssl' });
    expect(stack.config.targetGroups![0]).toMatchObject({
      protocol: 'TLS',
      healthCheckProtocol: 'TCP',
      healthCheckPort: 'traffic-port',
      healthCheckIntervalSeconds: 10,
      healthCheckTimeoutSeconds: 10,
      healthyThresholdCount: 3,
      unhealthyThresholdCount: 3,
    });
    expect(stack.config.targetGroups![0]!.healthCheckPath).toBeUndefined();
  });

  it('reads listener attributes by the listener protocol: TLS-<port>, not TCP-<port>, for a TLS listener', () => {
    const r = translateService({ [`${SVC}aws-load-balancer-ssl-cert`]: ARN_A, [`${SVC}aws-load-balancer-listener-attributes.TLS-443`]: 'x=1', [`${SVC}aws-load-balancer-listener-attributes.TCP-443`]: 'tcp.idle_timeout.seconds=60' });
    expect(listenersOf(r.stacks[0]!)[0]!.attributes).toEqual({ x: '1' });
    // TLS listeners have no attributes of their own: their idle timeout is 350 s, fixed (spec 12.6.5).
    expect(() => parseConfig(r.stacks[0]!.config)).toThrow(/listeners\[0\]\.attributes: a TLS listener takes no attributes/);
  });

  it('checks targets over HTTPS with healthcheck-protocol HTTPS (path and success codes as for HTTP)', () => {
    const stack = stackFor({ [`${SVC}aws-load-balancer-healthcheck-protocol`]: 'HTTPS', [`${SVC}aws-load-balancer-healthcheck-path`]: '/ready' });
    expect(stack.config.targetGroups![0]).toMatchObject({ healthCheckProtocol: 'HTTPS', healthCheckPath: '/ready', matcher: { httpCode: '200-399' } });
    expect(stack.problems).toEqual([]);
  });

  it.each([
    ['ssl-ports naming no port', { [`${SVC}aws-load-balancer-ssl-cert`]: ARN_A, [`${SVC}aws-load-balancer-ssl-ports`]: 'https, 8443, nope' }, 'Unused port in ssl-ports annotation [8443 nope]'],
    ['ssl-ports "*" (matches nothing)', { [`${SVC}aws-load-balancer-ssl-cert`]: ARN_A, [`${SVC}aws-load-balancer-ssl-ports`]: '*' }, 'Unused port in ssl-ports annotation [*]'],
    ['ssl-ports naming no port, even without ssl-cert', { [`${SVC}aws-load-balancer-ssl-ports`]: '8443' }, 'Unused port in ssl-ports annotation [8443]'],
    [
      'an alpn-policy that is not one',
      { [`${SVC}aws-load-balancer-ssl-cert`]: ARN_A, [`${SVC}aws-load-balancer-alpn-policy`]: 'h2' },
      'invalid ALPN policy h2, policy must be one of [None, HTTP1Only, HTTP2Only, HTTP2Optional, HTTP2Preferred]',
    ],
  ])('rejects %s', (_name, annotations, message) => {
    const r = translateService(annotations);
    expect(r.stacks).toEqual([]);
    expect(r.rejected).toEqual([{ ref: { kind: 'Service', namespace: 'default', name: 'svc' }, reason: message }]);
  });

  it('rejects an unknown ssl-negotiation-policy (SSLPolicyNotFound)', () => {
    const r = translateService({ [`${SVC}aws-load-balancer-ssl-cert`]: ARN_A, [`${SVC}aws-load-balancer-ssl-negotiation-policy`]: 'ELBSecurityPolicy-Nope' });
    expect(r.rejected[0]!.reason).toMatch(/^annotation service\.beta\.kubernetes\.io\/aws-load-balancer-ssl-negotiation-policy must be one of the \d+ security policies for network load balancers: got "ELBSecurityPolicy-Nope"; .*\(SSLPolicyNotFound\)$/);
  });

  it('ignores alpn-policy and ssl-negotiation-policy when no port is TLS (the controller reads them for TLS listeners only)', () => {
    const stack = stackFor({ [`${SVC}aws-load-balancer-alpn-policy`]: 'h2', [`${SVC}aws-load-balancer-ssl-negotiation-policy`]: 'nope' });
    expect(shape(stack)).toEqual([[443, 'TCP', 'TCP'], [9443, 'TCP', 'TCP'], [53, 'UDP', 'UDP']]);
  });

  it('reports none of the TLS annotations as not emulated', () => {
    const stack = stackFor({
      [`${SVC}aws-load-balancer-ssl-cert`]: ARN_A,
      [`${SVC}aws-load-balancer-ssl-ports`]: 'https',
      [`${SVC}aws-load-balancer-ssl-negotiation-policy`]: 'ELBSecurityPolicy-2016-08',
      [`${SVC}aws-load-balancer-backend-protocol`]: 'ssl',
      [`${SVC}aws-load-balancer-alpn-policy`]: 'None',
    });
    expect(stack.problems).toEqual([]);
  });
});
