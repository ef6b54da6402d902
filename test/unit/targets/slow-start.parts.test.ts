/**
 * SlowStart alone (spec 3.2): the entry rule, the weight ramp on a virtual clock, and leaving
 * slow start. The whole group's view of slow start is in slow-start.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/core/clock.ts';
import { SlowStart } from '../../../src/targets/slow-start.ts';
import { Target } from '../../../src/targets/target.ts';

const DURATION_MS = 100_000;
const EPSILON = 0.1;

type Kind = 'healthy' | 'unhealthy' | 'initial';

/** A target in `kind` (driven through its tracker), with the times slow start compares. */
function target(id: string, kind: Kind, times: { healthySinceMs?: number; notHealthySinceMs?: number } = {}): Target {
  const t = new Target(id, 80, { healthyThresholdCount: 2, unhealthyThresholdCount: 2, initialHealthyThresholdCount: 1 });
  t.tracker.startChecking();
  if (kind === 'healthy') t.tracker.record({ ok: true, statusCode: 200 });
  if (kind === 'unhealthy') for (let i = 0; i < 2; i++) t.tracker.record({ ok: false, failure: 'failed' });
  expect(t.health.state).toBe(kind);
  t.healthySinceMs = times.healthySinceMs;
  t.notHealthySinceMs = times.notHealthySinceMs ?? 0;
  return t;
}

function setup(durationMs = DURATION_MS, startMs = 50_000) {
  const clock = new VirtualClock(startMs);
  const duration = { ms: durationMs };
  let changed = 0;
  const slowStart = new SlowStart({ clock, durationMs: () => duration.ms, initialWeight: EPSILON, changed: () => changed++ });
  return { clock, slowStart, duration, changed: () => changed };
}

/** How another target of the group looks when the new one becomes healthy. */
interface Other {
  readonly kind: Kind;
  readonly healthySinceMs?: number;
  readonly draining?: boolean;
  /** Put in slow start beforehand (by a third target the new one does not see). */
  readonly inSlowStart?: boolean;
}

describe('SlowStart: the entry rule (spec 3.2)', () => {
  // The new target was registered (or last stopped being healthy) at 10 000 and becomes healthy now (50 000).
  it.each<[string, Other[], boolean]>([
    ['does not enter when it is the only target (empty group)', [], false],
    ['enters beside a target healthy since before it was registered', [{ kind: 'healthy', healthySinceMs: 5_000 }], true],
    ['does not enter beside a target healthy since the moment it was registered (registered together)', [{ kind: 'healthy', healthySinceMs: 10_000 }], false],
    ['does not enter beside a target that became healthy after it was registered', [{ kind: 'healthy', healthySinceMs: 20_000 }], false],
    ['does not enter beside a healthy target that is itself in slow start', [{ kind: 'healthy', healthySinceMs: 5_000, inSlowStart: true }], false],
    [
      'enters when one of the others is healthy and not in slow start',
      [{ kind: 'healthy', healthySinceMs: 5_000, inSlowStart: true }, { kind: 'unhealthy' }, { kind: 'healthy', healthySinceMs: 1_000 }],
      true,
    ],
    ['does not enter beside a draining target healthy since before', [{ kind: 'healthy', healthySinceMs: 5_000, draining: true }], false],
    ['does not enter beside unhealthy and initial targets only', [{ kind: 'unhealthy' }, { kind: 'initial' }], false],
    ['does not enter beside a healthy target whose healthySinceMs is unknown', [{ kind: 'healthy' }], false],
  ])('%s', (_case, others, enters) => {
    const { clock, slowStart, changed } = setup();
    const anchor = target('anchor', 'healthy', { healthySinceMs: 0 });
    const group = others.map((o, i) => {
      const t = target(`other-${i}`, o.kind, { healthySinceMs: o.healthySinceMs, notHealthySinceMs: 1_000 });
      if (o.inSlowStart) {
        slowStart.becameHealthy(t, [anchor, t]);
        expect(slowStart.since(t)).toBe(clock.now());
      }
      if (o.draining) t.drain = { startedAtMs: 0, endsAtMs: 0, cancel: () => {}, done: new Promise<never>(() => {}), resolve: () => {} };
      return t;
    });
    const fresh = target('new', 'healthy', { healthySinceMs: clock.now(), notHealthySinceMs: 10_000 });
    const changedBefore = changed();
    slowStart.becameHealthy(fresh, [...group, fresh]);
    expect(slowStart.since(fresh)).toBe(enters ? 50_000 : undefined);
    expect(fresh.weight).toBe(enters ? EPSILON : 1);
    expect(slowStart.active).toBe(enters || others.some((o) => o.inSlowStart === true));
    expect(changed()).toBe(changedBefore);
  });

  it('re-enters a target that stopped being healthy after the others became healthy (it recovered)', () => {
    const { slowStart } = setup();
    const steady = target('steady', 'healthy', { healthySinceMs: 0 });
    const recovered = target('recovered', 'healthy', { healthySinceMs: 50_000, notHealthySinceMs: 40_000 });
    slowStart.becameHealthy(recovered, [steady, recovered]);
    expect(slowStart.since(recovered)).toBe(50_000);
  });

  it('never enters with a duration of 0 (slow start off), whatever the others', () => {
    const { slowStart } = setup(0);
    const steady = target('steady', 'healthy', { healthySinceMs: 0 });
    const fresh = target('new', 'healthy', { healthySinceMs: 50_000, notHealthySinceMs: 10_000 });
    slowStart.becameHealthy(fresh, [steady, fresh]);
    expect(slowStart.since(fresh)).toBeUndefined();
    expect(fresh.weight).toBe(1);
    expect(slowStart.active).toBe(false);
  });
});

/** A SlowStart with `fresh` just entered at 50 000 beside a steady healthy target. */
function entered(durationMs = DURATION_MS) {
  const parts = setup(durationMs);
  const steady = target('steady', 'healthy', { healthySinceMs: 0 });
  const fresh = target('new', 'healthy', { healthySinceMs: 50_000, notHealthySinceMs: 10_000 });
  parts.slowStart.becameHealthy(fresh, [steady, fresh]);
  expect(parts.slowStart.since(fresh)).toBe(50_000);
  return { ...parts, steady, fresh };
}

describe('SlowStart: the weight ramp (spec 3.2)', () => {
  // ε + (1 − ε) · elapsed / duration, with ε = 0.1 and a duration of 100 s.
  it.each([
    [0, 0.1],
    [1_000, 0.109],
    [25_000, 0.325],
    [50_000, 0.55],
    [75_000, 0.775],
    [99_000, 0.991],
    [99_999, 0.999991],
  ])('weighs a target %i ms into slow start at %d', (elapsedMs, weight) => {
    const { clock, slowStart, fresh, changed } = entered();
    clock.advanceSync(elapsedMs);
    slowStart.advance();
    expect(fresh.weight).toBeCloseTo(weight, 9);
    expect(slowStart.since(fresh)).toBe(50_000);
    expect(slowStart.active).toBe(true);
    expect(changed()).toBe(0);
  });

  it.each([
    ['at the duration', 100_000],
    ['after the duration', 250_000],
  ])('ends slow start %s: weight 1, no longer in it, changed called once', (_case, elapsedMs) => {
    const { clock, slowStart, fresh, changed } = entered();
    clock.advanceSync(elapsedMs);
    slowStart.advance();
    expect(fresh.weight).toBe(1);
    expect(slowStart.since(fresh)).toBeUndefined();
    expect(slowStart.active).toBe(false);
    expect(changed()).toBe(1);
    slowStart.advance();
    expect(changed()).toBe(1);
  });

  it('moves weights only when advance() is called (the group calls it on acquire)', () => {
    const { clock, slowStart, fresh } = entered();
    clock.advanceSync(50_000);
    expect(fresh.weight).toBe(EPSILON);
    slowStart.advance();
    expect(fresh.weight).toBeCloseTo(0.55, 9);
  });

  it('reads the duration at each step: shortening it to 40 s ends a target 40 s in', () => {
    const { clock, slowStart, duration, fresh, changed } = entered();
    clock.advanceSync(20_000);
    duration.ms = 40_000;
    slowStart.advance();
    expect(fresh.weight).toBeCloseTo(0.1 + 0.9 * 0.5, 9);
    clock.advanceSync(20_000);
    slowStart.advance();
    expect(fresh.weight).toBe(1);
    expect(changed()).toBe(1);
  });

  it('ramps each target from its own entry time', () => {
    const { clock, slowStart, steady, fresh } = entered();
    clock.advanceSync(40_000);
    const later = target('later', 'healthy', { healthySinceMs: 90_000, notHealthySinceMs: 60_000 });
    slowStart.becameHealthy(later, [steady, fresh, later]);
    expect(slowStart.since(later)).toBe(90_000);
    clock.advanceSync(20_000);
    slowStart.advance();
    expect([fresh.weight, later.weight].map((w) => Math.round(w * 1e6) / 1e6)).toEqual([0.64, 0.28]);
  });
});

describe('SlowStart: leaving early', () => {
  it('end() puts a target back at weight 1, out of slow start, and calls changed', () => {
    const { clock, slowStart, fresh, changed } = entered();
    clock.advanceSync(30_000);
    slowStart.advance();
    slowStart.end(fresh);
    expect(fresh.weight).toBe(1);
    expect(slowStart.since(fresh)).toBeUndefined();
    expect(slowStart.active).toBe(false);
    expect(changed()).toBe(1);
  });

  it('end() of a target not in slow start changes nothing and does not call changed', () => {
    const { slowStart, steady, changed } = entered();
    slowStart.end(steady);
    expect(steady.weight).toBe(1);
    expect(slowStart.active).toBe(true);
    expect(changed()).toBe(0);
  });

  it('endAll() ends every target in slow start, calling changed for each', () => {
    const { clock, slowStart, steady, fresh, changed } = entered();
    clock.advanceSync(10_000);
    const later = target('later', 'healthy', { healthySinceMs: 60_000, notHealthySinceMs: 55_000 });
    slowStart.becameHealthy(later, [steady, fresh, later]);
    expect(slowStart.since(later)).toBe(60_000);
    slowStart.endAll();
    expect([fresh.weight, later.weight]).toEqual([1, 1]);
    expect([slowStart.since(fresh), slowStart.since(later)]).toEqual([undefined, undefined]);
    expect(slowStart.active).toBe(false);
    expect(changed()).toBe(2);
  });
});
