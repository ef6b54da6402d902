/**
 * Picker micro-benchmarks (tinybench, in process): the cost of one `pick` for every picker in
 * `algorithms` (round_robin, least_outstanding_requests, weighted_random, and the lab's random,
 * power_of_two_choices and kube_proxy_random, seeded) over 3 to 10000 candidates, and of one TargetGroup
 * acquire() + lease.release() (candidates cached, a picker, a lease) on a virtual clock.
 * Each timed call runs a batch of operations so the timer's own cost stays small; results are
 * per operation, with the ratio to a same-run baseline (an array index read in the same loop).
 *
 *   scripts/node24 node bench/pickers.bench.ts     (PICKERS_BENCH_TIME_MS=500 per task)
 */
import { Bench } from 'tinybench';
import { parseConfig } from '../src/config/schema.ts';
import { VirtualClock } from '../src/core/clock.ts';
import { seededRandom } from '../src/core/random.ts';
import { algorithms, awsAlgorithms, createPicker, type AlgorithmName } from '../src/algorithms/index.ts';
import { TargetGroup } from '../src/targets/target-group.ts';
import { Target } from '../src/targets/target.ts';
import { machineLine, table } from './support/machine.ts';

const SIZES = [3, 100, 1000, 10_000] as const;
const ALGORITHMS = Object.keys(algorithms) as AlgorithmName[];
/** Pickers whose pick walks the candidates (the rest are O(1)). */
const SCAN = new Set<AlgorithmName>(['least_outstanding_requests', 'kube_proxy_random']);
const isAws = (a: AlgorithmName) => (awsAlgorithms as readonly string[]).includes(a);
const TIME_MS = Number(process.env.PICKERS_BENCH_TIME_MS ?? 500);
if (!(TIME_MS > 0)) throw new RangeError(`PICKERS_BENCH_TIME_MS must be a positive number: got ${process.env.PICKERS_BENCH_TIME_MS}`);

/** Written by every timed loop (a variable the closures share) so no loop can be optimised away. */
export let sink: unknown;

/** Operations per timed call: enough that one call lasts well over the timer's resolution. */
function batchFor(costScalesWithN: boolean, n: number): number {
  return costScalesWithN ? Math.min(1000, Math.max(10, Math.floor(200_000 / n))) : 1000;
}

/**
 * Real `Target`s (the only shape pickers see in the proxy, so the JIT sees the same shape here
 * as in the acquire benchmarks), with outstanding counts 0–4 spread so
 * least_outstanding_requests has ties to break.
 */
function candidates(n: number): Target[] {
  const thresholds = { healthyThresholdCount: 5, unhealthyThresholdCount: 2, initialHealthyThresholdCount: 1 };
  return Array.from({ length: n }, (_, i) => {
    const target = new Target(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, 80, thresholds);
    target.outstanding = (i * 7919) % 5;
    return target;
  });
}

/** A target group with `n` healthy targets, health checked by a probe that always passes. */
async function healthyGroup(algorithm: AlgorithmName, n: number): Promise<TargetGroup> {
  const config = parseConfig({
    targetGroups: [
      {
        name: 'bench',
        protocol: 'HTTP',
        port: 80,
        attributes: { 'load_balancing.algorithm.type': isAws(algorithm) ? algorithm : 'round_robin' },
        targets: Array.from({ length: n }, (_, i) => ({ id: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` })),
      },
    ],
  }).targetGroups[0]!;
  const clock = new VirtualClock();
  // Lab-only pickers are not ELB attribute values: hand the group a seeded one.
  const picker = isAws(algorithm) ? undefined : createPicker<Target>(algorithm, { random: seededRandom(1) });
  const group = new TargetGroup({ config, clock, probe: async () => ({ ok: true }), ...(picker ? { picker } : {}) });
  group.setLoadBalancers(['app']);
  await clock.advance(0);
  if (group.healthyHostCount !== n) throw new Error(`expected ${n} healthy targets before timing, got ${group.healthyHostCount}`);
  return group;
}

interface Case {
  readonly name: string;
  readonly batch: number;
}

const bench = new Bench({ time: TIME_MS, warmupTime: Math.min(100, TIME_MS), throws: true });
const cases: Case[] = [];
function add(name: string, batch: number, fn: () => void): void {
  cases.push({ name, batch });
  bench.add(name, fn);
}

// Baselines: the loop with nothing in it, and the loop reading the next array element.
const BASELINE = 'baseline: array index read';
{
  const batch = batchFor(false, 0);
  const noop = () => undefined;
  add('baseline: empty function call', batch, () => {
    for (let k = 0; k < batch; k++) sink = noop();
  });
  const array = candidates(3);
  let i = 0;
  add(BASELINE, batch, () => {
    for (let k = 0; k < batch; k++) {
      sink = array[i];
      i = i + 1 === array.length ? 0 : i + 1;
    }
  });
}

for (const algorithm of ALGORITHMS) {
  for (const n of SIZES) {
    const picker = createPicker(algorithm, { random: seededRandom(1) });
    const list = candidates(n);
    const batch = batchFor(SCAN.has(algorithm), n);
    add(`pick ${algorithm} n=${n}`, batch, () => {
      for (let k = 0; k < batch; k++) sink = picker.pick(list);
    });
  }
}

for (const algorithm of ALGORITHMS) {
  for (const n of SIZES) {
    const group = await healthyGroup(algorithm, n);
    const batch = batchFor(SCAN.has(algorithm), n);
    add(`TargetGroup.acquire+release ${algorithm} n=${n}`, batch, () => {
      for (let k = 0; k < batch; k++) {
        const lease = group.acquire();
        lease.release();
        sink = lease;
      }
    });
  }
}

console.log('local-elb picker benchmarks (bench/pickers.bench.ts)');
console.log(machineLine());
console.log(`tinybench ${TIME_MS} ms per task after warm-up; each timed call runs a batch of operations, results are per operation\n`);

await bench.run();

const perOp = new Map<string, { opsPerSecond: number; nsPerOp: number; rme: number }>();
for (const task of bench.tasks) {
  const result = task.result;
  if (result.state !== 'completed') throw new Error(`${task.name}: ${result.state}${result.state === 'errored' ? `: ${result.error.message}` : ''}`);
  const batch = cases.find((c) => c.name === task.name)!.batch;
  const nsPerOp = (result.period * 1e6) / batch;
  perOp.set(task.name, { opsPerSecond: 1e9 / nsPerOp, nsPerOp, rme: result.latency.rme });
}
const baseline = perOp.get(BASELINE)!;
console.log(
  table(
    ['task', 'ops/s', 'ns/op', '±%', `× ${BASELINE.replace('baseline: ', '')}`],
    cases.map(({ name }) => {
      const r = perOp.get(name)!;
      return [name, Math.round(r.opsPerSecond).toLocaleString('en-US'), r.nsPerOp.toFixed(1), r.rme.toFixed(1), `${(r.nsPerOp / baseline.nsPerOp).toFixed(1)}×`];
    }),
  ),
);
