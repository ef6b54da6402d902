/**
 * L7 real-socket benchmark (issue #9): local-elb's ALB against the bare undici proxy it is
 * built on, http-proxy, HAProxy and nginx, and the targets reached directly. Every system
 * runs in its own process, the targets in another and the load generator in a third, so the
 * generator never shares the proxy's event loop.
 *
 * Two measurements per system:
 * - saturation (closed loop): wrk keeps `--connections` busy; requests/s, p50/p99/p99.9, and
 *   the proxy's CPU time per request (its process tree's utime + stime from /proc), which is
 *   steadier than requests/s on a shared VM because stolen time is not counted;
 * - fixed rate (open loop): bench/l7/open-loop.ts sends `--rate` req/s on a timetable over the
 *   same connections and measures from each request's due time (no coordinated omission);
 *   the tail the proxy adds is its p99 (p99.9) minus direct-to-target's.
 *
 * With `--pin` (taskset), the load generator, the targets and this process share core 0 and
 * the proxy under test has core 1 to itself. Rounds are interleaved (each round runs every
 * system once, in turn) so drift on a shared machine hits all of them; the report gives
 * medians over rounds, each percentile separately, and how much CPU processes this bench did
 * not start took during the worst round, so a disturbed run shows as one. Ratios are only
 * against baselines measured in the same run.
 *
 *   scripts/node24 node bench/l7.bench.ts [--pin] [--rounds 5] [--mode both|saturation|fixed]
 *     [--duration 5] [--warmup 5] [--connections 50] [--threads 1] [--rate 4000]
 *     [--loadgen auto|wrk|autocannon] [--targets auto|node|nginx]
 *     [--only undici,local-elb-rr,local-elb-lor,http-proxy,haproxy,nginx]
 *
 * Each option may also come from the environment: L7_BENCH_PIN=1, L7_BENCH_DURATION, ….
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { trafficNodeFlags } from '../bin/node-flags.js';
import { TARGET_BODY } from './l7/child.ts';
import { haproxyConfig, nginxInheritedEnv, nginxProxyConfig, nginxTargetsConfig } from './l7/external.ts';
import { findLoadGenerator, runOpenLoop, type LoadGenerator, type LoadResult, type OpenLoopResult } from './l7/load-generator.ts';
import { watchInterference, type Interference } from './support/interference.ts';
import { machineLine, table } from './support/machine.ts';
import {
  allowedCpus,
  Child,
  cpuTimeMs,
  onPath,
  pinThisProcess,
  ProcessGroup,
  reserveListener,
  ScratchDir,
  spawnWithListeners,
  startNodeChild,
  stopChildrenOnExit,
  toolVersion,
  untilAnswering,
} from './support/processes.ts';

const TARGET_COUNT = 3;
const READY_TIMEOUT_MS = 20_000;
/**
 * Seconds sent at the fixed rate before recording starts. The saturation warm-up before it
 * (--warmup, 5 s) is what lets V8 finish compiling a Node proxy's hot path: with 1 s, its
 * TurboFan compiles (5–10 ms each, on the proxy's only core) still land in the measurement and
 * show as a p99 of 4–5 ms instead of 1.7–2.
 */
const OPEN_LOOP_SETTLE_SECONDS = 1;
const SYSTEM_IDS = ['undici', 'local-elb-rr', 'local-elb-lor', 'local-elb-rr-v8-default', 'http-proxy', 'haproxy', 'nginx'] as const;
const MODES = ['both', 'saturation', 'fixed'] as const;
/**
 * A fixed-rate run did not sustain `--rate` when it achieved less than this share of it, or
 * when more than LATE_SHARE_BEHIND of its sends waited for a late response: it was queueing.
 */
const SUSTAINED_SHARE = 0.98;
const LATE_SHARE_BEHIND = 0.5;
/**
 * Added tail latencies under this are inside the open-loop generator's own timing noise (its
 * timers are good to about a millisecond): no ratio is taken to one.
 */
const ADDED_NOISE_FLOOR_MS = 0.5;

interface Options {
  readonly durationSeconds: number;
  readonly warmupSeconds: number;
  readonly connections: number;
  readonly threads: number;
  readonly rounds: number;
  readonly rate: number;
  readonly mode: (typeof MODES)[number];
  readonly pin: boolean;
  readonly loadgen: 'auto' | 'wrk' | 'autocannon';
  readonly targets: 'auto' | 'node' | 'nginx';
  readonly only: ReadonlySet<string> | undefined;
}

/** Which CPUs each role runs on (`taskset -c` lists); all undefined when unpinned. */
interface Placement {
  readonly generator?: string;
  readonly targets?: string;
  readonly proxy?: string;
  /** For the header: the layout, or why there is none. */
  readonly description: string;
}

/** A system under test, started when its turn comes and stopped right after. */
interface System {
  readonly id: string;
  readonly label: string;
  /** Why it cannot run here (binary not installed), printed instead of a row. */
  readonly missing?: string;
  start(): Promise<Running>;
}

interface Running {
  readonly url: string;
  /** The proxy process whose CPU time is reported; none for direct-to-target. */
  readonly child?: Child;
}

/**
 * What else the machine did during one measurement, in % of one core: CPU used by processes
 * this bench did not start (other people's jobs on a shared VM, kernel threads), and time the
 * hypervisor stole. A disturbed round shows here; the medians over rounds are meant to absorb it.
 */
interface Saturation {
  readonly result: LoadResult;
  readonly cpuUsPerRequest?: number;
  readonly interference?: Interference;
}

interface FixedRate {
  readonly result: OpenLoopResult;
  readonly interference?: Interference;
}

interface Row {
  readonly system: System;
  readonly saturation: Saturation[];
  readonly fixed: FixedRate[];
  note?: string;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string' },
      threads: { type: 'string' },
      rounds: { type: 'string' },
      rate: { type: 'string' },
      mode: { type: 'string' },
      pin: { type: 'boolean' },
      loadgen: { type: 'string' },
      targets: { type: 'string' },
      only: { type: 'string' },
    },
  });
  type Name = Exclude<keyof typeof values, 'pin'>;
  const pick = (name: Name, fallback: string) => values[name] ?? process.env[`L7_BENCH_${name.toUpperCase()}`] ?? fallback;
  const int = (name: Name, fallback: number, min: number) => {
    const raw = pick(name, String(fallback));
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) throw new RangeError(`--${name} must be an integer >= ${min}: got ${JSON.stringify(raw)}`);
    return n;
  };
  const oneOf = <T extends string>(name: Name, allowed: readonly T[]): T => {
    const raw = pick(name, allowed[0]!);
    if (!(allowed as readonly string[]).includes(raw)) throw new RangeError(`--${name} must be one of ${allowed.join(' | ')}: got ${JSON.stringify(raw)}`);
    return raw as T;
  };
  const pinEnv = process.env.L7_BENCH_PIN ?? '';
  if (!['', '0', '1', 'true', 'false'].includes(pinEnv)) throw new RangeError(`L7_BENCH_PIN must be 1 or 0: got ${JSON.stringify(pinEnv)}`);
  const pin = values.pin ?? (pinEnv === '1' || pinEnv === 'true');
  const onlyRaw = pick('only', '');
  const only = onlyRaw === '' ? undefined : new Set(onlyRaw.split(',').map((s) => s.trim()));
  for (const id of only ?? []) {
    if (!(SYSTEM_IDS as readonly string[]).includes(id)) throw new RangeError(`--only takes ${SYSTEM_IDS.join(', ')} (direct always runs): got ${JSON.stringify(id)}`);
  }
  return {
    durationSeconds: int('duration', 5, 1),
    warmupSeconds: int('warmup', 5, 0),
    connections: int('connections', 50, 1),
    threads: int('threads', 1, 1),
    rounds: int('rounds', pin ? 5 : 1, 1),
    rate: int('rate', 4000, 1),
    mode: oneOf('mode', MODES),
    pin,
    loadgen: oneOf('loadgen', ['auto', 'wrk', 'autocannon']),
    targets: oneOf('targets', ['auto', 'node', 'nginx']),
    only,
  };
}

/**
 * The first allowed core for the generator, the targets and this process; the second for the
 * proxy alone. Everything the bench starts later inherits the first unless told otherwise.
 */
function placement(pin: boolean): Placement {
  if (!pin) return { description: 'none (every process may run on any core; --pin puts the proxy alone on a core)' };
  if (onPath('taskset') === undefined) return { description: 'none: --pin needs taskset (util-linux), which is not on PATH, so this run is unpinned' };
  const [shared, alone] = allowedCpus().map(String);
  if (shared === undefined || alone === undefined) return { description: 'none: --pin needs 2 cores this process may use (Cpus_allowed_list in /proc/self/status), so this run is unpinned' };
  pinThisProcess(shared);
  return {
    generator: shared,
    targets: shared,
    proxy: alone,
    description: `taskset: core ${shared} = load generator + targets + this bench process; core ${alone} = the proxy under test alone`,
  };
}

const group = new ProcessGroup();
const scratch = new ScratchDir('local-elb-bench-');
stopChildrenOnExit(group, () => scratch.remove());

const untilOk = (url: string, child: Child | undefined, what: string) => untilAnswering(url, child, what, READY_TIMEOUT_MS);

async function startTargets(kind: 'node' | 'nginx', cpus: string | undefined): Promise<{ ports: readonly number[]; description: string }> {
  if (kind === 'node') {
    const script = path.join(import.meta.dirname, 'support', 'child-targets.ts');
    const { ports } = await startNodeChild(group, 'targets', script, [String(TARGET_COUNT)], READY_TIMEOUT_MS, { cpus });
    return { ports, description: `${TARGET_COUNT} Node http servers in one process` };
  }
  const nginx = onPath('nginx')!;
  const listeners = await Promise.all(Array.from({ length: TARGET_COUNT }, () => reserveListener()));
  const ports = listeners.map((l) => l.port);
  const dir = scratch.dir('nginx-targets');
  writeFileSync(path.join(dir, 'nginx.conf'), nginxTargetsConfig(dir, ports));
  const args = ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', 'stderr'];
  const child = spawnWithListeners(group, 'nginx targets', nginx, args, listeners, { ...process.env, NGINX: nginxInheritedEnv(listeners.length) }, cpus);
  for (const port of ports) await untilOk(`http://127.0.0.1:${port}/`, child, 'nginx targets');
  return { ports, description: `${TARGET_COUNT} nginx ${toolVersion(nginx, ['-v'], /nginx\/(\S+)/)} servers in one worker process` };
}

function packageVersion(name: string): string {
  const require = createRequire(import.meta.url);
  return (JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as { version: string }).version;
}

function systems(targetPorts: readonly number[], cpus: string | undefined): System[] {
  const portList = targetPorts.join(',');
  const haproxy = onPath('haproxy');
  const nginx = onPath('nginx');
  const nodeProxy = (script: string, args: readonly string[], what: string, nodeArgs: readonly string[] = []) => async (): Promise<Running> => {
    const { child, ports } = await startNodeChild(group, what, path.join(import.meta.dirname, 'l7', script), args, READY_TIMEOUT_MS, { cpus, nodeArgs });
    return { url: `http://127.0.0.1:${ports[0]}/`, child };
  };
  // local-elb runs with the Node flags `local-elb serve` starts itself with (bin/node-flags.js).
  const served = trafficNodeFlags();
  return [
    { id: 'direct', label: 'direct to one target (no proxy)', start: async () => ({ url: `http://127.0.0.1:${targetPorts[0]}/` }) },
    {
      id: 'undici',
      label: `bare undici ${packageVersion('undici')} proxy (baseline)`,
      start: nodeProxy('child-undici.ts', [portList], 'undici proxy'),
    },
    {
      id: 'local-elb-rr',
      label: 'local-elb ALB, round_robin',
      start: nodeProxy('child-local-elb.ts', ['round_robin', portList], 'local-elb (round_robin)', served),
    },
    {
      id: 'local-elb-lor',
      label: 'local-elb ALB, least_outstanding_requests',
      start: nodeProxy('child-local-elb.ts', ['least_outstanding_requests', portList], 'local-elb (least_outstanding_requests)', served),
    },
    {
      id: 'local-elb-rr-v8-default',
      label: "local-elb ALB, round_robin, V8's default young generation",
      start: nodeProxy('child-local-elb.ts', ['round_robin', portList], 'local-elb (round_robin, default heap)'),
    },
    {
      id: 'http-proxy',
      label: `http-proxy ${packageVersion('http-proxy')}, keep-alive agent`,
      start: nodeProxy('child-http-proxy.ts', [portList], 'http-proxy'),
    },
    {
      id: 'haproxy',
      label: haproxy ? `HAProxy ${toolVersion(haproxy, ['-v'], /version (\d[\w.]*)/)}, 1 thread, http-reuse always` : 'HAProxy',
      ...(haproxy ? {} : { missing: 'haproxy is not on PATH; on Debian: apt-get install haproxy' }),
      async start() {
        const listener = await reserveListener();
        const dir = scratch.dir('haproxy');
        writeFileSync(path.join(dir, 'haproxy.cfg'), haproxyConfig(targetPorts));
        const child = spawnWithListeners(group, 'haproxy', haproxy!, ['-db', '-f', path.join(dir, 'haproxy.cfg')], [listener], process.env, cpus);
        return { url: `http://127.0.0.1:${listener.port}/`, child };
      },
    },
    {
      id: 'nginx',
      label: nginx ? `nginx ${toolVersion(nginx, ['-v'], /nginx\/(\S+)/)} proxy_pass, 1 worker` : 'nginx proxy',
      ...(nginx ? {} : { missing: 'nginx is not on PATH; on Debian: apt-get install nginx' }),
      async start() {
        const listener = await reserveListener();
        const dir = scratch.dir('nginx-proxy');
        writeFileSync(path.join(dir, 'nginx.conf'), nginxProxyConfig(dir, listener.port, targetPorts));
        const args = ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', 'stderr'];
        const child = spawnWithListeners(group, 'nginx proxy', nginx!, args, [listener], { ...process.env, NGINX: nginxInheritedEnv(1) }, cpus);
        return { url: `http://127.0.0.1:${listener.port}/`, child };
      },
    },
  ];
}

function assertStillRunning(running: Running, system: System): void {
  if (running.child !== undefined && !running.child.running) throw new Error(`${system.label} exited during the run: ${running.child.stderrTail()}`);
}

/**
 * Starts `system`, warms it up at saturation (a Node proxy's hot path is compiled and its
 * pools are full only after some ten thousand requests, which 1 s at a fixed 4000 req/s does
 * not reach), runs the measurements `--mode` asks for, and stops it.
 */
async function measure(system: System, gen: LoadGenerator, options: Options, where: Placement): Promise<{ saturation?: Saturation; fixed?: FixedRate }> {
  const running = await system.start();
  try {
    await untilOk(running.url, running.child, system.label);
    const load = { connections: options.connections, threads: options.threads, cpus: where.generator };
    if (options.warmupSeconds > 0) await gen.run(group, running.url, { ...load, durationSeconds: options.warmupSeconds });
    let saturation: Saturation | undefined;
    if (options.mode !== 'fixed') {
      const pid = running.child?.pid;
      const cpuBefore = pid === undefined ? undefined : cpuTimeMs(pid);
      const interference = watchInterference();
      const result = await gen.run(group, running.url, { ...load, durationSeconds: options.durationSeconds });
      const cpuAfter = pid === undefined ? undefined : cpuTimeMs(pid);
      saturation = { result, interference: interference() };
      assertStillRunning(running, system);
      if (cpuBefore !== undefined && cpuAfter !== undefined) saturation = { ...saturation, cpuUsPerRequest: ((cpuAfter - cpuBefore) * 1000) / Math.max(1, result.requests) };
    }
    let fixed: FixedRate | undefined;
    if (options.mode !== 'saturation') {
      const interference = watchInterference();
      const result = await runOpenLoop(group, running.url, {
        connections: options.connections,
        rate: options.rate,
        warmupSeconds: OPEN_LOOP_SETTLE_SECONDS,
        durationSeconds: options.durationSeconds,
        cpus: where.generator,
      });
      fixed = { result, interference: interference() };
      assertStillRunning(running, system);
    }
    return { ...(saturation ? { saturation } : {}), ...(fixed ? { fixed } : {}) };
  } finally {
    if (running.child !== undefined) await group.stop(running.child);
  }
}

const fixed = (n: number | undefined, digits: number) => (n === undefined || !Number.isFinite(n) ? '-' : n.toFixed(digits));
const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined && b > 0 && Number.isFinite(a / b) ? `${(a / b).toFixed(2)}×` : '-');
const sum = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0);

/** The median (mean of the middle two when even); undefined for no values. */
function median(values: readonly (number | undefined)[]): number | undefined {
  const sorted = values.filter((v): v is number => v !== undefined).sort((a, b) => a - b);
  if (sorted.length === 0) return undefined;
  const mid = sorted.length / 2;
  return Number.isInteger(mid) ? (sorted[mid - 1]! + sorted[mid]!) / 2 : sorted[Math.floor(mid)]!;
}

/** Medians over rounds of one system's saturation runs. */
function saturationMedians(runs: readonly Saturation[]) {
  return {
    rps: median(runs.map((r) => r.result.requestsPerSecond)),
    p50: median(runs.map((r) => r.result.p50Ms)),
    p99: median(runs.map((r) => r.result.p99Ms)),
    p999: median(runs.map((r) => r.result.p999Ms)),
    cpu: median(runs.map((r) => r.cpuUsPerRequest)),
  };
}

function fixedMedians(runs: readonly FixedRate[]) {
  return {
    achieved: median(runs.map((r) => r.result.achievedRate)),
    p50: median(runs.map((r) => r.result.p50Ms)),
    p99: median(runs.map((r) => r.result.p99Ms)),
    p999: median(runs.map((r) => r.result.p999Ms)),
  };
}

/** The most any round was disturbed: other processes' CPU, and steal, in % of one core. */
function worstInterference(runs: readonly { readonly interference?: Interference | undefined }[]): string {
  const seen = runs.flatMap((r) => (r.interference === undefined ? [] : [r.interference]));
  if (seen.length === 0) return '-';
  const other = Math.max(...seen.map((i) => i.otherPercent));
  const steal = Math.max(...seen.map((i) => i.stealPercent));
  return `${fixed(other, 0)}%${steal >= 0.5 ? ` +${fixed(steal, 0)}% steal` : ''}`;
}

function saturationReport(rows: readonly Row[], rounds: number): string {
  const medians = new Map(rows.map((r) => [r.system.id, saturationMedians(r.saturation)]));
  const haproxy = medians.get('haproxy');
  const undici = medians.get('undici');
  const body = rows.flatMap(({ system, saturation: runs }) => {
    if (runs.length === 0) return [];
    const m = medians.get(system.id)!;
    const rps = runs.map((x) => x.result.requestsPerSecond);
    return [
      [
        system.label,
        fixed(m.rps, 0),
        ...(rounds > 1 ? [`${fixed(Math.min(...rps), 0)}–${fixed(Math.max(...rps), 0)}`] : []),
        fixed(m.p50, 2),
        fixed(m.p99, 2),
        fixed(m.p999, 2),
        fixed(m.cpu, 1),
        ratio(m.rps, haproxy?.rps),
        ratio(m.rps, undici?.rps),
        ratio(m.cpu, undici?.cpu),
        String(sum(runs.map((x) => x.result.errors))),
        worstInterference(runs),
      ],
    ];
  });
  const header = [
    'system',
    'req/s',
    ...(rounds > 1 ? ['req/s range'] : []),
    'p50 ms',
    'p99 ms',
    'p99.9 ms',
    'CPU µs/req',
    'req/s vs HAProxy',
    'req/s vs undici',
    'CPU/req vs undici',
    'errors',
    'other load',
  ];
  return table(header, body);
}

function fixedReport(rows: readonly Row[], options: Options): { table: string; notes: string[] } {
  const medians = new Map(rows.map((r) => [r.system.id, fixedMedians(r.fixed)]));
  const direct = medians.get('direct');
  const sub = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? undefined : a - b);
  const added = (m: ReturnType<typeof fixedMedians> | undefined) =>
    m === undefined || direct === undefined ? undefined : { p99: sub(m.p99, direct.p99), p999: sub(m.p999, direct.p999) };
  const haproxy = added(medians.get('haproxy'));
  const vsHaproxy = (a: number | undefined, h: number | undefined) => (h !== undefined && h >= ADDED_NOISE_FLOOR_MS ? ratio(a, h) : '-');
  const notes: string[] = [];
  for (const [what, h] of [['p99', haproxy?.p99], ['p99.9', haproxy?.p999]] as const) {
    if (h !== undefined && h < ADDED_NOISE_FLOOR_MS) {
      notes.push(`HAProxy's added ${what} (${fixed(h, 2)} ms) is under ${ADDED_NOISE_FLOOR_MS} ms, inside the generator's timing noise: no ratios to it; compare the added ms`);
    }
  }
  const body = rows.flatMap(({ system, fixed: measured }) => {
    if (measured.length === 0) return [];
    const runs = measured.map((r) => r.result);
    const m = medians.get(system.id)!;
    const isDirect = system.id === 'direct';
    const a = isDirect ? undefined : added(m);
    const sends = sum(runs.map((r) => r.sends));
    const lateShare = sum(runs.map((r) => r.lateSends)) / Math.max(1, sends);
    const unsent = sum(runs.map((r) => r.unsent));
    if (unsent > 0 || (m.achieved ?? 0) < options.rate * SUSTAINED_SHARE || lateShare > LATE_SHARE_BEHIND) {
      notes.push(
        `did not sustain the rate: ${system.label}: median ${fixed(m.achieved, 0)} of ${options.rate} req/s achieved, ${fixed(100 * lateShare, 0)}% of sends late, ` +
          `${unsent} due requests never sent over ${runs.length} round(s); its latencies are mostly queueing`,
      );
    }
    return [
      [
        system.label,
        fixed(m.achieved, 0),
        fixed(m.p50, 2),
        fixed(m.p99, 2),
        fixed(m.p999, 2),
        fixed(a?.p99, 2),
        vsHaproxy(a?.p99, haproxy?.p99),
        fixed(a?.p999, 2),
        vsHaproxy(a?.p999, haproxy?.p999),
        `${fixed(100 * lateShare, 2)}%`,
        fixed(median(runs.map((r) => r.sendLagP99Ms)), 2),
        String(sum(runs.map((r) => r.errors))),
        worstInterference(measured),
      ],
    ];
  });
  const header = [
    'system',
    'achieved req/s',
    'p50 ms',
    'p99 ms',
    'p99.9 ms',
    'added p99 ms',
    'added p99 vs HAProxy',
    'added p99.9 ms',
    'added p99.9 vs HAProxy',
    'late sends',
    'send lag p99 ms',
    'errors',
    'other load',
  ];
  return { table: table(header, body), notes };
}

const OTHER_LOAD_LEGEND =
  'other load: the worst round\'s CPU use by processes this bench did not start (and steal), in % of one core; a high one marks a disturbed round';
const SATURATION_LEGEND = [
  'req/s: median over rounds; req/s range: lowest–highest round',
  'p50/p99/p99.9 ms: wrk latency percentiles (closed loop, so queueing hides in them), each the median over rounds',
  'CPU µs/req: proxy process tree user+system CPU (/proc) during the measured run ÷ requests; excludes stolen time',
  'vs HAProxy, vs undici: this row ÷ that row, both measured in this run',
  OTHER_LOAD_LEGEND,
];
const FIXED_LEGEND = [
  'achieved req/s: responses to requests due in the measured window ÷ the time from its start to its end or the last response, if later (median over rounds)',
  'p50/p99/p99.9 ms: from each request\'s due time to its response\'s end (no coordinated omission), each the median over rounds',
  'added p99 (p99.9) ms: this system\'s p99 (p99.9) − direct-to-target\'s in this run: the tail the proxy adds; near 0 or below is within noise',
  `added … vs HAProxy: this row's added tail ÷ HAProxy's added tail (- when HAProxy's is under ${ADDED_NOISE_FLOOR_MS} ms)`,
  'late sends: sends more than 1 ms after their due time, all rounds: the previous response on that connection was late, or the generator was',
  'send lag p99 ms: send time − due time at p99 (timer error plus waits for late responses), median over rounds; direct\'s is the generator\'s own',
  OTHER_LOAD_LEGEND,
];

async function main(): Promise<void> {
  const options = parseOptions();
  const machine = machineLine();
  const where = placement(options.pin);
  const gen = findLoadGenerator(options.loadgen, scratch.dir('wrk'));
  const targetsKind = options.targets === 'auto' ? (onPath('nginx') ? 'nginx' : 'node') : options.targets;
  if (targetsKind === 'nginx' && !onPath('nginx')) throw new Error('--targets nginx: nginx is not on PATH');

  console.log('local-elb L7 benchmark (bench/l7.bench.ts)');
  console.log(machine);
  console.log(`pinning: ${where.description}`);
  console.log(
    `rounds: ${options.rounds}, interleaved (each round runs every system once, in turn); per system and round: ${options.warmupSeconds} s warm-up at saturation, ` +
      `then ${options.mode === 'both' ? 'each measurement' : 'the measurement'} (${options.mode === 'saturation' ? '' : `${OPEN_LOOP_SETTLE_SECONDS} s unrecorded at the rate + `}${options.durationSeconds} s)`,
  );
  if (options.mode !== 'fixed') {
    console.log(
      `saturation: ${gen.version}${gen.name === 'wrk' ? `, ${Math.min(options.threads, options.connections)} thread(s)` : ''}, ${options.connections} keep-alive connections, closed loop, GET /`,
    );
  }
  if (options.mode !== 'saturation') {
    console.log(`fixed rate: bench/l7/open-loop.ts (Node ${process.version} without TurboFan, raw keep-alive sockets), ${options.rate} req/s over ${options.connections} keep-alive connections, open loop, GET /`);
  }
  if (gen.name === 'autocannon' && options.mode !== 'fixed') console.log('note: autocannon reports latency percentiles in whole milliseconds; install wrk for finer ones');
  const targets = await startTargets(targetsKind, where.targets);
  console.log(`targets: ${targets.description}, each answering 200 with a ${Buffer.byteLength(TARGET_BODY)}-byte body and keep-alive`);
  console.log(
    where.proxy === undefined
      ? `every process shares these ${os.availableParallelism()} cores; compare ratios within one run, not numbers across machines\n`
      : 'compare ratios within one run, not numbers across machines\n',
  );

  const rows: Row[] = systems(targets.ports, where.proxy)
    .filter((system) => system.id === 'direct' || options.only === undefined || options.only.has(system.id))
    .map((system) => ({ system, saturation: [], fixed: [], ...(system.missing !== undefined ? { note: `skipped (${system.missing})` } : {}) }));
  for (const row of rows) if (row.note !== undefined) console.log(`- ${row.system.label}: ${row.note}`);
  for (let round = 1; round <= options.rounds; round++) {
    console.log(`round ${round} of ${options.rounds}`);
    for (const row of rows) {
      if (row.note !== undefined) continue;
      try {
        const m = await measure(row.system, gen, options, where);
        const parts: string[] = [];
        if (m.saturation !== undefined) {
          row.saturation.push(m.saturation);
          const r = m.saturation.result;
          parts.push(
            `saturation ${fixed(r.requestsPerSecond, 0)} req/s, p50 ${fixed(r.p50Ms, 2)} p99 ${fixed(r.p99Ms, 2)} p99.9 ${fixed(r.p999Ms, 2)} ms` +
              `${m.saturation.cpuUsPerRequest !== undefined ? `, ${fixed(m.saturation.cpuUsPerRequest, 1)} µs CPU/req` : ''}${r.errors > 0 ? `, ${r.errors} errors` : ''}` +
              `, other load ${worstInterference([m.saturation])}`,
          );
        }
        if (m.fixed !== undefined) {
          row.fixed.push(m.fixed);
          const f = m.fixed.result;
          parts.push(
            `fixed ${fixed(f.achievedRate, 0)} req/s, p50 ${fixed(f.p50Ms, 2)} p99 ${fixed(f.p99Ms, 2)} p99.9 ${fixed(f.p999Ms, 2)} ms, ` +
              `${f.lateSends} late sends${f.unsent > 0 ? `, ${f.unsent} never sent` : ''}${f.errors > 0 ? `, ${f.errors} errors` : ''}, other load ${worstInterference([m.fixed])}`,
          );
        }
        console.log(`- ${row.system.label}: ${parts.join('; ')}`);
      } catch (err) {
        if (group.stopping) return;
        if (row.system.id === 'direct') throw err;
        const message = err instanceof Error ? err.message : String(err);
        row.note = `failed (${message})`;
        console.log(`- ${row.system.label}: ${row.note}`);
      }
    }
  }

  const over = options.rounds > 1 ? `medians over ${options.rounds} rounds` : '1 round';
  if (options.mode !== 'fixed') {
    console.log(`\nsaturation (closed loop, ${options.connections} connections; ${over}):`);
    console.log(saturationReport(rows, options.rounds));
    for (const line of SATURATION_LEGEND) console.log(`  ${line}`);
    if (where.proxy !== undefined) console.log(`  direct's req/s is what core ${where.generator} (load generator + targets) can do; a proxy near it is limited by that core, not by itself`);
  }
  if (options.mode !== 'saturation') {
    const { table: fixedTable, notes } = fixedReport(rows, options);
    console.log(`\nfixed rate (open loop, ${options.rate} req/s on ${options.connections} connections; ${over}):`);
    console.log(fixedTable);
    for (const line of FIXED_LEGEND) console.log(`  ${line}`);
    for (const line of notes) console.log(line);
  }
  for (const r of rows) if (r.note !== undefined) console.log(`${r.saturation.length + r.fixed.length > 0 ? 'note' : 'not measured'}: ${r.system.label}: ${r.note.split('\n')[0]} (details above)`);
}

try {
  await main();
} catch (err) {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exitCode = 1;
} finally {
  await group.stopAll();
}
