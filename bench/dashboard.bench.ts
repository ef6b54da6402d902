/**
 * Does an open dashboard slow the data path (issue #16)? The ALB's saturation throughput and
 * its CPU time per request, with nobody watching, with a headless Chromium showing the
 * dashboard (the Debian chromium, when installed), and with 10 bare Server-Sent Events clients
 * on /v1/events (the server's side of 10 open dashboards, without a browser's own CPU).
 *
 * `local-elb serve` runs in its own process (the ALB, the admin API and the dashboard's
 * stream together, as users run it) over three targets in another, and the load generator
 * (wrk, else autocannon) in a third. Rounds interleave the variants; the report gives medians
 * and ratios against the same run's no-dashboard baseline. CPU per request is read from /proc
 * for the serve process alone, so the browser's own CPU does not count there (it does compete
 * for the machine's cores in requests/s, as it would on a laptop).
 *
 *   scripts/node24 node bench/dashboard.bench.ts [--rounds 5] [--duration 5] [--warmup 3] [--connections 50]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { findLoadGenerator, type LoadResult } from './l7/load-generator.ts';
import { machineLine, table } from './support/machine.ts';
import { cpuTimeMs, onPath, ProcessGroup, startNodeChild, stopChildrenOnExit, untilAnswering } from './support/processes.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    duration: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '3' },
    connections: { type: 'string', default: '50' },
  },
});
const rounds = Number(values.rounds);
const durationSeconds = Number(values.duration);
const warmupSeconds = Number(values.warmup);
const connections = Number(values.connections);

const root = path.join(import.meta.dirname, '..');
const group = new ProcessGroup();
const scratch = mkdtempSync(path.join(os.tmpdir(), 'local-elb-dashboard-bench-'));
stopChildrenOnExit(group, () => rmSync(scratch, { recursive: true, force: true }));

type Variant = 'none' | 'chromium' | 'sse×10';

async function main(): Promise<void> {
  const { ports } = await startNodeChild(group, 'targets', path.join(import.meta.dirname, 'support', 'child-targets.ts'), ['3'], 20_000);
  const config = {
    targetGroups: [{ name: 'web', protocol: 'HTTP', port: 80, healthCheckPath: '/', targets: ports.map((port) => ({ id: '127.0.0.1', port })) }],
    loadBalancers: [{ name: 'app', listeners: [{ port: 0, defaultActions: [{ type: 'forward', targetGroupName: 'web' }] }] }],
  };
  const file = path.join(scratch, 'elb.json');
  writeFileSync(file, JSON.stringify(config));
  const serve = group.spawn('local-elb serve', {
    command: process.execPath,
    args: [path.join(root, 'bin/local-elb.js'), 'serve', '--config', file, '--admin', '127.0.0.1:0', '--log-level', 'warn'],
    env: { ...process.env, LOCAL_ELB_STATE_DIR: scratch },
    stdout: true,
  });
  const deadline = Date.now() + 30_000;
  while (!/admin API on http/.test(serve.stdout) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const albUrl = /listening on (http:\/\/\S+)/.exec(serve.stdout)?.[1];
  const adminUrl = /admin API on (http:\/\/\S+)/.exec(serve.stdout)?.[1];
  if (albUrl === undefined || adminUrl === undefined) throw new Error(`serve did not start: ${serve.stdout} ${serve.stderrTail()}`);
  await untilAnswering(`${albUrl}/`, serve, 'the ALB', 20_000);

  const chromiumPath = onPath('chromium');
  const { chromium } = chromiumPath !== undefined ? await import('playwright-core') : { chromium: undefined };
  const browser = chromium ? await chromium.launch({ executablePath: chromiumPath!, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] }) : undefined;
  const variants: Variant[] = browser ? ['none', 'chromium', 'sse×10'] : ['none', 'sse×10'];
  const loadgen = findLoadGenerator('auto', scratch);
  const results = new Map<Variant, Array<{ rps: number; cpuUsPerRequest: number; p99Ms: number }>>(variants.map((v) => [v, []]));

  const run = async (): Promise<{ load: LoadResult; cpuMs: number }> => {
    const before = cpuTimeMs(serve.pid) ?? 0;
    const load = await loadgen.run(group, `${albUrl}/`, { connections, durationSeconds, threads: 1 });
    return { load, cpuMs: (cpuTimeMs(serve.pid) ?? 0) - before };
  };
  await loadgen.run(group, `${albUrl}/`, { connections, durationSeconds: warmupSeconds, threads: 1 });
  try {
    for (let round = 0; round < rounds; round++) {
      for (const variant of variants) {
        const close: Array<() => Promise<void> | void> = [];
        if (variant === 'chromium') {
          const page = await browser!.newPage();
          await page.goto(`${adminUrl}/`);
          await page.locator('body[data-connected="true"]').waitFor({ timeout: 10_000 });
          close.push(() => page.close());
        } else if (variant === 'sse×10') {
          for (let i = 0; i < 10; i++) {
            const req = http.get(`${adminUrl}/v1/events`, (res) => res.resume());
            close.push(() => void req.destroy());
          }
        }
        const { load, cpuMs } = await run();
        for (const c of close) await c();
        results.get(variant)!.push({ rps: load.requestsPerSecond, cpuUsPerRequest: (cpuMs * 1000) / Math.max(1, load.requests), p99Ms: load.p99Ms });
        process.stderr.write(`round ${round + 1} ${variant}: ${load.requestsPerSecond.toFixed(0)} req/s, ${((cpuMs * 1000) / Math.max(1, load.requests)).toFixed(1)} µs CPU/request\n`);
      }
    }
  } finally {
    await browser?.close();
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const base = results.get('none')!;
  const baseRps = median(base.map((r) => r.rps));
  const baseCpu = median(base.map((r) => r.cpuUsPerRequest));
  console.log(machineLine());
  console.log(`load generator ${loadgen.version}, ${connections} connections, ${rounds} rounds of ${durationSeconds} s per variant, interleaved; medians`);
  console.log(
    table(
      ['dashboard', 'req/s', 'vs none', 'CPU µs/req (serve)', 'vs none', 'p99 ms'],
      variants.map((v) => {
        const rs = results.get(v)!;
        const rps = median(rs.map((r) => r.rps));
        const cpu = median(rs.map((r) => r.cpuUsPerRequest));
        return [v, rps.toFixed(0), (rps / baseRps).toFixed(3), cpu.toFixed(1), (cpu / baseCpu).toFixed(3), median(rs.map((r) => r.p99Ms)).toFixed(2)];
      }),
    ),
  );
}

main()
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => group.stopAll());
