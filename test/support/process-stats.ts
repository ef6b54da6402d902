/**
 * What the test process holds, for leak and memory tests (Linux only: /proc): open file
 * descriptors, the peak resident set size over an interval, and the open-files limit, raised
 * when the hard limit allows it. The ALB runs in the test process, so these measure it too.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Open file descriptors of this process (sockets, pipes, files). */
export function openFileDescriptors(): number {
  return readdirSync('/proc/self/fd').length;
}

export interface RssSampler {
  /** RSS in bytes when sampling started. */
  readonly baseline: number;
  /** Highest RSS seen so far, in bytes. */
  readonly max: number;
  /** Stops sampling and returns the peak growth over the baseline, in bytes. */
  stop(): number;
}

/** Samples `process.memoryUsage().rss` every `everyMs` (timers run between I/O callbacks, so a busy loop samples late, not never). */
export function sampleRss(everyMs = 50): RssSampler {
  const baseline = process.memoryUsage().rss;
  let max = baseline;
  const timer = setInterval(() => (max = Math.max(max, process.memoryUsage().rss)), everyMs);
  return {
    baseline,
    get max() {
      return max;
    },
    stop() {
      clearInterval(timer);
      max = Math.max(max, process.memoryUsage().rss);
      return max - baseline;
    },
  };
}

/** The soft and hard limits on open files, from /proc/self/limits. */
export function openFilesLimit(): { soft: number; hard: number } {
  const line = readFileSync('/proc/self/limits', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Max open files'));
  const [soft, hard] = (line ?? '').split(/\s{2,}/).slice(1, 3);
  const parse = (v: string | undefined) => (v === 'unlimited' ? Infinity : Number(v));
  return { soft: parse(soft), hard: parse(hard) };
}

/**
 * Makes sure this process may open `needed` files: raises the soft limit with prlimit(1) when
 * the hard limit allows it (no privilege needed), else throws an error that says what to run.
 */
export function ensureOpenFilesLimit(needed: number): void {
  const { soft, hard } = openFilesLimit();
  if (soft >= needed) return;
  const fix = `run the tests from a shell with \`ulimit -n ${needed}\` (or higher)`;
  if (hard < needed) {
    throw new Error(`this test needs ${needed} open files, but the limit is ${soft} (hard limit ${hard}, which only root can raise): ${fix}`);
  }
  try {
    execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${needed}:${hard === Infinity ? 'unlimited' : hard}`], { stdio: 'pipe' });
  } catch (err) {
    throw new Error(`this test needs ${needed} open files, but the limit is ${soft} and prlimit could not raise it (${(err as Error).message.split('\n')[0]}): ${fix}`);
  }
  const after = openFilesLimit().soft;
  if (after < needed) throw new Error(`this test needs ${needed} open files; prlimit left the limit at ${after}: ${fix}`);
}
