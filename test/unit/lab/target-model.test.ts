/**
 * The scenario's target model, as the real run's target processes serve it and the simulator
 * computes it: concurrency slots with a FIFO queue, the service-time distributions, error
 * ratio and error latency, warm-up and GC pauses, on a VirtualClock. Seeded throughout.
 */
import { describe, expect, it } from 'vitest';
import { VirtualClock, type Clock } from '../../../src/core/clock.ts';
import { parseScenario, type ScenarioInput } from '../../../src/lab/scenario.ts';
import { drawRequest, ModelTarget, resolveTargetModels, serviceFinish, type ModelAnswer, type TargetModelSpec } from '../../../src/lab/target-model.ts';
import { stream } from '../../../src/lab/workload.ts';

const spec = (over: Partial<TargetModelSpec> = {}): TargetModelSpec => ({
  index: 0,
  name: 't0',
  service: { distribution: 'constant', meanMs: 10 },
  concurrency: 1,
  meanMs: 10,
  errorRatio: 0,
  errorLatencyMs: undefined,
  pauses: undefined,
  warmup: undefined,
  registerAtMs: 0,
  kubeNode: -1,
  podOnNode: 0,
  ...over,
});
const unit = { unit: 1, errorDraw: 0.5 };

/** Submits at the clock's current time; records (label, time answered, answer). */
function recorder(clock: Clock) {
  const answers: { label: string; atMs: number; answer: ModelAnswer }[] = [];
  return {
    answers,
    submit: (target: ModelTarget, label: string, draws = unit) => target.submit(draws, (answer) => answers.push({ label, atMs: clock.now(), answer })),
  };
}

describe('ModelTarget: concurrency slots and a FIFO queue', () => {
  it('serves 2 at once and queues the rest in arrival order when concurrency is 2 (constant 10 ms)', () => {
    const clock = new VirtualClock();
    const target = new ModelTarget(spec({ concurrency: 2 }), { clock });
    const r = recorder(clock);
    for (const label of ['a', 'b', 'c', 'd', 'e']) r.submit(target, label);
    expect([target.inService, target.queued, target.peakInFlight]).toEqual([2, 3, 5]);
    clock.advanceSync(100);
    expect(r.answers.map((a) => [a.label, a.atMs])).toEqual([
      ['a', 10],
      ['b', 10],
      ['c', 20],
      ['d', 20],
      ['e', 30],
    ]);
    expect([target.inService, target.queued, target.served]).toEqual([0, 0, 5]);
  });

  it('starts a request that arrives at a free slot on arrival, not when the last one ended', () => {
    const clock = new VirtualClock();
    const target = new ModelTarget(spec(), { clock });
    const r = recorder(clock);
    r.submit(target, 'a');
    clock.advanceSync(25);
    r.submit(target, 'b');
    clock.advanceSync(100);
    expect(r.answers.map((a) => [a.label, a.answer.startMs, a.answer.finishMs])).toEqual([
      ['a', 0, 10],
      ['b', 25, 35],
    ]);
  });

  it('frees a slot at the modelled finish when its timer fires 1 ms late: lateness adds to each answer, it does not compound in the queue', () => {
    const vc = new VirtualClock();
    const late: Clock = { now: () => vc.now(), setTimer: (ms, fn) => vc.setTimer(ms + 1, fn) };
    const target = new ModelTarget(spec(), { clock: late });
    const r = recorder(late);
    for (const label of ['a', 'b', 'c']) r.submit(target, label);
    vc.advanceSync(100);
    expect(r.answers.map((a) => [a.label, a.answer.startMs, a.answer.finishMs, a.atMs])).toEqual([
      ['a', 0, 10, 11],
      ['b', 10, 20, 21],
      ['c', 20, 30, 31],
    ]);
  });

  it('starts a queued request on its arrival when it came after the modelled finish but before the late timer fired', () => {
    const vc = new VirtualClock();
    const late: Clock = { now: () => vc.now(), setTimer: (ms, fn) => vc.setTimer(ms + 5, fn) };
    const target = new ModelTarget(spec(), { clock: late });
    const r = recorder(late);
    r.submit(target, 'a'); // finishes at 10 in the model, answered at 15
    vc.advanceSync(12);
    r.submit(target, 'b'); // the slot still looks busy at 12: queued, starts at 12 (not 10)
    vc.advanceSync(100);
    expect(r.answers.map((a) => [a.label, a.answer.startMs, a.answer.finishMs])).toEqual([
      ['a', 0, 10],
      ['b', 12, 22],
    ]);
  });
});

describe('ModelTarget: service times, errors, warm-up and GC pauses', () => {
  it('takes unit draw × mean × latency multiplier (a 10x slower target at mean 10 ms takes 100 ms for a draw of 1, 50 ms for 0.5)', () => {
    const clock = new VirtualClock();
    const target = new ModelTarget(spec({ concurrency: 2, meanMs: 100 }), { clock });
    const r = recorder(clock);
    r.submit(target, 'one', { unit: 1, errorDraw: 0.9 });
    r.submit(target, 'half', { unit: 0.5, errorDraw: 0.9 });
    clock.advanceSync(1000);
    expect(r.answers.map((a) => [a.label, a.atMs])).toEqual([
      ['half', 50],
      ['one', 100],
    ]);
  });

  it.each([
    ['fails a request whose error draw is below the error ratio (0.29 < 0.3)', 0.3, undefined, 0.29, true, 10],
    ['serves a request whose error draw equals the error ratio (0.3, not below)', 0.3, undefined, 0.3, false, 10],
    ['answers an error in errorLatencyMs (0.5 ms, fast failure) when it is set', 1, 0.5, 0.99, true, 0.5],
    ['takes a normal service time for an error when errorLatencyMs is not set', 1, undefined, 0.99, true, 10],
  ])('%s', (_name, errorRatio, errorLatencyMs, errorDraw, failed, finishMs) => {
    expect(serviceFinish(spec({ errorRatio, errorLatencyMs }), { unit: 1, errorDraw }, 0, Number.NEGATIVE_INFINITY)).toEqual({ failed, finishMs });
  });

  it.each([
    [0, 30],
    [10_000, 20],
    [20_000, 10],
    [40_000, 10],
  ])('warms up from 3x slower over 20 s: a 10 ms request starting %d ms after the process started takes %d ms', (sinceStartMs, takesMs) => {
    const clock = new VirtualClock(5_000);
    const target = new ModelTarget(spec({ warmup: { multiplier: 3, ms: 20_000 } }), { clock });
    target.start();
    clock.advanceSync(sinceStartMs);
    const r = recorder(clock);
    r.submit(target, 'x');
    clock.advanceSync(1000);
    expect(r.answers[0]!.answer.finishMs - r.answers[0]!.answer.startMs).toBeCloseTo(takesMs, 9);
  });

  it('is warm when it was running from the start (no start() call)', () => {
    expect(serviceFinish(spec({ warmup: { multiplier: 10, ms: 90_000 } }), unit, 0, Number.NEGATIVE_INFINITY).finishMs).toBe(10);
  });

  it('holds a request arriving during a GC pause until the pause ends (50 ms every 1000 ms from 950 ms)', () => {
    const clock = new VirtualClock();
    const target = new ModelTarget(spec({ pauses: { everyMs: 1000, pauseMs: 50, offsetMs: 0 } }), { clock });
    const r = recorder(clock);
    clock.advanceSync(960);
    r.submit(target, 'in-pause');
    clock.advanceSync(1000);
    expect(r.answers[0]!.answer.finishMs).toBeCloseTo(1010, 9);
  });
});

describe('service-time distributions, seeded', () => {
  const n = 20_000;
  it.each([
    ['exponential', { distribution: 'exponential' as const, meanMs: 10 }, 1],
    ['lognormal σ 0.5', { distribution: 'lognormal' as const, meanMs: 10, sigma: 0.5 }, Math.sqrt(Math.exp(0.25) - 1)],
    ['lognormal σ 1', { distribution: 'lognormal' as const, meanMs: 10, sigma: 1 }, Math.sqrt(Math.E - 1)],
  ])('a target drawing its own %s service times averages its mean within 4 standard errors over 20,000 requests', (_name, service, cv) => {
    const target = new ModelTarget(spec({ service, meanMs: 10 }), { clock: new VirtualClock(), random: stream(7, 'service/t0') });
    let sum = 0;
    for (let i = 0; i < n; i++) sum += target.drawOwn().unit;
    // unit draws have mean 1 and the distribution's coefficient of variation as their standard deviation
    expect(Math.abs(sum / n - 1)).toBeLessThan((4 * cv) / Math.sqrt(n));
  });

  it('a constant service time is the mean every time', () => {
    const target = new ModelTarget(spec(), { clock: new VirtualClock() });
    expect(new Set(Array.from({ length: 100 }, () => target.drawOwn().unit))).toEqual(new Set([1]));
  });

  it('gives the same draws for the same seed and other draws for another seed', () => {
    const draws = (seed: number) => {
      const t = new ModelTarget(spec({ service: { distribution: 'lognormal', meanMs: 10, sigma: 1 } }), { clock: new VirtualClock(), random: stream(seed, 'service/t0') });
      return Array.from({ length: 50 }, () => t.drawOwn());
    };
    expect(draws(42)).toEqual(draws(42));
    expect(draws(42)).not.toEqual(draws(43));
  });

  it('drawRequest takes the service draw from one stream and the error draw from the other, as the simulator does for its k-th request', () => {
    const service = { distribution: 'exponential' as const, meanMs: 10 };
    const [s1, e1] = [stream(42, 'service'), stream(42, 'errors')];
    const first = drawRequest(service, s1, e1);
    expect(first.unit).toBe(-Math.log(1 - stream(42, 'service').next()));
    expect(first.errorDraw).toBe(stream(42, 'errors').next());
  });
});

describe('resolveTargetModels', () => {
  const scenario = (input: Partial<ScenarioInput>) =>
    parseScenario({
      name: 'x',
      clients: { ratePerSecond: 100 },
      targets: { count: 3, concurrency: 4, service: { distribution: 'exponential', meanMs: 10 } },
      algorithms: ['round_robin'],
      ...input,
    });

  it('applies each override to its targets only (t1 10x slower with 2 slots, t2 failing fast and joining cold at 30 s)', () => {
    const s = scenario({
      targets: {
        count: 3,
        concurrency: 4,
        service: { distribution: 'exponential', meanMs: 10 },
        overrides: [
          { targets: [1], latencyMultiplier: 10, concurrency: 2 },
          { targets: [2], errorRatio: 1, errorLatencyMs: 0.5, registerAtSeconds: 30, warmup: { multiplier: 10, seconds: 90 } },
        ],
      },
    });
    const [t0, t1, t2] = resolveTargetModels(s, 42);
    expect(t0).toMatchObject({ name: 't0', concurrency: 4, meanMs: 10, errorRatio: 0, registerAtMs: 0, warmup: undefined, pauses: undefined });
    expect(t1).toMatchObject({ name: 't1', concurrency: 2, meanMs: 100 });
    expect(t2).toMatchObject({ name: 't2', concurrency: 4, meanMs: 10, errorRatio: 1, errorLatencyMs: 0.5, registerAtMs: 30_000, warmup: { multiplier: 10, ms: 90_000 } });
  });

  it('draws each open GC phase from the seed (the same for the same seed, in [0, everyMs))', () => {
    const s = scenario({
      targets: { count: 3, concurrency: 4, service: { distribution: 'exponential', meanMs: 10 }, overrides: [{ targets: [0, 1, 2], gcPause: { everyMs: 1000, pauseMs: 50 } }] },
    });
    const offsets = (seed: number) => resolveTargetModels(s, seed).map((t) => t.pauses!.offsetMs);
    expect(offsets(42)).toEqual(offsets(42));
    expect(offsets(42)).not.toEqual(offsets(43));
    for (const o of offsets(42)) expect(o >= 0 && o < 1000).toBe(true);
  });

  it('names the double hop’s pods by node (pods 1/2 over two nodes)', () => {
    const s = scenario({ targets: { count: 3, concurrency: 4, service: { distribution: 'exponential', meanMs: 10 } }, kubernetes: { podsPerNode: [1, 2] } });
    expect(resolveTargetModels(s, 42).map((t) => [t.name, t.kubeNode, t.podOnNode])).toEqual([
      ['node-0/pod-0', 0, 0],
      ['node-1/pod-0', 1, 0],
      ['node-1/pod-1', 1, 1],
    ]);
  });
});
