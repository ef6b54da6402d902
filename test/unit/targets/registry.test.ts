/**
 * The Registry alone (spec 1.3, 4.1, 4.2): registrations and drains on a virtual clock, with
 * recording hooks standing in for the target group.
 */
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/core/clock.ts';
import { ElbError, ErrorCodes } from '../../../src/core/errors.ts';
import { silentLogger } from '../../../src/core/logger.ts';
import type { TargetHealth } from '../../../src/targets/health.ts';
import { Registry, type DrainEnd, type RegistryHooks } from '../../../src/targets/registry.ts';
import type { DrainOutcome, Target, TargetSpec } from '../../../src/targets/target.ts';

const DELAY_MS = 300_000;
const REGISTERING: TargetHealth = { state: 'initial', reason: 'Elb.RegistrationInProgress', description: 'Target registration is in progress' };
const HEALTHY: TargetHealth = { state: 'healthy' };

type HookCall =
  | { readonly hook: 'registered'; readonly target: Target }
  | { readonly hook: 'drainStarted'; readonly target: Target; readonly from: TargetHealth }
  | { readonly hook: 'drainEnding'; readonly target: Target; readonly why: DrainEnd }
  | { readonly hook: 'removed'; readonly target: Target };

/**
 * A Registry on a virtual clock (default port 80, delay 300 s) whose hooks log every call;
 * `drainEnding` answers what `ending` says (nothing cut by default), `reportedHealth` what
 * `reported` says (the target's own health by default).
 */
function setup(options: { delayMs?: number; portOf?: (spec: TargetSpec) => number } = {}) {
  const clock = new VirtualClock(1_000);
  const calls: HookCall[] = [];
  const state = {
    delayMs: options.delayMs ?? DELAY_MS,
    ending: { cutRequests: 0 } as { readonly cutRequests: number; readonly remaining?: number },
    reported: undefined as TargetHealth | undefined,
  };
  const hooks: RegistryHooks = {
    reportedHealth: (target) => state.reported ?? target.health,
    registered: (target) => calls.push({ hook: 'registered', target }),
    drainStarted: (target, from) => calls.push({ hook: 'drainStarted', target, from }),
    drainEnding: (target, why) => {
      calls.push({ hook: 'drainEnding', target, why });
      return state.ending;
    },
    removed: (target) => calls.push({ hook: 'removed', target }),
  };
  const registry = new Registry({
    clock,
    log: silentLogger(),
    thresholds: { healthyThresholdCount: 2, unhealthyThresholdCount: 2, initialHealthyThresholdCount: 1 },
    portOf: options.portOf ?? ((spec) => spec.port ?? 80),
    delayMs: () => state.delayMs,
    hooks,
  });
  /** Which hooks ran, in order, as `hook key` strings. */
  const log = () => calls.map((c) => `${c.hook} ${c.target.key}${c.hook === 'drainEnding' ? ` ${c.why}` : ''}`);
  /** Tracks whether a promise has settled, and with what. */
  const watch = <T>(promise: Promise<T>) => {
    const seen: { value?: T; settled: boolean } = { settled: false };
    void promise.then((value) => {
      seen.value = value;
      seen.settled = true;
    });
    return seen;
  };
  return { clock, registry, calls, log, state, watch };
}

const A = { id: '10.0.0.1' };
const B = { id: '10.0.0.2' };

describe('Registry.register (spec 1.3)', () => {
  it('adds a new target as registered, initial/Elb.RegistrationInProgress, not healthy since the clock now, and calls hooks.registered', () => {
    const { clock, registry, log } = setup();
    registry.register([A, { id: '10.0.0.2', port: 8080 }]);
    expect(log()).toEqual(['registered 10.0.0.1:80', 'registered 10.0.0.2:8080']);
    expect(registry.size).toBe(2);
    const a = registry.get('10.0.0.1:80')!;
    expect({ id: a.id, port: a.port, registration: a.registration, health: a.health, notHealthySinceMs: a.notHealthySinceMs, weight: a.weight }).toEqual({
      id: '10.0.0.1',
      port: 80,
      registration: 'registered',
      health: REGISTERING,
      notHealthySinceMs: clock.now(),
      weight: 1,
    });
    expect(a.healthySinceMs).toBeUndefined();
    expect([...registry.values()].map((t) => t.key)).toEqual(['10.0.0.1:80', '10.0.0.2:8080']);
  });

  it('treats one id on two ports as two targets', () => {
    const { registry, log } = setup();
    registry.register([{ id: '10.0.0.1', port: 80 }, { id: '10.0.0.1', port: 81 }]);
    expect(log()).toEqual(['registered 10.0.0.1:80', 'registered 10.0.0.1:81']);
    expect(registry.size).toBe(2);
  });

  it('does nothing for a target that is already registered (same Target, no hook call)', () => {
    const { registry, log } = setup();
    registry.register([A]);
    const before = registry.get('10.0.0.1:80');
    registry.register([A, { id: '10.0.0.1', port: 80 }]);
    expect(log()).toEqual(['registered 10.0.0.1:80']);
    expect(registry.get('10.0.0.1:80')).toBe(before);
    expect(registry.size).toBe(1);
  });

  it('ends the drain of a draining target registered again as `reregistered`, and starts it over as a new Target', async () => {
    const { clock, registry, log, state, watch } = setup();
    registry.register([A]);
    const old = registry.get('10.0.0.1:80')!;
    const drain = watch(registry.deregister([A]));
    await clock.advance(10_000);
    state.ending = { cutRequests: 2 };
    registry.register([A]);
    await clock.advance(0);
    const fresh = registry.get('10.0.0.1:80')!;
    expect(log()).toEqual(['registered 10.0.0.1:80', 'drainStarted 10.0.0.1:80', 'drainEnding 10.0.0.1:80 reregistered', 'removed 10.0.0.1:80', 'registered 10.0.0.1:80']);
    expect(drain).toEqual({ settled: true, value: [{ target: { id: '10.0.0.1', port: 80 }, result: 'reregistered', cutRequests: 2 }] });
    expect(fresh).not.toBe(old);
    expect(fresh.registration).toBe('registered');
    expect(fresh.health).toEqual(REGISTERING);
    expect(fresh.notHealthySinceMs).toBe(11_000);
    expect(registry.size).toBe(1);
    // The old drain's timer is gone: the delay passing ends nothing more.
    expect(clock.pendingTimers).toBe(0);
    await clock.advance(DELAY_MS);
    expect(log()).toHaveLength(5);
    expect(registry.get('10.0.0.1:80')).toBe(fresh);
  });

  it('registers a target whose drain already ended as a new Target, without ending anything', async () => {
    const { clock, registry, log } = setup({ delayMs: 1_000 });
    registry.register([A]);
    const drain = registry.deregister([A]);
    await clock.advance(1_000);
    await drain;
    registry.register([A]);
    expect(log()).toEqual(['registered 10.0.0.1:80', 'drainStarted 10.0.0.1:80', 'drainEnding 10.0.0.1:80 expired', 'removed 10.0.0.1:80', 'registered 10.0.0.1:80']);
    expect(registry.get('10.0.0.1:80')!.registration).toBe('registered');
  });
});

describe('Registry.deregister (spec 4.1, 4.2)', () => {
  it('resolves `not-registered` at once, with the port portOf gives, for a target that is not registered, and calls no hook', async () => {
    const { registry, calls, clock } = setup();
    const outcomes = await registry.deregister([{ id: '10.0.0.9' }, { id: '10.0.0.8', port: 9000 }]);
    expect(outcomes).toStrictEqual([
      { target: { id: '10.0.0.9', port: 80 }, result: 'not-registered', cutRequests: 0 },
      { target: { id: '10.0.0.8', port: 9000 }, result: 'not-registered', cutRequests: 0 },
    ]);
    expect(calls).toEqual([]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('makes a registered target draining at once (a drain record on the target), passing the health reported before the drain to hooks.drainStarted', () => {
    const { registry, calls, state } = setup();
    registry.register([A, B]);
    state.reported = HEALTHY;
    void registry.deregister([A]);
    const a = registry.get('10.0.0.1:80')!;
    expect(a.registration).toBe('draining');
    expect(a.drain).toBeDefined();
    expect(registry.get('10.0.0.2:80')!.registration).toBe('registered');
    // A draining target is still in the registry (DescribeTargetHealth lists it) until the delay ends.
    expect(registry.size).toBe(2);
    expect(calls.slice(2)).toEqual([{ hook: 'drainStarted', target: a, from: HEALTHY }]);
  });

  it.each<[string, { cutRequests: number; remaining?: number }, DrainOutcome['result'], Partial<DrainOutcome>]>([
    ['`drained` when hooks.drainEnding cut nothing', { cutRequests: 0 }, 'drained', {}],
    ['`cut` with the count when hooks.drainEnding cut 3 requests', { cutRequests: 3 }, 'cut', { cutRequests: 3 }],
    ['`drained` with `remaining` when an NLB keeps 2 connections open', { cutRequests: 0, remaining: 2 }, 'drained', { remaining: 2 }],
    ['`cut` with `remaining` passed through when both are given', { cutRequests: 1, remaining: 4 }, 'cut', { cutRequests: 1, remaining: 4 }],
  ])('resolves after delayMs on the clock: %s', async (_case, ending, result, extra) => {
    const { clock, registry, log, state, watch } = setup({ delayMs: 30_000 });
    registry.register([A]);
    state.ending = ending;
    const target = registry.get('10.0.0.1:80')!;
    const drain = watch(registry.deregister([A]));
    await clock.advance(29_999);
    expect(drain.settled).toBe(false);
    expect(log()).toEqual(['registered 10.0.0.1:80', 'drainStarted 10.0.0.1:80']);
    await clock.advance(1);
    expect(drain.settled).toBe(true);
    expect(drain.value).toStrictEqual([{ target: { id: '10.0.0.1', port: 80 }, result, cutRequests: 0, ...extra }]);
    expect(log()).toEqual(['registered 10.0.0.1:80', 'drainStarted 10.0.0.1:80', 'drainEnding 10.0.0.1:80 expired', 'removed 10.0.0.1:80']);
    expect(registry.get('10.0.0.1:80')).toBeUndefined();
    expect(registry.size).toBe(0);
    // A removed target stays draining for good: its leases may outlive it on an NLB.
    expect(target.registration).toBe('draining');
  });

  it('reads delayMs when the drain starts: a later change does not move a drain in progress', async () => {
    const { clock, registry, state, watch } = setup({ delayMs: 10_000 });
    registry.register([A, B]);
    const first = watch(registry.deregister([A]));
    state.delayMs = 50_000;
    const second = watch(registry.deregister([B]));
    await clock.advance(10_000);
    expect([first.settled, second.settled]).toEqual([true, false]);
    await clock.advance(40_000);
    expect(second.settled).toBe(true);
  });

  it('ends a drain with delayMs 0 on the next turn of the clock', async () => {
    const { clock, registry, watch } = setup({ delayMs: 0 });
    registry.register([A]);
    const drain = watch(registry.deregister([A]));
    expect(drain.settled).toBe(false);
    await clock.advance(0);
    expect(drain.value).toStrictEqual([{ target: { id: '10.0.0.1', port: 80 }, result: 'drained', cutRequests: 0 }]);
  });

  it('returns the same drain for a target that is already draining: one drainStarted, one timer, the same outcome object', async () => {
    const { clock, registry, log } = setup({ delayMs: 20_000 });
    registry.register([A]);
    const target = registry.get('10.0.0.1:80')!;
    const first = registry.deregister([A]);
    const record = target.drain;
    await clock.advance(5_000);
    const again = registry.deregister([A, A]);
    expect(target.drain).toBe(record);
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(15_000);
    const [[one], [two, three]] = await Promise.all([first, again]);
    expect(one).toBe(two);
    expect(two).toBe(three);
    expect(one!.result).toBe('drained');
    expect(log()).toEqual(['registered 10.0.0.1:80', 'drainStarted 10.0.0.1:80', 'drainEnding 10.0.0.1:80 expired', 'removed 10.0.0.1:80']);
  });

  it('resolves a mixed deregistration per target, in the order asked', async () => {
    const { clock, registry, state } = setup({ delayMs: 1_000 });
    registry.register([A]);
    state.ending = { cutRequests: 1 };
    const done = registry.deregister([{ id: '10.0.0.7' }, A]);
    await clock.advance(1_000);
    expect((await done).map((o) => `${o.target.id} ${o.result}`)).toEqual(['10.0.0.7 not-registered', '10.0.0.1 cut']);
  });
});

describe('Registry.close', () => {
  it('ends every drain as `closed` (whatever drainEnding cut), cancels their timers, and leaves registered targets alone', async () => {
    const { clock, registry, log, state, watch } = setup();
    registry.register([A, B, { id: '10.0.0.3' }]);
    const a = watch(registry.deregister([A]));
    const b = watch(registry.deregister([B]));
    state.ending = { cutRequests: 5 };
    registry.close();
    await clock.advance(0);
    expect(a.value).toStrictEqual([{ target: { id: '10.0.0.1', port: 80 }, result: 'closed', cutRequests: 5 }]);
    expect(b.value).toStrictEqual([{ target: { id: '10.0.0.2', port: 80 }, result: 'closed', cutRequests: 5 }]);
    expect(log().slice(3)).toEqual([
      'drainStarted 10.0.0.1:80',
      'drainStarted 10.0.0.2:80',
      'drainEnding 10.0.0.1:80 closed',
      'removed 10.0.0.1:80',
      'drainEnding 10.0.0.2:80 closed',
      'removed 10.0.0.2:80',
    ]);
    expect(clock.pendingTimers).toBe(0);
    expect([...registry.values()].map((t) => `${t.key} ${t.registration}`)).toEqual(['10.0.0.3:80 registered']);
  });

  it('with no drain in progress calls no hook', () => {
    const { registry, log } = setup();
    registry.register([A]);
    registry.close();
    expect(log()).toEqual(['registered 10.0.0.1:80']);
    expect(registry.size).toBe(1);
  });
});

describe('Registry: portOf errors propagate', () => {
  const noDefaultPort = (spec: TargetSpec): number => {
    if (spec.port === undefined) throw new ElbError(ErrorCodes.INVALID_ARGUMENT, `target ${spec.id} needs a port`);
    return spec.port;
  };

  it.each([
    ['register', (r: Registry) => r.register([{ id: '10.0.0.1' }])],
    ['deregister', (r: Registry) => void r.deregister([{ id: '10.0.0.1' }])],
  ])('%s throws the error portOf throws, and calls no hook', (_method, call) => {
    const { registry, calls } = setup({ portOf: noDefaultPort });
    let thrown: unknown;
    try {
      call(registry);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ElbError);
    expect(thrown).toMatchObject({ code: ErrorCodes.INVALID_ARGUMENT, message: 'target 10.0.0.1 needs a port' });
    expect(calls).toEqual([]);
    expect(registry.size).toBe(0);
  });
});
