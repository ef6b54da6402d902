/**
 * LocalElb: the runtime (load balancers and target groups of one config, src/runtime) plus
 * the local pods that are the targets of pod-backed target groups, on the same control path
 * as `local-elb kind` (pods → endpoints → desired targets → registrations). What the library
 * API, the CLI's `serve`/`demo`, the admin API and the graceful-shutdown harness drive.
 */
import { realClock, type Clock } from './core/clock.ts';
import { ElbError, ErrorCodes } from './core/errors.ts';
import { silentLogger, type Logger } from './core/logger.ts';
import type { ElbMetrics } from './core/metrics.ts';
import type { Random } from './core/random.ts';
import type { Config, ConfigInput } from './config/schema.ts';
import { configWarnings, targetGroupsInUse } from './config/warnings.ts';
import type { ConfigIssue } from './core/errors.ts';
import { Deployment } from './pods/deployment.ts';
import { PodIpAllocator } from './pods/ip-allocator.ts';
import type { PodStatus } from './pods/pod.ts';
import { networkProber, type PodProber } from './pods/probes.ts';
import { childProcessRuntime, type PodRuntime } from './pods/runtime.ts';
import { PodTargetSource } from './pods/target-source.ts';
import { Timeline } from './pods/timeline.ts';
import type { CertificateIssuer } from './tls/certificates.ts';
import { ElbRuntime, type ElbRuntimeOptions, type ElbView, type LoadBalancer, type PodsView } from './runtime/runtime.ts';
import type { ApplicationLoadBalancer } from './l7/application-load-balancer.ts';
import type { NetworkLoadBalancer } from './l4/network-load-balancer.ts';
import type { Probe } from './targets/health-checker.ts';
import { waitForHealthyTargets, type TargetGroup } from './targets/target-group.ts';

export type { ElbView, LoadBalancer } from './runtime/runtime.ts';

export interface LocalElbOptions {
  /** A parsed config, or raw input to validate (YAML/JSON already read). */
  readonly config: Config | ConfigInput;
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly random?: Random;
  /** Replaces health-check probes (tests). */
  readonly probe?: Probe;
  /** A picker for a target group instead of the one its algorithm attribute names (the lab on real sockets). */
  readonly picker?: ElbRuntimeOptions['picker'];
  /** Where metrics go; a fresh registry by default. */
  readonly metrics?: ElbMetrics;
  /** Where the local CA lives (default `$LOCAL_ELB_STATE_DIR`, else `~/.local-elb`). */
  readonly stateDir?: string;
  /** Issues the certificates no `certificates:` file provides (default: the local CA in `stateDir`). */
  readonly certificateIssuer?: CertificateIssuer;
  /** How local pods run (a fake runtime in unit tests). */
  readonly podRuntime?: PodRuntime;
  /** How pod readiness and liveness probes are made (tests script them). */
  readonly podProber?: PodProber;
  /** Receives every line a pod prints; by default they go to the logger at info level. */
  readonly podOutput?: (pod: string, stream: 'stdout' | 'stderr', line: string) => void;
  /**
   * How long `start` waits for each pod-backed target group to have all its replicas Ready
   * and healthy (0: do not wait). Default 60 s. A group no listener uses is not health-checked
   * (`unused`/`Target.NotInUse`, as on AWS), so for it `start` waits for Ready pods only.
   */
  readonly waitForPodsMs?: number;
}

export class LocalElb implements ElbView {
  readonly config: Config;
  readonly metrics: ElbMetrics;
  /** Pod, endpoint and target events on one clock (what the graceful-shutdown harness reads). */
  readonly timeline: Timeline;
  readonly runtime: ElbRuntime;
  /** What the config allows but rarely means (a target group no listener uses); also logged at warn. */
  readonly warnings: readonly ConfigIssue[];
  readonly #inUse: ReadonlySet<string>;
  readonly #deployments = new Map<string, { deployment: Deployment; source: PodTargetSource }>();
  readonly #clock: Clock;
  readonly #waitForPodsMs: number;
  #closed = false;

  constructor(options: LocalElbOptions) {
    this.runtime = new ElbRuntime(options);
    this.config = this.runtime.config;
    this.metrics = this.runtime.metrics;
    const clock = options.clock ?? realClock;
    const logger = options.logger ?? silentLogger();
    this.#clock = clock;
    this.#waitForPodsMs = options.waitForPodsMs ?? 60_000;
    this.timeline = new Timeline(clock);
    this.warnings = configWarnings(this.config);
    this.#inUse = targetGroupsInUse(this.config);
    for (const w of this.warnings) logger.warn({ event: 'config.warning', path: w.path }, `${w.path}: ${w.message}`);
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
  }

  /** The running state as a config file (`local-elb export`): what the ELBv2 API and the admin API changed included. */
  exportConfig(): ConfigInput {
    return this.runtime.exportConfig();
  }

  /** The admin API's view of local pods. */
  get localPods(): PodsView {
    return { status: (name) => this.pods(name), deployment: (name) => this.deployment(name) };
  }

  /** Binds every listener, then starts local pods and waits for them (see `waitForPodsMs`). */
  async start(): Promise<void> {
    try {
      await this.runtime.start();
      for (const { deployment } of this.#deployments.values()) deployment.start();
      if (this.#waitForPodsMs > 0) {
        for (const [name, { deployment }] of this.#deployments) {
          await deployment.waitReady(this.#waitForPodsMs);
          if (!this.#inUse.has(name)) continue;
          await waitForHealthyTargets(this.targetGroup(name), deployment.replicas, { clock: this.#clock, timeoutMs: this.#waitForPodsMs, what: 'pod targets' });
        }
      }
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  targetGroup(name: string): TargetGroup {
    return this.runtime.targetGroup(name);
  }

  targetGroups(): readonly TargetGroup[] {
    return this.runtime.targetGroups();
  }

  loadBalancer(name: string): LoadBalancer {
    return this.runtime.loadBalancer(name);
  }

  /** The ALB named `name`; throws if it is missing or an NLB. */
  applicationLoadBalancer(name: string): ApplicationLoadBalancer {
    return this.runtime.applicationLoadBalancer(name);
  }

  /** The NLB named `name`; throws if it is missing or an ALB. */
  networkLoadBalancer(name: string): NetworkLoadBalancer {
    return this.runtime.networkLoadBalancer(name);
  }

  loadBalancers(): readonly LoadBalancer[] {
    return this.runtime.loadBalancers();
  }

  /** URL of a load balancer's listener (`http://127.0.0.1:8080`, `tcp://127.0.0.1:8443`), after start. */
  url(loadBalancerName: string, listenerIndex = 0): string {
    return this.runtime.url(loadBalancerName, listenerIndex);
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

  /**
   * Stops listeners (requests in flight get up to `graceMs` to finish), kills local pods, then
   * stops health checks and draining timers.
   */
  async close(graceMs = 0): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.runtime.closeLoadBalancers(graceMs);
    await Promise.all([...this.#deployments.values()].map(({ deployment }) => deployment.close(0)));
    for (const { source } of this.#deployments.values()) source.close();
    await this.runtime.close();
  }
}

/** Builds and starts a LocalElb: `const elb = await startLocalElb({ config })`. */
export async function startLocalElb(options: LocalElbOptions): Promise<LocalElb> {
  const elb = new LocalElb(options);
  await elb.start();
  return elb;
}
