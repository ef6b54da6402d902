import { describe, expect, it } from 'vitest';
import { validateListeners } from '../../../../src/k8s/gateway/listeners.ts';
import { ALB_GATEWAY_CONTROLLER, NLB_GATEWAY_CONTROLLER, type GatewayListener } from '../../../../src/k8s/gateway/model.ts';
import { listener } from '../../../support/gateway-fixtures.ts';

const ALB = ALB_GATEWAY_CONTROLLER;
const NLB = NLB_GATEWAY_CONTROLLER;

describe('validateListeners (spec 15.1.2)', () => {
  it.each<[string, typeof ALB | typeof NLB, GatewayListener[], Array<[string, string, string]>]>([
    ['accepts HTTP and HTTPS on an ALB Gateway', ALB, [listener('http', 'HTTP', 80), listener('https', 'HTTPS', 443)], [['http', 'Accepted', 'Listener is accepted.'], ['https', 'Accepted', 'Listener is accepted.']]],
    ['refuses TCP on an ALB Gateway as UnsupportedProtocol', ALB, [listener('tcp', 'TCP', 5432)], [['tcp', 'UnsupportedProtocol', 'Unsupported protocol TCP for listener tcp']]],
    ['refuses HTTP on an NLB Gateway as UnsupportedProtocol', NLB, [listener('http', 'HTTP', 80)], [['http', 'UnsupportedProtocol', 'Unsupported protocol HTTP for listener http']]],
    ['accepts TCP and UDP on one port of an NLB Gateway (TCP_UDP)', NLB, [listener('tcp', 'TCP', 53), listener('udp', 'UDP', 53)], [['tcp', 'Accepted', 'Listener is accepted.'], ['udp', 'Accepted', 'Listener is accepted.']]],
    ['refuses TLS after TCP on one port as ProtocolConflict', NLB, [listener('tcp', 'TCP', 443), listener('tls', 'TLS', 443)], [['tcp', 'Accepted', 'Listener is accepted.'], ['tls', 'ProtocolConflict', 'Protocol conflict for port 443']]],
    [
      'refuses the second listener with the same port and hostname as HostnameConflict',
      ALB,
      [listener('a', 'HTTP', 80, { hostname: 'a.example.com' }), listener('b', 'HTTP', 80, { hostname: 'a.example.com' }), listener('c', 'HTTP', 80)],
      [['a', 'Accepted', 'Listener is accepted.'], ['b', 'HostnameConflict', 'Hostname conflict for port 80 with hostname a.example.com'], ['c', 'Accepted', 'Listener is accepted.']],
    ],
    ['refuses port 0 as PortUnavailable', ALB, [listener('zero', 'HTTP', 0)], [['zero', 'PortUnavailable', 'Port 0 is not available (listener name zero)']]],
    ['refuses a TCPRoute kind on an ALB listener as InvalidRouteKinds', ALB, [listener('http', 'HTTP', 80, { allowedRoutes: { kinds: [{ kind: 'TCPRoute' }] } })], [['http', 'InvalidRouteKinds', 'Invalid route kind for listener http']]],
  ])('%s', (_name, controller, listeners, expected) => {
    expect(validateListeners(controller, listeners).map((v) => [v.name, v.reason, v.message])).toEqual(expected);
  });

  it.each([
    ['HTTP', ['HTTPRoute']],
    ['HTTPS', ['HTTPRoute', 'GRPCRoute']],
    ['TCP', ['TCPRoute']],
    ['UDP', ['UDPRoute']],
    ['TLS', ['TLSRoute', 'TCPRoute']],
  ])('publishes the default supportedKinds of a %s listener: %j', (protocol, kinds) => {
    const controller = protocol === 'HTTP' || protocol === 'HTTPS' ? ALB : NLB;
    expect(validateListeners(controller, [listener('l', protocol, 8000)])[0]!.supportedKinds).toEqual(kinds.map((kind) => ({ group: 'gateway.networking.k8s.io', kind })));
  });
});
