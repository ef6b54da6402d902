/**
 * A target group (spec 1, 2.6, 2.7, 4.1): registration, health from checks, routing through a
 * picker with fail-open, and deregistration with the delay. The same class runs under the
 * real clock in the proxy and under a virtual clock in tests and simulations.
 */
import type { Clock } from '../core/clock.ts';
import { realClock } from '../core/clock.ts';
import { ElbError, ErrorCodes } from '../core/errors.ts';
import { silentLogger, type Logger } from '../core/logger.ts';
import {
  applicationTargetGroupAttributes,
  attributeNumberOrOff,
  checkApplicationTargetGroupAttributes,
  checkNetworkTargetGroupAttributes,
  networkTargetGroupAttributes,
  resolveAttributes,
} from '../config/attributes.ts';
import { parseMatcher } from '../config/matcher.ts';
import { slowStartInitialWeightDefault, type TargetGroupConfig } from '../config/schema.ts';
import { createPicker, FlowHashPicker, type Outcome, type PickContext, type Picker } from './algorithms/index.ts';
import { healthFromReason, type HealthThresholds, type ProbeResult, type TargetHealth } from './health.ts';
import { HealthChecker, type Probe } from './health-checker.ts';
import { httpProbe, tcpProbe } from './probes.ts';
import { Target, TargetLease, targetKey, type Lease, type TargetSpec } from './target.ts';

/** One row of DescribeTargetHealth, in the ELBv2 shape (camelCase). */
export interface TargetHealthDescription {
  readonly target: { readonly id: string; readonly port: number };
  readonly healthCheckPort: string;
  readonly targetHealth: TargetHealth;
  /** With `include: ['AnomalyDetection']` (spec 3.1, 1.2). */
  readonly anomalyDetection?: { readonly result: 'normal' | 'anomalous'; readonly mitigationInEffect: 'yes' | 'no' };
}

function pickAnomaly(a: { result: 'normal' | 'anomalous'; mitigationInEffect: 'yes' | 'no' }) {
  return { result: a.result, mitigationInEffect: a.mitigationInEffect };
}

/** How a deregistration ended. */
export interface DrainOutcome {
  readonly target: { readonly id: string; readonly port: number };
  /**
   * `drained`: the delay ended and nothing was cut (an NLB without connection termination may
   * leave connections open: see `remaining`); `cut`: requests still in flight were cut
   * (ALB answers them 502); `reregistered`: registered again while draining; `not-registered`:
   * there was nothing to deregister (AWS succeeds silently); `closed`: the group was closed.
   */
  readonly result: 'drained' | 'cut' | 'reregistered' | 'not-registered' | 'closed';
  readonly cutRequests: number;
  /** NLB without connection termination: connections still open when the target was removed. */
  readonly remaining?: number;
}

export type TargetGroupEvent =
  | { readonly type: 'target.state_changed'; readonly target: Target; readonly from: TargetHealth; readonly to: TargetHealth }
  | { readonly type: 'target.removed'; readonly target: Target };

/**
 * What an NLB tells its target groups about their health checks (spec 2.4): the Host header
 * of HTTP checks (the load balancer's address and listener port) and the Proxy Protocol v2
 * LOCAL header that health-check connections carry when `proxy_protocol_v2.enabled`.
 */
export interface HealthCheckEnvironment {
  readonly hostHeader?: () => string;
  readonly proxyProtocolHeader?: Buffer;
}

export interface TargetGroupOptions {
  readonly config: TargetGroupConfig;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Replaces the network probe (tests script results with it). */
  readonly probe?: Probe;
  /**
   * Replaces the picker that `load_balancing.algorithm.type` names (the routing-algorithm lab
   * runs seeded and lab-only pickers with it). Changing the algorithm attribute replaces it.
   */
  readonly picker?: Picker<Target>;
}

interface Draining {
  readonly cancel: () => void;
  readonly done: Promise<DrainOutcome>;
  readonly resolve: (outcome: DrainOutcome) => void;
}

/**
 * NLB reports every failed check as `Target.FailedHealthChecks` (spec 1.2, 2.4): the wrong-code
 * and timeout reasons are ALB's. Load-balancer-side errors keep `Elb.InternalError`.
 */
function networkProbeResult(result: ProbeResult): ProbeResult {
  if (result.ok || (result.failure !== 'code' && result.failure !== 'timeout')) return result;
  return { ok: false, failure: 'failed', detail: result.failure === 'code' ? `HTTP ${result.statusCode}` : 'timeout' };
}

export class TargetGroup {
  readonly name: string;
  readonly config: TargetGroupConfig;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #checker: HealthChecker;
  readonly #thresholds: HealthThresholds;
  readonly #targets = new Map<string, Target>();
  readonly #draining = new Map<string, Draining>();
  readonly #listeners = new Set<(event: TargetGroupEvent) => void>();
  #attributes: Record<string, string>;
  #picker: Picker<Target>;
  #candidates: Target[] | undefined;
  #failingOpen = false;
  #inUse = false;
  #loadBalancerNames: string[] = [];
  #closed = false;
  #environment: HealthCheckEnvironment = {};
  readonly #timers = new Set<() => void>();
  /** NLB targets in `unhealthy.draining` (spec 4.3), with the timer that ends it. */
  readonly #unhealthyDraining = new Map<string, () => void>();
  /** ALB targets in slow start (spec 3.2): their weights rise on each acquire until it ends. */
  readonly #slowStarting = new Set<Target>();
  readonly #reportOutcome = (target: Target, outcome: Outcome) => this.#picker.onResult?.(target, outcome);

  constructor(options: TargetGroupOptions) {
    const { config } = options;
    this.name = config.name;
    this.config = config;
    this.#clock = options.clock ?? realClock;
    this.#log = (options.logger ?? silentLogger()).child({ targetGroup: config.name });
    this.#attributes = { ...config.attributes };
    this.#picker = options.picker ?? (config.kind === 'network' ? new FlowHashPicker() : this.#createPicker(this.#attributes));
    this.#thresholds = {
      healthyThresholdCount: config.healthyThresholdCount,
      unhealthyThresholdCount: config.unhealthyThresholdCount,
      initialHealthyThresholdCount: config.emulator.initialHealthyThresholdCount,
    };
    const matcher = parseMatcher(config.matcher.httpCode, 200, config.kind === 'application' ? 499 : 599);
    if (!matcher.ok) throw new ElbError(ErrorCodes.INVALID_ARGUMENT, `matcher.httpCode ${matcher.message}`);
    const preamble = () => (this.#attributes['proxy_protocol_v2.enabled'] === 'true' ? this.#environment.proxyProtocolHeader : undefined);
    const hostHeader = config.kind === 'network' ? () => this.#environment.hostHeader?.() ?? '127.0.0.1' : undefined;
    const probe =
      options.probe ??
      (config.healthCheckProtocol === 'TCP'
        ? tcpProbe({ preamble })
        : httpProbe({ path: config.healthCheckPath, matcher: matcher.matches, preamble, ...(hostHeader ? { hostHeader } : {}) }));
    this.#checker = new HealthChecker({
      clock: this.#clock,
      probe,
      intervalMs: config.healthCheckIntervalSeconds * 1000,
      timeoutMs: config.healthCheckTimeoutSeconds * 1000,
      onResult: (key, result) => {
        const target = this.#targets.get(key);
        if (target === undefined || target.registration !== 'registered') return;
        const from = this.#reportedHealth(target);
        const to = target.tracker.record(config.kind === 'network' ? networkProbeResult(result) : result);
        if (to === undefined) return;
        if (to.state === 'healthy' && target.healthySinceMs === undefined) this.#becameHealthy(target);
        else if (to.state !== 'healthy' && target.healthySinceMs !== undefined) this.#stoppedBeingHealthy(target);
        // Only a healthy target has connections to reset or drain (spec 1.3: healthy ->
        // unhealthy.draining); one failing its initial checks goes straight to unhealthy.
        if (to.state === 'unhealthy' && from.state === 'healthy') this.#becameUnhealthy(target);
        else if (to.state === 'healthy') this.#endUnhealthyDraining(target);
        this.#changed(target, from, this.#reportedHealth(target));
      },
    });
    this.register(config.targets);
  }

  get kind(): TargetGroupConfig['kind'] {
    return this.config.kind;
  }

  /** Set by the NLB that uses this group (see HealthCheckEnvironment). */
  setHealthCheckEnvironment(environment: HealthCheckEnvironment): void {
    this.#environment = environment;
  }

  /** Subscribes to state changes and removals; returns the unsubscribe function. */
  on(listener: (event: TargetGroupEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Marks the group as used (or not) by a listener rule. Health checks run only for groups in
   * use; targets of an unused group show `unused`/`Target.NotInUse` (spec 1.3).
   */
  setLoadBalancers(names: readonly string[]): void {
    this.#loadBalancerNames = [...names];
    const inUse = names.length > 0;
    if (inUse === this.#inUse) return;
    this.#inUse = inUse;
    for (const target of this.#targets.values()) {
      if (target.registration !== 'registered') continue;
      if (inUse) this.#startChecks(target);
      else this.#checker.unwatch(target.key);
    }
    this.#invalidate();
  }

  /** RegisterTargets: new targets start `initial`; a draining target is registered again. */
  register(specs: readonly TargetSpec[]): void {
    this.#assertOpen();
    for (const spec of specs) {
      const port = this.#portOf(spec);
      const key = targetKey(spec.id, port);
      const existing = this.#targets.get(key);
      if (existing?.registration === 'registered') continue;
      if (existing !== undefined) this.#finishDrain(existing, 'reregistered');
      const target = new Target(spec.id, port, this.#thresholds);
      target.notHealthySinceMs = this.#clock.now();
      this.#targets.set(key, target);
      this.#log.info({ event: 'target.registered', target: key }, `target ${key} registered`);
      if (this.#inUse) this.#startChecks(target);
    }
    this.#invalidate();
  }

  /**
   * DeregisterTargets: the targets take no new requests from now on and show `draining`; after
   * `deregistration_delay.timeout_seconds` the requests still in flight are cut and the
   * targets are gone. Resolves when each target's delay has ended.
   */
  deregister(specs: readonly TargetSpec[]): Promise<DrainOutcome[]> {
    this.#assertOpen();
    const waits: Promise<DrainOutcome>[] = [];
    for (const spec of specs) {
      const port = this.#portOf(spec);
      const key = targetKey(spec.id, port);
      const target = this.#targets.get(key);
      if (target === undefined) {
        waits.push(Promise.resolve({ target: { id: spec.id, port }, result: 'not-registered', cutRequests: 0 }));
        continue;
      }
      const pending = this.#draining.get(key);
      if (pending !== undefined) {
        waits.push(pending.done);
        continue;
      }
      waits.push(this.#startDrain(target));
    }
    this.#invalidate();
    return Promise.all(waits);
  }

  /**
   * Chooses a target for one request (or connection) and counts it in flight until the lease
   * is released. Throws `ELB_ERR_NO_REGISTERED_TARGETS` or `ELB_ERR_NO_ROUTABLE_TARGETS`.
   */
  acquire(ctx?: PickContext): Lease {
    if (this.#slowStarting.size > 0) this.#advanceSlowStart();
    const candidates = this.#candidates ?? this.#computeCandidates();
    const target = this.#picker.pick(candidates, ctx);
    if (target === undefined) {
      // Draining targets still count (spec 2.7: a group of only initial or draining targets).
      if (this.#targets.size === 0) throw new ElbError(ErrorCodes.NO_REGISTERED_TARGETS, `target group ${this.name} has no registered targets`);
      throw new ElbError(ErrorCodes.NO_ROUTABLE_TARGETS, `target group ${this.name} has no targets that can take traffic (all initial or draining)`);
    }
    return new TargetLease(target, this.#reportOutcome);
  }

  /** True while requests are being spread over unhealthy targets (fail-open, spec 2.6). */
  get failingOpen(): boolean {
    if (this.#candidates === undefined) this.#computeCandidates();
    return this.#failingOpen;
  }

  /** DescribeTargetHealth: every registered and draining target, or the ones asked about. */
  describeTargetHealth(specs?: readonly TargetSpec[], options: { include?: readonly ('AnomalyDetection' | 'All')[] } = {}): TargetHealthDescription[] {
    const anomalies = options.include?.some((i) => i === 'AnomalyDetection' || i === 'All') ? this.#anomalyDetector() : undefined;
    const describe = (id: string, port: number, health: TargetHealth, target?: Target): TargetHealthDescription => ({
      target: { id, port },
      healthCheckPort: String(this.config.healthCheckPort === 'traffic-port' ? port : this.config.healthCheckPort),
      targetHealth: health,
      ...(anomalies && target ? { anomalyDetection: pickAnomaly(anomalies(target)) } : {}),
    });
    if (specs !== undefined && specs.length > 0) {
      return specs.map((spec) => {
        const port = this.#portOf(spec);
        const target = this.#targets.get(targetKey(spec.id, port));
        return describe(spec.id, port, target ? this.#reportedHealth(target) : healthFromReason('unused', 'Target.NotRegistered'), target);
      });
    }
    return [...this.#targets.values()].map((t) => describe(t.id, t.port, this.#reportedHealth(t), t));
  }

  /**
   * Automatic target weights' verdicts (spec 3.1): `AnomalousHostCount` and `MitigatedHostCount`.
   * Detection runs in the `weighted_random` picker; other algorithms report none.
   */
  anomalyCounts(): { anomalousHostCount: number; mitigatedHostCount: number } {
    const p = this.#picker as Partial<{ weights: { counts(): { anomalousHostCount: number; mitigatedHostCount: number } } }>;
    return p.weights?.counts() ?? { anomalousHostCount: 0, mitigatedHostCount: 0 };
  }

  #anomalyDetector(): (target: Target) => { result: 'normal' | 'anomalous'; mitigationInEffect: 'yes' | 'no' } {
    const p = this.#picker as Partial<{ anomalyDetection(t: Target): { result: 'normal' | 'anomalous'; mitigationInEffect: 'yes' | 'no' } }>;
    return p.anomalyDetection ? (t) => p.anomalyDetection!(t) : () => ({ result: 'normal', mitigationInEffect: 'no' });
  }

  /** The group's targets (registered and draining), for metrics and tools. */
  targets(): readonly Target[] {
    return [...this.#targets.values()];
  }

  get healthyHostCount(): number {
    let n = 0;
    for (const t of this.#targets.values()) if (t.registration === 'registered' && t.health.state === 'healthy') n++;
    return n;
  }

  get unhealthyHostCount(): number {
    let n = 0;
    for (const t of this.#targets.values()) if (t.registration === 'registered' && t.health.state === 'unhealthy') n++;
    return n;
  }

  /** The attributes catalogue for this kind of target group. */
  #catalogue() {
    return this.config.kind === 'application' ? applicationTargetGroupAttributes : networkTargetGroupAttributes(this.config.protocol, this.config.targetType);
  }

  /** One attribute's current value, without copying the map (read per connection by the NLB). */
  attribute(key: string): string | undefined {
    return this.#attributes[key];
  }

  /** DescribeTargetGroupAttributes: every attribute with its current value. */
  attributes(): Readonly<Record<string, string>> {
    return { ...this.#attributes };
  }

  /** ModifyTargetGroupAttributes: validates every key and value, then applies them all. */
  modifyAttributes(changes: Readonly<Record<string, string>>): Readonly<Record<string, string>> {
    const resolved = resolveAttributes(this.#catalogue(), changes, 'attributes', this.#attributes);
    const issues = resolved.ok
      ? this.config.kind === 'network'
        ? checkNetworkTargetGroupAttributes(this.config.protocol, resolved.attributes, 'attributes')
        : checkApplicationTargetGroupAttributes(resolved.attributes, 'attributes')
      : resolved.issues;
    if (!resolved.ok || issues.length > 0) {
      throw new ElbError(ErrorCodes.INVALID_ARGUMENT, issues.map((i) => `${i.path}: ${i.message}`).join('; '));
    }
    const pickerKeys = ['load_balancing.algorithm.type', 'load_balancing.algorithm.anomaly_mitigation'];
    if (this.config.kind === 'application' && pickerKeys.some((k) => resolved.attributes[k] !== this.#attributes[k])) {
      this.#picker = this.#createPicker(resolved.attributes);
    }
    this.#attributes = resolved.attributes;
    if (this.#attributes['slow_start.duration_seconds'] === '0') for (const t of [...this.#slowStarting]) this.#endSlowStart(t);
    this.#invalidate();
    return this.attributes();
  }

  /** DescribeTargetGroups, in the ELBv2 shape. */
  describe() {
    const c = this.config;
    return {
      targetGroupName: c.name,
      protocol: c.protocol,
      ...(c.port !== undefined ? { port: c.port } : {}),
      targetType: c.targetType,
      healthCheckProtocol: c.healthCheckProtocol,
      healthCheckPort: String(c.healthCheckPort),
      ...(c.healthCheckProtocol === 'HTTP' ? { healthCheckPath: c.healthCheckPath, matcher: { httpCode: c.matcher.httpCode } } : {}),
      healthCheckEnabled: c.healthCheckEnabled,
      healthCheckIntervalSeconds: c.healthCheckIntervalSeconds,
      healthCheckTimeoutSeconds: c.healthCheckTimeoutSeconds,
      healthyThresholdCount: c.healthyThresholdCount,
      unhealthyThresholdCount: c.unhealthyThresholdCount,
      loadBalancerNames: [...this.#loadBalancerNames],
      ...(c.kind === 'application' ? { loadBalancingAlgorithmType: this.#attributes['load_balancing.algorithm.type'] } : {}),
    };
  }

  /** Stops checks and timers; pending deregistrations resolve as `closed`. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#checker.close();
    for (const cancel of this.#timers) cancel();
    this.#timers.clear();
    for (const cancel of this.#unhealthyDraining.values()) cancel();
    this.#unhealthyDraining.clear();
    for (const target of [...this.#targets.values()]) if (target.registration === 'draining') this.#finishDrain(target, 'closed');
  }

  #createPicker(attributes: Readonly<Record<string, string>>): Picker<Target> {
    return createPicker<Target>(attributes['load_balancing.algorithm.type'] ?? 'round_robin', {
      clock: this.#clock,
      anomalyMitigation: attributes['load_balancing.algorithm.anomaly_mitigation'] === 'on',
      ...(this.config.emulator.automaticTargetWeights ? { automaticTargetWeights: this.config.emulator.automaticTargetWeights } : {}),
    });
  }

  /**
   * Slow start (spec 3.2): a target that becomes healthy enters it when another healthy target
   * is not in slow start and was healthy before this one was registered (or last stopped being
   * healthy), so targets registered together into an empty group do not enter it.
   */
  #becameHealthy(target: Target): void {
    const now = this.#clock.now();
    target.healthySinceMs = now;
    if (this.config.kind !== 'application' || Number(this.#attributes['slow_start.duration_seconds'] ?? 0) === 0) return;
    for (const other of this.#targets.values()) {
      if (other === target || other.registration !== 'registered' || other.health.state !== 'healthy') continue;
      if (other.slowStartSinceMs === undefined && other.healthySinceMs !== undefined && other.healthySinceMs < target.notHealthySinceMs) {
        target.slowStartSinceMs = now;
        target.weight = this.config.emulator.slowStartInitialWeight ?? slowStartInitialWeightDefault;
        this.#slowStarting.add(target);
        return;
      }
    }
  }

  /** A target that stops being healthy leaves slow start, and re-enters it when healthy again. */
  #stoppedBeingHealthy(target: Target): void {
    target.healthySinceMs = undefined;
    target.notHealthySinceMs = this.#clock.now();
    this.#endSlowStart(target);
  }

  #endSlowStart(target: Target): void {
    if (target.slowStartSinceMs === undefined) return;
    target.slowStartSinceMs = undefined;
    target.weight = 1;
    this.#slowStarting.delete(target);
    this.#invalidate();
  }

  /** Weight `ε + (1 − ε) · elapsed / duration`, on the group's clock; 1 and out of slow start at the end. */
  #advanceSlowStart(): void {
    const durationMs = Number(this.#attributes['slow_start.duration_seconds'] ?? 0) * 1000;
    const epsilon = this.config.emulator.slowStartInitialWeight ?? slowStartInitialWeightDefault;
    const now = this.#clock.now();
    for (const target of this.#slowStarting) {
      const elapsed = now - target.slowStartSinceMs!;
      if (elapsed >= durationMs) this.#endSlowStart(target);
      else target.weight = epsilon + (1 - epsilon) * (elapsed / durationMs);
    }
  }

  #reportedHealth(target: Target): TargetHealth {
    if (target.registration === 'draining') return healthFromReason('draining', 'Target.DeregistrationInProgress');
    if (!this.#inUse) return healthFromReason('unused', 'Target.NotInUse');
    if (this.#unhealthyDraining.has(target.key)) return { ...target.health, state: 'unhealthy.draining' };
    return target.health;
  }

  /** A timer on the group's clock that `close()` cancels. */
  #setTimer(ms: number, fn: () => void): () => void {
    const cancel = this.#clock.setTimer(ms, () => {
      this.#timers.delete(cancel);
      fn();
    });
    this.#timers.add(cancel);
    return () => {
      this.#timers.delete(cancel);
      cancel();
    };
  }

  /**
   * NLB only (spec 2.4, 4.3): with `target_health_state.unhealthy.connection_termination.enabled`
   * the target's connections are reset at once (unless the group is failing open, which keeps
   * routing to it); without it the target is `unhealthy.draining` for
   * `…unhealthy.draining_interval_seconds`, keeping its connections, then they are reset.
   */
  #becameUnhealthy(target: Target): void {
    if (this.config.kind !== 'network') return;
    const terminate = () => {
      this.#invalidate();
      if (this.failingOpen) return;
      this.#cutLeases(target, new ElbError(ErrorCodes.TARGET_UNHEALTHY, `target ${target.key} failed its health checks`));
    };
    if (this.#attributes['target_health_state.unhealthy.connection_termination.enabled'] === 'true') return terminate();
    const intervalMs = Number(this.#attributes['target_health_state.unhealthy.draining_interval_seconds']) * 1000;
    const cancel = this.#setTimer(intervalMs, () => {
      this.#unhealthyDraining.delete(target.key);
      const from = { ...target.health, state: 'unhealthy.draining' as const };
      terminate();
      this.#changed(target, from, this.#reportedHealth(target));
    });
    this.#unhealthyDraining.set(target.key, cancel);
  }

  #endUnhealthyDraining(target: Target): void {
    const cancel = this.#unhealthyDraining.get(target.key);
    if (cancel === undefined) return;
    cancel();
    this.#unhealthyDraining.delete(target.key);
  }

  #cutLeases(target: Target, reason: ElbError): number {
    let cut = 0;
    for (const lease of [...target.leases]) {
      cut++;
      lease.cut(reason);
    }
    return cut;
  }

  #startChecks(target: Target): void {
    const begin = () => {
      if (this.#targets.get(target.key) !== target || target.registration !== 'registered' || !this.#inUse) return;
      const from = target.health;
      this.#changed(target, from, target.tracker.startChecking());
      const port = this.config.healthCheckPort === 'traffic-port' ? target.port : this.config.healthCheckPort;
      this.#checker.watch(target.key, { id: target.id, port });
    };
    const delayMs = this.config.emulator.registrationDelaySeconds * 1000;
    if (delayMs > 0) this.#setTimer(delayMs, begin);
    else begin();
  }

  #startDrain(target: Target): Promise<DrainOutcome> {
    const from = this.#reportedHealth(target);
    target.registration = 'draining';
    this.#endSlowStart(target);
    this.#checker.unwatch(target.key);
    this.#endUnhealthyDraining(target);
    const delayMs = Number(this.#attributes['deregistration_delay.timeout_seconds']) * 1000;
    let resolve!: (outcome: DrainOutcome) => void;
    const done = new Promise<DrainOutcome>((r) => (resolve = r));
    const cancel = this.#clock.setTimer(delayMs, () => this.#finishDrain(target, 'expired'));
    this.#draining.set(target.key, { cancel, done, resolve });
    this.#log.info(
      { event: 'target.draining', target: target.key, inFlight: target.outstanding, delaySeconds: delayMs / 1000 },
      `target ${target.key} draining (${target.outstanding} in flight, delay ${delayMs / 1000}s)`,
    );
    this.#emit({ type: 'target.state_changed', target, from, to: this.#reportedHealth(target) });
    return done;
  }

  #finishDrain(target: Target, why: 'expired' | 'reregistered' | 'closed'): void {
    const draining = this.#draining.get(target.key);
    if (draining === undefined) return;
    this.#draining.delete(target.key);
    draining.cancel();
    let cutRequests = 0;
    // NLB without deregistration_delay.connection_termination: connections outlive the
    // target's removal and end only when a side closes them or they idle out (spec 4.2).
    const keepConnections = why === 'expired' && this.config.kind === 'network' && this.#attributes['deregistration_delay.connection_termination.enabled'] !== 'true';
    if (why !== 'reregistered' && !keepConnections) {
      cutRequests = this.#cutLeases(
        target,
        new ElbError(ErrorCodes.DEREGISTRATION_DELAY_ELAPSED, `the deregistration delay elapsed for a request being handled by target ${target.key}`),
      );
    }
    if (this.#targets.get(target.key) === target) this.#targets.delete(target.key);
    const result = why === 'expired' ? (cutRequests > 0 ? 'cut' : 'drained') : why;
    this.#log.info(
      { event: 'target.deregistered', target: target.key, result, cutRequests },
      `target ${target.key} deregistered (${result}${cutRequests > 0 ? `, ${cutRequests} requests cut` : ''})`,
    );
    this.#emit({ type: 'target.removed', target });
    draining.resolve({ target: { id: target.id, port: target.port }, result, cutRequests, ...(keepConnections ? { remaining: target.leases.size } : {}) });
  }

  #changed(target: Target, from: TargetHealth, to: TargetHealth): void {
    this.#invalidate();
    if (from.state !== to.state || from.reason !== to.reason) {
      this.#log.info(
        { event: 'target.state_changed', target: target.key, from: from.state, to: to.state, reason: to.reason },
        `target ${target.key} ${from.state} -> ${to.state}${to.reason ? ` (${to.reason})` : ''}`,
      );
    }
    this.#emit({ type: 'target.state_changed', target, from, to });
  }

  #emit(event: TargetGroupEvent): void {
    for (const listener of this.#listeners) listener(event);
  }

  #invalidate(): void {
    this.#candidates = undefined;
  }

  /**
   * Healthy registered targets; when fewer are healthy than the routing-failover threshold
   * (`target_group_health.unhealthy_state_routing.minimum_healthy_targets.*`, by default: none
   * healthy) the unhealthy ones join them (fail-open, spec 2.6). `initial` and `draining`
   * targets never take new requests (spec 2.7).
   */
  #computeCandidates(): Target[] {
    const healthy: Target[] = [];
    const unhealthy: Target[] = [];
    let registered = 0;
    if (this.#inUse) {
      for (const t of this.#targets.values()) {
        if (t.registration !== 'registered') continue;
        registered++;
        if (t.health.state === 'healthy') healthy.push(t);
        else if (t.health.state === 'unhealthy') unhealthy.push(t);
      }
    }
    const minCount = Number(this.#attributes['target_group_health.unhealthy_state_routing.minimum_healthy_targets.count'] ?? 1);
    const minPercent = attributeNumberOrOff(this.#attributes['target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage']);
    const below = healthy.length < minCount || (minPercent !== undefined && healthy.length * 100 < minPercent * registered);
    this.#failingOpen = below && unhealthy.length > 0;
    this.#candidates = this.#failingOpen ? [...healthy, ...unhealthy] : healthy;
    return this.#candidates;
  }

  #portOf(spec: TargetSpec): number {
    const port = spec.port ?? this.config.port;
    if (port === undefined || !Number.isInteger(port) || port < 1 || port > 65535) {
      throw new ElbError(ErrorCodes.INVALID_ARGUMENT, `target ${spec.id} needs a port 1–65535 (the target group ${this.name} has no default port): got ${String(spec.port)}`);
    }
    return port;
  }

  #assertOpen(): void {
    if (this.#closed) throw new ElbError(ErrorCodes.INVALID_ARGUMENT, `target group ${this.name} is closed`);
  }
}
