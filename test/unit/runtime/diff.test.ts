/**
 * The runtime's pure diff (src/runtime/diff.ts): which listeners a change keeps, updates in
 * place, binds again or adds, and what happens to target groups and attributes.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig, type ConfigInput } from '../../../src/config/schema.ts';
import { printableConfig } from '../../../src/config/print.ts';
import { diffConfig, listenerChanges } from '../../../src/runtime/diff.ts';

const forward = (name: string) => [{ type: 'forward' as const, targetGroupName: name }];
const groups = [
  { name: 'a', protocol: 'HTTP' as const, port: 80 },
  { name: 'b', protocol: 'HTTP' as const, port: 80 },
];
type ListenerInput = NonNullable<ConfigInput['loadBalancers']>[number]['listeners'][number];
const alb = (listeners: ListenerInput[], type: 'application' | 'network' = 'application') =>
  parseConfig({ targetGroups: type === 'network' ? [{ name: 't', protocol: 'TCP', port: 80 }] : groups, loadBalancers: [{ name: 'lb', type, listeners }] });
const listenersOf = (c: ReturnType<typeof alb>) => c.loadBalancers[0]!.listeners;

const l80 = { port: 80, defaultActions: forward('a') };
const l81 = { port: 81, defaultActions: forward('a') };
const l82 = { port: 82, defaultActions: forward('b') };

describe('listenerChanges: what a load balancer does with its listeners after a change', () => {
  it.each([
    ['nothing changed: undefined', [l80, l81], [l80, l81], undefined],
    ['a listener added at the end: the others kept', [l80], [l80, l81], [{ from: 0 }, { new: true }]],
    ['the middle one deleted: the last kept although it moved', [l80, l81, l82], [l80, l82], [{ from: 0 }, { from: 2 }]],
    ['a rule added on a kept ALB listener: updated in place, not rebound', [l80, l81], [l80, { ...l81, rules: [{ priority: 1, conditions: [{ field: 'path-pattern', values: ['/x'] }], actions: forward('b') }] }], [{ from: 0 }, { from: 1 }]],
    ['its default action changed: updated in place', [l80], [{ ...l80, defaultActions: forward('b') }], [{ from: 0 }]],
    ['its port changed: the old one goes, a new one binds', [l80], [{ ...l80, port: 8080 }], [{ new: true }]],
  ] as const)('%s', (_name, before, after, expected) => {
    const changes = listenerChanges(listenersOf(alb(structuredClone(before) as unknown as ListenerInput[])), listenersOf(alb(structuredClone(after) as unknown as ListenerInput[])), { network: false });
    if (expected === undefined) return expect(changes).toBeUndefined();
    expect(changes!.map((c) => (c.from === undefined ? { new: true } : c.rebind ? { from: c.from, rebind: true } : { from: c.from }))).toEqual(expected);
  });

  it('binds an HTTPS listener again when its certificates or policy change (its TLS front end is made at bind)', () => {
    const https = { port: 443, protocol: 'HTTPS' as const, certificates: [{ certificateArn: 'arn:aws:acm:us-east-1:1:certificate/a' }], defaultActions: forward('a') };
    const more = { ...https, certificates: [...https.certificates, { certificateArn: 'arn:aws:acm:us-east-1:1:certificate/b' }] };
    expect(listenerChanges(listenersOf(alb([https])), listenersOf(alb([more])), { network: false })).toEqual([expect.objectContaining({ from: 0, rebind: true })]);
  });

  it("binds an NLB listener again on any change (its flows hold the group and settings), and when its group was replaced", () => {
    const tcp = { port: 7000, defaultActions: forward('t') };
    const before = listenersOf(alb([tcp], 'network'));
    expect(listenerChanges(before, listenersOf(alb([{ ...tcp, attributes: { 'tcp.idle_timeout.seconds': '120' } }], 'network')), { network: true })).toEqual([expect.objectContaining({ from: 0, rebind: true })]);
    expect(listenerChanges(before, listenersOf(alb([tcp], 'network')), { network: true, replacedGroups: new Set(['t']) })).toEqual([expect.objectContaining({ from: 0, rebind: true })]);
  });

  it('marks new and rebound listeners with fallback when asked (the ELBv2 API: a free port if theirs is taken)', () => {
    const changes = listenerChanges(listenersOf(alb([l80])), listenersOf(alb([l80, l81])), { network: false, fallback: true });
    expect(changes).toEqual([{ config: expect.anything(), from: 0 }, { config: expect.anything(), fallback: true }]);
  });
});

describe('diffConfig: target groups and load balancers', () => {
  const base = parseConfig({ targetGroups: groups, loadBalancers: [{ name: 'lb', listeners: [l80] }] });

  it('adds and removes groups and load balancers by name', () => {
    const next = parseConfig({ targetGroups: [groups[0]!, { name: 'c', protocol: 'HTTP', port: 80 }], loadBalancers: [{ name: 'other', listeners: [] }] });
    const diff = diffConfig(base, next);
    expect(diff.targetGroups.added.map((g) => g.name)).toEqual(['c']);
    expect(diff.targetGroups.removed).toEqual(['b']);
    expect(diff.loadBalancers.added.map((l) => l.name)).toEqual(['other']);
    expect(diff.loadBalancers.removed).toEqual(['lb']);
  });

  it('changes attributes in place, and replaces a group whose health check changed, never for its targets', () => {
    const next = parseConfig({
      targetGroups: [{ ...groups[0]!, attributes: { 'deregistration_delay.timeout_seconds': '5' }, targets: [{ id: '127.0.0.1' }] }, { ...groups[1]!, healthCheckPath: '/ready' }],
      loadBalancers: [{ name: 'lb', attributes: { 'idle_timeout.timeout_seconds': '120' }, listeners: [l80] }],
    });
    const diff = diffConfig(base, next);
    expect(diff.targetGroups.attributes).toEqual([{ name: 'a', changes: { 'deregistration_delay.timeout_seconds': '5' } }]);
    expect(diff.targetGroups.replaced.map((g) => g.name)).toEqual(['b']);
    expect(diff.loadBalancers.changed).toEqual([expect.objectContaining({ name: 'lb', attributes: { 'idle_timeout.timeout_seconds': '120' }, listeners: undefined, usesReplacedGroup: false })]);
  });

  it('tells an ALB that forwards to a replaced group to bind the new group object', () => {
    const next = parseConfig({ targetGroups: [{ ...groups[0]!, healthyThresholdCount: 3 }, groups[1]!], loadBalancers: [{ name: 'lb', listeners: [l80] }] });
    expect(diffConfig(base, next).loadBalancers.changed).toEqual([expect.objectContaining({ name: 'lb', listeners: undefined, usesReplacedGroup: true })]);
  });
});

describe('diffConfig: a config against itself read back (what every ELBv2 call starts from)', () => {
  it('finds nothing to change in a rich config after print → parse, so an API call never touches what it does not name', () => {
    const rich = parseConfig({
      certificates: [],
      targetGroups: [
        { name: 'web', protocol: 'HTTP', port: 80, healthCheckPath: '/healthz', matcher: { httpCode: '200-299' }, attributes: { 'load_balancing.algorithm.type': 'least_outstanding_requests', 'stickiness.enabled': 'true' }, targets: [{ id: '127.0.0.1', port: 3001 }] },
        { name: 'grpc', protocol: 'HTTPS', protocolVersion: 'GRPC', port: 50051 },
        { name: 'tcp', protocol: 'TCP', port: 7000, healthCheckProtocol: 'HTTP', attributes: { 'proxy_protocol_v2.enabled': 'true' } },
        { name: 'pods', protocol: 'HTTP', pods: { command: ['node', 'app.js'], replicas: 2, readinessProbe: { httpGet: { path: '/ready' } } }, propagation: { endpointsDelaySeconds: 2 } },
      ],
      loadBalancers: [
        {
          name: 'app',
          attributes: { 'idle_timeout.timeout_seconds': '120' },
          listeners: [
            {
              port: 443,
              protocol: 'HTTPS',
              certificates: [{ certificateArn: 'arn:aws:acm:us-east-1:1:certificate/a' }],
              defaultActions: [{ type: 'forward', forwardConfig: { targetGroups: [{ targetGroupName: 'web', weight: 3 }, { targetGroupName: 'pods', weight: 1 }], targetGroupStickinessConfig: { enabled: true, durationSeconds: 60 } } }],
              rules: [
                { priority: 1, conditions: [{ field: 'http-header', httpHeaderConfig: { httpHeaderName: 'x-env', values: ['dev'] } }, { field: 'query-string', queryStringConfig: { values: [{ key: 'a', value: 'b' }] } }], actions: [{ type: 'forward', targetGroupName: 'grpc' }] },
                { priority: 2, conditions: [{ field: 'host-header', values: ['old.example.com'] }], actions: [{ type: 'redirect', redirectConfig: { host: 'new.example.com', statusCode: 'HTTP_301' } }] },
              ],
              attributes: { 'routing.http.response.server.enabled': 'false' },
            },
          ],
        },
        { name: 'edge', type: 'network', listeners: [{ port: 7000, defaultActions: [{ type: 'forward', targetGroupName: 'tcp' }], attributes: { 'tcp.idle_timeout.seconds': '120' } }] },
      ],
    });
    const again = parseConfig(printableConfig(rich));
    const diff = diffConfig(rich, again);
    expect(diff).toEqual({ targetGroups: { added: [], removed: [], replaced: [], attributes: [] }, loadBalancers: { added: [], removed: [], changed: [] } });
  });
});
