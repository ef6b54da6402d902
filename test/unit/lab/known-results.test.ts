/**
 * The lab must reproduce published results before anyone trusts its other numbers. Each test
 * runs a built-in scenario (fewer requests than the CLI's default, for speed) or the pickers
 * themselves, with a fixed seed.
 */
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../../src/cli/lab.ts';
import { runLab, type LabReport } from '../../../src/lab/lab.ts';
import { parseScenario } from '../../../src/lab/scenario.ts';
import { runSimulation, type RunResult } from '../../../src/lab/simulator.ts';
import { seededRandom } from '../../../src/core/random.ts';
import { PowerOfTwoChoicesPicker, RandomPicker, type Picker } from '../../../src/algorithms/index.ts';

const run = (report: LabReport, label: string): RunResult => {
  const found = report.runs.find((r) => r.result.label === label);
  if (found === undefined) throw new Error(`no run ${label} in ${report.runs.map((r) => r.result.label).join(', ')}`);
  return found.result;
};
const share = (r: RunResult, name: string) => r.targets.find((t) => t.name === name)!.share;

interface Bin {
  outstanding: number;
}

/** Throws `balls` balls into `bins` bins with the picker (a ball stays: outstanding only grows); returns max load − mean load. */
function ballsIntoBins(make: () => Picker<Bin>, bins: number, balls: number): number {
  const picker = make();
  const b: Bin[] = Array.from({ length: bins }, () => ({ outstanding: 0 }));
  for (let i = 0; i < balls; i++) picker.pick(b)!.outstanding++;
  return Math.max(...b.map((x) => x.outstanding)) - balls / bins;
}

describe('power of two choices vs random: balls into bins at n = 100 (Azar et al. 1994, Mitzenmacher 1996)', () => {
  const random = (seed: number) => () => new RandomPicker<Bin>({ random: seededRandom(seed) });
  const p2c = (seed: number) => () => new PowerOfTwoChoicesPicker<Bin>({ random: seededRandom(seed) });

  it('n balls: the fullest bin holds about ln n / ln ln n ≈ 3–4 with random, about ln ln n / ln 2 + 1 ≈ 2–3 with two choices', () => {
    const trials = 200;
    let randomMax = 0;
    let p2cMax = 0;
    let p2cWorst = 0;
    for (let seed = 1; seed <= trials; seed++) {
      randomMax += ballsIntoBins(random(seed), 100, 100) + 1;
      const m = ballsIntoBins(p2c(seed), 100, 100) + 1;
      p2cMax += m;
      p2cWorst = Math.max(p2cWorst, m);
    }
    expect(randomMax / trials).toBeGreaterThan(3.5);
    expect(p2cMax / trials).toBeLessThan(2.7);
    expect(p2cWorst).toBeLessThanOrEqual(3);
  });

  it('100 n balls: random overshoots the mean by about √(2 (m/n) ln n) ≈ 30, two choices by a few (the gap does not grow with m)', () => {
    const gaps = [1, 2, 3, 4, 5].map((seed) => ({ random: ballsIntoBins(random(seed), 100, 10_000), p2c: ballsIntoBins(p2c(seed), 100, 10_000) }));
    for (const g of gaps) {
      expect(g.random).toBeGreaterThan(15);
      expect(g.p2c).toBeLessThanOrEqual(3);
    }
  });

  it('in the simulator, 100 one-at-a-time targets at 90% load: the busiest target holds far fewer requests at once with two choices', () => {
    const scenario = parseScenario({
      name: 'balls-into-bins',
      clients: { ratePerSecond: 9000 },
      targets: { count: 100, concurrency: 1, service: { distribution: 'exponential', meanMs: 10 } },
      algorithms: ['random', 'power_of_two_choices'],
    });
    const [rnd, two] = scenario.variants.map((v) => runSimulation(scenario, v, { requests: 60_000 }));
    const peak = (r: RunResult) => Math.max(...r.targets.map((t) => t.peakInFlight));
    expect(peak(two!) * 4).toBeLessThan(peak(rnd!));
    expect(two!.latencyMs.p99 * 3).toBeLessThan(rnd!.latencyMs.p99);
  });
});

describe('one slow target (10x) among ten', async () => {
  const report = runLab(await loadScenario('slow-target'), { requests: 40_000, only: ['round_robin', 'least_outstanding_requests'] });
  const rr = run(report, 'round_robin');
  const lor = run(report, 'least_outstanding_requests');

  it('least outstanding requests beats round robin on p99 and p99.9', () => {
    expect(lor.latencyMs.p99 * 1.5).toBeLessThan(rr.latencyMs.p99);
    expect(lor.latencyMs.p999).toBeLessThan(rr.latencyMs.p999);
  });

  it("round robin keeps every target's share equal, the slow one's included", () => {
    for (const t of rr.targets) expect(t.share).toBeCloseTo(0.1, 3);
    expect(rr.imbalance).toBeLessThan(1.01);
  });

  it('least outstanding requests starves the slow target and spreads the rest over the fast ones', () => {
    expect(share(lor, 't0')).toBeLessThan(0.04);
    for (const t of lor.targets.slice(1)) expect(t.share).toBeGreaterThan(0.095);
  });
});

describe('a fast-failing target (sinkholing)', async () => {
  // 100000 requests at 2400/s: 42 s, eight evaluations of automatic target weights (every 5 s).
  const report = runLab(await loadScenario('fast-failing'), { requests: 100_000 });

  it('attracts most of the traffic under least outstanding requests, but only its tenth under round robin', () => {
    const lor = run(report, 'least_outstanding_requests');
    const rr = run(report, 'round_robin');
    expect(share(lor, 't0')).toBeGreaterThan(0.3);
    expect(share(rr, 't0')).toBeCloseTo(0.1, 3);
    expect(lor.errors).toBeGreaterThan(3 * rr.errors);
    expect(lor.errorsByKind.target_5xx).toBe(lor.errors);
  });

  it('loses its traffic under weighted_random with anomaly mitigation', () => {
    const atw = run(report, 'weighted_random anomaly_mitigation=on');
    const plain = run(report, 'weighted_random');
    expect(share(atw, 't0')).toBeLessThan(0.035);
    expect(atw.errors * 3).toBeLessThan(plain.errors);
  });
});

describe('weighted_random with anomaly mitigation (spec 3.1)', () => {
  it('reduces the share of a target that answers 30% of its requests with errors, and the errors clients see', async () => {
    const report = runLab(await loadScenario('erroring-target'), { requests: 100_000, only: ['weighted_random', 'weighted_random anomaly_mitigation=on'] });
    const off = run(report, 'weighted_random');
    const on = run(report, 'weighted_random anomaly_mitigation=on');
    expect(share(off, 't0')).toBeCloseTo(0.1, 2);
    expect(share(on, 't0')).toBeLessThan(0.035);
    expect(on.errors * 3).toBeLessThan(off.errors);
  });
});

describe('long-lived connections (a target per connection)', () => {
  it('are spread unevenly by random, and evenly by round robin when the connections divide evenly', async () => {
    const report = runLab(await loadScenario('long-lived-connections'), { requests: 20_000, only: ['random', 'round_robin'] });
    const rnd = run(report, 'random');
    const rr = run(report, 'round_robin');
    expect(rnd.imbalance).toBeGreaterThan(1.3);
    expect(Math.min(...rnd.targets.map((t) => t.share))).toBeLessThan(0.06);
    expect(rr.imbalance).toBeLessThan(1.1);
  });
});

describe('determinism', () => {
  it('gives the same numbers, bit for bit, for the same seed, and different ones for another seed', async () => {
    const scenario = await loadScenario('churn');
    const a = runLab(scenario, { requests: 30_000, seed: 7, only: ['least_outstanding_requests', 'weighted_random'] });
    const b = runLab(scenario, { requests: 30_000, seed: 7, only: ['least_outstanding_requests', 'weighted_random'] });
    const c = runLab(scenario, { requests: 30_000, seed: 8, only: ['least_outstanding_requests'] });
    const results = (r: LabReport) => r.runs.map((x) => x.result);
    expect(JSON.stringify(results(a))).toBe(JSON.stringify(results(b)));
    expect(results(a)[0]!.latencyMs.p99).not.toBe(results(c)[0]!.latencyMs.p99);
  });
});
