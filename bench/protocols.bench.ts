/**
 * Protocols benchmark (issue #12): WebSocket messages, gRPC unary calls and HTTP/2 requests
 * per second through local-elb's ALB, as ratios against the same targets reached directly in
 * the same run.
 *
 * - ws: `ws` clients echo small binary messages through an HTTP listener (ws://) and an HTTPS
 *   listener (wss://, cleartext to the target), each of `--ws-sockets` sockets keeping
 *   `--ws-window` messages in flight; baselines: the `ws` echo server direct, on ws:// and on
 *   wss://.
 * - grpc: grpc-js clients make unary `Echo.Say` calls (test/fixtures/echo.proto) through an
 *   HTTPS listener to a GRPC target group (cleartext HTTP/2 to the target, and, as a second
 *   row, TLS again to a TLS target), `--grpc-connections` channels with `--grpc-concurrency`
 *   calls in flight on each; baselines: the grpc-js server direct, insecure and TLS.
 * - h2: h2load (Debian nghttp2-client), when installed, through an HTTPS listener (h2 by ALPN)
 *   to an HTTP1 target group (an HTTP/1.1 target) and to an HTTP2 target group (an h2c
 *   target); baselines: a node:http2 TLS target direct (what the client sees) and the h2c
 *   target direct.
 *
 * Every process is its own: the targets (all in one), each local-elb (started for its turn,
 * stopped after it), each load client. Rounds are interleaved: each round runs every workload's
 * systems in turn, in reverse order on even rounds, so drift on a shared machine falls on all
 * of them. A row's ratio is the median over rounds of its value ÷ the baseline's in the same
 * round. The proxy's CPU time per message, call or request (/proc) is printed too: it moves
 * much less than throughput when other processes share the cores.
 *
 *   scripts/node24 node bench/protocols.bench.ts [--pin] [--rounds 3] [--workloads ws,grpc,h2]
 *     [--duration 5] [--warmup 3] [--ws-sockets 50] [--ws-window 8] [--ws-bytes 32]
 *     [--grpc-connections 4] [--grpc-concurrency 16] [--h2-clients 4] [--h2-streams 16]
 *
 * With `--pin` (taskset), the load clients, the targets and this process share core 0 and the
 * proxy under test has core 1 to itself, as in bench/l7.bench.ts.
 *
 * Each option may also come from the environment: PROTOCOLS_BENCH_PIN=1, PROTOCOLS_BENCH_ROUNDS, PROTOCOLS_BENCH_WS_SOCKETS, ….
 */
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { trafficNodeFlags } from '../bin/node-flags.js';
import { openLocalCa } from '../src/tls/ca.ts';
import type { ClientResult } from './protocols/client.ts';
import type { Scenario } from './protocols/child-local-elb.ts';
import type { GrpcClientOptions } from './protocols/grpc-client.ts';
import { TARGET_BODY } from './l7/child.ts';
import { h2loadVersion, runH2load } from './protocols/h2load.ts';
import { targetPorts, type TargetPorts } from './protocols/targets.ts';
import type { WsClientOptions } from './protocols/ws-client.ts';
import { watchInterference, worstInterference, type Interference } from './support/interference.ts';
import { machineLine, table } from './support/machine.ts';
import { allowedCpus, Child, cpuTimeMs, onPath, pinThisProcess, ProcessGroup, ScratchDir, startNodeChild, stopChildrenOnExit } from './support/processes.ts';

const READY_TIMEOUT_MS = 20_000;
/** How long a load client may take beyond its warm-up and duration (connecting, exiting). */
const CLIENT_SLACK_MS = 30_000;
const WORKLOAD_IDS = ['ws', 'grpc', 'h2'] as const;
type WorkloadId = (typeof WORKLOAD_IDS)[number];

interface Options {
  readonly pin: boolean;
  readonly rounds: number;
  readonly workloads: readonly WorkloadId[];
  readonly durationSeconds: number;
  readonly warmupSeconds: number;
  readonly wsSockets: number;
  readonly wsWindow: number;
  readonly wsBytes: number;
  readonly grpcConnections: number;
  readonly grpcConcurrency: number;
  readonly h2Clients: number;
  readonly h2Streams: number;
}

/** Which CPUs each role runs on (`taskset -c` lists); all undefined when unpinned. */
interface Placement {
  readonly clients?: string;
  readonly targets?: string;
  readonly proxy?: string;
  /** For the header: the layout, or why there is none. */
  readonly description: string;
}

/** A system under test: a baseline reached directly, or a local-elb started for its turn. */
interface System {
  readonly id: string;
  readonly label: string;
  /** Whether the client speaks TLS to it (gRPC; ws and h2 go by the URL's scheme). */
  readonly tls?: boolean;
  start(): Promise<Running>;
}

interface Running {
  /** A URL (`ws://…/`, `https://…/`) or, for gRPC, `host:port`. */
  readonly endpoint: string;
  /** The proxy whose CPU time is reported and which is stopped afterwards; none for direct. */
  readonly child?: Child;
}

/** One system's result in one round. */
interface Sample {
  /** Messages, calls or requests per second. */
  readonly value: number;
  readonly p50Ms?: number;
  readonly p99Ms?: number;
  readonly meanMs?: number;
  readonly errors: number;
  /** The proxy's CPU time (user + system) ÷ wall time over the counted window. */
  readonly cpuPercent?: number;
  readonly cpuUsPerOperation?: number;
  readonly interference?: Interference;
}

interface Workload {
  readonly id: WorkloadId;
  readonly title: string;
  readonly unit: 'msg/s' | 'calls/s' | 'req/s';
  /** Why it cannot run here, printed instead of its table. */
  readonly missing?: string;
  readonly systems: readonly System[];
  /** Ratio columns: each row ÷ this system, round by round. */
  readonly comparisons: readonly { readonly id: string; readonly header: string }[];
  run(running: Running, system: System): Promise<Sample>;
}

interface Row {
  readonly system: System;
  /** By round; undefined where the system failed in that round. */
  readonly samples: (Sample | undefined)[];
  note?: string;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      pin: { type: 'boolean' },
      rounds: { type: 'string' },
      workloads: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      'ws-sockets': { type: 'string' },
      'ws-window': { type: 'string' },
      'ws-bytes': { type: 'string' },
      'grpc-connections': { type: 'string' },
      'grpc-concurrency': { type: 'string' },
      'h2-clients': { type: 'string' },
      'h2-streams': { type: 'string' },
    },
  });
  type Name = Exclude<keyof typeof values, 'pin'>;
  const pick = (name: Name, fallback: string) =>
    values[name] ?? process.env[`PROTOCOLS_BENCH_${name.toUpperCase().replaceAll('-', '_')}`] ?? fallback;
  const int = (name: Name, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER) => {
    const raw = pick(name, String(fallback));
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) throw new RangeError(`--${name} must be an integer ${min}–${max}: got ${JSON.stringify(raw)}`);
    return n;
  };
  const raw = pick('workloads', WORKLOAD_IDS.join(','));
  const workloads = raw === '' ? [] : raw.split(',').map((s) => s.trim());
  for (const w of workloads) if (!(WORKLOAD_IDS as readonly string[]).includes(w)) throw new RangeError(`--workloads takes ${WORKLOAD_IDS.join(', ')}: got ${JSON.stringify(w)}`);
  if (workloads.length === 0) throw new RangeError(`--workloads needs at least one of ${WORKLOAD_IDS.join(', ')}`);
  const pinEnv = process.env.PROTOCOLS_BENCH_PIN ?? '';
  if (!['', '0', '1', 'true', 'false'].includes(pinEnv)) throw new RangeError(`PROTOCOLS_BENCH_PIN must be 1 or 0: got ${JSON.stringify(pinEnv)}`);
  return {
    pin: values.pin ?? (pinEnv === '1' || pinEnv === 'true'),
    rounds: int('rounds', 3, 1),
    workloads: WORKLOAD_IDS.filter((w) => workloads.includes(w)),
    durationSeconds: int('duration', 5, 1),
    warmupSeconds: int('warmup', 3, 0),
    wsSockets: int('ws-sockets', 50, 1),
    wsWindow: int('ws-window', 8, 1),
    wsBytes: int('ws-bytes', 32, 1),
    grpcConnections: int('grpc-connections', 4, 1),
    grpcConcurrency: int('grpc-concurrency', 16, 1),
    h2Clients: int('h2-clients', 4, 1),
    // The ALB allows 128 concurrent streams per connection (spec 7.3).
    h2Streams: int('h2-streams', 16, 1, 128),
  };
}

/**
 * With `--pin`: the load clients, the targets and this process on the first allowed core, the
 * proxy under test alone on the second (as bench/l7.bench.ts does).
 */
function placement(pin: boolean): Placement {
  if (!pin) return { description: 'none (every process may run on any core; --pin puts the proxy alone on a core)' };
  if (onPath('taskset') === undefined) return { description: 'none: --pin needs taskset (util-linux), which is not on PATH, so this run is unpinned' };
  const [shared, alone] = allowedCpus().map(String);
  if (shared === undefined || alone === undefined) return { description: 'none: --pin needs 2 cores this process may use, so this run is unpinned' };
  pinThisProcess(shared);
  return {
    clients: shared,
    targets: shared,
    proxy: alone,
    description: `taskset: core ${shared} = load clients + targets + this bench process; core ${alone} = the proxy under test alone`,
  };
}

const group = new ProcessGroup();
const scratch = new ScratchDir('local-elb-protocols-bench-');
stopChildrenOnExit(group, () => scratch.remove());

function packageVersion(name: string): string {
  const require = createRequire(import.meta.url);
  return (JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as { version: string }).version;
}

/** A local-elb child for `scenario` in front of `targetPort`; `endpoint` builds the client's address from its port. */
function localElb(scenario: Scenario, targetPort: number, stateDir: string, cpus: string | undefined, endpoint: (port: number) => string): () => Promise<Running> {
  return async () => {
    const script = path.join(import.meta.dirname, 'protocols', 'child-local-elb.ts');
    // local-elb runs with the Node flags `local-elb serve` starts itself with (bin/node-flags.js).
    const { child, ports } = await startNodeChild(group, `local-elb (${scenario})`, script, [scenario, String(targetPort), stateDir], READY_TIMEOUT_MS, {
      nodeArgs: trafficNodeFlags(),
      cpus,
    });
    return { endpoint: endpoint(ports[0]!), child };
  };
}

const direct = (endpoint: string) => async (): Promise<Running> => ({ endpoint });

/**
 * Runs a Node load client (ws-client.ts, grpc-client.ts) and reads the proxy's CPU time and
 * the machine's other load over the window the client counts in.
 */
async function runNodeClient(script: string, clientOptions: object, running: Running, options: Options, cpus: string | undefined): Promise<{ result: ClientResult; sample: Omit<Sample, 'value' | 'errors'> }> {
  const client = group.spawn(path.basename(script, '.ts'), {
    command: process.execPath,
    args: [path.join(import.meta.dirname, 'protocols', script), JSON.stringify(clientOptions)],
    ipc: true,
    cpus,
  });
  try {
    const measuring = client.message('measuring', options.warmupSeconds * 1000 + CLIENT_SLACK_MS);
    const finished = client.message<ClientResult & { type: 'result' }>('result', (options.warmupSeconds + options.durationSeconds) * 1000 + CLIENT_SLACK_MS);
    finished.catch(() => {});
    await measuring;
    const pid = running.child?.pid;
    const cpuBefore = pid === undefined ? undefined : cpuTimeMs(pid);
    const interference = watchInterference();
    const result = await finished;
    const cpuAfter = pid === undefined ? undefined : cpuTimeMs(pid);
    const seen = interference();
    if (running.child !== undefined && !running.child.running) throw new Error(`${running.child.name} exited during the run: ${running.child.stderrTail()}`);
    const cpu = cpuBefore !== undefined && cpuAfter !== undefined ? cpuAfter - cpuBefore : undefined;
    return {
      result,
      sample: {
        ...(result.p50Ms !== undefined ? { p50Ms: result.p50Ms } : {}),
        ...(result.p99Ms !== undefined ? { p99Ms: result.p99Ms } : {}),
        ...(cpu !== undefined ? { cpuPercent: (cpu / (result.seconds * 1000)) * 100, cpuUsPerOperation: (cpu * 1000) / Math.max(1, result.operations) } : {}),
        ...(seen !== undefined ? { interference: seen } : {}),
      },
    };
  } finally {
    await group.stop(client);
  }
}

function workloads(ports: TargetPorts, stateDir: string, caPath: string, options: Options, where: Placement): Workload[] {
  const elb = (scenario: Scenario, targetPort: number, endpoint: (port: number) => string) => localElb(scenario, targetPort, stateDir, where.proxy, endpoint);
  const h2load = onPath('h2load');
  const window = { warmupSeconds: options.warmupSeconds, durationSeconds: options.durationSeconds };
  const ws: Workload = {
    id: 'ws',
    title:
      `WebSocket echo: ${options.wsSockets} sockets × ${options.wsWindow} messages in flight, ${options.wsBytes}-byte binary messages ` +
      `(ws ${packageVersion('ws')} client and server, no compression); msg/s = echoes received`,
    unit: 'msg/s',
    systems: [
      { id: 'direct', label: 'direct ws:// to the target (no proxy)', start: direct(`ws://127.0.0.1:${ports.ws}/`) },
      { id: 'direct-tls', label: 'direct wss:// to the target (TLS, no proxy)', start: direct(`wss://127.0.0.1:${ports.wss}/`) },
      { id: 'local-elb-http', label: 'local-elb ALB, HTTP listener (ws://)', start: elb('ws-http', ports.ws, (p) => `ws://127.0.0.1:${p}/`) },
      { id: 'local-elb-https', label: 'local-elb ALB, HTTPS listener (wss://; ws:// to the target)', start: elb('ws-https', ports.ws, (p) => `wss://127.0.0.1:${p}/`) },
    ],
    comparisons: [
      { id: 'direct', header: 'vs direct ws://' },
      { id: 'direct-tls', header: 'vs direct wss://' },
    ],
    async run(running) {
      const clientOptions: WsClientOptions = { url: running.endpoint, sockets: options.wsSockets, window: options.wsWindow, bytes: options.wsBytes, ...window, caPath };
      const { result, sample } = await runNodeClient('ws-client.ts', clientOptions, running, options, where.clients);
      return { ...sample, value: result.operations / result.seconds, errors: result.errors };
    },
  };
  const grpc: Workload = {
    id: 'grpc',
    title:
      `gRPC unary Echo.Say: ${options.grpcConnections} channels × ${options.grpcConcurrency} calls in flight ` +
      `(@grpc/grpc-js ${packageVersion('@grpc/grpc-js')} client and server); calls/s = calls answered OK`,
    unit: 'calls/s',
    systems: [
      { id: 'direct', label: 'direct to the target, insecure (no proxy)', start: direct(`127.0.0.1:${ports.grpc}`) },
      { id: 'direct-tls', label: 'direct to the target, TLS (no proxy)', tls: true, start: direct(`127.0.0.1:${ports.grpcs}`) },
      { id: 'local-elb', label: 'local-elb ALB, HTTPS listener, GRPC group (h2c to the target)', tls: true, start: elb('grpc', ports.grpc, (p) => `127.0.0.1:${p}`) },
      {
        id: 'local-elb-tls-target',
        label: 'local-elb ALB, HTTPS listener, GRPC group of protocol HTTPS (TLS to the target)',
        tls: true,
        start: elb('grpc-tls-target', ports.grpcs, (p) => `127.0.0.1:${p}`),
      },
    ],
    comparisons: [
      { id: 'direct', header: 'vs direct insecure' },
      { id: 'direct-tls', header: 'vs direct TLS' },
    ],
    async run(running, system) {
      const clientOptions: GrpcClientOptions = {
        target: running.endpoint,
        connections: options.grpcConnections,
        concurrency: options.grpcConcurrency,
        ...window,
        ...(system.tls === true ? { caPath } : {}),
      };
      const { result, sample } = await runNodeClient('grpc-client.ts', clientOptions, running, options, where.clients);
      return { ...sample, value: result.operations / result.seconds, errors: result.errors };
    },
  };
  const h2: Workload = {
    id: 'h2',
    title:
      `HTTP/2 GET / (${Buffer.byteLength(TARGET_BODY)}-byte body): ${h2load ? `h2load ${h2loadVersion(h2load)}` : 'h2load'}, 1 thread, ${options.h2Clients} connections × ${options.h2Streams} concurrent streams; ` +
      'req/s = 2xx answers; h2load gives a mean, no percentiles',
    unit: 'req/s',
    ...(h2load ? {} : { missing: 'h2load is not on PATH; on Debian: apt-get install nghttp2-client' }),
    systems: [
      { id: 'direct-tls', label: 'direct h2 over TLS to a node:http2 target (no proxy)', start: direct(`https://127.0.0.1:${ports.h2}/`) },
      { id: 'direct-h2c', label: "direct h2c to the HTTP2 group's target (no proxy, no TLS)", start: direct(`http://127.0.0.1:${ports.h2c}/`) },
      { id: 'local-elb-http1', label: 'local-elb ALB, HTTPS listener (h2), HTTP1 group (HTTP/1.1 target)', start: elb('h2-http1', ports.http1, (p) => `https://127.0.0.1:${p}/`) },
      { id: 'local-elb-http2', label: 'local-elb ALB, HTTPS listener (h2), HTTP2 group (h2c target)', start: elb('h2-http2', ports.h2c, (p) => `https://127.0.0.1:${p}/`) },
    ],
    comparisons: [
      { id: 'direct-tls', header: 'vs direct h2 TLS' },
      { id: 'local-elb-http1', header: 'vs HTTP1 group' },
    ],
    async run(running) {
      const load = { clients: options.h2Clients, streams: options.h2Streams, cpus: where.clients };
      if (options.warmupSeconds > 0) await runH2load(group, h2load!, running.endpoint, { ...load, durationSeconds: options.warmupSeconds });
      const pid = running.child?.pid;
      const cpuBefore = pid === undefined ? undefined : cpuTimeMs(pid);
      const interference = watchInterference();
      const startedMs = performance.now();
      const r = await runH2load(group, h2load!, running.endpoint, { ...load, durationSeconds: options.durationSeconds });
      const elapsedMs = performance.now() - startedMs;
      const cpuAfter = pid === undefined ? undefined : cpuTimeMs(pid);
      const seen = interference();
      if (running.child !== undefined && !running.child.running) throw new Error(`${running.child.name} exited during the run: ${running.child.stderrTail()}`);
      if (r.requests === 0) throw new Error(`h2load got no 2xx answer from ${running.endpoint} (${r.errors} errors)`);
      const cpu = cpuBefore !== undefined && cpuAfter !== undefined ? cpuAfter - cpuBefore : undefined;
      return {
        value: r.requestsPerSecond,
        ...(r.meanMs !== undefined ? { meanMs: r.meanMs } : {}),
        errors: r.errors,
        ...(cpu !== undefined ? { cpuPercent: (cpu / elapsedMs) * 100, cpuUsPerOperation: (cpu * 1000) / r.requests } : {}),
        ...(seen !== undefined ? { interference: seen } : {}),
      };
    },
  };
  return [ws, grpc, h2].filter((w) => options.workloads.includes(w.id));
}

async function measure(workload: Workload, system: System): Promise<Sample> {
  const running = await system.start();
  try {
    return await workload.run(running, system);
  } finally {
    if (running.child !== undefined) await group.stop(running.child);
  }
}

const fixed = (n: number | undefined, digits: number) => (n === undefined || !Number.isFinite(n) ? '-' : n.toFixed(digits));

/** The median (mean of the middle two when even); undefined for no values. */
function median(values: readonly (number | undefined)[]): number | undefined {
  const sorted = values.filter((v): v is number => v !== undefined && Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return undefined;
  const mid = sorted.length / 2;
  return Number.isInteger(mid) ? (sorted[mid - 1]! + sorted[mid]!) / 2 : sorted[Math.floor(mid)]!;
}

/** This row ÷ that row in each round both ran: the median, and the range when there are several. */
function pairedRatio(row: Row, other: Row | undefined): string {
  if (other === undefined || other === row) return '-';
  const ratios = row.samples.flatMap((s, i) => {
    const o = other.samples[i];
    return s !== undefined && o !== undefined && o.value > 0 ? [s.value / o.value] : [];
  });
  const m = median(ratios);
  if (m === undefined) return '-';
  return ratios.length > 1 ? `${m.toFixed(2)}× (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})` : `${m.toFixed(2)}×`;
}

function workloadTable(w: Workload, rows: readonly Row[], rounds: number): string {
  const byId = new Map(rows.map((r) => [r.system.id, r]));
  const percentiles = w.id !== 'h2';
  const header = [
    'system',
    w.unit,
    ...(rounds > 1 ? ['range'] : []),
    ...(percentiles ? ['p50 ms', 'p99 ms'] : ['mean ms']),
    'errors',
    'proxy CPU',
    'CPU µs/op',
    ...w.comparisons.map((c) => c.header),
    'other load',
  ];
  const body = rows.flatMap((row) => {
    const measured = row.samples.filter((s): s is Sample => s !== undefined);
    if (measured.length === 0) return [];
    const values = measured.map((s) => s.value);
    return [
      [
        row.system.label,
        fixed(median(values), 0),
        ...(rounds > 1 ? [`${fixed(Math.min(...values), 0)}–${fixed(Math.max(...values), 0)}`] : []),
        ...(percentiles ? [fixed(median(measured.map((s) => s.p50Ms)), 2), fixed(median(measured.map((s) => s.p99Ms)), 2)] : [fixed(median(measured.map((s) => s.meanMs)), 2)]),
        String(measured.reduce((n, s) => n + s.errors, 0)),
        measured[0]!.cpuPercent === undefined ? '-' : `${fixed(median(measured.map((s) => s.cpuPercent)), 0)}%`,
        fixed(median(measured.map((s) => s.cpuUsPerOperation)), 1),
        ...w.comparisons.map((c) => pairedRatio(row, byId.get(c.id))),
        worstInterference(measured.map((s) => s.interference)),
      ],
    ];
  });
  const over = rounds > 1 ? `; medians over ${rounds} rounds` : '';
  return `${w.title}${over}\n${table(header, body)}`;
}

const LEGEND = [
  'value and p50/p99 (mean) ms: medians over rounds; range: lowest–highest round; p50/p99 are round trips timed from each message\'s or call\'s own send (closed loop, so queueing is in them)',
  'proxy CPU: the local-elb process\'s user+system CPU (/proc) over the counted window, in % of one core; CPU µs/op: that CPU ÷ messages, calls or requests; excludes stolen time',
  'vs …: this row ÷ that row in the same round, median over rounds (lowest–highest); compare ratios within one run, not numbers across machines',
  'other load: the worst round\'s CPU use by processes this bench did not start (and steal), in % of one core; a high one marks a disturbed round',
];

async function main(): Promise<void> {
  const options = parseOptions();
  // Read before pinning: afterwards this process sees one core.
  const machine = machineLine();
  const where = placement(options.pin);
  const stateDir = scratch.dir('state');
  // The CA is made here, once, before the targets and the local-elb children open it.
  const ca = await openLocalCa(stateDir);

  console.log('local-elb protocols benchmark: WebSocket, gRPC, HTTP/2 (bench/protocols.bench.ts)');
  console.log(machine);
  console.log(`pinning: ${where.description}`);
  console.log(
    `${options.rounds} round(s), interleaved (each round runs every system once, in reverse order on even rounds); per system and round: ` +
      `${options.warmupSeconds} s warm-up on the same connections, then ${options.durationSeconds} s counted`,
  );
  console.log('every load client runs in its own process: ws and grpc are Node clients (one event loop each), h2 is h2load');
  const script = path.join(import.meta.dirname, 'protocols', 'child-targets.ts');
  const { ports } = await startNodeChild(group, 'targets', script, [stateDir], READY_TIMEOUT_MS, { cpus: where.targets });
  console.log('targets: ws echo (HTTP, HTTPS), grpc-js Echo (insecure, TLS), node:http2 (TLS, h2c) and node:http HTTP/1.1 servers, all in one Node process; TLS certificates from a local CA made for this run');
  const shares = where.proxy === undefined ? `every process shares these ${os.availableParallelism()} cores` : 'other processes on this machine may still use both cores';
  console.log(`${shares} (load average now ${os.loadavg()[0]!.toFixed(2)}); compare ratios within one run, not numbers across machines\n`);

  const list = workloads(targetPorts(ports), stateDir, ca.certPath, options, where);
  const rows = new Map<WorkloadId, Row[]>();
  for (const w of list) {
    if (w.missing !== undefined) console.log(`- ${w.id}: skipped (${w.missing})`);
    else rows.set(w.id, w.systems.map((system) => ({ system, samples: [] })));
  }
  for (let round = 1; round <= options.rounds; round++) {
    console.log(`round ${round} of ${options.rounds}`);
    for (const w of list) {
      const wRows = rows.get(w.id);
      if (wRows === undefined) continue;
      const ordered = round % 2 === 0 ? [...wRows].reverse() : wRows;
      for (const row of ordered) {
        if (row.note !== undefined) continue;
        try {
          const s = await measure(w, row.system);
          row.samples[round - 1] = s;
          const latency = s.p99Ms !== undefined ? `p99 ${fixed(s.p99Ms, 2)} ms` : `mean ${fixed(s.meanMs, 2)} ms`;
          const cpu = s.cpuUsPerOperation !== undefined ? `, ${fixed(s.cpuUsPerOperation, 1)} µs CPU/op` : '';
          console.log(`- ${w.id}: ${row.system.label}: ${fixed(s.value, 0)} ${w.unit} (${latency}${cpu})${s.errors > 0 ? `, ${s.errors} errors` : ''}`);
        } catch (err) {
          if (group.stopping) return;
          // Without a baseline there are no ratios to print.
          if (row.system.id.startsWith('direct')) throw err;
          row.note = `failed (${err instanceof Error ? err.message : String(err)})`;
          console.log(`- ${w.id}: ${row.system.label}: ${row.note}`);
        }
      }
    }
  }
  for (const w of list) {
    const wRows = rows.get(w.id);
    if (wRows === undefined) {
      console.log(`\n${w.id}: not measured: ${w.missing}`);
      continue;
    }
    console.log(`\n${workloadTable(w, wRows, options.rounds)}`);
    for (const r of wRows) if (r.note !== undefined) console.log(`not measured: ${r.system.label}: ${r.note.split('\n')[0]}`);
  }
  console.log('');
  for (const line of LEGEND) console.log(`  ${line}`);
}

try {
  await main();
} catch (err) {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exitCode = 1;
} finally {
  await group.stopAll();
}
