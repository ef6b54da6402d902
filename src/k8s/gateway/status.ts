/**
 * The statuses the AWS Load Balancer Controller writes (spec 15.1.10), as the next `status` of
 * each object given its current one: GatewayClass `Accepted`; Gateway `Accepted`, `Programmed`,
 * `addresses` and `listeners`; each route's `status.parents` entry per parentRef of this
 * controller (others' entries kept). Pure: `undefined` means nothing changed (conditions are
 * compared without `lastTransitionTime`, which moves only when a condition changes), so the
 * watcher never patches in a loop.
 */
import { createHash } from 'node:crypto';
import { parentStatusKey } from './attach.ts';
import type { GatewayClassOutcome, GatewayOutcome, RouteStatusOutcome } from './translate.ts';
import { GATEWAY_RECONCILE_ERROR_MESSAGE } from './translate.ts';
import type { Condition, Gateway, GatewayAddress, GatewayClass, GatewayObject, ListenerStatus, ParentReference, RouteParentStatus, RouteStatus } from './model.ts';
import { LISTENER_ACCEPTED_MESSAGE } from './listeners.ts';

/** Condition messages longer than this are cut, with `...` (spec 15.1.10). */
const MAX_MESSAGE_LENGTH = 32_700;

const truncate = (s: string) => ([...s].length <= MAX_MESSAGE_LENGTH ? s : `${[...s].slice(0, MAX_MESSAGE_LENGTH).join('')}...`);

/** What the running load balancer says about a built Gateway. */
export interface GatewayRuntimeFacts {
  /** The load balancer runs (AWS: `active`). */
  readonly running: boolean;
  readonly address?: string;
  /** The load balancer's name (its ARN is made from it). */
  readonly loadBalancerName?: string;
}

/** `arn:aws:elasticloadbalancing:local:000000000000:loadbalancer/app|net/<name>/<id>`, the local stand-in for the ARN in Programmed's message. */
export function localLoadBalancerArn(type: 'application' | 'network', name: string): string {
  const id = createHash('sha256').update(name).digest('hex').slice(0, 16);
  return `arn:aws:elasticloadbalancing:local:000000000000:loadbalancer/${type === 'application' ? 'app' : 'net'}/${name}/${id}`;
}

function same(a: Condition | undefined, b: Condition): boolean {
  return a !== undefined && a.status === b.status && a.reason === b.reason && a.message === b.message && (a.observedGeneration ?? 0) === (b.observedGeneration ?? 0);
}

/** Sets one condition as the controller does: unchanged when status, reason, message and generation agree; else a new transition time. */
export function setCondition(conditions: readonly Condition[], next: Omit<Condition, 'lastTransitionTime'>, now: string): Condition[] {
  const wanted: Condition = { ...next, message: truncate(next.message) };
  const i = conditions.findIndex((c) => c.type === next.type);
  if (i >= 0 && same(conditions[i], wanted)) return [...conditions];
  const out = [...conditions];
  const updated = { ...wanted, lastTransitionTime: now };
  if (i >= 0) out[i] = updated;
  else out.push(updated);
  return out;
}

/** Conditions equal but for their transition times. */
function conditionsEqual(a: readonly Condition[] | undefined, b: readonly Condition[] | undefined): boolean {
  const x = a ?? [];
  const y = b ?? [];
  return x.length === y.length && x.every((c, i) => c.type === y[i]!.type && same(c, y[i]!));
}

/** Keeps the transition time of each condition that did not change. */
function keepTransitionTimes(next: readonly Condition[], previous: readonly Condition[] | undefined, now: string): Condition[] {
  return next.map((c) => {
    const old = previous?.find((p) => p.type === c.type);
    return { ...c, lastTransitionTime: old !== undefined && same(old, c) && old.lastTransitionTime !== undefined ? old.lastTransitionTime : now };
  });
}

export function gatewayClassStatus(gatewayClass: GatewayClass, outcome: GatewayClassOutcome, now: string): GatewayClass['status'] | undefined {
  const conditions = gatewayClass.status?.conditions ?? [];
  const next = setCondition(conditions, { type: 'Accepted', ...outcome.accepted, observedGeneration: outcome.generation }, now);
  return conditionsEqual(conditions, next) ? undefined : { ...gatewayClass.status, conditions: next };
}

function listenerConditions(generation: number, outcome: NonNullable<GatewayOutcome['listeners']>[number], programmed: boolean, now: string): Condition[] {
  const { reason, message } = outcome.validation;
  const c = (type: string, status: Condition['status'], r: string, m: string): Condition => ({ type, status, reason: r, message: m, observedGeneration: generation, lastTransitionTime: now });
  const conflicted = reason === 'HostnameConflict' || reason === 'ProtocolConflict';
  const refused = reason === 'PortUnavailable' || reason === 'UnsupportedProtocol' || conflicted;
  return [
    conflicted ? c('Conflicted', 'True', reason, message) : c('Conflicted', 'False', 'NoConflicts', 'Listener has no conflict.'),
    // An InvalidRouteKinds listener still reads Accepted=True (the controller's quirk, spec 15.1.10).
    refused ? c('Accepted', 'False', reason, message) : c('Accepted', 'True', 'Accepted', LISTENER_ACCEPTED_MESSAGE),
    reason === 'InvalidRouteKinds' ? c('ResolvedRefs', 'False', reason, message) : c('ResolvedRefs', 'True', 'ResolvedRefs', 'Listener has all refs resolved.'),
    reason !== 'Accepted'
      ? c('Programmed', 'False', reason, 'Listener is not accepted.')
      : programmed
        ? c('Programmed', 'True', 'Programmed', 'Listener is programmed.')
        : c('Programmed', 'False', 'Pending', 'Listener is pending to be programmed.'),
  ];
}

function listenersEqual(a: readonly ListenerStatus[] | undefined, b: readonly ListenerStatus[]): boolean {
  const x = a ?? [];
  return (
    x.length === b.length &&
    x.every((l, i) => {
      const m = b[i]!;
      return l.name === m.name && l.attachedRoutes === m.attachedRoutes && JSON.stringify(l.supportedKinds) === JSON.stringify(m.supportedKinds) && conditionsEqual(l.conditions, m.conditions);
    })
  );
}

/**
 * The Gateway's next status. A built Gateway whose load balancer runs is Programmed (message:
 * the load balancer's ARN) with its address; one that failed to start is what a failed deploy
 * leaves: Accepted=False `Invalid`, Programmed and listeners as they were.
 */
export function gatewayStatus(gateway: Gateway, outcome: GatewayOutcome, facts: GatewayRuntimeFacts | undefined, type: 'application' | 'network', now: string): Gateway['status'] | undefined {
  const previous = gateway.status ?? {};
  const generation = outcome.generation;
  let conditions = [...(previous.conditions ?? [])];
  let addresses: readonly GatewayAddress[] | undefined = previous.addresses;
  let listeners: readonly ListenerStatus[] | undefined = previous.listeners;
  const built = outcome.stackKey !== undefined;
  if (built && facts?.running !== true) {
    conditions = setCondition(conditions, { type: 'Accepted', status: 'False', reason: 'Invalid', message: GATEWAY_RECONCILE_ERROR_MESSAGE, observedGeneration: generation }, now);
  } else {
    const programmed = built && facts?.running === true;
    if (programmed) {
      conditions = setCondition(conditions, { type: 'Programmed', status: 'True', reason: 'Programmed', message: localLoadBalancerArn(type, facts.loadBalancerName ?? ''), observedGeneration: generation }, now);
    }
    conditions = setCondition(conditions, { type: 'Accepted', ...outcome.accepted, observedGeneration: generation }, now);
    if (programmed && facts.address !== undefined && (addresses?.length !== 1 || addresses[0]!.value !== facts.address)) addresses = [{ type: 'IPAddress', value: facts.address }];
    if (outcome.listeners !== undefined) {
      const next = outcome.listeners.map((l) => ({
        name: l.validation.name,
        supportedKinds: l.supportedKinds,
        attachedRoutes: l.attachedRoutes,
        conditions: listenerConditions(generation, l, programmed, now),
      }));
      if (!listenersEqual(listeners, next)) {
        listeners = next.map((l) => ({ ...l, conditions: keepTransitionTimes(l.conditions, previous.listeners?.find((p) => p.name === l.name)?.conditions, now) }));
      }
    }
  }
  const changed = !conditionsEqual(previous.conditions, conditions) || addresses !== previous.addresses || listeners !== previous.listeners;
  if (!changed) return undefined;
  return { ...previous, conditions, ...(addresses !== undefined ? { addresses } : {}), ...(listeners !== undefined ? { listeners } : {}) };
}

function routeConditions(outcome: RouteStatusOutcome, generation: number): Condition[] {
  return [
    outcome.resolvedRefs
      ? { type: 'ResolvedRefs', status: 'True', reason: 'ResolvedRefs', message: '', observedGeneration: generation }
      : { type: 'ResolvedRefs', status: 'False', reason: outcome.reason, message: outcome.message, observedGeneration: generation },
    outcome.accepted
      ? { type: 'Accepted', status: 'True', reason: 'Accepted', message: '', observedGeneration: generation }
      : { type: 'Accepted', status: 'False', reason: outcome.reason, message: outcome.message, observedGeneration: generation },
  ];
}

/**
 * A route's next status: `status.parents` rebuilt from `spec.parentRefs` (removed refs go),
 * with this controller's outcomes for its parents and every other entry kept as it is; an
 * entry written for a newer generation is not moved back.
 */
export function routeStatus(
  route: GatewayObject & { spec?: { parentRefs?: readonly ParentReference[] }; status?: RouteStatus },
  outcomes: readonly RouteStatusOutcome[],
  now: string,
): RouteStatus | undefined {
  const namespace = route.metadata?.namespace ?? 'default';
  const generation = route.metadata?.generation ?? 1;
  const previous = route.status?.parents ?? [];
  const old = new Map(previous.map((p) => [parentStatusKey(p.parentRef, namespace), p]));
  const byKey = new Map(outcomes.map((o) => [parentStatusKey(o.parentRef, namespace), o]));
  const parents: RouteParentStatus[] = [];
  for (const parentRef of route.spec?.parentRefs ?? []) {
    const key = parentStatusKey(parentRef, namespace);
    const outcome = byKey.get(key);
    const existing = old.get(key);
    if (outcome === undefined) {
      if (existing !== undefined) parents.push(existing);
      continue;
    }
    if (existing !== undefined && (existing.conditions[0]?.observedGeneration ?? 0) > generation) {
      parents.push(existing);
      continue;
    }
    parents.push({ parentRef, controllerName: outcome.controllerName, conditions: keepTransitionTimes(routeConditions(outcome, generation), existing?.conditions, now) });
  }
  const unchanged =
    parents.length === previous.length &&
    parents.every((p, i) => {
      const q = previous[i]!;
      return parentStatusKey(p.parentRef, namespace) === parentStatusKey(q.parentRef, namespace) && p.controllerName === q.controllerName && conditionsEqual(p.conditions, q.conditions);
    });
  return unchanged ? undefined : { ...route.status, parents };
}
