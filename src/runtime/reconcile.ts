/**
 * Pure decisions the controller applies, for kind and local pods alike (spec 9.5, 9.6): which
 * targets to register and deregister, and what readiness-gate condition a pod should carry.
 * No I/O.
 */
import type { TargetHealth } from '../targets/health.ts';
import type { TargetHealthDescription } from '../targets/target-group.ts';
import type { DesiredTarget } from './endpoints.ts';

export interface TargetDiff {
  readonly toRegister: ReadonlyArray<{ id: string; port: number }>;
  readonly toDeregister: ReadonlyArray<{ id: string; port: number }>;
}

/**
 * Draining targets are set apart before matching (as the controller does): a desired endpoint
 * whose target is draining is registered again; targets that are registered and not desired
 * are deregistered.
 */
export function diffTargets(current: readonly TargetHealthDescription[], desired: readonly DesiredTarget[]): TargetDiff {
  const key = (t: { id: string; port: number }) => `${t.id}:${t.port}`;
  const active = new Map<string, { id: string; port: number }>();
  for (const d of current) if (d.targetHealth.state !== 'draining') active.set(key(d.target), d.target);
  const wanted = new Map(desired.map((t) => [key(t), { id: t.id, port: t.port }]));
  return {
    toRegister: [...wanted].filter(([k]) => !active.has(k)).map(([, t]) => t),
    toDeregister: [...active].filter(([k]) => !wanted.has(k)).map(([, t]) => t),
  };
}

export interface GateCondition {
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason: string;
  readonly message: string;
}

/** The readiness-gate condition for a pod's target (the controller's table, spec 9.5). */
export function gateCondition(health: TargetHealth | undefined): GateCondition {
  if (health === undefined || health.state === 'unused') {
    return { status: 'False', reason: 'Elb.RegistrationInProgress', message: 'Target registration is in progress' };
  }
  if (health.state === 'healthy') return { status: 'True', reason: '', message: '' };
  return { status: 'False', reason: health.reason ?? '', message: health.description ?? '' };
}

/** A stable signature of a stack's shape (everything but its targets): a change means rebuild. */
export function shapeSignature(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sort((v as Record<string, unknown>)[k])]));
    return v;
  };
  return JSON.stringify(sort(value));
}
