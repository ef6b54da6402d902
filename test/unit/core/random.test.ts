import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../src/core/random.ts';

const take = (seed: number, n: number) => {
  const r = seededRandom(seed);
  return Array.from({ length: n }, () => r.next());
};

describe('seededRandom', () => {
  it('gives the same sequence for the same seed', () => {
    expect(take(42, 100)).toEqual(take(42, 100));
  });

  it('gives different sequences for different seeds', () => {
    expect(take(1, 10)).not.toEqual(take(2, 10));
  });

  it('returns numbers in [0, 1)', () => {
    for (const x of take(7, 10_000)) {
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
    }
  });

  it('does not repeat the same value over a short run', () => {
    const values = take(123, 1_000);
    expect(new Set(values).size).toBe(values.length);
  });

  it('is roughly uniform: each tenth of [0, 1) gets 8–12 % of 10 000 draws', () => {
    const buckets = new Array<number>(10).fill(0);
    for (const x of take(99, 10_000)) buckets[Math.floor(x * 10)]!++;
    for (const count of buckets) {
      expect(count).toBeGreaterThan(800);
      expect(count).toBeLessThan(1_200);
    }
  });

  it('treats seeds modulo 2^32, so 2^32 + 5 and 5 give the same sequence', () => {
    expect(take(2 ** 32 + 5, 5)).toEqual(take(5, 5));
  });
});
