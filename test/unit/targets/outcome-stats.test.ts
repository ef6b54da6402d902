/**
 * A target group's outcome statistics: automatic target weights' detection and mitigation
 * (spec 3.1), fed by the outcomes leases report.
 */
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/core/clock.ts';
import type { Pickable } from '../../../src/algorithms/index.ts';
import { OutcomeStats } from '../../../src/targets/outcome-stats.ts';

interface Fake extends Pickable {
  readonly name: string;
  outstanding: number;
}

const fakes = (n: number): Fake[] => Array.from({ length: n }, (_, i) => ({ name: String.fromCharCode(97 + i), outstanding: 0 }));

/** Records `requests` outcomes for each target, `errorRatios[i]` of them errors. */
function feed(atw: OutcomeStats<Fake>, targets: readonly Fake[], errorRatios: readonly number[], requests = 100): void {
  targets.forEach((t, i) => {
    const errors = Math.round(requests * errorRatios[i]!);
    for (let k = 0; k < requests; k++) atw.record(t, k < errors ? 'error' : 'ok');
  });
}

describe('OutcomeStats (automatic target weights): detection (spec 3.1)', () => {
  it.each([
    ['one target at 50% errors among healthy ones', [0.5, 0, 0, 0], ['anomalous', 'normal', 'normal', 'normal']],
    ['one target at 10% among others at 1%', [0.1, 0.01, 0.01, 0.01], ['anomalous', 'normal', 'normal', 'normal']],
    ['every target at 50% errors (a shared dependency is down)', [0.5, 0.5, 0.5, 0.5], ['normal', 'normal', 'normal', 'normal']],
    ['one target at 4%, below the 5% minimum error ratio', [0.04, 0, 0, 0], ['normal', 'normal', 'normal', 'normal']],
    ['one target at 6% among others at 3% (less than 3 times theirs)', [0.06, 0.03, 0.03, 0.03], ['normal', 'normal', 'normal', 'normal']],
    ['two of four targets at 60%', [0.6, 0.6, 0, 0], ['normal', 'normal', 'normal', 'normal']],
    ['two of six targets at 60%', [0.6, 0.6, 0, 0, 0, 0], ['anomalous', 'anomalous', 'normal', 'normal', 'normal', 'normal']],
  ])('%s: %j → %j', (_case, ratios, expected) => {
    const atw = new OutcomeStats<Fake>();
    const targets = fakes(ratios.length);
    feed(atw, targets, ratios);
    atw.evaluateNow(targets);
    expect(targets.map((t) => atw.detection(t).result)).toEqual(expected);
  });

  it('does not detect anything with fewer than three targets', () => {
    const atw = new OutcomeStats<Fake>({ mitigation: true });
    const targets = fakes(2);
    feed(atw, targets, [1, 0]);
    atw.evaluateNow(targets);
    expect(targets.map((t) => atw.detection(t))).toEqual([
      { result: 'normal', mitigationInEffect: 'no', weight: 1 },
      { result: 'normal', mitigationInEffect: 'no', weight: 1 },
    ]);
  });

  it('keeps its verdict on a target with fewer outcomes than minimumRequests', () => {
    const atw = new OutcomeStats<Fake>({ settings: { minimumRequests: 20 } });
    const targets = fakes(3);
    feed(atw, targets, [1, 0, 0]);
    atw.evaluateNow(targets);
    expect(atw.detection(targets[0]!).result).toBe('anomalous');
    const quiet = new OutcomeStats<Fake>({ settings: { minimumRequests: 20 } });
    feed(quiet, targets, [1, 0, 0], 19);
    quiet.evaluateNow(targets);
    expect(quiet.detection(targets[0]!).result).toBe('normal');
  });

  it('flags without mitigating when anomaly_mitigation is off', () => {
    const atw = new OutcomeStats<Fake>({ mitigation: false });
    const targets = fakes(3);
    feed(atw, targets, [1, 0, 0]);
    atw.evaluateNow(targets);
    expect(atw.detection(targets[0]!)).toEqual({ result: 'anomalous', mitigationInEffect: 'no', weight: 1 });
    expect(atw.counts()).toEqual({ anomalousHostCount: 1, mitigatedHostCount: 0 });
  });
});

describe('OutcomeStats (automatic target weights): mitigation', () => {
  it('halves an anomalous weight each evaluation down to the floor, then doubles it back once the errors age out of the window', () => {
    const atw = new OutcomeStats<Fake>({ mitigation: true, settings: { windowSeconds: 10, evaluationIntervalSeconds: 5, minimumWeight: 0.1 } });
    const targets = fakes(4);
    const weights: number[] = [];
    for (let i = 0; i < 5; i++) {
      feed(atw, targets, [0.5, 0, 0, 0]);
      atw.evaluateNow(targets);
      weights.push(atw.weightOf(targets[0]!));
    }
    expect(weights).toEqual([0.5, 0.25, 0.125, 0.1, 0.1]);
    expect(atw.counts()).toEqual({ anomalousHostCount: 1, mitigatedHostCount: 1 });
    const recovery: string[] = [];
    for (let i = 0; i < 6; i++) {
      feed(atw, targets, [0, 0, 0, 0]);
      atw.evaluateNow(targets);
      const d = atw.detection(targets[0]!);
      recovery.push(`${d.result}/${d.weight}`);
    }
    // The window holds two intervals: the first clean evaluation still sees one bad interval.
    expect(recovery).toEqual(['anomalous/0.1', 'normal/0.2', 'normal/0.4', 'normal/0.8', 'normal/1', 'normal/1']);
    expect(atw.detection(targets[0]!).mitigationInEffect).toBe('no');
  });

  it('evaluates on the clock every evaluationIntervalSeconds, lazily, when asked', async () => {
    const clock = new VirtualClock();
    const atw = new OutcomeStats<Fake>({ clock, mitigation: true, settings: { evaluationIntervalSeconds: 5 } });
    const targets = fakes(3);
    atw.evaluate(targets);
    feed(atw, targets, [1, 0, 0]);
    await clock.advance(4_999);
    atw.evaluate(targets);
    expect(atw.weightOf(targets[0]!)).toBe(1);
    await clock.advance(1);
    atw.evaluate(targets);
    expect(atw.weightOf(targets[0]!)).toBe(0.5);
    atw.evaluate(targets);
    expect(atw.weightOf(targets[0]!)).toBe(0.5);
  });

  it('forgets targets that are no longer candidates', () => {
    const atw = new OutcomeStats<Fake>({ mitigation: true });
    const targets = fakes(4);
    feed(atw, targets, [1, 0, 0, 0]);
    atw.evaluateNow(targets);
    expect(atw.weightOf(targets[0]!)).toBe(0.5);
    atw.evaluateNow(targets.slice(1));
    expect(atw.weightOf(targets[0]!)).toBe(1);
  });
});
