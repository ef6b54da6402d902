/**
 * The pure part of TargetGroupBinding (spec 15.3): the webhooks' back-fill and rules, a
 * binding's desired targets (ip from EndpointSlices; instance from nodes by nodeSelector), the
 * readiness-gate conditions, and the bindings the controller keeps for its stacks.
 */
import { describe, expect, it } from 'vitest';
import { configTargetGroupArn } from '../../../src/elbv2/catalog.ts';
import {
  backfill,
  bindingGateConditions,
  bindingProblem,
  bindingTargets,
  changedImmutableFields,
  controllerBindings,
  diffControllerBindings,
  isControllerMade,
  matchesSelector,
  parseTrackedTargets,
  stackLabels,
  trackedTargetsConfigMap,
  trackedTargetsCsv,
  type BoundTargetGroup,
  type TargetGroupBinding,
  type TargetGroupBindingSpec,
} from '../../../src/k8s/target-group-binding.ts';
import type { DesiredStack } from '../../../src/k8s/translate.ts';
import { endpointSlice, lbService, node, pod, snapshot } from '../../support/k8s-fixtures.ts';

const ARN = 'arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/web/0123456789abcdef';
const WEB: BoundTargetGroup = { arn: ARN, name: 'web', targetType: 'ip', ipAddressType: 'ipv4', protocol: 'HTTP', vpcId: 'vpc-00000000000000000' };
const lookup = { byArn: (arn: string) => (arn === ARN ? WEB : undefined), byName: (name: string) => (name === 'web' ? WEB : undefined) };

function tgb(name: string, spec: TargetGroupBindingSpec, meta: { namespace?: string; created?: string; labels?: Record<string, string> } = {}): TargetGroupBinding {
  return {
    apiVersion: 'elbv2.k8s.aws/v1beta1',
    kind: 'TargetGroupBinding',
    metadata: { name, namespace: meta.namespace ?? 'default', creationTimestamp: (meta.created ?? '2026-01-01T00:00:00Z') as never, ...(meta.labels ? { labels: meta.labels } : {}) },
    spec,
  };
}

describe('configTargetGroupArn', () => {
  it('is the same for a name at every start, AWS-shaped, and differs by name', () => {
    const a = configTargetGroupArn({ account: '000000000000', region: 'us-east-1' }, 'web');
    expect(a).toBe(configTargetGroupArn({ account: '000000000000', region: 'us-east-1' }, 'web'));
    expect(a).toMatch(/^arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup\/web\/[0-9a-f]{16}$/);
    expect(configTargetGroupArn({ account: '000000000000', region: 'us-east-1' }, 'api')).not.toBe(a);
  });
});

describe('backfill (the mutating webhook, at the first reconcile)', () => {
  it.each<[string, TargetGroupBindingSpec, ReturnType<typeof backfill>]>([
    ['writes the ARN of a binding with only targetGroupName, and the fields the group says', { targetGroupName: 'web', serviceRef: { name: 'web', port: 80 } }, { patch: { targetGroupARN: ARN, targetType: 'ip', ipAddressType: 'ipv4', vpcID: 'vpc-00000000000000000', targetGroupProtocol: 'HTTP' } }],
    ['fills only what is absent when the ARN is given', { targetGroupARN: ARN, targetType: 'ip', ipAddressType: 'ipv4', serviceRef: { name: 'web', port: 80 } }, { patch: { vpcID: 'vpc-00000000000000000', targetGroupProtocol: 'HTTP' } }],
    ['writes nothing when every field is there', { targetGroupARN: ARN, targetType: 'ip', ipAddressType: 'ipv4', vpcID: 'vpc-1', targetGroupProtocol: 'HTTP' }, undefined],
    ['refuses neither ARN nor name', { serviceRef: { name: 'web', port: 80 } }, { error: 'must provide either TargetGroupARN or TargetGroupName' }],
    ['refuses a name no group has', { targetGroupName: 'nope' }, { error: "TargetGroupNotFound: One or more target groups not found: 'nope'" }],
    ['leaves an unknown ARN to the validating pass', { targetGroupARN: 'arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/x/1' }, undefined],
  ])('%s', (_name, spec, expected) => {
    expect(backfill(spec, lookup)).toEqual(expected);
  });
});

describe('bindingProblem (the validating webhook)', () => {
  const ok: TargetGroupBindingSpec = { targetGroupARN: ARN, targetType: 'ip', serviceRef: { name: 'web', port: 80 } };
  it.each<[string, TargetGroupBindingSpec, string | undefined]>([
    ['admits an ip binding with ARN, targetType and serviceRef', ok, undefined],
    ['refuses a binding without targetType', { ...ok, targetType: undefined! }, 'TargetGroupBinding must specify these fields: spec.targetType'],
    ['refuses a targetType other than instance or ip', { ...ok, targetType: 'lambda' }, 'spec.targetType: Unsupported value: "lambda": supported values: "instance", "ip"'],
    ['refuses nodeSelector with targetType ip', { ...ok, nodeSelector: { matchLabels: { a: 'b' } } }, 'TargetGroupBinding cannot set NodeSelector when TargetType is ip'],
    ['admits nodeSelector with targetType instance', { ...ok, targetType: 'instance', nodeSelector: { matchLabels: { a: 'b' } } }, undefined],
    ['refuses a binding without serviceRef', { targetGroupARN: ARN, targetType: 'ip' }, 'spec.serviceRef: Required value: name and port'],
    ['refuses instance targets with iamRoleArnToAssume', { ...ok, targetType: 'instance', iamRoleArnToAssume: 'arn:aws:iam::1:role/x' }, 'Unable to use instance target type while using assume role'],
  ])('%s', (_name, spec, expected) => {
    const b = tgb('b', spec);
    expect(bindingProblem(b, [b])).toBe(expected);
  });

  it('admits the oldest of two bindings on one ARN and refuses the later one', () => {
    const first = tgb('first', ok, { created: '2026-01-01T00:00:00Z' });
    const later = tgb('later', ok, { namespace: 'other', created: '2026-01-02T00:00:00Z' });
    expect(bindingProblem(first, [first, later])).toBeUndefined();
    expect(bindingProblem(later, [first, later])).toBe(`TargetGroup ${ARN} is already bound to TargetGroupBinding default/first`);
  });

  it('admits several bindings on one ARN when every one is multiClusterTargetGroup, and not when one is not', () => {
    const a = tgb('a', { ...ok, multiClusterTargetGroup: true });
    const b = tgb('b', { ...ok, multiClusterTargetGroup: true }, { created: '2026-01-02T00:00:00Z' });
    const c = tgb('c', ok, { created: '2026-01-03T00:00:00Z' });
    expect(bindingProblem(b, [a, b])).toBeUndefined();
    expect(bindingProblem(b, [a, b, c])).toMatch(/is already bound to TargetGroupBinding default\/a/);
  });
});

describe('changedImmutableFields (the validating webhook on update)', () => {
  const admitted: TargetGroupBindingSpec = { targetGroupARN: ARN, targetType: 'ip' };
  it.each<[string, TargetGroupBindingSpec, string[]]>([
    ['allows serviceRef changes', { ...admitted, serviceRef: { name: 'other', port: 81 } }, []],
    ['refuses a new ARN', { ...admitted, targetGroupARN: `${ARN}0` }, ['spec.targetGroupARN']],
    ['refuses a new targetType', { ...admitted, targetType: 'instance' }, ['spec.targetType']],
    ['allows ipAddressType unset → ipv4', { ...admitted, ipAddressType: 'ipv4' }, []],
    ['refuses ipAddressType unset → ipv6', { ...admitted, ipAddressType: 'ipv6' }, ['spec.ipAddressType']],
  ])('%s', (_name, next, expected) => {
    expect(changedImmutableFields(admitted, next)).toEqual(expected);
  });
});

describe('bindingTargets', () => {
  const svc = lbService('web', { type: 'NodePort', loadBalancerClass: null, ports: [{ name: 'http', port: 80, targetPort: 8080, nodePort: 30080 }] });
  const nodes = [
    node('a', '10.0.0.1', { labels: { pool: 'edge' } }),
    node('b', '10.0.0.2', { labels: { pool: 'batch' } }),
    node('c', '10.0.0.3', { labels: { pool: 'edge', 'node.kubernetes.io/exclude-from-external-load-balancers': '' } }),
    node('d', '10.0.0.4', { labels: { pool: 'edge' }, ready: 'False' }),
  ];

  it('registers instance targets on the eligible nodes nodeSelector picks, at the NodePort', () => {
    const s = snapshot({ services: [svc], nodes });
    const b = tgb('web', { targetGroupARN: ARN, targetType: 'instance', serviceRef: { name: 'web', port: 80 }, nodeSelector: { matchLabels: { pool: 'edge' } } });
    expect(bindingTargets(s, b)).toEqual({ targets: [{ id: '10.0.0.1', port: 30080 }] });
  });

  it('registers every eligible node without nodeSelector, and by matchExpressions', () => {
    const s = snapshot({ services: [svc], nodes });
    expect(bindingTargets(s, tgb('web', { targetType: 'instance', serviceRef: { name: 'web', port: 'http' } }))).toEqual({ targets: [{ id: '10.0.0.1', port: 30080 }, { id: '10.0.0.2', port: 30080 }] });
    const notEdge = tgb('web', { targetType: 'instance', serviceRef: { name: 'web', port: 80 }, nodeSelector: { matchExpressions: [{ key: 'pool', operator: 'NotIn', values: ['edge'] }] } });
    expect(bindingTargets(s, notEdge)).toEqual({ targets: [{ id: '10.0.0.2', port: 30080 }] });
  });

  it('registers ip targets from the EndpointSlices at the endpoint port, with their pods', () => {
    const s = snapshot({ services: [svc], nodes, pods: [pod('web-1', '10.1.0.5', { node: 'a' })], endpointSlices: [endpointSlice('web', [{ ip: '10.1.0.5', pod: 'web-1', node: 'a' }], { port: 8080 })] });
    expect(bindingTargets(s, tgb('web', { targetType: 'ip', serviceRef: { name: 'web', port: 80 } }))).toEqual({ targets: [{ id: '10.1.0.5', port: 8080, pod: 'default/web-1' }] });
  });

  it('says backend not found for a missing Service, and names a missing port or NodePort', () => {
    expect(bindingTargets(snapshot({}), tgb('web', { targetType: 'ip', serviceRef: { name: 'web', port: 80 } }))).toEqual({ backendNotFound: 'backend not found: Service "web" not found' });
    expect(bindingTargets(snapshot({ services: [svc] }), tgb('web', { targetType: 'ip', serviceRef: { name: 'web', port: 81 } }))).toEqual({ error: 'unable to find port 81 on service default/web' });
    const clusterIp = lbService('web', { type: 'ClusterIP', loadBalancerClass: null, ports: [{ name: 'http', port: 80, targetPort: 8080 }] });
    expect(bindingTargets(snapshot({ services: [clusterIp] }), tgb('web', { targetType: 'instance', serviceRef: { name: 'web', port: 80 } }))).toEqual({ error: "service type must be either 'NodePort' or 'LoadBalancer': default/web" });
  });
});

describe('matchesSelector', () => {
  it.each<[string, Parameters<typeof matchesSelector>[0], boolean]>([
    ['matchLabels equal', { matchLabels: { a: '1' } }, true],
    ['matchLabels differ', { matchLabels: { a: '2' } }, false],
    ['In', { matchExpressions: [{ key: 'a', operator: 'In', values: ['1', '2'] }] }, true],
    ['Exists', { matchExpressions: [{ key: 'b', operator: 'Exists' }] }, false],
    ['DoesNotExist', { matchExpressions: [{ key: 'b', operator: 'DoesNotExist' }] }, true],
  ])('%s', (_name, selector, expected) => {
    expect(matchesSelector(selector, { a: '1' })).toBe(expected);
  });
});

describe('bindingGateConditions', () => {
  const gate = 'target-health.elbv2.k8s.aws/web-tgb';
  const pods = [pod('web-1', '10.1.0.5', { gates: [gate] }), pod('web-2', '10.1.0.6', { gates: ['target-health.elbv2.k8s.aws/other'] })];
  const targets = [{ id: '10.1.0.5', port: 8080, pod: 'default/web-1' }, { id: '10.1.0.6', port: 8080, pod: 'default/web-2' }];
  const now = new Date('2026-01-01T00:00:00Z');

  it('sets the gate naming the binding from its target health, only on pods that carry it', () => {
    const out = bindingGateConditions(pods, 'web-tgb', targets, () => ({ status: 'False', reason: 'Elb.InitialHealthChecking', message: 'Initial health checks in progress' }), { namespace: 'default', now });
    expect(out.map((o) => [o.pod.metadata?.name, o.condition.type, o.condition.status, o.condition.reason])).toEqual([['web-1', gate, 'False', 'Elb.InitialHealthChecking']]);
  });

  it('sets it True with "Target Group Binding is deleted" after deletion', () => {
    const out = bindingGateConditions(pods, 'web-tgb', [], () => ({ status: 'False', reason: 'x', message: 'x' }), { namespace: 'default', now, deleted: true });
    expect(out.map((o) => [o.pod.metadata?.name, o.condition.status, o.condition.reason, o.condition.message])).toEqual([['web-1', 'True', '', 'Target Group Binding is deleted']]);
  });
});

describe('controller-made bindings', () => {
  const stack = (key: string, owners: DesiredStack['owners'], type: DesiredStack['type'] = 'application'): DesiredStack => ({
    key,
    type,
    owners,
    config: {},
    targets: {},
    readinessGateGroups: [],
    problems: [],
    notices: [],
    certificateHosts: [],
    backends: { 'k8s-shop-cart-0123456789': { namespace: 'shop', name: 'cart', port: 80, targetType: 'ip' } },
  });
  const arnOf = (name: string) => `arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/${name}/x`;

  it.each<[string, DesiredStack, Record<string, string>]>([
    ['a Service stack: service.k8s.aws stack namespace and name', stack('service/shop/cart', [{ kind: 'Service', namespace: 'shop', name: 'cart' }], 'network'), { 'service.k8s.aws/stack-namespace': 'shop', 'service.k8s.aws/stack-name': 'cart' }],
    ['an implicit Ingress group: the Ingress namespace and name', stack('ingress/shop/cart', [{ kind: 'Ingress', namespace: 'shop', name: 'cart' }]), { 'ingress.k8s.aws/stack-namespace': 'shop', 'ingress.k8s.aws/stack-name': 'cart' }],
    ['an explicit group: ingress.k8s.aws/stack', stack('ingress/storefront', [{ kind: 'Ingress', namespace: 'shop', name: 'cart' }]), { 'ingress.k8s.aws/stack': 'storefront' }],
    ['an ALB Gateway: gateway.k8s.aws.alb labels', stack('gateway/shop/gw', [{ kind: 'Gateway', namespace: 'shop', name: 'gw' }]), { 'gateway.k8s.aws.alb/stack-namespace': 'shop', 'gateway.k8s.aws.alb/stack-name': 'gw' }],
  ])('labels %s', (_name, s, labels) => {
    expect(stackLabels(s)).toEqual(labels);
    const [b] = controllerBindings([s], arnOf);
    expect(b).toEqual({ namespace: 'shop', name: 'k8s-shop-cart-0123456789', labels, spec: { targetGroupARN: arnOf('k8s-shop-cart-0123456789'), targetType: 'ip', ipAddressType: 'ipv4', serviceRef: { name: 'cart', port: 80 } } });
    expect(isControllerMade(tgb('x', {}, { labels }))).toBe(true);
  });

  it('creates the missing, patches the changed, deletes leftovers, and leaves user bindings alone', () => {
    const desired = controllerBindings([stack('ingress/shop/cart', [{ kind: 'Ingress', namespace: 'shop', name: 'cart' }])], arnOf);
    const labels = desired[0]!.labels;
    expect(diffControllerBindings(desired, [])).toEqual({ create: desired, update: [], remove: [] });
    const stale = tgb('k8s-shop-cart-0123456789', { ...desired[0]!.spec, serviceRef: { name: 'cart', port: 81 } }, { namespace: 'shop', labels });
    expect(diffControllerBindings(desired, [stale]).update).toEqual(desired);
    const leftover = tgb('k8s-shop-old-0123456789', { targetGroupARN: arnOf('old'), targetType: 'ip' }, { namespace: 'shop', labels });
    const user = tgb('mine', { targetGroupARN: arnOf('mine'), targetType: 'ip' }, { namespace: 'shop' });
    expect(diffControllerBindings(desired, [stale, leftover, user]).remove).toEqual([leftover]);
  });
});

describe('multiClusterTargetGroup tracking', () => {
  it('names the ConfigMap aws-lbc-targets-<binding> and writes id:port entries sorted, read back as a set', () => {
    expect(trackedTargetsConfigMap('web-tgb')).toBe('aws-lbc-targets-web-tgb');
    const csv = trackedTargetsCsv([{ id: '10.0.0.2', port: 80 }, { id: '10.0.0.1', port: 8080 }, { id: '10.0.0.2', port: 80 }]);
    expect(csv).toBe('10.0.0.1:8080,10.0.0.2:80');
    expect([...parseTrackedTargets(csv)]).toEqual(['10.0.0.1:8080', '10.0.0.2:80']);
    expect(parseTrackedTargets(undefined).size).toBe(0);
  });
});
