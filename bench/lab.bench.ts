/**
 * Routing-algorithm lab benchmark: the wall time of one million simulated requests over ten
 * targets (the built-in `homogeneous` scenario: Poisson arrivals at 60% load, four requests at
 * a time per target, exponential service times), for each algorithm, on this one core. The
 * issue's target is under 10 s; this prints, it does not assert.
 *
 * Baseline, in the same run: the bare discrete-event loop on the same VirtualClock (the same
 * arrival and service-time draws and one completion timer per request, no target group, no
 * picker, no queue), so the ratio says what the load balancer's own code costs.
 *
 *   scripts/node24 node bench/lab.bench.ts     (LAB_BENCH_REQUESTS=1000000)
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { VirtualClock } from '../src/core/clock.ts';
import { runSimulation } from '../src/lab/simulator.ts';
import { builtinScenarioUrl, parseScenario } from '../src/lab/scenario.ts';
import { exponential, stream, unitServiceTime } from '../src/lab/workload.ts';
import { machineLine, table } from './support/machine.ts';

const REQUESTS = Number(process.env.LAB_BENCH_REQUESTS ?? 1_000_000);
if (!(Number.isInteger(REQUESTS) && REQUESTS > 0)) throw new RangeError(`LAB_BENCH_REQUESTS must be a positive integer: got ${process.env.LAB_BENCH_REQUESTS}`);

const scenario = parseScenario(parse(await readFile(fileURLToPath(builtinScenarioUrl('homogeneous')), 'utf8')), 'homogeneous');

/** The event loop alone: arrivals and completions on the clock, with the scenario's draws. */
function baseline(): number {
  const clock = new VirtualClock();
  const arrivals = stream(scenario.seed, 'arrivals');
  const service = stream(scenario.seed, 'service');
  const ratePerMs = scenario.clients.ratePerSecond / 1000;
  let generated = 0;
  let done = 0;
  const complete = () => {
    done++;
  };
  const arrive = () => {
    generated++;
    if (generated < REQUESTS) clock.setTimer(exponential(arrivals) / ratePerMs, arrive);
    clock.setTimer(unitServiceTime(scenario.targets.service, service) * scenario.targets.service.meanMs, complete);
  };
  clock.setTimer(0, arrive);
  const started = performance.now();
  while (done < REQUESTS) clock.advanceSync(1_000);
  return performance.now() - started;
}

console.log('local-elb routing-algorithm lab benchmark (bench/lab.bench.ts)');
console.log(machineLine());
console.log(`${REQUESTS.toLocaleString('en-US')} simulated requests over ${scenario.targets.count} targets (scenario ${scenario.name}), one run each, wall time\n`);

baseline(); // warm-up, untimed
const baselineMs = baseline();
const rows: string[][] = [['baseline: clock and draws only', (baselineMs / 1000).toFixed(2), '1.0×', Math.round(REQUESTS / (baselineMs / 1000)).toLocaleString('en-US')]];
for (const variant of scenario.variants) {
  const started = performance.now();
  const result = runSimulation(scenario, variant, { requests: REQUESTS });
  const wallMs = performance.now() - started;
  if (result.ok + result.errors !== REQUESTS) throw new Error(`${variant.label}: ${result.ok + result.errors} of ${REQUESTS} requests ended`);
  rows.push([variant.label, (wallMs / 1000).toFixed(2), `${(wallMs / baselineMs).toFixed(1)}×`, Math.round(REQUESTS / (wallMs / 1000)).toLocaleString('en-US')]);
}
console.log(table(['run', 'wall s', '× baseline', 'simulated requests/s'], rows));
console.log('\ntarget: one million requests over ten targets in under 10 s on one core');
