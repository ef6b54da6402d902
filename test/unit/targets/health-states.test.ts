/**
 * HealthStates alone (spec 1.2, 1.3, 2.4, 2.5, 4.3): scripted probes on a virtual clock, with
 * recording hooks standing in for the target group.
 */
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/core/clock.ts';
import { TimerSet } from '../../../src/core/timers.ts';
import type { ProbeResult, TargetHealth } from '../../../src/targets/health.ts';
import type { Probe, ProbeTarget } from '../../../src/targets/health-checker.ts';
import { HealthStates, type HealthStatesOptions } from '../../../src/targets/health-states.ts';
import { Target } from '../../../src/targets/target.ts';

/** What a scripted target answers to one health check. */
type Answer = 'ok' | 'timeout' | 'refused' | 'internal' | number;

const INTERVAL_MS = 10_000;
const TIMEOUT_MS = 5_000;

const HEALTHY: TargetHealth = { state: 'healthy' };
const REGISTERING: TargetHealth = { state: 'initial', reason: 'Elb.RegistrationInProgress', description: 'Target registration is in progress' };
const INITIAL_CHECKING: TargetHealth = { state: 'initial', reason: 'Elb.InitialHealthChecking', description: 'Initial health checks in progress' };
const TIMEOUT: TargetHealth = { state: 'unhealthy', reason: 'Target.Timeout', description: 'Request timed out' };
const FAILED: TargetHealth = { state: 'unhealthy', reason: 'Target.FailedHealthChecks', description: 'Health checks failed' };
const INTERNAL: TargetHealth = { state: 'unhealthy', reason: 'Elb.InternalError', description: 'Health checks failed due to an internal error' };
const DRAINING: TargetHealth = { state: 'draining', reason: 'Target.DeregistrationInProgress', description: 'Target deregistration is in progress' };
const NOT_IN_USE: TargetHealth = { state: 'unused', reason: 'Target.NotInUse', description: 'Target group is not configured to receive traffic from the load balancer' };
const UNHEALTHY_DRAINING: TargetHealth = { ...FAILED, state: 'unhealthy.draining' };
const mismatch = (code: number): TargetHealth => ({ state: 'unhealthy', reason: 'Target.ResponseCodeMismatch', description: `Health checks failed with these codes: [${code}]` });

/** A probe that gives each check the next answer of its target's script (the last one repeats; `ok` without a script). */
function scriptedProbe(clock: VirtualClock) {
  const scripts = new Map<string, Answer[]>();
  const checks: Array<{ target: ProbeTarget; atMs: number }> = [];
  const probe: Probe = (target, signal) => {
    checks.push({ target, atMs: clock.now() });
    const script = scripts.get(target.id) ?? [];
    const answer = script.length > 1 ? script.shift()! : (script[0] ?? 'ok');
    switch (answer) {
      case 'ok':
        return { ok: true, statusCode: 200 };
      case 'refused':
        return { ok: false, failure: 'failed', detail: 'ECONNREFUSED' };
      case 'internal':
        return Promise.reject(new Error('probe bug'));
      case 'timeout':
        // Never answers; the checker's timeout settles it (and this resolution comes too late to count).
        return new Promise<ProbeResult>((resolve) => signal.addEventListener('abort', () => resolve({ ok: false, failure: 'failed', detail: 'aborted' })));
      default:
        return answer === 200 ? { ok: true, statusCode: 200 } : { ok: false, failure: 'code', statusCode: answer };
    }
  };
  return { probe, checks, script: (id: string, answers: Answer[]) => scripts.set(id, [...answers]) };
}

/**
 * HealthStates on a virtual clock: interval 10 s, timeout 5 s, thresholds 2/2, one pass to
 * leave `initial`, no registration delay. The hooks keep `healthySinceMs`/`notHealthySinceMs`
 * as the target group does and log every call.
 */
function setup(options: Partial<Pick<HealthStatesOptions, 'kind' | 'registrationDelayMs' | 'healthCheckPort'>> & { terminate?: boolean; drainingIntervalMs?: number } = {}) {
  const clock = new VirtualClock();
  const timers = new TimerSet(clock);
  const { probe, checks, script } = scriptedProbe(clock);
  const registered = new Map<string, Target>();
  const changes: Array<{ key: string; from: TargetHealth; to: TargetHealth; atMs: number }> = [];
  const calls: string[] = [];
  const unhealthy = { terminate: options.terminate ?? true, drainingIntervalMs: options.drainingIntervalMs ?? 0 };
  const states = new HealthStates({
    clock,
    timers,
    probe,
    intervalMs: INTERVAL_MS,
    timeoutMs: TIMEOUT_MS,
    kind: options.kind ?? 'application',
    registrationDelayMs: options.registrationDelayMs ?? 0,
    healthCheckPort: options.healthCheckPort ?? 'traffic-port',
    unhealthy: () => unhealthy,
    hooks: {
      target: (key) => registered.get(key),
      changed: (target, from, to) => changes.push({ key: target.key, from, to, atMs: clock.now() }),
      becameHealthy: (target) => {
        target.healthySinceMs = clock.now();
        calls.push(`becameHealthy ${target.key} at ${clock.now()}`);
      },
      stoppedBeingHealthy: (target) => {
        target.healthySinceMs = undefined;
        target.notHealthySinceMs = clock.now();
        calls.push(`stoppedBeingHealthy ${target.key} at ${clock.now()}`);
      },
      terminate: (target) => calls.push(`terminate ${target.key} at ${clock.now()}`),
    },
  });
  const add = (id: string, port = 80) => {
    const target = new Target(id, port, { healthyThresholdCount: 2, unhealthyThresholdCount: 2, initialHealthyThresholdCount: 1 });
    registered.set(target.key, target);
    return target;
  };
  /** Registers `id` in a group in use and starts its checks (the first runs now). */
  const start = (id: string, answers: Answer[] = ['ok'], port = 80) => {
    script(id, answers);
    states.setInUse(true, []);
    const target = add(id, port);
    states.start(target);
    return target;
  };
  /** Moves the clock to `TIMEOUT_MS` after the n-th check began (every answer of it is in; the next has not begun). */
  const afterChecks = (n: number) => clock.advance((n - 1) * INTERVAL_MS + TIMEOUT_MS - clock.now());
  const drainRecord = () => ({ startedAtMs: 0, endsAtMs: 0, cancel: () => {}, done: new Promise<never>(() => {}), resolve: () => {} });
  return { clock, timers, states, checks, script, changes, calls, unhealthy, add, start, afterChecks, drainRecord };
}

/** Probe sequences and the health each kind reports after them: [case, answers, ALB, NLB]. */
const sequences: Array<[string, Answer[], TargetHealth, TargetHealth]> = [
  ['one pass takes an initial target to healthy', ['ok'], HEALTHY, HEALTHY],
  ['one timeout leaves a target initial (2 failures needed)', ['timeout'], INITIAL_CHECKING, INITIAL_CHECKING],
  ['2 timeouts from initial make it unhealthy', ['timeout', 'timeout'], TIMEOUT, FAILED],
  ['2 answers of 503 make it unhealthy', [503, 503], mismatch(503), FAILED],
  ['2 refused connections make it unhealthy', ['refused', 'refused'], FAILED, FAILED],
  ['ok then 2 timeouts make a healthy target unhealthy', ['ok', 'timeout', 'timeout'], TIMEOUT, FAILED],
  ['ok, timeout, ok, timeout never reach 2 failures in a row: healthy', ['ok', 'timeout', 'ok', 'timeout'], HEALTHY, HEALTHY],
  ['an unhealthy target needs 2 passes: ok, timeout, timeout, ok is still unhealthy', ['ok', 'timeout', 'timeout', 'ok'], TIMEOUT, FAILED],
  ['ok, timeout, timeout, ok, ok is healthy again', ['ok', 'timeout', 'timeout', 'ok', 'ok'], HEALTHY, HEALTHY],
  ['the reason follows the last failure: 2 timeouts then 502', ['timeout', 'timeout', 502], mismatch(502), FAILED],
  ['the reason follows the last failure: 2 answers of 500 then refused', [500, 500, 'refused'], FAILED, FAILED],
];

describe('HealthStates: probe sequences → states and reason codes (spec 1.2, 1.3, 2.5)', () => {
  // NLB reports every failed check as Target.FailedHealthChecks (spec 1.2, 2.4).
  it.each(
    sequences.flatMap(([name, answers, alb, nlb]) => [
      [`ALB: ${name}`, 'application' as const, answers, alb] as const,
      [`NLB: ${name}`, 'network' as const, answers, nlb] as const,
    ]),
  )('%s', async (_case, kind, answers, expected) => {
    const { states, checks, start, afterChecks } = setup({ kind });
    const target = start('10.0.0.1', answers);
    await afterChecks(answers.length);
    expect(checks.map((c) => c.atMs)).toEqual(answers.map((_, i) => i * INTERVAL_MS));
    expect(states.reported(target)).toEqual(expected);
  });

  // Spec 1.2: an NLB's `unhealthy` reason is `Target.FailedHealthChecks` only; `Elb.InternalError`
  // is listed for ALB's `unhealthy` (and for `unavailable`). health-states.ts' networkProbeResult
  // keeps `Elb.InternalError` for an NLB, so the NLB row fails until it follows the spec.
  it.each<[string, 'application' | 'network', TargetHealth]>([
    ['ALB reports Elb.InternalError', 'application', INTERNAL],
    ['NLB reports Target.FailedHealthChecks', 'network', FAILED],
  ])('marks a target unhealthy after 2 checks that fail inside the load balancer: %s', async (_case, kind, expected) => {
    const { states, start, afterChecks } = setup({ kind });
    const target = start('10.0.0.1', ['internal', 'internal']);
    await afterChecks(2);
    expect(states.reported(target)).toEqual(expected);
  });

  it('reports each change through hooks.changed, from the state shown before to the one shown after', async () => {
    const { changes, start, afterChecks } = setup();
    start('10.0.0.1', ['ok', 'timeout', 'timeout']);
    await afterChecks(3);
    expect(changes).toEqual([
      { key: '10.0.0.1:80', from: REGISTERING, to: INITIAL_CHECKING, atMs: 0 },
      { key: '10.0.0.1:80', from: INITIAL_CHECKING, to: HEALTHY, atMs: 0 },
      { key: '10.0.0.1:80', from: HEALTHY, to: TIMEOUT, atMs: 2 * INTERVAL_MS + TIMEOUT_MS },
    ]);
  });

  it('calls becameHealthy and stoppedBeingHealthy once per transition', async () => {
    const { calls, start, afterChecks } = setup();
    start('10.0.0.1', ['ok', 'ok', 'refused', 'refused', 'refused', 'ok', 'ok']);
    await afterChecks(7);
    expect(calls).toEqual(['becameHealthy 10.0.0.1:80 at 0', 'stoppedBeingHealthy 10.0.0.1:80 at 30000', 'becameHealthy 10.0.0.1:80 at 60000']);
  });

  it.each<[string, 'traffic-port' | number, number]>([
    ['the traffic port with traffic-port', 'traffic-port', 3001],
    ['the configured port with 8080', 8080, 8080],
  ])('checks %s', async (_case, healthCheckPort, port) => {
    const { checks, start } = setup({ healthCheckPort });
    start('10.0.0.1', ['ok'], 3001);
    expect(checks.map((c) => c.target)).toEqual([{ id: '10.0.0.1', port }]);
  });
});

describe('HealthStates: registration, use and draining (spec 1.2, 1.3)', () => {
  it('keeps a target initial/Elb.RegistrationInProgress, unchecked, until the registration delay has elapsed', async () => {
    const { clock, states, checks, changes, start } = setup({ registrationDelayMs: 30_000 });
    const target = start('10.0.0.1', ['timeout']);
    await clock.advance(29_999);
    expect(states.reported(target)).toEqual(REGISTERING);
    expect(checks).toEqual([]);
    await clock.advance(1);
    expect(states.reported(target)).toEqual(INITIAL_CHECKING);
    expect(checks.map((c) => c.atMs)).toEqual([30_000]);
    expect(changes).toEqual([{ key: '10.0.0.1:80', from: REGISTERING, to: INITIAL_CHECKING, atMs: 30_000 }]);
  });

  it('never starts checks of a target that drained during the registration delay', async () => {
    const { clock, states, checks, changes, start, drainRecord } = setup({ registrationDelayMs: 30_000 });
    const target = start('10.0.0.1');
    target.drain = drainRecord();
    await clock.advance(60_000);
    expect(checks).toEqual([]);
    expect(changes).toEqual([]);
    expect(states.reported(target)).toEqual(DRAINING);
  });

  it('shows a target of a group no listener uses as unused/Target.NotInUse, and never checks it', async () => {
    const { clock, states, checks, add } = setup();
    const target = add('10.0.0.1');
    states.start(target);
    await clock.advance(5 * INTERVAL_MS);
    expect(states.inUse).toBe(false);
    expect(states.reported(target)).toEqual(NOT_IN_USE);
    expect(checks).toEqual([]);
  });

  it('starts checks of registered targets when the group comes into use, and stops them (unused again) when it goes out of use', async () => {
    const { clock, states, checks, add, drainRecord } = setup();
    const a = add('10.0.0.1');
    const draining = add('10.0.0.2');
    draining.drain = drainRecord();
    expect(states.setInUse(true, [a, draining])).toBe(true);
    expect(states.setInUse(true, [a, draining])).toBe(false);
    expect(states.reported(a)).toEqual(HEALTHY);
    expect(checks.map((c) => c.target.id)).toEqual(['10.0.0.1']);
    expect(states.setInUse(false, [a, draining])).toBe(true);
    await clock.advance(5 * INTERVAL_MS);
    expect(checks).toHaveLength(1);
    expect(states.reported(a)).toEqual(NOT_IN_USE);
    expect(states.reported(draining)).toEqual(DRAINING);
  });

  it('shows a draining target as draining/Target.DeregistrationInProgress and ignores its check results', async () => {
    const { states, start, afterChecks, drainRecord } = setup();
    const target = start('10.0.0.1', ['ok', 'refused']);
    target.drain = drainRecord();
    await afterChecks(4);
    expect(states.reported(target)).toEqual(DRAINING);
    expect(target.health).toEqual(HEALTHY);
  });

  it('stops checking a target after stop()', async () => {
    const { states, checks, start, afterChecks } = setup();
    const target = start('10.0.0.1');
    states.stop(target);
    await afterChecks(5);
    expect(checks).toHaveLength(1);
  });
});

describe('HealthStates: NLB unhealthy target connections (spec 2.4, 4.3)', () => {
  it.each<[string, 'application' | 'network', boolean, Answer[], string[]]>([
    ['an NLB with termination on terminates a healthy target that turns unhealthy at once', 'network', true, ['ok', 'refused', 'refused'], ['terminate 10.0.0.1:80 at 20000']],
    ['an NLB does not terminate a target that fails its initial checks (it has no connections)', 'network', true, ['refused', 'refused'], []],
    ['an ALB never terminates', 'application', true, ['ok', 'refused', 'refused'], []],
    ['an ALB never terminates, even with termination off', 'application', false, ['ok', 'refused', 'refused'], []],
  ])('%s', async (_case, kind, terminate, answers, expected) => {
    const { states, calls, start, afterChecks } = setup({ kind, terminate, drainingIntervalMs: 60_000 });
    const target = start('10.0.0.1', answers);
    await afterChecks(answers.length + 10);
    expect(calls.filter((c) => c.startsWith('terminate'))).toEqual(expected);
    expect(states.reported(target)).toEqual(FAILED);
  });

  it('with termination off keeps a target unhealthy.draining for the interval, then terminates it and shows unhealthy', async () => {
    const { clock, states, calls, changes, start, afterChecks } = setup({ kind: 'network', terminate: false, drainingIntervalMs: 60_000 });
    const target = start('10.0.0.1', ['ok', 'refused']);
    await afterChecks(3);
    expect(states.reported(target)).toEqual(UNHEALTHY_DRAINING);
    expect(changes.at(-1)).toEqual({ key: '10.0.0.1:80', from: HEALTHY, to: UNHEALTHY_DRAINING, atMs: 20_000 });
    await clock.advance(80_000 - 1 - clock.now());
    expect(states.reported(target)).toEqual(UNHEALTHY_DRAINING);
    expect(calls.filter((c) => c.startsWith('terminate'))).toEqual([]);
    await clock.advance(1);
    expect(calls.filter((c) => c.startsWith('terminate'))).toEqual(['terminate 10.0.0.1:80 at 80000']);
    expect(states.reported(target)).toEqual(FAILED);
    expect(changes.at(-1)).toEqual({ key: '10.0.0.1:80', from: UNHEALTHY_DRAINING, to: FAILED, atMs: 80_000 });
    await clock.advance(10 * INTERVAL_MS);
    expect(calls.filter((c) => c.startsWith('terminate'))).toHaveLength(1);
  });

  it('with termination off and a draining interval of 0 terminates on the next turn of the clock', async () => {
    const { states, calls, start, afterChecks } = setup({ kind: 'network', terminate: false, drainingIntervalMs: 0 });
    const target = start('10.0.0.1', ['ok', 'refused']);
    await afterChecks(3);
    expect(calls.filter((c) => c.startsWith('terminate'))).toEqual(['terminate 10.0.0.1:80 at 20000']);
    expect(states.reported(target)).toEqual(FAILED);
  });

  it('cancels unhealthy.draining when the target recovers during the interval: healthy, never terminated', async () => {
    const { clock, states, calls, start, afterChecks } = setup({ kind: 'network', terminate: false, drainingIntervalMs: 60_000 });
    const target = start('10.0.0.1', ['ok', 'refused', 'refused', 'ok', 'ok']);
    await afterChecks(4);
    expect(states.reported(target)).toEqual(UNHEALTHY_DRAINING);
    await afterChecks(5);
    expect(states.reported(target)).toEqual(HEALTHY);
    await clock.advance(20 * INTERVAL_MS);
    expect(calls.filter((c) => c.startsWith('terminate'))).toEqual([]);
    expect(states.reported(target)).toEqual(HEALTHY);
  });

  it('ends unhealthy.draining without terminating when the target is stopped (it started draining)', async () => {
    const { clock, states, calls, start, afterChecks } = setup({ kind: 'network', terminate: false, drainingIntervalMs: 60_000 });
    const target = start('10.0.0.1', ['ok', 'refused']);
    await afterChecks(3);
    expect(states.reported(target)).toEqual(UNHEALTHY_DRAINING);
    states.stop(target);
    expect(states.reported(target)).toEqual(FAILED);
    await clock.advance(20 * INTERVAL_MS);
    expect(calls.filter((c) => c.startsWith('terminate'))).toEqual([]);
  });

  it('close() ends every check and every unhealthy.draining timer', async () => {
    const { clock, states, calls, checks, start, afterChecks } = setup({ kind: 'network', terminate: false, drainingIntervalMs: 60_000 });
    start('10.0.0.1', ['ok', 'refused']);
    await afterChecks(3);
    states.close();
    const checked = checks.length;
    await clock.advance(20 * INTERVAL_MS);
    expect(checks).toHaveLength(checked);
    expect(calls.filter((c) => c.startsWith('terminate'))).toEqual([]);
    expect(clock.pendingTimers).toBe(0);
  });
});
