/**
 * A target group (spec 1, 2.6, 2.7, 3.1, 3.2, 4.1–4.3): a small coordinator over parts that
 * each own their state — the Registry (registrations and drains), HealthStates (checks and
 * AWS's states), SlowStart, the CandidateSet (routable targets and fail-open), OutcomeStats
 * (automatic target weights) — and the picker that chooses among the candidates. The same
 * class runs under the real clock in the proxy and under a virtual clock in tests and the lab.
 */
import type { Clock } from '../core/clock.ts';
import { realClock } from '../core/clock.ts';
import { ElbError, ErrorCodes } from '../core/errors.ts';
import { silentLogger, type Logger } from '../core/logger.ts';
import { TimerSet } from '../core/timers.ts';
import { waitUntil } from '../core/wait.ts';
import { createPicker, flowHash, FlowHashPicker, type Outcome, type PickContext, type Picker } from '../algorithms/index.ts';
import {
  applicationTargetGroupAttributes,
  checkApplicationTargetGroupAttributes,
  checkNetworkTargetGroupAttributes,
  networkTargetGroupAttributes,
  resolveAttributes,
} from '../config/attributes.ts';
import { parseGrpcMatcher, parseMatcher } from '../config/matcher.ts';
import type { TargetGroupConfig } from '../config/schema.ts';
import { targetGroupSettings, type TargetGroupSettings } from '../config/settings.ts';
import { CandidateSet } from './candidate-set.ts';
import { describeTargetGroup, targetHealthRow, type TargetHealthDescription } from './describe.ts';
import type { TargetHealth } from './health.ts';
import type { Probe } from './health-checker.ts';
import { HealthStates } from './health-states.ts';
import { OutcomeStats, type AnomalyDetection } from './outcome-stats.ts';
import { grpcProbe, http2Probe, httpProbe, tcpProbe } from './probes.ts';
import { healthCheckTls } from '../tls/provider.ts';
import { Registry, type DrainEnd } from './registry.ts';
import { SlowStart } from './slow-start.ts';
import { SourceIpAffinity } from './source-ip-affinity.ts';
import { TargetLease, targetKey, type DrainOutcome, type Lease, type Target, type TargetSpec } from './target.ts';

export type { TargetHealthDescription } from './describe.ts';
export type { DrainOutcome } from './target.ts';

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

export class TargetGroup {
  readonly name: string;
  readonly config: TargetGroupConfig;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #timers: TimerSet;
  readonly #registry: Registry;
  readonly #health: HealthStates;
  readonly #slowStart: SlowStart;
  readonly #candidates = new CandidateSet();
  /** NLB source_ip stickiness (spec 3.5): client address → target. */
  readonly #affinity = new SourceIpAffinity();
  readonly #listeners = new Set<(event: TargetGroupEvent) => void>();
  #attributes: Record<string, string>;
  #settings: TargetGroupSettings;
  #picker: Picker<Target>;
  /** Automatic target weights (spec 3.1): kept for weighted_random groups, which draw by them. */
  #outcomes: OutcomeStats<Target> | undefined;
  #pickContext: PickContext | undefined;
  #loadBalancerNames: string[] = [];
  #closed = false;
  #environment: HealthCheckEnvironment = {};
  readonly #recordOutcome = (target: Target, outcome: Outcome) => this.#outcomes?.record(target, outcome);

  constructor(options: TargetGroupOptions) {
    const { config } = options;
    this.name = config.name;
    this.config = config;
    this.#clock = options.clock ?? realClock;
    this.#log = (options.logger ?? silentLogger()).child({ targetGroup: config.name });
    this.#timers = new TimerSet(this.#clock);
    this.#attributes = { ...config.attributes };
    this.#settings = targetGroupSettings(config.kind, this.#attributes);
    this.#picker = options.picker ?? (config.kind === 'network' ? new FlowHashPicker() : createPicker<Target>(this.#settings.algorithm));
    this.#outcomes = this.#createOutcomeStats();
    const probe = options.probe ?? this.#networkProbe();
    this.#slowStart = new SlowStart({
      clock: this.#clock,
      durationMs: () => (config.kind === 'application' ? this.#settings.slowStartMs : 0),
      initialWeight: config.emulator.slowStartInitialWeight,
      changed: () => this.#candidates.invalidate(),
    });
    this.#health = new HealthStates({
      clock: this.#clock,
      timers: this.#timers,
      probe,
      intervalMs: config.healthCheckIntervalSeconds * 1000,
      timeoutMs: config.healthCheckTimeoutSeconds * 1000,
      kind: config.kind,
      registrationDelayMs: config.emulator.registrationDelaySeconds * 1000,
      healthCheckPort: config.healthCheckPort,
      unhealthy: () => ({ terminate: this.#settings.terminateWhenUnhealthy, drainingIntervalMs: this.#settings.unhealthyDrainingIntervalMs }),
      hooks: {
        target: (key) => this.#registry.get(key),
        changed: (target, from, to) => this.#changed(target, from, to),
        becameHealthy: (target) => {
          target.healthySinceMs = this.#clock.now();
          this.#slowStart.becameHealthy(target, this.#registry.values());
        },
        stoppedBeingHealthy: (target) => {
          target.healthySinceMs = undefined;
          target.notHealthySinceMs = this.#clock.now();
          this.#slowStart.end(target);
        },
        terminate: (target) => {
          this.#candidates.invalidate();
          // Failing open keeps routing to the unhealthy target: its connections stay.
          if (this.failingOpen) return;
          this.#cutLeases(target, new ElbError(ErrorCodes.TARGET_UNHEALTHY, `target ${target.key} failed its health checks`));
        },
      },
    });
    this.#registry = new Registry({
      clock: this.#clock,
      log: this.#log,
      thresholds: {
        healthyThresholdCount: config.healthyThresholdCount,
        unhealthyThresholdCount: config.unhealthyThresholdCount,
        initialHealthyThresholdCount: config.emulator.initialHealthyThresholdCount,
      },
      portOf: (spec) => this.#portOf(spec),
      delayMs: () => this.#settings.deregistrationDelayMs,
      hooks: {
        reportedHealth: (target) => this.#health.reported(target),
        registered: (target) => this.#health.start(target),
        drainStarted: (target, from) => {
          this.#slowStart.end(target);
          this.#health.stop(target);
          this.#candidates.invalidate();
          this.#emit({ type: 'target.state_changed', target, from, to: this.#health.reported(target) });
        },
        drainEnding: (target, why) => this.#drainEnding(target, why),
        removed: (target) => this.#emit({ type: 'target.removed', target }),
      },
    });
    this.register(config.targets);
  }

  get kind(): TargetGroupConfig['kind'] {
    return this.config.kind;
  }

  /** The group's attributes, typed (read per connection by the NLB, per request by nobody else). */
  get settings(): TargetGroupSettings {
    return this.#settings;
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
    if (this.#health.setInUse(names.length > 0, this.#registry.values())) this.#candidates.invalidate();
  }

  /** RegisterTargets: new targets start `initial`; a draining target is registered again. */
  register(specs: readonly TargetSpec[]): void {
    this.#assertOpen();
    this.#registry.register(specs);
    this.#candidates.invalidate();
  }

  /**
   * DeregisterTargets: the targets take no new requests from now on and show `draining`; after
   * `deregistration_delay.timeout_seconds` the requests still in flight are cut and the
   * targets are gone. Resolves when each target's delay has ended.
   */
  deregister(specs: readonly TargetSpec[]): Promise<DrainOutcome[]> {
    this.#assertOpen();
    const done = this.#registry.deregister(specs);
    this.#candidates.invalidate();
    return done;
  }

  /**
   * Chooses a target for one request (or connection) and counts it in flight until the lease
   * is released. Throws `ELB_ERR_NO_REGISTERED_TARGETS` or `ELB_ERR_NO_ROUTABLE_TARGETS`.
   */
  acquire(ctx?: PickContext): Lease {
    if (this.#slowStart.active) this.#slowStart.advance();
    const candidates = this.#candidates.get(this.#registry.values(), this.#health.inUse, this.#settings);
    this.#outcomes?.evaluate(candidates);
    const target = this.#picker.pick(candidates, ctx ?? this.#pickContext);
    if (target === undefined) {
      // Draining targets still count (spec 2.7: a group of only initial or draining targets).
      if (this.#registry.size === 0) throw new ElbError(ErrorCodes.NO_REGISTERED_TARGETS, `target group ${this.name} has no registered targets`);
      throw new ElbError(ErrorCodes.NO_ROUTABLE_TARGETS, `target group ${this.name} has no targets that can take traffic (all initial or draining)`);
    }
    return new TargetLease(target, this.#recordOutcome);
  }

  /**
   * Sticky sessions (spec 3.3, 3.4): a lease on the target a client is bound to, when that
   * target may take new requests: registered and a candidate (healthy; unhealthy too while the
   * group fails open, so a binding holds through fail-open). Undefined when it is initial,
   * unhealthy, draining or gone: the caller starts a new binding with `acquire`. The picker is
   * not asked, whatever the algorithm: with stickiness it makes only the first choice (spec
   * 3.1), and slow start's weights, which are the algorithm's, do not move a bound client.
   */
  acquireBound(key: string): Lease | undefined {
    const target = this.#registry.get(key);
    if (target === undefined) return undefined;
    if (!this.#candidates.includes(target, this.#registry.values(), this.#health.inUse, this.#settings)) return undefined;
    this.#outcomes?.evaluate(this.#candidates.get(this.#registry.values(), this.#health.inUse, this.#settings));
    return new TargetLease(target, this.#recordOutcome);
  }

  /**
   * A new NLB flow from `clientIp` (spec 3.5): chosen by the flow hash in `ctx`. With source_ip
   * stickiness, it goes to the target the client's earlier flows went to while that target can
   * take new flows; otherwise a hash of the address alone chooses, and binds the client anew.
   */
  acquireFlow(clientIp: string, ctx: PickContext): Lease {
    if (this.#settings.stickiness?.type !== 'source_ip') return this.acquire(ctx);
    const bound = this.#affinity.get(clientIp);
    const lease = (bound !== undefined ? this.acquireBound(bound) : undefined) ?? this.acquire({ ...ctx, flowHash: flowHash(['source_ip', clientIp]) });
    this.#affinity.bind(clientIp, lease.target.key);
    return lease;
  }

  /** True while requests are being spread over unhealthy targets (fail-open, spec 2.6). */
  get failingOpen(): boolean {
    return this.#candidates.failingOpen(this.#registry.values(), this.#health.inUse, this.#settings);
  }

  /** DescribeTargetHealth: every registered and draining target, or the ones asked about. */
  describeTargetHealth(specs?: readonly TargetSpec[], options: { include?: readonly ('AnomalyDetection' | 'All')[] } = {}): TargetHealthDescription[] {
    const wanted = options.include?.some((i) => i === 'AnomalyDetection' || i === 'All') ?? false;
    const outcomes = this.#outcomes;
    const anomalies = !wanted ? undefined : outcomes !== undefined ? (t: Target) => outcomes.detection(t) : () => ({ result: 'normal' as const, mitigationInEffect: 'no' as const });
    if (specs !== undefined && specs.length > 0) {
      return specs.map((spec) => {
        const port = this.#portOf(spec);
        const target = this.#registry.get(targetKey(spec.id, port));
        return targetHealthRow(this.config, spec.id, port, target && this.#health.reported(target), target, anomalies);
      });
    }
    return [...this.#registry.values()].map((t) => targetHealthRow(this.config, t.id, t.port, this.#health.reported(t), t, anomalies));
  }

  /**
   * Automatic target weights' verdicts (spec 3.1): `AnomalousHostCount` and `MitigatedHostCount`.
   * Detection runs in `weighted_random` groups; the others report none.
   */
  anomalyCounts(): { anomalousHostCount: number; mitigatedHostCount: number } {
    return this.#outcomes?.counts() ?? { anomalousHostCount: 0, mitigatedHostCount: 0 };
  }

  /** When `target` entered slow start (group clock), or undefined when it is not in slow start (spec 3.2). */
  slowStartSince(target: Target): number | undefined {
    return this.#slowStart.since(target);
  }

  /** A target's automatic target weight and verdict (spec 3.1); weight 1 and `normal` outside weighted_random. */
  anomalyDetection(target: Target): AnomalyDetection {
    return this.#outcomes?.detection(target) ?? { result: 'normal', mitigationInEffect: 'no', weight: 1 };
  }

  /** The group's targets (registered and draining), for metrics and tools. */
  targets(): readonly Target[] {
    return [...this.#registry.values()];
  }

  get healthyHostCount(): number {
    let n = 0;
    for (const t of this.#registry.values()) if (t.registration === 'registered' && t.health.state === 'healthy') n++;
    return n;
  }

  get unhealthyHostCount(): number {
    let n = 0;
    for (const t of this.#registry.values()) if (t.registration === 'registered' && t.health.state === 'unhealthy') n++;
    return n;
  }

  /** DescribeTargetGroupAttributes: every attribute with its current value. */
  attributes(): Readonly<Record<string, string>> {
    return { ...this.#attributes };
  }

  /** ModifyTargetGroupAttributes: validates every key and value, then applies them all. */
  modifyAttributes(changes: Readonly<Record<string, string>>): Readonly<Record<string, string>> {
    const network = this.config.kind === 'network';
    const catalogue = network ? networkTargetGroupAttributes(this.config.protocol, this.config.targetType) : applicationTargetGroupAttributes;
    const resolved = resolveAttributes(catalogue, changes, 'attributes', this.#attributes);
    const issues = resolved.ok
      ? network
        ? checkNetworkTargetGroupAttributes(this.config.protocol, resolved.attributes, 'attributes')
        : checkApplicationTargetGroupAttributes(resolved.attributes, 'attributes')
      : resolved.issues;
    if (!resolved.ok || issues.length > 0) {
      throw new ElbError(ErrorCodes.INVALID_ARGUMENT, issues.map((i) => `${i.path}: ${i.message}`).join('; '));
    }
    const before = this.#settings;
    this.#attributes = resolved.attributes;
    this.#settings = targetGroupSettings(this.config.kind, this.#attributes);
    if (!network && (before.algorithm !== this.#settings.algorithm || before.anomalyMitigation !== this.#settings.anomalyMitigation)) {
      this.#picker = createPicker<Target>(this.#settings.algorithm);
      this.#outcomes = this.#createOutcomeStats();
    }
    if (this.#settings.slowStartMs === 0) this.#slowStart.endAll();
    if (this.#settings.stickiness === undefined) this.#affinity.clear();
    this.#candidates.invalidate();
    return this.attributes();
  }

  /** DescribeTargetGroups, in the ELBv2 shape. */
  describe() {
    return describeTargetGroup(this.config, this.#settings, this.#loadBalancerNames);
  }

  /** Stops checks and timers; pending deregistrations resolve as `closed`. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#health.close();
    this.#timers.cancelAll();
    this.#registry.close();
  }

  /**
   * The check this group's config asks for (spec 2.4, 12.4.4): TCP (NLB), gRPC over HTTP/2 on
   * GRPC groups (TLS with ALPN h2 when the check is HTTPS), an HTTP/2 GET on HTTP2 groups (how
   * AWS checks those is not documented: UNCONFIRMED), HTTP/1.1 otherwise.
   */
  #networkProbe(): Probe {
    const { config } = this;
    const preamble = () => (this.#settings.proxyProtocolV2 ? this.#environment.proxyProtocolHeader : undefined);
    if (config.healthCheckProtocol === 'TCP') return tcpProbe({ preamble });
    const tls = config.healthCheckProtocol === 'HTTPS' ? healthCheckTls() : undefined;
    if (config.matcher.grpcCode !== undefined) {
      const matcher = parseGrpcMatcher(config.matcher.grpcCode);
      if (!matcher.ok) throw new ElbError(ErrorCodes.INVALID_ARGUMENT, `matcher.grpcCode ${matcher.message}`);
      return grpcProbe({ path: config.healthCheckPath, matcher: matcher.matches, ...(tls ? { tls } : {}) });
    }
    const matcher = parseMatcher(config.matcher.httpCode, 200, config.kind === 'application' ? 499 : 599);
    if (!matcher.ok) throw new ElbError(ErrorCodes.INVALID_ARGUMENT, `matcher.httpCode ${matcher.message}`);
    if (config.protocolVersion === 'HTTP2') return http2Probe({ path: config.healthCheckPath, matcher: matcher.matches, ...(tls ? { tls } : {}) });
    const hostHeader = config.kind === 'network' ? () => this.#environment.hostHeader?.() ?? '127.0.0.1' : undefined;
    return httpProbe({ path: config.healthCheckPath, matcher: matcher.matches, preamble, ...(hostHeader ? { hostHeader } : {}), ...(tls ? { tls } : {}) });
  }

  /** weighted_random keeps automatic target weights; the picker reads them through the pick context. */
  #createOutcomeStats(): OutcomeStats<Target> | undefined {
    const weighted = this.config.kind === 'application' && this.#settings.algorithm === 'weighted_random';
    const outcomes = weighted
      ? new OutcomeStats<Target>({ clock: this.#clock, mitigation: this.#settings.anomalyMitigation, settings: this.config.emulator.automaticTargetWeights })
      : undefined;
    this.#pickContext = outcomes === undefined ? undefined : { weights: outcomes };
    return outcomes;
  }

  /**
   * A drain ends: requests in flight are cut, except when the target was registered again, and
   * on an NLB without `deregistration_delay.connection_termination.enabled`, whose connections
   * outlive the target's removal and end only when a side closes them or they idle out (spec 4.2).
   */
  #drainEnding(target: Target, why: DrainEnd): { cutRequests: number; remaining?: number } {
    const keepConnections = why === 'expired' && this.config.kind === 'network' && !this.#settings.terminateOnDeregistration;
    if (keepConnections) return { cutRequests: 0, remaining: target.leases.size };
    if (why === 'reregistered') return { cutRequests: 0 };
    return {
      cutRequests: this.#cutLeases(
        target,
        new ElbError(ErrorCodes.DEREGISTRATION_DELAY_ELAPSED, `the deregistration delay elapsed for a request being handled by target ${target.key}`),
      ),
    };
  }

  #cutLeases(target: Target, reason: ElbError): number {
    let cut = 0;
    for (const lease of [...target.leases]) {
      cut++;
      lease.cut(reason);
    }
    return cut;
  }

  #changed(target: Target, from: TargetHealth, to: TargetHealth): void {
    this.#candidates.invalidate();
    if (from.state !== to.state || from.reason !== to.reason) {
      // Plain strings: the template over the state and reason unions is too big a type for tsc.
      const fromReason: string = from.reason ?? 'no reason';
      const toReason: string = to.reason ?? 'no reason';
      const fromState: string = from.state;
      const toState: string = to.state;
      const message = fromState === toState ? `target ${target.key} ${toState}: ${fromReason} -> ${toReason}` : `target ${target.key} ${fromState} -> ${toState}${to.reason ? ` (${toReason})` : ''}`;
      this.#log.info({ event: 'target.state_changed', target: target.key, from: from.state, to: to.state, reason: to.reason }, message);
    }
    this.#emit({ type: 'target.state_changed', target, from, to });
  }

  #emit(event: TargetGroupEvent): void {
    for (const listener of this.#listeners) listener(event);
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

/**
 * Resolves once `count` targets of `group` are healthy, woken by its state changes; rejects
 * with `ELB_ERR_PODS_NOT_READY` naming the group after `timeoutMs` on the clock.
 */
export function waitForHealthyTargets(group: TargetGroup, count: number, options: { readonly clock: Clock; readonly timeoutMs: number; readonly what?: string }): Promise<void> {
  return waitUntil(() => group.healthyHostCount >= count, {
    clock: options.clock,
    timeoutMs: options.timeoutMs,
    changes: (wake) => group.on(wake),
    timedOut: () =>
      new ElbError(ErrorCodes.PODS_NOT_READY, `target group ${group.name}: ${group.healthyHostCount} of ${count} ${options.what ?? 'targets'} healthy after ${options.timeoutMs / 1000}s`),
  });
}
