import { describe, expect, it } from 'vitest';
import { seededRandom, type Random } from '../../../src/core/random.ts';
import {
  KubeProxyRandomPicker,
  kubeProxyRuleProbabilities,
  PowerOfTwoChoicesPicker,
  RandomPicker,
  WeightedRandomPicker,
  type Pickable,
  type Picker,
} from '../../../src/algorithms/index.ts';

interface Fake extends Pickable {
  readonly name: string;
  outstanding: number;
}

const fakes = (...loads: number[]): Fake[] => loads.map((outstanding, i) => ({ name: String.fromCharCode(97 + i), outstanding }));

/** A Random that returns the given numbers in order, then fails the test if asked for more. */
function scripted(...values: number[]): Random {
  let i = 0;
  return {
    next() {
      if (i >= values.length) throw new Error(`scripted random ran out after ${values.length} draws`);
      return values[i++]!;
    },
  };
}

function counts(picker: Picker<Fake>, candidates: readonly Fake[], n: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const name = picker.pick(candidates)!.name;
    out[name] = (out[name] ?? 0) + 1;
  }
  return out;
}

describe.each([
  ['random', (random: Random) => new RandomPicker<Fake>({ random })],
  ['power_of_two_choices', (random: Random) => new PowerOfTwoChoicesPicker<Fake>({ random })],
  ['kube_proxy_random', (random: Random) => new KubeProxyRandomPicker<Fake>({ random })],
  ['weighted_random', (random: Random) => new WeightedRandomPicker<Fake>({ random })],
])('%s', (name, make) => {
  it('names itself after the algorithm', () => {
    expect(make(seededRandom(1)).name).toBe(name);
  });

  it('returns undefined for no candidates and the only candidate when there is one', () => {
    const picker = make(seededRandom(1));
    expect(picker.pick([])).toBeUndefined();
    const [only] = fakes(3);
    for (let i = 0; i < 5; i++) expect(picker.pick([only!])).toBe(only);
  });

  it('spreads 60000 picks over 6 idle candidates within 4% of 10000 each (4.4 standard deviations)', () => {
    const c = counts(make(seededRandom(7)), fakes(0, 0, 0, 0, 0, 0), 60_000);
    expect(Object.keys(c).sort()).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    for (const n of Object.values(c)) expect(Math.abs(n - 10_000)).toBeLessThan(400);
  });

  it('gives the same picks for the same seed, bit for bit', () => {
    const picker1 = make(seededRandom(42));
    const picker2 = make(seededRandom(42));
    const c = fakes(0, 0, 0, 0, 0);
    const a = Array.from({ length: 200 }, () => picker1.pick(c)!.name).join('');
    const b = Array.from({ length: 200 }, () => picker2.pick(c)!.name).join('');
    expect(a).toBe(b);
    expect(new Set(a).size).toBe(5);
  });

  it("takes the context's random over its own when one is given", () => {
    const own = make(scripted());
    const picks = Array.from({ length: 20 }, () => own.pick(fakes(0, 0, 0, 0), { random: seededRandom(3) })!.name);
    expect(picks.length).toBe(20);
  });
});

describe('RandomPicker', () => {
  it.each([
    [0, 'a'],
    [0.249, 'a'],
    [0.25, 'b'],
    [0.5, 'c'],
    [0.9999, 'd'],
  ])('maps a draw of %d over 4 candidates to %s, whatever their load', (draw, expected) => {
    expect(new RandomPicker<Fake>({ random: scripted(draw) }).pick(fakes(9, 0, 5, 1))!.name).toBe(expected);
  });
});

describe('PowerOfTwoChoicesPicker', () => {
  it.each([
    // draws: first index = floor(d1 * n), second = floor(d2 * (n - 1)) skipping the first
    [[3, 1, 2], [0, 0], 'b'],
    [[3, 1, 2], [0, 0.99], 'c'],
    [[0, 1, 2], [0.5, 0], 'a'],
    [[2, 2, 2], [0.5, 0.99], 'b'],
    [[2, 2, 2], [0.99, 0], 'c'],
  ])('with loads %j and draws %j picks %s (fewer outstanding, the first drawn on a tie)', (loads, draws, expected) => {
    expect(new PowerOfTwoChoicesPicker<Fake>({ random: scripted(...draws) }).pick(fakes(...loads))!.name).toBe(expected);
  });

  it('draws two distinct candidates: of two, it always takes the less loaded', () => {
    expect(counts(new PowerOfTwoChoicesPicker<Fake>({ random: seededRandom(5) }), fakes(1, 0), 1000)).toEqual({ b: 1000 });
  });

  it('never picks the single most loaded candidate', () => {
    const c = counts(new PowerOfTwoChoicesPicker<Fake>({ random: seededRandom(5) }), fakes(0, 4, 9, 2), 10_000);
    expect(c.c).toBeUndefined();
    expect(c.a! > c.b! && c.a! > c.d!).toBe(true);
  });
});

describe('kubeProxyRuleProbabilities (spec 10.3)', () => {
  it.each([
    [1, [undefined]],
    [2, ['0.5000000000', undefined]],
    [3, ['0.3333333333', '0.5000000000', undefined]],
    [4, ['0.2500000000', '0.3333333333', '0.5000000000', undefined]],
    [6, ['0.1666666667', '0.2000000000', '0.2500000000', '0.3333333333', '0.5000000000', undefined]],
  ])('writes the %i-endpoint chain as %j (1/(n−i) with 10 decimals, the last rule always matches)', (n, expected) => {
    expect(kubeProxyRuleProbabilities(n)).toEqual(expected);
  });
});

describe('KubeProxyRandomPicker', () => {
  it.each([
    [[0.2], 'a'],
    [[0.3333333333, 0.1], 'b'],
    [[0.34, 0.49], 'b'],
    [[0.34, 0.5], 'c'],
    [[0.99, 0.99], 'c'],
  ])('walks the 3-rule chain with draws %j and matches %s', (draws, expected) => {
    expect(new KubeProxyRandomPicker<Fake>({ random: scripted(...draws) }).pick(fakes(0, 0, 0))!.name).toBe(expected);
  });

  it('is blind to load: the busiest endpoint keeps its share', () => {
    const c = counts(new KubeProxyRandomPicker<Fake>({ random: seededRandom(9) }), fakes(100, 0, 0), 30_000);
    expect(Math.abs(c.a! - 10_000)).toBeLessThan(300);
  });
});
