/**
 * How long the `local-elb` command takes to start (issue 17: under 200 ms of process time for
 * `--help` and for `describe-target-health` against a running instance). Each case runs the
 * real bin as a new process, N times one after the other; process time is the user + system
 * CPU of those processes and everything they started (read as this process's reaped-children
 * time from /proc/self/stat), wall time is measured around each run. The baseline is a bare
 * `node -e 0` in the same run, so the ratios say what local-elb adds.
 *
 *   scripts/node24 node bench/cli.bench.ts [--runs 20]
 *
 * The instance that describe-target-health asks is started in this process (one target group,
 * one target) before any timing; the CLI processes are separate from it.
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { startAdminServer } from '../src/admin/server.ts';
import { startLocalElb } from '../src/local-elb.ts';
import { machineLine, table } from './support/machine.ts';

const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 20;
if (!Number.isInteger(RUNS) || RUNS < 1) throw new RangeError(`--runs must be a positive integer: got ${process.argv[runsArg + 1]}`);
const BIN = fileURLToPath(new URL('../bin/local-elb.js', import.meta.url));
const BAR_MS = 200;

const ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** CPU ms of this process's children that have exited and been waited for (Linux). */
function reapedChildrenCpuMs(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / ticksPerSecond;
}

interface Case {
  readonly name: string;
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  /** Held to the 200 ms bar. */
  readonly bar?: boolean;
}

/** Runs one process to its end (asynchronously: the instance it may call lives in this process). */
function run(args: readonly string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; stderr: string }> {
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => child.once('exit', (status) => resolve({ status, stderr })));
}

async function measure(c: Case): Promise<{ cpuMs: number; wallMs: number }> {
  const env = { ...process.env, ...c.env };
  // One run first, outside the timing: it fills the compile cache the bin turns on.
  const warm = await run(c.args, env);
  if (warm.status !== 0) throw new Error(`${c.name} exited with ${warm.status}: ${warm.stderr}`);
  const cpuBefore = reapedChildrenCpuMs();
  const walls: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    const done = await run(c.args, env);
    walls.push(performance.now() - t0);
    if (done.status !== 0) throw new Error(`${c.name} exited with ${done.status}: ${done.stderr}`);
  }
  walls.sort((a, b) => a - b);
  return { cpuMs: (reapedChildrenCpuMs() - cpuBefore) / RUNS, wallMs: walls[Math.floor(walls.length / 2)]! };
}

const target = http.createServer((_req, res) => res.end('ok'));
await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
const targetPort = (target.address() as AddressInfo).port;
const elb = await startLocalElb({
  config: {
    targetGroups: [{ name: 'web', protocol: 'HTTP', targets: [{ id: '127.0.0.1', port: targetPort }] }],
    loadBalancers: [{ name: 'app', listeners: [{ port: 0, defaultActions: [{ type: 'forward', targetGroupName: 'web' }] }] }],
  },
});
const admin = await startAdminServer(elb, { port: 0 });

const cases: Case[] = [
  { name: 'node -e 0 (baseline)', args: ['-e', '0'] },
  { name: 'local-elb --help', args: [BIN, '--help'], bar: true },
  { name: 'local-elb describe-target-health', args: [BIN, 'describe-target-health', '--target-group-name', 'web', '--admin', admin.url], bar: true },
  { name: 'local-elb --help, no compile cache', args: [BIN, '--help'], env: { NODE_DISABLE_COMPILE_CACHE: '1' } },
  { name: 'local-elb describe-target-health, no compile cache', args: [BIN, 'describe-target-health', '--target-group-name', 'web', '--admin', admin.url], env: { NODE_DISABLE_COMPILE_CACHE: '1' } },
];

try {
  process.stdout.write(`${machineLine()}\nlocal-elb CLI start-up: ${RUNS} runs per case, one after the other\n\n`);
  const results: Array<{ c: Case; cpuMs: number; wallMs: number }> = [];
  for (const c of cases) results.push({ c, ...(await measure(c)) });
  const base = results[0]!;
  process.stdout.write(
    `${table(
      ['case', 'process ms/run', 'vs node -e 0', 'wall ms (median)', `under ${BAR_MS} ms`],
      results.map((r) => [r.c.name, r.cpuMs.toFixed(0), `${(r.cpuMs / base.cpuMs).toFixed(1)}×`, r.wallMs.toFixed(0), r.c.bar ? (r.cpuMs < BAR_MS ? 'yes' : 'NO') : '']),
    )}\n`,
  );
} finally {
  await admin.close();
  await elb.close();
  await new Promise<void>((resolve) => target.close(() => resolve()));
}
