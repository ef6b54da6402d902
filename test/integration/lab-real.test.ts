/**
 * The routing-algorithm lab on real sockets (issue #18): target processes serving the
 * scenario's model, local-elb in a process of its own, an open-loop load generator in another,
 * all on 127.0.0.1 with ports from the OS. Small scale (a few targets, a few seconds, low
 * rates), and no assertion about how fast anything is: the table's shape, every request
 * accounted for, processes ended, and the orderings the simulator publishes reproduced.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseScenario, type ScenarioInput } from '../../src/lab/scenario.ts';
import { runRealLab, type RealLabReport, type RealRun } from '../../src/harness/lab-real/run.ts';
import { alive, runCli, startCli } from '../support/cli.ts';
import { startTarget } from '../support/targets.ts';
import { waitFor } from '../support/wait.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'local-elb-lab-real-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const SMALL = `name: small-real
description: Three targets, t0 five times slower; two algorithms.
seed: 42
clients: { ratePerSecond: 40 }
targets:
  count: 3
  concurrency: 2
  service: { distribution: lognormal, meanMs: 10, sigma: 0.5 }
  overrides:
    - { targets: [0], latencyMultiplier: 5 }
loadBalancer:
  healthCheck: { intervalSeconds: 5, timeoutSeconds: 2, healthyThresholdCount: 2, unhealthyThresholdCount: 2 }
algorithms: [round_robin, least_outstanding_requests]
`;

/** PIDs whose parent is `pid` (from /proc/<pid>/stat, field 4). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

const isNumber = (cell: string) => /^\d[\d,]*(\.\d+)?$/.test(cell);

describe('local-elb bench algorithms --real, through the CLI', () => {
  it('prints the simulation table with real, sim and × beside each figure, one row per algorithm, and accounts for every request', async () => {
    const file = join(dir, 'small.yaml');
    const json = join(dir, 'small.json');
    await writeFile(file, SMALL);
    const { code, stdout, stderr } = await runCli(['bench', 'algorithms', '--scenario', file, '--real', '--duration', '2s', '--json', json]);
    expect(code, stderr).toBe(0);
    const lines = stdout.split('\n');

    // The header: group titles over real / sim / × for every figure, then one row per algorithm.
    const headerAt = lines.findIndex((l) => l.startsWith('algorithm') && l.includes('real'));
    expect(headerAt).toBeGreaterThan(0);
    for (const title of ['p50 ms', 'p90 ms', 'p99 ms', 'p99.9 ms', 'errors', 'imbalance', 'busiest target']) expect(lines[headerAt - 1]).toContain(title);
    const header = lines[headerAt]!.split(/\s{2,}/);
    expect(header).toEqual(['algorithm', ...Array.from({ length: 6 }, () => ['real', 'sim', '×']).flat(), 'real', 'sim']);
    const rows = lines.slice(headerAt + 1, headerAt + 3).map((l) => l.split(/\s{2,}/));
    expect(rows.map((r) => r[0])).toEqual(['round_robin', 'least_outstanding_requests']);
    expect(lines[headerAt + 3]).toBe('');
    for (const row of rows) {
      expect(row).toHaveLength(header.length);
      // p50, p90, p99, p99.9: measured and predicted are numbers above 0, and so is their ratio.
      for (let figure = 0; figure < 4; figure++) {
        const [real, sim, ratio] = row.slice(1 + 3 * figure, 4 + 3 * figure);
        expect([real, sim, ratio].every((c) => isNumber(c!)), row.join(' | ')).toBe(true);
        expect(Number(real) > 0 && Number(sim) > 0).toBe(true);
        expect(Math.abs(Number(ratio) - Number(real) / Number(sim)) / Number(ratio)).toBeLessThan(0.02); // (of rounded figures)
      }
      // errors: counts (the ratio is "-" when none were predicted); imbalance: numbers.
      expect(isNumber(row[13]!) && isNumber(row[14]!)).toBe(true);
      expect(row[15] === '-' || isNumber(row[15]!)).toBe(true);
      expect(row.slice(16, 19).every(isNumber)).toBe(true);
      expect(row[19]).toMatch(/^t[0-2] \d+\.\d%$/);
      expect(row[20]).toMatch(/^t[0-2] \d+\.\d%$/);
    }

    // Every request accounted for: sent = ok + failed, in the text and request by request in the JSON.
    const accounted = lines.filter((l) => /^ {2}\S+: [\d,]+ sent, /.test(l));
    expect(accounted).toHaveLength(2);
    for (const line of accounted) {
      const m = /: ([\d,]+) sent, ([\d,]+) ok, ([\d,]+) failed/.exec(line)!;
      const [sent, ok, failed] = m.slice(1).map((v) => Number(v.replace(/,/g, '')));
      expect(sent).toBeGreaterThan(0);
      expect(ok! + failed!).toBe(sent);
    }
    expect(stdout).toMatch(/machine: \d+ CPUs .*a shared machine/);
    const report = JSON.parse(await readFile(json, 'utf8')) as { requests: number; runs: (RealRun & { fates: NonNullable<RealRun['fates']> })[] };
    expect(report.runs).toHaveLength(2);
    for (const run of report.runs) {
      expect(run.measured.requests).toBe(report.requests);
      expect(run.predicted.requests).toBe(report.requests);
      for (const column of ['dueMs', 'latencyMs', 'status', 'outcome', 'target'] as const) expect(run.fates[column]).toHaveLength(report.requests);
      expect(run.fates.outcome.every((o) => typeof o === 'string' && o !== '')).toBe(true);
      expect(run.fates.outcome.filter((o) => o === 'ok').length).toBe(run.measured.ok);
      expect(run.measured.ok + run.measured.errors).toBe(report.requests);
      // Latency counts from when each request was due: never below the modelled service floor of 0.
      expect(run.fates.latencyMs.every((l) => l > 0)).toBe(true);
    }
  }, 180_000);

  it('stops every process it started on Ctrl-C and exits 130', async () => {
    const file = join(dir, 'interrupt.yaml');
    await writeFile(file, SMALL);
    const cli = startCli(['bench', 'algorithms', '--scenario', file, '--real', '--duration', '60s']);
    try {
      await waitFor(() => cli.stderr().includes('round_robin: running'), { timeoutMs: 90_000, what: 'the first run to start' });
      const children = childrenOf(cli.child.pid!);
      expect(children.length).toBe(5); // three targets, local-elb, the load generator
      cli.child.kill('SIGINT');
      expect(await cli.exited).toBe(130);
      await waitFor(() => children.every((pid) => !alive(pid)), { timeoutMs: 15_000, what: `children ${children.join(', ')} to end` });
    } finally {
      await cli.stop('SIGKILL');
    }
  }, 180_000);

  it('refuses what it cannot run on real sockets yet, and --duration without --real', async () => {
    const connections = await runCli(['bench', 'algorithms', '--scenario', 'long-lived-connections', '--real']);
    expect(connections.code).toBe(2);
    expect(connections.stderr).toContain('clients.connections');
    const noReal = await runCli(['bench', 'algorithms', '--scenario', 'homogeneous', '--duration', '5s']);
    expect(noReal.code).toBe(2);
    expect(noReal.stderr).toContain('--duration applies to a run on real sockets: add --real');
  }, 60_000);
});

/** A small scenario as the lab takes it. */
const scenario = (input: ScenarioInput) => parseScenario({ seed: 42, ...input });
const run = (report: RealLabReport, label: string) => report.runs.find((r) => r.label === label)!;
const share = (targets: RealRun['measured']['targets'], name: string) => targets.find((t) => t.name === name)!.share;

describe('the real run reproduces the simulator’s published orderings (small scale)', () => {
  it('slow-target: least outstanding requests beats round robin on p99, as predicted', async () => {
    // t0 20x slower (200 ms, one at a time): round robin sends it a third, 6/s of the 5/s it can
    // serve (the three serve 205/s together), so its queue grows; least outstanding requests sends
    // it a request only when it is idle. Predicted p99 (seed 42): 1324 ms vs 200 ms. Both run at
    // the same time, so a stall of this shared machine (a few hundred ms at worst) hits both alike.
    const report = await runRealLab(
      scenario({
        name: 'slow-target-small',
        clients: { ratePerSecond: 18 },
        targets: { count: 3, concurrency: 1, service: { distribution: 'constant', meanMs: 10 }, overrides: [{ targets: [0], latencyMultiplier: 20 }] },
        algorithms: ['round_robin', 'least_outstanding_requests'],
      }),
      { durationMs: 8000, together: true },
    );
    const rr = run(report, 'round_robin');
    const lor = run(report, 'least_outstanding_requests');
    expect(lor.predicted.latencyMs.p99).toBeLessThan(rr.predicted.latencyMs.p99);
    expect(lor.measured.latencyMs.p99).toBeLessThan(rr.measured.latencyMs.p99);
    for (const r of [rr, lor]) expect(r.measured.ok).toBe(r.measured.requests);
  }, 180_000);

  it('homogeneous: round robin’s shares stay equal (within one request of each other), as predicted', async () => {
    const report = await runRealLab(
      scenario({
        name: 'homogeneous-small',
        clients: { ratePerSecond: 50 },
        targets: { count: 3, concurrency: 2, service: { distribution: 'exponential', meanMs: 10 } },
        algorithms: ['round_robin'],
      }),
      { durationMs: 3000 },
    );
    const rr = run(report, 'round_robin');
    const spread = (counts: number[]) => Math.max(...counts) - Math.min(...counts);
    expect(spread(rr.predicted.targets.map((t) => t.requests))).toBeLessThanOrEqual(1);
    expect(spread(rr.measured.targets.map((t) => t.requests))).toBeLessThanOrEqual(1);
    expect(rr.measured.targets.reduce((a, t) => a + t.requests, 0)).toBe(rr.measured.requests);
  }, 180_000);

  it('fast-failing: the target that fails in 0.5 ms attracts traffic under least outstanding requests, as predicted', async () => {
    // t0 answers 500 in 0.5 ms; the others take 60 ms on average, one at a time. Round robin gives
    // t0 a third; least outstanding requests finds it idle whenever it looks. The bound 0.40:
    // the simulator's t0 share with these settings over 300 seeds is 0.444 at the lowest (median 0.556).
    const report = await runRealLab(
      scenario({
        name: 'fast-failing-small',
        clients: { ratePerSecond: 40 },
        targets: { count: 3, concurrency: 1, service: { distribution: 'exponential', meanMs: 60 }, overrides: [{ targets: [0], errorRatio: 1, errorLatencyMs: 0.5 }] },
        algorithms: ['round_robin', 'least_outstanding_requests'],
      }),
      { durationMs: 4000, together: true },
    );
    const rr = run(report, 'round_robin');
    const lor = run(report, 'least_outstanding_requests');
    const third = rr.measured.requests / 3;
    expect(Math.abs(rr.measured.targets[0]!.requests - third)).toBeLessThanOrEqual(1);
    expect(share(lor.predicted.targets, 't0')).toBeGreaterThan(0.4);
    expect(share(lor.measured.targets, 't0')).toBeGreaterThan(0.4);
    // Its requests are the errors clients see.
    expect(lor.measured.errorsBy['target 500']).toBe(lor.measured.targets[0]!.requests);
  }, 180_000);
});

describe('events on the real processes', () => {
  it('kills a target’s process at its stop (requests to it fail as the ELB finds it gone) and starts it again at its start', async () => {
    const report = await runRealLab(
      scenario({
        name: 'stop-start',
        clients: { ratePerSecond: 40 },
        targets: { count: 2, concurrency: 2, service: { distribution: 'exponential', meanMs: 10 } },
        loadBalancer: { healthCheck: { intervalSeconds: 30, timeoutSeconds: 5, healthyThresholdCount: 5, unhealthyThresholdCount: 2 } },
        events: [
          { atSeconds: 1, action: 'stop', targets: [1] },
          { atSeconds: 2, action: 'start', targets: [1] },
        ],
        algorithms: ['round_robin'],
      }),
      { durationMs: 4000, keepFates: true },
    );
    const rr = run(report, 'round_robin');
    const fates = rr.fates!;
    const failed = fates.outcome.map((o, i) => [o, fates.target[i], fates.dueMs[i]] as const).filter(([o]) => o !== 'ok');
    expect(rr.predicted.errors).toBeGreaterThan(0);
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.every(([o, target]) => target === 't1' && o.startsWith('502 ELB'))).toBe(true);
    // Back after its start: the last request t1 took (due 2 s after the start, at the end of the run) was answered.
    const lastToT1 = fates.target.lastIndexOf('t1');
    expect(fates.outcome[lastToT1]).toBe('ok');
    expect(rr.measured.ok + rr.measured.errors).toBe(rr.measured.requests);
  }, 180_000);
});

describe('late registration and the double hop on real processes', () => {
  it('registers a target at its registerAtSeconds: no request sent before then reaches it, and it serves after', async () => {
    const report = await runRealLab(
      scenario({
        name: 'late',
        clients: { ratePerSecond: 40 },
        targets: { count: 2, concurrency: 2, service: { distribution: 'exponential', meanMs: 10 }, overrides: [{ targets: [1], registerAtSeconds: 1, warmup: { multiplier: 3, seconds: 1 } }] },
        loadBalancer: { healthCheck: { intervalSeconds: 5, timeoutSeconds: 2, healthyThresholdCount: 2, unhealthyThresholdCount: 2 } },
        algorithms: ['round_robin'],
      }),
      { durationMs: 3000, keepFates: true },
    );
    const rr = run(report, 'round_robin');
    const f = rr.fates!;
    const toT1 = f.target.map((t, i) => i).filter((i) => f.target[i] === 't1');
    expect(toT1.length).toBeGreaterThan(0);
    // Causality, not a timing: the registration is sent at 1 s (a Node timer may fire up to a millisecond
    // early), so a request that went out before then cannot have reached t1.
    for (const i of toT1) expect(f.dueMs[i]! + f.sendLagMs[i]!).toBeGreaterThanOrEqual(999);
    expect(rr.predicted.targets[1]!.requests).toBeGreaterThan(0);
    expect(rr.measured.ok).toBe(rr.measured.requests);
  }, 180_000);

  it('double hop: kube-proxy stand-ins send each node’s requests to its own pods under Local, pod for pod as the simulator does', async () => {
    const report = await runRealLab(
      scenario({
        name: 'double-hop-small',
        clients: { ratePerSecond: 40 },
        targets: { count: 3, concurrency: 4, service: { distribution: 'exponential', meanMs: 10 } },
        kubernetes: { podsPerNode: [1, 2], externalTrafficPolicy: 'Local' },
        algorithms: ['round_robin'],
      }),
      { durationMs: 3000 },
    );
    const rr = run(report, 'round_robin Local');
    expect(rr.measured.targets.map((t) => t.name)).toEqual(['node-0/pod-0', 'node-1/pod-0', 'node-1/pod-1']);
    expect(rr.measured.ok).toBe(rr.measured.requests);
    // Round robin over two nodes gives node-0's lone pod half (within one request), and the seeded kube-proxy
    // chain on node-1 splits the other half as the simulator's does (the same draws in the same order).
    expect(Math.abs(rr.measured.targets[0]!.requests - rr.measured.requests / 2)).toBeLessThanOrEqual(1);
    rr.measured.targets.forEach((t, i) => expect(Math.abs(t.requests - rr.predicted.targets[i]!.requests)).toBeLessThanOrEqual(2));
  }, 180_000);
});

describe('--targets: the algorithms in front of your own running instances', () => {
  it('sends the scenario’s open-loop traffic through local-elb to the given URLs and attributes every request to one of them', async () => {
    const a = await startTarget('a');
    const b = await startTarget('b');
    try {
      const report = await runRealLab(
        scenario({
          name: 'yours',
          clients: { ratePerSecond: 40 },
          targets: { count: 3, concurrency: 2, service: { distribution: 'exponential', meanMs: 10 } },
          loadBalancer: { healthCheck: { intervalSeconds: 5, timeoutSeconds: 2, healthyThresholdCount: 2, unhealthyThresholdCount: 2 } },
          algorithms: ['round_robin'],
        }),
        { durationMs: 2000, targets: [`http://127.0.0.1:${a.port}/app`, `http://127.0.0.1:${b.port}/app`] },
      );
      expect(report.targets).toBe('yours');
      const rr = run(report, 'round_robin');
      expect(rr.measured.targets.map((t) => t.name)).toEqual(['t0', 't1']);
      expect(rr.predicted.targets).toHaveLength(2); // the prediction is the scenario's model with as many targets as URLs
      expect(rr.measured.ok).toBe(rr.measured.requests);
      expect(Math.abs(rr.measured.targets[0]!.requests - rr.measured.targets[1]!.requests)).toBeLessThanOrEqual(1);
      // What the instances saw: every measured request once (warm-ups and health checks carry no draws), on the URL's path.
      const measuredAt = (t: typeof a) => t.seen.filter((r) => r.headers['x-lab-unit'] !== undefined);
      expect(measuredAt(a).length + measuredAt(b).length).toBe(rr.measured.requests);
      expect(measuredAt(a).length).toBe(rr.measured.targets[0]!.requests);
      expect(new Set([...measuredAt(a), ...measuredAt(b)].map((r) => r.url))).toEqual(new Set(['/app']));
    } finally {
      await a.close();
      await b.close();
    }
  }, 180_000);

  it('refuses a scenario that stops or restarts targets it does not run', async () => {
    await expect(runRealLab(scenario({ name: 'x', clients: { ratePerSecond: 10 }, targets: { count: 1, service: { distribution: 'constant', meanMs: 1 } }, events: [{ atSeconds: 1, action: 'stop', targets: [0] }], algorithms: ['round_robin'] }), { targets: ['http://127.0.0.1:9/'] })).rejects.toThrow(
      /needs model targets/,
    );
  });
});
