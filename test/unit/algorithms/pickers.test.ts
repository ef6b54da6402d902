import { describe, expect, it } from 'vitest';
import { algorithms, createPicker, LeastOutstandingRequestsPicker, RoundRobinPicker, type Pickable, type Picker } from '../../../src/algorithms/index.ts';

interface Fake extends Pickable {
  readonly name: string;
  outstanding: number;
}

const fakes = (...loads: number[]): Fake[] => loads.map((outstanding, i) => ({ name: String.fromCharCode(97 + i), outstanding }));

function picks(picker: Picker<Fake>, candidates: readonly Fake[], n: number, hold = false): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const c = picker.pick(candidates)!;
    out.push(c.name);
    if (hold) c.outstanding++;
  }
  return out;
}

describe('createPicker', () => {
  it.each(Object.keys(algorithms))('creates %s, a picker that names itself after the attribute value', (name) => {
    expect(createPicker(name).name).toBe(name);
  });

  it('creates a fresh picker each time, so groups do not share rotation state', () => {
    const a = createPicker<Fake>('round_robin');
    const b = createPicker<Fake>('round_robin');
    const c = fakes(0, 0);
    a.pick(c);
    expect(b.pick(c)!.name).toBe('a');
  });

  it.each(['ROUND_ROBIN', 'least_connections', '', 'toString'])('rejects %j and lists the known algorithms', (name) => {
    expect(() => createPicker(name)).toThrow(RangeError);
    expect(() => createPicker(name)).toThrow(/known: round_robin, least_outstanding_requests, weighted_random, random, power_of_two_choices, kube_proxy_random/);
  });
});

describe.each([
  ['round_robin', () => new RoundRobinPicker<Fake>()],
  ['least_outstanding_requests', () => new LeastOutstandingRequestsPicker<Fake>()],
])('%s', (_name, make) => {
  it('returns undefined for no candidates', () => {
    expect(make().pick([])).toBeUndefined();
  });

  it('returns the only candidate every time', () => {
    const picker = make();
    const [only] = fakes(5);
    for (let i = 0; i < 5; i++) expect(picker.pick([only!])).toBe(only);
  });

  it('spreads 300 picks evenly over 3 idle candidates when every request finishes at once', () => {
    const counts = new Map<string, number>();
    const picker = make();
    const c = fakes(0, 0, 0);
    for (const name of picks(picker, c, 300)) counts.set(name, (counts.get(name) ?? 0) + 1);
    expect(Object.fromEntries(counts)).toEqual({ a: 100, b: 100, c: 100 });
  });

  it('keeps working when the candidate list shrinks between picks', () => {
    const picker = make();
    const c = fakes(0, 0, 0);
    picks(picker, c, 2);
    const smaller = c.slice(0, 1);
    expect(picker.pick(smaller)).toBe(smaller[0]);
  });
});

describe('RoundRobinPicker', () => {
  it('rotates in candidate order', () => {
    expect(picks(new RoundRobinPicker<Fake>(), fakes(0, 0, 0), 7)).toEqual(['a', 'b', 'c', 'a', 'b', 'c', 'a']);
  });

  it('ignores requests in flight', () => {
    expect(picks(new RoundRobinPicker<Fake>(), fakes(10, 0, 0), 3)).toEqual(['a', 'b', 'c']);
  });

  it('wraps to the first candidate when the list shrinks below its position', () => {
    const picker = new RoundRobinPicker<Fake>();
    const c = fakes(0, 0, 0);
    picks(picker, c, 2);
    expect(picker.pick(c.slice(0, 2))!.name).toBe('a');
  });
});

describe('LeastOutstandingRequestsPicker', () => {
  it.each([
    [[3, 0, 2], 'b'],
    [[0, 1, 2], 'a'],
    [[5, 4, 1], 'c'],
    [[2, 2, 1, 2], 'c'],
  ])('with loads %j picks %s', (loads, expected) => {
    expect(new LeastOutstandingRequestsPicker<Fake>().pick(fakes(...loads))!.name).toBe(expected);
  });

  it('takes turns among tied candidates instead of always taking the first', () => {
    expect(picks(new LeastOutstandingRequestsPicker<Fake>(), fakes(1, 1, 1), 6)).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
  });

  it.each([
    [[0, 9, 0], { a: 150, c: 150 }],
    [[0, 9, 9, 0, 0], { a: 100, d: 100, e: 100 }],
    [[7, 0, 0, 7], { b: 150, c: 150 }],
  ])('shares traffic evenly among tied candidates wherever they sit (loads %j)', (loads, expected) => {
    const counts: Record<string, number> = {};
    for (const name of picks(new LeastOutstandingRequestsPicker<Fake>(), fakes(...loads), 300)) counts[name] = (counts[name] ?? 0) + 1;
    expect(counts).toEqual(expected);
  });

  it('fills the least loaded candidates up to the others when requests stay in flight', () => {
    const c = fakes(0, 3, 1);
    const order = picks(new LeastOutstandingRequestsPicker<Fake>(), c, 5, true);
    expect(order.slice(0, 3).sort()).toEqual(['a', 'a', 'c']);
    const loads = c.map((f) => f.outstanding);
    expect(loads.reduce((a, b) => a + b, 0)).toBe(4 + 5);
    expect(Math.max(...loads) - Math.min(...loads)).toBeLessThanOrEqual(1);
    expect(loads[1]).toBe(3);
  });
});

describe('RoundRobinPicker with weights below 1 (slow start, spec 3.2)', () => {
  interface Weighted extends Fake {
    weight: number;
  }
  const weighted = (...weights: number[]): Weighted[] => weights.map((weight, i) => ({ name: String.fromCharCode(97 + i), outstanding: 0, weight }));

  it.each([
    [[0.5, 1, 1], 25, { a: 5, b: 10, c: 10 }],
    [[0.1, 1], 110, { a: 10, b: 100 }],
    [[0.25, 0.25, 1], 60, { a: 10, b: 10, c: 40 }],
  ])('gives weights %j a weight-sized share of %i picks: %j', (weights, n, expected) => {
    const counts: Record<string, number> = {};
    for (const name of picks(new RoundRobinPicker<Weighted>(), weighted(...weights), n)) counts[name] = (counts[name] ?? 0) + 1;
    expect(counts).toEqual(expected);
  });

  it('spreads the light target out rather than sending it a burst (smooth weighted round robin)', () => {
    expect(picks(new RoundRobinPicker<Weighted>(), weighted(0.5, 1, 1), 10).join('')).toBe('bcabcbcabc');
  });

  it('goes back to plain rotation when handed candidates that all weigh 1', () => {
    const picker = new RoundRobinPicker<Weighted>();
    const c = weighted(0.2, 1, 1);
    picks(picker, c, 7);
    const full = c.map((x) => ({ ...x, weight: 1 }));
    expect(picks(picker, full, 6).join('')).toMatch(/^(abc|bca|cab){2}$/);
  });
});
