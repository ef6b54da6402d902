/**
 * Route backends as the AWS Load Balancer Controller loads them (spec 15.1.4): Service
 * backendRefs with their ReferenceGrant check, the TargetGroupConfiguration that applies
 * (spec 15.2.1, 15.2.4), and the target group and targets each backend becomes (spec 15.1.9).
 * Pure: objects in, target groups and targets out.
 */
import { createHash } from 'node:crypto';
import type { V1Service, V1ServicePort } from '@kubernetes/client-node';
import { GRPC_HEALTH_CHECK_PATH, type ConfigInput, type ProtocolVersion } from '../../config/schema.ts';
import type { DesiredTarget } from '../../runtime/endpoints.ts';
import { instanceTargets, ipTargets, READINESS_GATE_INJECT_LABEL, type ClusterSnapshot } from '../translate.ts';
import type { RouteRef } from './attach.ts';
import { GATEWAY_API_GROUP, selectorMatches, type BackendRef, type GatewayApiSnapshot, type KeyValue, type TargetGroupConfiguration, type TargetGroupProps } from './model.ts';

export type TargetGroupInput = NonNullable<ConfigInput['targetGroups']>[number];

/** The controller's backendRef weight limit (Gateway API allows 1,000,000; spec 15.1.4). */
export const MAX_BACKEND_WEIGHT = 999;

export const REFERENCE_GRANT_MISSING = 'No explicit ReferenceGrant exists to allow the reference.';

export interface ServiceBackend {
  readonly kind: 'Service';
  readonly service: V1Service;
  readonly port: V1ServicePort;
  /** Service TGC merged over the default TGC (undefined: controller defaults only). */
  readonly props: TargetGroupProps | undefined;
  readonly weight: number;
}

/** A backend the controller accepts but local-elb cannot serve (a target group by name, Gateway chaining). */
export interface UnservedBackend {
  readonly kind: 'TargetGroupName' | 'Gateway';
  readonly name: string;
  readonly weight: number;
}

export type Backend = ServiceBackend | UnservedBackend;

/** A backend the controller drops, with the route status it writes (reason and message, spec 15.1.10). */
export interface BackendFailure {
  readonly reason: 'UnsupportedValue' | 'RefNotPermitted' | 'BackendNotFound' | 'InvalidKind';
  readonly message: string;
}

/** Thrown for what aborts the whole Gateway's reconcile with a plain error (no Gateway condition). */
export class GatewayReconcileError extends Error {}

/** `from` (route kind, namespace) may reference Service `name` in `toNamespace` (spec 15.1.4). */
export function referenceGranted(grants: GatewayApiSnapshot['referenceGrants'], route: RouteRef, toNamespace: string, name: string): boolean {
  return grants.some(
    (g) =>
      (g.metadata?.namespace ?? 'default') === toNamespace &&
      (g.spec?.from ?? []).some((f) => f.group === GATEWAY_API_GROUP && f.kind === route.kind && f.namespace === route.namespace) &&
      (g.spec?.to ?? []).some((t) => t.group === '' && t.kind === 'Service' && (t.name === undefined || t.name === '' || t.name === name)),
  );
}

/** Props of one TGC for a route: the best routeConfigurations entry merged over defaultConfiguration (spec 15.2.1). */
export function propsForRoute(tgc: TargetGroupConfiguration | undefined, route: { kind: string; namespace: string; name: string }): TargetGroupProps | undefined {
  if (tgc === undefined) return undefined;
  const base = tgc.spec?.defaultConfiguration ?? {};
  let matched: TargetGroupProps | undefined;
  let rank = 0;
  for (const entry of tgc.spec?.routeConfigurations ?? []) {
    const id = entry.routeIdentifier;
    const kindEquals = (id.kind ?? '') === route.kind;
    const nsEquals = (id.namespace ?? '') === route.namespace;
    if (kindEquals && nsEquals && (id.name ?? '') === route.name) {
      matched = entry.targetGroupProps;
      break;
    }
    if (id.name) continue;
    if (kindEquals && nsEquals && rank < 2) {
      matched = entry.targetGroupProps;
      rank = 2;
    } else if (kindEquals && !id.namespace && rank < 1) {
      matched = entry.targetGroupProps;
      rank = 1;
    }
  }
  return mergeProps(matched, base);
}

function mergeKeyValues(high: readonly KeyValue[] | undefined, low: readonly KeyValue[] | undefined): KeyValue[] | undefined {
  if (high === undefined && low === undefined) return undefined;
  const map = new Map<string, string>();
  for (const kv of low ?? []) map.set(kv.key, kv.value);
  for (const kv of high ?? []) map.set(kv.key, kv.value);
  return [...map].map(([key, value]) => ({ key, value }));
}

/** Shallow per prop (a healthCheckConfig is replaced whole), tags and targetGroupAttributes per key. */
export function mergeProps(high: TargetGroupProps | undefined, low: TargetGroupProps | undefined): TargetGroupProps | undefined {
  if (high === undefined) return low;
  if (low === undefined) return high;
  const merged: Record<string, unknown> = { ...low, ...Object.fromEntries(Object.entries(high).filter(([, v]) => v !== undefined)) };
  const tags = high.tags === undefined && low.tags === undefined ? undefined : { ...low.tags, ...high.tags };
  const attributes = mergeKeyValues(high.targetGroupAttributes, low.targetGroupAttributes);
  if (tags !== undefined) merged.tags = tags;
  if (attributes !== undefined) merged.targetGroupAttributes = attributes;
  return merged as TargetGroupProps;
}

/** The Service's own TGC: same namespace, `targetReference` kind Service (or none given) and its name. */
export function serviceTargetGroupConfiguration(configs: readonly TargetGroupConfiguration[], service: V1Service): TargetGroupConfiguration | undefined {
  return configs.find(
    (c) =>
      (c.metadata?.namespace ?? 'default') === (service.metadata?.namespace ?? 'default') &&
      c.spec?.targetReference !== undefined &&
      (c.spec.targetReference.kind ?? 'Service') === 'Service' &&
      c.spec.targetReference.name === service.metadata?.name,
  );
}

/** One backendRef → a backend, a route-status failure, or (weight above 999) a reconcile error. */
export function resolveBackend(
  cluster: ClusterSnapshot,
  gatewayApi: GatewayApiSnapshot,
  route: RouteRef,
  ref: BackendRef,
  defaultTgc: TargetGroupConfiguration | undefined,
): { backend: Backend } | { failure: BackendFailure } {
  const weight = ref.weight ?? 1;
  const checkWeight = () => {
    if (weight > MAX_BACKEND_WEIGHT) throw new GatewayReconcileError(`Weight [${weight}] must be less than or equal to ${MAX_BACKEND_WEIGHT}`);
  };
  if (ref.kind === 'TargetGroupName') {
    checkWeight();
    return { backend: { kind: 'TargetGroupName', name: ref.name, weight } };
  }
  if (ref.kind === 'Gateway') {
    checkWeight();
    return { backend: { kind: 'Gateway', name: `${ref.namespace ?? route.namespace}/${ref.name}`, weight } };
  }
  if (ref.kind !== undefined && ref.kind !== 'Service') return { failure: { reason: 'InvalidKind', message: 'Unknown backend reference kind' } };
  if (ref.port === undefined) return { failure: { reason: 'UnsupportedValue', message: 'Port is required' } };
  const namespace = ref.namespace ?? route.namespace;
  if (namespace !== route.namespace && !referenceGranted(gatewayApi.referenceGrants, route, namespace, ref.name)) {
    return { failure: { reason: 'RefNotPermitted', message: REFERENCE_GRANT_MISSING } };
  }
  const service = cluster.services.find((s) => (s.metadata?.namespace ?? 'default') === namespace && s.metadata?.name === ref.name);
  // The stray ")" is the controller's.
  if (service === undefined) return { failure: { reason: 'BackendNotFound', message: `Service (${namespace}:${ref.name}) not found)` } };
  const port = (service.spec?.ports ?? []).find((p) => p.port === ref.port);
  if (port === undefined) return { failure: { reason: 'BackendNotFound', message: `Unable to find service port for port ${ref.port}` } };
  checkWeight();
  const routeId = { kind: route.kind, namespace: route.namespace, name: route.name };
  const props = mergeProps(propsForRoute(serviceTargetGroupConfiguration(gatewayApi.targetGroupConfigurations, service), routeId), propsForRoute(defaultTgc, routeId));
  return { backend: { kind: 'Service', service, port, props, weight } };
}

// ---------------------------------------------------------------------------------------------
// Target groups (spec 15.1.9)

export interface TargetGroupContext {
  readonly cluster: ClusterSnapshot;
  readonly loadBalancerType: 'application' | 'network';
  readonly gateway: { readonly namespace: string; readonly name: string };
  /** `--default-target-type` of the controller (default `instance`). */
  readonly defaultTargetType: 'instance' | 'ip';
  readonly clusterName: string;
}

export interface BuiltTargetGroup {
  readonly input: TargetGroupInput;
  readonly targets: readonly DesiredTarget[];
  /** ip targets in a namespace labelled for readiness-gate injection. */
  readonly readinessGates: boolean;
}

function numericTargetPort(port: V1ServicePort): number | undefined {
  const t = port.targetPort ?? port.port;
  if (typeof t === 'number') return t;
  return /^\d+$/.test(String(t)) ? Number(t) : undefined;
}

/** `k8s-<routeNs[:8]>-<routeName[:8]>-<sha256[:10]>` over the controller's inputs, in its order (spec 15.1.9). */
export function gatewayTargetGroupName(parts: {
  clusterName: string;
  gateway: { namespace: string; name: string };
  route: { namespace: string; name: string; kind: string };
  service: { namespace: string; name: string };
  portHashInput: string;
  targetType: string;
  protocol: string;
  protocolVersion?: string;
}): string {
  const hash = createHash('sha256');
  for (const v of [
    parts.clusterName,
    parts.gateway.namespace,
    parts.gateway.name,
    parts.route.namespace,
    parts.route.name,
    parts.route.kind,
    parts.service.namespace,
    parts.service.name,
    parts.portHashInput,
    parts.targetType,
    parts.protocol,
    ...(parts.protocolVersion !== undefined ? [parts.protocolVersion] : []),
  ]) {
    hash.update(v);
  }
  const clean = (s: string) => s.replace(/[^A-Za-z0-9]/g, '').slice(0, 8);
  return `k8s-${clean(parts.route.namespace)}-${clean(parts.route.name)}-${hash.digest('hex').slice(0, 10)}`;
}

/**
 * The target group a Service backend becomes on a listener of `listenerProtocol`, with its
 * targets. Throws (a model build error) for what the controller refuses to build.
 */
export function buildTargetGroup(ctx: TargetGroupContext, route: RouteRef, backend: ServiceBackend, listenerProtocol: string): BuiltTargetGroup {
  const { service, port } = backend;
  const props = backend.props ?? {};
  const hc = props.healthCheckConfig ?? {};
  const svcNamespace = service.metadata?.namespace ?? 'default';
  const svcName = service.metadata?.name ?? '';
  const alb = ctx.loadBalancerType === 'application';
  const targetType = props.targetType ?? ctx.defaultTargetType;

  let protocol: string;
  if (alb) {
    protocol = props.protocol ?? 'HTTP';
    if (protocol !== 'HTTP' && protocol !== 'HTTPS') throw new Error(`backend protocol must be within [HTTP, HTTPS]: ${protocol}`);
  } else if (listenerProtocol === 'TCP_UDP') {
    protocol = 'TCP_UDP';
  } else if (props.protocol !== undefined) {
    protocol = props.protocol;
    if (!['TCP', 'TLS', 'UDP', 'TCP_UDP'].includes(protocol)) throw new Error(`backend protocol must be within [TCP, UDP, TCP_UDP, TLS, QUIC, TCP_QUIC]: ${protocol}`);
  } else {
    // A TLSRoute on a Passthrough (TCP) listener gets a TCP group: the bytes pass through
    // (local-elb's choice; the controller would ask for TLS, which a TCP listener cannot forward to).
    protocol = route.kind === 'UDPRoute' ? 'UDP' : route.kind === 'TLSRoute' && listenerProtocol === 'TLS' ? 'TLS' : 'TCP';
  }

  let protocolVersion: ProtocolVersion | undefined;
  if (alb) {
    if (listenerProtocol !== 'HTTPS') protocolVersion = 'HTTP1';
    else if (props.protocolVersion !== undefined) protocolVersion = props.protocolVersion as ProtocolVersion;
    else if (route.kind === 'GRPCRoute') protocolVersion = 'GRPC';
    else if (port.appProtocol === 'kubernetes.io/h2c') protocolVersion = 'HTTP2';
    else protocolVersion = 'HTTP1';
  }

  const local = !alb && targetType === 'instance' && service.spec?.externalTrafficPolicy === 'Local';
  let healthCheckPort: number | 'traffic-port' = 'traffic-port';
  if (hc.healthCheckPort === undefined && local && service.spec?.healthCheckNodePort) healthCheckPort = service.spec.healthCheckNodePort;
  else if (hc.healthCheckPort !== undefined && hc.healthCheckPort !== 'traffic-port') {
    if (/^\d+$/.test(hc.healthCheckPort)) healthCheckPort = Number(hc.healthCheckPort);
    else {
      const named = (service.spec?.ports ?? []).find((p) => p.name === hc.healthCheckPort);
      if (named === undefined) throw new Error(`unable to find port ${hc.healthCheckPort} on service ${svcNamespace}/${svcName}`);
      if (targetType === 'instance') healthCheckPort = named.nodePort ?? 0;
      else {
        const n = numericTargetPort(named);
        if (n === undefined) throw new Error("cannot use named healthCheckPort for IP TargetType when service's targetPort is a named port");
        healthCheckPort = n;
      }
    }
  }
  const defaultHcProtocol = alb ? protocol : local ? 'HTTP' : 'TCP';
  const healthCheckProtocol = (hc.healthCheckProtocol ?? defaultHcProtocol) as 'HTTP' | 'HTTPS' | 'TCP';
  const grpc = protocolVersion === 'GRPC';
  const healthCheckPath = hc.healthCheckPath ?? (grpc ? GRPC_HEALTH_CHECK_PATH : local ? '/healthz' : '/');
  const matcher = grpc ? { grpcCode: hc.matcher?.grpcCode ?? '12' } : { httpCode: hc.matcher?.httpCode ?? '200-399' };

  const tgPort = targetType === 'instance' ? (port.nodePort ?? 0) : (numericTargetPort(port) ?? 1);
  if (tgPort === 0) {
    throw new Error(
      targetType === 'ip'
        ? 'TargetGroup port is empty. Are you using the correct service type?'
        : "TargetGroup port is empty. When using Instance targets, your service must be of type 'NodePort' or 'LoadBalancer'",
    );
  }
  const name =
    props.targetGroupName ??
    gatewayTargetGroupName({
      clusterName: ctx.clusterName,
      gateway: ctx.gateway,
      route: { namespace: route.namespace, name: route.name, kind: route.kind },
      service: { namespace: svcNamespace, name: svcName },
      portHashInput: targetType === 'instance' ? String(tgPort) : String(port.targetPort ?? port.port),
      targetType,
      protocol,
      ...(protocolVersion !== undefined ? { protocolVersion } : {}),
    });

  const input: TargetGroupInput = {
    name,
    protocol: protocol as TargetGroupInput['protocol'],
    ...(protocolVersion !== undefined ? { protocolVersion } : {}),
    targetType,
    healthCheckProtocol,
    healthCheckPort,
    ...(healthCheckProtocol !== 'TCP' ? { healthCheckPath, matcher } : {}),
    healthCheckIntervalSeconds: hc.healthCheckInterval ?? (local ? 10 : 15),
    healthCheckTimeoutSeconds: hc.healthCheckTimeout ?? (local ? 6 : 5),
    healthyThresholdCount: hc.healthyThresholdCount ?? (local ? 2 : 3),
    unhealthyThresholdCount: hc.unhealthyThresholdCount ?? (local ? 2 : 3),
    attributes: Object.fromEntries((props.targetGroupAttributes ?? []).map((a) => [a.key, a.value])),
  };

  let targets: DesiredTarget[];
  if (targetType === 'ip') targets = ipTargets(ctx.cluster, service, port);
  else {
    const selector = props.nodeSelector;
    const cluster = selector === undefined ? ctx.cluster : { ...ctx.cluster, nodes: ctx.cluster.nodes.filter((n) => selectorMatches(selector, n.metadata?.labels)) };
    targets = instanceTargets(cluster, port);
  }
  const ns = ctx.cluster.namespaces.find((n) => n.metadata?.name === svcNamespace);
  return { input, targets, readinessGates: targetType === 'ip' && ns?.metadata?.labels?.[READINESS_GATE_INJECT_LABEL] === 'enabled' };
}
