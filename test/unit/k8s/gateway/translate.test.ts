import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../../src/config/schema.ts';
import type { GatewayApiSnapshot } from '../../../../src/k8s/gateway/model.ts';
import { gatewayLoadBalancerName, translateGateways, type GatewayTranslation } from '../../../../src/k8s/gateway/translate.ts';
import type { DesiredStack } from '../../../../src/k8s/translate.ts';
import { endpointSlice, lbService, namespace, node, snapshot } from '../../../support/k8s-fixtures.ts';
import {
  backend,
  gateway,
  gatewayApi,
  gatewayClass,
  grpcRoute,
  httpRoute,
  l4Route,
  listener,
  loadBalancerConfiguration,
  referenceGrant,
  targetGroupConfiguration,
} from '../../../support/gateway-fixtures.ts';

const nodes = [node('worker', '172.18.0.3')];
const albClass = gatewayClass('alb', 'gateway.k8s.aws/alb');
const nlbClass = gatewayClass('nlb', 'gateway.k8s.aws/nlb');
const ipTargets = targetGroupConfiguration('ip', { defaultConfiguration: { targetType: 'ip' } });

function services(...names: string[]) {
  return names.map((n, i) => lbService(n, { type: 'NodePort', loadBalancerClass: null, ports: [{ name: 'http', port: 80, targetPort: 8080, nodePort: 30080 + i }] }));
}

function run(parts: Partial<GatewayApiSnapshot>, cluster: Parameters<typeof snapshot>[0] = {}): GatewayTranslation {
  return translateGateways(snapshot({ nodes, services: services('blue', 'green'), ...cluster }), gatewayApi({ gatewayClasses: [albClass, nlbClass], ...parts }));
}

function only(t: GatewayTranslation): DesiredStack {
  expect(t.stacks).toHaveLength(1);
  return t.stacks[0]!;
}

const routeStatuses = (t: GatewayTranslation) => t.routes.map((r) => [r.route.key, r.parentRef.sectionName ?? r.parentRef.name, r.accepted, r.resolvedRefs, r.reason, r.message]);

describe('translateGateways: an ALB Gateway with HTTPRoutes (spec 15.1.5–15.1.9)', () => {
  const web = gateway('web', 'alb', [listener('http', 'HTTP', 8080)]);

  it('makes an ALB with one HTTP listener, default fixed-response 404, and a weighted forward 80/20', () => {
    const route = httpRoute('split', [{ name: 'web' }], [{ backendRefs: [backend('blue', 80, { weight: 80 }), backend('green', 80, { weight: 20 })] }]);
    const stack = only(run({ gateways: [web], httpRoutes: [route] }));
    expect(stack).toMatchObject({ key: 'gateway/default/web', type: 'application', owners: [{ kind: 'Gateway', namespace: 'default', name: 'web' }] });
    const lb = stack.config.loadBalancers![0]!;
    expect(lb.name).toBe(gatewayLoadBalancerName('', web, 'internal'));
    expect(lb.name).toMatch(/^k8s-default-web-[0-9a-f]{10}$/);
    expect(lb.listeners).toHaveLength(1);
    const [blue, green] = stack.config.targetGroups!;
    expect(lb.listeners[0]).toMatchObject({
      port: 8080,
      protocol: 'HTTP',
      defaultActions: [{ type: 'fixed-response', fixedResponseConfig: { statusCode: '404', contentType: 'text/plain' } }],
      rules: [
        {
          priority: 1,
          conditions: [{ field: 'path-pattern', values: ['/*'] }],
          actions: [{ type: 'forward', forwardConfig: { targetGroups: [{ targetGroupName: blue!.name, weight: 80 }, { targetGroupName: green!.name, weight: 20 }] } }],
        },
      ],
    });
    expect(() => parseConfig(stack.config)).not.toThrow();
  });

  it('names target groups after the route, as the controller does (k8s-<routeNs>-<route>-<hash>), one per Service port', () => {
    const route = httpRoute('split', [{ name: 'web' }], [{ backendRefs: [backend('blue', 80)] }, { backendRefs: [backend('blue', 80)] }]);
    const stack = only(run({ gateways: [web], httpRoutes: [route] }));
    expect(stack.config.targetGroups!.map((t) => t.name)).toEqual([expect.stringMatching(/^k8s-default-split-[0-9a-f]{10}$/)]);
  });

  it('uses the Gateway target group defaults: instance targets, HTTP checks on traffic-port, 15 s / 5 s / 3 / 3, 200-399', () => {
    const stack = only(run({ gateways: [web], httpRoutes: [httpRoute('r', [{ name: 'web' }], [{ backendRefs: [backend('blue', 80)] }])] }, { services: [lbService('blue', { type: 'NodePort', loadBalancerClass: null, ports: [{ name: 'http', port: 80, targetPort: 8080, nodePort: 30080 }] })] }));
    const tg = stack.config.targetGroups![0]!;
    expect(tg).toMatchObject({
      protocol: 'HTTP',
      protocolVersion: 'HTTP1',
      targetType: 'instance',
      healthCheckProtocol: 'HTTP',
      healthCheckPort: 'traffic-port',
      healthCheckPath: '/',
      healthCheckIntervalSeconds: 15,
      healthCheckTimeoutSeconds: 5,
      healthyThresholdCount: 3,
      unhealthyThresholdCount: 3,
      matcher: { httpCode: '200-399' },
    });
    expect(stack.targets[tg.name]).toEqual([{ id: '172.18.0.3', port: 30080 }]);
  });

  it('reads a Service TargetGroupConfiguration: ip targets from EndpointSlices and its health check', () => {
    const tgc = targetGroupConfiguration('blue', {
      targetReference: { name: 'blue' },
      defaultConfiguration: { targetType: 'ip', healthCheckConfig: { healthCheckPath: '/ready', healthCheckInterval: 5, healthyThresholdCount: 2 }, targetGroupAttributes: [{ key: 'deregistration_delay.timeout_seconds', value: '5' }] },
    });
    const stack = only(
      run(
        { gateways: [web], httpRoutes: [httpRoute('r', [{ name: 'web' }], [{ backendRefs: [backend('blue', 80)] }])], targetGroupConfigurations: [tgc] },
        { endpointSlices: [endpointSlice('blue', [{ ip: '10.244.0.5', pod: 'blue-1' }], { port: 8080 })] },
      ),
    );
    const tg = stack.config.targetGroups![0]!;
    expect(tg).toMatchObject({ targetType: 'ip', healthCheckPath: '/ready', healthCheckIntervalSeconds: 5, healthyThresholdCount: 2, unhealthyThresholdCount: 3, attributes: { 'deregistration_delay.timeout_seconds': '5' } });
    expect(stack.targets[tg.name]).toEqual([{ id: '10.244.0.5', port: 8080, pod: 'default/blue-1' }]);
  });

  it('merges a routeConfigurations entry over the TGC defaults, the best match winning (kind+namespace+name)', () => {
    const tgc = targetGroupConfiguration('blue', {
      targetReference: { name: 'blue' },
      defaultConfiguration: { targetType: 'ip', healthCheckConfig: { healthCheckPath: '/default' } },
      routeConfigurations: [
        { routeIdentifier: { kind: 'HTTPRoute' }, targetGroupProps: { healthCheckConfig: { healthCheckPath: '/kind' } } },
        { routeIdentifier: { kind: 'HTTPRoute', namespace: 'default', name: 'r' }, targetGroupProps: { healthCheckConfig: { healthCheckPath: '/exact' } } },
      ],
    });
    const stack = only(run({ gateways: [web], httpRoutes: [httpRoute('r', [{ name: 'web' }], [{ backendRefs: [backend('blue', 80)] }])], targetGroupConfigurations: [tgc] }));
    expect(stack.config.targetGroups![0]).toMatchObject({ targetType: 'ip', healthCheckPath: '/exact' });
  });

  it('takes a default TargetGroupConfiguration from the class LoadBalancerConfiguration', () => {
    const cls = gatewayClass('alb', 'gateway.k8s.aws/alb', { name: 'cfg', namespace: 'default' });
    const t = translateGateways(
      snapshot({ nodes, services: services('blue') }),
      gatewayApi({
        gatewayClasses: [cls],
        gateways: [web],
        httpRoutes: [httpRoute('r', [{ name: 'web' }], [{ backendRefs: [backend('blue', 80)] }])],
        loadBalancerConfigurations: [loadBalancerConfiguration('cfg', { defaultTargetGroupConfiguration: { name: 'ip' } })],
        targetGroupConfigurations: [ipTargets],
      }),
    );
    expect(only(t).config.targetGroups![0]!.targetType).toBe('ip');
    expect(t.classes).toEqual([{ name: 'alb', generation: 1, accepted: { status: 'True', reason: 'Accepted', message: 'Accepted' } }]);
  });

  it('builds listeners only for ports with an attached route (the load balancer itself always)', () => {
    const gw = gateway('web', 'alb', [listener('a', 'HTTP', 8080), listener('b', 'HTTP', 8081)]);
    const stack = only(run({ gateways: [gw], httpRoutes: [httpRoute('r', [{ name: 'web', sectionName: 'b' }], [{ backendRefs: [backend('blue', 80)] }])] }));
    expect(stack.config.loadBalancers![0]!.listeners.map((l) => l.port)).toEqual([8081]);
    const empty = only(run({ gateways: [gw] }));
    expect(empty.config.loadBalancers![0]!.listeners).toEqual([]);
  });

  it('puts HTTPS listener certificates from the LoadBalancerConfiguration, else the local CA for the hostnames, else fails as the controller does', () => {
    const https = gateway('web', 'alb', [listener('https', 'HTTPS', 8443)], { parametersRef: 'tls' });
    const route = httpRoute('r', [{ name: 'web' }], [{ backendRefs: [backend('blue', 80)] }], { hostnames: ['shop.example.com'] });
    const explicit = loadBalancerConfiguration('tls', { listenerConfigurations: [{ protocolPort: 'https:8443', defaultCertificate: 'arn:aws:acm:eu-west-1:1:certificate/a', certificates: ['arn:aws:acm:eu-west-1:1:certificate/b'], sslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06' }] });
    const withCerts = only(run({ gateways: [https], httpRoutes: [route], loadBalancerConfigurations: [explicit] }));
    expect(withCerts.config.loadBalancers![0]!.listeners[0]).toMatchObject({
      protocol: 'HTTPS',
      sslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06',
      certificates: [{ certificateArn: 'arn:aws:acm:eu-west-1:1:certificate/a' }, { certificateArn: 'arn:aws:acm:eu-west-1:1:certificate/b' }],
    });

    const discovered = only(run({ gateways: [https], httpRoutes: [route], loadBalancerConfigurations: [loadBalancerConfiguration('tls', {})] }));
    expect(discovered.config.loadBalancers![0]!.listeners[0]).toMatchObject({ sslPolicy: 'ELBSecurityPolicy-2016-08', certificates: [{ certificateArn: expect.stringMatching(/^arn:aws:acm:local:/) as unknown as string }] });
    expect(discovered.certificateHosts).toEqual(['shop.example.com']);
    expect(discovered.notices[0]).toMatch(/discovers the ACM certificates for shop\.example\.com/);

    const none = run({ gateways: [https], httpRoutes: [httpRoute('r', [{ name: 'web' }], [{ backendRefs: [backend('blue', 80)] }])], loadBalancerConfigurations: [loadBalancerConfiguration('tls', {})] });
    expect(none.stacks).toEqual([]);
    expect(none.events).toEqual([{ ref: { kind: 'Gateway', namespace: 'default', name: 'web' }, type: 'Warning', reason: 'FailedBuildModel', message: 'Failed build model due to No hostnames found for TLS cert discovery for listener on gateway default/web with protocol:port HTTPS:8443' }]);
    expect(none.gateways[0]!.accepted).toEqual({ status: 'False', reason: 'Invalid', message: 'Check Gateway Events for more information.' });
  });

  it("takes an HTTPS listener's mutualAuthentication from the LoadBalancerConfiguration as the controller builds it (verify: ignoreClientCertificateExpiry false unless set)", () => {
    const https = gateway('web', 'alb', [listener('https', 'HTTPS', 8443)], { parametersRef: 'mtls' });
    const route = httpRoute('r', [{ name: 'web' }], [{ backendRefs: [backend('blue', 80)] }], { hostnames: ['shop.example.com'] });
    const cfg = (mutualAuthentication: Record<string, unknown>) =>
      loadBalancerConfiguration('mtls', { listenerConfigurations: [{ protocolPort: 'HTTPS:8443', defaultCertificate: 'arn:aws:acm:eu-west-1:1:certificate/a', mutualAuthentication }] });
    const verify = only(run({ gateways: [https], httpRoutes: [route], loadBalancerConfigurations: [cfg({ mode: 'verify', trustStore: 'clients', advertiseTrustStoreCaNames: 'on' })] }));
    expect(verify.config.loadBalancers![0]!.listeners[0]!.mutualAuthentication).toEqual({ mode: 'verify', trustStore: 'clients', ignoreClientCertificateExpiry: false, advertiseTrustStoreCaNames: 'on' });
    expect(verify.problems).toEqual([]);
    const trustStores = [{ name: 'clients', caCertificatesBundleFile: '/ca.pem' }];
    expect(parseConfig({ ...verify.config, trustStores }).loadBalancers[0]!.listeners[0]!.mutualAuthentication?.mode).toBe('verify');
    const passthrough = only(run({ gateways: [https], httpRoutes: [route], loadBalancerConfigurations: [cfg({ mode: 'passthrough' })] }));
    expect(passthrough.config.loadBalancers![0]!.listeners[0]!.mutualAuthentication).toEqual({ mode: 'passthrough' });
  });

  it('gives a GRPCRoute on an HTTPS listener a GRPC target group with the gRPC health-check defaults', () => {
    const https = gateway('web', 'alb', [listener('https', 'HTTPS', 8443, { hostname: 'grpc.example.com' })]);
    const stack = only(run({ gateways: [https], grpcRoutes: [grpcRoute('g', [{ name: 'web' }], [{ matches: [{ method: { service: 'shop.Cart' } }], backendRefs: [backend('blue', 80)] }])] }));
    expect(stack.config.targetGroups![0]).toMatchObject({ protocol: 'HTTP', protocolVersion: 'GRPC', healthCheckPath: '/AWS.ALB/healthcheck', matcher: { grpcCode: '12' } });
    expect(stack.config.loadBalancers![0]!.listeners[0]!.rules![0]!.conditions).toEqual([
      { field: 'host-header', values: ['grpc.example.com'] },
      { field: 'path-pattern', values: ['/shop.Cart/*'] },
    ]);
  });

  it('reads load balancer and listener attributes from the LoadBalancerConfiguration (header modification lives there)', () => {
    const gw = gateway('web', 'alb', [listener('http', 'HTTP', 8080)], { parametersRef: 'cfg' });
    const cfg = loadBalancerConfiguration('cfg', {
      loadBalancerAttributes: [{ key: 'idle_timeout.timeout_seconds', value: '120' }],
      listenerConfigurations: [{ protocolPort: 'HTTP:8080', listenerAttributes: [{ key: 'routing.http.response.server.enabled', value: 'false' }] }],
    });
    const stack = only(run({ gateways: [gw], httpRoutes: [httpRoute('r', [{ name: 'web' }], [{ backendRefs: [backend('blue', 80)] }])], loadBalancerConfigurations: [cfg] }));
    expect(stack.config.loadBalancers![0]!.attributes).toEqual({ 'idle_timeout.timeout_seconds': '120' });
    expect(stack.config.loadBalancers![0]!.listeners[0]!.attributes).toEqual({ 'routing.http.response.server.enabled': 'false' });
  });

  it('merges the class and Gateway LoadBalancerConfigurations: the class wins by default, the Gateway with prefer-gateway; attributes per key', () => {
    const classCfg = (mergingMode?: string) =>
      loadBalancerConfiguration('class', { ...(mergingMode ? { mergingMode } : {}), loadBalancerName: 'from-class', loadBalancerAttributes: [{ key: 'a', value: 'class' }, { key: 'b', value: 'class' }] });
    const gwCfg = loadBalancerConfiguration('gw', { loadBalancerName: 'from-gateway', loadBalancerAttributes: [{ key: 'b', value: 'gateway' }, { key: 'c', value: 'gateway' }] });
    const gw = gateway('web', 'alb', [listener('http', 'HTTP', 8080)], { parametersRef: 'gw' });
    for (const [mode, name, attributes] of [
      [undefined, 'from-class', { a: 'class', b: 'class', c: 'gateway' }],
      ['prefer-gateway', 'from-gateway', { a: 'class', b: 'gateway', c: 'gateway' }],
    ] as const) {
      const t = translateGateways(snapshot({ nodes }), gatewayApi({ gatewayClasses: [gatewayClass('alb', 'gateway.k8s.aws/alb', { name: 'class', namespace: 'default' })], gateways: [gw], loadBalancerConfigurations: [classCfg(mode), gwCfg] }));
      expect(only(t).config.loadBalancers![0]).toMatchObject({ name, attributes });
    }
  });
});

describe('translateGateways: route and Gateway statuses (spec 15.1.10)', () => {
  const web = gateway('web', 'alb', [listener('http', 'HTTP', 8080, { allowedRoutes: { namespaces: { from: 'All' } } })]);

  it.each<[string, Partial<GatewayApiSnapshot>, unknown[]]>([
    ['Accepted and ResolvedRefs True for a route whose backends resolve', { httpRoutes: [httpRoute('r', [{ name: 'web' }], [{ backendRefs: [backend('blue', 80)] }])] }, [['default/r', 'web', true, true, 'Accepted', '']]],
    [
      'ResolvedRefs False BackendNotFound for a missing Service (the stray ")" is the controller\'s)',
      { httpRoutes: [httpRoute('r', [{ name: 'web' }], [{ backendRefs: [backend('nope', 80)] }])] },
      [['default/r', 'web', true, false, 'BackendNotFound', 'Service (default:nope) not found)']],
    ],
    ['ResolvedRefs False BackendNotFound for a missing Service port', { httpRoutes: [httpRoute('r', [{ name: 'web' }], [{ backendRefs: [backend('blue', 81)] }])] }, [['default/r', 'web', true, false, 'BackendNotFound', 'Unable to find service port for port 81']]],
    ['Accepted False UnsupportedValue for a backendRef without a port', { httpRoutes: [httpRoute('r', [{ name: 'web' }], [{ backendRefs: [backend('blue', undefined)] }])] }, [['default/r', 'web', false, true, 'UnsupportedValue', 'Port is required']]],
    ['ResolvedRefs False InvalidKind for an unknown backend kind', { httpRoutes: [httpRoute('r', [{ name: 'web' }], [{ backendRefs: [backend('bucket', 80, { kind: 'S3Bucket' })] }])] }, [['default/r', 'web', true, false, 'InvalidKind', 'Unknown backend reference kind']]],
    [
      'ResolvedRefs False RefNotPermitted for a Service in another namespace without a ReferenceGrant',
      { httpRoutes: [httpRoute('r', [{ name: 'web' }], [{ backendRefs: [backend('pay', 80, { namespace: 'payments' })] }])] },
      [['default/r', 'web', true, false, 'RefNotPermitted', 'No explicit ReferenceGrant exists to allow the reference.']],
    ],
    [
      'Accepted and ResolvedRefs True when a ReferenceGrant in the Service namespace allows HTTPRoutes of the route namespace',
      { httpRoutes: [httpRoute('r', [{ name: 'web' }], [{ backendRefs: [backend('pay', 80, { namespace: 'payments' })] }])], referenceGrants: [referenceGrant('allow', 'payments', { kind: 'HTTPRoute', namespace: 'default' }, { name: 'pay' })] },
      [['default/r', 'web', true, true, 'Accepted', '']],
    ],
    [
      'RefNotPermitted when the ReferenceGrant names another Service',
      { httpRoutes: [httpRoute('r', [{ name: 'web' }], [{ backendRefs: [backend('pay', 80, { namespace: 'payments' })] }])], referenceGrants: [referenceGrant('allow', 'payments', { kind: 'HTTPRoute', namespace: 'default' }, { name: 'other' })] },
      [['default/r', 'web', true, false, 'RefNotPermitted', 'No explicit ReferenceGrant exists to allow the reference.']],
    ],
    [
      'RefNotPermitted when the ReferenceGrant allows GRPCRoutes only',
      { httpRoutes: [httpRoute('r', [{ name: 'web' }], [{ backendRefs: [backend('pay', 80, { namespace: 'payments' })] }])], referenceGrants: [referenceGrant('allow', 'payments', { kind: 'GRPCRoute', namespace: 'default' })] },
      [['default/r', 'web', true, false, 'RefNotPermitted', 'No explicit ReferenceGrant exists to allow the reference.']],
    ],
    [
      'a route from another namespace attaches through allowedRoutes, no ReferenceGrant needed for the parent',
      { httpRoutes: [httpRoute('r', [{ name: 'web', namespace: 'default' }], [{ backendRefs: [backend('blue', 80, { namespace: 'default' })] }], { namespace: 'team' })], referenceGrants: [referenceGrant('g', 'default', { kind: 'HTTPRoute', namespace: 'team' })] },
      [['team/r', 'web', true, true, 'Accepted', '']],
    ],
  ])('%s', (_name, parts, want) => {
    const t = run({ gateways: [web], ...parts }, { services: [...services('blue'), lbService('pay', { namespace: 'payments', type: 'ClusterIP', loadBalancerClass: null, ports: [{ name: 'http', port: 80 }] })] });
    expect(routeStatuses(t)).toEqual(want);
    expect(t.routes.every((r) => r.controllerName === 'gateway.k8s.aws/alb')).toBe(true);
  });

  it('forwards to the usable backends of a rule and answers 500 when none is left', () => {
    const t = run({ gateways: [web], httpRoutes: [httpRoute('r', [{ name: 'web' }], [{ backendRefs: [backend('pay', 80, { namespace: 'payments' })] }])] });
    expect(only(t).config.loadBalancers![0]!.listeners[0]!.rules![0]!.actions).toEqual([{ type: 'fixed-response', fixedResponseConfig: { statusCode: '500', contentType: 'text/plain' } }]);
  });

  it('writes Accepted True / Accepted with the listener outcomes; ListenersNotValid when one listener is invalid; False when none is valid', () => {
    const mixed = gateway('web', 'alb', [listener('http', 'HTTP', 8080), listener('tcp', 'TCP', 5432)]);
    const t = run({ gateways: [mixed], httpRoutes: [httpRoute('r', [{ name: 'web' }], [{ backendRefs: [backend('blue', 80)] }])] });
    const outcome = t.gateways[0]!;
    expect(outcome).toMatchObject({ stackKey: 'gateway/default/web', accepted: { status: 'True', reason: 'ListenersNotValid', message: '' } });
    expect(outcome.listeners!.map((l) => [l.validation.name, l.validation.reason, l.attachedRoutes])).toEqual([
      ['http', 'Accepted', 1],
      ['tcp', 'UnsupportedProtocol', 0],
    ]);
    const allBad = run({ gateways: [gateway('web', 'alb', [listener('tcp', 'TCP', 5432)])] });
    expect(allBad.gateways[0]!.accepted).toEqual({ status: 'False', reason: 'ListenersNotValid', message: '' });
  });

  it('refuses to mix L4 and L7 as the controller does: a TCPRoute on an ALB Gateway is not loaded (no status) and the TCP listener is UnsupportedProtocol', () => {
    const mixed = gateway('web', 'alb', [listener('http', 'HTTP', 8080), listener('tcp', 'TCP', 5432)]);
    const t = run({ gateways: [mixed], httpRoutes: [httpRoute('r', [{ name: 'web' }], [{ backendRefs: [backend('blue', 80)] }])], tcpRoutes: [l4Route('TCPRoute', 'db', [{ name: 'web' }], [backend('blue', 80)])] });
    expect(t.routes.map((r) => r.route.id)).toEqual(['HTTPRoute/default/r']);
    expect(only(t).config.loadBalancers![0]!.listeners.map((l) => `${l.protocol}:${l.port}`)).toEqual(['HTTP:8080']);
    expect(t.events).toEqual([
      {
        ref: { kind: 'Gateway', namespace: 'default', name: 'web' },
        type: 'Warning',
        reason: 'RouteKindNotServed',
        message: 'TCPRoute default/db names this Gateway, but its class alb (gateway.k8s.aws/alb) serves HTTPRoute, GRPCRoute only: the controller ignores the route and writes no status for it (TCPRoute needs a Gateway of a gateway.k8s.aws/nlb class)',
      },
    ]);
  });

  it.each<[string, ReturnType<typeof gatewayClass>, Partial<GatewayApiSnapshot>, string, unknown]>([
    ['a class whose parametersRef has no namespace', gatewayClass('alb', 'gateway.k8s.aws/alb', { name: 'cfg' }), {}, 'Unable to materialize gateway when gateway class [alb] is not accepted', { status: 'False', reason: 'InvalidParametersRef', message: 'Namespace must be specified in ParametersRef for LoadBalancerConfiguration' }],
    ['a class whose LoadBalancerConfiguration is missing', gatewayClass('alb', 'gateway.k8s.aws/alb', { name: 'cfg', namespace: 'default' }), {}, 'Unable to materialize gateway when gateway class [alb] is not accepted', { status: 'False', reason: 'NotFound', message: 'LoadBalancerConfiguration (cfg,default) not found' }],
  ])('refuses the Gateways of %s', (_name, cls, parts, gatewayMessage, classAccepted) => {
    const t = translateGateways(snapshot({}), gatewayApi({ gatewayClasses: [cls], gateways: [web], ...parts }));
    expect(t.stacks).toEqual([]);
    expect(t.classes[0]!.accepted).toEqual(classAccepted);
    expect(t.gateways[0]!.accepted).toEqual({ status: 'False', reason: 'Invalid', message: gatewayMessage });
  });

  it("refuses a Gateway whose own LoadBalancerConfiguration is missing, with the API server's NotFound text", () => {
    const t = run({ gateways: [gateway('web', 'alb', [listener('http', 'HTTP', 8080)], { parametersRef: 'gone' })] });
    expect(t.gateways[0]!.accepted).toEqual({ status: 'False', reason: 'Invalid', message: 'loadbalancerconfigurations.gateway.k8s.aws "gone" not found' });
  });

  it('refuses a RequestHeaderModifier filter as the controller does: FailedBuildModel, Accepted False Invalid, no load balancer; route statuses still written', () => {
    const t = run({ gateways: [web], httpRoutes: [httpRoute('r', [{ name: 'web' }], [{ filters: [{ type: 'RequestHeaderModifier' }], backendRefs: [backend('blue', 80)] }])] });
    expect(t.stacks).toEqual([]);
    expect(t.events.map((e) => e.reason)).toEqual(['FailedBuildModel']);
    expect(t.events[0]!.message).toMatch(/^Failed build model due to Unsupported filter type: RequestHeaderModifier\. Only request redirect is supported\./);
    expect(routeStatuses(t)).toEqual([['default/r', 'web', true, true, 'Accepted', '']]);
  });

  it('aborts the reconcile for a weight above 999 without writing a condition', () => {
    const t = run({ gateways: [web], httpRoutes: [httpRoute('r', [{ name: 'web' }], [{ backendRefs: [backend('blue', 80, { weight: 1000 })] }])] });
    expect(t.stacks).toEqual([]);
    expect(t.gateways).toEqual([]);
    expect(t.events[0]).toMatchObject({ reason: 'LoadBalancerNotServed', message: 'the controller cannot reconcile this Gateway: Weight [1000] must be less than or equal to 999' });
  });

  it('leaves Gateways of other classes alone', () => {
    const t = translateGateways(snapshot({}), gatewayApi({ gatewayClasses: [gatewayClass('other', 'example.com/gateway')], gateways: [gateway('web', 'other', [listener('http', 'HTTP', 80)])] }));
    expect(t).toEqual({ stacks: [], classes: [], gateways: [], routes: [], events: [] });
  });
});

describe('translateGateways: an NLB Gateway with L4 routes (spec 15.1.5, 15.1.8)', () => {
  const db = (listeners = [listener('tcp', 'TCP', 5432)]) => gateway('db', 'nlb', listeners);

  it('makes an NLB TCP listener forwarding to the TCPRoute backend (TCP checks on traffic-port)', () => {
    const stack = only(run({ gateways: [db()], tcpRoutes: [l4Route('TCPRoute', 'pg', [{ name: 'db' }], [backend('blue', 80)])], targetGroupConfigurations: [targetGroupConfiguration('blue', { targetReference: { name: 'blue' }, defaultConfiguration: { targetType: 'ip' } })] }));
    expect(stack.type).toBe('network');
    const tg = stack.config.targetGroups![0]!;
    expect(tg).toMatchObject({ protocol: 'TCP', targetType: 'ip', healthCheckProtocol: 'TCP', healthCheckPort: 'traffic-port', healthCheckIntervalSeconds: 15, healthCheckTimeoutSeconds: 5 });
    expect(tg).not.toHaveProperty('healthCheckPath');
    expect(stack.config.loadBalancers![0]!.listeners).toEqual([{ port: 5432, protocol: 'TCP', attributes: {}, defaultActions: [{ type: 'forward', targetGroupName: tg.name }] }]);
    expect(() => parseConfig(stack.config)).not.toThrow();
  });

  it('sends the port to the oldest of two TCPRoutes, and accepts both', () => {
    const older = l4Route('TCPRoute', 'older', [{ name: 'db' }], [backend('green', 80)], { createdAt: '2025-06-01T00:00:00Z' });
    const newer = l4Route('TCPRoute', 'newer', [{ name: 'db' }], [backend('blue', 80)], { createdAt: '2026-06-01T00:00:00Z' });
    const t = run({ gateways: [db()], tcpRoutes: [newer, older] });
    expect(only(t).config.targetGroups!.map((g) => g.name)).toEqual([expect.stringMatching(/^k8s-default-older-/) as unknown as string]);
    expect(routeStatuses(t).map((r) => [r[0], r[2]])).toEqual([
      ['default/newer', true],
      ['default/older', true],
    ]);
  });

  it('merges TCP and UDP listeners on one port into TCP_UDP with TCP_UDP target groups', () => {
    const stack = only(run({ gateways: [db([listener('tcp', 'TCP', 53), listener('udp', 'UDP', 53)])], udpRoutes: [l4Route('UDPRoute', 'dns', [{ name: 'db' }], [backend('blue', 80)])] }));
    expect(stack.config.loadBalancers![0]!.listeners[0]).toMatchObject({ port: 53, protocol: 'TCP_UDP' });
    expect(stack.config.targetGroups![0]!.protocol).toBe('TCP_UDP');
  });

  it('turns a TLS Passthrough listener into TCP, and a Terminate one into TLS with ALPN None', () => {
    const passthrough = only(run({ gateways: [db([listener('tls', 'TLS', 443, { tls: { mode: 'Passthrough' } })])], tlsRoutes: [l4Route('TLSRoute', 't', [{ name: 'db' }], [backend('blue', 80)], { hostnames: ['db.example.com'] })] }));
    expect(passthrough.config.loadBalancers![0]!.listeners[0]).toMatchObject({ protocol: 'TCP' });
    expect(passthrough.config.targetGroups![0]!.protocol).toBe('TCP');
    const terminate = only(run({ gateways: [db([listener('tls', 'TLS', 443, { hostname: 'db.example.com' })])], tcpRoutes: [l4Route('TCPRoute', 't', [{ name: 'db' }], [backend('blue', 80)])] }));
    expect(terminate.config.loadBalancers![0]!.listeners[0]).toMatchObject({ protocol: 'TLS', alpnPolicy: 'None', sslPolicy: 'ELBSecurityPolicy-2016-08', certificates: [{ certificateArn: expect.stringMatching(/^arn:aws:acm:local:/) as unknown as string }] });
    expect(terminate.config.targetGroups![0]!.protocol).toBe('TCP');
    expect(terminate.certificateHosts).toEqual(['db.example.com']);
  });

  it('skips a listener whose route has only weight-0 backends', () => {
    const stack = only(run({ gateways: [db()], tcpRoutes: [l4Route('TCPRoute', 'pg', [{ name: 'db' }], [backend('blue', 80, { weight: 0 })])] }));
    expect(stack.config.loadBalancers![0]!.listeners).toEqual([]);
  });

  it('forwards a weighted TCPRoute to its heaviest target group and says the NLB forwards to one', () => {
    const stack = only(run({ gateways: [db()], tcpRoutes: [l4Route('TCPRoute', 'pg', [{ name: 'db' }], [backend('blue', 80, { weight: 1 }), backend('green', 80, { weight: 3 })])] }));
    expect(stack.config.targetGroups).toHaveLength(1);
    expect(stack.problems[0]).toMatch(/forwards to 2 weighted target groups .*local-elb's NLB forwards to one, so all traffic goes to/);
  });

  it('readiness gates: ip targets in a labelled namespace', () => {
    const stack = only(
      run(
        { gateways: [db()], tcpRoutes: [l4Route('TCPRoute', 'pg', [{ name: 'db' }], [backend('blue', 80)])], targetGroupConfigurations: [targetGroupConfiguration('blue', { targetReference: { name: 'blue' }, defaultConfiguration: { targetType: 'ip' } })] },
        { namespaces: [namespace('default', { 'elbv2.k8s.aws/pod-readiness-gate-inject': 'enabled' })] },
      ),
    );
    expect(stack.readinessGateGroups).toEqual([stack.config.targetGroups![0]!.name]);
  });
});
