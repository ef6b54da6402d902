/**
 * The bulk-throughput client of the L4 bench, always in its own process: `wrk` on a few
 * keep-alive connections downloading `/bulk` over and over when wrk is on PATH, else
 * child-download.ts under Node. Reports bytes read over the measured time.
 */
import path from 'node:path';
import { onPath, type ProcessGroup } from '../support/processes.ts';

export interface BulkOptions {
  readonly connections: number;
  readonly durationSeconds: number;
}

export interface BulkResult {
  /** Complete downloads. */
  readonly downloads: number;
  readonly bytes: number;
  readonly seconds: number;
  readonly megabytesPerSecond: number;
  readonly errors: number;
}

export interface BulkClient {
  readonly name: 'wrk' | 'node';
  readonly description: string;
  run(group: ProcessGroup, url: string, options: BulkOptions): Promise<BulkResult>;
}

export function findBulkClient(prefer: 'auto' | 'wrk' | 'node'): BulkClient {
  const wrk = onPath('wrk');
  if (prefer === 'wrk' && wrk === undefined) throw new Error('--bulk-client wrk: wrk is not on PATH');
  if (wrk !== undefined && prefer !== 'node') return wrkBulk(wrk);
  return nodeBulk();
}

const result = (downloads: number, bytes: number, seconds: number, errors: number): BulkResult => ({
  downloads,
  bytes,
  seconds,
  megabytesPerSecond: bytes / seconds / 1e6,
  errors,
});

function wrkBulk(bin: string): BulkClient {
  return {
    name: 'wrk',
    description: 'wrk, 1 thread',
    async run(group, url, { connections, durationSeconds }) {
      const args = ['-t', '1', '-c', String(connections), '-d', `${durationSeconds}s`, '--timeout', '30s', url];
      const child = group.spawn('wrk (bulk)', { command: bin, args, stdout: true });
      const { code } = await child.exited;
      if (code !== 0) throw new Error(`wrk exited with code ${code}: ${child.stderrTail() || child.stdout}`);
      return parseWrkTransfer(child.stdout);
    },
  };
}

/** Parses `N requests in 3.00s, 7.69GB read` (binary units) and wrk's error lines; non-2xx responses are not downloads. */
export function parseWrkTransfer(out: string): BulkResult {
  const m = /^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h), ([\d.]+)(B|KB|MB|GB|TB) read/m.exec(out);
  if (m === null) throw new Error(`cannot find the transfer summary in wrk output:\n${out}`);
  const seconds = Number(m[2]) * ({ us: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 }[m[3]!] ?? NaN);
  const bytes = Number(m[4]) * ({ B: 1, KB: 2 ** 10, MB: 2 ** 20, GB: 2 ** 30, TB: 2 ** 40 }[m[5]!] ?? NaN);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  const failed = non2xx ? Number(non2xx[1]) : 0;
  const errors = (socket ? socket.slice(1).reduce((s, n) => s + Number(n), 0) : 0) + failed;
  return result(Number(m[1]) - failed, bytes, seconds, errors);
}

function nodeBulk(): BulkClient {
  return {
    name: 'node',
    description: `Node ${process.version} http client (bench/l4/child-download.ts)`,
    async run(group, url, { connections, durationSeconds }) {
      const script = path.join(import.meta.dirname, 'child-download.ts');
      const child = group.spawn('download client', { command: process.execPath, args: [script, url, String(connections), String(durationSeconds)], stdout: true });
      const { code } = await child.exited;
      if (code !== 0) throw new Error(`download client exited with code ${code}: ${child.stderrTail()}`);
      const r = JSON.parse(child.stdout) as { downloads: number; bytes: number; seconds: number; errors: number };
      return result(r.downloads, r.bytes, r.seconds, r.errors);
    },
  };
}
