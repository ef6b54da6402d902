/**
 * The load generators of the L7 bench, always in their own process. Closed loop (saturation):
 * `wrk` when it is on PATH, else autocannon's CLI under Node; both hold `connections`
 * keep-alive connections busy for `durationSeconds` and report requests/s and latency
 * percentiles. Open loop (fixed rate): bench/l7/open-loop.ts, which sends on a timetable and
 * measures from each request's intended send time.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { onPath, type ProcessGroup } from '../support/processes.ts';

export interface LoadOptions {
  readonly connections: number;
  readonly durationSeconds: number;
  /** wrk threads; autocannon runs one event loop. */
  readonly threads: number;
  /** Extra request headers (`Connection: close` makes every request open a new connection). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Run the generator only on these CPUs (`taskset -c`). */
  readonly cpus?: string;
}

export interface LoadResult {
  readonly requests: number;
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** When the generator reports it: wrk given a scratch directory for its Lua script, autocannon. */
  readonly p999Ms?: number;
  /** Non-2xx/3xx responses plus socket errors and timeouts. */
  readonly errors: number;
}

export interface LoadGenerator {
  readonly name: 'wrk' | 'autocannon';
  /** Name and version, for the header of the report. */
  readonly version: string;
  run(group: ProcessGroup, url: string, options: LoadOptions): Promise<LoadResult>;
}

/**
 * wrk's `done()` hook, for the percentiles `--latency` does not print (p99.9) and exact
 * microseconds for the ones it does. Defining only `done` keeps wrk on its fast path (no Lua
 * per request).
 */
const WRK_PERCENTILES_LUA = `done = function(summary, latency, requests)
  io.write(string.format("wrk-percentiles-us p50=%d p99=%d p99.9=%d\\n",
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9)))
end
`;

/** `scriptDir`: where wrk's Lua script is written; without it wrk reports no p99.9. */
export function findLoadGenerator(prefer: 'auto' | 'wrk' | 'autocannon', scriptDir?: string): LoadGenerator {
  const wrk = onPath('wrk');
  if (prefer === 'wrk' && wrk === undefined) throw new Error('--loadgen wrk: wrk is not on PATH');
  if (wrk !== undefined && prefer !== 'autocannon') return wrkGenerator(wrk, scriptDir);
  return autocannonGenerator();
}

function wrkGenerator(bin: string, scriptDir: string | undefined): LoadGenerator {
  let script: string | undefined;
  if (scriptDir !== undefined) {
    script = path.join(scriptDir, 'percentiles.lua');
    writeFileSync(script, WRK_PERCENTILES_LUA);
  }
  // `wrk -v` prints its version, then its usage, and exits 1.
  const out = spawnSync(bin, ['-v'], { encoding: 'utf8' });
  const version = `${out.stdout}${out.stderr}`.split('\n')[0]?.replace(/\s*Copyright.*$/, '').trim() || 'wrk';
  return {
    name: 'wrk',
    version,
    async run(group, url, { connections, durationSeconds, threads, headers = {}, cpus }) {
      const t = Math.min(threads, connections);
      const h = Object.entries(headers).flatMap(([name, value]) => ['-H', `${name}: ${value}`]);
      const s = script === undefined ? [] : ['-s', script];
      const args = ['-t', String(t), '-c', String(connections), '-d', `${durationSeconds}s`, '--latency', '--timeout', '5s', ...s, ...h, url];
      const child = group.spawn('wrk', { command: bin, args, stdout: true, cpus });
      const { code } = await child.exited;
      if (code !== 0) throw new Error(`wrk exited with code ${code}: ${child.stderrTail() || child.stdout}`);
      return parseWrk(child.stdout);
    },
  };
}

/** Parses `wrk --latency` output, and the line of WRK_PERCENTILES_LUA when it is there. */
export function parseWrk(out: string): LoadResult {
  const number = (re: RegExp, what: string) => {
    const m = re.exec(out);
    if (m === null) throw new Error(`cannot find ${what} in wrk output:\n${out}`);
    return m;
  };
  const toMs = (value: string, unit: string) => Number(value) * ({ us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit] ?? NaN);
  const p50 = number(/^\s*50%\s+([\d.]+)(us|ms|s|m|h)\s*$/m, 'the 50% latency');
  const p99 = number(/^\s*99%\s+([\d.]+)(us|ms|s|m|h)\s*$/m, 'the 99% latency');
  const requests = Number(number(/^\s*(\d+) requests in /m, 'the request count')[1]);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  const errors = (socket ? socket.slice(1).reduce((s, n) => s + Number(n), 0) : 0) + (non2xx ? Number(non2xx[1]) : 0);
  const exact = /^wrk-percentiles-us p50=(\d+) p99=(\d+) p99\.9=(\d+)$/m.exec(out);
  return {
    requests,
    requestsPerSecond: Number(number(/^Requests\/sec:\s+([\d.]+)/m, 'Requests/sec')[1]),
    p50Ms: exact ? Number(exact[1]) / 1000 : toMs(p50[1]!, p50[2]!),
    p99Ms: exact ? Number(exact[2]) / 1000 : toMs(p99[1]!, p99[2]!),
    ...(exact ? { p999Ms: Number(exact[3]) / 1000 } : {}),
    errors,
  };
}

function autocannonGenerator(): LoadGenerator {
  const require = createRequire(import.meta.url);
  const script = require.resolve('autocannon');
  const { version } = JSON.parse(readFileSync(require.resolve('autocannon/package.json'), 'utf8')) as { version: string };
  return {
    name: 'autocannon',
    version: `autocannon ${version} (CLI, own process)`,
    async run(group, url, { connections, durationSeconds, headers = {}, cpus }) {
      const h = Object.entries(headers).flatMap(([name, value]) => ['-H', `${name}=${value}`]);
      const args = [script, '-j', '-n', '-c', String(connections), '-d', String(durationSeconds), ...h, url];
      const child = group.spawn('autocannon', { command: process.execPath, args, stdout: true, cpus });
      const { code } = await child.exited;
      if (code !== 0) throw new Error(`autocannon exited with code ${code}: ${child.stderrTail()}`);
      const r = JSON.parse(child.stdout) as {
        duration: number;
        requests: { total: number };
        latency: { p50: number; p99: number; p99_9?: number };
        non2xx: number;
        errors: number;
        timeouts: number;
      };
      return {
        requests: r.requests.total,
        requestsPerSecond: r.requests.total / r.duration,
        p50Ms: r.latency.p50,
        p99Ms: r.latency.p99,
        ...(r.latency.p99_9 !== undefined ? { p999Ms: r.latency.p99_9 } : {}),
        errors: r.non2xx + r.errors + r.timeouts,
      };
    },
  };
}

export interface OpenLoopOptions {
  readonly connections: number;
  /** Total requests per second over all connections. */
  readonly rate: number;
  /** Sent on the same timetable but not recorded. */
  readonly warmupSeconds: number;
  readonly durationSeconds: number;
  /** Run the generator only on these CPUs (`taskset -c`). */
  readonly cpus?: string;
}

/** What bench/l7/open-loop.ts prints: latencies from each request's due time. */
export interface OpenLoopResult {
  /** The rate asked for, req/s. */
  readonly rate: number;
  /** Responses (2xx/3xx) to requests due in the measured window, per second from the window's start to the later of its end and the last response. */
  readonly achievedRate: number;
  readonly completed: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  readonly maxMs: number;
  /** Requests sent in the measured window. */
  readonly sends: number;
  /** Sends more than 1 ms after their due time: the previous response on the connection was late, or the generator was. */
  readonly lateSends: number;
  readonly sendLagP99Ms: number;
  /** Requests due in the window never sent before it closed: the system fell behind the rate. */
  readonly unsent: number;
  /** Non-2xx/3xx responses, dropped connections, and responses still missing 2 s after the end. */
  readonly errors: number;
}

/**
 * V8 flags for the open-loop generator. Without TurboFan (Maglev still optimises, within the
 * first few hundred calls): its compiles of the hot path land about 2.6 s into a 4000 req/s
 * run, take 5–25 ms on the generator's core, and showed as a tail spike for every system,
 * direct included.
 */
const OPEN_LOOP_NODE_FLAGS = ['--no-turbofan'];

/** Runs bench/l7/open-loop.ts in its own process against `url`. */
export async function runOpenLoop(group: ProcessGroup, url: string, options: OpenLoopOptions): Promise<OpenLoopResult> {
  const script = path.join(import.meta.dirname, 'open-loop.ts');
  const args = [...OPEN_LOOP_NODE_FLAGS, script, url, String(options.connections), String(options.rate), String(options.warmupSeconds), String(options.durationSeconds)];
  const child = group.spawn('open-loop generator', { command: process.execPath, args, stdout: true, cpus: options.cpus });
  const { code } = await child.exited;
  if (code !== 0) throw new Error(`the open-loop generator exited with code ${code}: ${child.stderrTail()}`);
  return JSON.parse(child.stdout) as OpenLoopResult;
}
