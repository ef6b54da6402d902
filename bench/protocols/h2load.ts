/**
 * h2load (Debian nghttp2-client) as the protocols bench's HTTP/2 load generator, in its own
 * process: `clients` connections with up to `streams` concurrent streams each, for a duration
 * (`-D`), one thread. h2load verifies no certificates. It prints no percentiles: the mean time
 * per request is what it gives.
 */
import { spawnSync } from 'node:child_process';
import type { ProcessGroup } from '../support/processes.ts';

export interface H2loadOptions {
  readonly clients: number;
  readonly streams: number;
  readonly durationSeconds: number;
  /** Run only on these CPUs (`taskset -c`). */
  readonly cpus?: string | undefined;
}

export interface H2loadResult {
  /** 2xx answers. */
  readonly requests: number;
  /** 2xx answers per second of the measured duration. */
  readonly requestsPerSecond: number;
  readonly seconds: number;
  readonly meanMs: number | undefined;
  /** Failed, errored and timed-out requests, plus answers that were not 2xx. */
  readonly errors: number;
}

export function h2loadVersion(bin: string): string {
  const out = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  return /h2load (nghttp2\/\S+)/.exec(`${out.stdout}${out.stderr}`)?.[1] ?? '?';
}

/** Runs h2load against `url` (`https://` by ALPN h2, `http://` as h2c with prior knowledge) and parses its report. */
export async function runH2load(group: ProcessGroup, bin: string, url: string, options: H2loadOptions): Promise<H2loadResult> {
  const args = ['-t', '1', '-c', String(options.clients), '-m', String(options.streams), '-D', String(options.durationSeconds), url];
  const child = group.spawn('h2load', { command: bin, args, stdout: true, cpus: options.cpus });
  const { code } = await child.exited;
  if (code !== 0) throw new Error(`h2load exited with code ${code}: ${child.stderrTail() || child.stdout}`);
  return parseH2load(child.stdout);
}

/** Parses h2load's summary: `finished in 3.00s, 21840.00 req/s, …`, the requests and status lines, `time for request`. */
export function parseH2load(out: string): H2loadResult {
  const find = (re: RegExp, what: string) => {
    const m = re.exec(out);
    if (m === null) throw new Error(`cannot find ${what} in h2load output:\n${out}`);
    return m;
  };
  const finished = find(/^finished in ([\d.]+)(us|ms|s), [\d.]+ req\/s/m, 'the "finished in" line');
  const requests = find(/^requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/m, 'the requests line');
  const status = find(/^status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/m, 'the status codes line');
  const mean = /^time for request:\s+\S+\s+\S+\s+([\d.]+)(us|ms|s)/m.exec(out);
  const toMs = (value: string, unit: string) => Number(value) * ({ us: 0.001, ms: 1, s: 1000 }[unit] ?? NaN);
  const [failed, errored, timeout] = requests.slice(2, 5).map(Number) as [number, number, number];
  const ok = Number(status[1]);
  const seconds = toMs(finished[1]!, finished[2]!) / 1000;
  const non2xx = status.slice(2, 5).reduce((n, s) => n + Number(s), 0);
  return {
    requests: ok,
    requestsPerSecond: ok / seconds,
    seconds,
    meanMs: mean === null ? undefined : toMs(mean[1]!, mean[2]!),
    errors: failed + errored + timeout + non2xx,
  };
}
