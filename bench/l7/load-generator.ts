/**
 * The load generator of the L7 bench, always in its own process: `wrk` when it is on PATH,
 * else autocannon's CLI under Node. Both hold `connections` keep-alive connections open for
 * `durationSeconds` and report requests/s and latency percentiles.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { onPath, type ProcessGroup } from '../support/processes.ts';

export interface LoadOptions {
  readonly connections: number;
  readonly durationSeconds: number;
  /** wrk threads; autocannon runs one event loop. */
  readonly threads: number;
  /** Extra request headers (`Connection: close` makes every request open a new connection). */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface LoadResult {
  readonly requests: number;
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Non-2xx/3xx responses plus socket errors and timeouts. */
  readonly errors: number;
}

export interface LoadGenerator {
  readonly name: 'wrk' | 'autocannon';
  /** Name and version, for the header of the report. */
  readonly version: string;
  run(group: ProcessGroup, url: string, options: LoadOptions): Promise<LoadResult>;
}

export function findLoadGenerator(prefer: 'auto' | 'wrk' | 'autocannon'): LoadGenerator {
  const wrk = onPath('wrk');
  if (prefer === 'wrk' && wrk === undefined) throw new Error('--loadgen wrk: wrk is not on PATH');
  if (wrk !== undefined && prefer !== 'autocannon') return wrkGenerator(wrk);
  return autocannonGenerator();
}

function wrkGenerator(bin: string): LoadGenerator {
  // `wrk -v` prints its version, then its usage, and exits 1.
  const out = spawnSync(bin, ['-v'], { encoding: 'utf8' });
  const version = `${out.stdout}${out.stderr}`.split('\n')[0]?.replace(/\s*Copyright.*$/, '').trim() || 'wrk';
  return {
    name: 'wrk',
    version,
    async run(group, url, { connections, durationSeconds, threads, headers = {} }) {
      const t = Math.min(threads, connections);
      const h = Object.entries(headers).flatMap(([name, value]) => ['-H', `${name}: ${value}`]);
      const args = ['-t', String(t), '-c', String(connections), '-d', `${durationSeconds}s`, '--latency', '--timeout', '5s', ...h, url];
      const child = group.spawn('wrk', { command: bin, args, stdout: true });
      const { code } = await child.exited;
      if (code !== 0) throw new Error(`wrk exited with code ${code}: ${child.stderrTail() || child.stdout}`);
      return parseWrk(child.stdout);
    },
  };
}

/** Parses `wrk --latency` output. */
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
  return {
    requests,
    requestsPerSecond: Number(number(/^Requests\/sec:\s+([\d.]+)/m, 'Requests/sec')[1]),
    p50Ms: toMs(p50[1]!, p50[2]!),
    p99Ms: toMs(p99[1]!, p99[2]!),
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
    async run(group, url, { connections, durationSeconds, headers = {} }) {
      const h = Object.entries(headers).flatMap(([name, value]) => ['-H', `${name}=${value}`]);
      const args = [script, '-j', '-n', '-c', String(connections), '-d', String(durationSeconds), ...h, url];
      const child = group.spawn('autocannon', { command: process.execPath, args, stdout: true });
      const { code } = await child.exited;
      if (code !== 0) throw new Error(`autocannon exited with code ${code}: ${child.stderrTail()}`);
      const r = JSON.parse(child.stdout) as {
        duration: number;
        requests: { total: number };
        latency: { p50: number; p99: number };
        non2xx: number;
        errors: number;
        timeouts: number;
      };
      return {
        requests: r.requests.total,
        requestsPerSecond: r.requests.total / r.duration,
        p50Ms: r.latency.p50,
        p99Ms: r.latency.p99,
        errors: r.non2xx + r.errors + r.timeouts,
      };
    },
  };
}
