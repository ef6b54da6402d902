import { describe, expect, it } from 'vitest';
import type { Gateway, GatewayClass } from '../../../../src/k8s/gateway/model.ts';
import { gatewayClassStatus, gatewayStatus, localLoadBalancerArn, routeStatus } from '../../../../src/k8s/gateway/status.ts';
import { translateGateways, type GatewayOutcome } from '../../../../src/k8s/gateway/translate.ts';
import { lbService, node, snapshot } from '../../../support/k8s-fixtures.ts';
import { backend, gateway, gatewayApi, gatewayClass, httpRoute, listener } from '../../../support/gateway-fixtures.ts';

const T0 = '2026-01-01T00:00:00Z';
const T1 = '2026-01-01T00:01:00Z';
const T2 = '2026-01-01T00:02:00Z';
const PENDING = { status: 'Unknown', reason: 'Pending', message: 'Waiting for controller', lastTransitionTime: '1970-01-01T00:00:00Z' } as const;

const web = { ...gateway('web', 'alb', [listener('http', 'HTTP', 8080), listener('tcp', 'TCP', 5432)]), status: { conditions: [{ type: 'Accepted', ...PENDING }, { type: 'Programmed', ...PENDING }] } } as Gateway;
const route = httpRoute('r', [{ name: 'web' }, { name: 'elsewhere' }], [{ backendRefs: [backend('blue', 80)] }]);
const blue = lbService('blue', { type: 'NodePort', loadBalancerClass: null, ports: [{ name: 'http', port: 80, nodePort: 30080 }] });

function translated() {
  return translateGateways(snapshot({ nodes: [node('worker', '10.0.0.1')], services: [blue] }), gatewayApi({ gatewayClasses: [gatewayClass('alb')], gateways: [web], httpRoutes: [route] }));
}

describe('gatewayStatus (spec 15.1.10)', () => {
  it('a running Gateway: Programmed True with the ARN, Accepted with ListenersNotValid, its address, and listener conditions', () => {
    const outcome = translated().gateways[0]!;
    const status = gatewayStatus(web, outcome, { running: true, address: '127.240.0.2', loadBalancerName: 'k8s-default-web-abc' }, 'application', T1)!;
    expect(status.addresses).toEqual([{ type: 'IPAddress', value: '127.240.0.2' }]);
    expect(status.conditions).toEqual([
      { type: 'Accepted', status: 'True', reason: 'ListenersNotValid', message: '', observedGeneration: 1, lastTransitionTime: T1 },
      { type: 'Programmed', status: 'True', reason: 'Programmed', message: localLoadBalancerArn('application', 'k8s-default-web-abc'), observedGeneration: 1, lastTransitionTime: T1 },
    ]);
    expect(localLoadBalancerArn('application', 'k8s-default-web-abc')).toMatch(/^arn:aws:elasticloadbalancing:local:000000000000:loadbalancer\/app\/k8s-default-web-abc\/[0-9a-f]{16}$/);
    const [http, tcp] = status.listeners!;
    expect(http).toMatchObject({ name: 'http', attachedRoutes: 1, supportedKinds: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute' }] });
    expect(http!.conditions.map((c) => [c.type, c.status, c.reason, c.message])).toEqual([
      ['Conflicted', 'False', 'NoConflicts', 'Listener has no conflict.'],
      ['Accepted', 'True', 'Accepted', 'Listener is accepted.'],
      ['ResolvedRefs', 'True', 'ResolvedRefs', 'Listener has all refs resolved.'],
      ['Programmed', 'True', 'Programmed', 'Listener is programmed.'],
    ]);
    expect(tcp!.conditions.map((c) => [c.type, c.status, c.reason, c.message])).toEqual([
      ['Conflicted', 'False', 'NoConflicts', 'Listener has no conflict.'],
      ['Accepted', 'False', 'UnsupportedProtocol', 'Unsupported protocol TCP for listener tcp'],
      ['ResolvedRefs', 'True', 'ResolvedRefs', 'Listener has all refs resolved.'],
      ['Programmed', 'False', 'UnsupportedProtocol', 'Listener is not accepted.'],
    ]);
  });

  it('writes nothing the second time (no patch loop), and keeps transition times of unchanged conditions', () => {
    const outcome = translated().gateways[0]!;
    const facts = { running: true, address: '127.240.0.2', loadBalancerName: 'lb' };
    const first = gatewayStatus(web, outcome, facts, 'application', T1)!;
    expect(gatewayStatus({ ...web, status: first }, outcome, facts, 'application', T2)).toBeUndefined();
    const moved = gatewayStatus({ ...web, status: first }, outcome, { ...facts, address: '127.240.0.3' }, 'application', T2)!;
    expect(moved.addresses).toEqual([{ type: 'IPAddress', value: '127.240.0.3' }]);
    expect(moved.conditions!.map((c) => c.lastTransitionTime)).toEqual([T1, T1]);
  });

  it('a built Gateway whose load balancer did not start: Accepted False Invalid, Programmed left as it was', () => {
    const outcome = translated().gateways[0]!;
    const status = gatewayStatus(web, outcome, { running: false }, 'application', T1)!;
    expect(status.conditions).toEqual([
      { type: 'Accepted', status: 'False', reason: 'Invalid', message: 'Check Gateway Events for more information.', observedGeneration: 1, lastTransitionTime: T1 },
      { type: 'Programmed', ...PENDING },
    ]);
    expect(status.listeners).toBeUndefined();
    expect(status.addresses).toBeUndefined();
  });

  it('a Gateway refused before any build: Accepted False with the error, nothing else', () => {
    const outcome: GatewayOutcome = { ref: { kind: 'Gateway', namespace: 'default', name: 'web' }, generation: 3, controllerName: 'gateway.k8s.aws/alb', accepted: { status: 'False', reason: 'Invalid', message: 'x'.repeat(40_000) } };
    const status = gatewayStatus(web, outcome, undefined, 'application', T1)!;
    expect(status.conditions![0]).toMatchObject({ status: 'False', reason: 'Invalid', observedGeneration: 3 });
    expect(status.conditions![0]!.message).toHaveLength(32_703);
    expect(status.conditions![0]!.message.endsWith('...')).toBe(true);
  });
});

describe('gatewayClassStatus', () => {
  it('rewrites the Pending Accepted condition once', () => {
    const gc = { ...gatewayClass('alb'), status: { conditions: [{ type: 'Accepted', ...PENDING }] } } as GatewayClass;
    const status = gatewayClassStatus(gc, { name: 'alb', generation: 1, accepted: { status: 'True', reason: 'Accepted', message: 'Accepted' } }, T1)!;
    expect(status.conditions).toEqual([{ type: 'Accepted', status: 'True', reason: 'Accepted', message: 'Accepted', observedGeneration: 1, lastTransitionTime: T1 }]);
    expect(gatewayClassStatus({ ...gc, status }, { name: 'alb', generation: 1, accepted: { status: 'True', reason: 'Accepted', message: 'Accepted' } }, T2)).toBeUndefined();
  });
});

describe('routeStatus (spec 15.1.10)', () => {
  const foreign = { parentRef: { name: 'elsewhere' }, controllerName: 'example.com/other', conditions: [{ type: 'Accepted', status: 'True' as const, reason: 'Accepted', message: '', lastTransitionTime: T0 }] };

  it('writes ResolvedRefs then Accepted for this parent, keeps the other controller entry, in spec.parentRefs order', () => {
    const outcomes = translated().routes;
    const status = routeStatus({ ...route, status: { parents: [foreign] } }, outcomes, T1)!;
    expect(status.parents).toEqual([
      {
        parentRef: { name: 'web' },
        controllerName: 'gateway.k8s.aws/alb',
        conditions: [
          { type: 'ResolvedRefs', status: 'True', reason: 'ResolvedRefs', message: '', observedGeneration: 1, lastTransitionTime: T1 },
          { type: 'Accepted', status: 'True', reason: 'Accepted', message: '', observedGeneration: 1, lastTransitionTime: T1 },
        ],
      },
      foreign,
    ]);
    expect(routeStatus({ ...route, status }, outcomes, T2)).toBeUndefined();
  });

  it('drops entries of parentRefs the route no longer lists', () => {
    const outcomes = translated().routes;
    const first = routeStatus(route, outcomes, T1)!;
    const trimmed = { ...route, spec: { ...route.spec, parentRefs: [{ name: 'elsewhere' }] }, status: { parents: [...first.parents!, foreign] } };
    expect(routeStatus(trimmed, [], T2)!.parents).toEqual([foreign]);
  });

  it('does not move an entry back to an older generation', () => {
    const outcomes = translated().routes;
    const newer = { parentRef: { name: 'web' }, controllerName: 'gateway.k8s.aws/alb', conditions: [{ type: 'ResolvedRefs', status: 'True' as const, reason: 'ResolvedRefs', message: '', observedGeneration: 5 }] };
    expect(routeStatus({ ...route, status: { parents: [newer] } }, outcomes, T1)).toBeUndefined();
  });
});
