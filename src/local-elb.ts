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
}

/** An ALB (`type: application`) or an NLB (`type: network`). */
export type LoadBalancer = ApplicationLoadBalancer | NetworkLoadBalancer;

export class LocalElb {
  readonly config: Config;
  readonly metrics: ElbMetrics;
  readonly #groups = new Map<string, TargetGroup>();
  readonly #balancers = new Map<string, LoadBalancer>();
  #closed = false;

  constructor(options: LocalElbOptions) {
    this.config = parseConfig(options.config, 'config');
    this.metrics = options.metrics ?? new ElbMetrics();
    const clock = options.clock ?? realClock;
    const logger = options.logger ?? silentLogger();
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
    this.metrics.addHostCounts(() =>
      [...this.#groups.values()].map((g) => ({
        loadBalancer: g.describe().loadBalancerNames[0] ?? '',
        targetGroup: g.name,
        healthy: g.healthyHostCount,
        unhealthy: g.unhealthyHostCount,
      })),
    );
  }

  /** Binds every listener. */
  async start(): Promise<void> {
    try {
      for (const lb of this.#balancers.values()) await lb.start();
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

  /**
   * Stops listeners (requests in flight get up to `graceMs` to finish), then health checks
   * and draining timers.
   */
  async close(graceMs = 0): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([...this.#balancers.values()].map((lb) => lb.close(graceMs)));
    for (const group of this.#groups.values()) group.close();
  }
}

/** Builds and starts a LocalElb: `const elb = await startLocalElb({ config })`. */
export async function startLocalElb(options: LocalElbOptions): Promise<LocalElb> {
  const elb = new LocalElb(options);
  await elb.start();
  return elb;
}
