import { describe, expect, it } from 'vitest';
import { Descriptions, HealthTracker, healthFromReason, unhealthyFrom, type HealthThresholds, type ProbeResult, type TargetHealth } from '../../../src/targets/health.ts';

const ok: ProbeResult = { ok: true, statusCode: 200 };
const timeout: ProbeResult = { ok: false, failure: 'timeout' };
const failed: ProbeResult = { ok: false, failure: 'failed', detail: 'ECONNREFUSED' };
const code = (statusCode: number): ProbeResult => ({ ok: false, failure: 'code', statusCode });
const internal: ProbeResult = { ok: false, failure: 'internal', detail: 'boom' };

const HEALTHY: TargetHealth = { state: 'healthy' };
const TIMEOUT: TargetHealth = { state: 'unhealthy', reason: 'Target.Timeout', description: 'Request timed out' };
const FAILED: TargetHealth = { state: 'unhealthy', reason: 'Target.FailedHealthChecks', description: 'Health checks failed' };
const code503: TargetHealth = { state: 'unhealthy', reason: 'Target.ResponseCodeMismatch', description: 'Health checks failed with these codes: [503]' };
const INITIAL_CHECKING: TargetHealth = { state: 'initial', reason: 'Elb.InitialHealthChecking', description: 'Initial health checks in progress' };

function tracker(t: Partial<HealthThresholds> = {}): HealthTracker {
  return new HealthTracker({ healthyThresholdCount: 5, unhealthyThresholdCount: 2, initialHealthyThresholdCount: 1, ...t });
}

/** A tracker that is already `healthy` (checking started, one pass). */
function healthyTracker(t: Partial<HealthThresholds> = {}): HealthTracker {
  const h = tracker(t);
  h.startChecking();
  h.record(ok);
  expect(h.health).toEqual(HEALTHY);
  return h;
}

/** A tracker that is already `unhealthy` after timeouts. */
function unhealthyTracker(t: Partial<HealthThresholds> = {}): HealthTracker {
  const h = healthyTracker(t);
  for (let i = 0; i < h.thresholds.unhealthyThresholdCount; i++) h.record(timeout);
  expect(h.health.state).toBe('unhealthy');
  return h;
}

describe('AWS reason codes and descriptions (spec 1.2, 2.4)', () => {
  it.each([
    [code(503), code503],
    [code(404), { state: 'unhealthy', reason: 'Target.ResponseCodeMismatch', description: 'Health checks failed with these codes: [404]' }],
    [timeout, TIMEOUT],
    [failed, FAILED],
    [internal, { state: 'unhealthy', reason: 'Elb.InternalError', description: 'Health checks failed due to an internal error' }],
  ])('reports %j as %j', (result, expected) => {
    expect(unhealthyFrom(result as Exclude<ProbeResult, { ok: true }>)).toEqual(expected);
  });

  it.each([
    ['Elb.RegistrationInProgress', 'Target registration is in progress'],
    ['Elb.InitialHealthChecking', 'Initial health checks in progress'],
    ['Target.NotRegistered', 'Target is not registered to the target group'],
    ['Target.NotInUse', 'Target group is not configured to receive traffic from the load balancer'],
    ['Target.DeregistrationInProgress', 'Target deregistration is in progress'],
  ] as const)('describes %s as %j', (reason, text) => {
    expect(Descriptions[reason]).toBe(text);
    expect(healthFromReason('initial', reason)).toEqual({ state: 'initial', reason, description: text });
  });
});

describe('HealthTracker', () => {
  it('starts initial with Elb.RegistrationInProgress', () => {
    expect(tracker().health).toEqual({ state: 'initial', reason: 'Elb.RegistrationInProgress', description: 'Target registration is in progress' });
  });

  it('moves to initial/Elb.InitialHealthChecking when checks start', () => {
    const h = tracker();
    expect(h.startChecking()).toEqual(INITIAL_CHECKING);
    expect(h.health).toEqual(INITIAL_CHECKING);
  });

  it.each([1, 2, 3, 5])('turns an initial target healthy after %i passes when initialHealthyThresholdCount is %i', (n) => {
    const h = tracker({ initialHealthyThresholdCount: n });
    h.startChecking();
    for (let i = 1; i < n; i++) {
      expect(h.record(ok)).toBeUndefined();
      expect(h.health).toEqual(INITIAL_CHECKING);
    }
    expect(h.record(ok)).toEqual(HEALTHY);
    expect(h.health).toEqual(HEALTHY);
  });

  it('does not need healthyThresholdCount passes to leave initial (AWS: one pass)', () => {
    const h = tracker({ healthyThresholdCount: 5, initialHealthyThresholdCount: 1 });
    h.startChecking();
    expect(h.record(ok)).toEqual(HEALTHY);
  });

  it.each([
    [2, timeout, TIMEOUT],
    [3, timeout, TIMEOUT],
    [2, failed, FAILED],
    [2, code(503), code503],
    [10, failed, FAILED],
  ])('marks an initial target unhealthy after %i failures (%j) when unhealthyThresholdCount is %i', (n, result, expected) => {
    const h = tracker({ unhealthyThresholdCount: n });
    h.startChecking();
    for (let i = 1; i < n; i++) {
      expect(h.record(result)).toBeUndefined();
      expect(h.health.state).toBe('initial');
    }
    expect(h.record(result)).toEqual(expected);
  });

  it.each([
    [2, timeout, TIMEOUT],
    [3, code(503), code503],
    [4, failed, FAILED],
  ])('marks a healthy target unhealthy after %i consecutive failures when unhealthyThresholdCount is %i', (n, result, expected) => {
    const h = healthyTracker({ unhealthyThresholdCount: n });
    for (let i = 1; i < n; i++) {
      expect(h.record(result)).toBeUndefined();
      expect(h.health).toEqual(HEALTHY);
    }
    expect(h.record(result)).toEqual(expected);
    expect(h.health).toEqual(expected);
  });

  it('reports the reason of the last failure that crossed the threshold', () => {
    const h = healthyTracker();
    h.record(code(503));
    expect(h.record(timeout)).toEqual(TIMEOUT);
  });

  it.each([2, 3, 5, 10])('turns an unhealthy target healthy after %i consecutive passes when healthyThresholdCount is %i', (n) => {
    const h = unhealthyTracker({ healthyThresholdCount: n });
    for (let i = 1; i < n; i++) {
      expect(h.record(ok)).toBeUndefined();
      expect(h.health.state).toBe('unhealthy');
    }
    expect(h.record(ok)).toEqual(HEALTHY);
  });

  it('keeps a healthy target healthy after a failure then a pass: the pass resets the failure count', () => {
    const h = healthyTracker({ unhealthyThresholdCount: 2 });
    h.record(timeout);
    h.record(ok);
    expect(h.record(timeout)).toBeUndefined();
    expect(h.health).toEqual(HEALTHY);
    expect(h.record(timeout)).toEqual(TIMEOUT);
  });

  it('keeps an unhealthy target unhealthy when a failure interrupts the passes: the failure resets the pass count', () => {
    const h = unhealthyTracker({ healthyThresholdCount: 3 });
    h.record(ok);
    h.record(ok);
    h.record(timeout);
    h.record(ok);
    h.record(ok);
    expect(h.health.state).toBe('unhealthy');
    expect(h.record(ok)).toEqual(HEALTHY);
  });

  it('keeps an initial target initial when passes and failures alternate below both thresholds', () => {
    const h = tracker({ initialHealthyThresholdCount: 2, unhealthyThresholdCount: 2 });
    h.startChecking();
    for (const r of [ok, timeout, ok, timeout, ok, timeout]) expect(h.record(r)).toBeUndefined();
    expect(h.health).toEqual(INITIAL_CHECKING);
  });

  it('updates the reason of an unhealthy target on each new kind of failure, and reports the change', () => {
    const h = unhealthyTracker();
    expect(h.health).toEqual(TIMEOUT);
    expect(h.record(code(503))).toEqual(code503);
    expect(h.record(code(500))).toEqual({ state: 'unhealthy', reason: 'Target.ResponseCodeMismatch', description: 'Health checks failed with these codes: [500]' });
    expect(h.record(failed)).toEqual(FAILED);
    expect(h.record(failed)).toBeUndefined();
  });

  it('returns undefined for results that change nothing', () => {
    const h = healthyTracker();
    expect(h.record(ok)).toBeUndefined();
    expect(h.record(ok)).toBeUndefined();
  });

  it('startChecking resets the failure count, so earlier failures do not count', () => {
    const h = healthyTracker({ unhealthyThresholdCount: 2 });
    h.record(timeout);
    h.startChecking();
    expect(h.record(timeout)).toBeUndefined();
    expect(h.health).toEqual(INITIAL_CHECKING);
    expect(h.record(timeout)).toEqual(TIMEOUT);
  });

  it('startChecking resets the counters, so earlier passes do not count', () => {
    const h = tracker({ initialHealthyThresholdCount: 2 });
    h.startChecking();
    h.record(ok);
    h.startChecking();
    expect(h.record(ok)).toBeUndefined();
    expect(h.record(ok)).toEqual(HEALTHY);
  });
});
