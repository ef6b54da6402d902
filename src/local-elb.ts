/**
 * A running set of load balancers and target groups built from one config: the object the
 * library API, the CLI and the admin API all drive. Target groups are built first, then load
 * balancers that forward to them; `close` undoes both.
 */
import { realClock, type Clock } from './core/clock.ts';
import { ElbError, ErrorCodes } from './core/errors.ts';
import { silentLogger, type Logger } from './core/logger.ts';
import { ElbMetrics } from './core/metrics.ts';
import type { Random } from './core/random.ts';
import { parseConfig, type Config, type ConfigInput } from './config/schema.ts';
import { NetworkLoadBalancer } from './l4/network-load-balancer.ts';
import { ApplicationLoadBalancer } from './l7/application-load-balancer.ts';
import { Deployment } from './pods/deployment.ts';
import { PodIpAllocator } from './pods/ip-allocator.ts';
import type { PodStatus } from './pods/pod.ts';
import { networkProber, type PodProber } from './pods/probes.ts';
import { childProcessRuntime, type PodRuntime } from './pods/runtime.ts';
import { PodTargetSource } from './pods/target-source.ts';
import { Timeline } from './pods/timeline.ts';
import type { Probe } from './targets/health-checker.ts';
import { TargetGroup } from './targets/target-group.ts';

export interface LocalElbOptions {
  /** A parsed config, or raw input to validate (YAML/JSON already read). */
  readonly config: Config | ConfigInput;
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly random?: Random;
  /** Replaces health-check probes (tests). */
  readonly probe?: Probe;
  /** Where metrics go; a fresh registry by default. */
  readonly metrics?: ElbMetrics;
  /** How local pods run (a fake runtime in unit tests). */
  readonly podRuntime?: PodRuntime;
  /** How pod readiness and liveness probes are made (tests script them). */
  readonly podProber?: PodProber;
  /** Receives every line a pod prints; by default they go to the logger at info level. */
  readonly podOutput?: (pod: string, stream: 'stdout' | 'stderr', line: string) => void;
  /**
   * How long `start` waits for each pod-backed target group to have all its replicas Ready
   * and healthy (0: do not wait). Default 60 s.
   */
  readonly waitForPodsMs?: number;
}

/**
 * What the admin API serves: one LocalElb (`serve`, `demo`) or every load balancer the
 * Kubernetes controller runs (`kind`).
 */
export type ElbView = Pick<LocalElb, 'targetGroups' | 'targetGroup' | 'loadBalancers' | 'loadBalancer' | 'metrics' | 'pods' | 'deployment'>;

/** An ALB (`type: application`) or an NLB (`type: network`). */
export type LoadBalancer = ApplicationLoadBalancer | NetworkLoadBalancer;

export class LocalElb {
  readonly config: Config;
  readonly metrics: ElbMetrics;
  readonly #groups = new Map<string, TargetGroup>();
  readonly #balancers = new Map<string, LoadBalancer>();
  readonly #deployments = new Map<string, { deployment: Deployment; source: PodTargetSource }>();
  readonly #clock: Clock;
  readonly #waitForPodsMs: number;
  /** Pod, endpoint and target events on one clock (what the graceful-shutdown harness reads). */
  readonly timeline: Timeline;
  #closed = false;
  #removeHostCounts: () => void = () => {};

  constructor(options: LocalElbOptions) {
    this.config = parseConfig(options.config, 'config');
    this.metrics = options.metrics ?? new ElbMetrics();
    const clock = options.clock ?? realClock;
    const logger = options.logger ?? silentLogger();
    this.#clock = clock;
    this.#waitForPodsMs = options.waitForPodsMs ?? 60_000;
    this.timeline = new Timeline(clock);
    for (const tg of this.config.targetGroups) {
      this.#groups.set(tg.name, new TargetGroup({ config: tg, clock, logger, ...(options.probe ? { probe: options.probe } : {}) }));
    }
    for (const lbConfig of this.config.loadBalancers) {
      const common = { config: lbConfig, targetGroups: this.#groups, clock, logger, metrics: this.metrics };
      const lb =
        lbConfig.type === 'network'
          ? new NetworkLoadBalancer(common)
          : new ApplicationLoadBalancer({ ...common, ...(options.random ? { random: options.random } : {}) });
      this.#balancers.set(lb.name, lb);
    }
    const owners = new Map<string, string[]>();
    for (const lb of this.#balancers.values()) for (const name of lb.targetGroupNames()) owners.set(name, [...(owners.get(name) ?? []), lb.name]);
    for (const [name, group] of this.#groups) group.setLoadBalancers(owners.get(name) ?? []);
    const ips = new PodIpAllocator();
    const podLog = logger.child({ component: 'pods' });
    const output = options.podOutput ?? ((pod: string, stream: string, line: string) => podLog.info({ pod, stream }, `[${pod}] ${line}`));
    for (const tg of this.config.targetGroups) {
      if (tg.pods === undefined) continue;
      const deployment = new Deployment({
        name: tg.name,
        spec: tg.pods,
        clock,
        runtime: options.podRuntime ?? childProcessRuntime,
        prober: options.podProber ?? networkProber,
        timeline: this.timeline,
        ips,
        logger: podLog,
        output,
      });
      const source = new PodTargetSource({
        deployment,
        group: this.targetGroup(tg.name),
        propagation: tg.propagation!,
        readinessGate: tg.pods.readinessGate,
        clock,
        timeline: this.timeline,
        logger: podLog,
      });
      this.#deployments.set(tg.name, { deployment, source });
    }
    this.#removeHostCounts = this.metrics.addHostCounts(() =>
      [...this.#groups].map(([name, g]) => {
        const anomalies = g.anomalyCounts();
        return {
          loadBalancer: owners.get(name)?.[0] ?? '',
          targetGroup: name,
          healthy: g.healthyHostCount,
          unhealthy: g.unhealthyHostCount,
          anomalous: anomalies.anomalousHostCount,
          mitigated: anomalies.mitigatedHostCount,
        };
      }),
    );
  }

  /** Binds every listener, then starts local pods and waits for them (see `waitForPodsMs`). */
  async start(): Promise<void> {
    try {
      for (const lb of this.#balancers.values()) await lb.start();
      for (const { deployment } of this.#deployments.values()) deployment.start();
      if (this.#waitForPodsMs > 0) {
        for (const [name, { deployment }] of this.#deployments) {
          await deployment.waitReady(this.#waitForPodsMs);
          await this.#waitHealthy(name, deployment.replicas);
        }
      }
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  targetGroup(name: string): TargetGroup {
    const group = this.#groups.get(name);
    if (group === undefined) {
      throw new ElbError(ErrorCodes.NOT_FOUND, `no target group named ${JSON.stringify(name)}; defined: ${[...this.#groups.keys()].join(', ') || 'none'}`);
    }
    return group;
  }

  targetGroups(): readonly TargetGroup[] {
    return [...this.#groups.values()];
  }

  loadBalancer(name: string): LoadBalancer {
    const lb = this.#balancers.get(name);
    if (lb === undefined) {
      throw new ElbError(ErrorCodes.NOT_FOUND, `no load balancer named ${JSON.stringify(name)}; defined: ${[...this.#balancers.keys()].join(', ') || 'none'}`);
    }
    return lb;
  }

  /** The ALB named `name`; throws if it is missing or an NLB. */
  applicationLoadBalancer(name: string): ApplicationLoadBalancer {
    const lb = this.loadBalancer(name);
    if (!(lb instanceof ApplicationLoadBalancer)) throw new ElbError(ErrorCodes.INVALID_ARGUMENT, `load balancer ${name} is a network load balancer`);
    return lb;
  }

  /** The NLB named `name`; throws if it is missing or an ALB. */
  networkLoadBalancer(name: string): NetworkLoadBalancer {
    const lb = this.loadBalancer(name);
    if (!(lb instanceof NetworkLoadBalancer)) throw new ElbError(ErrorCodes.INVALID_ARGUMENT, `load balancer ${name} is an application load balancer`);
    return lb;
  }

  loadBalancers(): readonly LoadBalancer[] {
    return [...this.#balancers.values()];
  }

  /** URL of a load balancer's listener (`http://127.0.0.1:8080`, `tcp://127.0.0.1:8443`), after start. */
  url(loadBalancerName: string, listenerIndex = 0): string {
    return this.loadBalancer(loadBalancerName).url(listenerIndex);
  }

  /** The Deployment behind a pod-backed target group. */
  deployment(targetGroupName: string): Deployment {
    const entry = this.#deployments.get(targetGroupName);
    if (entry === undefined) {
      throw new ElbError(ErrorCodes.NOT_FOUND, `target group ${JSON.stringify(targetGroupName)} has no local pods; pod-backed: ${[...this.#deployments.keys()].join(', ') || 'none'}`);
    }
    return entry.deployment;
  }

  /** Replaces every pod of a target group under its rolling-update limits. */
  rollout(targetGroupName: string): Promise<void> {
    return this.deployment(targetGroupName).rollout();
  }

  /** Pods of a target group, in Kubernetes terms. */
  pods(targetGroupName: string): PodStatus[] {
    return this.deployment(targetGroupName).status();
  }

  /** The pod name and phase behind a target (`ip:port`), if the target is a local pod. */
  podForTarget(key: string): { name: string; phase: string; terminating: boolean } | undefined {
    for (const { source } of this.#deployments.values()) {
      const pod = source.podFor(key);
      if (pod) return { name: pod.name, phase: pod.phase, terminating: pod.terminating };
    }
    return undefined;
  }

  async #waitHealthy(name: string, replicas: number): Promise<void> {
    const group = this.targetGroup(name);
    const deadline = this.#clock.now() + this.#waitForPodsMs;
    while (group.healthyHostCount < replicas) {
      if (this.#clock.now() > deadline) {
        throw new ElbError(ErrorCodes.PODS_NOT_READY, `target group ${name}: ${group.healthyHostCount} of ${replicas} pod targets healthy after ${this.#waitForPodsMs / 1000}s`);
      }
      await new Promise<void>((resolve) => {
        const off = group.on(() => {
          off();
          cancel();
          resolve();
        });
        const cancel = this.#clock.setTimer(250, () => {
          off();
          resolve();
        });
      });
    }
  }

  /**
   * Stops listeners (requests in flight get up to `graceMs` to finish), kills local pods, then
   * stops health checks and draining timers.
   */
  async close(graceMs = 0): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([...this.#balancers.values()].map((lb) => lb.close(graceMs)));
    await Promise.all([...this.#deployments.values()].map(({ deployment }) => deployment.close(0)));
    for (const { source } of this.#deployments.values()) source.close();
    for (const group of this.#groups.values()) group.close();
    this.#removeHostCounts();
  }
}

/** Builds and starts a LocalElb: `const elb = await startLocalElb({ config })`. */
export async function startLocalElb(options: LocalElbOptions): Promise<LocalElb> {
  const elb = new LocalElb(options);
  await elb.start();
  return elb;
}
