/**
 * Applies desired targets to a target group the way the AWS Load Balancer Controller does
 * (spec 9.6): a pure diff against what is registered (draining targets set apart), applied
 * after the propagation lags — `registrationDelayMs` before RegisterTargets, and
 * `deregistrationLagMs` before DeregisterTargets, during which the load balancer keeps routing
 * to the endpoint that is gone. Each pending change is dropped if the wish changes back in
 * time. It manages only the targets it registered. Used by local pods and by `local-elb kind`.
 */
import type { Clock } from '../core/clock.ts';
import { TimerSet } from '../core/timers.ts';
import type { TargetGroup } from '../targets/target-group.ts';
import type { DesiredTarget } from './endpoints.ts';
import { diffTargets } from './reconcile.ts';

export interface TargetRegistrarOptions {
  readonly group: TargetGroup;
  readonly clock: Clock;
  readonly registrationDelayMs?: number;
  readonly deregistrationLagMs?: number;
  /** Told of each RegisterTargets and DeregisterTargets it makes. */
  readonly applied?: (action: 'register' | 'deregister', target: DesiredTarget) => void;
}

const keyOf = (t: { id: string; port: number }) => `${t.id}:${t.port}`;

export class TargetRegistrar {
  readonly #o: TargetRegistrarOptions;
  readonly #timers: TimerSet;
  /** Targets this registrar registered (whatever happened to them since), as they were wanted. */
  readonly #managed = new Map<string, DesiredTarget>();
  readonly #pendingRegister = new Map<string, () => void>();
  readonly #pendingDeregister = new Map<string, () => void>();
  #desired = new Map<string, DesiredTarget>();
  #closed = false;

  constructor(options: TargetRegistrarOptions) {
    this.#o = options;
    this.#timers = new TimerSet(options.clock);
  }

  /** The targets wanted now; changes are applied after their lag. */
  update(desired: readonly DesiredTarget[]): void {
    if (this.#closed) return;
    this.#desired = new Map(desired.map((t) => [keyOf(t), t]));
    for (const [key, cancel] of [...this.#pendingRegister]) {
      if (this.#desired.has(key)) continue;
      cancel();
      this.#pendingRegister.delete(key);
    }
    for (const [key, cancel] of [...this.#pendingDeregister]) {
      if (!this.#desired.has(key)) continue;
      cancel();
      this.#pendingDeregister.delete(key);
    }
    const current = this.#o.group.describeTargetHealth().filter((d) => this.#managed.has(keyOf(d.target)));
    const diff = diffTargets(current, desired);
    for (const target of diff.toRegister) {
      const key = keyOf(target);
      if (this.#pendingRegister.has(key)) continue;
      this.#after(this.#o.registrationDelayMs ?? 0, this.#pendingRegister, key, () => {
        const wanted = this.#desired.get(key);
        if (wanted === undefined) return;
        this.#managed.set(key, wanted);
        this.#o.group.register([{ id: wanted.id, port: wanted.port }]);
        this.#o.applied?.('register', wanted);
      });
    }
    for (const target of diff.toDeregister) {
      const key = keyOf(target);
      if (this.#pendingDeregister.has(key)) continue;
      this.#after(this.#o.deregistrationLagMs ?? 0, this.#pendingDeregister, key, () => {
        if (this.#desired.has(key)) return;
        void this.#o.group.deregister([{ id: target.id, port: target.port }]);
        this.#o.applied?.('deregister', this.#managed.get(key) ?? target);
      });
    }
  }

  /** True when this registrar registered `key` (`ip:port`) or is about to (a TargetGroupBinding's full ownership leaves those to it). */
  manages(key: string): boolean {
    return this.#managed.has(key) || this.#pendingRegister.has(key);
  }

  /** True while `key` (`ip:port`) is among the targets wanted. */
  wants(key: string): boolean {
    return this.#desired.has(key);
  }

  /** Applies nothing more. */
  close(): void {
    this.#closed = true;
    this.#timers.cancelAll();
    this.#pendingRegister.clear();
    this.#pendingDeregister.clear();
  }

  /** Runs `fn` after `ms` (at once for 0, keeping order), as a pending change under `key`. */
  #after(ms: number, pending: Map<string, () => void>, key: string, fn: () => void): void {
    if (ms <= 0) return fn();
    const cancel = this.#timers.set(ms, () => {
      pending.delete(key);
      fn();
    });
    pending.set(key, cancel);
  }
}
