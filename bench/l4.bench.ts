/**
 * L4 real-socket benchmark: local-elb's NLB (TCP listener) against the same targets reached
 * directly, through a bare Node `net` pipe (the floor for a Node TCP proxy) and through
 * HAProxy in `mode tcp` when it is installed. The workloads are HTTP carried over the TCP
 * proxy: `rate` (small keep-alive requests from wrk, else autocannon), `bulk` (a 64 MiB body
 * downloaded over and over on a few connections) and, on request, `connect` (`Connection:
 * close`, so every request is a new flow: the per-connection cost). Every system runs in its
 * own process, the targets in another and each client in another. Systems run in turn, for
 * `--rounds` interleaved rounds, and each keeps its best round: on a shared machine other load
 * only ever slows a run down. Ratios are against direct-to-target and HAProxy TCP from the same
 * run; the last lines say whether the NLB meets the bar (request rate >= 0.8x and bulk >=
 * 0.67x HAProxy TCP). The proxy's CPU time per request (or per GB) is printed too: it moves
 * much less than throughput when other processes share the cores.
 *
 *   scripts/node24 node bench/l4.bench.ts [--rounds 2] [--workloads rate,bulk[,connect]]
 *     [--duration 3] [--warmup 1] [--connections 50] [--threads 1] [--bulk-duration 2]
 *     [--bulk-connections 2] [--bulk-mib 64] [--loadgen auto|wrk|autocannon]
 *     [--bulk-client auto|wrk|node] [--targets auto|node|nginx]
 *     [--only local-elb,local-elb-preserve,local-elb-ppv2,node-pipe,haproxy,haproxy-ppv2]
 *     [--cpu-prof DIR]
 *
 * Each option may also come from the environment: L4_BENCH_ROUNDS, L4_BENCH_BULK_MIB, ….
 * `--cpu-prof DIR` runs the Node proxies with `--cpu-prof`, one .cpuprofile per proxy process.
 */
import { chmodSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { TARGET_BODY } from './l7/child.ts';
import { nginxInheritedEnv } from './l7/external.ts';
import { findLoadGenerator, type LoadGenerator } from './l7/load-generator.ts';
import { findBulkClient, type BulkClient } from './l4/bulk.ts';
import { haproxyTcpConfig, nginxL4TargetsConfig } from './l4/external.ts';
import { machineLine, table } from './support/machine.ts';
import {
  Child,
  cpuTimeMs,
  onPath,
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
const SYSTEM_IDS = ['local-elb', 'local-elb-preserve', 'local-elb-ppv2', 'node-pipe', 'haproxy', 'haproxy-ppv2'] as const;
const WORKLOAD_IDS = ['rate', 'bulk', 'connect'] as const;
type WorkloadId = (typeof WORKLOAD_IDS)[number];
/** The issue's bar for the NLB, as fractions of HAProxy TCP. */
const BAR = { rate: 0.8, bulk: 0.67 } as const;

interface Options {
  readonly rounds: number;
  readonly workloads: readonly WorkloadId[];
  readonly durationSeconds: number;
  readonly warmupSeconds: number;
  readonly connections: number;
  readonly threads: number;
  readonly bulkDurationSeconds: number;
  readonly bulkConnections: number;
  readonly bulkMib: number;
  readonly loadgen: 'auto' | 'wrk' | 'autocannon';
  readonly bulkClient: 'auto' | 'wrk' | 'node';
  readonly targets: 'auto' | 'node' | 'nginx';
  readonly only: ReadonlySet<string> | undefined;
  readonly cpuProfDir: string | undefined;
}

interface Targets {
  readonly description: string;
  /** Plain HTTP listeners. */
  readonly ports: readonly number[];
  /** Listeners that expect a PROXY header first; empty when the targets cannot parse one. */
  readonly proxyProtocolPorts: readonly number[];
}

/** A system under test, started when its turn comes and stopped after its workloads. */
interface System {
  readonly id: string;
  readonly label: string;
  /** The HAProxy row this one is compared with (PPv2 rows against HAProxy sending PPv2). */
  readonly peer: 'haproxy' | 'haproxy-ppv2';
  /** Why it cannot run here, printed instead of a row. */
  readonly missing?: string;
  start(): Promise<Running>;
}

interface Running {
  /** `http://127.0.0.1:port`, no path. */
  readonly origin: string;
  /** The proxy process whose CPU time is reported; none for direct-to-target. */
  readonly child?: Child;
}

/** One workload's result in one round; `value` is what "best" and the ratios use. */
interface Sample {
  /** req/s or MB/s. */
  readonly value: number;
  readonly p50Ms?: number;
  readonly p99Ms?: number;
  readonly errors: number;
  readonly cpuPercent?: number;
  /** Proxy CPU µs per request, or ms per GB for bulk. */
  readonly cpuPerUnit?: number;
}

interface Workload {
  readonly id: WorkloadId;
  readonly title: string;
  readonly unit: 'req/s' | 'MB/s';
  readonly cpuUnit: 'µs/req' | 'ms/GB';
  run(origin: string, child: Child | undefined): Promise<Sample>;
}

interface Row {
  readonly system: System;
  readonly samples: Map<WorkloadId, Sample[]>;
  note?: string;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string' },
      workloads: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string' },
      threads: { type: 'string' },
      'bulk-duration': { type: 'string' },
      'bulk-connections': { type: 'string' },
      'bulk-mib': { type: 'string' },
      loadgen: { type: 'string' },
      'bulk-client': { type: 'string' },
      targets: { type: 'string' },
      only: { type: 'string' },
      'cpu-prof': { type: 'string' },
    },
  });
  const pick = (name: keyof typeof values, fallback: string) =>
    values[name] ?? process.env[`L4_BENCH_${name.toUpperCase().replaceAll('-', '_')}`] ?? fallback;
  const int = (name: keyof typeof values, fallback: number, min: number) => {
    const raw = pick(name, String(fallback));
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) throw new RangeError(`--${name} must be an integer >= ${min}: got ${JSON.stringify(raw)}`);
    return n;
  };
  const oneOf = <T extends string>(name: keyof typeof values, allowed: readonly T[]): T => {
    const raw = pick(name, allowed[0]!);
    if (!(allowed as readonly string[]).includes(raw)) throw new RangeError(`--${name} must be one of ${allowed.join(' | ')}: got ${JSON.stringify(raw)}`);
    return raw as T;
  };
  const list = <T extends string>(name: keyof typeof values, allowed: readonly T[], fallback: string): T[] => {
    const raw = pick(name, fallback);
    const items = raw === '' ? [] : raw.split(',').map((s) => s.trim());
    for (const item of items) if (!(allowed as readonly string[]).includes(item)) throw new RangeError(`--${name} takes ${allowed.join(', ')}: got ${JSON.stringify(item)}`);
    return items as T[];
  };
  const only = list('only', SYSTEM_IDS, '');
  const workloads = list('workloads', WORKLOAD_IDS, 'rate,bulk');
  if (workloads.length === 0) throw new RangeError('--workloads needs at least one of rate, bulk, connect');
  const cpuProf = pick('cpu-prof', '');
  return {
    rounds: int('rounds', 2, 1),
    workloads: WORKLOAD_IDS.filter((w) => workloads.includes(w)),
    durationSeconds: int('duration', 3, 1),
    warmupSeconds: int('warmup', 1, 0),
    connections: int('connections', 50, 1),
    threads: int('threads', 1, 1),
    bulkDurationSeconds: int('bulk-duration', 2, 1),
    bulkConnections: int('bulk-connections', 2, 1),
    bulkMib: int('bulk-mib', 64, 1),
    loadgen: oneOf('loadgen', ['auto', 'wrk', 'autocannon']),
    bulkClient: oneOf('bulk-client', ['auto', 'wrk', 'node']),
    targets: oneOf('targets', ['auto', 'node', 'nginx']),
    only: only.length === 0 ? undefined : new Set(only),
    cpuProfDir: cpuProf === '' ? undefined : path.resolve(cpuProf),
  };
}

const group = new ProcessGroup();
const scratch = new ScratchDir('local-elb-l4-bench-');
stopChildrenOnExit(group, () => scratch.remove());

const untilOk = (url: string, child: Child | undefined, what: string) => untilAnswering(url, child, what, READY_TIMEOUT_MS);

async function startTargets(kind: 'node' | 'nginx', bulkBytes: number): Promise<Targets> {
  if (kind === 'node') {
    const script = path.join(import.meta.dirname, 'support', 'child-targets.ts');
    const { ports } = await startNodeChild(group, 'targets', script, [String(TARGET_COUNT), String(bulkBytes)], READY_TIMEOUT_MS);
    return { ports, proxyProtocolPorts: [], description: `${TARGET_COUNT} Node http servers in one process` };
  }
  const nginx = onPath('nginx')!;
  const dir = scratch.dir('nginx-targets');
  const bulkFile = path.join(dir, 'bulk.bin');
  writeFileSync(bulkFile, Buffer.alloc(bulkBytes, 'x'), { mode: 0o644 });
  // Started as root, nginx serves files from a worker running as `nobody`: let it reach the file.
  for (const d of [dir, path.dirname(dir)]) chmodSync(d, 0o755);
  const listeners = await Promise.all(Array.from({ length: 2 * TARGET_COUNT }, () => reserveListener()));
  const ports = listeners.slice(0, TARGET_COUNT).map((l) => l.port);
  const proxyProtocolPorts = listeners.slice(TARGET_COUNT).map((l) => l.port);
  writeFileSync(path.join(dir, 'nginx.conf'), nginxL4TargetsConfig(dir, ports, proxyProtocolPorts, bulkFile));
  const child = spawnWithListeners(group, 'nginx targets', nginx, ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', 'stderr'], listeners, {
    ...process.env,
    NGINX: nginxInheritedEnv(listeners.length),
  });
  for (const port of ports) await untilOk(`http://127.0.0.1:${port}/`, child, 'nginx targets');
  return {
    ports,
    proxyProtocolPorts,
    description: `${TARGET_COUNT} nginx ${toolVersion(nginx, ['-v'], /nginx\/(\S+)/)} servers in one worker process (sendfile on), plus ${TARGET_COUNT} \`listen … proxy_protocol\` ones for the PPv2 rows`,
  };
}

function systems(targets: Targets, options: Options): System[] {
  const haproxy = onPath('haproxy');
  const haproxyVersion = haproxy ? toolVersion(haproxy, ['-v'], /version (\d[\w.]*)/) : '';
  const noPpv2 = targets.proxyProtocolPorts.length === 0 ? { missing: 'needs targets that parse Proxy Protocol v2 (nginx `listen … proxy_protocol`); the Node targets do not' } : {};
  const noHaproxy = haproxy ? {} : { missing: 'haproxy is not on PATH; on Debian: apt-get install haproxy' };
  const nodeArgs = options.cpuProfDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', options.cpuProfDir];
  const nodeProxy = (script: string, args: readonly string[], name: string) => async (): Promise<Running> => {
    const { child, ports } = await startNodeChild(group, name, path.join(import.meta.dirname, 'l4', script), args, READY_TIMEOUT_MS, { nodeArgs });
    if (options.cpuProfDir !== undefined) console.log(`  (${name} is pid ${child.pid}: its profile is ${options.cpuProfDir}/CPU.*.${child.pid}.*.cpuprofile)`);
    return { origin: `http://127.0.0.1:${ports[0]}`, child };
  };
  const haproxyTcp = (ports: readonly number[], sendProxyV2: boolean) => async (): Promise<Running> => {
    const listener = await reserveListener();
    const dir = scratch.dir(sendProxyV2 ? 'haproxy-ppv2' : 'haproxy');
    writeFileSync(path.join(dir, 'haproxy.cfg'), haproxyTcpConfig(ports, { sendProxyV2 }));
    const child = spawnWithListeners(group, 'haproxy', haproxy!, ['-db', '-f', path.join(dir, 'haproxy.cfg')], [listener]);
    return { origin: `http://127.0.0.1:${listener.port}`, child };
  };
  const plain = targets.ports.join(',');
  const proxied = targets.proxyProtocolPorts.join(',');
  return [
    { id: 'direct', label: 'direct to one target (no proxy)', peer: 'haproxy', start: async () => ({ origin: `http://127.0.0.1:${targets.ports[0]}` }) },
    { id: 'local-elb', label: 'local-elb NLB, TCP', peer: 'haproxy', start: nodeProxy('child-local-elb.ts', ['plain', plain], 'local-elb') },
    {
      id: 'local-elb-preserve',
      label: 'local-elb NLB, preserve_client_ip',
      peer: 'haproxy',
      start: nodeProxy('child-local-elb.ts', ['preserve-client-ip', plain], 'local-elb-preserve'),
    },
    {
      id: 'local-elb-ppv2',
      label: 'local-elb NLB, proxy_protocol_v2',
      peer: 'haproxy-ppv2',
      ...noPpv2,
      start: nodeProxy('child-local-elb.ts', ['proxy-protocol-v2', proxied], 'local-elb-ppv2'),
    },
    { id: 'node-pipe', label: `bare Node net pipe (${process.version})`, peer: 'haproxy', start: nodeProxy('child-pipe.ts', [plain], 'node-pipe') },
    {
      id: 'haproxy',
      label: `HAProxy ${haproxyVersion} mode tcp, 1 thread`,
      peer: 'haproxy',
      ...noHaproxy,
      start: haproxyTcp(targets.ports, false),
    },
    {
      id: 'haproxy-ppv2',
      label: `HAProxy ${haproxyVersion} mode tcp, send-proxy-v2`,
      peer: 'haproxy-ppv2',
      ...(haproxy ? noPpv2 : noHaproxy),
      start: haproxyTcp(targets.proxyProtocolPorts, true),
    },
  ];
}

/** Runs `work` and measures the proxy's CPU time over it (user + system, from /proc). */
async function withCpu<T>(child: Child | undefined, work: () => Promise<T>): Promise<{ result: T; cpuMs?: number; elapsedMs: number }> {
  const pid = child?.pid;
  const before = pid === undefined ? undefined : cpuTimeMs(pid);
  const startedMs = performance.now();
  const result = await work();
  const elapsedMs = performance.now() - startedMs;
  const after = pid === undefined ? undefined : cpuTimeMs(pid);
  if (child !== undefined && !child.running) throw new Error(`${child.name} exited during the run: ${child.stderrTail()}`);
  return before !== undefined && after !== undefined ? { result, cpuMs: after - before, elapsedMs } : { result, elapsedMs };
}

function workloads(gen: LoadGenerator, bulkClient: BulkClient, options: Options): Workload[] {
  const load = { connections: options.connections, threads: options.threads };
  const requests = (id: 'rate' | 'connect', title: string, headers: Readonly<Record<string, string>>): Workload => ({
    id,
    title,
    unit: 'req/s',
    cpuUnit: 'µs/req',
    async run(origin, child) {
      const url = `${origin}/`;
      if (options.warmupSeconds > 0) await gen.run(group, url, { ...load, headers, durationSeconds: options.warmupSeconds });
      const { result: r, cpuMs, elapsedMs } = await withCpu(child, () => gen.run(group, url, { ...load, headers, durationSeconds: options.durationSeconds }));
      return {
        value: r.requestsPerSecond,
        p50Ms: r.p50Ms,
        p99Ms: r.p99Ms,
        errors: r.errors,
        ...(cpuMs !== undefined ? { cpuPercent: (cpuMs / elapsedMs) * 100, cpuPerUnit: (cpuMs * 1000) / Math.max(1, r.requests) } : {}),
      };
    },
  });
  const all: Workload[] = [
    requests('rate', `request rate: GET / (${TARGET_BODY.length}-byte body) on ${options.connections} keep-alive connections`, {}),
    {
      id: 'bulk',
      title: `bulk: GET /bulk (${options.bulkMib} MiB) back to back on ${options.bulkConnections} keep-alive connection(s); MB = 10^6 bytes`,
      unit: 'MB/s',
      cpuUnit: 'ms/GB',
      async run(origin, child) {
        const url = `${origin}/bulk`;
        const { result: r, cpuMs, elapsedMs } = await withCpu(child, () =>
          bulkClient.run(group, url, { connections: options.bulkConnections, durationSeconds: options.bulkDurationSeconds }),
        );
        if (r.downloads === 0 || r.errors > r.downloads) throw new Error(`bulk downloads failing: ${r.downloads} complete, ${r.errors} errors (try GET ${url} by hand)`);
        return {
          value: r.megabytesPerSecond,
          errors: r.errors,
          ...(cpuMs !== undefined ? { cpuPercent: (cpuMs / elapsedMs) * 100, cpuPerUnit: cpuMs / (r.bytes / 1e9) } : {}),
        };
      },
    },
    requests('connect', `connect: GET / with \`Connection: close\` (a new flow per request) from ${options.connections} connections`, { Connection: 'close' }),
  ];
  return all.filter((w) => options.workloads.includes(w.id));
}

async function measure(system: System, list: readonly Workload[]): Promise<Map<WorkloadId, Sample>> {
  const running = await system.start();
  try {
    await untilOk(`${running.origin}/`, running.child, system.label);
    const samples = new Map<WorkloadId, Sample>();
    for (const w of list) samples.set(w.id, await w.run(running.origin, running.child));
    return samples;
  } finally {
    if (running.child !== undefined) await group.stop(running.child);
  }
}

const fixed = (n: number, digits: number) => n.toFixed(digits);
const ratioValue = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined && b > 0 ? a / b : undefined);
const ratio = (a: number | undefined, b: number | undefined) => {
  const r = ratioValue(a, b);
  return r === undefined ? '-' : `${r.toFixed(2)}×`;
};

/** The round with the highest throughput; its latency and CPU come with it. */
function best(samples: readonly Sample[] | undefined): Sample | undefined {
  return samples?.reduce<Sample | undefined>((b, s) => (b === undefined || s.value > b.value ? s : b), undefined);
}

function workloadTable(w: Workload, rows: readonly Row[], rounds: number): string {
  const byId = new Map(rows.map((r) => [r.system.id, r]));
  const bestOf = (id: string) => best(byId.get(id)?.samples.get(w.id));
  const latency = w.unit === 'req/s';
  const header = [
    'system',
    w.unit,
    ...(rounds > 1 ? ['range'] : []),
    ...(latency ? ['p50 ms', 'p99 ms'] : []),
    'errors',
    'proxy CPU',
    `CPU ${w.cpuUnit}`,
    'vs direct',
    'vs HAProxy*',
    ...(latency ? ['p99 vs HAProxy*'] : []),
  ];
  const body = rows.flatMap(({ system, samples }) => {
    const all = samples.get(w.id) ?? [];
    const m = best(all);
    if (m === undefined) return [];
    const peer = bestOf(system.peer);
    const values = all.map((s) => s.value);
    return [
      [
        system.label,
        fixed(m.value, 0),
        ...(rounds > 1 ? [`${fixed(Math.min(...values), 0)}–${fixed(Math.max(...values), 0)}`] : []),
        ...(latency ? [fixed(m.p50Ms ?? NaN, 2), fixed(m.p99Ms ?? NaN, 2)] : []),
        String(all.reduce((n, s) => n + s.errors, 0)),
        m.cpuPercent === undefined ? '-' : `${fixed(m.cpuPercent, 0)}%`,
        m.cpuPerUnit === undefined ? '-' : fixed(m.cpuPerUnit, w.cpuUnit === 'µs/req' ? 1 : 0),
        ratio(m.value, bestOf('direct')?.value),
        ratio(m.value, peer?.value),
        ...(latency ? [ratio(m.p99Ms, peer?.p99Ms)] : []),
      ],
    ];
  });
  return `${w.title}${rounds > 1 ? `; best of ${rounds} rounds (errors summed)` : ''}\n${table(header, body)}`;
}

function report(rows: readonly Row[], list: readonly Workload[], options: Options): string {
  const byId = new Map(rows.map((r) => [r.system.id, r]));
  const bestValue = (id: string, w: WorkloadId) => best(byId.get(id)?.samples.get(w))?.value;
  const notes = [
    '* HAProxy TCP; the proxy_protocol_v2 rows are compared with HAProxy sending PPv2 (send-proxy-v2) to the same proxy_protocol targets.',
    ...rows.flatMap((r) => (r.note === undefined ? [] : [`${r.samples.size > 0 ? 'note' : 'not measured'}: ${r.system.label}: ${r.note.split('\n')[0]}`])),
  ];
  const verdicts = (['local-elb', 'local-elb-preserve', 'local-elb-ppv2'] as const).flatMap((id) => {
    const row = byId.get(id);
    if (row === undefined || row.samples.size === 0) return [];
    const peer = row.system.peer;
    const pipe = list.map((w) => `${w.id} ${ratio(bestValue(id, w.id), bestValue('node-pipe', w.id))}`).join(', ');
    const checks = (['rate', 'bulk'] as const).flatMap((w) => {
      const r = ratioValue(bestValue(id, w), bestValue(peer, w));
      return r === undefined ? [] : [{ w, r, ok: r >= BAR[w] }];
    });
    if (checks.length < 2) return [`bar: ${row.system.label}: cannot judge (needs rate and bulk for it and ${peer} in this run); vs the bare Node pipe: ${pipe}`];
    const detail = checks.map((c) => `${c.w} ${c.r.toFixed(2)}× ${peer} (needs ≥ ${BAR[c.w]}×: ${c.ok ? 'yes' : 'no'})`).join(', ');
    return [`bar: ${row.system.label} ${checks.every((c) => c.ok) ? 'MEETS' : 'DOES NOT MEET'} the bar: ${detail}; vs the bare Node pipe: ${pipe}`];
  });
  return [...list.map((w) => workloadTable(w, rows, options.rounds)), notes.join('\n'), verdicts.join('\n')].filter((s) => s !== '').join('\n\n');
}

async function main(): Promise<void> {
  const options = parseOptions();
  const gen = findLoadGenerator(options.loadgen);
  const bulkClient = findBulkClient(options.bulkClient);
  const targetsKind = options.targets === 'auto' ? (onPath('nginx') ? 'nginx' : 'node') : options.targets;
  if (targetsKind === 'nginx' && !onPath('nginx')) throw new Error('--targets nginx: nginx is not on PATH');
  const list = workloads(gen, bulkClient, options);

  console.log('local-elb L4 (NLB) benchmark (bench/l4.bench.ts)');
  console.log(machineLine());
  const requestWorkloads = list.filter((w) => w.unit === 'req/s').map((w) => w.id);
  if (requestWorkloads.length > 0) {
    console.log(
      `${requestWorkloads.join(' and ')}: ${gen.version}${gen.name === 'wrk' ? `, ${Math.min(options.threads, options.connections)} thread(s)` : ''}, ${options.connections} connections, ` +
        `${options.warmupSeconds} s warm-up + ${options.durationSeconds} s measured per system`,
    );
  }
  if (requestWorkloads.length > 0 && gen.name === 'autocannon') console.log('note: autocannon reports latency percentiles in whole milliseconds; install wrk for finer ones');
  if (options.workloads.includes('bulk')) {
    console.log(`bulk: ${bulkClient.description}, ${options.bulkConnections} connection(s) downloading ${options.bulkMib} MiB for ${options.bulkDurationSeconds} s per system`);
  }
  console.log(`${options.rounds} round(s), systems interleaved; each system's best round is reported`);
  if (options.cpuProfDir !== undefined) console.log(`CPU profiles of the Node proxies go to ${options.cpuProfDir} (profiling slows them: do not read the ratios of this run)`);
  const targets = await startTargets(targetsKind, options.bulkMib * 2 ** 20);
  console.log(`targets: ${targets.description}`);
  console.log(`every process shares these ${os.availableParallelism()} cores (load average now ${os.loadavg()[0]!.toFixed(2)}); compare ratios within one run, not numbers across machines\n`);

  const rows: Row[] = systems(targets, options)
    .filter((system) => system.id === 'direct' || options.only === undefined || options.only.has(system.id))
    .map((system) => ({ system, samples: new Map(), ...(system.missing !== undefined ? { note: `skipped (${system.missing})` } : {}) }));
  for (const row of rows) if (row.note !== undefined) console.log(`- ${row.system.label}: ${row.note}`);
  for (let round = 1; round <= options.rounds; round++) {
    if (options.rounds > 1) console.log(`round ${round} of ${options.rounds}`);
    for (const row of rows) {
      if (row.note !== undefined) continue;
      try {
        const samples = await measure(row.system, list);
        for (const [id, s] of samples) row.samples.set(id, [...(row.samples.get(id) ?? []), s]);
        const text = list.map((w) => {
          const s = samples.get(w.id)!;
          return `${w.id} ${fixed(s.value, 0)} ${w.unit}${s.p99Ms !== undefined ? ` (p99 ${fixed(s.p99Ms, 2)} ms)` : ''}${s.errors > 0 ? `, ${s.errors} errors` : ''}`;
        });
        console.log(`- ${row.system.label}: ${text.join('; ')}`);
      } catch (err) {
        if (group.stopping) return;
        if (row.system.id === 'direct') throw err;
        row.note = `failed (${err instanceof Error ? err.message : String(err)})`;
        console.log(`- ${row.system.label}: ${row.note}`);
      }
    }
  }
  console.log(`\n${report(rows, list, options)}`);
}

try {
  await main();
} catch (err) {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exitCode = 1;
} finally {
  await group.stopAll();
}
