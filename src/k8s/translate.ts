/**
 * Kubernetes objects → load balancers, target groups and targets, as the AWS Load Balancer
 * Controller would make them on EKS (spec 9; TLS, HTTP/2 and gRPC annotations spec 12.7). A pure function of a snapshot of the cluster:
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
  V1Secret,
  V1ServicePort,
} from '@kubernetes/client-node';
import { annotationFindings, ingressBackendServices } from './annotations.ts';
import { authenticateAction, type AuthenticateActionInput } from './auth-annotations.ts';
import {
  backend503,
  NON_EXISTENT_BACKEND_ACTION,
  NON_EXISTENT_BACKEND_SERVICE,
  optimizeRules,
  parseActionAnnotation,
  parseConditionsAnnotation,
  parseJwtValidationAnnotation,
  parseTransformsAnnotation,
  parseUseRegexPathMatch,
  ruleConditions,
  type ConditionInput,
  type IngressAction,
  type JwtValidationActionInput,
  type TransformInput,
} from './ingress-annotations.ts';
import {
  checkGroupCapacityAndIpam,
  checkGroupSubnets,
  checkGroupWafv2,
  classifyIngress,
  groupIpAddressType,
  groupListenerAttributes,
  groupLoadBalancerAttributes,
  groupLoadBalancerName,
  groupScheme,
  groupSslRedirectPorts,
  groupTags,
  IngressModelError,
  memberCertificateArns,
  memberSslPolicy,
  memberTargetType,
  paramsWithoutLocalEffect,
  type IngressClassParams,
} from './ingress-class-params.ts';
import { grpcRangeMessage, parseGrpcMatcher } from '../config/matcher.ts';
import { ALPN_POLICIES, GRPC_HEALTH_CHECK_PATH, PROTOCOL_VERSIONS, type ConfigInput, type ProtocolVersion } from '../config/schema.ts';
import { desiredTargets, type DesiredTarget, type Endpoint } from '../runtime/endpoints.ts';
import { DEFAULT_SSL_POLICY, sslPolicy } from '../tls/policies.ts';
import { localCertificateArn } from '../tls/provider.ts';

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
  /** The OIDC clients of `auth-idp-oidc` annotations (spec 13.2.9); none when absent. */
  readonly secrets?: readonly V1Secret[];
  /** `elbv2.k8s.aws/v1beta1` IngressClassParams (spec 15.4); none when the cluster does not serve the CRD. */
  readonly ingressClassParams?: readonly IngressClassParams[];
}

export interface ObjectRef {
  /** A Gateway's stack is made by gateway/translate.ts (spec 15); a TargetGroupBinding only receives Events. */
  readonly kind: 'Service' | 'Ingress' | 'Gateway' | 'TargetGroupBinding';
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
  /** What local-elb does in place of AWS (a certificate its CA issues), for Normal Events and the log. */
  readonly notices: readonly string[];
  /** Annotations accepted with no local effect (annotations.ts), for a Normal Event once each. */
  readonly annotationNotices?: readonly string[];
  /**
   * Host names a certificate issued by the local CA must cover besides the listener's rule hosts:
   * an Ingress's `rules[].host` and `tls[].hosts` (what the controller discovers ACM certificates by).
   */
  readonly certificateHosts: readonly string[];
  /**
   * An Ingress group's IngressClassParams settings with no local meaning, and conflicts the class
   * resolved (spec 15.4), for Normal Events (reason `IngressClassParams`) and the log.
   */
  readonly paramsNotices?: readonly string[];
  /**
   * What the controller decides of an Ingress group's load balancer with no local effect, for the
   * ELBv2 API to describe (spec 15.4.2): its scheme and IP address type (DescribeLoadBalancers)
   * and its tags (DescribeTags; the group's `tags` annotations with the IngressClassParams tags).
   */
  readonly scheme?: 'internal' | 'internet-facing';
  readonly ipAddressType?: string;
  readonly tags?: Readonly<Record<string, string>>;
  /**
   * The Service port behind each target group (the controller's TargetGroupBinding for it: spec
   * 15.3.5, `serviceRef` in the Service's namespace); absent for stacks that do not say.
   */
  readonly backends?: Readonly<Record<string, ServiceBackend>>;
}

/** A Service port a target group's targets come from (`serviceRef` of its TargetGroupBinding). */
export interface ServiceBackend {
  readonly namespace: string;
  readonly name: string;
  /** The Service port number (`spec.ports[].port`). */
  readonly port: number;
  readonly targetType: 'instance' | 'ip';
}

export interface Rejection {
  readonly ref: ObjectRef;
  readonly reason: string;
  /**
   * The controller's own Warning Event, when it has one for this failure (spec 15.4.3):
   * `FailedBuildModel` "Failed build model due to …" or `FailedLoadGroupID` "failed load groupID
   * due to …". Without it the controller says `LoadBalancerNotServed`.
   */
  readonly event?: { readonly reason: 'FailedBuildModel' | 'FailedLoadGroupID'; readonly message: string };
  /** A stack that keeps running as it was (a failed model build deploys nothing, spec 15.4.3). */
  readonly keepStack?: string;
}

export interface TranslateResult {
  readonly stacks: readonly DesiredStack[];
  /** Objects that ask for a load balancer but cannot get one, with the reason. */
  readonly rejected: readonly Rejection[];
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

type TargetGroupInput = NonNullable<ConfigInput['targetGroups']>[number];
type ListenerInput = NonNullable<ConfigInput['loadBalancers']>[number]['listeners'][number];
type ActionInput = NonNullable<ListenerInput['defaultActions']>[number];

// ---------------------------------------------------------------------------------------------
// Annotation parsing

/** `a, b,,c` → `['a', 'b', 'c']`, as the controller splits list annotations. */
export function commaList(value: string | undefined): string[] {
  return (value ?? '').split(',').map((x) => x.trim()).filter((x) => x !== '');
}

/** The policy name, or the catalogue's SSLPolicyNotFound message naming the annotation. */
function checkSslPolicy(name: string, loadBalancerType: 'application' | 'network', annotation: string): string | undefined {
  try {
    sslPolicy(name, loadBalancerType, `annotation ${annotation}`);
    return undefined;
  } catch (err) {
    return `${(err as Error).message} (SSLPolicyNotFound)`;
  }
}

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

/**
 * `instance` targets: every eligible node at the Service port's NodePort; with `nodeLabels` (the
 * `target-node-labels` annotations, `k1=v1,k2=v2`) only the nodes carrying every one of them.
 */
export function instanceTargets(snapshot: ClusterSnapshot, port: V1ServicePort, nodeLabels: Readonly<Record<string, string>> = {}): DesiredTarget[] {
  if (!port.nodePort) return [];
  const wanted = Object.entries(nodeLabels);
  const nodes = wanted.length === 0 ? snapshot.nodes : snapshot.nodes.filter((n) => wanted.every(([k, v]) => n.metadata?.labels?.[k] === v));
  return eligibleNodes(nodes)
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

/** Go's strconv.ParseBool, as the controller parses boolean annotations. */
function goBool(raw: string | undefined): boolean | undefined {
  if (raw === undefined) return undefined;
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(raw)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(raw)) return false;
  return undefined;
}

/**
 * `aws-load-balancer-enable-tcp-udp-listener: "true"` (the controller's model_build_listener.go):
 * a TCP and a UDP Service port with one number become one TCP_UDP listener and target group,
 * built from the first of the two in spec order; more than two ports on a number, or two of one
 * protocol, fail the Service with the controller's words. Off (or unparsable, as the controller
 * ignores it then): every port its own listener.
 */
function tcpUdpPorts(ports: readonly V1ServicePort[], raw: string | undefined): { ports: V1ServicePort[]; tcpUdp: Set<number> } | { rejected: string } {
  if (goBool(raw) !== true) return { ports: [...ports], tcpUdp: new Set() };
  const byNumber = new Map<number, V1ServicePort[]>();
  for (const p of ports) byNumber.set(p.port, [...(byNumber.get(p.port) ?? []), p]);
  const out: V1ServicePort[] = [];
  const tcpUdp = new Set<number>();
  for (const [number, group] of byNumber) {
    if (group.length > 1) {
      if (group.length !== 2) return { rejected: `can only merge two ports, not ${group.length}` };
      const [x, y] = group.map((p) => p.protocol ?? 'TCP');
      if (x === y) return { rejected: `protocols can't match for merging: ${x}` };
      tcpUdp.add(number);
    }
    out.push(group[0]!);
  }
  return { ports: out, tcpUdp };
}

function translateService(snapshot: ClusterSnapshot, service: V1Service, options: TranslateOptions): DesiredStack | { rejected: string } {
  const ns = service.metadata?.namespace ?? 'default';
  const name = service.metadata?.name ?? '';
  const a = service.metadata?.annotations ?? {};
  const problems: string[] = [];
  const targetType = a[`${SVC}aws-load-balancer-nlb-target-type`] ?? (a[`${SVC}aws-load-balancer-type`] === 'nlb-ip' ? 'ip' : 'instance');
  if (targetType !== 'ip' && targetType !== 'instance') return { rejected: `annotation ${SVC}aws-load-balancer-nlb-target-type must be ip or instance: got ${JSON.stringify(targetType)}` };
  const servicePorts = (service.spec?.ports ?? []).filter((p) => (p.protocol ?? 'TCP') === 'TCP' || p.protocol === 'UDP');
  if (servicePorts.length === 0) return { rejected: 'the Service has no TCP or UDP ports' };
  const merged = tcpUdpPorts(servicePorts, a[`${SVC}aws-load-balancer-enable-tcp-udp-listener`]);
  if ('rejected' in merged) return merged;
  const { ports, tcpUdp } = merged;

  // TLS listeners (spec 12.7.2): ssl-cert turns the ssl-ports (default: all) into TLS listeners.
  const certificateArns = commaList(a[`${SVC}aws-load-balancer-ssl-cert`]);
  const sslPorts = commaList(a[`${SVC}aws-load-balancer-ssl-ports`]);
  const unusedSslPorts = sslPorts.filter((p) => !(service.spec?.ports ?? []).some((sp) => sp.name === p || String(sp.port) === p));
  if (unusedSslPorts.length > 0) return { rejected: `Unused port in ssl-ports annotation [${unusedSslPorts.join(' ')}]` };
  const isTlsPort = (port: V1ServicePort) =>
    port.protocol !== 'UDP' && certificateArns.length > 0 && (sslPorts.length === 0 || sslPorts.includes(port.name ?? '') || sslPorts.includes(String(port.port)));
  const tlsBackends = a[`${SVC}aws-load-balancer-backend-protocol`] === 'ssl';
  const listenerSslPolicy = a[`${SVC}aws-load-balancer-ssl-negotiation-policy`] ?? DEFAULT_SSL_POLICY;
  const alpnPolicy = a[`${SVC}aws-load-balancer-alpn-policy`];
  if (ports.some(isTlsPort)) {
    const policyError = checkSslPolicy(listenerSslPolicy, 'network', `${SVC}aws-load-balancer-ssl-negotiation-policy`);
    if (policyError !== undefined) return { rejected: policyError };
    if (alpnPolicy !== undefined && !(ALPN_POLICIES as readonly string[]).includes(alpnPolicy)) {
      return { rejected: `invalid ALPN policy ${alpnPolicy}, policy must be one of [${ALPN_POLICIES.join(', ')}]` };
    }
  }

  const local = targetType === 'instance' && service.spec?.externalTrafficPolicy === 'Local' && Boolean(service.spec?.healthCheckNodePort);
  const hcAnnotation = a[`${SVC}aws-load-balancer-healthcheck-protocol`] ?? 'TCP';
  const hcProtocol = local ? 'HTTP' : hcAnnotation === 'TCP' ? 'TCP' : hcAnnotation === 'HTTPS' ? 'HTTPS' : 'HTTP';
  const hcPortAnnotation = a[`${SVC}aws-load-balancer-healthcheck-port`];
  const interval = local ? 10 : intAnnotation(a, `${SVC}aws-load-balancer-healthcheck-interval`, 10, problems);
  const timeout = local ? 6 : intAnnotation(a, `${SVC}aws-load-balancer-healthcheck-timeout`, 10, problems);
  const healthy = local ? 2 : intAnnotation(a, `${SVC}aws-load-balancer-healthcheck-healthy-threshold`, 3, problems);
  const unhealthy = local ? 2 : intAnnotation(a, `${SVC}aws-load-balancer-healthcheck-unhealthy-threshold`, 3, problems);
  const tgAttributes = parseMap(a[`${SVC}aws-load-balancer-target-group-attributes`]);
  const proxyProtocol = a[`${SVC}aws-load-balancer-proxy-protocol`];
  if (proxyProtocol !== undefined && proxyProtocol !== '*') problems.push(`annotation ${SVC}aws-load-balancer-proxy-protocol: the only valid value is "*": got ${JSON.stringify(proxyProtocol)}`);
  const ppPorts = new Set((a[`${SVC}aws-load-balancer-proxy-protocol-per-target-group`] ?? '').split(',').map((x) => x.trim()).filter(Boolean));
  // Every annotation under the prefix is emulated, accepted with no local effect, or warned (annotations.ts).
  const findings = annotationFindings('Service', a);
  problems.push(...findings.problems);

  const targetGroups: TargetGroupInput[] = [];
  const listeners: ListenerInput[] = [];
  const targets: Record<string, DesiredTarget[]> = {};
  const gateGroups: string[] = [];
  const backends: Record<string, ServiceBackend> = {};
  for (const port of ports) {
    const both = tcpUdp.has(port.port);
    const tls = !both && isTlsPort(port);
    const listenerProtocol = both ? 'TCP_UDP' : tls ? 'TLS' : ((port.protocol ?? 'TCP') as 'TCP' | 'UDP');
    const protocol = both ? 'TCP_UDP' : tls && tlsBackends ? 'TLS' : ((port.protocol ?? 'TCP') as 'TCP' | 'UDP');
    const tgName = targetGroupName(ns, name, port.port, protocol, targetType);
    const attributes: Record<string, string> = {
      'preserve_client_ip.enabled': targetType === 'ip' ? 'false' : 'true',
      ...(protocol === 'UDP' || protocol === 'TCP_UDP' ? { 'preserve_client_ip.enabled': 'true' } : {}),
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
      // TLS target groups keep the controller's TCP defaults (spec 12.7.2).
      healthCheckProtocol: hcProtocol,
      healthCheckPort,
      ...(hcProtocol !== 'TCP' ? { healthCheckPath: local ? '/healthz' : (a[`${SVC}aws-load-balancer-healthcheck-path`] ?? '/'), matcher: { httpCode: a[`${SVC}aws-load-balancer-healthcheck-success-codes`] ?? '200-399' } } : {}),
      healthCheckIntervalSeconds: interval,
      healthCheckTimeoutSeconds: timeout,
      healthyThresholdCount: healthy,
      unhealthyThresholdCount: unhealthy,
      attributes,
    });
    listeners.push({
      port: port.port,
      protocol: listenerProtocol,
      ...(tls
        ? {
            sslPolicy: listenerSslPolicy,
            certificates: certificateArns.map((certificateArn) => ({ certificateArn })),
            ...(alpnPolicy !== undefined ? { alpnPolicy } : {}),
          }
        : {}),
      attributes: parseMap(a[`${SVC}aws-load-balancer-listener-attributes.${listenerProtocol}-${port.port}`]),
      defaultActions: [{ type: 'forward', targetGroupName: tgName }],
    });
    targets[tgName] = targetType === 'ip' ? ipTargets(snapshot, service, port) : instanceTargets(snapshot, port, parseMap(a[`${SVC}aws-load-balancer-target-node-labels`]));
    backends[tgName] = { namespace: ns, name, port: port.port, targetType };
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
    notices: [],
    annotationNotices: findings.notices,
    certificateHosts: [],
    backends,
  };
}

// ---------------------------------------------------------------------------------------------
// Ingresses → ALB (spec 9.1, 9.3)

/** One Ingress path's rule, before the listener numbers it. */
interface IngressPathRule {
  /** The member's place in the group (group.order, then namespace/name). */
  readonly member: number;
  /** The `spec.rules[]` index: the controller sorts paths within one rule only. */
  readonly rule: number;
  /** Exact 0, Prefix 1 (longer first), ImplementationSpecific or none 2 (in their order). */
  readonly kind: 0 | 1 | 2;
  readonly length: number;
  readonly index: number;
  readonly conditions: ConditionInput[];
  readonly action: ActionInput;
  /** `transforms.<name>` of the backend (spec 6.1, 15.5.2). */
  readonly transforms: readonly TransformInput[];
  /** An HTTPS listener puts it before `action` (spec 13.2.9; HTTP listeners ignore it, as the controller does). */
  readonly auth?: AuthenticateActionInput;
  /** The Ingress's `jwt-validation`: an HTTPS listener puts it before `action` too (never beside `auth`). */
  readonly jwtValidation?: JwtValidationActionInput;
}

/** An error the controller would fail the whole Ingress group's reconcile with. */
class IngressGroupError extends Error {}

/** One Ingress of a group, with the name the controller's messages use (`ns/name`). */
interface Member {
  readonly ingress: V1Ingress;
  readonly namespace: string;
  readonly name: string;
  readonly key: string;
  readonly annotations: Record<string, string>;
  /** The IngressClassParams of its class (spec 15.4), when it has any. */
  readonly params: IngressClassParams | undefined;
}

/** What one Ingress asks of one listen port; merged across the group per port. */
interface ListenPortConfig {
  readonly protocol: 'HTTP' | 'HTTPS';
  /** HTTPS only: the Ingress's ssl-policy, undefined when it has none. */
  readonly sslPolicy?: string;
  /** HTTPS only: certificate ARNs, the first the default; empty for HTTP. */
  readonly certificates: readonly string[];
  /** HTTPS only: the `mutual-authentication` entry for this port, if the Ingress has one. */
  readonly mutualAuthentication?: IngressMutualAuthentication;
}

/** One port's entry of `mutual-authentication`, with the controller's defaults (verify: ignoreClientCertificateExpiry false). */
interface IngressMutualAuthentication {
  readonly mode: 'off' | 'passthrough' | 'verify';
  readonly trustStore?: string;
  readonly ignoreClientCertificateExpiry?: boolean;
  readonly advertiseTrustStoreCaNames?: 'on' | 'off';
}

/**
 * `alb.ingress.kubernetes.io/mutual-authentication` (spec 12.7.1): a JSON list of `{port, mode,
 * trustStore, ignoreClientCertificateExpiry, advertiseTrustStoreCaNames}` by port, checked with
 * the controller's rules and messages (pkg/ingress/model_build_listener.go). The trust store is
 * a name or an ARN; here a name of `local-elb kind --config`'s `trustStores:` (an ARN is read
 * for its name part). Entries for ports that are not HTTPS listen ports are not used, as the
 * controller uses them only for HTTPS ports.
 */
function memberMutualAuthentication(m: Member, fail: (message: string) => never): Map<number, IngressMutualAuthentication> | undefined {
  const raw = m.annotations[`${ING}mutual-authentication`];
  if (raw === undefined) return undefined;
  let entries: unknown;
  try {
    entries = JSON.parse(raw);
  } catch (err) {
    return fail(`failed to parse mutualAuthentication configuration from ingress annotation: \`${raw}\`: ${(err as Error).message}`);
  }
  const isEntry = (e: unknown): e is Record<string, unknown> => e !== null && typeof e === 'object' && !Array.isArray(e);
  if (!Array.isArray(entries) || !entries.every(isEntry)) return fail(`failed to parse mutualAuthentication configuration from ingress annotation: \`${raw}\`: expected a JSON list of {"port": …, "mode": …}`);
  if (entries.length === 0) fail(`empty mutualAuthentication configuration from ingress annotation: \`${raw}\``);
  const out = new Map<number, IngressMutualAuthentication>();
  for (const e of entries) {
    const port = typeof e['port'] === 'number' ? e['port'] : NaN;
    const mode = typeof e['mode'] === 'string' ? e['mode'] : '';
    const trustStore = typeof e['trustStore'] === 'string' ? e['trustStore'] : '';
    const ignore = typeof e['ignoreClientCertificateExpiry'] === 'boolean' ? e['ignoreClientCertificateExpiry'] : undefined;
    const advertise = typeof e['advertiseTrustStoreCaNames'] === 'string' ? e['advertiseTrustStoreCaNames'] : undefined;
    if (!Number.isInteger(port) || port < 1 || port > 65535) fail(`listen port must be within [1, 65535]: ${String(e['port'])}`);
    if (mode === '') fail(`mutualAuthentication mode cannot be empty for port ${port}`);
    if (mode !== 'off' && mode !== 'passthrough' && mode !== 'verify') fail(`mutualAuthentication mode value must be among [off, passthrough, verify] for port ${port} : ${mode}`);
    if (mode === 'verify' && trustStore === '') fail(`trustStore is required when mutualAuthentication mode is verify for port ${port}`);
    if (mode !== 'verify' && trustStore !== '') fail(`Mutual Authentication mode ${mode} does not support trustStore for port ${port}`);
    if (mode !== 'verify' && ignore !== undefined) fail(`Mutual Authentication mode ${mode} does not support ignoring client certificate expiry for port ${port}`);
    if (advertise !== undefined) {
      if (mode !== 'verify') fail(`Mutual Authentication mode ${mode} does not support advertiseTrustStoreCaNames for port ${port}`);
      if (advertise !== 'on' && advertise !== 'off') fail(`advertiseTrustStoreCaNames only supports the values "on" and "off" got value ${advertise} for port ${port}`);
    }
    out.set(port, {
      mode: mode as IngressMutualAuthentication['mode'],
      ...(trustStore !== '' ? { trustStore } : {}),
      ...(mode === 'verify' ? { ignoreClientCertificateExpiry: ignore ?? false } : {}),
      ...(advertise !== undefined ? { advertiseTrustStoreCaNames: advertise as 'on' | 'off' } : {}),
    });
  }
  return out;
}

/** The target groups, targets and problems one Ingress group builds up. */
interface GroupContext {
  readonly snapshot: ClusterSnapshot;
  readonly targetGroups: Map<string, TargetGroupInput>;
  readonly targets: Record<string, DesiredTarget[]>;
  readonly gateGroups: Set<string>;
  readonly problems: string[];
  readonly backends: Record<string, ServiceBackend>;
}

/** `rules[].host` and `tls[].hosts` of an Ingress: what the controller discovers certificates by. */
function ingressHosts(ingress: V1Ingress): string[] {
  const hosts = new Set<string>();
  for (const r of ingress.spec?.rules ?? []) if (r.host) hosts.add(r.host);
  for (const t of ingress.spec?.tls ?? []) for (const h of t.hosts ?? []) if (h) hosts.add(h);
  return [...hosts];
}

/**
 * The listen ports of one Ingress (spec 12.7.1): `listen-ports`, by default HTTPS:443 when it
 * names certificates and HTTP:80 otherwise; HTTPS ports get its certificate-arn list and
 * ssl-policy. With HTTPS ports and no certificate-arn the controller discovers ACM certificates
 * by host; here that is one certificate issued by the local CA (`localArn`).
 */
function memberListenPorts(m: Member, localArn: string, notices: string[]): Map<number, ListenPortConfig> {
  const fail = (message: string): never => {
    throw new IngressGroupError(`ingress: ${m.key}: ${message}`);
  };
  // IngressClassParams certificateArn and sslPolicy override the annotations (spec 15.4.2).
  const explicit = memberCertificateArns(m, commaList);
  const policy = memberSslPolicy(m);
  const raw = m.annotations[`${ING}listen-ports`];
  const protocols = new Map<number, 'HTTP' | 'HTTPS'>();
  if (raw === undefined) {
    protocols.set(explicit.length > 0 ? 443 : 80, explicit.length > 0 ? 'HTTPS' : 'HTTP');
  } else {
    let entries: unknown;
    try {
      entries = JSON.parse(raw);
    } catch (err) {
      fail(`failed to parse listen-ports configuration: \`${raw}\`: ${(err as Error).message}`);
    }
    const isEntry = (e: unknown): e is Record<string, number> =>
      e !== null && typeof e === 'object' && !Array.isArray(e) && Object.values(e).every((v) => Number.isInteger(v));
    if (!Array.isArray(entries) || !entries.every(isEntry)) {
      return fail(`failed to parse listen-ports configuration: \`${raw}\`: expected a JSON list of {"HTTP": port} or {"HTTPS": port}`);
    }
    if (entries.length === 0) fail(`empty listen-ports configuration: \`${raw}\``);
    for (const entry of entries) {
      for (const [protocol, port] of Object.entries(entry)) {
        if (port < 1 || port > 65535) fail(`listen port must be within [1, 65535]: ${port}`);
        if (protocol !== 'HTTP' && protocol !== 'HTTPS') fail(`listen protocol must be within [HTTP, HTTPS]: ${protocol}`);
        protocols.set(port, protocol as 'HTTP' | 'HTTPS');
      }
    }
  }
  const https = [...protocols].filter(([, p]) => p === 'HTTPS').map(([port]) => port);
  let certificates = explicit;
  if (https.length > 0 && explicit.length === 0) {
    // Discovery finds nothing for an Ingress without hosts; a listener left without any
    // certificate still gets one from the local CA (for localhost and its address).
    const hosts = ingressHosts(m.ingress);
    if (hosts.length > 0) certificates = [localArn];
    notices.push(
      `${m.key}: HTTPS port${https.length > 1 ? 's' : ''} ${https.join(', ')} without certificate-arn: on EKS the controller attaches the ACM certificates ` +
        `that match the Ingress hosts; local-elb's CA issues one for ${hosts.length > 0 ? hosts.join(', ') : 'localhost and the load balancer address (the Ingress has no hosts)'} instead (trust it: local-elb ca path)`,
    );
  }
  const mtls = memberMutualAuthentication(m, fail);
  const out = new Map<number, ListenPortConfig>();
  for (const [port, protocol] of protocols) {
    const mutualAuthentication = mtls?.get(port);
    out.set(
      port,
      protocol === 'HTTPS'
        ? { protocol, ...(policy !== undefined ? { sslPolicy: policy } : {}), certificates, ...(mutualAuthentication !== undefined ? { mutualAuthentication } : {}) }
        : { protocol, certificates: [] },
    );
  }
  return out;
}

/**
 * One port's configs from every Ingress that listens on it, merged as the controller merges
 * them: one protocol, one ssl-policy (default ELBSecurityPolicy-2016-08), and the certificates
 * of all, the first member's first certificate as the default (a repeat of it still goes into
 * the list), the others once each.
 */
function mergeListenPort(port: number, configs: ReadonlyArray<{ readonly key: string; readonly config: ListenPortConfig }>): ListenPortConfig {
  const fail = (message: string): never => {
    throw new IngressGroupError(`failed to merge listenPort config for port: ${port}: ${message}`);
  };
  const first = configs[0]!;
  let policy: { key: string; name: string } | undefined;
  let mtls: { key: string; value: IngressMutualAuthentication } | undefined;
  for (const { key, config } of configs) {
    if (config.protocol !== first.config.protocol) fail(`conflicting protocol, ${first.key}: ${first.config.protocol} | ${key}: ${config.protocol}`);
    if (config.mutualAuthentication !== undefined) {
      if (mtls === undefined) mtls = { key, value: config.mutualAuthentication };
      else if (JSON.stringify(mtls.value) !== JSON.stringify(config.mutualAuthentication)) {
        fail(`conflicting mTLS Attributes, ${mtls.key}: ${JSON.stringify(mtls.value)} | ${key}: ${JSON.stringify(config.mutualAuthentication)}`);
      }
    }
    if (config.sslPolicy === undefined) continue;
    if (policy === undefined) policy = { key, name: config.sslPolicy };
    else if (policy.name !== config.sslPolicy) fail(`conflicting sslPolicy, ${policy.key}: ${policy.name} | ${key}: ${config.sslPolicy}`);
  }
  if (first.config.protocol === 'HTTP') return { protocol: 'HTTP', certificates: [] };
  const defaultIndex = configs.findIndex((c) => c.config.certificates.length > 0);
  const certificates: string[] = defaultIndex >= 0 ? [configs[defaultIndex]!.config.certificates[0]!] : [];
  const seen = new Set<string>();
  configs.forEach(({ config }, i) => {
    config.certificates.forEach((arn, j) => {
      if ((i === defaultIndex && j === 0) || seen.has(arn)) return;
      seen.add(arn);
      certificates.push(arn);
    });
  });
  return { protocol: 'HTTPS', sslPolicy: policy?.name ?? DEFAULT_SSL_POLICY, certificates, ...(mtls !== undefined ? { mutualAuthentication: mtls.value } : {}) };
}

/**
 * The group's `ssl-redirect` port (spec 12.7.1): one value across the group (a member's
 * IngressClassParams sslRedirectPort over its annotation, spec 15.4.2), an HTTPS listen port.
 */
function sslRedirectPort(members: readonly Member[], ports: ReadonlyMap<number, ListenPortConfig>, notices: string[]): number | undefined {
  const { ports: wanted } = groupSslRedirectPorts(members, notices);
  if (wanted.size === 0) return undefined;
  if (wanted.size > 1) throw new IngressModelError(`conflicting sslRedirect port: [${[...wanted].sort((x, y) => x - y).join(' ')}]`);
  const port = [...wanted][0]!;
  const listener = ports.get(port);
  if (listener === undefined) throw new IngressGroupError(`listener does not exist for SSLRedirect port: ${port}`);
  if (listener.protocol !== 'HTTPS') throw new IngressGroupError(`listener protocol non-SSL for SSLRedirect port: ${port}`);
  return port;
}

function translateIngressGroup(snapshot: ClusterSnapshot, group: string, ingresses: ReadonlyArray<{ readonly ingress: V1Ingress; readonly params: IngressClassParams | undefined }>): DesiredStack | { rejected: string; modelError: boolean } {
  try {
    return buildIngressGroup(snapshot, group, ingresses);
  } catch (err) {
    if (err instanceof IngressGroupError) return { rejected: err.message, modelError: false };
    if (err instanceof IngressModelError) return { rejected: err.message, modelError: true };
    throw err;
  }
}

function buildIngressGroup(snapshot: ClusterSnapshot, group: string, ingresses: ReadonlyArray<{ readonly ingress: V1Ingress; readonly params: IngressClassParams | undefined }>): DesiredStack {
  const ctx: GroupContext = { snapshot, targetGroups: new Map(), targets: {}, gateGroups: new Set(), problems: [], backends: {} };
  const notices: string[] = [];
  const annotationNotices: string[] = [];
  const walkedServices = new Set<string>();
  const paramsNotices: string[] = [];

  const members: Member[] = [...ingresses]
    .sort(({ ingress: x }, { ingress: y }) => {
      const ox = Number(x.metadata?.annotations?.[`${ING}group.order`] ?? 0);
      const oy = Number(y.metadata?.annotations?.[`${ING}group.order`] ?? 0);
      return ox - oy || `${x.metadata?.namespace}/${x.metadata?.name}`.localeCompare(`${y.metadata?.namespace}/${y.metadata?.name}`);
    })
    .map(({ ingress, params }) => {
      const namespace = ingress.metadata?.namespace ?? 'default';
      const name = ingress.metadata?.name ?? '';
      return { ingress, namespace, name, key: `${namespace}/${name}`, annotations: ingress.metadata?.annotations ?? {}, params };
    });

  // The load balancer's own settings, each from IngressClassParams over annotations, one value
  // per group (spec 15.4.2, 15.4.3).
  const scheme = groupScheme(members);
  const ipAddressType = groupIpAddressType(members);
  checkGroupSubnets(members);
  const tags = groupTags(members, parseMap);
  const lbAttributes = groupLoadBalancerAttributes(members, parseMap, paramsNotices);
  const lbName = groupLoadBalancerName(members) ?? loadBalancerName('ing', group);
  checkGroupWafv2(members);
  checkGroupCapacityAndIpam(members, parseMap);
  paramsNotices.push(...paramsWithoutLocalEffect(members, { scheme, ipAddressType, tags }));

  // Listen ports per Ingress, merged per port across the group.
  const portsOf = new Map<string, Map<number, ListenPortConfig>>();
  const byPort = new Map<number, Array<{ key: string; config: ListenPortConfig }>>();
  for (const m of members) {
    // Every annotation under the prefix is emulated, accepted with no local effect, or warned (annotations.ts).
    const findings = annotationFindings('Ingress', m.annotations);
    ctx.problems.push(...findings.problems.map((p) => `${m.key}: ${p}`));
    annotationNotices.push(...findings.notices.map((n) => `${m.key}: ${n}`));
    // The backend Services' alb.ingress.kubernetes.io/ annotations (read for their target groups), once per group.
    for (const svcName of ingressBackendServices(m.ingress)) {
      const service = snapshot.services.find((x) => x.metadata?.namespace === m.namespace && x.metadata?.name === svcName);
      if (service === undefined || walkedServices.has(`${m.namespace}/${svcName}`)) continue;
      walkedServices.add(`${m.namespace}/${svcName}`);
      const backend = annotationFindings('Service', service.metadata?.annotations ?? {}, ING);
      ctx.problems.push(...backend.problems.map((p) => `Service ${m.namespace}/${svcName} (backend of ${m.key}): ${p}`));
      annotationNotices.push(...backend.notices.map((n) => `Service ${m.namespace}/${svcName} (backend of ${m.key}): ${n}`));
    }
    const ports = memberListenPorts(m, localCertificateArn(lbName), notices);
    portsOf.set(m.key, ports);
    for (const [port, config] of ports) byPort.set(port, [...(byPort.get(port) ?? []), { key: m.key, config }]);
  }
  const merged = new Map([...byPort].map(([port, configs]) => [port, mergeListenPort(port, configs)] as const));
  for (const [port, config] of merged) {
    if (config.protocol !== 'HTTPS') continue;
    const policyError = checkSslPolicy(config.sslPolicy!, 'application', `${ING}ssl-policy`);
    if (policyError !== undefined) throw new IngressGroupError(`listener HTTPS:${port}: ${policyError}`);
  }
  const redirectPort = sslRedirectPort(members, merged, paramsNotices);

  // Rules and default backends per Ingress; a listener takes those of the Ingresses on its port.
  const rulesOf = new Map<string, IngressPathRule[]>();
  const defaultOf = new Map<string, ActionInput>();
  const defaultAuthOf = new Map<string, AuthenticateActionInput>();
  const defaultJwtOf = new Map<string, JwtValidationActionInput>();
  members.forEach((m, memberIndex) => {
    type Backend = NonNullable<V1Ingress['spec']>['defaultBackend'];
    // A default backend's errors are not prefixed with the Ingress (as the controller's).
    const fail = (error: string, wrap = true): never => {
      throw new IngressGroupError(wrap ? `ingress: ${m.key}: ${error}` : error);
    };
    const checked = <T>(result: { readonly value: T } | { readonly error: string }, wrap = true): T => ('error' in result ? fail(result.error, wrap) : result.value);
    const useRegexPathMatch = checked(parseUseRegexPathMatch(m.annotations, ING));
    // The controller's EnhancedBackend: conditions, transforms and the action of one backend, in its order.
    const enhancedBackend = (backend: Backend, wrap: boolean) => {
      const svcName = backend?.service?.name;
      if (svcName === undefined) return fail('missing required "service" field', wrap);
      const conditions = checked(parseConditionsAnnotation(m.annotations, ING, svcName), wrap);
      const transforms = checked(parseTransformsAnnotation(m.annotations, ING, svcName), wrap);
      const portRef = backend!.service!.port;
      if (portRef?.name === 'use-annotation') {
        const parsed = parseActionAnnotation(m.annotations, ING, svcName);
        if (parsed === undefined) {
          ctx.problems.push(
            `${m.key}: backend ${svcName} uses use-annotation but ${ING}actions.${svcName} is missing: the rule answers 503 "${NON_EXISTENT_BACKEND_ACTION}" (the controller's --tolerate-non-existent-backend-action default)`,
          );
          return { conditions, transforms, action: backend503(NON_EXISTENT_BACKEND_ACTION), authService: undefined };
        }
        const action = checked(parsed, wrap);
        return { conditions, transforms, action: resolveAction(ctx, m, action, `annotation ${ING}actions.${svcName}`, wrap), authService: singleService(action) };
      }
      const servicePort = portRef?.name ? portRef.name : (portRef?.number ?? 0);
      const action: IngressAction = { type: 'forward', forwardConfig: { targetGroups: [{ serviceName: svcName, servicePort }] } };
      return { conditions, transforms, action: resolveAction(ctx, m, action, `backend ${svcName}`, wrap), authService: singleService(action) };
    };
    // The one Service a forward goes to, whose auth annotations count (buildAuthConfig); none for a 503.
    const singleService = (action: IngressAction): V1Service | undefined => {
      const tuples = action.type === 'forward' ? action.forwardConfig.targetGroups : [];
      const name = tuples.length === 1 ? tuples[0]!.serviceName : undefined;
      return name === undefined ? undefined : snapshot.services.find((s) => s.metadata?.namespace === m.namespace && s.metadata?.name === name);
    };
    // The auth-* annotations (spec 13.2.9): the Ingress's, with the backend Service's over them when the rule forwards to that one Service.
    const backendAuth = (service: V1Service | undefined): AuthenticateActionInput | undefined => {
      const a: Record<string, string> = { ...m.annotations };
      for (const [k, v] of Object.entries(service?.metadata?.annotations ?? {})) if (k.startsWith(ING)) a[k] = v;
      const result = authenticateAction(a, ING, m.namespace, snapshot.secrets ?? []);
      if ('error' in result) throw new IngressGroupError(`ingress: ${m.key}: ${result.error}`);
      return result.action;
    };
    const defaultBackend = m.ingress.spec?.defaultBackend ?? undefined;
    if (defaultBackend !== undefined) {
      // A default action has no conditions or transforms (the controller still parses them).
      const def = enhancedBackend(defaultBackend, false);
      if (def.action !== undefined) {
        defaultOf.set(m.key, def.action);
        const defAuth = backendAuth(def.authService);
        if (defAuth !== undefined) defaultAuthOf.set(m.key, defAuth);
        const defJwt = checked(parseJwtValidationAnnotation(m.annotations, ING), false);
        if (defJwt !== undefined) defaultJwtOf.set(m.key, defJwt);
      }
    }
    const rules: IngressPathRule[] = [];
    (m.ingress.spec?.rules ?? []).forEach((rule, ri) => {
      (rule.http?.paths ?? []).forEach((p, pi) => {
        const pathType = p.pathType as string | undefined;
        const kind = pathType === 'Exact' ? 0 : pathType === 'Prefix' ? 1 : pathType === 'ImplementationSpecific' || pathType === undefined ? 2 : fail(`unknown pathType for path ${p.path ?? ''}`);
        const backend = enhancedBackend(p.backend, true);
        const conditions = checked(ruleConditions({ host: rule.host, path: p.path, pathType, useRegexPathMatch, conditions: backend.conditions }));
        if (backend.action === undefined) return;
        const auth = backendAuth(backend.authService);
        const jwtValidation = checked(parseJwtValidationAnnotation(m.annotations, ING));
        rules.push({
          member: memberIndex,
          rule: ri,
          kind,
          length: (p.path ?? '').length,
          index: pi,
          conditions,
          action: backend.action,
          transforms: backend.transforms,
          ...(auth !== undefined ? { auth } : {}),
          ...(jwtValidation !== undefined ? { jwtValidation } : {}),
        });
      });
    });
    rulesOf.set(m.key, rules);
  });

  const listeners: ListenerInput[] = [...merged.keys()]
    .sort((x, y) => x - y)
    .map((port) => {
      const config = merged.get(port)!;
      const on = members.filter((m) => portsOf.get(m.key)!.has(port));
      // listener-attributes.<PROTO>-<port>, the first member's IngressClassParams listeners[] over them (spec 15.4.2).
      const listenerAttributes = groupListenerAttributes(on, config.protocol, port, parseMap, paramsNotices);
      const attributes = Object.keys(listenerAttributes).length > 0 ? { attributes: listenerAttributes } : {};
      if (redirectPort !== undefined && config.protocol === 'HTTP') {
        // ssl-redirect: only the redirect, no rules (spec 12.7.1).
        return { port, protocol: 'HTTP', ...attributes, defaultActions: [{ type: 'redirect', redirectConfig: { protocol: 'HTTPS', port: String(redirectPort), statusCode: 'HTTP_301' } }], rules: [] };
      }
      // Per Ingress in group order and per entry of its spec.rules: Exact paths, then Prefix by
      // descending length, then the rest in their original order (spec 9.3; the controller sorts
      // the paths of each rule, not across rules).
      const ordered = on
        .flatMap((m) => rulesOf.get(m.key)!)
        .sort((x, y) => x.member - y.member || x.rule - y.rule || x.kind - y.kind || (x.kind === 1 ? y.length - x.length : 0) || x.index - y.index);
      const defaultMember = on.find((m) => defaultOf.has(m.key));
      const defaultAction = defaultMember === undefined ? undefined : defaultOf.get(defaultMember.key);
      const defaultAuth = defaultMember === undefined ? undefined : defaultAuthOf.get(defaultMember.key);
      const defaultJwt = defaultMember === undefined ? undefined : defaultJwtOf.get(defaultMember.key);
      // An authenticate or jwt-validation action goes before the routing action on HTTPS
      // listeners only (spec 13.2.9); the controller refuses both on one backend (buildActions).
      const guarded = (action: ActionInput, auth: AuthenticateActionInput | undefined, jwt: JwtValidationActionInput | undefined, ingress: string | undefined): ActionInput[] => {
        if (config.protocol !== 'HTTPS') return [action];
        if (auth !== undefined && jwt !== undefined) {
          throw new IngressGroupError(`${ingress !== undefined ? `ingress: ${ingress}: ` : ''}authentication and jwt validation can't both be configured`);
        }
        const before = auth ?? jwt;
        return before === undefined ? [action] : [{ ...before, order: 1 } as ActionInput, { ...action, order: 2 } as ActionInput];
      };
      return {
        port,
        protocol: config.protocol,
        ...(config.protocol === 'HTTPS' ? { sslPolicy: config.sslPolicy! } : {}),
        ...(config.certificates.length > 0 ? { certificates: config.certificates.map((certificateArn) => ({ certificateArn })) } : {}),
        ...(config.mutualAuthentication !== undefined ? { mutualAuthentication: { ...config.mutualAuthentication } } : {}),
        ...attributes,
        defaultActions: defaultAction === undefined ? [{ type: 'fixed-response', fixedResponseConfig: { statusCode: '404', contentType: 'text/plain' } }] : guarded(defaultAction, defaultAuth, defaultJwt, undefined),
        // The controller's rule optimiser runs per listener (spec 15.5.1), then priorities are 1, 2, 3, …
        rules: optimizeRules(
          port,
          config.protocol,
          ordered.map((r) => ({ conditions: r.conditions, actions: guarded(r.action, r.auth, r.jwtValidation, members[r.member]!.key), ...(r.transforms.length > 0 ? { transforms: [...r.transforms] } : {}) })),
        ).map((r, i) => ({ priority: i + 1, ...r })),
      };
    });

  // Target groups only the rules of a redirected HTTP listener named are not made (as the controller).
  const used = new Set<string>();
  for (const l of listeners) {
    for (const tgName of forwardedGroups(l)) {
      used.add(tgName);
      // HTTP2 and GRPC target groups take HTTPS listeners only (spec 12.4.1): AWS refuses the
      // rule, and the controller's reconcile of the group fails with its error.
      const version = ctx.targetGroups.get(tgName)?.protocolVersion;
      if (l.protocol === 'HTTP' && (version === 'HTTP2' || version === 'GRPC')) {
        throw new IngressGroupError(
          `InvalidLoadBalancerAction: Listener protocol 'HTTP' is not supported with a target group with the protocol-version '${version}' ` +
            `(listener HTTP:${l.port} forwards to ${tgName}; give the Ingress only HTTPS listen-ports, or ssl-redirect its HTTP ports)`,
        );
      }
    }
  }
  return {
    key: `ingress/${group}`,
    type: 'application',
    owners: members.map((m) => ({ kind: 'Ingress' as const, namespace: m.namespace, name: m.name })),
    config: {
      targetGroups: [...ctx.targetGroups.values()].filter((tg) => used.has(tg.name)),
      loadBalancers: [{ name: lbName, type: 'application', attributes: lbAttributes, listeners }],
    },
    targets: Object.fromEntries(Object.entries(ctx.targets).filter(([name]) => used.has(name))),
    readinessGateGroups: [...ctx.gateGroups].filter((name) => used.has(name)),
    problems: ctx.problems,
    notices,
    annotationNotices,
    certificateHosts: [...new Set(members.flatMap((m) => ingressHosts(m.ingress)))],
    backends: Object.fromEntries(Object.entries(ctx.backends).filter(([name]) => used.has(name))),
    paramsNotices,
    scheme,
    ipAddressType,
    tags,
  };
}

/** The target groups a listener's default actions and rules forward to. */
function forwardedGroups(listener: ListenerInput): string[] {
  const names: string[] = [];
  for (const action of [...(listener.defaultActions ?? []), ...(listener.rules ?? []).flatMap((r) => r.actions ?? [])]) {
    if (action.type !== 'forward') continue;
    if (action.targetGroupName !== undefined) names.push(action.targetGroupName);
    for (const t of action.forwardConfig?.targetGroups ?? []) names.push(t.targetGroupName);
  }
  return names;
}

/**
 * The target group for one Ingress backend (namespace, service, port, target type, protocol,
 * protocol version), made once per group. Its annotations are the Service's
 * `alb.ingress.kubernetes.io/…` ones, then the Ingress's (the Service's win, as the controller
 * merges them). `backend-protocol-version` GRPC brings the controller's gRPC health-check
 * defaults: path `/AWS.ALB/healthcheck`, success codes `12` (spec 12.4.4, 12.7.1).
 */
function serviceTargetGroup(ctx: GroupContext, m: Member, svcName: string, portRef: number | string | undefined): string | undefined {
  const { snapshot, problems } = ctx;
  const ns = m.namespace;
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
  const a: Record<string, string> = { ...m.annotations };
  for (const [k, v] of Object.entries(service.metadata?.annotations ?? {})) if (k.startsWith(ING)) a[k] = v;
  const targetType = memberTargetType(m, a[`${ING}target-type`]);
  if (targetType !== 'ip' && targetType !== 'instance') {
    problems.push(`annotation ${ING}target-type must be ip or instance: got ${JSON.stringify(targetType)}`);
    return undefined;
  }
  if (targetType === 'instance' && !port.nodePort) {
    problems.push(`backend service ${ns}/${svcName} has no NodePort: instance targets need a NodePort or LoadBalancer Service (or use target-type ip)`);
    return undefined;
  }
  const protocol = a[`${ING}backend-protocol`] ?? 'HTTP';
  if (protocol !== 'HTTP' && protocol !== 'HTTPS') throw new IngressGroupError(`ingress: ${m.key}: backend protocol must be within [HTTP, HTTPS]: ${protocol}`);
  const protocolVersion = a[`${ING}backend-protocol-version`] ?? 'HTTP1';
  if (!(PROTOCOL_VERSIONS as readonly string[]).includes(protocolVersion)) {
    throw new IngressGroupError(`ingress: ${m.key}: backend protocol version must be within [${PROTOCOL_VERSIONS.join(', ')}]: ${protocolVersion}`);
  }
  // The target group's protocol, not HTTP (spec 12.7.1: the code copies backend-protocol).
  const healthCheckProtocol = a[`${ING}healthcheck-protocol`] ?? protocol;
  if (healthCheckProtocol !== 'HTTP' && healthCheckProtocol !== 'HTTPS') throw new IngressGroupError(`ingress: ${m.key}: healthCheckProtocol must be within [HTTP, HTTPS]`);
  const name = targetGroupName(ns, svcName, port.port, targetType, protocol, protocolVersion);
  if (!ctx.targetGroups.has(name)) {
    const hcPort = a[`${ING}healthcheck-port`];
    ctx.targetGroups.set(name, {
      name,
      protocol,
      protocolVersion: protocolVersion as ProtocolVersion,
      targetType,
      healthCheckProtocol,
      healthCheckPort: hcPort === undefined || hcPort === 'traffic-port' ? 'traffic-port' : Number(hcPort),
      healthCheckPath: a[`${ING}healthcheck-path`] ?? (protocolVersion === 'GRPC' ? GRPC_HEALTH_CHECK_PATH : '/'),
      healthCheckIntervalSeconds: intAnnotation(a, `${ING}healthcheck-interval-seconds`, 15, problems),
      healthCheckTimeoutSeconds: intAnnotation(a, `${ING}healthcheck-timeout-seconds`, 5, problems),
      healthyThresholdCount: intAnnotation(a, `${ING}healthy-threshold-count`, 2, problems),
      unhealthyThresholdCount: intAnnotation(a, `${ING}unhealthy-threshold-count`, 2, problems),
      matcher: successCodes(name, protocolVersion as ProtocolVersion, a[`${ING}success-codes`]),
      attributes: parseMap(a[`${ING}target-group-attributes`]),
    });
    ctx.targets[name] = targetType === 'ip' ? ipTargets(snapshot, service, port) : instanceTargets(snapshot, port, parseMap(a[`${ING}target-node-labels`]));
    ctx.backends[name] = { namespace: ns, name: svcName, port: port.port, targetType };
    if (targetType === 'ip' && readinessGatesEnabled(snapshot, ns)) ctx.gateGroups.add(name);
  }
  return name;
}

/**
 * `success-codes` as the controller reads it (spec 12.7.1): HTTP status codes (default `200`),
 * but on GRPC target groups gRPC status codes (default `12`), whatever the health-check protocol.
 * AWS refuses a GrpcCode outside 0–99 when the target group is created, and the controller fails
 * the group's reconcile with that error ("200" from an HTTP-minded Ingress included).
 */
function successCodes(tgName: string, protocolVersion: ProtocolVersion, raw: string | undefined): { httpCode: string } | { grpcCode: string } {
  if (protocolVersion !== 'GRPC') return { httpCode: raw ?? '200' };
  const grpcCode = raw ?? '12';
  if (!parseGrpcMatcher(grpcCode).ok) {
    throw new IngressGroupError(
      `ValidationError: ${grpcRangeMessage(grpcCode)} (target group ${tgName}: with ${ING}backend-protocol-version GRPC, ${ING}success-codes holds gRPC status codes, e.g. 12, 0-99 or 0,12)`,
    );
  }
  return { grpcCode };
}

/**
 * A backend's action (spec 9.3, 15.5.2) → the config's: fixed-response and redirect as written
 * (AWS validates the values), forward with each Service resolved into its target group. As the
 * controller's --tolerate-non-existent-backend-service default, a forward to one Service that
 * does not exist answers 503 `Backend service does not exist`; with more entries a missing
 * Service fails the group. A target group named by ARN or name is one the controller does not
 * make, and local-elb's ALB cannot forward into a target group of another runtime: such entries
 * are left out with a Warning (their weight goes to the other groups), and a forward left with
 * none answers the same 503. `source` names the annotation or backend in messages. Undefined
 * when a Service's target group cannot be made (serviceTargetGroup reports why).
 */
function resolveAction(ctx: GroupContext, m: Member, action: IngressAction, source: string, wrap: boolean): ActionInput | undefined {
  switch (action.type) {
    case 'fixed-response': {
      const c = action.fixedResponseConfig;
      return {
        type: 'fixed-response',
        fixedResponseConfig: {
          statusCode: c.statusCode,
          ...(c.contentType !== undefined ? { contentType: c.contentType as 'text/plain' } : {}),
          ...(c.messageBody !== undefined ? { messageBody: c.messageBody } : {}),
        },
      };
    }
    case 'redirect': {
      const { statusCode, ...rest } = action.redirectConfig;
      return { type: 'redirect', redirectConfig: { statusCode: statusCode as 'HTTP_301', ...rest } };
    }
    case 'forward':
      break;
  }
  const tuples = action.forwardConfig.targetGroups;
  const exists = (svcName: string) => ctx.snapshot.services.some((s) => s.metadata?.namespace === m.namespace && s.metadata?.name === svcName);
  const missing = tuples.filter((t) => t.serviceName !== undefined && !exists(t.serviceName));
  if (missing.length > 0) {
    if (tuples.length === 1) {
      ctx.problems.push(
        `${m.key}: ${source}: backend service ${m.namespace}/${missing[0]!.serviceName} does not exist: the rule answers 503 "${NON_EXISTENT_BACKEND_SERVICE}" (the controller's --tolerate-non-existent-backend-service default)`,
      );
      return backend503(NON_EXISTENT_BACKEND_SERVICE);
    }
    const error = `Service "${missing[0]!.serviceName}" not found`;
    throw new IngressGroupError(wrap ? `ingress: ${m.key}: ${error}` : error);
  }
  if (tuples.length === 0) throw new IngressGroupError(`ingress: ${m.key}: ${source}: a forward action needs at least one target group (AWS refuses a ForwardConfig without TargetGroups)`);
  const groups: Array<{ targetGroupName: string; weight: number }> = [];
  const foreign: string[] = [];
  let unresolved = false;
  for (const t of tuples) {
    if (t.serviceName === undefined) {
      foreign.push(t.targetGroupARN !== undefined ? `target group ${t.targetGroupARN}` : `target group named ${t.targetGroupName}`);
      continue;
    }
    const tg = serviceTargetGroup(ctx, m, t.serviceName, t.servicePort);
    if (tg === undefined) unresolved = true;
    else groups.push({ targetGroupName: tg, weight: t.weight ?? 1 });
  }
  if (foreign.length > 0) {
    const outcome = groups.length > 0 ? 'those entries are left out and their weight goes to the other target groups' : `the rule answers 503 "${NON_EXISTENT_BACKEND_SERVICE}"`;
    ctx.problems.push(
      `${m.key}: ${source} forwards to ${foreign.join(', ')}: a target group the controller does not make is not part of this load balancer on local-elb (an ALB cannot forward into another load balancer's runtime), so ${outcome}`,
    );
    if (groups.length === 0 && !unresolved) return backend503(NON_EXISTENT_BACKEND_SERVICE);
  }
  if (groups.length === 0) return undefined;
  // Target group stickiness (spec 3.4) goes to AWS as the controller sends it; the config validates it.
  const stickiness = action.forwardConfig.targetGroupStickinessConfig;
  if (stickiness !== undefined) {
    const targetGroupStickinessConfig = { enabled: stickiness.enabled === true, ...(stickiness.durationSeconds !== undefined ? { durationSeconds: stickiness.durationSeconds } : {}) };
    return { type: 'forward', forwardConfig: { targetGroups: groups, targetGroupStickinessConfig } };
  }
  return groups.length === 1 ? { type: 'forward', targetGroupName: groups[0]!.targetGroupName } : { type: 'forward', forwardConfig: { targetGroups: groups } };
}

// ---------------------------------------------------------------------------------------------

/** Every load balancer the cluster asks for, as the controller would build it. */
export function translate(snapshot: ClusterSnapshot, options: TranslateOptions = {}): TranslateResult {
  const stacks: DesiredStack[] = [];
  const rejected: Rejection[] = [];
  for (const service of snapshot.services) {
    if (!isNlbService(service, options.loadBalancerClass)) continue;
    const ref: ObjectRef = { kind: 'Service', namespace: service.metadata?.namespace ?? 'default', name: service.metadata?.name ?? '' };
    const r = translateService(snapshot, service, options);
    if ('rejected' in r) rejected.push({ ref, reason: r.rejected });
    else stacks.push(r);
  }
  // Ingress groups (spec 9.3, 15.4.1): an IngressClassParams group.name puts every Ingress of the class in it.
  const groups = new Map<string, Array<{ ingress: V1Ingress; params: IngressClassParams | undefined }>>();
  const ingressRef = (i: V1Ingress): ObjectRef => ({ kind: 'Ingress', namespace: i.metadata?.namespace ?? 'default', name: i.metadata?.name ?? '' });
  for (const ingress of snapshot.ingresses) {
    const c = classifyIngress(ingress, snapshot);
    if ('error' in c) {
      rejected.push({ ref: ingressRef(ingress), reason: c.error, event: { reason: 'FailedLoadGroupID', message: `failed load groupID due to ${c.error}` } });
      continue;
    }
    if (!c.managed) continue;
    groups.set(c.group, [...(groups.get(c.group) ?? []), { ingress, params: c.params }]);
  }
  for (const [group, members] of groups) {
    const r = translateIngressGroup(snapshot, group, members);
    if ('rejected' in r) {
      for (const { ingress } of members) {
        rejected.push({
          ref: ingressRef(ingress),
          reason: r.rejected,
          ...(r.modelError ? { event: { reason: 'FailedBuildModel' as const, message: `Failed build model due to ${r.rejected}` }, keepStack: `ingress/${group}` } : {}),
        });
      }
    } else stacks.push(r);
  }
  return { stacks: stacks.sort((x, y) => x.key.localeCompare(y.key)), rejected };
}
