/**
 * L7 real-socket benchmark: requests/s and p50/p99 latency through local-elb's ALB, against
 * the same targets reached directly, through http-proxy (the Node baseline), and through
 * HAProxy and nginx when they are installed. Every system runs in its own process, the
 * targets in another and the load generator (wrk, else autocannon) in a third, so the
 * generator never shares the proxy's event loop. Ratios are against direct-to-target measured
 * in the same run. With `--rounds N` every system runs N times (interleaved, so drift on a
 * shared machine hits all of them) and the median round is reported.
 *
 *   scripts/node24 node bench/l7.bench.ts [--duration 5] [--warmup 1] [--connections 50]
 *     [--threads 1] [--rounds 1] [--loadgen auto|wrk|autocannon] [--targets auto|node|nginx]
 *     [--only local-elb-rr,local-elb-lor,http-proxy,haproxy,nginx]
 *
 * Each option may also come from the environment: L7_BENCH_DURATION, L7_BENCH_WARMUP, ….
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { TARGET_BODY } from './l7/child.ts';
import { haproxyConfig, nginxInheritedEnv, nginxProxyConfig, nginxTargetsConfig } from './l7/external.ts';
import { findLoadGenerator, type LoadGenerator, type LoadResult } from './l7/load-generator.ts';
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
const SYSTEM_IDS = ['local-elb-rr', 'local-elb-lor', 'http-proxy', 'haproxy', 'nginx'] as const;

interface Options {
  readonly durationSeconds: number;
  readonly warmupSeconds: number;
  readonly connections: number;
  readonly threads: number;
  readonly rounds: number;
  readonly loadgen: 'auto' | 'wrk' | 'autocannon';
  readonly targets: 'auto' | 'node' | 'nginx';
  readonly only: ReadonlySet<string> | undefined;
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

interface Measurement {
  readonly result: LoadResult;
  readonly cpuPercent?: number;
}

interface Row {
  readonly system: System;
  readonly runs: Measurement[];
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
      loadgen: { type: 'string' },
      targets: { type: 'string' },
      only: { type: 'string' },
    },
  });
  const pick = (name: keyof typeof values, fallback: string) => values[name] ?? process.env[`L7_BENCH_${name.toUpperCase()}`] ?? fallback;
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
  const onlyRaw = pick('only', '');
  const only = onlyRaw === '' ? undefined : new Set(onlyRaw.split(',').map((s) => s.trim()));
  for (const id of only ?? []) {
    if (!(SYSTEM_IDS as readonly string[]).includes(id)) throw new RangeError(`--only takes ${SYSTEM_IDS.join(', ')} (direct always runs): got ${JSON.stringify(id)}`);
  }
  return {
    durationSeconds: int('duration', 5, 1),
    warmupSeconds: int('warmup', 1, 0),
    connections: int('connections', 50, 1),
    threads: int('threads', 1, 1),
    rounds: int('rounds', 1, 1),
    loadgen: oneOf('loadgen', ['auto', 'wrk', 'autocannon']),
    targets: oneOf('targets', ['auto', 'node', 'nginx']),
    only,
  };
}

const group = new ProcessGroup();
const scratch = new ScratchDir('local-elb-bench-');
stopChildrenOnExit(group, () => scratch.remove());

/** Starts one of the Node children in bench/l7 and waits for its `ready` message. */
function startL7Child(name: string, script: string, args: readonly string[]): Promise<{ child: Child; ports: readonly number[] }> {
  return startNodeChild(group, name, path.join(import.meta.dirname, 'l7', script), args, READY_TIMEOUT_MS);
}

const untilOk = (url: string, child: Child | undefined, what: string) => untilAnswering(url, child, what, READY_TIMEOUT_MS);

async function startTargets(kind: 'node' | 'nginx'): Promise<{ ports: readonly number[]; description: string }> {
  if (kind === 'node') {
    const script = path.join(import.meta.dirname, 'support', 'child-targets.ts');
    const { ports } = await startNodeChild(group, 'targets', script, [String(TARGET_COUNT)], READY_TIMEOUT_MS);
    return { ports, description: `${TARGET_COUNT} Node http servers in one process` };
  }
  const nginx = onPath('nginx')!;
  const listeners = await Promise.all(Array.from({ length: TARGET_COUNT }, () => reserveListener()));
  const ports = listeners.map((l) => l.port);
  const dir = scratch.dir('nginx-targets');
  writeFileSync(path.join(dir, 'nginx.conf'), nginxTargetsConfig(dir, ports));
  const child = spawnWithListeners(group, 'nginx targets', nginx, ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', 'stderr'], listeners, {
    ...process.env,
    NGINX: nginxInheritedEnv(listeners.length),
  });
  for (const port of ports) await untilOk(`http://127.0.0.1:${port}/`, child, 'nginx targets');
  return { ports, description: `${TARGET_COUNT} nginx ${toolVersion(nginx, ['-v'], /nginx\/(\S+)/)} servers in one worker process` };
}

function systems(targetPorts: readonly number[]): System[] {
  const portList = targetPorts.join(',');
  const require = createRequire(import.meta.url);
  const httpProxyVersion = (JSON.parse(readFileSync(require.resolve('http-proxy/package.json'), 'utf8')) as { version: string }).version;
  const haproxy = onPath('haproxy');
  const nginx = onPath('nginx');
  const nodeProxy = (script: string, args: readonly string[], what: string) => async (): Promise<Running> => {
    const { child, ports } = await startL7Child(what, script, args);
    return { url: `http://127.0.0.1:${ports[0]}/`, child };
  };
  return [
    { id: 'direct', label: 'direct to one target (no proxy)', start: async () => ({ url: `http://127.0.0.1:${targetPorts[0]}/` }) },
    {
      id: 'local-elb-rr',
      label: 'local-elb ALB, round_robin',
      start: nodeProxy('child-local-elb.ts', ['round_robin', portList], 'local-elb (round_robin)'),
    },
    {
      id: 'local-elb-lor',
      label: 'local-elb ALB, least_outstanding_requests',
      start: nodeProxy('child-local-elb.ts', ['least_outstanding_requests', portList], 'local-elb (least_outstanding_requests)'),
    },
    {
      id: 'http-proxy',
      label: `http-proxy ${httpProxyVersion}, keep-alive agent, round robin`,
      start: nodeProxy('child-http-proxy.ts', [portList], 'http-proxy'),
    },
    {
      id: 'haproxy',
      label: haproxy ? `HAProxy ${toolVersion(haproxy, ['-v'], /version (\d[\w.]*)/)}, roundrobin, 1 thread` : 'HAProxy',
      ...(haproxy ? {} : { missing: 'haproxy is not on PATH; on Debian: apt-get install haproxy' }),
      async start() {
        const listener = await reserveListener();
        const dir = scratch.dir('haproxy');
        writeFileSync(path.join(dir, 'haproxy.cfg'), haproxyConfig(targetPorts));
        const child = spawnWithListeners(group, 'haproxy', haproxy!, ['-db', '-f', path.join(dir, 'haproxy.cfg')], [listener]);
        return { url: `http://127.0.0.1:${listener.port}/`, child };
      },
    },
    {
      id: 'nginx',
      label: nginx ? `nginx ${toolVersion(nginx, ['-v'], /nginx\/(\S+)/)} proxy_pass, round robin, 1 worker` : 'nginx proxy',
      ...(nginx ? {} : { missing: 'nginx is not on PATH; on Debian: apt-get install nginx' }),
      async start() {
        const listener = await reserveListener();
        const dir = scratch.dir('nginx-proxy');
        writeFileSync(path.join(dir, 'nginx.conf'), nginxProxyConfig(dir, listener.port, targetPorts));
        const child = spawnWithListeners(group, 'nginx proxy', nginx!, ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', 'stderr'], [listener], {
          ...process.env,
          NGINX: nginxInheritedEnv(1),
        });
        return { url: `http://127.0.0.1:${listener.port}/`, child };
      },
    },
  ];
}

async function measure(system: System, gen: LoadGenerator, options: Options): Promise<Measurement> {
  const running = await system.start();
  try {
    await untilOk(running.url, running.child, system.label);
    const load = { connections: options.connections, threads: options.threads };
    if (options.warmupSeconds > 0) await gen.run(group, running.url, { ...load, durationSeconds: options.warmupSeconds });
    const pid = running.child?.pid;
    const cpuBefore = pid === undefined ? undefined : cpuTimeMs(pid);
    const startedMs = performance.now();
    const result = await gen.run(group, running.url, { ...load, durationSeconds: options.durationSeconds });
    const elapsedMs = performance.now() - startedMs;
    const cpuAfter = pid === undefined ? undefined : cpuTimeMs(pid);
    if (running.child !== undefined && !running.child.running) throw new Error(`${system.label} exited during the run: ${running.child.stderrTail()}`);
    const cpuPercent = cpuBefore !== undefined && cpuAfter !== undefined ? ((cpuAfter - cpuBefore) / elapsedMs) * 100 : undefined;
    return { result, ...(cpuPercent !== undefined ? { cpuPercent } : {}) };
  } finally {
    if (running.child !== undefined) await group.stop(running.child);
  }
}

const fixed = (n: number, digits: number) => n.toFixed(digits);
const ratio = (a: number, b: number) => (b > 0 && Number.isFinite(a / b) ? `${(a / b).toFixed(2)}×` : '-');

/** The round with the median requests/s (its latencies and CPU come with it). */
function median(runs: readonly Measurement[]): Measurement | undefined {
  const sorted = [...runs].sort((a, b) => a.result.requestsPerSecond - b.result.requestsPerSecond);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

function report(rows: readonly Row[], rounds: number): string {
  const direct = median(rows.find((r) => r.system.id === 'direct')?.runs ?? [])?.result;
  const body = rows.flatMap(({ system, runs }) => {
    const m = median(runs);
    if (m === undefined) return [];
    const r = m.result;
    const rps = runs.map((x) => x.result.requestsPerSecond);
    return [
      [
        system.label,
        fixed(r.requestsPerSecond, 0),
        ...(rounds > 1 ? [`${fixed(Math.min(...rps), 0)}–${fixed(Math.max(...rps), 0)}`] : []),
        fixed(r.p50Ms, 2),
        fixed(r.p99Ms, 2),
        String(runs.reduce((n, x) => n + x.result.errors, 0)),
        m.cpuPercent === undefined ? '-' : `${fixed(m.cpuPercent, 0)}%`,
        direct ? ratio(r.requestsPerSecond, direct.requestsPerSecond) : '-',
        direct ? ratio(r.p50Ms, direct.p50Ms) : '-',
        direct ? ratio(r.p99Ms, direct.p99Ms) : '-',
      ],
    ];
  });
  const header = ['system', 'req/s', ...(rounds > 1 ? ['req/s range'] : []), 'p50 ms', 'p99 ms', 'errors', 'proxy CPU', 'req/s vs direct', 'p50 vs direct', 'p99 vs direct'];
  const lines = [rounds > 1 ? `median round of ${rounds} by req/s (lower middle when even; latency and CPU from that round; errors summed over rounds):` : '', table(header, body)];
  for (const r of rows) if (r.note !== undefined) lines.push(`${r.runs.length > 0 ? 'note' : 'not measured'}: ${r.system.label}: ${r.note.split('\n')[0]} (details above)`);
  return lines.filter((l) => l !== '').join('\n');
}

async function main(): Promise<void> {
  const options = parseOptions();
  const gen = findLoadGenerator(options.loadgen);
  const targetsKind = options.targets === 'auto' ? (onPath('nginx') ? 'nginx' : 'node') : options.targets;
  if (targetsKind === 'nginx' && !onPath('nginx')) throw new Error('--targets nginx: nginx is not on PATH');

  console.log('local-elb L7 benchmark (bench/l7.bench.ts)');
  console.log(machineLine());
  console.log(
    `load generator: ${gen.version}${gen.name === 'wrk' ? `, ${Math.min(options.threads, options.connections)} thread(s)` : ''}, ${options.connections} keep-alive connections, ` +
      `${options.warmupSeconds} s warm-up + ${options.durationSeconds} s measured per system${options.rounds > 1 ? `, ${options.rounds} rounds` : ''}, GET /`,
  );
  if (gen.name === 'autocannon') console.log('note: autocannon reports latency percentiles in whole milliseconds; install wrk for finer ones');
  const targets = await startTargets(targetsKind);
  console.log(`targets: ${targets.description}, each answering 200 ${JSON.stringify(TARGET_BODY)} with keep-alive`);
  console.log(`every process shares these ${os.availableParallelism()} cores; compare ratios within one run, not numbers across machines\n`);

  const rows: Row[] = systems(targets.ports)
    .filter((system) => system.id === 'direct' || options.only === undefined || options.only.has(system.id))
    .map((system) => ({ system, runs: [], ...(system.missing !== undefined ? { note: `skipped (${system.missing})` } : {}) }));
  for (const row of rows) if (row.note !== undefined) console.log(`- ${row.system.label}: ${row.note}`);
  for (let round = 1; round <= options.rounds; round++) {
    if (options.rounds > 1) console.log(`round ${round} of ${options.rounds}`);
    for (const row of rows) {
      if (row.note !== undefined) continue;
      try {
        const m = await measure(row.system, gen, options);
        row.runs.push(m);
        const r = m.result;
        console.log(`- ${row.system.label}: ${fixed(r.requestsPerSecond, 0)} req/s, p50 ${fixed(r.p50Ms, 2)} ms, p99 ${fixed(r.p99Ms, 2)} ms, ${r.errors} errors`);
      } catch (err) {
        if (group.stopping) return;
        if (row.system.id === 'direct') throw err;
        const message = err instanceof Error ? err.message : String(err);
        row.note = `failed (${message})`;
        console.log(`- ${row.system.label}: ${row.note}`);
      }
    }
  }
  console.log(`\n${report(rows, options.rounds)}`);
}

try {
  await main();
} catch (err) {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exitCode = 1;
} finally {
  await group.stopAll();
}
