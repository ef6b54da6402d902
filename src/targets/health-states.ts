/**
 * A target group's health states (spec 1.2, 1.3, 2.4, 2.5, 4.3): runs the health checks of its
 * registered targets, moves each through AWS's states with their reason codes, reports the
 * state DescribeTargetHealth shows (`draining`, `unused`, `unhealthy.draining` on top of what
 * the checks say), and, for an NLB, ends the connections of a target that turned unhealthy
 * now or after the unhealthy draining interval. It never picks targets.
 */
import type { Clock } from '../core/clock.ts';
import type { TimerSet } from '../core/timers.ts';
import { healthFromReason, type ProbeResult, type TargetHealth } from './health.ts';
import { HealthChecker, type Probe } from './health-checker.ts';
import type { Target } from './target.ts';

export interface HealthStatesHooks {
  /** The registered target behind a check result (checks of gone or draining targets are ignored). */
  target(key: string): Target | undefined;
  /** A target's reported health changed (or a check ran and it stayed: `from` equals `to`). */
  changed(target: Target, from: TargetHealth, to: TargetHealth): void;
  becameHealthy(target: Target): void;
  stoppedBeingHealthy(target: Target): void;
  /** NLB: the target's connections end now (`unhealthy` after `healthy`, or after the unhealthy draining interval). */
  terminate(target: Target): void;
}

export interface HealthStatesOptions {
  readonly clock: Clock;
  readonly timers: TimerSet;
  readonly probe: Probe;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly kind: 'application' | 'network';
  /** Time in `initial`/`Elb.RegistrationInProgress` before the first check (emulator setting). */
  readonly registrationDelayMs: number;
  readonly healthCheckPort: 'traffic-port' | number;
  /** NLB: whether an unhealthy target's connections end at once, and else after how long (read when it happens). */
  readonly unhealthy: () => { readonly terminate: boolean; readonly drainingIntervalMs: number };
  readonly hooks: HealthStatesHooks;
}

/**
 * NLB reports every failed check as `Target.FailedHealthChecks` (spec 1.2: "NLB:
 * Target.FailedHealthChecks only"): the wrong-code, timeout and internal-error reasons are ALB's.
 */
function networkProbeResult(result: ProbeResult): ProbeResult {
  if (result.ok || result.failure === 'failed') return result;
  return { ok: false, failure: 'failed', detail: result.failure === 'code' ? `HTTP ${result.statusCode}` : result.failure };
}

export class HealthStates {
  readonly #o: HealthStatesOptions;
  readonly #checker: HealthChecker;
  /** NLB targets in `unhealthy.draining` (spec 4.3), with the timer that ends it. */
  readonly #unhealthyDraining = new Map<string, () => void>();
  #inUse = false;

  constructor(options: HealthStatesOptions) {
    this.#o = options;
    this.#checker = new HealthChecker({
      clock: options.clock,
      probe: options.probe,
      intervalMs: options.intervalMs,
      timeoutMs: options.timeoutMs,
      onResult: (key, result) => this.#onResult(key, result),
    });
  }

  get inUse(): boolean {
    return this.#inUse;
  }

  /** Checks run only while a listener uses the group (spec 1.3: otherwise `unused`/`Target.NotInUse`). */
  setInUse(inUse: boolean, registered: Iterable<Target>): boolean {
    if (inUse === this.#inUse) return false;
    this.#inUse = inUse;
    for (const target of registered) {
      if (target.registration !== 'registered') continue;
      if (inUse) this.start(target);
      else this.#checker.unwatch(target.key);
    }
    return true;
  }

  /** Starts a registered target's checks (after the registration delay), if the group is in use. */
  start(target: Target): void {
    if (!this.#inUse) return;
    const begin = () => {
      if (this.#o.hooks.target(target.key) !== target || target.registration !== 'registered' || !this.#inUse) return;
      const from = target.health;
      this.#o.hooks.changed(target, from, target.tracker.startChecking());
      const port = this.#o.healthCheckPort === 'traffic-port' ? target.port : this.#o.healthCheckPort;
      this.#checker.watch(target.key, { id: target.id, port });
    };
    if (this.#o.registrationDelayMs > 0) this.#o.timers.set(this.#o.registrationDelayMs, begin);
    else begin();
  }

  /** A draining or removed target: no more checks, no unhealthy draining. */
  stop(target: Target): void {
    this.#checker.unwatch(target.key);
    this.#endUnhealthyDraining(target);
  }

  /** What DescribeTargetHealth reports for a target (spec 1.2). */
  reported(target: Target): TargetHealth {
    if (target.registration === 'draining') return healthFromReason('draining', 'Target.DeregistrationInProgress');
    if (!this.#inUse) return healthFromReason('unused', 'Target.NotInUse');
    if (this.#unhealthyDraining.has(target.key)) return { ...target.health, state: 'unhealthy.draining' };
    return target.health;
  }

  close(): void {
    this.#checker.close();
    for (const cancel of this.#unhealthyDraining.values()) cancel();
    this.#unhealthyDraining.clear();
  }

  #onResult(key: string, result: ProbeResult): void {
    const hooks = this.#o.hooks;
    const target = hooks.target(key);
    if (target === undefined || target.registration !== 'registered') return;
    const from = this.reported(target);
    const to = target.tracker.record(this.#o.kind === 'network' ? networkProbeResult(result) : result);
    if (to === undefined) return;
    if (to.state === 'healthy' && target.healthySinceMs === undefined) hooks.becameHealthy(target);
    else if (to.state !== 'healthy' && target.healthySinceMs !== undefined) hooks.stoppedBeingHealthy(target);
    // Only a healthy target has connections to reset or drain (spec 1.3: healthy ->
    // unhealthy.draining); one failing its initial checks goes straight to unhealthy.
    if (to.state === 'unhealthy' && from.state === 'healthy') this.#becameUnhealthy(target);
    else if (to.state === 'healthy') this.#endUnhealthyDraining(target);
    hooks.changed(target, from, this.reported(target));
  }

  /**
   * NLB only (spec 2.4, 4.3): with `target_health_state.unhealthy.connection_termination.enabled`
   * the target's connections end at once; without it the target is `unhealthy.draining` for
   * `…unhealthy.draining_interval_seconds`, keeping its connections, then they end.
   */
  #becameUnhealthy(target: Target): void {
    if (this.#o.kind !== 'network') return;
    const { terminate, drainingIntervalMs } = this.#o.unhealthy();
    if (terminate) return this.#o.hooks.terminate(target);
    const cancel = this.#o.timers.set(drainingIntervalMs, () => {
      this.#unhealthyDraining.delete(target.key);
      const from = { ...target.health, state: 'unhealthy.draining' as const };
      this.#o.hooks.terminate(target);
      this.#o.hooks.changed(target, from, this.reported(target));
    });
    this.#unhealthyDraining.set(target.key, cancel);
  }

  #endUnhealthyDraining(target: Target): void {
    const cancel = this.#unhealthyDraining.get(target.key);
    if (cancel === undefined) return;
    cancel();
    this.#unhealthyDraining.delete(target.key);
  }
}
