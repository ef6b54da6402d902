/**
 * Kubernetes objects → load balancers, target groups and targets, as the AWS Load Balancer
 * Controller would make them on EKS (spec 9). A pure function of a snapshot of the cluster:
 * no I/O, no clock; runtime/reconcile.ts diffs its output against what is running and `controller.ts`
 * applies the difference.
 */
import { createHash } from 'node:crypto';
import type {
  V1EndpointSlice,
  V1Ingress,
  V1IngressClass,
  V1Namespace,
  V1Node,
  V1Pod,
  V1Service,
  V1ServicePort,
} from '@kubernetes/client-node';
import type { ConfigInput } from '../config/schema.ts';
import { desiredTargets, type DesiredTarget, type Endpoint } from '../runtime/endpoints.ts';

export const NLB_CLASS = 'service.k8s.aws/nlb';
export const ALB_CONTROLLER = 'ingress.k8s.aws/alb';
export const SVC = 'service.beta.kubernetes.io/';
export const ING = 'alb.ingress.kubernetes.io/';
export const READINESS_GATE_PREFIX = 'target-health.elbv2.k8s.aws/';
export const READINESS_GATE_INJECT_LABEL = 'elbv2.k8s.aws/pod-readiness-gate-inject';

export interface ClusterSnapshot {
  readonly services: readonly V1Service[];
  readonly endpointSlices: readonly V1EndpointSlice[];
  readonly pods: readonly V1Pod[];
  readonly nodes: readonly V1Node[];
  readonly namespaces: readonly V1Namespace[];
  readonly ingresses: readonly V1Ingress[];
  readonly ingressClasses: readonly V1IngressClass[];
}

export interface ObjectRef {
  readonly kind: 'Service' | 'Ingress';
  readonly namespace: string;
  readonly name: string;
}

export type { DesiredTarget } from '../runtime/endpoints.ts';

/** One load balancer to run: a Service's NLB or an Ingress group's ALB. */
export interface DesiredStack {
  /** `service/<ns>/<name>` or `ingress/<group>`. */
  readonly key: string;
  readonly type: 'network' | 'application';
  /** The objects whose status shows this load balancer's address. */
  readonly owners: readonly ObjectRef[];
  /** Load balancer and target groups, without targets; listener addresses are filled in later. */
  readonly config: ConfigInput;
  /** Targets per target group name. */
  readonly targets: Readonly<Record<string, readonly DesiredTarget[]>>;
  /** Target groups whose pods may carry readiness gates (ip targets in labelled namespaces). */
  readonly readinessGateGroups: readonly string[];
  /** Things the controller would reject or that local-elb does not do, for Events and the log. */
  readonly problems: readonly string[];
}

export interface TranslateResult {
  readonly stacks: readonly DesiredStack[];
  /** Objects that ask for a load balancer but cannot get one, with the reason. */
  readonly rejected: ReadonlyArray<{ readonly ref: ObjectRef; readonly reason: string }>;
}

export interface TranslateOptions {
  /** `--load-balancer-class` of the controller. */
  readonly loadBalancerClass?: string;
}

// ---------------------------------------------------------------------------------------------
// Names

/** `k8s-<ns[:8]>-<name[:8]>-<sha256[:10]>` with non-alphanumerics removed (spec 9.4). */
export function targetGroupName(namespace: string, name: string, ...discriminators: readonly (string | number)[]): string {
  const clean = (s: string) => s.replace(/[^A-Za-z0-9]/g, '').slice(0, 8);
  const hash = createHash('sha256').update([namespace, name, ...discriminators].join('/')).digest('hex').slice(0, 10);
  return `k8s-${clean(namespace)}-${clean(name)}-${hash}`;
}

function loadBalancerName(kind: 'svc' | 'ing', ...parts: readonly string[]): string {
  // Load balancer names are 1–32 characters too.
  const clean = (s: string) => s.replace(/[^A-Za-z0-9]/g, '').slice(0, 8);
  const hash = createHash('sha256').update(parts.join('/')).digest('hex').slice(0, 8);
  return `k8s-${kind}-${parts.map(clean).join('-')}`.slice(0, 23) + `-${hash}`;
}

// ---------------------------------------------------------------------------------------------
// Annotation parsing

/** `k1=v1,k2=v2`; empty values are left out (spec 9.2: "empty values do not override"). */
export function parseMap(value: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!value) return out;
  for (const part of value.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const k = part.slice(0, eq).trim();
    const v = part.slice(eq + 1).trim();
    if (k && v !== '') out[k] = v;
  }
  return out;
}

function intAnnotation(annotations: Record<string, string>, key: string, fallback: number, problems: string[]): number {
  const raw = annotations[key];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n)) {
    problems.push(`annotation ${key}: not an integer: ${JSON.stringify(raw)}; using ${fallback}`);
    return fallback;
  }
  return n;
}

// ---------------------------------------------------------------------------------------------
// Targets

function podKey(ns: string | undefined, name: string | undefined): string {
  return `${ns ?? 'default'}/${name ?? ''}`;
}

function nodeReady(node: V1Node | undefined): 'True' | 'False' | 'Unknown' {
  const c = node?.status?.conditions?.find((x) => x.type === 'Ready');
  return (c?.status as 'True' | 'False' | 'Unknown' | undefined) ?? 'Unknown';
}

function nodeAddress(node: V1Node): string | undefined {
  const addresses = node.status?.addresses ?? [];
  return addresses.find((a) => a.type === 'InternalIP')?.address ?? addresses.find((a) => a.type === 'ExternalIP')?.address;
}

/** Nodes the controller registers in instance mode (spec 9.4 default node selector, 9.6). */
export function eligibleNodes(nodes: readonly V1Node[]): V1Node[] {
  const candidates = nodes.filter((n) => {
    const labels = n.metadata?.labels ?? {};
    return (
      !('node-role.kubernetes.io/control-plane' in labels) &&
      !('node-role.kubernetes.io/master' in labels) &&
      !('node.kubernetes.io/exclude-from-external-load-balancers' in labels) &&
      !('alpha.service-controller.kubernetes.io/exclude-balancer' in labels) &&
      nodeAddress(n) !== undefined
    );
  });
  // kind runs single-node clusters whose only node is the control plane: use it then.
  const pool = candidates.length > 0 ? candidates : nodes.filter((n) => nodeAddress(n) !== undefined);
  const ready = pool.filter((n) => nodeReady(n) === 'True');
  return ready.length > 0 ? ready : pool.filter((n) => nodeReady(n) === 'Unknown');
}

/**
 * `ip` targets of a Service port from its EndpointSlices (spec 9.6): the slices' endpoints with
 * their pods' and nodes' conditions, through the one rule `desiredTargets` applies to every
 * source of endpoints (local pods too).
 */
export function ipTargets(snapshot: ClusterSnapshot, service: V1Service, port: V1ServicePort): DesiredTarget[] {
  const ns = service.metadata?.namespace ?? 'default';
  const name = service.metadata?.name ?? '';
  const pods = new Map(snapshot.pods.map((p) => [podKey(p.metadata?.namespace, p.metadata?.name), p]));
  const nodes = new Map(snapshot.nodes.map((n) => [n.metadata?.name ?? '', n]));
  const endpoints: Endpoint[] = [];
  for (const slice of snapshot.endpointSlices) {
    if (slice.metadata?.namespace !== ns || slice.metadata?.labels?.['kubernetes.io/service-name'] !== name) continue;
    if (slice.addressType !== 'IPv4') continue;
    const slicePort = (slice.ports ?? []).find((p) => (p.name ?? '') === (port.name ?? '')) ?? (slice.ports?.length === 1 ? slice.ports[0] : undefined);
    if (slicePort?.port === undefined || slicePort.port === null) continue;
    for (const ep of slice.endpoints ?? []) {
      const address = ep.addresses?.[0];
      if (address === undefined) continue;
      const ref = ep.targetRef?.kind === 'Pod' ? podKey(ep.targetRef.namespace ?? ns, ep.targetRef.name) : undefined;
      const pod = ref ? pods.get(ref) : undefined;
      const c = ep.conditions ?? {};
      endpoints.push({
        address,
        port: slicePort.port,
        ready: c.ready === null ? undefined : c.ready,
        terminating: c.terminating === true,
        containersReady: pod?.status?.conditions?.some((x) => x.type === 'ContainersReady' && x.status === 'True') ?? false,
        nodeReady: nodeReady(nodes.get(ep.nodeName ?? pod?.spec?.nodeName ?? '')),
        ...(ref ? { pod: ref } : {}),
      });
    }
  }
  return desiredTargets(endpoints);
}

/** `instance` targets: every eligible node at the Service port's NodePort. */
export function instanceTargets(snapshot: ClusterSnapshot, port: V1ServicePort): DesiredTarget[] {
  if (!port.nodePort) return [];
  return eligibleNodes(snapshot.nodes)
    .map((n) => ({ id: nodeAddress(n)!, port: port.nodePort! }))
    .sort((a, b) => a.id.localeCompare(b.id));
}

function readinessGatesEnabled(snapshot: ClusterSnapshot, namespace: string): boolean {
  const ns = snapshot.namespaces.find((n) => n.metadata?.name === namespace);
  return ns?.metadata?.labels?.[READINESS_GATE_INJECT_LABEL] === 'enabled';
}

// ---------------------------------------------------------------------------------------------
// Services → NLB (spec 9.1, 9.2)

/** True when the controller owns this Service (type LoadBalancer with our class or annotation). */
export function isNlbService(service: V1Service, loadBalancerClass = NLB_CLASS): boolean {
  if (service.spec?.type !== 'LoadBalancer') return false;
  if (service.spec.loadBalancerClass !== undefined && service.spec.loadBalancerClass !== null) return service.spec.loadBalancerClass === loadBalancerClass;
  const type = service.metadata?.annotations?.[`${SVC}aws-load-balancer-type`];
  return type === 'external' || type === 'nlb-ip';
}

function translateService(snapshot: ClusterSnapshot, service: V1Service, options: TranslateOptions): DesiredStack | { rejected: string } {
  const ns = service.metadata?.namespace ?? 'default';
  const name = service.metadata?.name ?? '';
  const a = service.metadata?.annotations ?? {};
  const problems: string[] = [];
  const targetType = a[`${SVC}aws-load-balancer-nlb-target-type`] ?? (a[`${SVC}aws-load-balancer-type`] === 'nlb-ip' ? 'ip' : 'instance');
  if (targetType !== 'ip' && targetType !== 'instance') return { rejected: `annotation ${SVC}aws-load-balancer-nlb-target-type must be ip or instance: got ${JSON.stringify(targetType)}` };
  const ports = (service.spec?.ports ?? []).filter((p) => (p.protocol ?? 'TCP') === 'TCP' || p.protocol === 'UDP');
  if (ports.length === 0) return { rejected: 'the Service has no TCP or UDP ports' };
  if (a[`${SVC}aws-load-balancer-healthcheck-protocol`] === 'HTTPS') problems.push('HTTPS health checks are not emulated: using HTTP');

  const local = targetType === 'instance' && service.spec?.externalTrafficPolicy === 'Local' && Boolean(service.spec?.healthCheckNodePort);
  const hcProtocol = local ? 'HTTP' : (a[`${SVC}aws-load-balancer-healthcheck-protocol`] ?? 'TCP') === 'TCP' ? 'TCP' : 'HTTP';
  const hcPortAnnotation = a[`${SVC}aws-load-balancer-healthcheck-port`];
  const interval = local ? 10 : intAnnotation(a, `${SVC}aws-load-balancer-healthcheck-interval`, 10, problems);
  const timeout = local ? 6 : intAnnotation(a, `${SVC}aws-load-balancer-healthcheck-timeout`, 10, problems);
  const healthy = local ? 2 : intAnnotation(a, `${SVC}aws-load-balancer-healthcheck-healthy-threshold`, 3, problems);
  const unhealthy = local ? 2 : intAnnotation(a, `${SVC}aws-load-balancer-healthcheck-unhealthy-threshold`, 3, problems);
  const tgAttributes = parseMap(a[`${SVC}aws-load-balancer-target-group-attributes`]);
  const proxyProtocol = a[`${SVC}aws-load-balancer-proxy-protocol`];
  if (proxyProtocol !== undefined && proxyProtocol !== '*') problems.push(`annotation ${SVC}aws-load-balancer-proxy-protocol: the only valid value is "*": got ${JSON.stringify(proxyProtocol)}`);
  const ppPorts = new Set((a[`${SVC}aws-load-balancer-proxy-protocol-per-target-group`] ?? '').split(',').map((x) => x.trim()).filter(Boolean));
  for (const key of Object.keys(a)) {
    if (key.startsWith(SVC) && !SUPPORTED_SERVICE_ANNOTATIONS.some((s) => key === `${SVC}${s}` || key.startsWith(`${SVC}${s}.`))) {
      problems.push(`annotation ${key} is not emulated by local-elb (ignored)`);
    }
  }

  const targetGroups: NonNullable<ConfigInput['targetGroups']> = [];
  const listeners: NonNullable<NonNullable<ConfigInput['loadBalancers']>[number]['listeners']> = [];
  const targets: Record<string, DesiredTarget[]> = {};
  const gateGroups: string[] = [];
  for (const port of ports) {
    const protocol = (port.protocol ?? 'TCP') as 'TCP' | 'UDP';
    const tgName = targetGroupName(ns, name, port.port, protocol, targetType);
    const attributes: Record<string, string> = {
      'preserve_client_ip.enabled': targetType === 'ip' ? 'false' : 'true',
      ...(protocol === 'UDP' ? { 'preserve_client_ip.enabled': 'true' } : {}),
      ...tgAttributes,
      ...parseMap(a[`${SVC}aws-load-balancer-target-group-attributes.${port.port}`]),
    };
    if (proxyProtocol === '*' || ppPorts.has(String(port.port))) attributes['proxy_protocol_v2.enabled'] = 'true';
    let healthCheckPort: number | 'traffic-port' = 'traffic-port';
    if (local) healthCheckPort = service.spec!.healthCheckNodePort!;
    else if (hcPortAnnotation !== undefined && hcPortAnnotation !== 'traffic-port') {
      const named = service.spec?.ports?.find((p) => p.name === hcPortAnnotation);
      const n = named ? (targetType === 'instance' ? named.nodePort : Number(named.targetPort ?? named.port)) : Number(hcPortAnnotation);
      if (n !== undefined && Number.isInteger(n) && n >= 1 && n <= 65535) healthCheckPort = n;
      else problems.push(`annotation ${SVC}aws-load-balancer-healthcheck-port: ${JSON.stringify(hcPortAnnotation)} is not a port; using traffic-port`);
    }
    targetGroups.push({
      name: tgName,
      protocol,
      targetType,
      healthCheckProtocol: hcProtocol,
      healthCheckPort,
      ...(hcProtocol === 'HTTP' ? { healthCheckPath: local ? '/healthz' : (a[`${SVC}aws-load-balancer-healthcheck-path`] ?? '/'), matcher: { httpCode: a[`${SVC}aws-load-balancer-healthcheck-success-codes`] ?? '200-399' } } : {}),
      healthCheckIntervalSeconds: interval,
      healthCheckTimeoutSeconds: timeout,
      healthyThresholdCount: healthy,
      unhealthyThresholdCount: unhealthy,
      attributes,
    });
    listeners.push({
      port: port.port,
      protocol,
      attributes: parseMap(a[`${SVC}aws-load-balancer-listener-attributes.${protocol}-${port.port}`]),
      defaultActions: [{ type: 'forward', targetGroupName: tgName }],
    });
    targets[tgName] = targetType === 'ip' ? ipTargets(snapshot, service, port) : instanceTargets(snapshot, port);
    if (targetType === 'ip' && readinessGatesEnabled(snapshot, ns)) gateGroups.push(tgName);
  }
  void options;
  return {
    key: `service/${ns}/${name}`,
    type: 'network',
    owners: [{ kind: 'Service', namespace: ns, name }],
    config: {
      targetGroups,
      loadBalancers: [{ name: loadBalancerName('svc', ns, name), type: 'network', attributes: {}, listeners }],
    },
    targets,
    readinessGateGroups: gateGroups,
    problems,
  };
}

const SUPPORTED_SERVICE_ANNOTATIONS = [
  'aws-load-balancer-type',
  'aws-load-balancer-nlb-target-type',
  'aws-load-balancer-scheme',
  'aws-load-balancer-internal',
  'aws-load-balancer-healthcheck-protocol',
  'aws-load-balancer-healthcheck-port',
  'aws-load-balancer-healthcheck-path',
  'aws-load-balancer-healthcheck-healthy-threshold',
  'aws-load-balancer-healthcheck-unhealthy-threshold',
  'aws-load-balancer-healthcheck-timeout',
  'aws-load-balancer-healthcheck-interval',
  'aws-load-balancer-healthcheck-success-codes',
  'aws-load-balancer-target-group-attributes',
  'aws-load-balancer-listener-attributes',
  'aws-load-balancer-proxy-protocol',
  'aws-load-balancer-proxy-protocol-per-target-group',
  'aws-load-balancer-ip-address-type',
];

// ---------------------------------------------------------------------------------------------
// Ingresses → ALB (spec 9.1, 9.3)

/** True when the controller owns this Ingress (class `alb` or the deprecated annotation). */
export function isAlbIngress(ingress: V1Ingress, classes: readonly V1IngressClass[]): boolean {
  const className = ingress.spec?.ingressClassName;
  if (className) return classes.some((c) => c.metadata?.name === className && c.spec?.controller === ALB_CONTROLLER);
  return ingress.metadata?.annotations?.['kubernetes.io/ingress.class'] === 'alb';
}

interface IngressPathRule {
  readonly order: number;
  readonly ingress: string;
  readonly kind: 0 | 1 | 2;
  readonly length: number;
  readonly index: number;
  readonly host?: string;
  readonly paths: string[];
  readonly action: NonNullable<NonNullable<ConfigInput['loadBalancers']>[number]['listeners'][number]['defaultActions']>[number];
}

/** Ingress path → ALB path-pattern values (spec 9.3). */
export function pathPatterns(path: string | undefined, pathType: string | undefined): string[] {
  if (path === undefined || path === '') return ['/*'];
  if (pathType === 'Exact') return [path];
  if (pathType === 'Prefix') {
    if (path === '/') return ['/*'];
    const trimmed = path.replace(/\/+$/, '');
    return [trimmed, `${trimmed}/*`];
  }
  return [path];
}

function translateIngressGroup(snapshot: ClusterSnapshot, group: string, ingresses: readonly V1Ingress[]): DesiredStack | { rejected: string } {
  const problems: string[] = [];
  const targetGroups = new Map<string, NonNullable<ConfigInput['targetGroups']>[number]>();
  const targets: Record<string, DesiredTarget[]> = {};
  const gateGroups = new Set<string>();
  const listenPorts = new Map<number, 'HTTP'>();
  const lbAttributes: Record<string, string> = {};
  let defaultAction: IngressPathRule['action'] | undefined;
  const rules: IngressPathRule[] = [];

  const sorted = [...ingresses].sort((x, y) => {
    const ox = Number(x.metadata?.annotations?.[`${ING}group.order`] ?? 0);
    const oy = Number(y.metadata?.annotations?.[`${ING}group.order`] ?? 0);
    return ox - oy || `${x.metadata?.namespace}/${x.metadata?.name}`.localeCompare(`${y.metadata?.namespace}/${y.metadata?.name}`);
  });

  for (const ingress of sorted) {
    const ns = ingress.metadata?.namespace ?? 'default';
    const ingName = ingress.metadata?.name ?? '';
    const a = ingress.metadata?.annotations ?? {};
    for (const key of Object.keys(a)) {
      if (key.startsWith(ING) && !SUPPORTED_INGRESS_ANNOTATIONS.some((s) => key === `${ING}${s}` || (s.endsWith('.') && key.startsWith(`${ING}${s}`)))) {
        problems.push(`${ns}/${ingName}: annotation ${key} is not emulated by local-elb (ignored)`);
      }
    }
    let ports: Array<Record<string, number>> = [{ HTTP: 80 }];
    if (a[`${ING}listen-ports`] !== undefined) {
      try {
        ports = JSON.parse(a[`${ING}listen-ports`]!) as Array<Record<string, number>>;
      } catch {
        problems.push(`${ns}/${ingName}: annotation ${ING}listen-ports is not JSON; using [{"HTTP":80}]`);
      }
    }
    for (const p of ports) {
      for (const [proto, port] of Object.entries(p)) {
        if (proto !== 'HTTP') problems.push(`${ns}/${ingName}: ${proto} listeners are not emulated yet (only HTTP): port ${port} skipped`);
        else if (Number.isInteger(port) && port >= 1 && port <= 65535) listenPorts.set(port, 'HTTP');
      }
    }
    Object.assign(lbAttributes, parseMap(a[`${ING}load-balancer-attributes`]));

    const backendAction = (backend: NonNullable<V1Ingress['spec']>['defaultBackend'] | undefined): IngressPathRule['action'] | undefined => {
      const svcName = backend?.service?.name;
      if (svcName === undefined) return undefined;
      const portRef = backend!.service!.port;
      if (portRef?.name === 'use-annotation') {
        const raw = a[`${ING}actions.${svcName}`];
        if (raw === undefined) {
          problems.push(`${ns}/${ingName}: backend ${svcName} uses use-annotation but ${ING}actions.${svcName} is missing`);
          return undefined;
        }
        return annotationAction(raw, ns, ingName, snapshot, a, targetGroups, targets, gateGroups, problems);
      }
      const tg = serviceTargetGroup(snapshot, a, ns, svcName, portRef?.number ?? portRef?.name, targetGroups, targets, gateGroups, problems);
      return tg ? { type: 'forward', targetGroupName: tg } : undefined;
    };

    const def = backendAction(ingress.spec?.defaultBackend ?? undefined);
    if (def !== undefined) defaultAction ??= def;
    (ingress.spec?.rules ?? []).forEach((rule, ri) => {
      (rule.http?.paths ?? []).forEach((p, pi) => {
        const action = backendAction(p.backend);
        if (action === undefined) return;
        const kind = p.pathType === 'Exact' ? 0 : p.pathType === 'Prefix' ? 1 : 2;
        rules.push({
          order: Number(a[`${ING}group.order`] ?? 0),
          ingress: `${ns}/${ingName}`,
          kind,
          length: (p.path ?? '').length,
          index: ri * 1000 + pi,
          ...(rule.host ? { host: rule.host } : {}),
          paths: pathPatterns(p.path, p.pathType),
          action,
        });
      });
    });
  }
  if (listenPorts.size === 0) return { rejected: 'no HTTP listener (listen-ports names only protocols local-elb does not emulate)' };

  // Per Ingress in group order: Exact paths, then Prefix by descending length, then the rest in
  // their original order (spec 9.3).
  const ordered = rules.sort((x, y) => x.order - y.order || x.ingress.localeCompare(y.ingress) || x.kind - y.kind || (x.kind === 1 ? y.length - x.length : 0) || x.index - y.index);
  const listenerRules = ordered.map((r, i) => ({
    priority: i + 1,
    conditions: [
      ...(r.host ? [{ field: 'host-header' as const, values: [r.host] }] : []),
      { field: 'path-pattern' as const, values: r.paths.slice(0, 5) },
    ],
    actions: [r.action],
  }));
  const listeners = [...listenPorts.keys()].sort((x, y) => x - y).map((port) => ({
    port,
    protocol: 'HTTP' as const,
    defaultActions: [defaultAction ?? { type: 'fixed-response' as const, fixedResponseConfig: { statusCode: '404', contentType: 'text/plain' as const } }],
    rules: listenerRules,
  }));
  return {
    key: `ingress/${group}`,
    type: 'application',
    owners: ingresses.map((i) => ({ kind: 'Ingress' as const, namespace: i.metadata?.namespace ?? 'default', name: i.metadata?.name ?? '' })),
    config: {
      targetGroups: [...targetGroups.values()],
      loadBalancers: [{ name: loadBalancerName('ing', group), type: 'application', attributes: lbAttributes, listeners }],
    },
    targets,
    readinessGateGroups: [...gateGroups],
    problems,
  };
}

const SUPPORTED_INGRESS_ANNOTATIONS = [
  'target-type',
  'scheme',
  'listen-ports',
  'backend-protocol',
  'healthcheck-protocol',
  'healthcheck-port',
  'healthcheck-path',
  'healthcheck-interval-seconds',
  'healthcheck-timeout-seconds',
  'healthy-threshold-count',
  'unhealthy-threshold-count',
  'success-codes',
  'target-group-attributes',
  'load-balancer-attributes',
  'group.name',
  'group.order',
  'actions.',
];

/** The target group for one Ingress backend (namespace, service, port), made once per group. */
function serviceTargetGroup(
  snapshot: ClusterSnapshot,
  a: Record<string, string>,
  ns: string,
  svcName: string,
  portRef: number | string | undefined,
  targetGroups: Map<string, NonNullable<ConfigInput['targetGroups']>[number]>,
  targets: Record<string, DesiredTarget[]>,
  gateGroups: Set<string>,
  problems: string[],
): string | undefined {
  const service = snapshot.services.find((s) => s.metadata?.namespace === ns && s.metadata?.name === svcName);
  if (service === undefined) {
    problems.push(`backend service ${ns}/${svcName} does not exist`);
    return undefined;
  }
  const port = (service.spec?.ports ?? []).find((p) => (typeof portRef === 'number' ? p.port === portRef : p.name === portRef));
  if (port === undefined) {
    problems.push(`backend service ${ns}/${svcName} has no port ${String(portRef)}`);
    return undefined;
  }
  const targetType = a[`${ING}target-type`] ?? 'instance';
  if (targetType !== 'ip' && targetType !== 'instance') {
    problems.push(`annotation ${ING}target-type must be ip or instance: got ${JSON.stringify(targetType)}`);
    return undefined;
  }
  if (targetType === 'instance' && !port.nodePort) {
    problems.push(`backend service ${ns}/${svcName} has no NodePort: instance targets need a NodePort or LoadBalancer Service (or use target-type ip)`);
    return undefined;
  }
  if ((a[`${ING}backend-protocol`] ?? 'HTTP') !== 'HTTP') problems.push(`annotation ${ING}backend-protocol: only HTTP is emulated`);
  const name = targetGroupName(ns, svcName, port.port, targetType, 'HTTP');
  if (!targetGroups.has(name)) {
    const hcPort = a[`${ING}healthcheck-port`];
    targetGroups.set(name, {
      name,
      protocol: 'HTTP',
      targetType,
      healthCheckProtocol: 'HTTP',
      healthCheckPort: hcPort === undefined || hcPort === 'traffic-port' ? 'traffic-port' : Number(hcPort),
      healthCheckPath: a[`${ING}healthcheck-path`] ?? '/',
      healthCheckIntervalSeconds: intAnnotation(a, `${ING}healthcheck-interval-seconds`, 15, problems),
      healthCheckTimeoutSeconds: intAnnotation(a, `${ING}healthcheck-timeout-seconds`, 5, problems),
      healthyThresholdCount: intAnnotation(a, `${ING}healthy-threshold-count`, 2, problems),
      unhealthyThresholdCount: intAnnotation(a, `${ING}unhealthy-threshold-count`, 2, problems),
      matcher: { httpCode: a[`${ING}success-codes`] ?? '200' },
      attributes: parseMap(a[`${ING}target-group-attributes`]),
    });
    targets[name] = targetType === 'ip' ? ipTargets(snapshot, service, port) : instanceTargets(snapshot, port);
    if (targetType === 'ip' && readinessGatesEnabled(snapshot, ns)) gateGroups.add(name);
  }
  return name;
}

/** `alb.ingress.kubernetes.io/actions.<name>` JSON → an action (spec 9.3). */
function annotationAction(
  raw: string,
  ns: string,
  ingName: string,
  snapshot: ClusterSnapshot,
  a: Record<string, string>,
  targetGroups: Map<string, NonNullable<ConfigInput['targetGroups']>[number]>,
  targets: Record<string, DesiredTarget[]>,
  gateGroups: Set<string>,
  problems: string[],
): IngressPathRule['action'] | undefined {
  let spec: {
    type?: string;
    fixedResponseConfig?: { statusCode?: string; contentType?: string; messageBody?: string };
    redirectConfig?: { protocol?: string; host?: string; port?: string; path?: string; query?: string; statusCode?: string };
    forwardConfig?: { targetGroups?: Array<{ serviceName?: string; servicePort?: number | string; weight?: number }> };
  };
  try {
    spec = JSON.parse(raw) as typeof spec;
  } catch {
    problems.push(`${ns}/${ingName}: an actions annotation is not JSON`);
    return undefined;
  }
  switch (spec.type) {
    case 'fixed-response':
      return {
        type: 'fixed-response',
        fixedResponseConfig: {
          statusCode: spec.fixedResponseConfig?.statusCode ?? '200',
          ...(spec.fixedResponseConfig?.contentType ? { contentType: spec.fixedResponseConfig.contentType as 'text/plain' } : {}),
          ...(spec.fixedResponseConfig?.messageBody !== undefined ? { messageBody: spec.fixedResponseConfig.messageBody } : {}),
        },
      };
    case 'redirect': {
      const r = spec.redirectConfig ?? {};
      const code = r.statusCode === 'HTTP_301' ? 'HTTP_301' : 'HTTP_302';
      return {
        type: 'redirect',
        redirectConfig: {
          statusCode: code,
          ...(r.protocol ? { protocol: r.protocol } : {}),
          ...(r.host ? { host: r.host } : {}),
          ...(r.port ? { port: r.port } : {}),
          ...(r.path ? { path: r.path } : {}),
          ...(r.query ? { query: r.query } : {}),
        },
      };
    }
    case 'forward': {
      const groups = (spec.forwardConfig?.targetGroups ?? []).flatMap((t) => {
        if (t.serviceName === undefined) {
          problems.push(`${ns}/${ingName}: forward actions by target group ARN have no local meaning; use serviceName`);
          return [];
        }
        const tg = serviceTargetGroup(snapshot, a, ns, t.serviceName, t.servicePort, targetGroups, targets, gateGroups, problems);
        return tg ? [{ targetGroupName: tg, weight: t.weight ?? 1 }] : [];
      });
      if (groups.length === 0) return undefined;
      return groups.length === 1 ? { type: 'forward', targetGroupName: groups[0]!.targetGroupName } : { type: 'forward', forwardConfig: { targetGroups: groups } };
    }
    default:
      problems.push(`${ns}/${ingName}: action type ${JSON.stringify(spec.type)} is not emulated`);
      return undefined;
  }
}

// ---------------------------------------------------------------------------------------------

/** Every load balancer the cluster asks for, as the controller would build it. */
export function translate(snapshot: ClusterSnapshot, options: TranslateOptions = {}): TranslateResult {
  const stacks: DesiredStack[] = [];
  const rejected: Array<{ ref: ObjectRef; reason: string }> = [];
  for (const service of snapshot.services) {
    if (!isNlbService(service, options.loadBalancerClass)) continue;
    const ref: ObjectRef = { kind: 'Service', namespace: service.metadata?.namespace ?? 'default', name: service.metadata?.name ?? '' };
    const r = translateService(snapshot, service, options);
    if ('rejected' in r) rejected.push({ ref, reason: r.rejected });
    else stacks.push(r);
  }
  const groups = new Map<string, V1Ingress[]>();
  for (const ingress of snapshot.ingresses) {
    if (!isAlbIngress(ingress, snapshot.ingressClasses)) continue;
    const explicit = ingress.metadata?.annotations?.[`${ING}group.name`];
    const group = explicit ?? `${ingress.metadata?.namespace ?? 'default'}/${ingress.metadata?.name ?? ''}`;
    groups.set(group, [...(groups.get(group) ?? []), ingress]);
  }
  for (const [group, members] of groups) {
    const r = translateIngressGroup(snapshot, group, members);
    if ('rejected' in r) {
      for (const i of members) rejected.push({ ref: { kind: 'Ingress', namespace: i.metadata?.namespace ?? 'default', name: i.metadata?.name ?? '' }, reason: r.rejected });
    } else stacks.push(r);
  }
  return { stacks: stacks.sort((x, y) => x.key.localeCompare(y.key)), rejected };
}
