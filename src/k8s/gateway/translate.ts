/**
 * Gateway API objects → load balancers, as the AWS Load Balancer Controller's Gateway
 * controllers build them (spec 15): a GatewayClass whose controllerName is `gateway.k8s.aws/alb`
 * or `gateway.k8s.aws/nlb` makes each of its Gateways an ALB or an NLB, with one listener per
 * port of `spec.listeners` that has a route attached, HTTPRoute/GRPCRoute rules on the ALB and
 * the oldest TCPRoute/UDPRoute/TLSRoute's backends on the NLB. Also decides every status the
 * controller writes (GatewayClass, Gateway, route parents), less what depends on the running
 * load balancer (Programmed, addresses: `status.ts`).
 *
 * A pure function of a snapshot, producing the same DesiredStack shape as `../translate.ts`, so
 * `controller.ts` runs Gateways exactly as it runs Services and Ingresses.
 */
import { createHash } from 'node:crypto';
import { ALPN_POLICIES, type ConfigInput } from '../../config/schema.ts';
import type { DesiredTarget } from '../../runtime/endpoints.ts';
import { DEFAULT_SSL_POLICY } from '../../tls/policies.ts';
import { localCertificateArn } from '../../tls/provider.ts';
import type { ClusterSnapshot, DesiredStack, ObjectRef, ServiceBackend as BindingBackend } from '../translate.ts';
import { attachRoutes, GatewayLoadError, parentStatusKey, refersToGateway, routeHostnames, routeRef, type AttachmentResult, type RouteParentOutcome, type RouteRef } from './attach.ts';
import { buildTargetGroup, GatewayReconcileError, resolveBackend, type Backend, type TargetGroupContext, type TargetGroupInput } from './backends.ts';
import { gatewayClassVerdict, listenerConfiguration, resolveGatewayConfig } from './lb-config.ts';
import { validateListeners, type ListenerValidation } from './listeners.ts';
import {
  ALB_GATEWAY_CONTROLLER,
  NLB_GATEWAY_CONTROLLER,
  keyOf,
  nameOf,
  routeKindsOf,
  namespaceOf,
  type Condition,
  type Gateway,
  type GatewayApiSnapshot,
  type GatewayClass,
  type GatewayControllerName,
  type GatewayListener,
  type GatewayObject,
  type GRPCRoute,
  type HTTPRoute,
  type HTTPRouteFilter,
  type LoadBalancerConfigurationSpec,
  type RouteGroupKind,
  type RouteKind,
} from './model.ts';
import { buildListenerRules, type ActionInput, type L7Route, type LoadedRule } from './rules.ts';

type ListenerInput = NonNullable<ConfigInput['loadBalancers']>[number]['listeners'][number];

export interface GatewayTranslateOptions {
  /** The controller's `--default-target-type` (default `instance`). */
  readonly defaultTargetType?: 'instance' | 'ip';
  /** The controller's `--cluster-name`, part of every generated name's hash (default empty). */
  readonly clusterName?: string;
}

export interface GatewayClassOutcome {
  readonly name: string;
  readonly generation: number;
  readonly accepted: Pick<Condition, 'status' | 'reason' | 'message'>;
}

export interface ListenerOutcome {
  readonly validation: ListenerValidation;
  readonly attachedRoutes: number;
  readonly supportedKinds: readonly RouteGroupKind[];
}

/** What the controller writes to one Gateway, less what the running load balancer decides. */
export interface GatewayOutcome {
  readonly ref: ObjectRef;
  readonly generation: number;
  readonly controllerName: GatewayControllerName;
  /** Set when a load balancer was built: the DesiredStack's key. */
  readonly stackKey?: string;
  /** Accepted as the build decides it; a stack that then fails to start is `Invalid` (status.ts). */
  readonly accepted: Pick<Condition, 'status' | 'reason' | 'message'>;
  /** Per listener, in Gateway order; undefined: the controller leaves `status.listeners` as it is. */
  readonly listeners?: readonly ListenerOutcome[];
}

/** A route parent status entry to write, with the controller that owns it. */
export interface RouteStatusOutcome extends RouteParentOutcome {
  readonly controllerName: GatewayControllerName;
}

export interface GatewayEvent {
  readonly ref: ObjectRef;
  readonly type: 'Normal' | 'Warning';
  readonly reason: string;
  readonly message: string;
}

export interface GatewayTranslation {
  readonly stacks: readonly DesiredStack[];
  readonly classes: readonly GatewayClassOutcome[];
  readonly gateways: readonly GatewayOutcome[];
  readonly routes: readonly RouteStatusOutcome[];
  readonly events: readonly GatewayEvent[];
}

export const GATEWAY_RECONCILE_ERROR_MESSAGE = 'Check Gateway Events for more information.';

/** The stack key of a Gateway's load balancer. */
export function gatewayStackKey(namespace: string, name: string): string {
  return `gateway/${namespace}/${name}`;
}

/** `k8s-<ns[:8]>-<name[:8]>-<sha256(cluster, uid, scheme)[:10]>` (spec 15.1.11). */
export function gatewayLoadBalancerName(clusterName: string, gateway: Gateway, scheme: string): string {
  const clean = (s: string) => s.replace(/[^A-Za-z0-9]/g, '').slice(0, 8);
  const hash = createHash('sha256').update(clusterName).update(gateway.metadata?.uid ?? keyOf(gateway)).update(scheme).digest('hex').slice(0, 10);
  return `k8s-${clean(namespaceOf(gateway))}-${clean(nameOf(gateway))}-${hash}`;
}

function isOurs(controllerName: string | undefined): controllerName is GatewayControllerName {
  return controllerName === ALB_GATEWAY_CONTROLLER || controllerName === NLB_GATEWAY_CONTROLLER;
}

function routesOf(gatewayApi: GatewayApiSnapshot, controller: GatewayControllerName): RouteRef[] {
  const refs = (kind: RouteKind, list: readonly GatewayObject[]) => list.map((r) => routeRef(kind, r as never));
  return controller === ALB_GATEWAY_CONTROLLER
    ? [...refs('HTTPRoute', gatewayApi.httpRoutes), ...refs('GRPCRoute', gatewayApi.grpcRoutes)]
    : [...refs('TCPRoute', gatewayApi.tcpRoutes), ...refs('UDPRoute', gatewayApi.udpRoutes), ...refs('TLSRoute', gatewayApi.tlsRoutes)];
}

/** Which route outcomes land: failures first, then acceptances; the first per (route, parentRef) wins (spec 15.1.10). */
function firstPerParent(outcomes: readonly RouteParentOutcome[]): RouteParentOutcome[] {
  const seen = new Set<string>();
  return outcomes.filter((o) => {
    const key = `${o.route.id}|${parentStatusKey(o.parentRef, o.route.namespace)}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

interface LoadedRoute {
  readonly ref: RouteRef;
  readonly rules: ReadonlyArray<{ readonly index: number; readonly filters: readonly HTTPRouteFilter[]; readonly backends: readonly Backend[] }>;
}

type RuleSpec = { readonly filters?: readonly HTTPRouteFilter[]; readonly backendRefs?: ReadonlyArray<Parameters<typeof resolveBackend>[3]> };

/** Loads each attached route's backends once (spec 15.1.4); failures become route statuses for every matched parentRef. */
function loadRoutes(
  cluster: ClusterSnapshot,
  gatewayApi: GatewayApiSnapshot,
  attachment: AttachmentResult,
  defaultTgc: Parameters<typeof resolveBackend>[4],
): { loaded: Map<string, LoadedRoute>; failures: RouteParentOutcome[] } {
  const loaded = new Map<string, LoadedRoute>();
  const failures: RouteParentOutcome[] = [];
  for (const routes of attachment.routesByPort.values()) {
    for (const ref of routes) {
      if (loaded.has(ref.id)) continue;
      const specRules = ((ref.route as { spec?: { rules?: readonly RuleSpec[] } }).spec?.rules ?? []) as readonly RuleSpec[];
      const rules = specRules.map((rule, index) => {
        const backends: Backend[] = [];
        for (const backendRef of rule.backendRefs ?? []) {
          const r = resolveBackend(cluster, gatewayApi, ref, backendRef, defaultTgc);
          if ('backend' in r) {
            backends.push(r.backend);
            continue;
          }
          const acceptedSide = r.failure.reason === 'UnsupportedValue';
          for (const parentRef of attachment.matchedParentRefs.get(ref.id) ?? []) {
            failures.push({ route: ref, parentRef, accepted: !acceptedSide, resolvedRefs: acceptedSide, reason: r.failure.reason, message: r.failure.message });
          }
        }
        return { index, filters: rule.filters ?? [], backends };
      });
      loaded.set(ref.id, { ref, rules });
    }
  }
  return { loaded, failures };
}

/** The protocol and hostnames of one port (spec 15.1.5): TLS Passthrough is TCP, TCP with UDP is TCP_UDP. */
function portConfig(listeners: readonly GatewayListener[], port: number, attachment: AttachmentResult): { protocol: string; hostnames: Set<string> } {
  let protocol: string | undefined;
  const hostnames = new Set<string>();
  for (const l of listeners) {
    if (l.port !== port) continue;
    const p = l.protocol === 'TLS' && l.tls?.mode === 'Passthrough' ? 'TCP' : l.protocol;
    if (protocol === undefined) protocol = p;
    else if (protocol !== p) {
      const pair = new Set([protocol, p]);
      if ([...pair].every((x) => x === 'TCP' || x === 'UDP' || x === 'TCP_UDP')) protocol = 'TCP_UDP';
      else throw new Error('invalid listeners on gateway, listeners with same ports cannot have different protocols');
    }
    if (l.hostname !== undefined) hostnames.add(l.hostname);
  }
  for (const route of attachment.routesByPort.get(port) ?? []) for (const h of routeHostnames(attachment, port, route)) hostnames.add(h);
  return { protocol: protocol!, hostnames };
}

/** The oldest route (then `namespace/name` first) of an NLB port: the one whose backends get traffic (spec 15.1.8). */
export function pickL4Route<T extends { createdMs: number; key: string }>(routes: readonly T[]): T | undefined {
  let best: T | undefined;
  for (const r of routes) if (best === undefined || r.createdMs < best.createdMs || (r.createdMs === best.createdMs && r.key < best.key)) best = r;
  return best;
}

interface Built {
  readonly stack: DesiredStack;
}

/** Builds the load balancer of one Gateway (the controller's model build); throws its build errors. */
function buildModel(
  cluster: ClusterSnapshot,
  gateway: Gateway,
  controller: GatewayControllerName,
  spec: LoadBalancerConfigurationSpec,
  attachment: AttachmentResult,
  loaded: ReadonlyMap<string, LoadedRoute>,
  options: GatewayTranslateOptions,
): Built {
  const alb = controller === ALB_GATEWAY_CONTROLLER;
  const namespace = namespaceOf(gateway);
  const name = nameOf(gateway);
  const gatewayKey = `${namespace}/${name}`;
  const clusterName = options.clusterName ?? '';
  const lbName = spec.loadBalancerName ?? gatewayLoadBalancerName(clusterName, gateway, spec.scheme ?? 'internal');
  const problems: string[] = [];
  const notices: string[] = [];
  const certificateHosts = new Set<string>();
  const targetGroups = new Map<string, TargetGroupInput>();
  const targets: Record<string, readonly DesiredTarget[]> = {};
  const gateGroups = new Set<string>();
  /** The Service port behind each target group: the controller's TargetGroupBinding for it (spec 15.1.9, 15.3.5). */
  const backends: Record<string, BindingBackend> = {};
  const tgContext: TargetGroupContext = {
    cluster,
    loadBalancerType: alb ? 'application' : 'network',
    gateway: { namespace, name },
    defaultTargetType: options.defaultTargetType ?? 'instance',
    clusterName,
  };
  const unservedNoted = new Set<string>();
  /** A backend's target group on a listener of `protocol`: its name, or undefined when local-elb cannot serve it. */
  const groupFor = (route: RouteRef, backend: Backend, protocol: string): string | undefined => {
    if (backend.kind !== 'Service') {
      const what = backend.kind === 'TargetGroupName' ? `target group ${backend.name} (kind TargetGroupName: a target group made outside the cluster)` : `Gateway ${backend.name} (NLB → ALB chaining)`;
      const key = `${route.id}|${backend.kind}|${backend.name}`;
      if (!unservedNoted.has(key)) {
        unservedNoted.add(key);
        problems.push(`${route.kind} ${route.key}: backend ${what} is not emulated by local-elb; it gets no traffic`);
      }
      return undefined;
    }
    const built = buildTargetGroup(tgContext, route, backend, protocol);
    if (!targetGroups.has(built.input.name)) {
      targetGroups.set(built.input.name, built.input);
      targets[built.input.name] = built.targets;
      backends[built.input.name] = { namespace: backend.service.metadata?.namespace ?? namespace, name: backend.service.metadata?.name ?? '', port: backend.port.port, targetType: built.input.targetType === 'ip' ? 'ip' : 'instance' };
      if (built.readinessGates) gateGroups.add(built.input.name);
    }
    return built.input.name;
  };

  const listeners: ListenerInput[] = [];
  const ports = [...new Set(attachment.listeners.map((l) => l.port))].filter((p) => (attachment.routesByPort.get(p) ?? []).length > 0).sort((a, b) => a - b);
  for (const port of ports) {
    const { protocol, hostnames } = portConfig(attachment.listeners, port, attachment);
    const lsCfg = listenerConfiguration(spec, protocol, port);
    const attributes = Object.fromEntries((lsCfg?.listenerAttributes ?? []).map((a) => [a.key, a.value]));
    const mtls = lsCfg?.mutualAuthentication;
    // NLB TLS listeners' mutual TLS is not emulated; on ALB HTTPS listeners it is (README "Mutual TLS (ALB)").
    if (protocol === 'TLS' && mtls?.mode !== undefined && mtls.mode !== 'off') {
      problems.push(`listener ${protocol}:${port}: mutualAuthentication mode ${mtls.mode} (LoadBalancerConfiguration) is not emulated by local-elb on NLB TLS listeners`);
    }
    if (lsCfg?.quicEnabled === true) problems.push(`listener ${protocol}:${port}: quicEnabled (LoadBalancerConfiguration) is not emulated by local-elb; the listener stays ${protocol}`);
    const secure = protocol === 'HTTPS' || protocol === 'TLS';
    const tls: Partial<ListenerInput> = {};
    if (secure) {
      const explicit = [...(lsCfg?.defaultCertificate !== undefined ? [lsCfg.defaultCertificate] : []), ...(lsCfg?.certificates ?? [])];
      let certificates = explicit;
      if (explicit.length === 0) {
        if (hostnames.size === 0) throw new Error(`No hostnames found for TLS cert discovery for listener on gateway ${gatewayKey} with protocol:port ${protocol}:${port}`);
        certificates = [localCertificateArn(lbName)];
        for (const h of hostnames) certificateHosts.add(h);
        notices.push(
          `listener ${protocol}:${port} has no certificate in a LoadBalancerConfiguration: on EKS the controller discovers the ACM certificates for ${[...hostnames].join(', ')}; ` +
            `local-elb's CA issues one for them instead (trust it: local-elb ca path)`,
        );
      }
      tls.sslPolicy = lsCfg?.sslPolicy ?? DEFAULT_SSL_POLICY;
      tls.certificates = certificates.map((certificateArn) => ({ certificateArn }));
      // As the controller builds it (pkg/gateway/model/model_build_listener.go): verify takes the trust store (name or ARN) and ignoreClientCertificateExpiry false unless set.
      if (protocol === 'HTTPS' && mtls?.mode !== undefined) {
        const verify = mtls.mode === 'verify';
        tls.mutualAuthentication = {
          mode: mtls.mode as 'off' | 'passthrough' | 'verify',
          ...(verify && mtls.trustStore !== undefined ? { trustStore: mtls.trustStore } : {}),
          ...(verify ? { ignoreClientCertificateExpiry: mtls.ignoreClientCertificateExpiry ?? false } : mtls.ignoreClientCertificateExpiry !== undefined ? { ignoreClientCertificateExpiry: mtls.ignoreClientCertificateExpiry } : {}),
          ...(mtls.advertiseTrustStoreCaNames === 'on' || mtls.advertiseTrustStoreCaNames === 'off' ? { advertiseTrustStoreCaNames: mtls.advertiseTrustStoreCaNames } : {}),
        };
      }
      if (protocol === 'TLS') {
        const alpn = lsCfg?.alpnPolicy ?? 'None';
        if (!(ALPN_POLICIES as readonly string[]).includes(alpn)) throw new Error(`invalid ALPN policy ${alpn}, policy must be one of [${ALPN_POLICIES.join(', ')}]`);
        tls.alpnPolicy = alpn;
      }
    }
    const routes = (attachment.routesByPort.get(port) ?? []).map((r) => loaded.get(r.id)!).filter((r) => r !== undefined);
    if (alb) {
      const l7: L7Route[] = routes.map((r) => ({
        ref: r.ref as RouteRef<HTTPRoute | GRPCRoute>,
        rules: r.rules.map(
          (rule): LoadedRule => ({
            index: rule.index,
            filters: rule.filters,
            forward: rule.backends.flatMap((b) => {
              const tg = groupFor(r.ref, b, protocol);
              return tg === undefined ? [] : [{ targetGroupName: tg, weight: b.weight }];
            }),
          }),
        ),
      }));
      for (const route of l7) {
        for (const rule of route.rules) {
          for (const f of rule.filters) {
            if (f.type === 'ExtensionRef' && f.extensionRef?.kind === 'ListenerRuleConfiguration') {
              const note = `${route.ref.kind} ${route.ref.key} rule ${rule.index}: ListenerRuleConfiguration ${f.extensionRef.name} is not emulated by local-elb; the rule is served without it`;
              if (!problems.includes(note)) problems.push(note);
            }
          }
        }
      }
      const built = buildListenerRules(port, l7, (route) => routeHostnames(attachment, port, route.ref));
      problems.push(...built.problems);
      listeners.push({
        port,
        protocol: protocol as ListenerInput['protocol'],
        ...tls,
        attributes,
        defaultActions: [{ type: 'fixed-response', fixedResponseConfig: { statusCode: '404', contentType: 'text/plain' } }],
        rules: built.rules,
      });
      continue;
    }
    const winner = pickL4Route(routes.map((r) => ({ ...r, createdMs: r.ref.createdMs, key: r.ref.key })));
    const tuples = (winner?.rules ?? []).flatMap((rule) =>
      rule.backends.flatMap((b) => {
        const tg = groupFor(winner!.ref, b, protocol);
        return tg === undefined ? [] : [{ targetGroupName: tg, weight: b.weight }];
      }),
    );
    // No usable backend, or only weight 0: the controller skips the listener.
    const usable = tuples.filter((t) => t.weight > 0);
    if (usable.length === 0) continue;
    const heaviest = usable.reduce((a, b) => (b.weight > a.weight ? b : a));
    if (usable.length > 1) {
      problems.push(
        `listener ${protocol}:${port}: ${winner!.ref.kind} ${winner!.ref.key} forwards to ${usable.length} weighted target groups (${usable.map((t) => `${t.targetGroupName}=${t.weight}`).join(', ')}); ` +
          `local-elb's NLB forwards to one, so all traffic goes to ${heaviest.targetGroupName}`,
      );
    }
    const action: ActionInput = { type: 'forward', targetGroupName: heaviest.targetGroupName };
    listeners.push({ port, protocol: protocol as ListenerInput['protocol'], ...tls, attributes: protocol === 'TLS' || protocol === 'UDP' ? {} : attributes, defaultActions: [action] });
  }

  // Only the target groups a listener forwards to are made (an NLB's losing weighted groups are not).
  const used = new Set(listeners.flatMap((l) => [...(l.defaultActions ?? []), ...(l.rules ?? []).flatMap((r) => r.actions)]).flatMap((a) => (a.type !== 'forward' ? [] : a.targetGroupName !== undefined ? [a.targetGroupName] : (a.forwardConfig?.targetGroups ?? []).map((t) => t.targetGroupName))));
  const stackKey = gatewayStackKey(namespace, name);
  return {
    stack: {
      key: stackKey,
      type: alb ? 'application' : 'network',
      owners: [{ kind: 'Gateway', namespace, name }],
      config: {
        targetGroups: [...targetGroups.values()].filter((tg) => used.has(tg.name)),
        loadBalancers: [{ name: lbName, type: alb ? 'application' : 'network', attributes: Object.fromEntries((spec.loadBalancerAttributes ?? []).map((a) => [a.key, a.value])), listeners }],
      },
      targets: Object.fromEntries(Object.entries(targets).filter(([tg]) => used.has(tg))),
      readinessGateGroups: [...gateGroups].filter((tg) => used.has(tg)),
      problems,
      notices,
      certificateHosts: [...certificateHosts],
      backends: Object.fromEntries(Object.entries(backends).filter(([tg]) => used.has(tg))),
    },
  };
}

function listenerOutcomes(validations: readonly ListenerValidation[], attachment: AttachmentResult | undefined): ListenerOutcome[] {
  return validations.map((validation) => ({ validation, attachedRoutes: attachment?.attachedRoutes.get(validation.name) ?? 0, supportedKinds: validation.supportedKinds }));
}

/** Every Gateway of the controller's classes, and the statuses the controller writes. */
export function translateGateways(cluster: ClusterSnapshot, gatewayApi: GatewayApiSnapshot, options: GatewayTranslateOptions = {}): GatewayTranslation {
  const stacks: DesiredStack[] = [];
  const gateways: GatewayOutcome[] = [];
  const routes: RouteStatusOutcome[] = [];
  const events: GatewayEvent[] = [];
  const ourClasses = new Map<string, GatewayClass>();
  const classes: GatewayClassOutcome[] = [];
  for (const c of gatewayApi.gatewayClasses) {
    if (!isOurs(c.spec?.controllerName)) continue;
    ourClasses.set(nameOf(c), c);
    classes.push({ name: nameOf(c), generation: c.metadata?.generation ?? 1, accepted: gatewayClassVerdict(gatewayApi, c) });
  }
  const namespaceLabels = (ns: string) => cluster.namespaces.find((n) => n.metadata?.name === ns)?.metadata?.labels;

  for (const gateway of [...gatewayApi.gateways].sort((a, b) => keyOf(a).localeCompare(keyOf(b)))) {
    const gatewayClass = ourClasses.get(gateway.spec?.gatewayClassName ?? '');
    if (gatewayClass === undefined || gateway.metadata?.deletionTimestamp) continue;
    const controller = gatewayClass.spec!.controllerName as GatewayControllerName;
    const ref: ObjectRef = { kind: 'Gateway', namespace: namespaceOf(gateway), name: nameOf(gateway) };
    const base = { ref, generation: gateway.metadata?.generation ?? 1, controllerName: controller };
    // Routes of the other layer are never loaded by this Gateway's controller (spec 15.1.1): no
    // status is written for them; local-elb says so on the Gateway.
    const otherController = controller === ALB_GATEWAY_CONTROLLER ? NLB_GATEWAY_CONTROLLER : ALB_GATEWAY_CONTROLLER;
    for (const other of routesOf(gatewayApi, otherController)) {
      if (!other.parentRefs.some((p) => refersToGateway(p, other.namespace, gateway))) continue;
      events.push({
        ref,
        type: 'Warning',
        reason: 'RouteKindNotServed',
        message:
          `${other.kind} ${other.key} names this Gateway, but its class ${nameOf(gatewayClass)} (${controller}) serves ${routeKindsOf(controller).join(', ')} only: ` +
          `the controller ignores the route and writes no status for it (${other.kind} needs a Gateway of a ${otherController} class)`,
      });
    }
    const classAccepted = classes.find((c) => c.name === nameOf(gatewayClass))!.accepted.status === 'True';
    const config = resolveGatewayConfig(gatewayApi, gatewayClass, gateway, classAccepted);
    if ('error' in config) {
      gateways.push({ ...base, accepted: { status: 'False', reason: 'Invalid', message: config.error } });
      continue;
    }
    const validations = validateListeners(controller, gateway.spec?.listeners ?? []);
    let attachment: AttachmentResult;
    try {
      attachment = attachRoutes(gateway, validations, routesOf(gatewayApi, controller), namespaceLabels);
    } catch (err) {
      if (!(err instanceof GatewayLoadError)) throw err;
      gateways.push({ ...base, accepted: { status: 'False', reason: err.reason, message: err.message } });
      continue;
    }
    let loadedRoutes: ReturnType<typeof loadRoutes>;
    try {
      loadedRoutes = loadRoutes(cluster, gatewayApi, attachment, config.defaultTargetGroupConfiguration);
    } catch (err) {
      if (!(err instanceof GatewayReconcileError)) throw err;
      // A plain reconcile error: retried, no condition written; local-elb says why in an Event.
      events.push({ ref, type: 'Warning', reason: 'LoadBalancerNotServed', message: `the controller cannot reconcile this Gateway: ${err.message}` });
      continue;
    }
    const accepted: RouteParentOutcome[] = [];
    for (const route of loadedRoutes.loaded.values()) {
      for (const parentRef of attachment.matchedParentRefs.get(route.ref.id) ?? []) accepted.push({ route: route.ref, parentRef, accepted: true, resolvedRefs: true, reason: 'Accepted', message: '' });
    }
    routes.push(...firstPerParent([...attachment.failures, ...loadedRoutes.failures, ...accepted]).map((o) => ({ ...o, controllerName: controller })));

    const listeners = listenerOutcomes(validations, attachment);
    let built: Built;
    try {
      built = buildModel(cluster, gateway, controller, config.spec, attachment, loadedRoutes.loaded, options);
    } catch (err) {
      if (err instanceof GatewayReconcileError) throw err;
      events.push({ ref, type: 'Warning', reason: 'FailedBuildModel', message: `Failed build model due to ${(err as Error).message}` });
      gateways.push({ ...base, accepted: { status: 'False', reason: 'Invalid', message: GATEWAY_RECONCILE_ERROR_MESSAGE } });
      continue;
    }
    stacks.push(built.stack);
    const anyValid = validations.some((v) => v.valid);
    const anyInvalid = validations.some((v) => !v.valid);
    gateways.push({
      ...base,
      stackKey: built.stack.key,
      accepted: { status: anyValid ? 'True' : 'False', reason: anyInvalid ? 'ListenersNotValid' : 'Accepted', message: '' },
      listeners,
    });
  }
  return { stacks, classes, gateways, routes, events };
}
