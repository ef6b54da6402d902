import { describe, expect, it } from 'vitest';
import { arrivalTimes, exponential, finishWithPauses, stream, unitServiceTime } from '../../../src/lab/workload.ts';

describe('finishWithPauses', () => {
  const cycle = { everyMs: 100, pauseMs: 20, offsetMs: 0 }; // runs [0, 80), paused [80, 100), …

  it.each([
    [0, 10, 10],
    [0, 80, 80],
    [0, 81, 101],
    [70, 30, 120],
    [85, 10, 110],
    [80, 0, 100],
    [0, 250, 310],
    [10, 0, 10],
  ])('work starting at %d ms for %d ms finishes at %d ms', (start, service, finish) => {
    expect(finishWithPauses(start, service, cycle)).toBeCloseTo(finish, 9);
  });

  it('shifts the cycle by its offset (pauses in [30, 50) of each 100 ms when the offset is 50)', () => {
    expect(finishWithPauses(0, 10, { everyMs: 100, pauseMs: 20, offsetMs: 50 })).toBe(10);
    expect(finishWithPauses(25, 10, { everyMs: 100, pauseMs: 20, offsetMs: 50 })).toBeCloseTo(55, 9);
  });

  it('finishes without pauses at start + service', () => {
    expect(finishWithPauses(7, 3, undefined)).toBe(10);
  });
});

describe('random streams and draws', () => {
  it('gives each purpose its own repeatable stream', () => {
    const a = Array.from({ length: 5 }, () => stream(42, 'arrivals').next());
    expect(new Set(a).size).toBe(1);
    expect(stream(42, 'arrivals').next()).not.toBe(stream(42, 'service').next());
    expect(stream(42, 'arrivals').next()).not.toBe(stream(43, 'arrivals').next());
  });

  it.each([
    [{ distribution: 'exponential' as const, meanMs: 1 }],
    [{ distribution: 'lognormal' as const, meanMs: 1, sigma: 0.5 }],
    [{ distribution: 'lognormal' as const, meanMs: 1, sigma: 1.5 }],
    [{ distribution: 'constant' as const, meanMs: 1 }],
  ])('draws %j service times with mean 1', (model) => {
    const random = stream(1, 'service');
    let sum = 0;
    const n = 200_000;
    for (let i = 0; i < n; i++) sum += unitServiceTime(model, random);
    expect(sum / n).toBeGreaterThan(0.97);
    expect(sum / n).toBeLessThan(1.03);
  });

  it('draws exponential inter-arrival times with mean 1', () => {
    const random = stream(3, 'arrivals');
    let sum = 0;
    for (let i = 0; i < 100_000; i++) sum += exponential(random);
    expect(sum / 100_000).toBeCloseTo(1, 1);
  });
});

describe('arrivalTimes: the simulator’s Poisson arrivals, for the real run’s load generator', () => {
  it('sums exponential gaps from the seed’s arrivals stream, in order, until the duration', () => {
    const times = arrivalTimes(42, 100, 10_000);
    const arrivals = stream(42, 'arrivals');
    let t = 0;
    for (const at of times) {
      t += exponential(arrivals) / 0.1;
      expect(at).toBe(t);
    }
    expect(t + exponential(arrivals) / 0.1).toBeGreaterThanOrEqual(10_000);
    // 1,000 expected; a Poisson count is within 4 standard deviations (√1000 ≈ 32) but for 1 run in 15,000.
    expect(Math.abs(times.length - 1000)).toBeLessThan(4 * Math.sqrt(1000));
    expect(arrivalTimes(42, 100, 10_000)).toEqual(times);
    expect(arrivalTimes(43, 100, 10_000)).not.toEqual(times);
  });
});
