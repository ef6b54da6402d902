/**
 * The routing-algorithm lab on real sockets: each run of a scenario (an algorithm and its
 * settings) with real processes, and the simulator's prediction for the very same requests
 * beside it.
 *
 * - **Targets** are processes serving the scenario's model (target-process.ts), or the user's
 *   own running instances (`targets`).
 * - **The ALB** is local-elb in a process of its own (alb-process.ts), one ALB per load
 *   balancer node, with the scenario's algorithm, health checks, slow start, deregistration
 *   delay and automatic target weights (src/lab/schedule.ts, the simulator's settings).
 * - **The clients** are an open-loop generator in its own process (load-process.ts): the
 *   simulator's Poisson arrivals and draws for the given duration, every request's latency
 *   (from its due time) and target recorded.
 * - **Events and churn** (src/lab/schedule.ts) happen to the real processes at the same offsets:
 *   `stop` SIGKILLs the target's process (a replacement waits, not listening, for `start`),
 *   `register`/`deregister` go to local-elb, health checks fail on request.
 * - **The double hop** puts a kube-proxy stand-in per node between the ALB and the pods.
 *
 * Every process is started fresh for each run and ended, by PID, when the run ends, fails or is
 * aborted (`signal`); children also end on their own when this process goes away.
 */
import os from 'node:os';
import { lookup } from 'node:dns/promises';
import { randomBytes } from 'node:crypto';
import hdr from 'hdr-histogram-js';
import { realClock } from '../../core/clock.ts';
import { ElbError, ErrorCodes } from '../../core/errors.ts';
import type { ConfigInput } from '../../config/schema.ts';
import { selectVariants } from '../../lab/lab.ts';
import type { Scenario, Variant } from '../../lab/scenario.ts';
import { labTargetGroupInput, scenarioActions, type ScheduledAction } from '../../lab/schedule.ts';
import { runSimulation, type LatencySummary, type RunResult } from '../../lab/simulator.ts';
import { resolveTargetModels, type TargetModelSpec } from '../../lab/target-model.ts';
import { arrivalTimes } from '../../lab/workload.ts';
import { LabProcesses, type LabChild } from './processes.ts';
import { HEADER_WARMUP, HEALTH_PATH, WARMUP_GROUP, WARMUP_PATH, type AlbReport, type KubeProxyInit, type LoadInit, type LoadResult, type TargetInit } from './protocol.ts';

export interface RealLabOptions {
  /** How long clients arrive, per run (default 10 s). */
  readonly durationMs?: number;
  readonly seed?: number;
  readonly ratePerSecond?: number;
  /** Only these runs: labels or algorithm names from the scenario. */
  readonly only?: readonly string[];
  /** The user's own running instances (`http://127.0.0.1:3000/path`) instead of model targets. */
  readonly targets?: readonly string[];
  /** Aborting stops every process of the run and rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /** Progress, one line at a time (the CLI prints it on stderr). */
  readonly onProgress?: (line: string) => void;
  /** Keep every request's fate in the report (`--json`). */
  readonly keepFates?: boolean;
  /**
   * Run the algorithms at the same time, each with its own processes, rather than one after
   * another: whatever else disturbs the machine then disturbs them alike (a fairer comparison
   * on a shared machine; every run is slower, as they share it).
   */
  readonly together?: boolean;
}

export const DEFAULT_REAL_DURATION_MS = 10_000;
/** A send later than this after its due time counts as the generator falling behind. */
export const LATE_SEND_MS = 5;
/** Requests the generator sends through the ALB before each run, to open connections and warm the proxy's code. */
const WARMUP_REQUESTS = 200;
/** The young generation local-elb's traffic commands run with (bin/node-flags.js; LOCAL_ELB_NODE_FLAGS replaces it). */
const PROXY_NODE_FLAGS = (process.env.LOCAL_ELB_NODE_FLAGS ?? '--max-semi-space-size=2').split(/\s+/).filter((f) => f !== '');

/** What clients saw in one real run. */
export interface MeasuredRun {
  readonly requests: number;
  readonly ok: number;
  readonly errors: number;
  /** `target 500`, `502 ELB_ERR_TARGET_CONNECTION_FAILED`, `504 …`, `ECONNRESET`, … */
  readonly errorsBy: Readonly<Record<string, number>>;
  /** From hdr-histogram-js (3 significant digits), over every request, errors included. */
  readonly latencyMs: LatencySummary;
  readonly cdf: readonly { readonly fraction: number; readonly latencyMs: number }[];
  readonly targets: readonly { readonly name: string; readonly requests: number; readonly share: number; readonly errors: number }[];
  readonly imbalance: number;
  /** Requests no target was chosen for (the ALB answered 503, or the client never got through). */
  readonly unrouted: number;
}

export interface RealRun {
  readonly label: string;
  readonly variant: Variant;
  readonly measured: MeasuredRun;
  /** The simulator's run of the same scenario, seed and requests. */
  readonly predicted: RunResult;
  readonly generator: {
    /** Requests per second offered (the schedule) and answered (over the time until the last answer). */
    readonly offeredPerSecond: number;
    readonly answeredPerSecond: number;
    readonly sendLagMs: { readonly p50: number; readonly p99: number; readonly max: number };
    /** Sends more than LATE_SEND_MS after they were due. */
    readonly lateSends: number;
    /** The most connections open at once, and the requests that waited for one (all open were busy, at the cap). */
    readonly peakConnections: number;
    readonly waitedForConnection: number;
    /** Of one core, over the run. */
    readonly cpuShare: number;
  };
  /** local-elb's CPU time over the run, as a share of one core, and in ms (health checks and idle work included). */
  readonly proxyCpuShare: number;
  readonly proxyCpuMs: number;
  /** All target processes together (those alive at the end), as a share of one core. */
  readonly targetsCpuShare: number | undefined;
  /** Wall time of the whole run: processes, warm-up, load, drain. */
  readonly wallMs: number;
  readonly fates?: RequestFates;
}

/** Every request of a run (parallel arrays, by index in arrival order). */
export interface RequestFates {
  readonly dueMs: readonly number[];
  readonly sendLagMs: readonly number[];
  readonly latencyMs: readonly number[];
  readonly status: readonly number[];
  readonly outcome: readonly string[];
  readonly target: readonly (string | null)[];
}

export interface MachineInfo {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly node: string;
  readonly loadAverageBefore: number;
  readonly loadAverageAfter: number;
}

export interface RealLabReport {
  readonly scenario: Scenario;
  readonly seed: number;
  readonly durationMs: number;
  readonly ratePerSecond: number;
  /** Requests per run (the schedule's arrivals within the duration, the same in every run). */
  readonly requests: number;
  /** `model`: processes serving the scenario's model; `yours`: the URLs given. */
  readonly targets: 'model' | 'yours';
  readonly targetUrls: readonly string[];
  readonly machine: MachineInfo;
  /** The runs went at the same time (`together`), or one after another. */
  readonly together: boolean;
  readonly runs: readonly RealRun[];
}

/** The scenario as it runs (rate overridden; as many targets as URLs given) and what it cannot run yet. */
export function realScenario(input: Scenario, options: Pick<RealLabOptions, 'ratePerSecond' | 'targets'>): Scenario {
  const issues: string[] = [];
  let s: Scenario = options.ratePerSecond === undefined ? input : { ...input, clients: { ...input.clients, ratePerSecond: options.ratePerSecond } };
  if (s.clients.connections !== undefined) {
    issues.push('clients.connections (a target per long-lived connection) is not run on real sockets yet: the ALB picks a target per request');
  }
  const urls = options.targets;
  if (urls !== undefined) {
    if (urls.length === 0) issues.push('--targets needs at least one URL');
    if (s.kubernetes) issues.push('--targets cannot stand in for the double hop’s pods (kubernetes)');
    const modelOnly = s.events.filter((e) => e.action !== 'register' && e.action !== 'deregister');
    if (modelOnly.length > 0 || s.churn) {
      issues.push(`--targets: the scenario ${s.churn ? 'has churn' : `stops, starts or fails the health checks of targets (${modelOnly.map((e) => `${e.action} at ${e.atSeconds} s`).join(', ')})`}, which needs model targets local-elb runs itself`);
    }
    const n = urls.length;
    const tooHigh = s.events.filter((e) => e.targets.some((t) => t >= n));
    if (tooHigh.length > 0) issues.push(`--targets: ${n} URL(s), but the scenario's events name targets up to ${Math.max(...tooHigh.flatMap((e) => e.targets))}`);
    s = {
      ...s,
      targets: {
        ...s.targets,
        count: n,
        overrides: s.targets.overrides.map((o) => ({ ...o, targets: o.targets.filter((t) => t < n) })).filter((o) => o.targets.length > 0),
      },
    };
  }
  if (issues.length > 0) throw new ElbError(ErrorCodes.INVALID_ARGUMENT, `scenario ${s.name} cannot run with --real: ${issues.join('; ')}`);
  return s;
}

/**
 * The config the ALB process starts with: one ALB and one (empty) target group `lab-<i>` per
 * load balancer node. Requests with `x-lab-warmup: 1` go to a group of their own (`warmup-<i>`,
 * where every target is registered before the run), so the warm-up leaves the lab groups' pickers and counters as they were
 * created, as the simulator's are at time 0.
 */
export function realAlbConfig(scenario: Scenario, variant: Variant, healthCheckPath: string): ConfigInput {
  const nodes = Array.from({ length: variant.nodes }, (_, i) => i);
  const idleSeconds = Math.max(1, Math.ceil(scenario.loadBalancer.idleTimeoutSeconds));
  const hc = scenario.loadBalancer.healthCheck;
  return {
    targetGroups: [
      ...nodes.map((i) => ({ ...labTargetGroupInput(scenario, variant, `lab-${i}`), healthCheckPath, targets: [] })),
      // AWS allows one load balancer per target group: a warm-up group per node.
      ...nodes.map((i) => ({
        name: `${WARMUP_GROUP}-${i}`,
        protocol: 'HTTP' as const,
        healthCheckPath,
        healthCheckIntervalSeconds: hc.intervalSeconds,
        healthCheckTimeoutSeconds: hc.timeoutSeconds,
        targets: [],
      })),
    ],
    loadBalancers: nodes.map((i) => ({
      name: `node-${i}`,
      type: 'application' as const,
      attributes: { 'idle_timeout.timeout_seconds': String(idleSeconds) },
      listeners: [
        {
          port: 0,
          protocol: 'HTTP' as const,
          defaultActions: [{ type: 'forward' as const, targetGroupName: `lab-${i}` }],
          rules: [
            {
              priority: 1,
              conditions: [{ field: 'http-header' as const, httpHeaderConfig: { httpHeaderName: HEADER_WARMUP, values: ['1'] } }],
              actions: [{ type: 'forward' as const, targetGroupName: `${WARMUP_GROUP}-${i}` }],
            },
          ],
        },
      ],
    })),
  };
}

function machine(loadAverageBefore: number): MachineInfo {
  const cpus = os.cpus();
  return { cpus: cpus.length, cpuModel: cpus[0]?.model.trim() ?? 'unknown', node: process.version, loadAverageBefore, loadAverageAfter: os.loadavg()[0]! };
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason;
}

/** Runs every selected run of `input` on real sockets, one after another, and predicts each with the simulator. */
export async function runRealLab(input: Scenario, options: RealLabOptions = {}): Promise<RealLabReport> {
  const scenario = realScenario(input, options);
  const seed = options.seed ?? scenario.seed;
  const durationMs = options.durationMs ?? DEFAULT_REAL_DURATION_MS;
  if (!(durationMs > 0)) throw new ElbError(ErrorCodes.INVALID_ARGUMENT, `--duration must be above 0: got ${durationMs} ms`);
  const loadBefore = os.loadavg()[0]!;
  const userTargets = options.targets === undefined ? undefined : await Promise.all(options.targets.map(userTarget));
  const paths = new Set(userTargets?.map((t) => `${t.url.pathname}${t.url.search}`));
  if (paths.size > 1) {
    throw new ElbError(ErrorCodes.INVALID_ARGUMENT, `--targets: one target group has one health-check path and clients one path: give every URL the same path, got ${[...paths].join(', ')}`);
  }
  const runs: RealRun[] = [];
  const variants = selectVariants(scenario, options.only);
  const one = (variant: Variant, ctx: Partial<Pick<RunContext, 'epoch' | 'signal'>> = {}) => {
    throwIfAborted(options.signal);
    options.onProgress?.(`${variant.label}: starting processes`);
    return runOne(scenario, variant, { seed, durationMs, userTargets, options, signal: options.signal, ...ctx });
  };
  if (options.together) {
    // One time 0 for all: each run waits for the others to be ready; one failing stops them all.
    const inner = new AbortController();
    const forward = () => inner.abort(options.signal!.reason);
    options.signal?.addEventListener('abort', forward, { once: true });
    let waiting = variants.length;
    let release!: (epochMs: number) => void;
    const allReady = new Promise<number>((resolve) => (release = resolve));
    const epoch = () => {
      if (--waiting === 0) release(realClock.now() + 100);
      return allReady;
    };
    try {
      runs.push(
        ...(await Promise.all(
          variants.map((v) =>
            one(v, { epoch, signal: inner.signal }).catch((err: unknown) => {
              inner.abort(err);
              throw err;
            }),
          ),
        )),
      );
    } finally {
      options.signal?.removeEventListener('abort', forward);
    }
  } else for (const variant of variants) runs.push(await one(variant));
  const requests = runs[0]?.measured.requests ?? 0;
  return {
    scenario,
    seed,
    durationMs,
    ratePerSecond: scenario.clients.ratePerSecond,
    requests,
    targets: userTargets === undefined ? 'model' : 'yours',
    targetUrls: options.targets ?? [],
    machine: machine(loadBefore),
    together: options.together === true,
    runs,
  };
}

interface UserTarget {
  readonly url: URL;
  readonly id: string;
  readonly port: number;
}

async function userTarget(raw: string): Promise<UserTarget> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ElbError(ErrorCodes.INVALID_ARGUMENT, `--targets: expected http://HOST:PORT[/path] URLs: got ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== 'http:') throw new ElbError(ErrorCodes.INVALID_ARGUMENT, `--targets: only http:// targets are supported: got ${JSON.stringify(raw)}`);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const { address } = await lookup(host);
  return { url, id: address, port: Number(url.port || 80) };
}

interface RunContext {
  readonly seed: number;
  readonly durationMs: number;
  readonly userTargets: readonly UserTarget[] | undefined;
  readonly options: RealLabOptions;
  /** Stops this run (the caller's signal, or the other runs' failure when they run together). */
  readonly signal: AbortSignal | undefined;
  /** Time 0 shared with the runs alongside (together); absent: this run's own, once it is ready. */
  readonly epoch?: () => Promise<number>;
}

async function runOne(scenario: Scenario, variant: Variant, ctx: RunContext): Promise<RealRun> {
  const started = realClock.now();
  const { seed, durationMs, userTargets, options, signal } = ctx;
  const models = resolveTargetModels(scenario, seed);
  const procs = new LabProcesses();
  const timers: NodeJS.Timeout[] = [];
  let abortReject: ((reason: unknown) => void) | undefined;
  const aborted = new Promise<never>((_, reject) => (abortReject = reject));
  aborted.catch(() => {});
  const onAbort = () => abortReject?.(signal!.reason);
  if (signal?.aborted) onAbort();
  signal?.addEventListener('abort', onAbort, { once: true });
  const raceAbort = <T>(p: Promise<T>): Promise<T> => Promise.race([p, aborted]);
  const progress = (line: string) => options.onProgress?.(`${variant.label}: ${line}`);
  try {
    // Every process starts at once: local-elb (its target groups empty), the load generator, the targets.
    const runTag = randomBytes(4).toString('hex');
    const healthCheckPath = userTargets === undefined ? HEALTH_PATH : userTargets[0]!.url.pathname;
    const path = userTargets === undefined ? '/' : `${userTargets[0]!.url.pathname}${userTargets[0]!.url.search}`;
    const alb = procs.spawn('local-elb', 'alb-process', { execArgv: PROXY_NODE_FLAGS });
    const albReady = alb.request<{ type: 'ready'; ports: number[] }>({ type: 'init', config: realAlbConfig(scenario, variant, healthCheckPath), algorithm: variant.algorithm, seed, runTag }, 'ready', 60_000);
    const load = procs.spawn('load generator', 'load-process');
    // Targets: model processes (or the user's), and for the double hop the kube-proxy stand-ins in front.
    // Churn runs while clients arrive: the simulator's horizon for the same number of requests.
    const horizonMs = arrivalTimes(seed, scenario.clients.ratePerSecond, durationMs).length / (scenario.clients.ratePerSecond / 1000);
    const actions = scenarioActions(scenario, models, horizonMs);
    const stops = models.map((m) => actions.filter((a) => a.action === 'stop' && a.targets.includes(m.index)).length);
    const [targets, { ports: albPorts }] = await raceAbort(Promise.all([userTargets === undefined ? startModelTargets(procs, models, seed, stops) : undefined, albReady]));
    const failing = models.map(() => false);
    let albTargets: { id: string; port: number }[];
    let albNames: string[];
    if (scenario.kubernetes !== undefined) {
      const k = scenario.kubernetes;
      const policy = variant.externalTrafficPolicy ?? k.externalTrafficPolicy;
      const ports = await raceAbort(
        Promise.all(
          k.podsPerNode.map(async (_, node) => {
            const child = procs.spawn(`kube-proxy node-${node}`, 'kube-proxy-process');
            const init: KubeProxyInit = { type: 'init', node, seed, policy, hopLatencyMs: k.hopLatencyMs, pods: models.map((m, i) => ({ name: m.name, port: targets!.ports[i]!, node: m.kubeNode })) };
            return (await child.request<{ type: 'ready'; port: number }>(init, 'ready', 30_000)).port;
          }),
        ),
      );
      albTargets = ports.map((port) => ({ id: '127.0.0.1', port }));
      albNames = ports.map((_, node) => `node-${node}`);
    } else if (userTargets !== undefined) {
      albTargets = userTargets.map((t) => ({ id: t.id, port: t.port }));
      albNames = userTargets.map((_, i) => `t${i}`);
    } else {
      albTargets = targets!.ports.map((port) => ({ id: '127.0.0.1', port }));
      albNames = models.map((m) => m.name);
    }
    const nameOfKey = new Map(albTargets.map((t, i) => [`${t.id}:${t.port}`, albNames[i]!]));

    alb.send({ type: 'register', group: WARMUP_GROUP, targets: albTargets });
    const idleMs = Math.max(1, Math.ceil(scenario.loadBalancer.idleTimeoutSeconds)) * 1000;
    const loadInit: LoadInit = {
      type: 'init',
      urls: albPorts.map((p) => `http://127.0.0.1:${p}`),
      path,
      seed,
      ratePerSecond: scenario.clients.ratePerSecond,
      durationMs,
      service: scenario.targets.service,
      timeoutMs: idleMs + 10_000,
      keepAliveMs: Math.min(4_000, idleMs / 2),
      runTag,
    };
    const { requests } = await raceAbort(load.request<{ type: 'ready'; requests: number }>(loadInit, 'ready', 60_000));
    if (requests === 0) throw new ElbError(ErrorCodes.INVALID_ARGUMENT, `no request is due within ${durationMs} ms at ${scenario.clients.ratePerSecond}/s: make --duration longer`);

    // Register what is there from the start, wait for its first checks, warm up.
    const initial = scenario.kubernetes !== undefined ? albTargets.map((_, i) => i) : models.filter((m) => m.registerAtMs === 0).map((m) => m.index);
    alb.send({ type: 'register', targets: initial.map((i) => albTargets[i]!) });
    progress(`${requests} requests over ${(durationMs / 1000).toFixed(1)} s; waiting for ${initial.length} targets to be healthy`);
    await raceAbort(alb.request({ type: 'wait-healthy', counts: { lab: initial.length, [WARMUP_GROUP]: albTargets.length }, timeoutMs: 60_000 }, 'healthy', 65_000));
    progress(`warming up (${WARMUP_REQUESTS} requests)`);
    const warm = await raceAbort(load.request<{ type: 'warm'; ok: number; statuses: Record<string, number> }>({ type: 'warmup', path: userTargets === undefined ? WARMUP_PATH : path, count: WARMUP_REQUESTS }, 'warm', 60_000));
    if (warm.ok < WARMUP_REQUESTS) throw new Error(`the warm-up through local-elb failed: ${JSON.stringify(warm.statuses)} of ${WARMUP_REQUESTS} requests`);

    // The run: time 0 is the epoch, in every process.
    const epochMs = ctx.epoch === undefined ? realClock.now() + 100 : await raceAbort(ctx.epoch());
    if (targets !== undefined) await raceAbort(targets.setEpoch(epochMs));
    alb.send({ type: 'epoch' });
    const targetCpuBefore = targets === undefined ? undefined : await raceAbort(targetsCpu(targets.children));
    const done = load.message<LoadResult>('done', durationMs + idleMs + 120_000);
    load.send({ type: 'start', epochMs });
    progress('running');
    const applying: Promise<void>[] = [];
    for (const action of actions) {
      timers.push(
        setTimeout(() => {
          const p = apply(action).catch((err: unknown) => progress(`${action.action} of ${action.targets.map((i) => `t${i}`).join(', ')} at ${action.atMs / 1000} s failed: ${(err as Error).message}`));
          applying.push(p);
        }, Math.max(0, epochMs + action.atMs - realClock.now())),
      );
    }
    // Actions on the same target run in order (a register after the start before it); others do not wait.
    function apply(action: ScheduledAction): Promise<void> {
      const specs = action.targets.map((i) => albTargets[i]!);
      const now = (fn: () => Promise<unknown> | void) => (targets === undefined ? Promise.resolve(fn()).then(() => {}) : targets.after(action.targets, async () => void (await fn())));
      switch (action.action) {
        case 'register':
        case 'deregister':
          return now(() => alb.send({ type: action.action, targets: specs }));
        case 'fail-health-checks':
        case 'pass-health-checks':
          return now(() => {
            for (const i of action.targets) {
              failing[i] = action.action === 'fail-health-checks';
              targets!.children[i]!.send({ type: 'health', failing: failing[i] });
            }
          });
        case 'stop':
          return now(() => Promise.all(action.targets.map((i) => targets!.stop(i, failing[i]!))));
        case 'start':
          return now(() => Promise.all(action.targets.map((i) => targets!.start(i))));
      }
    }
    const result = await raceAbort(done);
    for (const t of timers) clearTimeout(t);
    await Promise.all(applying);
    const albReport = await raceAbort(alb.request<AlbReport>({ type: 'report' }, 'report', 30_000));
    const targetCpuAfter = targets === undefined ? undefined : await raceAbort(targetsCpu(targets.children));
    progress('predicting');
    const predicted = runSimulation(scenario, variant, { requests, seed });
    const measured = summarise(result, albReport, nameOfKey, scenario.kubernetes !== undefined ? models.map((m) => m.name) : albNames, predicted);
    const lag = histogram(result.sendLagMs);
    const lastEndMs = Math.max(...result.dueMs.map((d, i) => d + result.latencyMs[i]!));
    return {
      label: variant.label,
      variant,
      measured,
      predicted,
      generator: {
        offeredPerSecond: (requests * 1000) / durationMs,
        answeredPerSecond: (requests * 1000) / Math.max(durationMs, lastEndMs),
        sendLagMs: { p50: lag.at(50), p99: lag.at(99), max: lag.max },
        lateSends: result.sendLagMs.filter((l) => l > LATE_SEND_MS).length,
        peakConnections: result.peakConnections,
        waitedForConnection: result.waitedForConnection,
        cpuShare: result.cpuUs / 1000 / result.wallMs,
      },
      proxyCpuShare: albReport.cpuUs / 1000 / albReport.wallMs,
      proxyCpuMs: albReport.cpuUs / 1000,
      targetsCpuShare:
        targetCpuBefore === undefined || targetCpuAfter === undefined || targets!.restarted ? undefined : (targetCpuAfter - targetCpuBefore) / 1000 / (realClock.now() - epochMs),
      wallMs: realClock.now() - started,
      ...(options.keepFates ? { fates: fatesOf(result, albReport, nameOfKey) } : {}),
    };
  } finally {
    for (const t of timers) clearTimeout(t);
    signal?.removeEventListener('abort', onAbort);
    await procs.stopAll();
  }
}

async function targetsCpu(children: readonly LabChild[]): Promise<number> {
  const stats = await Promise.all(children.filter((c) => c.running).map((c) => c.request<{ type: 'stats'; cpuUs: number }>({ type: 'stats' }, 'stats', 10_000)));
  return stats.reduce((a, s) => a + s.cpuUs, 0);
}

/** The model target processes of one run, with what the scenario's actions do to them. */
interface ModelTargets {
  readonly ports: readonly number[];
  /** The current process of each target. */
  readonly children: LabChild[];
  /** True once a target was stopped (its CPU time went with it). */
  readonly restarted: boolean;
  /** Time 0 of the run, for every process (and the standbys to come). */
  setEpoch(epochMs: number): Promise<void>;
  /** Runs `fn` once every earlier action on these targets is done: a register waits for the start before it. */
  after(indices: readonly number[], fn: () => Promise<void> | void): Promise<void>;
  /** The process dies (SIGKILL); its standby takes its place, not listening until `start`. */
  stop(index: number, failing: boolean): Promise<void>;
  /** The process starts in the scenario: it listens, and its warm-up runs from now. */
  start(index: number): Promise<void>;
}

/**
 * Starts a process per target (listening, warm) and, for each target the scenario stops, a
 * standby beside it, already started and waiting unlistening on the same port, so that a
 * `start` after a `stop` is as quick as in the model rather than a Node start-up later.
 */
async function startModelTargets(procs: LabProcesses, models: readonly TargetModelSpec[], seed: number, stops: readonly number[]): Promise<ModelTargets> {
  let epochMs: number | undefined;
  const spawn = (spec: TargetModelSpec) => procs.spawn(`target ${spec.name}`, 'target-process');
  const init = async (child: LabChild, spec: TargetModelSpec, port: number, listen: boolean): Promise<number> => {
    const ready = await child.request<{ type: 'ready'; port: number }>({ type: 'init', spec, seed, port, listen } satisfies TargetInit, 'ready', 60_000);
    if (epochMs !== undefined) await child.request({ type: 'epoch', epochMs }, 'epoch-set', 10_000);
    return ready.port;
  };
  const firstChildren = models.map(spawn);
  const standbyChildren = models.map((m, i) => (stops[i]! > 0 ? spawn(m) : undefined));
  const ports = await Promise.all(models.map((m, i) => init(firstChildren[i]!, m, 0, true)));
  const children = [...firstChildren];
  const left = [...stops];
  const standbys: (Promise<LabChild> | undefined)[] = standbyChildren.map((c, i) => (c === undefined ? undefined : init(c, models[i]!, ports[i]!, false).then(() => c)));
  await Promise.all(standbys);
  const chains: Promise<void>[] = models.map(() => Promise.resolve());
  let restarted = false;
  return {
    ports,
    children,
    get restarted() {
      return restarted;
    },
    async setEpoch(ms) {
      epochMs = ms;
      const all = [...children, ...(await Promise.all(standbys.filter((s) => s !== undefined)))];
      await Promise.all(all.map((c) => c.request({ type: 'epoch', epochMs: ms }, 'epoch-set', 10_000)));
    },
    after(indices, fn) {
      const done = Promise.all(indices.map((i) => chains[i]!)).then(fn);
      for (const i of indices) chains[i] = done.then(() => {});
      return done.then(() => {});
    },
    async stop(index, failing) {
      restarted = true;
      await procs.kill(children[index]!);
      left[index]!--;
      const standby = standbys[index];
      if (standby === undefined) throw new Error(`target ${models[index]!.name} has no standby process to start later`);
      children[index] = await standby;
      standbys[index] = left[index]! > 0 ? (async () => {
        const c = spawn(models[index]!);
        await init(c, models[index]!, ports[index]!, false);
        return c;
      })() : undefined;
      if (failing) children[index]!.send({ type: 'health', failing });
    },
    async start(index) {
      await children[index]!.request({ type: 'start' }, 'started', 10_000);
    },
  };
}

interface Hist {
  at(percentile: number): number;
  readonly max: number;
  readonly count: number;
}

/** Percentiles of `valuesMs` from an HDR histogram in µs (3 significant digits). */
function histogram(valuesMs: readonly number[]): Hist {
  const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });
  for (const v of valuesMs) h.recordValue(Math.max(1, Math.round(v * 1000)));
  const out = { at: (p: number) => (h.totalCount === 0 ? 0 : h.getValueAtPercentile(p) / 1000), max: h.maxValue / 1000, count: h.totalCount };
  return out;
}

/** What a request's fate was, as the report groups them. */
function outcomeOf(status: number, errorCode: string | null, elb: { producedBy: 'elb' | 'target'; errorCode: string | null } | undefined): string {
  if (status === 0) return errorCode === 'timeout' ? 'client timeout' : `no answer (${errorCode ?? 'unknown'})`;
  if (status < 400) return 'ok';
  if (elb?.producedBy === 'elb') return `${status} ELB${elb.errorCode ? ` ${elb.errorCode}` : ''}`;
  return `target ${status}`;
}

function summarise(result: LoadResult, alb: AlbReport, nameOfKey: ReadonlyMap<string, string>, names: readonly string[], predicted: RunResult): MeasuredRun {
  const elbByIndex = new Map(alb.records.map((r) => [r[0], r] as const));
  const perTarget = new Map(names.map((n) => [n, { requests: 0, errors: 0 }]));
  const errorsBy: Record<string, number> = {};
  let ok = 0;
  let unrouted = 0;
  for (let i = 0; i < result.requests; i++) {
    const rec = elbByIndex.get(i);
    const outcome = outcomeOf(result.status[i]!, result.errorCode[i] ?? null, rec ? { producedBy: rec[3], errorCode: rec[4] } : undefined);
    const name = result.target[i] ?? (rec?.[1] ? nameOfKey.get(rec[1]) : undefined);
    const t = name === undefined ? undefined : perTarget.get(name);
    if (t === undefined) unrouted++;
    else t.requests++;
    if (outcome === 'ok') ok++;
    else {
      errorsBy[outcome] = (errorsBy[outcome] ?? 0) + 1;
      if (t) t.errors++;
    }
  }
  const routed = result.requests - unrouted;
  const targets = names.map((name) => {
    const t = perTarget.get(name)!;
    return { name, requests: t.requests, share: routed === 0 ? 0 : t.requests / routed, errors: t.errors };
  });
  const h = histogram(result.latencyMs);
  let sum = 0;
  for (const l of result.latencyMs) sum += l;
  return {
    requests: result.requests,
    ok,
    errors: result.requests - ok,
    errorsBy,
    latencyMs: { p50: h.at(50), p90: h.at(90), p99: h.at(99), p999: h.at(99.9), mean: result.requests === 0 ? 0 : sum / result.requests, max: h.max },
    cdf: predicted.cdf.map((p) => ({ fraction: p.fraction, latencyMs: h.at(p.fraction * 100) })),
    targets,
    imbalance: targets.reduce((m, t) => Math.max(m, t.share), 0) * targets.length,
    unrouted,
  };
}

function fatesOf(result: LoadResult, alb: AlbReport, nameOfKey: ReadonlyMap<string, string>): RequestFates {
  const elbByIndex = new Map(alb.records.map((r) => [r[0], r] as const));
  const outcome: string[] = [];
  const target: (string | null)[] = [];
  for (let i = 0; i < result.requests; i++) {
    const rec = elbByIndex.get(i);
    outcome.push(outcomeOf(result.status[i]!, result.errorCode[i] ?? null, rec ? { producedBy: rec[3], errorCode: rec[4] } : undefined));
    target.push(result.target[i] ?? (rec?.[1] ? (nameOfKey.get(rec[1]) ?? rec[1]) : null));
  }
  return { dueMs: result.dueMs, sendLagMs: result.sendLagMs, latencyMs: result.latencyMs, status: result.status, outcome, target };
}
