/**
 * What changes when the runtime moves from one config to the next (the ELBv2 API's calls, made
 * through ElbRuntime.apply): a pure diff, as the Load Balancer Controller's reconcile is, that
 * ElbRuntime then carries out. Registrations are runtime state and never diffed: a kept group
 * keeps its targets whatever `targets` says; a new group registers the ones it lists.
 */
import type { ListenerChange } from '../config/changes.ts';
import type { Config, ListenerConfig, LoadBalancerConfig, TargetGroupConfig } from '../config/schema.ts';

export interface LoadBalancerDiff {
  readonly name: string;
  readonly config: LoadBalancerConfig;
  /** Attribute keys whose value changes, with the new value. */
  readonly attributes: Readonly<Record<string, string>>;
  /** The listeners afterwards; undefined when they stay as they are. */
  readonly listeners: readonly ListenerChange[] | undefined;
  /** An ALB that forwards to a replaced target group binds its new object (no listener closes). */
  readonly usesReplacedGroup: boolean;
}

export interface RuntimeDiff {
  readonly targetGroups: {
    readonly added: readonly TargetGroupConfig[];
    readonly removed: readonly string[];
    /**
     * Settings other than attributes changed (ModifyTargetGroup's health check): a new group
     * object takes over the registered targets, which are checked again from `initial`.
     */
    readonly replaced: readonly TargetGroupConfig[];
    readonly attributes: ReadonlyArray<{ readonly name: string; readonly changes: Readonly<Record<string, string>> }>;
  };
  readonly loadBalancers: {
    readonly added: readonly LoadBalancerConfig[];
    readonly removed: readonly string[];
    readonly changed: readonly LoadBalancerDiff[];
  };
}

/**
 * `current` is what runs (ElbRuntime.snapshot: live attributes), `next` what is wanted. With
 * `fallback`, new and rebound listeners may bind a free port or 127.0.0.1 when theirs cannot be
 * bound (listeners the ELBv2 API creates).
 */
export function diffConfig(current: Config, next: Config, options: { readonly fallback?: boolean } = {}): RuntimeDiff {
  const fallback = options.fallback === true;
  const currentGroups = new Map(current.targetGroups.map((g) => [g.name, g]));
  const nextGroups = new Map(next.targetGroups.map((g) => [g.name, g]));
  const added = next.targetGroups.filter((g) => !currentGroups.has(g.name));
  const removed = current.targetGroups.filter((g) => !nextGroups.has(g.name)).map((g) => g.name);
  const replaced: TargetGroupConfig[] = [];
  const attributes: Array<{ name: string; changes: Record<string, string> }> = [];
  for (const group of next.targetGroups) {
    const before = currentGroups.get(group.name);
    if (before === undefined) continue;
    const { targets: _t1, attributes: _a1, ...settings } = group;
    const { targets: _t2, attributes: _a2, ...settingsBefore } = before;
    if (!deepEqual(settings, settingsBefore)) replaced.push(group);
    else {
      const changes = changedValues(before.attributes, group.attributes);
      if (Object.keys(changes).length > 0) attributes.push({ name: group.name, changes });
    }
  }
  const replacedNames = new Set(replaced.map((g) => g.name));

  const currentBalancers = new Map(current.loadBalancers.map((lb) => [lb.name, lb]));
  const nextNames = new Set(next.loadBalancers.map((lb) => lb.name));
  const changed: LoadBalancerDiff[] = [];
  for (const lb of next.loadBalancers) {
    const before = currentBalancers.get(lb.name);
    if (before === undefined) continue;
    const network = lb.type === 'network';
    const listeners = listenerChanges(before.listeners, lb.listeners, { network, replacedGroups: replacedNames, fallback });
    const attributeChanges = changedValues(before.attributes, lb.attributes);
    const usesReplacedGroup = !network && lb.listeners.some((l) => forwardedGroups(l).some((n) => replacedNames.has(n)));
    if (listeners !== undefined || Object.keys(attributeChanges).length > 0 || usesReplacedGroup) {
      changed.push({ name: lb.name, config: lb, attributes: attributeChanges, listeners, usesReplacedGroup });
    }
  }
  return {
    targetGroups: { added, removed, replaced, attributes },
    loadBalancers: {
      added: next.loadBalancers.filter((lb) => !currentBalancers.has(lb.name)),
      removed: current.loadBalancers.filter((lb) => !nextNames.has(lb.name)).map((lb) => lb.name),
      changed,
    },
  };
}

/**
 * The listeners afterwards, each matched to the one it was: an identical listener is kept
 * (wherever it moved: a deleted listener shifts the others); one with the same port, address
 * and protocol but other settings is updated in place on an ALB (rules, actions, attributes)
 * or bound again (its TLS settings changed, or it is an NLB's); the rest are new. Undefined
 * when nothing changes.
 */
export function listenerChanges(
  before: readonly ListenerConfig[],
  after: readonly ListenerConfig[],
  options: { readonly network: boolean; readonly replacedGroups?: ReadonlySet<string>; readonly fallback?: boolean },
): ListenerChange[] | undefined {
  const used = new Set<number>();
  const from: Array<number | undefined> = after.map((l) => {
    const i = before.findIndex((b, k) => !used.has(k) && deepEqual(b, l));
    if (i >= 0) used.add(i);
    return i >= 0 ? i : undefined;
  });
  after.forEach((l, j) => {
    if (from[j] !== undefined) return;
    const i = before.findIndex((b, k) => !used.has(k) && b.port === l.port && b.address === l.address && b.protocol === l.protocol);
    if (i >= 0) {
      used.add(i);
      from[j] = i;
    }
  });
  const replaced = options.replacedGroups ?? new Set<string>();
  const changes = after.map((config, j): ListenerChange => {
    const i = from[j];
    const fallback = options.fallback === true ? { fallback: true } : {};
    if (i === undefined) return { config, ...fallback };
    const old = before[i]!;
    const same = deepEqual(old, config);
    // An NLB listener's flows hold its target group and its settings: any change binds it anew.
    const rebind = options.network ? !same || forwardedGroups(config).some((n) => replaced.has(n)) : socketChanged(old, config);
    return rebind ? { config, from: i, rebind: true, ...fallback } : { config, from: i };
  });
  const unchanged = changes.length === before.length && changes.every((c, j) => c.from === j && c.rebind !== true && deepEqual(before[j], c.config));
  return unchanged ? undefined : changes;
}

/** What only a new socket can change on an ALB listener: its TLS front end (policy, certificates, mutual TLS). */
function socketChanged(a: ListenerConfig, b: ListenerConfig): boolean {
  return a.sslPolicy !== b.sslPolicy || a.alpnPolicy !== b.alpnPolicy || !deepEqual(a.certificates, b.certificates) || !deepEqual(a.mutualAuthentication, b.mutualAuthentication);
}

/** The target groups a listener's default actions and rules forward to. */
export function forwardedGroups(l: ListenerConfig): string[] {
  const names: string[] = [];
  for (const a of [...l.defaultActions, ...l.rules.flatMap((r) => r.actions)]) {
    if (a.type !== 'forward') continue;
    if (a.targetGroupName) names.push(a.targetGroupName);
    for (const t of a.forwardConfig?.targetGroups ?? []) names.push(t.targetGroupName);
  }
  return names;
}

function changedValues(before: Readonly<Record<string, string>>, after: Readonly<Record<string, string>>): Record<string, string> {
  const changes: Record<string, string> = {};
  for (const [key, value] of Object.entries(after)) if (before[key] !== value) changes[key] = value;
  return changes;
}

/** Structural equality of plain config data (objects, arrays, scalars); key order does not matter. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const other = b as unknown[];
    return a.length === other.length && a.every((v, i) => deepEqual(v, other[i]));
  }
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  return ka.length === kb.length && ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
