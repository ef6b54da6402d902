/**
 * A target group's registrations (spec 1.3, 4.1, 4.2): which targets are registered, and the
 * deregistrations in progress with the delay's timer. A draining target carries its drain
 * record (the one place `draining` is kept); what draining does to checks, slow start and
 * connections is the target group's, told through the hooks.
 */
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import type { HealthThresholds, TargetHealth } from './health.ts';
import { Target, targetKey, type DrainOutcome, type DrainRecord, type TargetSpec } from './target.ts';

/** Why a drain ends: the delay elapsed, the target was registered again, or the group closed. */
export type DrainEnd = 'expired' | 'reregistered' | 'closed';

export interface RegistryHooks {
  /** The health DescribeTargetHealth reports now (before a drain starts, for the state change). */
  reportedHealth(target: Target): TargetHealth;
  /** A target joined; its checks may start. */
  registered(target: Target): void;
  /** A target started draining: it gets no new requests from now on. */
  drainStarted(target: Target, from: TargetHealth): void;
  /** A drain is ending: cut what must be cut; says how many requests were cut and how many connections stay. */
  drainEnding(target: Target, why: DrainEnd): { readonly cutRequests: number; readonly remaining?: number };
  /** The target is gone from the group. */
  removed(target: Target): void;
}

export interface RegistryOptions {
  readonly clock: Clock;
  readonly log: Logger;
  readonly thresholds: HealthThresholds;
  /** The target's port, or the group's default (throws when there is none). */
  readonly portOf: (spec: TargetSpec) => number;
  /** `deregistration_delay.timeout_seconds`, read when a drain starts. */
  readonly delayMs: () => number;
  readonly hooks: RegistryHooks;
}

export class Registry {
  readonly #o: RegistryOptions;
  readonly #targets = new Map<string, Target>();

  constructor(options: RegistryOptions) {
    this.#o = options;
  }

  /** Registered and draining targets. */
  values(): IterableIterator<Target> {
    return this.#targets.values();
  }

  get size(): number {
    return this.#targets.size;
  }

  get(key: string): Target | undefined {
    return this.#targets.get(key);
  }

  /** RegisterTargets: new targets start `initial`; a draining target is registered again (it starts over). */
  register(specs: readonly TargetSpec[]): void {
    const { clock, log, hooks, thresholds } = this.#o;
    for (const spec of specs) {
      const port = this.#o.portOf(spec);
      const key = targetKey(spec.id, port);
      const existing = this.#targets.get(key);
      if (existing?.registration === 'registered') continue;
      if (existing !== undefined) this.#endDrain(existing, 'reregistered');
      const target = new Target(spec.id, port, thresholds);
      target.registeredAtMs = clock.now();
      target.notHealthySinceMs = target.registeredAtMs;
      this.#targets.set(key, target);
      log.info({ event: 'target.registered', target: key }, `target ${key} registered`);
      hooks.registered(target);
    }
  }

  /** DeregisterTargets: resolves per target when its delay has ended (at once for one not registered). */
  deregister(specs: readonly TargetSpec[]): Promise<DrainOutcome[]> {
    const waits: Promise<DrainOutcome>[] = [];
    for (const spec of specs) {
      const port = this.#o.portOf(spec);
      const target = this.#targets.get(targetKey(spec.id, port));
      if (target === undefined) waits.push(Promise.resolve({ target: { id: spec.id, port }, result: 'not-registered', cutRequests: 0 }));
      else waits.push(target.drain?.done ?? this.#startDrain(target));
    }
    return Promise.all(waits);
  }

  /** Ends every drain as `closed`. */
  close(): void {
    for (const target of [...this.#targets.values()]) if (target.drain !== undefined) this.#endDrain(target, 'closed');
  }

  #startDrain(target: Target): Promise<DrainOutcome> {
    const { clock, log, hooks } = this.#o;
    const from = hooks.reportedHealth(target);
    const delayMs = this.#o.delayMs();
    let resolve!: (outcome: DrainOutcome) => void;
    const done = new Promise<DrainOutcome>((r) => (resolve = r));
    const startedAtMs = clock.now();
    const cancel = clock.setTimer(delayMs, () => this.#endDrain(target, 'expired'));
    const record: DrainRecord = { startedAtMs, endsAtMs: startedAtMs + delayMs, cancel, done, resolve };
    target.drain = record;
    log.info(
      { event: 'target.draining', target: target.key, inFlight: target.outstanding, delaySeconds: delayMs / 1000 },
      `target ${target.key} draining (${target.outstanding} in flight, delay ${delayMs / 1000}s)`,
    );
    hooks.drainStarted(target, from);
    return done;
  }

  #endDrain(target: Target, why: DrainEnd): void {
    const record = target.drain;
    if (record === undefined || this.#targets.get(target.key) !== target) return;
    record.cancel();
    const { cutRequests, remaining } = this.#o.hooks.drainEnding(target, why);
    // The record stays: a removed target is draining for good (its leases may outlive it on an NLB).
    if (this.#targets.get(target.key) === target) this.#targets.delete(target.key);
    const result = why === 'expired' ? (cutRequests > 0 ? 'cut' : 'drained') : why;
    this.#o.log.info(
      { event: 'target.deregistered', target: target.key, result, cutRequests },
      `target ${target.key} deregistered (${result}${cutRequests > 0 ? `, ${cutRequests} requests cut` : ''})`,
    );
    this.#o.hooks.removed(target);
    record.resolve({ target: { id: target.id, port: target.port }, result, cutRequests, ...(remaining !== undefined ? { remaining } : {}) });
  }
}
