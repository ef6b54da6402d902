import { describe, expect, it } from 'vitest';
import { attachRoutes, compatibleHostname, GatewayLoadError, routeHostnames, routeRef } from '../../../../src/k8s/gateway/attach.ts';
import { validateListeners } from '../../../../src/k8s/gateway/listeners.ts';
import { ALB_GATEWAY_CONTROLLER, type Gateway, type GatewayListener, type ParentReference } from '../../../../src/k8s/gateway/model.ts';
import { backend, gateway, httpRoute, listener } from '../../../support/gateway-fixtures.ts';

function attach(listeners: GatewayListener[], parentRefs: ParentReference[], options: { namespace?: string; hostnames?: string[]; labels?: Record<string, Record<string, string>> } = {}) {
  const gw = gateway('web', 'alb', listeners) as Gateway;
  const route = routeRef('HTTPRoute', httpRoute('r', parentRefs, [{ backendRefs: [backend('svc', 80)] }], { namespace: options.namespace ?? 'default', ...(options.hostnames ? { hostnames: options.hostnames } : {}) }));
  const result = attachRoutes(gw, validateListeners(ALB_GATEWAY_CONTROLLER, listeners), [route], (ns) => options.labels?.[ns]);
  return { result, route };
}

describe('attachRoutes (spec 15.1.3)', () => {
  it.each<[string, GatewayListener[], ParentReference[], { namespace?: string; hostnames?: string[]; labels?: Record<string, Record<string, string>> }, { ports: number[]; failure?: [string, string] }]>([
    ['attaches to every listener without sectionName or port', [listener('a', 'HTTP', 80), listener('b', 'HTTP', 8080)], [{ name: 'web' }], {}, { ports: [80, 8080] }],
    ['attaches only to the listener named by sectionName', [listener('a', 'HTTP', 80), listener('b', 'HTTP', 8080)], [{ name: 'web', sectionName: 'b' }], {}, { ports: [8080] }],
    ['attaches only to listeners on the parentRef port', [listener('a', 'HTTP', 80), listener('b', 'HTTP', 8080)], [{ name: 'web', port: 80 }], {}, { ports: [80] }],
    ['reports NoMatchingParent for a sectionName whose port differs', [listener('a', 'HTTP', 80)], [{ name: 'web', sectionName: 'a', port: 81 }], {}, { ports: [], failure: ['NoMatchingParent', 'Route parentRef does not match listener'] }],
    ['reports NoMatchingParent for an unknown sectionName', [listener('a', 'HTTP', 80)], [{ name: 'web', sectionName: 'nope' }], {}, { ports: [], failure: ['NoMatchingParent', 'Route parentRef does not match listener'] }],
    [
      'refuses a route from another namespace by default (from: Same)',
      [listener('a', 'HTTP', 80)],
      [{ name: 'web', namespace: 'default' }],
      { namespace: 'team' },
      { ports: [], failure: ['NotAllowedByListeners', 'Listener does not allow route attachment, namespace does not match between listener and route'] },
    ],
    ['lets a route from another namespace attach with from: All', [listener('a', 'HTTP', 80, { allowedRoutes: { namespaces: { from: 'All' } } })], [{ name: 'web', namespace: 'default' }], { namespace: 'team' }, { ports: [80] }],
    [
      'lets a route attach with from: Selector when its namespace labels match',
      [listener('a', 'HTTP', 80, { allowedRoutes: { namespaces: { from: 'Selector', selector: { matchLabels: { shared: 'yes' } } } } })],
      [{ name: 'web', namespace: 'default' }],
      { namespace: 'team', labels: { team: { shared: 'yes' } } },
      { ports: [80] },
    ],
    [
      'refuses with from: Selector when the labels do not match',
      [listener('a', 'HTTP', 80, { allowedRoutes: { namespaces: { from: 'Selector', selector: { matchLabels: { shared: 'yes' } } } } })],
      [{ name: 'web', namespace: 'default' }],
      { namespace: 'team', labels: { team: { shared: 'no' } } },
      { ports: [], failure: ['NotAllowedByListeners', 'Listener does not allow route attachment, namespace does not match between listener and route'] },
    ],
    ['refuses every route with from: None', [listener('a', 'HTTP', 80, { allowedRoutes: { namespaces: { from: 'None' } } })], [{ name: 'web' }], {}, { ports: [], failure: ['NotAllowedByListeners', 'Listener does not allow route attachment, namespace does not match between listener and route'] }],
    [
      'refuses an HTTPRoute on a listener that allows only GRPCRoute',
      [listener('a', 'HTTPS', 443, { allowedRoutes: { kinds: [{ kind: 'GRPCRoute' }] } })],
      [{ name: 'web' }],
      {},
      { ports: [], failure: ['NotAllowedByListeners', 'Listener does not allow route attachment, kind does not match between listener and route'] },
    ],
    [
      'refuses a route whose hostnames match no listener hostname',
      [listener('a', 'HTTP', 80, { hostname: '*.example.com' })],
      [{ name: 'web' }],
      { hostnames: ['shop.example.org'] },
      { ports: [], failure: ['NoMatchingListenerHostname', 'Listener does not allow route attachment, no matching hostname'] },
    ],
    ['attaches when one of two listeners accepts (the other refusing by hostname)', [listener('a', 'HTTP', 80, { hostname: 'a.example.com' }), listener('b', 'HTTP', 81)], [{ name: 'web' }], { hostnames: ['b.example.com'] }, { ports: [81] }],
    ['skips a parentRef naming another Gateway (no status)', [listener('a', 'HTTP', 80)], [{ name: 'other' }], {}, { ports: [] }],
    ['skips a parentRef of another kind', [listener('a', 'HTTP', 80)], [{ name: 'web', kind: 'Service' }], {}, { ports: [] }],
  ])('%s', (_name, listeners, parentRefs, options, want) => {
    const { result, route } = attach(listeners, parentRefs, options);
    expect([...result.routesByPort].filter(([, routes]) => routes.some((r) => r.id === route.id)).map(([port]) => port)).toEqual(want.ports);
    expect(result.failures.map((f) => [f.reason, f.message])).toEqual(want.failure ? [want.failure] : []);
  });

  it('counts attached routes per listener, and invalid listeners get no routes', () => {
    const { result } = attach([listener('a', 'HTTP', 80), listener('tcp', 'TCP', 81)], [{ name: 'web' }]);
    expect(Object.fromEntries(result.attachedRoutes)).toEqual({ a: 1, tcp: 0 });
    expect([...result.routesByPort.keys()]).toEqual([80]);
  });

  it.each([
    ['*.example.com', 'a.example.com', 'a.example.com'],
    ['a.example.com', '*.example.com', 'a.example.com'],
    ['a.example.com', 'a.example.com', 'a.example.com'],
    ['*.example.com', 'a.b.example.com', 'a.b.example.com'],
    ['a.example.com', 'b.example.com', undefined],
  ])('compatibleHostname(%s, %s) is %s (the more specific one)', (a, b, want) => {
    expect(compatibleHostname(a, b)).toBe(want);
  });

  it('serves the listener hostname when the route has none, and the intersection when both have some', () => {
    const own = attach([listener('a', 'HTTP', 80, { hostname: 'shop.example.com' })], [{ name: 'web' }]);
    expect(routeHostnames(own.result, 80, own.route)).toEqual(['shop.example.com']);
    const both = attach([listener('a', 'HTTP', 80, { hostname: '*.example.com' })], [{ name: 'web' }], { hostnames: ['a.example.com', 'b.example.org', 'c.example.com'] });
    expect(routeHostnames(both.result, 80, both.route)).toEqual(['a.example.com', 'c.example.com']);
  });

  it('fails the whole Gateway load for an IP address as listener hostname (ListenersNotValid, with the messages values swapped as the controller has them)', () => {
    expect(() => attach([listener('a', 'HTTP', 80, { hostname: '10.0.0.1' })], [{ name: 'web' }], { hostnames: ['a.example.com'] })).toThrow(GatewayLoadError);
    expect(() => attach([listener('a', 'HTTP', 80, { hostname: '10.0.0.1' })], [{ name: 'web' }], { hostnames: ['a.example.com'] })).toThrow('listener hostname a is not valid (listener name 10.0.0.1)');
  });
});
