/**
 * The running load balancers and target groups of one config (spec 1–8): target groups first,
 * then the load balancers that forward to them, each group told which load balancers use it
 * (health checks run only for groups in use). What local pods (LocalElb) and the kind
 * controller both build on; it starts no processes and watches nothing.
 *
 * One model: the config file, the admin API, the CLI and the ELBv2 API are views of this
 * state. `apply(next)` moves it to another config at runtime (a pure diff, ./diff.ts, then the
 * changes), leaving alone every listener, group and connection the change does not touch;
 * `snapshot()` is the state as a config again (what `local-elb export` prints).
 */
import { realClock, type Clock } from '../core/clock.ts';
import { ElbError, ErrorCodes } from '../core/errors.ts';
import { silentLogger, type Logger } from '../core/logger.ts';
import { ElbMetrics } from '../core/metrics.ts';
import type { Random } from '../core/random.ts';
import { attributesWithoutLocalEffect, parseConfig, type Config, type ConfigInput, type LoadBalancerConfig, type TargetGroupConfig } from '../config/schema.ts';
import { NetworkLoadBalancer } from '../l4/network-load-balancer.ts';
import { ApplicationLoadBalancer } from '../l7/application-load-balancer.ts';
import type { Picker } from '../algorithms/picker.ts';
import type { Probe } from '../targets/health-checker.ts';
import { TargetGroup } from '../targets/target-group.ts';
import type { Target } from '../targets/target.ts';
import type { CertificateIssuer } from '../tls/certificates.ts';
import { localCaIssuer, TlsProvider } from '../tls/provider.ts';
import { printableConfig } from '../config/print.ts';
import { diffConfig } from './diff.ts';

export interface ElbRuntimeOptions {
  /** A parsed config, or raw input to validate (YAML/JSON already read). */
  readonly config: Config | ConfigInput;
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly random?: Random;
  /** Replaces health-check probes (tests). */
  readonly probe?: Probe;
  /**
   * A picker for a target group instead of the one its `load_balancing.algorithm.type` names
   * (the routing-algorithm lab on real sockets: seeded and lab-only pickers); undefined keeps that one.
   */
  readonly picker?: (group: TargetGroupConfig) => Picker<Target> | undefined;
  /** Where metrics go; a fresh registry by default. */
  readonly metrics?: ElbMetrics;
  /** Where the local CA lives (default `$LOCAL_ELB_STATE_DIR`, else `~/.local-elb`). */
  readonly stateDir?: string;
  /** Issues the certificates no `certificates:` file provides (default: the local CA in `stateDir`). */
  readonly certificateIssuer?: CertificateIssuer;
}

/** An ALB (`type: application`) or an NLB (`type: network`). */
export type LoadBalancer = ApplicationLoadBalancer | NetworkLoadBalancer;

/**
 * What the admin API serves: one runtime (`serve`, `demo`) or every load balancer the
 * Kubernetes controller runs (`kind`). `localPods` is there only where local pods run.
 */
export interface ElbView {
  readonly metrics: ElbMetrics;
  targetGroups(): readonly TargetGroup[];
  targetGroup(name: string): TargetGroup;
  loadBalancers(): readonly LoadBalancer[];
  loadBalancer(name: string): LoadBalancer;
  readonly localPods?: PodsView;
  /** The running state as a config file (`local-elb export`); only where there is one runtime. */
  exportConfig?(): ConfigInput;
}

/** Local pods as the admin API drives them (the Deployment behind a pod-backed target group). */
export interface PodsView {
  /** The pods of a pod-backed target group (throws `ELB_ERR_NOT_FOUND` for another group). */
  status(targetGroupName: string): readonly unknown[];
  deployment(targetGroupName: string): {
    readonly revision: number;
    readonly replicas: number;
    status(): readonly unknown[];
    rollout(): Promise<void>;
    scale(replicas: number): void;
    deletePod(name: string): Promise<void>;
  };
}

export class ElbRuntime implements ElbView {
  #config: Config;
  readonly metrics: ElbMetrics;
  readonly clock: Clock;
  readonly #groups = new Map<string, TargetGroup>();
  readonly #balancers = new Map<string, LoadBalancer>();
  /** Target group → the load balancers that forward to it. */
  readonly #owners = new Map<string, string[]>();
  readonly #logger: Logger;
  readonly #probe: Probe | undefined;
  readonly #picker: ((group: TargetGroupConfig) => Picker<Target> | undefined) | undefined;
  readonly #random: Random | undefined;
  readonly #tls: TlsProvider;
  readonly #added = new Set<(lb: LoadBalancer) => void>();
  /** Changes run one at a time, in the order they were asked for. */
  #applying: Promise<unknown> = Promise.resolve();
  #closed = false;
  #closingBalancers: Promise<void> | undefined;
  readonly #removeHostCounts: () => void;

  constructor(options: ElbRuntimeOptions) {
    this.#config = parseConfig(options.config, 'config');
    this.metrics = options.metrics ?? new ElbMetrics();
    const clock = options.clock ?? realClock;
    const logger = options.logger ?? silentLogger();
    this.clock = clock;
    this.#logger = logger;
    this.#probe = options.probe;
    this.#picker = options.picker;
    this.#random = options.random;
    for (const tg of this.#config.targetGroups) this.#groups.set(tg.name, this.#newGroup(tg));
    for (const a of attributesWithoutLocalEffect(this.#config)) {
      logger.info({ event: 'config.attribute_without_local_effect', path: a.path, value: a.value }, `${a.path} = ${JSON.stringify(a.value)} is accepted and described back, with no local effect: ${a.why}`);
    }
    this.#tls = new TlsProvider({ certificates: this.#config.certificates, trustStores: this.#config.trustStores, issuer: options.certificateIssuer ?? localCaIssuer(options.stateDir), clock, ...(options.stateDir !== undefined ? { stateDir: options.stateDir } : {}) });
    for (const lbConfig of this.#config.loadBalancers) this.#balancers.set(lbConfig.name, this.#newLoadBalancer(lbConfig));
    this.#updateOwners();
    this.#removeHostCounts = this.metrics.addHostCounts(() =>
      [...this.#groups].map(([name, g]) => {
        const anomalies = g.anomalyCounts();
        return {
          loadBalancer: this.#owners.get(name)?.[0] ?? '',
          targetGroup: name,
          healthy: g.healthyHostCount,
          unhealthy: g.unhealthyHostCount,
          anomalous: anomalies.anomalousHostCount,
          mitigated: anomalies.mitigatedHostCount,
        };
      }),
    );
  }

  /** The config last applied (the one started with, then each `apply`'s); `snapshot()` has live attributes and targets. */
  get config(): Config {
    return this.#config;
  }

  #newGroup(config: TargetGroupConfig): TargetGroup {
    const picker = this.#picker?.(config);
    return new TargetGroup({ config, clock: this.clock, logger: this.#logger, ...(this.#probe ? { probe: this.#probe } : {}), ...(picker ? { picker } : {}) });
  }

  #newLoadBalancer(config: LoadBalancerConfig): LoadBalancer {
    const common = { config, targetGroups: this.#groups, clock: this.clock, logger: this.#logger, metrics: this.metrics, tls: this.#tls };
    const random = this.#random ? { random: this.#random } : {};
    return config.type === 'network' ? new NetworkLoadBalancer({ ...common, ...random }) : new ApplicationLoadBalancer({ ...common, ...random });
  }

  /** Tells each group which load balancers forward to it (health checks run only for groups in use). */
  #updateOwners(): void {
    this.#owners.clear();
    for (const lb of this.#balancers.values()) for (const name of lb.targetGroupNames()) this.#owners.set(name, [...(this.#owners.get(name) ?? []), lb.name]);
    for (const [name, group] of this.#groups) group.setLoadBalancers(this.#owners.get(name) ?? []);
  }

  /**
   * The running state as a config: each target group with its attributes and registered
   * targets (draining ones are on their way out and left out) as they are now, each load
   * balancer with its attributes and listeners. Parsing `printableConfig(snapshot())` gives
   * it back; `apply` diffs against it.
   */
  snapshot(): Config {
    return {
      targetGroups: [...this.#groups.values()].map((g) => ({
        ...g.config,
        attributes: { ...g.attributes() },
        targets: g
          .targets()
          .filter((t) => t.registration !== 'draining')
          .map((t) => ({ id: t.id, port: t.port })),
      })),
      loadBalancers: [...this.#balancers.values()].map((lb) => ({ ...lb.config, attributes: { ...lb.attributes() } })),
      certificates: this.#config.certificates,
      trustStores: this.#config.trustStores,
    };
  }

  /** The TLS provider of every load balancer here (the ELBv2 API keeps its trust stores in it). */
  get tls(): TlsProvider {
    return this.#tls;
  }

  /**
   * Calls `observer` with each load balancer `apply` adds from now on (the CLI gives an ALB
   * made by the ELBv2 API the access log the others have). Returns the unsubscribe function.
   */
  onLoadBalancerAdded(observer: (lb: LoadBalancer) => void): () => void {
    this.#added.add(observer);
    return () => this.#added.delete(observer);
  }

  /** The running state as a config file would write it (every default filled in): what `local-elb export` prints. */
  exportConfig(): ConfigInput {
    return printableConfig(this.snapshot());
  }

  /**
   * Moves the running state to `next` (already validated: parseConfig) without a restart:
   * new target groups and load balancers start, removed ones close, listeners are added,
   * updated in place or bound again (./diff.ts says which), attributes change in place. Nothing
   * the change does not name is touched: other listeners keep their connections, kept groups
   * their targets and health. A target group whose health-check settings change is replaced by
   * a new one holding the same registered targets (checked again from `initial`). With
   * `fallback`, a new listener whose port or address cannot be bound takes a free port or
   * 127.0.0.1 (its URL says where). Calls run one after another. Certificates are the ones the
   * runtime started with (ARNs mapped to files); others are issued by the local CA.
   */
  apply(next: Config, options: { readonly fallback?: boolean } = {}): Promise<void> {
    const run = this.#applying.then(() => this.#apply(next, options));
    this.#applying = run.catch(() => {});
    return run;
  }

  async #apply(next: Config, options: { readonly fallback?: boolean }): Promise<void> {
    if (this.#closed) throw new ElbError(ErrorCodes.INVALID_ARGUMENT, 'the runtime is closed');
    const diff = diffConfig(this.snapshot(), next, options);
    // Trust stores first: a listener that starts below reads the new ones.
    await this.#tls.setTrustStores(next.trustStores);
    const nextGroups = new Map(next.targetGroups.map((g) => [g.name, g]));
    for (const config of diff.targetGroups.added) this.#groups.set(config.name, this.#newGroup(config));
    const retired: TargetGroup[] = [];
    for (const config of diff.targetGroups.replaced) {
      const old = this.#groups.get(config.name)!;
      const registered = old.targets().filter((t) => t.registration !== 'draining').map((t) => ({ id: t.id, port: t.port }));
      this.#groups.set(config.name, this.#newGroup({ ...config, targets: registered }));
      retired.push(old);
    }
    for (const { name, changes } of diff.targetGroups.attributes) this.#groups.get(name)!.modifyAttributes(changes);
    let failure: unknown;
    for (const name of diff.loadBalancers.removed) {
      await this.#balancers.get(name)!.close(0);
      this.#balancers.delete(name);
    }
    for (const change of diff.loadBalancers.changed) {
      const lb = this.#balancers.get(change.name)!;
      if (Object.keys(change.attributes).length > 0) lb.modifyAttributes(change.attributes);
      if (change.listeners !== undefined) {
        try {
          await lb.applyListeners(change.listeners, { ...change.config, attributes: lb.attributes() });
        } catch (err) {
          failure ??= err;
        }
      }
      if (change.usesReplacedGroup && lb instanceof ApplicationLoadBalancer) lb.targetGroupsChanged();
    }
    for (const config of diff.loadBalancers.added) {
      const lb = this.#newLoadBalancer({ ...config, listeners: [] });
      this.#balancers.set(config.name, lb);
      for (const observer of this.#added) observer(lb);
      try {
        await lb.applyListeners(
          config.listeners.map((l) => ({ config: l, ...(options.fallback ? { fallback: true } : {}) })),
          config,
        );
      } catch (err) {
        failure ??= err;
      }
    }
    for (const name of diff.targetGroups.removed) {
      this.#groups.get(name)!.close();
      this.#groups.delete(name);
    }
    this.#updateOwners();
    for (const group of retired) group.close();
    this.#config = { ...next, targetGroups: next.targetGroups.filter((g) => nextGroups.has(g.name)) };
    if (failure !== undefined) throw failure;
  }

  /** Binds every listener; on a failure closes what it started and rejects (`ELB_ERR_LISTEN_FAILED`). */
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

  /** Stops the listeners: requests in flight get up to `graceMs` to finish. */
  closeLoadBalancers(graceMs = 0): Promise<void> {
    this.#closingBalancers ??= Promise.all([...this.#balancers.values()].map((lb) => lb.close(graceMs))).then(() => {});
    return this.#closingBalancers;
  }

  /** Stops listeners (requests in flight get up to `graceMs`), then every check and timer. */
  async close(graceMs = 0): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.closeLoadBalancers(graceMs);
    for (const group of this.#groups.values()) group.close();
    this.#removeHostCounts();
  }
}
