/**
 * Route attachment as the AWS Load Balancer Controller performs it for one Gateway (spec
 * 15.1.3): which parentRefs name the Gateway, which listeners a parentRef selects (sectionName,
 * port), the per-listener handshake (allowedRoutes namespaces, kinds, hostnames), and the
 * hostnames each attached route serves on each port. Pure.
 */
import { isIP } from 'node:net';
import { allowedKinds, type ListenerValidation } from './listeners.ts';
import {
  createdMs,
  keyOf,
  nameOf,
  namespaceOf,
  selectorMatches,
  type Gateway,
  type GatewayListener,
  type GatewayObject,
  type ParentReference,
  type RouteKind,
} from './model.ts';

/** A route of any kind, with what attachment and ordering read of it. */
export interface RouteRef<R extends GatewayObject = GatewayObject> {
  readonly kind: RouteKind;
  readonly route: R;
  readonly namespace: string;
  readonly name: string;
  /** `namespace/name`. */
  readonly key: string;
  /** `kind/namespace/name`: one identity across kinds. */
  readonly id: string;
  readonly generation: number;
  readonly createdMs: number;
  readonly hostnames: readonly string[];
  readonly parentRefs: readonly ParentReference[];
}

export function routeRef<R extends GatewayObject & { spec?: { parentRefs?: readonly ParentReference[]; hostnames?: readonly string[] } }>(kind: RouteKind, route: R): RouteRef<R> {
  return {
    kind,
    route,
    namespace: namespaceOf(route),
    name: nameOf(route),
    key: keyOf(route),
    id: `${kind}/${keyOf(route)}`,
    generation: route.metadata?.generation ?? 1,
    createdMs: createdMs(route),
    hostnames: kind === 'TCPRoute' || kind === 'UDPRoute' ? [] : (route.spec?.hostnames ?? []),
    parentRefs: route.spec?.parentRefs ?? [],
  };
}

/** One route status outcome for one parentRef (the controller's RouteData). */
export interface RouteParentOutcome {
  readonly route: RouteRef;
  readonly parentRef: ParentReference;
  readonly accepted: boolean;
  readonly resolvedRefs: boolean;
  readonly reason: string;
  readonly message: string;
}

export const ROUTE_MESSAGES = {
  noMatchingHostname: 'Listener does not allow route attachment, no matching hostname',
  namespaceNotMatch: 'Listener does not allow route attachment, namespace does not match between listener and route',
  kindNotMatch: 'Listener does not allow route attachment, kind does not match between listener and route',
  parentNotMatch: 'Route parentRef does not match listener',
} as const;

/** A failure the controller reports on the Gateway itself (its LoaderError): Accepted=False with this reason. */
export class GatewayLoadError extends Error {
  readonly reason: string;
  constructor(reason: string, message: string) {
    super(message);
    this.reason = reason;
  }
}

export interface AttachmentResult {
  /** Valid listener ports → the routes attached there, each once, in attachment order. */
  readonly routesByPort: ReadonlyMap<number, readonly RouteRef[]>;
  /** port → route id → the compatible hostnames (listener ∩ route) the route serves there. */
  readonly hostnamesByPort: ReadonlyMap<number, ReadonlyMap<string, ReadonlySet<string>>>;
  /** route id → the parentRefs that attached (for Accepted=True). */
  readonly matchedParentRefs: ReadonlyMap<string, readonly ParentReference[]>;
  readonly failures: readonly RouteParentOutcome[];
  /** listener name → routes accepted on it. */
  readonly attachedRoutes: ReadonlyMap<string, number>;
  /** The valid listeners, in Gateway order (what the model is built from). */
  readonly listeners: readonly GatewayListener[];
}

/** A parentRef names this Gateway: kind Gateway (or absent), its name, its namespace (default the route's). Group is not compared. */
export function refersToGateway(ref: ParentReference, routeNamespace: string, gateway: Gateway): boolean {
  if (ref.kind !== undefined && ref.kind !== 'Gateway') return false;
  return ref.name === nameOf(gateway) && (ref.namespace ?? routeNamespace) === namespaceOf(gateway);
}

/**
 * RFC 1123 except: no IP address, each label 1–63 characters (the CRD pattern checks the rest).
 * `undefined` when valid, else why not.
 */
export function hostnameProblem(hostname: string): string | undefined {
  if (isIP(hostname) !== 0) return 'hostname can not be IP address';
  const labels = hostname.split('.');
  for (const label of hostname.startsWith('*.') ? labels.slice(1) : labels) {
    if (label.length < 1 || label.length > 63) return 'invalid hostname label length, length must between 1 and 63';
  }
  return undefined;
}

/** The more specific of two compatible hostnames (`*.example.com` and `a.example.com` → `a.example.com`), else undefined. */
export function compatibleHostname(a: string, b: string): string | undefined {
  if (a === b) return a;
  if (a.startsWith('*.') && b.endsWith(a.slice(1))) return b;
  if (b.startsWith('*.') && a.endsWith(b.slice(1))) return a;
  return undefined;
}

function namespaceAllows(listener: GatewayListener, routeNamespace: string, gatewayNamespace: string, namespaceLabels: (ns: string) => Readonly<Record<string, string>> | undefined): boolean {
  const from = listener.allowedRoutes?.namespaces?.from ?? 'Same';
  switch (from) {
    case 'None':
      return false;
    case 'Same':
      return routeNamespace === gatewayNamespace;
    case 'All':
      return true;
    case 'Selector': {
      const selector = listener.allowedRoutes?.namespaces?.selector;
      return selector !== undefined && selectorMatches(selector, namespaceLabels(routeNamespace));
    }
    default:
      return false;
  }
}

/** The handshake of one listener with one route: the compatible hostnames, or the failure. */
function handshake(
  listener: GatewayListener,
  route: RouteRef,
  ref: ParentReference,
  gatewayNamespace: string,
  namespaceLabels: (ns: string) => Readonly<Record<string, string>> | undefined,
): { hostnames: string[] } | { failure: RouteParentOutcome } {
  const fail = (reason: string, message: string) => ({ failure: { route, parentRef: ref, accepted: false, resolvedRefs: true, reason, message } });
  if (!namespaceAllows(listener, route.namespace, gatewayNamespace, namespaceLabels)) return fail('NotAllowedByListeners', ROUTE_MESSAGES.namespaceNotMatch);
  if (!allowedKinds(listener).includes(route.kind)) return fail('NotAllowedByListeners', ROUTE_MESSAGES.kindNotMatch);
  if (route.kind !== 'HTTPRoute' && route.kind !== 'GRPCRoute' && route.kind !== 'TLSRoute') return { hostnames: [] };
  if (route.hostnames.length === 0) return { hostnames: listener.hostname !== undefined ? [listener.hostname] : [] };
  if (listener.hostname === undefined) return { hostnames: [] };
  if (hostnameProblem(listener.hostname) !== undefined) {
    // The controller's message swaps the two values.
    throw new GatewayLoadError('ListenersNotValid', `listener hostname ${listener.name} is not valid (listener name ${listener.hostname})`);
  }
  const compatible = route.hostnames.filter((h) => hostnameProblem(h) === undefined).flatMap((h) => compatibleHostname(h, listener.hostname!) ?? []);
  if (compatible.length === 0) return fail('NoMatchingListenerHostname', ROUTE_MESSAGES.noMatchingHostname);
  return { hostnames: compatible };
}

/**
 * Attaches `routes` (the controller's kinds only) to `gateway` whose listeners were validated
 * as `validations` (same order). Throws GatewayLoadError when a listener hostname is invalid.
 */
export function attachRoutes(
  gateway: Gateway,
  validations: readonly ListenerValidation[],
  routes: readonly RouteRef[],
  namespaceLabels: (ns: string) => Readonly<Record<string, string>> | undefined,
): AttachmentResult {
  const listeners = gateway.spec?.listeners ?? [];
  const gatewayNamespace = namespaceOf(gateway);
  const accepted = new Map<string, RouteRef[]>(listeners.map((l) => [l.name, []]));
  const byName = new Map(listeners.map((l) => [l.name, l]));
  const hostnamesByPort = new Map<number, Map<string, Set<string>>>();
  const matchedParentRefs = new Map<string, ParentReference[]>();
  const failures: RouteParentOutcome[] = [];

  for (const route of routes) {
    for (const ref of route.parentRefs) {
      if (!refersToGateway(ref, route.namespace, gateway)) continue;
      const targets = ref.sectionName === undefined ? listeners.filter((l) => ref.port === undefined || ref.port === l.port) : [byName.get(ref.sectionName)].filter((l): l is GatewayListener => l !== undefined && (ref.port === undefined || ref.port === l.port));
      const localFailures: RouteParentOutcome[] = [];
      let attached = false;
      for (const listener of targets) {
        const result = handshake(listener, route, ref, gatewayNamespace, namespaceLabels);
        if ('failure' in result) {
          localFailures.push(result.failure);
          continue;
        }
        attached = true;
        accepted.get(listener.name)!.push(route);
        const perRoute = hostnamesByPort.get(listener.port) ?? new Map<string, Set<string>>();
        hostnamesByPort.set(listener.port, perRoute);
        const set = perRoute.get(route.id) ?? new Set<string>();
        perRoute.set(route.id, set);
        for (const h of result.hostnames) set.add(h);
      }
      if (attached) {
        matchedParentRefs.set(route.id, [...(matchedParentRefs.get(route.id) ?? []), ref]);
        continue;
      }
      if (localFailures.length === 0) {
        failures.push({ route, parentRef: ref, accepted: false, resolvedRefs: true, reason: 'NoMatchingParent', message: ROUTE_MESSAGES.parentNotMatch });
      } else failures.push(...localFailures);
    }
  }

  const valid = new Set(validations.filter((v) => v.valid).map((v) => v.name));
  const routesByPort = new Map<number, RouteRef[]>();
  for (const l of listeners) {
    if (!valid.has(l.name)) continue;
    const list = routesByPort.get(l.port) ?? [];
    routesByPort.set(l.port, list);
    for (const r of accepted.get(l.name) ?? []) if (!list.some((x) => x.id === r.id)) list.push(r);
  }
  return {
    routesByPort,
    hostnamesByPort,
    matchedParentRefs,
    failures,
    attachedRoutes: new Map([...accepted].map(([name, list]) => [name, list.length])),
    listeners: listeners.filter((l) => valid.has(l.name)),
  };
}

/** The hostnames a route serves on a port: the compatible ones, else its own (spec 15.1.3). */
export function routeHostnames(result: AttachmentResult, port: number, route: RouteRef): string[] {
  const compatible = [...(result.hostnamesByPort.get(port)?.get(route.id) ?? [])];
  return compatible.length > 0 ? compatible : [...route.hostnames];
}

/** The identity of a parentRef in `status.parents` (group, kind, namespace defaulted to the route's, name, sectionName, port). */
export function parentStatusKey(ref: ParentReference, routeNamespace: string): string {
  return [ref.group ?? '', ref.kind ?? '', ref.namespace ?? routeNamespace, ref.name, ref.sectionName ?? '', ref.port ?? ''].join('/');
}
