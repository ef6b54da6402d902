import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/schema.ts';
import { diffTargets, gateCondition } from '../../../src/runtime/reconcile.ts';
import { ingressPathPatterns } from '../../../src/k8s/ingress-annotations.ts';
import { ipTargets, targetGroupName, translate, type DesiredStack } from '../../../src/k8s/translate.ts';
import { albClass, endpointSlice, ingress, lbService, namespace, node, pod, snapshot } from '../../support/k8s-fixtures.ts';

const nodes = [node('control-plane', '172.18.0.2', { labels: { 'node-role.kubernetes.io/control-plane': '' } }), node('worker', '172.18.0.3'), node('worker2', '172.18.0.4')];

function only(stacks: readonly DesiredStack[]): DesiredStack {
  expect(stacks).toHaveLength(1);
  return stacks[0]!;
}

describe('translate: Services of type LoadBalancer → NLB', () => {
  it.each([
    ['loadBalancerClass service.k8s.aws/nlb', lbService('web'), 1],
    ['annotation aws-load-balancer-type external (no class)', lbService('web', { loadBalancerClass: null, annotations: { 'service.beta.kubernetes.io/aws-load-balancer-type': 'external' } }), 1],
    ['another loadBalancerClass (left to its own controller)', lbService('web', { loadBalancerClass: 'example.com/other' }), 0],
    ['no class and no annotation (cloud-provider-kind serves it)', lbService('web', { loadBalancerClass: null }), 0],
    ['type ClusterIP', lbService('web', { type: 'ClusterIP' }), 0],
  ])('serves %s: %i stacks', (_name, service, count) => {
    expect(translate(snapshot({ services: [service], nodes })).stacks).toHaveLength(count);
  });

  it('registers eligible nodes at the NodePort for instance targets, skipping the control plane', () => {
    const stack = only(translate(snapshot({ services: [lbService('web')], nodes })).stacks);
    const tg = stack.config.targetGroups![0]!;
    expect(stack.type).toBe('network');
    expect(stack.owners).toEqual([{ kind: 'Service', namespace: 'default', name: 'web' }]);
    expect(stack.targets[tg.name]).toEqual([
      { id: '172.18.0.3', port: 30080 },
      { id: '172.18.0.4', port: 30080 },
    ]);
    expect(stack.config.loadBalancers![0]!.listeners[0]).toMatchObject({ port: 80, protocol: 'TCP', defaultActions: [{ type: 'forward', targetGroupName: tg.name }] });
  });

  it('merges a TCP and a UDP port of one number into a TCP_UDP listener and group with enable-tcp-udp-listener, and refuses what the controller refuses', () => {
    const TCP_UDP = 'service.beta.kubernetes.io/aws-load-balancer-enable-tcp-udp-listener';
    const dnsPorts = [
      { name: 'dns-tcp', port: 53, nodePort: 30053, protocol: 'TCP' as const },
      { name: 'dns-udp', port: 53, nodePort: 30054, protocol: 'UDP' as const },
      { name: 'metrics', port: 9153, nodePort: 30153, protocol: 'TCP' as const },
    ];
    const stackOf = (annotations: Record<string, string>, ports = dnsPorts) => translate(snapshot({ services: [lbService('dns', { annotations: { 'service.beta.kubernetes.io/aws-load-balancer-type': 'external', ...annotations }, ports })], nodes }));
    const on = only(stackOf({ [TCP_UDP]: 'true' }).stacks);
    expect(on.config.loadBalancers![0]!.listeners.map((l) => `${l.protocol}:${l.port}`)).toEqual(['TCP_UDP:53', 'TCP:9153']);
    const group = on.config.targetGroups![0]!;
    expect(group).toMatchObject({ protocol: 'TCP_UDP', healthCheckProtocol: 'TCP', healthCheckPort: 'traffic-port', attributes: { 'preserve_client_ip.enabled': 'true' } });
    // Built from the first of the two ports, as the controller builds it.
    expect(on.targets[group.name]).toEqual([
      { id: '172.18.0.3', port: 30053 },
      { id: '172.18.0.4', port: 30053 },
    ]);
    expect(() => parseConfig(on.config)).not.toThrow();
    // Off, absent or not a Go bool: two listeners on 53, as before.
    for (const annotations of [{ [TCP_UDP]: 'false' }, {}, { [TCP_UDP]: 'yes' }] as Array<Record<string, string>>) {
      expect(only(stackOf(annotations).stacks).config.loadBalancers![0]!.listeners.map((l) => `${l.protocol}:${l.port}`)).toEqual(['TCP:53', 'UDP:53', 'TCP:9153']);
    }
    expect(stackOf({ [TCP_UDP]: 'True' }).stacks).toHaveLength(1);
    expect(stackOf({ [TCP_UDP]: 'true' }, [dnsPorts[0]!, { ...dnsPorts[0]!, name: 'dns-tcp-2', nodePort: 30055 }]).rejected[0]?.reason).toBe("protocols can't match for merging: TCP");
    expect(stackOf({ [TCP_UDP]: 'true' }, [dnsPorts[0]!, dnsPorts[1]!, { ...dnsPorts[0]!, name: 'dns-3', nodePort: 30056 }]).rejected[0]?.reason).toBe('can only merge two ports, not 3');
  });

  it('registers only the nodes with every target-node-labels label, on Services and on Ingress backends', () => {
    const labelled = [node('worker', '172.18.0.3', { labels: { pool: 'edge', zone: 'a' } }), node('worker2', '172.18.0.4', { labels: { pool: 'edge', zone: 'b' } }), node('worker3', '172.18.0.5')];
    const svc = lbService('web', { annotations: { 'service.beta.kubernetes.io/aws-load-balancer-type': 'external', 'service.beta.kubernetes.io/aws-load-balancer-target-node-labels': 'pool=edge, zone=b' } });
    const nlb = only(translate(snapshot({ services: [svc], nodes: labelled })).stacks);
    expect(Object.values(nlb.targets)).toEqual([[{ id: '172.18.0.4', port: 30080 }]]);
    expect(nlb.problems).toEqual([]);
    const ing = ingress('shop', [{ paths: [{ path: '/', service: 'web', port: 80 }] }], { annotations: { 'alb.ingress.kubernetes.io/target-node-labels': 'pool=edge' } });
    const alb = only(translate(snapshot({ services: [lbService('web', { type: 'NodePort', loadBalancerClass: null })], ingresses: [ing], ingressClasses: [albClass], nodes: labelled })).stacks);
    expect(Object.values(alb.targets)).toEqual([
      [
        { id: '172.18.0.3', port: 30080 },
        { id: '172.18.0.4', port: 30080 },
      ],
    ]);
  });

  it('uses the controller defaults, not AWS defaults: TCP checks, interval 10, timeout 10, thresholds 3/3; client IP on for instance', () => {
    const stack = only(translate(snapshot({ services: [lbService('web')], nodes })).stacks);
    const tg = stack.config.targetGroups![0]!;
    expect(tg).toMatchObject({
      protocol: 'TCP',
      targetType: 'instance',
      healthCheckProtocol: 'TCP',
      healthCheckPort: 'traffic-port',
      healthCheckIntervalSeconds: 10,
      healthCheckTimeoutSeconds: 10,
      healthyThresholdCount: 3,
      unhealthyThresholdCount: 3,
      attributes: { 'preserve_client_ip.enabled': 'true' },
    });
    expect(() => parseConfig(stack.config)).not.toThrow();
  });

  it('checks kube-proxy on the healthCheckNodePort for instance targets with externalTrafficPolicy Local', () => {
    const stack = only(translate(snapshot({ services: [lbService('web', { externalTrafficPolicy: 'Local', healthCheckNodePort: 32000 })], nodes })).stacks);
    expect(stack.config.targetGroups![0]).toMatchObject({
      healthCheckProtocol: 'HTTP',
      healthCheckPort: 32000,
      healthCheckPath: '/healthz',
      healthCheckIntervalSeconds: 10,
      healthCheckTimeoutSeconds: 6,
      healthyThresholdCount: 2,
      unhealthyThresholdCount: 2,
    });
  });

  it('reads health-check, target-group-attribute, proxy-protocol and listener annotations', () => {
    const svc = lbService('web', {
      annotations: {
        'service.beta.kubernetes.io/aws-load-balancer-nlb-target-type': 'ip',
        'service.beta.kubernetes.io/aws-load-balancer-healthcheck-protocol': 'HTTP',
        'service.beta.kubernetes.io/aws-load-balancer-healthcheck-path': '/ready',
        'service.beta.kubernetes.io/aws-load-balancer-healthcheck-interval': '5',
        'service.beta.kubernetes.io/aws-load-balancer-healthcheck-timeout': '2',
        'service.beta.kubernetes.io/aws-load-balancer-healthcheck-success-codes': '200-299',
        'service.beta.kubernetes.io/aws-load-balancer-target-group-attributes': 'deregistration_delay.timeout_seconds=30,preserve_client_ip.enabled=true,empty=',
        'service.beta.kubernetes.io/aws-load-balancer-proxy-protocol': '*',
        'service.beta.kubernetes.io/aws-load-balancer-listener-attributes.TCP-80': 'tcp.idle_timeout.seconds=600',
      },
    });
    const stack = only(translate(snapshot({ services: [svc], nodes })).stacks);
    expect(stack.config.targetGroups![0]).toMatchObject({
      targetType: 'ip',
      healthCheckProtocol: 'HTTP',
      healthCheckPath: '/ready',
      healthCheckIntervalSeconds: 5,
      healthCheckTimeoutSeconds: 2,
      matcher: { httpCode: '200-299' },
      attributes: { 'deregistration_delay.timeout_seconds': '30', 'preserve_client_ip.enabled': 'true', 'proxy_protocol_v2.enabled': 'true' },
    });
    expect(stack.config.loadBalancers![0]!.listeners[0]!.attributes).toEqual({ 'tcp.idle_timeout.seconds': '600' });
    expect(stack.problems).toEqual([]);
    expect(() => parseConfig(stack.config)).not.toThrow();
  });

  it('reports annotations it does not emulate instead of ignoring them silently', () => {
    const annotations = { 'service.beta.kubernetes.io/aws-load-balancer-eip-allocations': 'eipalloc-1', 'service.beta.kubernetes.io/aws-load-balancer-quic-enabled-ports': '443' };
    const stack = only(translate(snapshot({ services: [lbService('web', { annotations })], nodes })).stacks);
    expect(stack.problems).toEqual([expect.stringMatching(/^annotation service\.beta\.kubernetes\.io\/aws-load-balancer-quic-enabled-ports: "443" is not emulated by local-elb: no QUIC listeners/)]);
    expect(stack.annotationNotices).toEqual([expect.stringMatching(/^annotation service\.beta\.kubernetes\.io\/aws-load-balancer-eip-allocations is accepted, with no local effect: Elastic IPs/)]);
  });

  it('rejects a bad target type with a reason', () => {
    const r = translate(snapshot({ services: [lbService('web', { annotations: { 'service.beta.kubernetes.io/aws-load-balancer-nlb-target-type': 'lambda' } })] }));
    expect(r.stacks).toEqual([]);
    expect(r.rejected[0]).toMatchObject({ ref: { kind: 'Service', name: 'web' }, reason: expect.stringContaining('must be ip or instance') });
  });

  it('names target groups k8s-<ns>-<svc>-<hash> within 32 characters', () => {
    const name = targetGroupName('my-namespace', 'my-long-service-name', 80, 'TCP', 'ip');
    expect(name).toMatch(/^k8s-mynamesp-mylongse-[0-9a-f]{10}$/);
    expect(name.length).toBeLessThanOrEqual(32);
  });
});

describe('ipTargets: EndpointSlices → targets (spec 9.6)', () => {
  const svc = lbService('web', { annotations: { 'service.beta.kubernetes.io/aws-load-balancer-nlb-target-type': 'ip' } });
  const port = svc.spec!.ports![0]!;
  it.each<[string, Parameters<typeof endpointSlice>[1], ReturnType<typeof pod>[], string[]]>([
    ['registers ready endpoints', [{ ip: '10.244.1.2', pod: 'a', node: 'worker' }], [], ['10.244.1.2']],
    ['treats ready=nil as ready', [{ ip: '10.244.1.2', ready: null }], [], ['10.244.1.2']],
    ['skips terminating endpoints', [{ ip: '10.244.1.2', ready: false, terminating: true, pod: 'a', node: 'worker' }, { ip: '10.244.1.3' }], [pod('a', '10.244.1.2')], ['10.244.1.3']],
    [
      'registers a not-ready endpoint whose containers are ready (a readiness gate is pending)',
      [{ ip: '10.244.1.2', ready: false, pod: 'a', node: 'worker' }],
      [pod('a', '10.244.1.2', { containersReady: true, ready: false })],
      ['10.244.1.2'],
    ],
    ['skips a not-ready endpoint whose readiness probe fails', [{ ip: '10.244.1.2', ready: false, pod: 'a', node: 'worker' }], [pod('a', '10.244.1.2', { containersReady: false, ready: false })], []],
  ])('%s', (_name, endpoints, pods, ips) => {
    const snap = snapshot({ services: [svc], endpointSlices: [endpointSlice('web', endpoints)], pods, nodes });
    expect(ipTargets(snap, svc, port).map((t) => t.id)).toEqual(ips);
  });

  it('uses the endpoint port matching the Service port name and records the pod', () => {
    const snap = snapshot({ services: [svc], endpointSlices: [endpointSlice('web', [{ ip: '10.244.1.2', pod: 'web-1' }], { port: 9090 })], nodes });
    expect(ipTargets(snap, svc, port)).toEqual([{ id: '10.244.1.2', port: 9090, pod: 'default/web-1' }]);
  });

  it('marks target groups for readiness gates only in namespaces labelled for injection', () => {
    const plain = translate(snapshot({ services: [svc], nodes, namespaces: [namespace('default')] }));
    expect(only(plain.stacks).readinessGateGroups).toEqual([]);
    const labelled = translate(snapshot({ services: [svc], nodes, namespaces: [namespace('default', { 'elbv2.k8s.aws/pod-readiness-gate-inject': 'enabled' })] }));
    expect(only(labelled.stacks).readinessGateGroups).toEqual([only(labelled.stacks).config.targetGroups![0]!.name]);
  });
});

describe('translate: Ingresses with class alb → ALB', () => {
  const backend = lbService('api', { type: 'NodePort', loadBalancerClass: null, ports: [{ name: 'http', port: 80, nodePort: 30081 }] });
  const web = lbService('web', { type: 'NodePort', loadBalancerClass: null, ports: [{ name: 'http', port: 80, nodePort: 30082 }] });

  it.each([
    ['Exact /foo', 'Exact', '/foo', ['/foo']],
    ['Prefix /', 'Prefix', '/', ['/*']],
    ['Prefix /foo', 'Prefix', '/foo', ['/foo', '/foo/*']],
    ['Prefix /foo/', 'Prefix', '/foo/', ['/foo', '/foo/*']],
    ['ImplementationSpecific /a*', 'ImplementationSpecific', '/a*', ['/a*']],
    ['no pathType /a* (ImplementationSpecific)', undefined, '/a*', ['/a*']],
  ])('translates %s', (_n, type, path, expected) => {
    expect(ingressPathPatterns(path, type, false)).toEqual({ value: { values: expected, regexValues: [] } });
  });

  it('orders rules Exact first, then Prefix by descending length, with the controller defaults and a 404 default action', () => {
    const ing = ingress('shop', [
      {
        host: 'shop.example.com',
        paths: [
          { path: '/', pathType: 'Prefix', service: 'web', port: 80 },
          { path: '/api/v2', pathType: 'Prefix', service: 'api', port: 'http' },
          { path: '/healthz', pathType: 'Exact', service: 'api', port: 80 },
        ],
      },
    ]);
    const stack = only(translate(snapshot({ services: [backend, web], ingresses: [ing], ingressClasses: [albClass], nodes })).stacks);
    const listener = stack.config.loadBalancers![0]!.listeners[0]!;
    expect(listener.port).toBe(80);
    expect(listener.defaultActions).toEqual([{ type: 'fixed-response', fixedResponseConfig: { statusCode: '404', contentType: 'text/plain' } }]);
    expect(listener.rules!.map((r) => [r.priority, r.conditions.map((c) => c.values)])).toEqual([
      [1, [['shop.example.com'], ['/healthz']]],
      [2, [['shop.example.com'], ['/api/v2', '/api/v2/*']]],
      [3, [['shop.example.com'], ['/*']]],
    ]);
    const tgs = stack.config.targetGroups!;
    expect(tgs).toHaveLength(2);
    expect(tgs[0]).toMatchObject({ protocol: 'HTTP', healthCheckIntervalSeconds: 15, healthCheckTimeoutSeconds: 5, healthyThresholdCount: 2, unhealthyThresholdCount: 2, matcher: { httpCode: '200' } });
    expect(() => parseConfig(stack.config)).not.toThrow();
  });

  it('puts Ingresses with the same group.name on one ALB, ordered by group.order', () => {
    const a = ingress('a', [{ paths: [{ path: '/a', service: 'api', port: 80 }] }], { annotations: { 'alb.ingress.kubernetes.io/group.name': 'shared', 'alb.ingress.kubernetes.io/group.order': '10' } });
    const b = ingress('b', [{ paths: [{ path: '/b', service: 'web', port: 80 }] }], { annotations: { 'alb.ingress.kubernetes.io/group.name': 'shared', 'alb.ingress.kubernetes.io/group.order': '-5' } });
    const stack = only(translate(snapshot({ services: [backend, web], ingresses: [a, b], ingressClasses: [albClass], nodes })).stacks);
    expect(stack.key).toBe('ingress/shared');
    expect(stack.owners.map((o) => o.name).sort()).toEqual(['a', 'b']);
    expect(stack.config.loadBalancers![0]!.listeners[0]!.rules!.map((r) => r.conditions[0]!.values)).toEqual([['/b', '/b/*'], ['/a', '/a/*']]);
  });

  it('takes listen-ports, target-group-attributes and actions.<name> (use-annotation)', () => {
    const ing = ingress('shop', [{ paths: [{ path: '/old', service: 'redirect-old', port: 'use-annotation' }, { path: '/', service: 'web', port: 80 }] }], {
      annotations: {
        'alb.ingress.kubernetes.io/listen-ports': '[{"HTTP": 8080}]',
        'alb.ingress.kubernetes.io/target-group-attributes': 'deregistration_delay.timeout_seconds=30,load_balancing.algorithm.type=least_outstanding_requests',
        'alb.ingress.kubernetes.io/actions.redirect-old': '{"type":"redirect","redirectConfig":{"path":"/new","statusCode":"HTTP_301"}}',
      },
    });
    const stack = only(translate(snapshot({ services: [web], ingresses: [ing], ingressClasses: [albClass], nodes })).stacks);
    const listener = stack.config.loadBalancers![0]!.listeners[0]!;
    expect(listener.port).toBe(8080);
    expect(listener.rules![0]!.actions).toEqual([{ type: 'redirect', redirectConfig: { statusCode: 'HTTP_301', path: '/new' } }]);
    expect(stack.config.targetGroups![0]!.attributes).toEqual({ 'deregistration_delay.timeout_seconds': '30', 'load_balancing.algorithm.type': 'least_outstanding_requests' });
    expect(() => parseConfig(stack.config)).not.toThrow();
  });

  it('ignores Ingresses of other classes and rejects listen-ports protocols other than HTTP and HTTPS', () => {
    const other = ingress('x', [{ paths: [{ path: '/', service: 'web', port: 80 }] }], { className: 'nginx' });
    expect(translate(snapshot({ services: [web], ingresses: [other], ingressClasses: [albClass], nodes })).stacks).toEqual([]);
    const tcp = ingress('y', [{ paths: [{ path: '/', service: 'web', port: 80 }] }], { annotations: { 'alb.ingress.kubernetes.io/listen-ports': '[{"TCP": 443}]' } });
    const r = translate(snapshot({ services: [web], ingresses: [tcp], ingressClasses: [albClass], nodes }));
    expect(r.stacks).toEqual([]);
    expect(r.rejected[0]!.reason).toBe('ingress: default/y: listen protocol must be within [HTTP, HTTPS]: TCP');
  });
});

describe('reconcile', () => {
  const d = (id: string, port: number, state: string) => ({ target: { id, port }, healthCheckPort: String(port), targetHealth: { state } as never });
  it.each([
    ['registers new endpoints', [], [{ id: 'a', port: 1 }], [{ id: 'a', port: 1 }], []],
    ['deregisters targets without an endpoint', [d('a', 1, 'healthy')], [], [], [{ id: 'a', port: 1 }]],
    ['leaves matched targets alone', [d('a', 1, 'healthy')], [{ id: 'a', port: 1 }], [], []],
    ['registers again an endpoint whose target is draining', [d('a', 1, 'draining')], [{ id: 'a', port: 1 }], [{ id: 'a', port: 1 }], []],
    ['does not deregister a draining target twice', [d('a', 1, 'draining')], [], [], []],
  ])('%s', (_n, current, desired, toRegister, toDeregister) => {
    expect(diffTargets(current, desired)).toEqual({ toRegister, toDeregister });
  });

  it.each([
    ['not registered yet', undefined, { status: 'False', reason: 'Elb.RegistrationInProgress', message: 'Target registration is in progress' }],
    ['initial', { state: 'initial', reason: 'Elb.InitialHealthChecking', description: 'Initial health checks in progress' }, { status: 'False', reason: 'Elb.InitialHealthChecking', message: 'Initial health checks in progress' }],
    ['healthy', { state: 'healthy' }, { status: 'True', reason: '', message: '' }],
    ['unhealthy', { state: 'unhealthy', reason: 'Target.Timeout', description: 'Request timed out' }, { status: 'False', reason: 'Target.Timeout', message: 'Request timed out' }],
  ] as const)('gate condition when the target is %s', (_n, health, expected) => {
    expect(gateCondition(health as never)).toEqual(expected);
  });
});
