import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/core/clock.ts';
import type { ProbeResult } from '../../../src/targets/health.ts';
import { HealthChecker, type Probe, type ProbeTarget } from '../../../src/targets/health-checker.ts';

const OK: ProbeResult = { ok: true, statusCode: 200 };

type Step = ProbeResult | 'hang' | { delayMs: number; result: ProbeResult } | 'throw';

/**
 * A scripted probe: each call takes the next step. `hang` never settles until aborted (then it
 * resolves with a `failed` result that the checker must ignore); `{ delayMs, result }` settles
 * after that much virtual time.
 */
function scriptedProbe(clock: VirtualClock, steps: Step[]) {
  const calls: Array<{ target: ProbeTarget; atMs: number; signal: AbortSignal }> = [];
  const probe: Probe = (target, signal) => {
    calls.push({ target, atMs: clock.now(), signal });
    const step = steps.shift() ?? OK;
    if (step === 'throw') return Promise.reject(new Error('probe bug'));
    if (step === 'hang') {
      return new Promise((resolve) => signal.addEventListener('abort', () => resolve({ ok: false, failure: 'failed', detail: 'aborted' })));
    }
    if ('delayMs' in step) return new Promise((resolve) => clock.setTimer(step.delayMs, () => resolve(step.result)));
    return Promise.resolve(step);
  };
  return { probe, calls };
}

function setup(steps: Step[], intervalMs = 30_000, timeoutMs = 5_000) {
  const clock = new VirtualClock();
  const { probe, calls } = scriptedProbe(clock, steps);
  const results: Array<{ key: string; result: ProbeResult; atMs: number }> = [];
  const checker = new HealthChecker({ clock, probe, intervalMs, timeoutMs, onResult: (key, result) => results.push({ key, result, atMs: clock.now() }) });
  return { clock, checker, calls, results };
}

describe('HealthChecker', () => {
  it('checks at once, then every interval, reporting each scripted result in order (ok, timeout, timeout, ok)', async () => {
    const { clock, checker, calls, results } = setup([OK, 'hang', 'hang', OK]);
    checker.watch('a', { id: '10.0.0.1', port: 8080 });
    await clock.advance(3 * 30_000 + 1);
    expect(calls.map((c) => c.atMs)).toEqual([0, 30_000, 60_000, 90_000]);
    expect(calls[0]!.target).toEqual({ id: '10.0.0.1', port: 8080 });
    expect(results.map((r) => [r.atMs, r.result])).toEqual([
      [0, OK],
      [35_000, { ok: false, failure: 'timeout' }],
      [65_000, { ok: false, failure: 'timeout' }],
      [90_000, OK],
    ]);
    checker.close();
  });

  it('reports a timeout exactly timeoutMs after the check started, and aborts the probe', async () => {
    const { clock, checker, calls, results } = setup(['hang'], 30_000, 5_000);
    checker.watch('a', { id: '10.0.0.1', port: 80 });
    await clock.advance(4_999);
    expect(results).toEqual([]);
    expect(calls[0]!.signal.aborted).toBe(false);
    await clock.advance(1);
    expect(results).toEqual([{ key: 'a', result: { ok: false, failure: 'timeout' }, atMs: 5_000 }]);
    expect(calls[0]!.signal.aborted).toBe(true);
    checker.close();
  });

  it('keeps a fixed cadence: a probe that takes 8 s of a 10 s interval does not push the next check to 18 s', async () => {
    const slow = { delayMs: 8_000, result: OK };
    const { clock, checker, calls, results } = setup([slow, slow, slow, slow], 10_000, 9_000);
    checker.watch('a', { id: '10.0.0.1', port: 80 });
    await clock.advance(30_000);
    expect(calls.map((c) => c.atMs)).toEqual([0, 10_000, 20_000, 30_000]);
    expect(results.map((r) => [r.atMs, r.result])).toEqual([
      [8_000, OK],
      [18_000, OK],
      [28_000, OK],
    ]);
    checker.close();
  });

  it('ignores a probe result that arrives after the timeout was reported', async () => {
    const { clock, checker, results } = setup([{ delayMs: 7_000, result: OK }], 30_000, 5_000);
    checker.watch('a', { id: '10.0.0.1', port: 80 });
    await clock.advance(10_000);
    expect(results.map((r) => r.result)).toEqual([{ ok: false, failure: 'timeout' }]);
    checker.close();
  });

  it('reports a probe that rejects as an internal failure', async () => {
    const { clock, checker, results } = setup(['throw']);
    checker.watch('a', { id: '10.0.0.1', port: 80 });
    await clock.advance(0);
    expect(results).toHaveLength(1);
    expect(results[0]!.result).toMatchObject({ ok: false, failure: 'internal', detail: expect.stringContaining('probe bug') });
    checker.close();
  });

  it('stops checking and reporting after unwatch, including the check in flight', async () => {
    const { clock, checker, calls, results } = setup(['hang']);
    checker.watch('a', { id: '10.0.0.1', port: 80 });
    await clock.advance(1_000);
    checker.unwatch('a');
    expect(calls[0]!.signal.aborted).toBe(true);
    await clock.advance(10 * 30_000);
    expect(calls).toHaveLength(1);
    expect(results).toEqual([]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('drops a result of a check that settles after unwatch', async () => {
    const { clock, checker, results } = setup([{ delayMs: 1_000, result: OK }]);
    checker.watch('a', { id: '10.0.0.1', port: 80 });
    await clock.advance(500);
    checker.unwatch('a');
    await clock.advance(5_000);
    expect(results).toEqual([]);
  });

  it('keeps checking other targets after one is unwatched', async () => {
    const { clock, checker, results } = setup([]);
    checker.watch('a', { id: '10.0.0.1', port: 80 });
    checker.watch('b', { id: '10.0.0.2', port: 80 });
    checker.unwatch('a');
    await clock.advance(60_000);
    expect(results.map((r) => [r.key, r.atMs])).toEqual([
      ['b', 0],
      ['b', 30_000],
      ['b', 60_000],
    ]);
    checker.close();
  });

  it('restarts the schedule when a key is watched again, without a second timer for the old one', async () => {
    const { clock, checker, calls } = setup([]);
    checker.watch('a', { id: '10.0.0.1', port: 80 });
    await clock.advance(10_000);
    checker.watch('a', { id: '10.0.0.1', port: 81 });
    await clock.advance(30_000);
    expect(calls.map((c) => [c.atMs, c.target.port])).toEqual([
      [0, 80],
      [10_000, 81],
      [40_000, 81],
    ]);
    checker.close();
  });

  it('close stops every target and leaves no timers behind', async () => {
    const { clock, checker, results } = setup(['hang', 'hang']);
    checker.watch('a', { id: '10.0.0.1', port: 80 });
    checker.watch('b', { id: '10.0.0.2', port: 80 });
    checker.close();
    await clock.advance(100_000);
    expect(results).toEqual([]);
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('HealthChecker with a probe that answers at once (simulations)', () => {
  it('applies each plain result synchronously at the check time, so advanceSync sees it without awaiting', () => {
    const clock = new VirtualClock();
    const script: ProbeResult[] = [OK, { ok: false, failure: 'failed' }, OK];
    const results: Array<[number, boolean]> = [];
    const checker = new HealthChecker({
      clock,
      probe: () => script.shift() ?? OK,
      intervalMs: 10_000,
      timeoutMs: 5_000,
      onResult: (_key, result) => results.push([clock.now(), result.ok]),
    });
    checker.watch('a', { id: '10.0.0.1', port: 80 });
    expect(results).toEqual([[0, true]]);
    clock.advanceSync(20_000);
    expect(results).toEqual([
      [0, true],
      [10_000, false],
      [20_000, true],
    ]);
    checker.close();
    expect(clock.pendingTimers).toBe(0);
  });
});
