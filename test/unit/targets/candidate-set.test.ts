/**
 * CandidateSet alone (spec 2.6, 2.7): which targets take new requests, fail-open and the
 * routing-failover thresholds (`target_group_health.unhealthy_state_routing.minimum_healthy_targets.*`).
 */
import { describe, expect, it } from 'vitest';
import { CandidateSet, type CandidateRules } from '../../../src/targets/candidate-set.ts';
import { Target } from '../../../src/targets/target.ts';

/** A target's state in a row: h healthy, u unhealthy, i initial; a trailing `d` makes it draining (hd, ud, id). */
type State = 'h' | 'u' | 'i' | 'hd' | 'ud' | 'id';

const DEFAULT: CandidateRules = { minimumHealthyTargetCount: 1, minimumHealthyTargetPercent: undefined };
const count = (n: number): CandidateRules => ({ minimumHealthyTargetCount: n, minimumHealthyTargetPercent: undefined });
const percent = (p: number, n = 1): CandidateRules => ({ minimumHealthyTargetCount: n, minimumHealthyTargetPercent: p });

/** Targets named by position and state (`1h`, `2u`, …), their health driven through the tracker. */
function targets(states: readonly State[]): Target[] {
  return states.map((state, i) => {
    const t = new Target(`${i + 1}${state}`, 80, { healthyThresholdCount: 2, unhealthyThresholdCount: 2, initialHealthyThresholdCount: 1 });
    t.tracker.startChecking();
    if (state.startsWith('h')) t.tracker.record({ ok: true, statusCode: 200 });
    if (state.startsWith('u')) for (let k = 0; k < 2; k++) t.tracker.record({ ok: false, failure: 'failed' });
    if (state.endsWith('d')) t.drain = { startedAtMs: 0, endsAtMs: 0, cancel: () => {}, done: new Promise<never>(() => {}), resolve: () => {} };
    return t;
  });
}

const ids = (list: readonly Target[]) => list.map((t) => t.id);

describe('CandidateSet: candidates and fail-open by target states and thresholds (spec 2.6, 2.7)', () => {
  it.each<[string, State[], CandidateRules, string[], boolean]>([
    ['no targets: none, not failing open', [], DEFAULT, [], false],
    ['2 healthy and 1 unhealthy (count 1): the healthy ones', ['h', 'h', 'u'], DEFAULT, ['1h', '2h'], false],
    ['only unhealthy targets (count 1): all of them, failing open', ['u', 'u'], DEFAULT, ['1u', '2u'], true],
    ['1 healthy and 2 unhealthy below count 2: healthy first, then unhealthy, failing open', ['u', 'h', 'u'], count(2), ['2h', '1u', '3u'], true],
    ['2 healthy and 1 unhealthy at count 2: the healthy ones', ['h', 'h', 'u'], count(2), ['1h', '2h'], false],
    ['3 healthy at count 5 with no unhealthy one to add: the healthy ones, not failing open', ['h', 'h', 'h'], count(5), ['1h', '2h', '3h'], false],
    ['1 of 4 healthy (25%) below 50%: all registered unhealthy and healthy, failing open', ['h', 'u', 'u', 'u'], percent(50), ['1h', '2u', '3u', '4u'], true],
    ['2 of 4 healthy (50%) at 50%: the healthy ones', ['h', 'h', 'u', 'u'], percent(50), ['1h', '2h'], false],
    ['2 of 4 healthy (50%) below 51%: failing open', ['h', 'h', 'u', 'u'], percent(51), ['1h', '2h', '3u', '4u'], true],
    ['either threshold breached: count 1 met, 50% < 60%: failing open', ['h', 'h', 'u', 'u'], percent(60, 1), ['1h', '2h', '3u', '4u'], true],
    ['either threshold breached: 75% meets 50%, 3 < count 4: failing open', ['h', 'h', 'h', 'u'], percent(50, 4), ['1h', '2h', '3h', '4u'], true],
    ['the percentage counts initial targets as registered: 1 of 4 healthy below 50%, initial ones never added', ['h', 'i', 'i', 'u'], percent(50), ['1h', '4u'], true],
    ['only initial targets: none, not failing open', ['i', 'i'], DEFAULT, [], false],
    ['initial and unhealthy targets (count 1): the unhealthy one, failing open', ['i', 'u'], DEFAULT, ['2u'], true],
    ['only draining targets: none, not failing open', ['hd', 'ud', 'id'], DEFAULT, [], false],
    ['a draining healthy target is no candidate, and the unhealthy ones fail open', ['hd', 'u', 'u'], DEFAULT, ['2u', '3u'], true],
    ['a draining unhealthy target is never added when failing open', ['ud', 'u'], DEFAULT, ['2u'], true],
    ['draining targets do not count as registered for the percentage: 1 of 2 healthy meets 50%', ['hd', 'h', 'u'], percent(50), ['2h'], false],
  ])('%s', (_case, states, rules, expected, failingOpen) => {
    const set = new CandidateSet();
    const group = targets(states);
    expect(ids(set.get(group, true, rules))).toEqual(expected);
    expect(set.failingOpen(group, true, rules)).toBe(failingOpen);
    const fresh = new CandidateSet();
    expect(fresh.failingOpen(group, true, rules)).toBe(failingOpen);
    expect(ids(fresh.get(group, true, rules))).toEqual(expected);
  });

  it.each<[string, State[]]>([
    ['healthy targets', ['h', 'h']],
    ['only unhealthy targets', ['u', 'u']],
  ])('hands out no candidates, and does not fail open, while no listener uses the group: %s', (_case, states) => {
    const set = new CandidateSet();
    const group = targets(states);
    expect(set.get(group, false, DEFAULT)).toEqual([]);
    expect(set.failingOpen(group, false, DEFAULT)).toBe(false);
  });
});

describe('CandidateSet: computed once per change', () => {
  it('returns the same array until invalidate(), even when a target changed meanwhile', () => {
    const set = new CandidateSet();
    const group = targets(['h', 'h']);
    const first = set.get(group, true, DEFAULT);
    group[1]!.tracker.record({ ok: false, failure: 'failed' });
    group[1]!.tracker.record({ ok: false, failure: 'failed' });
    expect(group[1]!.health.state).toBe('unhealthy');
    expect(set.get(group, true, DEFAULT)).toBe(first);
    expect(ids(first)).toEqual(['1h', '2h']);
    set.invalidate();
    const second = set.get(group, true, DEFAULT);
    expect(second).not.toBe(first);
    expect(ids(second)).toEqual(['1h']);
    expect(set.get(group, true, DEFAULT)).toBe(second);
  });

  it('keeps the candidates and the fail-open verdict through other arguments until invalidate()', () => {
    const set = new CandidateSet();
    const group = targets(['h', 'u']);
    const first = set.get(group, true, DEFAULT);
    expect(set.get(group, false, count(5))).toBe(first);
    expect(set.failingOpen(group, true, count(5))).toBe(false);
    set.invalidate();
    expect(set.failingOpen(group, true, count(5))).toBe(true);
    expect(ids(set.get(group, true, DEFAULT))).toEqual(['1h', '2u']);
  });

  it('computes once for failingOpen() and get() together: get() after failingOpen() returns that computation', () => {
    const set = new CandidateSet();
    const group = targets(['u']);
    expect(set.failingOpen(group, true, DEFAULT)).toBe(true);
    const after = set.get([], true, DEFAULT);
    expect(ids(after)).toEqual(['1u']);
  });
});
