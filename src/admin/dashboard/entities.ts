/**
 * What the dashboard shows, as plain JSON entities keyed by kind and name (`lb:app`,
 * `tg:web`, `target:web|127.0.0.1:3001`, `pod:web-r2-x7k2p`, `deployment:web`): a pure
 * function of the running load balancers, target groups and local pods at one moment. The
 * event stream diffs two of these maps; the browser keeps the same map. Times are the
 * group's clock (ms); the browser turns them into countdowns.
 */
import type { ActionConfig, ConditionConfig, ListenerConfig, TransformConfig } from '../../config/schema.ts';
import type { LoadBalancer } from '../../runtime/runtime.ts';
import type { Pod, PodTermination } from '../../pods/pod.ts';
import type { TargetGroup } from '../../targets/target-group.ts';
import type { Target } from '../../targets/target.ts';

export type Entity = Readonly<Record<string, unknown>>;

/** Local pods where there are some (`serve`, `demo`); kind has none. */
export interface PodSource {
  /** Pod-backed target group → its pods and the Deployment's replicas and revision. */
  deployments(): ReadonlyArray<{ readonly targetGroup: string; readonly replicas: number; readonly revision: number; readonly pods: readonly Pod[] }>;
}

/** When each target entered its current state, as the dashboard saw it (the group keeps no such time). */
export type StateSince = (group: string, target: Target) => number;

export const targetEntityKey = (group: string, targetKey: string) => `target:${group}|${targetKey}`;

/** `path-pattern /api/*`, `http-header X-Env=canary|beta`, `path-pattern regex ^/v[0-9]+/`, … */
export function describeCondition(c: ConditionConfig): string {
  const regexes = c.hostHeaderConfig?.regexValues ?? c.pathPatternConfig?.regexValues ?? c.httpHeaderConfig?.regexValues;
  const name = c.httpHeaderConfig ? ` ${c.httpHeaderConfig.httpHeaderName}` : '';
  if (regexes !== undefined) return `${c.field}${name} regex ${regexes.join(' | ')}`;
  const values =
    c.values ??
    c.hostHeaderConfig?.values ??
    c.pathPatternConfig?.values ??
    c.httpHeaderConfig?.values ??
    c.httpRequestMethodConfig?.values ??
    c.sourceIpConfig?.values ??
    c.queryStringConfig?.values.map((q) => (q.key !== undefined ? `${q.key}=${q.value}` : q.value)) ??
    [];
  return `${c.field}${name} ${values.join(' | ')}`;
}

/** `url-rewrite ^/api/(.*)$ → /$1`, `host-header-rewrite .* → backend.internal` (spec 6.1). */
export function describeTransform(t: TransformConfig): string {
  const r = (t.type === 'host-header-rewrite' ? t.hostHeaderRewriteConfig : t.urlRewriteConfig).rewrites[0]!;
  return `${t.type} ${r.regex} → ${r.replace}`;
}

/** `forward web`, `forward web:3 canary:1`, `fixed-response 503`, `redirect HTTP_301`, … */
export function describeAction(a: ActionConfig): string {
  switch (a.type) {
    case 'forward':
      if (a.forwardConfig !== undefined) return `forward ${a.forwardConfig.targetGroups.map((g) => `${g.targetGroupName}:${g.weight}`).join(' ')}`;
      return `forward ${a.targetGroupName ?? ''}`.trim();
    case 'fixed-response':
      return `fixed-response ${a.fixedResponseConfig.statusCode}`;
    case 'redirect':
      return `redirect ${a.redirectConfig.statusCode}`;
    default:
      // authenticate-oidc, authenticate-cognito, and any action type added later.
      return (a as { readonly type: string }).type;
  }
}

function listenerEntity(lb: LoadBalancer, l: ListenerConfig, i: number) {
  let url: string | undefined;
  try {
    url = lb.url(i);
  } catch {
    url = undefined;
  }
  return {
    protocol: l.protocol,
    address: l.address,
    port: lb.ports[i] ?? l.port,
    ...(url !== undefined ? { url } : {}),
    rules: [...l.rules]
      .sort((a, b) => a.priority - b.priority)
      .map((r) => ({
        priority: r.priority,
        conditions: r.conditions.map(describeCondition),
        actions: r.actions.map(describeAction),
        ...(r.transforms !== undefined && r.transforms.length > 0 ? { transforms: r.transforms.map(describeTransform) } : {}),
      })),
    defaultActions: l.defaultActions.map(describeAction),
  };
}

export function loadBalancerEntity(lb: LoadBalancer): Entity {
  return {
    name: lb.name,
    type: lb.config.type,
    listeners: lb.config.listeners.map((l, i) => listenerEntity(lb, l, i)),
    targetGroupNames: lb.targetGroupNames(),
  };
}

export function targetGroupEntity(group: TargetGroup): Entity {
  const s = group.settings;
  const c = group.config;
  return {
    name: group.name,
    kind: c.kind,
    protocol: c.protocol,
    ...(c.port !== undefined ? { port: c.port } : {}),
    algorithm: c.kind === 'application' ? s.algorithm : 'flow_hash',
    healthCheck: `${c.healthCheckProtocol}${c.healthCheckProtocol !== 'TCP' ? ` ${c.healthCheckPath}` : ''} every ${c.healthCheckIntervalSeconds}s, healthy ${c.healthyThresholdCount} / unhealthy ${c.unhealthyThresholdCount}`,
    deregistrationDelaySeconds: s.deregistrationDelayMs / 1000,
    slowStartSeconds: s.slowStartMs / 1000,
    anomalyMitigation: s.anomalyMitigation,
    loadBalancerNames: group.describe().loadBalancerNames,
    healthy: group.healthyHostCount,
    unhealthy: group.unhealthyHostCount,
    failingOpen: group.failingOpen,
  };
}

export function targetEntity(group: TargetGroup, target: Target, since: StateSince, pod: string | undefined): Entity {
  const health = group.describeTargetHealth([{ id: target.id, port: target.port }])[0]!.targetHealth;
  const drain = target.drain;
  const c = group.config;
  const registrationDelayMs = c.emulator.registrationDelaySeconds * 1000;
  const slowStartSinceMs = group.slowStartSince(target);
  const weighted = c.kind === 'application' && group.settings.algorithm === 'weighted_random';
  const anomaly = weighted ? group.anomalyDetection(target) : undefined;
  return {
    targetGroup: group.name,
    id: target.id,
    port: target.port,
    key: target.key,
    state: health.state,
    ...(health.reason !== undefined ? { reason: health.reason } : {}),
    ...(health.description !== undefined ? { description: health.description } : {}),
    sinceMs: since(group.name, target),
    registration: target.registration,
    ...(drain !== undefined ? { drainStartedAtMs: drain.startedAtMs, drainEndsAtMs: drain.endsAtMs } : {}),
    ...(health.reason === 'Elb.RegistrationInProgress' && registrationDelayMs > 0 ? { registrationEndsAtMs: target.registeredAtMs + registrationDelayMs } : {}),
    inFlight: target.outstanding,
    ...(slowStartSinceMs !== undefined
      ? { slowStart: { weight: Math.round(target.weight * 1000) / 1000, sinceMs: slowStartSinceMs, endsAtMs: slowStartSinceMs + group.settings.slowStartMs } }
      : {}),
    ...(anomaly !== undefined ? { anomaly: { result: anomaly.result, mitigationInEffect: anomaly.mitigationInEffect, weight: Math.round(anomaly.weight * 1000) / 1000 } } : {}),
    ...(pod !== undefined ? { pod } : {}),
  };
}

/** Pending, Running, Ready, Terminating, Terminated: Kubernetes' phase, with Running split by readiness as `kubectl get pods` shows it. */
export function podDisplayPhase(pod: Pod): string {
  if (pod.terminating && pod.phase !== 'Terminated') return 'Terminating';
  if (pod.phase === 'Running' && pod.ready) return 'Ready';
  return pod.phase;
}

export function podEntity(targetGroup: string, pod: Pod, targetState: string | undefined): Entity {
  const s = pod.status();
  const termination: PodTermination | undefined = pod.termination;
  return {
    name: s.name,
    targetGroup,
    ip: s.ip,
    port: s.port,
    target: `${s.ip}:${s.port}`,
    revision: s.revision,
    phase: podDisplayPhase(pod),
    ready: s.ready,
    containersReady: s.containersReady,
    restartCount: s.restartCount,
    ...(s.pid !== undefined ? { pid: s.pid } : {}),
    ...(targetState !== undefined ? { targetState } : {}),
    ...(termination !== undefined ? { termination } : {}),
  };
}

/**
 * Every entity now. `since` says when a target entered its state; `pods` is absent in kind.
 * Groups and load balancers are read afresh each time (a config change may replace them).
 */
export function buildEntities(input: {
  readonly loadBalancers: readonly LoadBalancer[];
  readonly targetGroups: readonly TargetGroup[];
  readonly since: StateSince;
  readonly pods?: PodSource;
}): Map<string, Entity> {
  const out = new Map<string, Entity>();
  for (const lb of input.loadBalancers) out.set(`lb:${lb.name}`, loadBalancerEntity(lb));
  const deployments = input.pods?.deployments() ?? [];
  const podOfTarget = new Map<string, string>();
  for (const d of deployments) for (const pod of d.pods) podOfTarget.set(`${d.targetGroup}|${pod.ip}:${pod.port}`, pod.name);
  const targetStates = new Map<string, string>();
  for (const group of input.targetGroups) {
    out.set(`tg:${group.name}`, targetGroupEntity(group));
    for (const target of group.targets()) {
      const entity = targetEntity(group, target, input.since, podOfTarget.get(`${group.name}|${target.key}`));
      targetStates.set(`${group.name}|${target.key}`, entity.state as string);
      out.set(targetEntityKey(group.name, target.key), entity);
    }
  }
  for (const d of deployments) {
    const revisions = new Set(d.pods.filter((p) => !p.terminating).map((p) => p.revision));
    out.set(`deployment:${d.targetGroup}`, {
      targetGroup: d.targetGroup,
      replicas: d.replicas,
      revision: d.revision,
      rollingOut: d.pods.some((p) => p.revision < d.revision) || revisions.size > 1,
    });
    for (const pod of d.pods) out.set(`pod:${pod.name}`, podEntity(d.targetGroup, pod, targetStates.get(`${d.targetGroup}|${pod.ip}:${pod.port}`)));
  }
  return out;
}
