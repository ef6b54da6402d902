/**
 * The routing-algorithm lab's discrete-event simulation. It drives the real TargetGroup (one
 * per load balancer node, each with its own counters and health checks), the real pickers and
 * the real draining code on a VirtualClock, and models only what is outside the load balancer:
 * clients that arrive at a rate, and targets that serve `concurrency` requests at once and
 * queue the rest (FIFO). A request's latency is what queueing and the scenario's service times
 * make it, measured on the virtual clock; no formula assumes the answer.
 *
 * Deterministic: every random number comes from a stream seeded from the scenario's seed
 * (workload.ts), time only from the virtual clock, so a seed gives the same result bit for bit.
 */
import { VirtualClock } from '../core/clock.ts';
import { isElbError } from '../core/errors.ts';
import type { Random } from '../core/random.ts';
import { parseConfig, type TargetGroupConfig } from '../config/schema.ts';
import { createPicker, KubeProxyRandomPicker } from '../algorithms/index.ts';
import type { ProbeResult } from '../targets/health.ts';
import type { Probe, ProbeTarget } from '../targets/health-checker.ts';
import { TargetGroup } from '../targets/target-group.ts';
import type { Lease, Target, TargetSpec } from '../targets/target.ts';
import type { Scenario, Variant } from './scenario.ts';
import { labTargetGroupInput, scenarioActions, type ScheduledAction } from './schedule.ts';
import { drawRequest, resolveTargetModels, serviceFinish, type RequestDraws, type TargetModelSpec } from './target-model.ts';
import { exponential, stream } from './workload.ts';

/**
 * Why a request failed, as the client saw it: `target_5xx` the target answered an error;
 * `refused` (502) the process was not running; `reset` (502) it stopped with the request in
 * it; `cut` (502) the deregistration delay ended with the request in flight; `timeout` (504)
 * no answer within the idle timeout; `no_target` (503) nothing to route to; `dropped` (504)
 * kube-proxy had no endpoint on the node (externalTrafficPolicy Local).
 */
export type ErrorKind = 'target_5xx' | 'refused' | 'reset' | 'cut' | 'timeout' | 'no_target' | 'dropped';
export const errorKinds: readonly ErrorKind[] = ['target_5xx', 'refused', 'reset', 'cut', 'timeout', 'no_target', 'dropped'];

export interface TargetResult {
  readonly name: string;
  /** Requests routed to it. */
  readonly requests: number;
  /** Its part of all routed requests, 0–1. */
  readonly share: number;
  readonly errors: number;
  /** The most requests it held at once (in service and queued). */
  readonly peakInFlight: number;
}

export interface LatencySummary {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly mean: number;
  readonly max: number;
}

export interface RunResult {
  readonly label: string;
  readonly variant: Variant;
  readonly seed: number;
  readonly requests: number;
  readonly ok: number;
  readonly errors: number;
  readonly errorsByKind: Readonly<Record<ErrorKind, number>>;
  /** Over every request, errors included, as clients saw them (ms). */
  readonly latencyMs: LatencySummary;
  readonly targets: readonly TargetResult[];
  /** The largest share over the mean share (1 = perfectly even). */
  readonly imbalance: number;
  readonly simulatedSeconds: number;
  /** Latency at a set of quantiles, for CDF charts. */
  readonly cdf: readonly { readonly fraction: number; readonly latencyMs: number }[];
  /** Per target, per time bucket: requests routed, and the most in flight. */
  readonly timeline: { readonly bucketMs: number; readonly routed: readonly (readonly number[])[]; readonly inFlight: readonly (readonly number[])[] };
}

/** A request's fate at a target that is not running: refused after this long (a TCP RST on the same network). */
const REFUSED_MS = 1;
/** kube-proxy with no local endpoint drops the packets: the ELB gives up after its 10 s connect timeout (spec 7.1). */
const CONNECT_TIMEOUT_MS = 10_000;
/** Time buckets in the per-target timeline. */
const TIMELINE_BUCKETS = 120;

class Fifo<T> {
  #items: (T | undefined)[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }
}

interface SimRequest {
  readonly arrivalMs: number;
  readonly deadlineMs: number;
  /** Its service-time draw (mean 1) and error draw. */
  readonly draws: RequestDraws;
  lease: Lease | undefined;
  target: SimTarget | undefined;
  generation: number;
  finishMs: number;
  failed: boolean;
  timeoutArmed: boolean;
  done: boolean;
}

/** A simulated target process (or pod): concurrency slots, a FIFO queue, a service-time model. */
class SimTarget {
  readonly model: TargetModelSpec;
  readonly index: number;
  readonly name: string;
  readonly spec: Required<TargetSpec>;
  readonly key: string;
  readonly concurrency: number;
  readonly registerAtMs: number;
  /** Kubernetes node index (double hop). */
  readonly kubeNode: number;
  running: boolean;
  /** When the process last started; targets running from the start are warm (−∞). */
  startedAtMs = Number.NEGATIVE_INFINITY;
  failHealthChecks = false;
  generation = 0;
  busy = 0;
  readonly queue = new Fifo<SimRequest>();
  readonly inService = new Set<SimRequest>();
  requests = 0;
  errors = 0;
  peakInFlight = 0;
  readonly routed: number[] = [];
  readonly inFlightPeaks: number[] = [];

  constructor(model: TargetModelSpec, spec: Required<TargetSpec>) {
    this.model = model;
    this.index = model.index;
    this.name = model.name;
    this.spec = spec;
    this.key = `${spec.id}:${spec.port}`;
    this.concurrency = model.concurrency;
    this.registerAtMs = model.registerAtMs;
    this.kubeNode = model.kubeNode;
    this.running = model.registerAtMs === 0;
  }

  /** Requests it holds (in service and queued): what kube-proxy's picker would see, were it to look. */
  get outstanding(): number {
    return this.busy + this.queue.length;
  }
}

/** A Kubernetes node behind the ELB (instance target, NodePort): kube-proxy picks a pod for each new connection. */
interface KubeNode {
  readonly index: number;
  readonly spec: Required<TargetSpec>;
  readonly pods: SimTarget[];
  readonly picker: KubeProxyRandomPicker<SimTarget>;
}

interface Connection {
  readonly lbNode: number;
  lease: Lease | undefined;
  target: SimTarget | undefined;
}

export interface SimulationOptions {
  /** Overrides the scenario's `requests`. */
  readonly requests?: number;
  /** Overrides the scenario's `seed`. */
  readonly seed?: number;
}

/** Runs one variant (algorithm and settings) of a scenario to the end and summarises it. */
export function runSimulation(scenario: Scenario, variant: Variant, options: SimulationOptions = {}): RunResult {
  return new Simulation(scenario, variant, options).run();
}

class Simulation {
  readonly #scenario: Scenario;
  readonly #variant: Variant;
  readonly #seed: number;
  readonly #total: number;
  readonly #clock = new VirtualClock();
  readonly #targets: SimTarget[] = [];
  readonly #byKey = new Map<string, SimTarget>();
  readonly #kubeNodes: KubeNode[] = [];
  readonly #kubeNodeByKey = new Map<string, KubeNode>();
  readonly #groups: TargetGroup[] = [];
  readonly #connections: Connection[] = [];
  readonly #arrivals: Random;
  readonly #service: Random;
  readonly #errorDraws: Random;
  readonly #clients: Random;
  readonly #ratePerMs: number;
  readonly #timeoutMs: number;
  readonly #bucketMs: number;
  readonly #latencies: Float64Array;
  readonly #errorsByKind: Record<ErrorKind, number> = { target_5xx: 0, refused: 0, reset: 0, cut: 0, timeout: 0, no_target: 0, dropped: 0 };
  readonly #watchCuts: boolean;
  readonly #watchStops: boolean;
  #generated = 0;
  #finished = 0;
  #ok = 0;
  #lastDoneMs = 0;
  #lastArrivalMs = 0;
  #closed = false;

  constructor(scenario: Scenario, variant: Variant, options: SimulationOptions) {
    this.#scenario = scenario;
    this.#variant = variant;
    this.#seed = options.seed ?? scenario.seed;
    this.#total = options.requests ?? scenario.requests;
    this.#arrivals = stream(this.#seed, 'arrivals');
    this.#service = stream(this.#seed, 'service');
    this.#errorDraws = stream(this.#seed, 'errors');
    this.#clients = stream(this.#seed, 'clients');
    this.#ratePerMs = scenario.clients.ratePerSecond / 1000;
    this.#timeoutMs = scenario.loadBalancer.idleTimeoutSeconds * 1000;
    this.#bucketMs = Math.max(1, this.#total / this.#ratePerMs / TIMELINE_BUCKETS);
    this.#latencies = new Float64Array(this.#total);
    const deregisters = scenario.events.some((e) => e.action === 'deregister') || scenario.churn?.kind === 'rolling-restart';
    this.#watchCuts = deregisters;
    this.#watchStops = scenario.events.some((e) => e.action === 'stop') || scenario.churn !== undefined;
    this.#buildTargets();
    this.#buildGroups();
  }

  run(): RunResult {
    const clock = this.#clock;
    this.#scheduleTimeline(0);
    this.#scheduleEvents();
    for (let i = 0; i < (this.#scenario.clients.connections ?? 0); i++) {
      this.#connections.push({ lbNode: i % this.#variant.nodes, lease: undefined, target: undefined });
    }
    clock.setTimer(exponential(this.#arrivals) / this.#ratePerMs, this.#arrive);
    const stepMs = Math.max(1_000, this.#bucketMs);
    while (this.#finished < this.#total) {
      clock.advanceSync(stepMs);
      if (this.#generated === this.#total && clock.now() > this.#lastArrivalMs + this.#timeoutMs + CONNECT_TIMEOUT_MS + 60_000) {
        throw new Error(`simulation of ${this.#scenario.name} (${this.#variant.label}) stopped making progress: ${this.#total - this.#finished} requests never ended`);
      }
    }
    this.#closed = true;
    for (const g of this.#groups) g.close();
    return this.#summarise();
  }

  readonly #arrive = (): void => {
    const clock = this.#clock;
    const now = clock.now();
    this.#lastArrivalMs = now;
    this.#generated++;
    if (this.#generated < this.#total) clock.setTimer(exponential(this.#arrivals) / this.#ratePerMs, this.#arrive);
    const req: SimRequest = {
      arrivalMs: now,
      deadlineMs: now + this.#timeoutMs,
      draws: drawRequest(this.#scenario.targets.service, this.#service, this.#errorDraws),
      lease: undefined,
      target: undefined,
      generation: -1,
      finishMs: Number.NaN,
      failed: false,
      timeoutArmed: false,
      done: false,
    };
    if (this.#connections.length > 0) {
      const conn = this.#connections[Math.floor(this.#clients.next() * this.#connections.length)]!;
      this.#sendOnConnection(conn, req);
      return;
    }
    const lbNode = this.#variant.nodes === 1 ? 0 : Math.floor(this.#clients.next() * this.#variant.nodes);
    let lease: Lease;
    try {
      lease = this.#groups[lbNode]!.acquire();
    } catch (err) {
      if (isElbError(err)) return this.#finish(req, 'no_target');
      throw err;
    }
    req.lease = lease;
    if (this.#watchCuts) lease.onCut(() => this.#finish(req, 'cut'));
    if (this.#kubeNodes.length > 0) return this.#viaKubeProxy(this.#kubeNodeByKey.get(lease.target.key)!, req);
    this.#submit(this.#byKey.get(lease.target.key)!, req);
  };

  /** A connection keeps its target until it is cut, or its target is found not running. */
  #sendOnConnection(conn: Connection, req: SimRequest): void {
    if (conn.lease === undefined || !conn.target!.running) {
      conn.lease?.release();
      conn.lease = undefined;
      let lease: Lease;
      try {
        lease = this.#groups[conn.lbNode]!.acquire();
      } catch (err) {
        if (isElbError(err)) return this.#finish(req, 'no_target');
        throw err;
      }
      conn.lease = lease;
      conn.target = this.#byKey.get(lease.target.key)!;
      lease.onCut(() => {
        if (conn.lease === lease) conn.lease = undefined;
      });
    }
    this.#submit(conn.target!, req);
  }

  #viaKubeProxy(node: KubeNode, req: SimRequest): void {
    const k = this.#scenario.kubernetes!;
    const endpoints = this.#variant.externalTrafficPolicy === 'Local' ? node.pods : this.#targets;
    const pod = node.picker.pick(endpoints);
    if (pod === undefined) {
      this.#clock.setTimer(Math.min(CONNECT_TIMEOUT_MS, this.#timeoutMs), () => this.#finish(req, 'dropped'));
      return;
    }
    if (pod.kubeNode === node.index || k.hopLatencyMs === 0) this.#submit(pod, req);
    else this.#clock.setTimer(k.hopLatencyMs, () => this.#submit(pod, req));
  }

  #submit(target: SimTarget, req: SimRequest): void {
    const clock = this.#clock;
    req.target = target;
    target.requests++;
    const bucket = Math.floor(clock.now() / this.#bucketMs);
    target.routed[bucket] = (target.routed[bucket] ?? 0) + 1;
    if (!target.running) {
      clock.setTimer(REFUSED_MS, () => this.#finish(req, 'refused'));
      return;
    }
    req.generation = target.generation;
    if (target.busy < target.concurrency) this.#start(target, req);
    else {
      target.queue.push(req);
      req.timeoutArmed = true;
      clock.setTimer(req.deadlineMs - clock.now(), () => this.#timeout(req));
    }
    const inFlight = target.busy + target.queue.length;
    if (inFlight > target.peakInFlight) target.peakInFlight = inFlight;
    if (inFlight > (target.inFlightPeaks[bucket] ?? 0)) target.inFlightPeaks[bucket] = inFlight;
  }

  #start(target: SimTarget, req: SimRequest): void {
    const clock = this.#clock;
    const now = clock.now();
    target.busy++;
    if (this.#watchStops) target.inService.add(req);
    const { failed, finishMs: finish } = serviceFinish(target.model, req.draws, now, target.startedAtMs);
    req.finishMs = finish;
    req.failed = failed;
    clock.setTimer(finish - now, () => this.#complete(target, req));
    if (finish > req.deadlineMs && !req.timeoutArmed) {
      req.timeoutArmed = true;
      clock.setTimer(req.deadlineMs - now, () => this.#timeout(req));
    }
  }

  #complete(target: SimTarget, req: SimRequest): void {
    if (req.generation !== target.generation) return;
    target.busy--;
    if (this.#watchStops) target.inService.delete(req);
    this.#finish(req, req.failed ? 'target_5xx' : undefined);
    const next = target.queue.shift();
    if (next !== undefined) this.#start(target, next);
  }

  #timeout(req: SimRequest): void {
    if (req.done || req.finishMs <= this.#clock.now()) return;
    this.#finish(req, 'timeout');
  }

  #finish(req: SimRequest, error?: ErrorKind): void {
    if (req.done || this.#closed) return;
    req.done = true;
    const now = this.#clock.now();
    this.#latencies[this.#finished++] = now - req.arrivalMs;
    this.#lastDoneMs = now;
    if (error === undefined) this.#ok++;
    else {
      this.#errorsByKind[error]++;
      if (req.target) req.target.errors++;
    }
    req.lease?.release(error === undefined ? 'ok' : 'error');
  }

  #stop(target: SimTarget): void {
    if (!target.running) return;
    target.running = false;
    target.generation++;
    for (const r of [...target.inService]) this.#finish(r, 'reset');
    target.inService.clear();
    target.busy = 0;
    for (let r = target.queue.shift(); r !== undefined; r = target.queue.shift()) this.#finish(r, 'reset');
  }

  #startProcess(target: SimTarget): void {
    if (target.running) return;
    target.running = true;
    target.startedAtMs = this.#clock.now();
  }

  #apply(event: Pick<ScheduledAction, 'action' | 'targets'>): void {
    const targets = event.targets.map((i) => this.#targets[i]!);
    switch (event.action) {
      case 'deregister':
        for (const g of this.#groups) void g.deregister(targets.map((t) => t.spec));
        return;
      case 'register':
        for (const g of this.#groups) g.register(targets.map((t) => t.spec));
        return;
      case 'stop':
        for (const t of targets) this.#stop(t);
        return;
      case 'start':
        for (const t of targets) this.#startProcess(t);
        return;
      case 'fail-health-checks':
        for (const t of targets) t.failHealthChecks = true;
        return;
      case 'pass-health-checks':
        for (const t of targets) t.failHealthChecks = false;
        return;
    }
  }

  #scheduleEvents(): void {
    // Churn runs while clients are still arriving (estimated from the rate).
    const horizonMs = this.#total / this.#ratePerMs;
    for (const action of scenarioActions(this.#scenario, this.#targets.map((t) => t.model), horizonMs)) {
      this.#clock.setTimer(action.atMs, () => this.#apply(action));
    }
  }

  /** At each bucket's start, what each target holds: the bucket's peak starts from there. */
  #scheduleTimeline(bucket: number): void {
    this.#clock.setTimer(bucket === 0 ? 0 : this.#bucketMs * bucket - this.#clock.now(), () => {
      if (this.#finished >= this.#total) return;
      for (const t of this.#targets) {
        const held = t.busy + t.queue.length;
        if (held > (t.inFlightPeaks[bucket] ?? 0)) t.inFlightPeaks[bucket] = held;
      }
      this.#scheduleTimeline(bucket + 1);
    });
  }

  #buildTargets(): void {
    const s = this.#scenario;
    const kube = s.kubernetes;
    for (const model of resolveTargetModels(s, this.#seed)) {
      const i = model.index;
      const id = kube ? `10.244.${model.kubeNode}.${model.podOnNode + 2}` : `10.0.${i >> 8}.${i & 255}`;
      const target = new SimTarget(model, { id, port: 8080 });
      this.#targets.push(target);
      this.#byKey.set(target.key, target);
    }
    if (kube) {
      kube.podsPerNode.forEach((_, node) => {
        const kn: KubeNode = {
          index: node,
          spec: { id: `10.1.0.${node + 10}`, port: 30080 },
          pods: this.#targets.filter((t) => t.kubeNode === node),
          picker: new KubeProxyRandomPicker<SimTarget>({ random: stream(this.#seed, `kube-proxy/${node}`) }),
        };
        this.#kubeNodes.push(kn);
        this.#kubeNodeByKey.set(`${kn.spec.id}:${kn.spec.port}`, kn);
      });
    }
  }

  #buildGroups(): void {
    const s = this.#scenario;
    const v = this.#variant;
    const initial: TargetSpec[] = this.#kubeNodes.length > 0 ? this.#kubeNodes.map((n) => n.spec) : this.#targets.filter((t) => t.registerAtMs === 0).map((t) => t.spec);
    const config: TargetGroupConfig = parseConfig(
      { targetGroups: [{ ...labTargetGroupInput(s, v, 'lab'), targets: initial }] },
      `scenario ${s.name} (${v.label})`,
    ).targetGroups[0]!;
    const probe: Probe = (target: ProbeTarget): ProbeResult => (this.#healthy(`${target.id}:${target.port}`) ? PASS : FAIL);
    for (let node = 0; node < v.nodes; node++) {
      // The group keeps the automatic target weights (its attributes and emulator settings above).
      const picker = createPicker<Target>(v.algorithm, { random: stream(this.#seed, `picker/${node}`) });
      const group = new TargetGroup({ config, clock: this.#clock, probe, picker });
      group.setLoadBalancers(['lab']);
      this.#groups.push(group);
    }
  }

  /** What a health check finds: the process answers; for a node, kube-proxy's view (spec 10.3). */
  #healthy(key: string): boolean {
    const node = this.#kubeNodeByKey.get(key);
    if (node !== undefined) {
      const pods = this.#variant.externalTrafficPolicy === 'Local' ? node.pods : this.#targets;
      return pods.some((p) => p.running && !p.failHealthChecks);
    }
    const t = this.#byKey.get(key);
    return t !== undefined && t.running && !t.failHealthChecks;
  }

  #summarise(): RunResult {
    const sorted = this.#latencies.slice(0, this.#finished).sort();
    const n = sorted.length;
    const at = (p: number) => (n === 0 ? 0 : sorted[Math.min(n - 1, Math.max(0, Math.ceil(p * n) - 1))]!);
    let sum = 0;
    for (let i = 0; i < n; i++) sum += sorted[i]!;
    const routed = this.#targets.reduce((a, t) => a + t.requests, 0);
    const targets = this.#targets.map((t) => ({ name: t.name, requests: t.requests, share: routed === 0 ? 0 : t.requests / routed, errors: t.errors, peakInFlight: t.peakInFlight }));
    const maxShare = targets.reduce((m, t) => Math.max(m, t.share), 0);
    const buckets = this.#targets.reduce((m, t) => Math.max(m, t.routed.length, t.inFlightPeaks.length), 0);
    const dense = (a: number[]) => Array.from({ length: buckets }, (_, i) => a[i] ?? 0);
    return {
      label: this.#variant.label,
      variant: this.#variant,
      seed: this.#seed,
      requests: this.#total,
      ok: this.#ok,
      errors: this.#total - this.#ok,
      errorsByKind: { ...this.#errorsByKind },
      latencyMs: { p50: at(0.5), p90: at(0.9), p99: at(0.99), p999: at(0.999), mean: n === 0 ? 0 : sum / n, max: n === 0 ? 0 : sorted[n - 1]! },
      targets,
      imbalance: maxShare * targets.length,
      simulatedSeconds: this.#lastDoneMs / 1000,
      cdf: cdfFractions.map((fraction) => ({ fraction, latencyMs: at(fraction) })),
      timeline: { bucketMs: this.#bucketMs, routed: this.#targets.map((t) => dense(t.routed)), inFlight: this.#targets.map((t) => dense(t.inFlightPeaks)) },
    };
  }
}

const PASS: ProbeResult = { ok: true, statusCode: 200 };
const FAIL: ProbeResult = { ok: false, failure: 'failed', detail: 'ECONNREFUSED' };

/** Quantiles drawn in the CDF: dense in the body, denser in the tail. */
const cdfFractions: readonly number[] = (() => {
  const out = new Set<number>();
  for (let i = 1; i <= 200; i++) out.add(Math.round((i / 200) * 1e6) / 1e6);
  for (const f of [0.991, 0.992, 0.993, 0.994, 0.995, 0.996, 0.997, 0.998, 0.999, 0.9995, 0.9999, 0.99999]) out.add(f);
  return [...out].sort((a, b) => a - b);
})();


