/**
 * What a run of the routing-algorithm lab on real sockets costs, and how far it lands from the
 * simulator's prediction: for each algorithm of a scenario, the rates reached (offered by the
 * schedule, answered), how late the open-loop generator sent, the CPU of the generator, of
 * local-elb and of the target processes (shares of one core over the run, and local-elb's
 * µs per request), and the measured p50 and p99 as ratios of the simulator's prediction for the
 * very same requests (the same-run baseline). It prints; it asserts nothing.
 *
 *   scripts/node24 node bench/lab-real.bench.ts [scenario] [--duration 10s] [--rate N] [--algorithms a,b]
 *
 * Default: slow-target for 10 s per algorithm at its own rate (350/s). The machine is printed
 * first, with its load average before and after: on a shared machine, other work moves these
 * figures from run to run.
 */
import os from 'node:os';
import { loadScenario, parseDuration } from '../src/cli/lab.ts';
import { formatRealLabReport } from '../src/harness/lab-real/report.ts';
import { runRealLab } from '../src/harness/lab-real/run.ts';
import { machineLine, table } from './support/machine.ts';

const args = process.argv.slice(2);
const option = (name: string) => {
  const at = args.indexOf(name);
  if (at < 0) return undefined;
  const value = args[at + 1];
  if (value === undefined) throw new Error(`${name} needs a value`);
  args.splice(at, 2);
  return value;
};
const duration = option('--duration') ?? '10s';
const rate = option('--rate');
const only = option('--algorithms');
const name = args[0] ?? 'slow-target';

const controller = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => controller.abort(new Error(`interrupted by ${signal}`)));

console.log('local-elb lab on real sockets: cost and distance from the prediction (bench/lab-real.bench.ts)');
console.log(machineLine());
console.log(`load average before: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
const report = await runRealLab(await loadScenario(name), {
  durationMs: parseDuration(duration),
  ...(rate !== undefined ? { ratePerSecond: Number(rate) } : {}),
  ...(only !== undefined ? { only: only.split(',') } : {}),
  signal: controller.signal,
  onProgress: (line) => process.stderr.write(`${line}\n`),
});
console.log(`load average after: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
console.log(`scenario ${report.scenario.name}: ${report.requests} requests at ${report.ratePerSecond}/s over ${duration} per algorithm, seed ${report.seed}\n`);
const pct = (share: number) => `${(100 * share).toFixed(1)}%`;
console.log(
  table(
    ['run', 'offered/s', 'answered/s', 'send lag p99 ms', 'late sends', 'generator CPU', 'local-elb CPU', 'local-elb µs/request', 'targets CPU', 'p50 real/sim', 'p99 real/sim'],
    report.runs.map((r) => [
      r.label,
      r.generator.offeredPerSecond.toFixed(1),
      r.generator.answeredPerSecond.toFixed(1),
      r.generator.sendLagMs.p99.toFixed(2),
      String(r.generator.lateSends),
      pct(r.generator.cpuShare),
      pct(r.proxyCpuShare),
      ((r.proxyCpuMs * 1000) / r.measured.requests).toFixed(0),
      r.targetsCpuShare === undefined ? '-' : pct(r.targetsCpuShare),
      `${(r.measured.latencyMs.p50 / r.predicted.latencyMs.p50).toFixed(2)}×`,
      `${(r.measured.latencyMs.p99 / r.predicted.latencyMs.p99).toFixed(2)}×`,
    ]),
  ),
);
console.log(`\n${formatRealLabReport(report)}`);
