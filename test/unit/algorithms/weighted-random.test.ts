import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/core/clock.ts';
import { seededRandom } from '../../../src/core/random.ts';
import { WeightedRandomPicker, type Pickable } from '../../../src/algorithms/index.ts';
import { OutcomeStats } from '../../../src/targets/outcome-stats.ts';

interface Fake extends Pickable {
  readonly name: string;
  outstanding: number;
}

const fakes = (n: number): Fake[] => Array.from({ length: n }, (_, i) => ({ name: String.fromCharCode(97 + i), outstanding: 0 }));

describe('WeightedRandomPicker', () => {
  it('draws in proportion to the automatic target weights the pick context carries once a target is mitigated', () => {
    const clock = new VirtualClock();
    const picker = new WeightedRandomPicker<Fake>({ random: seededRandom(11) });
    const weights = new OutcomeStats<Fake>({ clock, mitigation: true, settings: { evaluationIntervalSeconds: 1 } });
    const targets = fakes(4);
    weights.evaluate(targets);
    picker.pick(targets, { weights });
    for (const t of targets) for (let k = 0; k < 50; k++) weights.record(t, t.name === 'a' ? 'error' : 'ok');
    clock.advanceSync(1_000);
    weights.evaluate(targets);
    picker.pick(targets, { weights });
    expect(weights.detection(targets[0]!)).toEqual({ result: 'anomalous', mitigationInEffect: 'yes', weight: 0.5 });
    const counts: Record<string, number> = {};
    for (let i = 0; i < 35_000; i++) {
      const name = picker.pick(targets, { weights })!.name;
      counts[name] = (counts[name] ?? 0) + 1;
    }
    // weights 0.5, 1, 1, 1: a gets 1/7 of 35000 = 5000, the others 10000 each
    expect(Math.abs(counts.a! - 5_000)).toBeLessThan(300);
    for (const name of ['b', 'c', 'd']) expect(Math.abs(counts[name]! - 10_000)).toBeLessThan(400);
  });

  it("multiplies in a candidate's own weight", () => {
    const picker = new WeightedRandomPicker<Fake & { weight: number }>({ random: seededRandom(2) });
    const targets = [
      { name: 'a', outstanding: 0, weight: 0.25 },
      { name: 'b', outstanding: 0, weight: 1 },
    ];
    let a = 0;
    for (let i = 0; i < 10_000; i++) if (picker.pick(targets)!.name === 'a') a++;
    expect(Math.abs(a - 2_000)).toBeLessThan(200);
  });
});
