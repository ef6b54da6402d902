/**
 * Gateway listener validation as the AWS Load Balancer Controller does it before any route is
 * attached (spec 15.1.2): in list order, the first failing check decides; earlier listeners win
 * port and hostname conflicts. Pure.
 */
import {
  ALB_GATEWAY_CONTROLLER,
  GATEWAY_API_GROUP,
  type GatewayControllerName,
  type GatewayListener,
  type RouteGroupKind,
  type RouteKind,
} from './model.ts';

/** The route kinds a listener takes when `allowedRoutes.kinds` is empty (spec 15.1.2). */
export const DEFAULT_ROUTE_KINDS: Readonly<Record<string, readonly RouteKind[]>> = {
  HTTP: ['HTTPRoute'],
  HTTPS: ['HTTPRoute', 'GRPCRoute'],
  TCP: ['TCPRoute'],
  UDP: ['UDPRoute'],
  TLS: ['TLSRoute', 'TCPRoute'],
};

export type ListenerReason = 'Accepted' | 'InvalidRouteKinds' | 'PortUnavailable' | 'UnsupportedProtocol' | 'ProtocolConflict' | 'HostnameConflict';

export interface ListenerValidation {
  readonly name: string;
  readonly valid: boolean;
  readonly reason: ListenerReason;
  readonly message: string;
  readonly supportedKinds: readonly RouteGroupKind[];
}

export const LISTENER_ACCEPTED_MESSAGE = 'Listener is accepted.';

/** `supportedKinds` of a listener, and whether every kind it names is one this controller serves. */
export function supportedKinds(controller: GatewayControllerName, listener: GatewayListener): { kinds: RouteGroupKind[]; ok: boolean } {
  const named = listener.allowedRoutes?.kinds ?? [];
  if (named.length === 0) return { kinds: (DEFAULT_ROUTE_KINDS[listener.protocol] ?? []).map((kind) => ({ group: GATEWAY_API_GROUP, kind })), ok: true };
  const served: readonly string[] = controller === ALB_GATEWAY_CONTROLLER ? ['HTTPRoute', 'GRPCRoute'] : ['TCPRoute', 'TLSRoute', 'UDPRoute'];
  // The group of a named kind is not checked (spec 15.1.2).
  const kinds = named.filter((k) => served.includes(k.kind)).map((k) => ({ group: GATEWAY_API_GROUP, kind: k.kind }));
  return { kinds, ok: kinds.length === named.length };
}

/** The kinds a listener lets attach (for the route handshake): `allowedRoutes.kinds`, else the protocol's defaults. */
export function allowedKinds(listener: GatewayListener): readonly string[] {
  const named = listener.allowedRoutes?.kinds ?? [];
  return named.length > 0 ? named.map((k) => k.kind) : (DEFAULT_ROUTE_KINDS[listener.protocol] ?? []);
}

/** Validates every listener of a Gateway for one controller, in order (spec 15.1.2). */
export function validateListeners(controller: GatewayControllerName, listeners: readonly GatewayListener[]): ListenerValidation[] {
  const protocolOfPort = new Map<number, string>();
  const hostOnPort = new Set<string>();
  const alb = controller === ALB_GATEWAY_CONTROLLER;
  return listeners.map((l) => {
    const { kinds, ok } = supportedKinds(controller, l);
    const result = (reason: ListenerReason, message: string): ListenerValidation => ({ name: l.name, valid: reason === 'Accepted', reason, message, supportedKinds: kinds });
    if (!ok) return result('InvalidRouteKinds', `Invalid route kind for listener ${l.name}`);
    if (!Number.isInteger(l.port) || l.port < 1 || l.port > 65535) return result('PortUnavailable', `Port ${l.port} is not available (listener name ${l.name})`);
    const protocols = alb ? ['HTTP', 'HTTPS'] : ['TCP', 'UDP', 'TLS'];
    if (!protocols.includes(l.protocol)) return result('UnsupportedProtocol', `Unsupported protocol ${l.protocol} for listener ${l.name}`);
    let verdict = result('Accepted', LISTENER_ACCEPTED_MESSAGE);
    const existing = protocolOfPort.get(l.port);
    if (existing === undefined) protocolOfPort.set(l.port, l.protocol);
    else if (existing !== l.protocol && !((existing === 'TCP' && l.protocol === 'UDP') || (existing === 'UDP' && l.protocol === 'TCP'))) {
      verdict = result('ProtocolConflict', `Protocol conflict for port ${l.port}`);
    }
    if (l.hostname !== undefined) {
      const key = `${l.port}-${l.hostname}`;
      if (hostOnPort.has(key)) verdict = result('HostnameConflict', `Hostname conflict for port ${l.port} with hostname ${l.hostname}`);
      else hostOnPort.add(key);
    }
    return verdict;
  });
}
