import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/core/clock.ts';
import { ElbError, ErrorCodes, isElbError } from '../../../src/core/errors.ts';
import { parseConfig } from '../../../src/config/schema.ts';
import type { ProbeResult, TargetHealth } from '../../../src/targets/health.ts';
import type { Probe } from '../../../src/targets/health-checker.ts';
import { TargetGroup, type TargetGroupEvent } from '../../../src/targets/target-group.ts';
import { TargetLease } from '../../../src/targets/target.ts';

/** What a scripted target answers to health checks: a status code, a timeout, or a refusal. */
type Answer = 'ok' | 'timeout' | 'refused' | number;

const HEALTHY: TargetHealth = { state: 'healthy' };
const INITIAL_CHECKING: TargetHealth = { state: 'initial', reason: 'Elb.InitialHealthChecking', description: 'Initial health checks in progress' };
const REGISTERING: TargetHealth = { state: 'initial', reason: 'Elb.RegistrationInProgress', description: 'Target registration is in progress' };
const TIMEOUT: TargetHealth = { state: 'unhealthy', reason: 'Target.Timeout', description: 'Request timed out' };
const FAILED: TargetHealth = { state: 'unhealthy', reason: 'Target.FailedHealthChecks', description: 'Health checks failed' };
const DRAINING: TargetHealth = { state: 'draining', reason: 'Target.DeregistrationInProgress', description: 'Target deregistration is in progress' };
const NOT_REGISTERED: TargetHealth = { state: 'unused', reason: 'Target.NotRegistered', description: 'Target is not registered to the target group' };
const NOT_IN_USE: TargetHealth = { state: 'unused', reason: 'Target.NotInUse', description: 'Target group is not configured to receive traffic from the load balancer' };
const mismatch = (code: number): TargetHealth => ({ state: 'unhealthy', reason: 'Target.ResponseCodeMismatch', description: `Health checks failed with these codes: [${code}]` });

const INTERVAL_MS = 10_000;

const groups: TargetGroup[] = [];
afterEach(() => {
  for (const g of groups.splice(0)) g.close();
});

/**
 * A target group on a virtual clock whose probe answers per target as scripted by `answer`
 * (every target answers 200 until told otherwise). Interval 10 s, timeout 5 s, thresholds 2/2
 * unless overridden.
 */
function setup(overrides: Record<string, unknown> = {}, options: { inUse?: boolean; answers?: Record<string, Answer> } = {}) {
  const clock = new VirtualClock();
  const answers = new Map<string, Answer>();
  const probes: string[] = [];
  const probe: Probe = (target, signal) => {
    const key = `${target.id}:${target.port}`;
    probes.push(key);
    const a = answers.get(key) ?? 'ok';
    if (a === 'timeout') return new Promise<ProbeResult>((resolve) => signal.addEventListener('abort', () => resolve({ ok: false, failure: 'timeout' })));
    if (a === 'refused') return Promise.resolve({ ok: false, failure: 'failed', detail: 'ECONNREFUSED' });
    const status = a === 'ok' ? 200 : a;
    return Promise.resolve(status === 200 ? { ok: true, statusCode: 200 } : { ok: false, failure: 'code', statusCode: status });
  };
  const config = parseConfig({
    targetGroups: [
      {
        name: 'web',
        protocol: 'HTTP',
        port: 80,
        healthCheckIntervalSeconds: INTERVAL_MS / 1000,
        healthCheckTimeoutSeconds: 5,
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 2,
        ...overrides,
      },
    ],
  }).targetGroups[0]!;
  for (const [id, a] of Object.entries(options.answers ?? {})) answers.set(`${id}:80`, a);
  const group = new TargetGroup({ config, clock, probe });
  groups.push(group);
  if (options.inUse !== false) group.setLoadBalancers(['app']);
  const events: TargetGroupEvent[] = [];
  group.on((e) => events.push(e));
  const health = (id: string, port = 80) => group.describeTargetHealth([{ id, port }])[0]!.targetHealth;
  const answer = (id: string, a: Answer, port = 80) => answers.set(`${id}:${port}`, a);
  /** Acquires and releases `n` times; returns how many picks each target id got. */
  const spread = (n: number) => {
    const counts: Record<string, number> = {};
    for (let i = 0; i < n; i++) {
      const lease = group.acquire();
      counts[lease.target.id] = (counts[lease.target.id] ?? 0) + 1;
      lease.release();
    }
    return counts;
  };
  return { clock, group, probes, events, health, answer, spread };
}

function acquireError(group: TargetGroup): ElbError {
  try {
    group.acquire().release();
  } catch (err) {
    expect(err).toBeInstanceOf(ElbError);
    return err as ElbError;
  }
  throw new Error('acquire() returned a lease');
}

const ids = (...n: number[]) => n.map((i) => ({ id: `10.0.0.${i}` }));

describe('TargetGroup: health states (spec 1.2, 1.3)', () => {
  it('shows targets of a group no listener uses as unused/Target.NotInUse and never checks them', async () => {
    const { clock, group, probes, health } = setup({ targets: ids(1) }, { inUse: false });
    await clock.advance(5 * INTERVAL_MS);
    expect(health('10.0.0.1')).toEqual(NOT_IN_USE);
    expect(probes).toEqual([]);
    expect(acquireError(group).code).toBe(ErrorCodes.NO_ROUTABLE_TARGETS);
  });

  it('starts checking when a listener starts using the group, and stops when none does', async () => {
    const { clock, group, probes, health } = setup({ targets: ids(1) }, { inUse: false });
    group.setLoadBalancers(['app']);
    await clock.advance(0);
    expect(health('10.0.0.1')).toEqual(HEALTHY);
    expect(group.describe().loadBalancerNames).toEqual(['app']);
    group.setLoadBalancers([]);
    const checked = probes.length;
    await clock.advance(5 * INTERVAL_MS);
    expect(probes).toHaveLength(checked);
    expect(health('10.0.0.1')).toEqual(NOT_IN_USE);
  });

  it('restarts checks from initial, with fresh counters, when a group is used again', async () => {
    const { clock, group, health, answer } = setup({ targets: ids(1) });
    await clock.advance(0);
    answer('10.0.0.1', 'refused');
    await clock.advance(INTERVAL_MS);
    expect(health('10.0.0.1')).toEqual(HEALTHY);
    group.setLoadBalancers([]);
    group.setLoadBalancers(['app']);
    await clock.advance(0);
    expect(health('10.0.0.1')).toEqual(INITIAL_CHECKING);
    await clock.advance(INTERVAL_MS);
    expect(health('10.0.0.1')).toEqual(FAILED);
  });

  it('shows initial/Elb.RegistrationInProgress for registrationDelaySeconds, then initial/Elb.InitialHealthChecking, then healthy', async () => {
    const { clock, group, probes, health, answer } = setup({ emulator: { registrationDelaySeconds: 60 } });
    answer('10.0.0.1', 'timeout');
    group.register(ids(1));
    expect(health('10.0.0.1')).toEqual(REGISTERING);
    await clock.advance(59_999);
    expect(health('10.0.0.1')).toEqual(REGISTERING);
    expect(probes).toEqual([]);
    await clock.advance(1);
    expect(probes).toEqual(['10.0.0.1:80']);
    expect(health('10.0.0.1')).toEqual(INITIAL_CHECKING);
    answer('10.0.0.1', 'ok');
    await clock.advance(INTERVAL_MS);
    expect(health('10.0.0.1')).toEqual(HEALTHY);
  });

  it('shows initial/Elb.InitialHealthChecking at once when there is no registration delay, and healthy after one pass', async () => {
    const { clock, group, health } = setup();
    group.register(ids(1));
    expect(health('10.0.0.1')).toEqual(INITIAL_CHECKING);
    await clock.advance(0);
    expect(health('10.0.0.1')).toEqual(HEALTHY);
  });

  it('needs initialHealthyThresholdCount passes to leave initial', async () => {
    const { clock, group, health } = setup({ emulator: { initialHealthyThresholdCount: 3 } });
    group.register(ids(1));
    await clock.advance(INTERVAL_MS);
    expect(health('10.0.0.1')).toEqual(INITIAL_CHECKING);
    await clock.advance(INTERVAL_MS);
    expect(health('10.0.0.1')).toEqual(HEALTHY);
  });

  it.each([
    ['timeout', 2, TIMEOUT],
    ['timeout', 3, TIMEOUT],
    [503, 2, mismatch(503)],
    [404, 2, mismatch(404)],
    ['refused', 2, FAILED],
  ] as const)('marks a healthy target unhealthy after consecutive %j answers when unhealthyThresholdCount is %i', async (a, threshold, expected) => {
    const { clock, group, health, answer } = setup({ unhealthyThresholdCount: threshold });
    group.register(ids(1));
    await clock.advance(0);
    expect(health('10.0.0.1')).toEqual(HEALTHY);
    answer('10.0.0.1', a);
    // Checks at 10 s, 20 s, …; a timeout is reported 5 s after its check.
    const settle = a === 'timeout' ? 5_000 : 0;
    await clock.advance((threshold - 1) * INTERVAL_MS + settle);
    expect(health('10.0.0.1')).toEqual(HEALTHY);
    await clock.advance(INTERVAL_MS);
    expect(health('10.0.0.1')).toEqual(expected);
    expect(group.unhealthyHostCount).toBe(1);
    expect(group.healthyHostCount).toBe(0);
  });

  it.each([2, 5])('turns an unhealthy target healthy again after %i consecutive passes when healthyThresholdCount is the same', async (threshold) => {
    const { clock, group, health, answer } = setup({ healthyThresholdCount: threshold });
    answer('10.0.0.1', 503);
    group.register(ids(1));
    await clock.advance(INTERVAL_MS);
    expect(health('10.0.0.1')).toEqual(mismatch(503));
    answer('10.0.0.1', 'ok');
    await clock.advance((threshold - 1) * INTERVAL_MS);
    expect(health('10.0.0.1')).toEqual(mismatch(503));
    await clock.advance(INTERVAL_MS);
    expect(health('10.0.0.1')).toEqual(HEALTHY);
  });

  it('runs on the AWS defaults: 30 s interval, healthy after 1 pass, unhealthy after 2 timeouts, healthy again after 5 passes', async () => {
    const clock = new VirtualClock();
    let answerOk = true;
    const config = parseConfig({ targetGroups: [{ name: 'web', protocol: 'HTTP', port: 80, targets: [{ id: '10.0.0.1' }] }] }).targetGroups[0]!;
    const group = new TargetGroup({
      config,
      clock,
      probe: (_t, signal) =>
        answerOk ? Promise.resolve({ ok: true }) : new Promise((r) => signal.addEventListener('abort', () => r({ ok: false, failure: 'timeout' }))),
    });
    groups.push(group);
    group.setLoadBalancers(['app']);
    const state = () => group.describeTargetHealth()[0]!.targetHealth;
    await clock.advance(0);
    expect(state()).toEqual(HEALTHY);
    answerOk = false;
    await clock.advance(30_000 + 5_000);
    expect(state()).toEqual(HEALTHY);
    await clock.advance(30_000);
    expect(state()).toEqual(TIMEOUT);
    answerOk = true;
    // Checks at 90, 120, 150 and 180 s pass: four of five.
    await clock.advance(25_000 + 3 * 30_000);
    expect(state()).toEqual(TIMEOUT);
    await clock.advance(30_000);
    expect(state()).toEqual(HEALTHY);
  });

  it('reports a target nobody registered as unused/Target.NotRegistered', () => {
    const { group } = setup({ targets: ids(1) });
    expect(group.describeTargetHealth([{ id: '10.0.0.9', port: 80 }])).toEqual([
      { target: { id: '10.0.0.9', port: 80 }, healthCheckPort: '80', targetHealth: NOT_REGISTERED },
    ]);
  });

  it('describes every target in the AWS shape, with the traffic port or the fixed health-check port', async () => {
    const traffic = setup({ targets: [{ id: '10.0.0.1' }, { id: '10.0.0.2', port: 8081 }] });
    await traffic.clock.advance(0);
    expect(traffic.group.describeTargetHealth()).toEqual([
      { target: { id: '10.0.0.1', port: 80 }, healthCheckPort: '80', targetHealth: HEALTHY },
      { target: { id: '10.0.0.2', port: 8081 }, healthCheckPort: '8081', targetHealth: HEALTHY },
    ]);
    const fixed = setup({ healthCheckPort: 9000, targets: ids(1) });
    await fixed.clock.advance(0);
    expect(fixed.probes).toEqual(['10.0.0.1:9000']);
    expect(fixed.group.describeTargetHealth()[0]!.healthCheckPort).toBe('9000');
  });

  it('keeps per-target health: one target failing does not change another', async () => {
    const { clock, group, health } = setup({ targets: ids(1, 2) }, { answers: { '10.0.0.2': 'refused' } });
    await clock.advance(INTERVAL_MS);
    expect(health('10.0.0.1')).toEqual(HEALTHY);
    expect(health('10.0.0.2')).toEqual(FAILED);
    expect([group.healthyHostCount, group.unhealthyHostCount]).toEqual([1, 1]);
  });

  it('emits target.state_changed with from and to', async () => {
    const { clock, group, events } = setup();
    group.register(ids(1));
    await clock.advance(0);
    const changes = events.filter((e) => e.type === 'target.state_changed').map((e) => e.type === 'target.state_changed' && [e.from.state, e.to.state, e.to.reason]);
    expect(changes).toEqual([
      ['initial', 'initial', 'Elb.InitialHealthChecking'],
      ['initial', 'healthy', undefined],
    ]);
  });

  it('rejects a target without a port when the group has none', () => {
    const config = parseConfig({ targetGroups: [{ name: 'web', protocol: 'HTTP' }] }).targetGroups[0]!;
    const group = new TargetGroup({ config, clock: new VirtualClock(), probe: () => Promise.resolve({ ok: true }) });
    groups.push(group);
    expect(() => group.register([{ id: '10.0.0.1' }])).toThrow(expect.objectContaining({ code: ErrorCodes.INVALID_ARGUMENT }));
    expect(() => group.register([{ id: '10.0.0.1', port: 70000 }])).toThrow(/needs a port 1–65535/);
    group.register([{ id: '10.0.0.1', port: 3000 }]);
    expect(group.targets().map((t) => t.key)).toEqual(['10.0.0.1:3000']);
  });

  it('ignores registering a target that is already registered', async () => {
    const { clock, group, health } = setup({ targets: ids(1) });
    await clock.advance(0);
    group.register(ids(1));
    expect(group.targets()).toHaveLength(1);
    expect(health('10.0.0.1')).toEqual(HEALTHY);
  });
});

describe('TargetGroup: acquire, no targets and fail-open (spec 2.6, 2.7)', () => {
  it('throws ELB_ERR_NO_REGISTERED_TARGETS when the group has no targets', () => {
    const { group } = setup();
    const err = acquireError(group);
    expect(err.code).toBe(ErrorCodes.NO_REGISTERED_TARGETS);
    expect(err.message).toContain('web');
  });

  it('throws ELB_ERR_NO_ROUTABLE_TARGETS when every target is still initial', async () => {
    const { clock, group, answer } = setup();
    answer('10.0.0.1', 'timeout');
    group.register(ids(1));
    await clock.advance(1_000);
    expect(group.describeTargetHealth()[0]!.targetHealth).toEqual(INITIAL_CHECKING);
    expect(acquireError(group).code).toBe(ErrorCodes.NO_ROUTABLE_TARGETS);
  });

  it('throws ELB_ERR_NO_ROUTABLE_TARGETS when every target is draining', async () => {
    const { clock, group } = setup({ targets: ids(1, 2) });
    await clock.advance(0);
    void group.deregister(ids(1, 2));
    expect(acquireError(group).code).toBe(ErrorCodes.NO_ROUTABLE_TARGETS);
  });

  it('throws ELB_ERR_NO_ROUTABLE_TARGETS when targets are initial or draining and none is healthy', async () => {
    const { clock, group, answer } = setup({ targets: ids(1) });
    await clock.advance(0);
    answer('10.0.0.2', 'timeout');
    group.register(ids(2));
    void group.deregister(ids(1));
    expect(acquireError(group).code).toBe(ErrorCodes.NO_ROUTABLE_TARGETS);
  });

  it('routes only to healthy targets while at least one is healthy', async () => {
    const { clock, group, spread } = setup({ targets: ids(1, 2, 3) }, { answers: { '10.0.0.2': 503, '10.0.0.3': 'timeout' } });
    await clock.advance(2 * INTERVAL_MS);
    expect(group.failingOpen).toBe(false);
    expect(spread(10)).toEqual({ '10.0.0.1': 10 });
  });

  it('fails open when every registered target is unhealthy: routes to all of them', async () => {
    const { clock, group, spread } = setup({ targets: ids(1, 2) }, { answers: { '10.0.0.1': 503, '10.0.0.2': 'refused' } });
    await clock.advance(INTERVAL_MS);
    expect(group.healthyHostCount).toBe(0);
    expect(group.failingOpen).toBe(true);
    expect(spread(10)).toEqual({ '10.0.0.1': 5, '10.0.0.2': 5 });
  });

  it('stops failing open as soon as one target is healthy again', async () => {
    const { clock, group, answer, spread } = setup({ targets: ids(1, 2) }, { answers: { '10.0.0.1': 503, '10.0.0.2': 503 } });
    await clock.advance(INTERVAL_MS);
    expect(group.failingOpen).toBe(true);
    answer('10.0.0.1', 'ok');
    await clock.advance(INTERVAL_MS);
    expect(group.failingOpen).toBe(true);
    await clock.advance(INTERVAL_MS);
    expect(group.healthyHostCount).toBe(1);
    expect(group.failingOpen).toBe(false);
    expect(spread(4)).toEqual({ '10.0.0.1': 4 });
  });

  it('fails open to unhealthy targets only, never to targets still initial', async () => {
    const { clock, group, answer, spread } = setup({ targets: ids(1) }, { answers: { '10.0.0.1': 503 } });
    await clock.advance(INTERVAL_MS);
    answer('10.0.0.2', 'timeout');
    group.register(ids(2));
    await clock.advance(1_000);
    expect(group.failingOpen).toBe(true);
    expect(spread(4)).toEqual({ '10.0.0.1': 4 });
  });

  it.each([
    // [minimum count, healthy, unhealthy, failing open]
    [1, 1, 2, false],
    [2, 1, 2, true],
    [2, 2, 1, false],
    [3, 2, 1, true],
  ])('with minimum_healthy_targets.count %i, %i healthy and %i unhealthy: failing open is %s', async (minCount, healthyN, unhealthyN, open) => {
    const total = healthyN + unhealthyN;
    const all = Array.from({ length: total }, (_, i) => i + 1);
    const answers: Record<string, Answer> = {};
    for (let i = healthyN + 1; i <= total; i++) answers[`10.0.0.${i}`] = 503;
    const { clock, group, spread } = setup(
      { targets: ids(...all), attributes: { 'target_group_health.unhealthy_state_routing.minimum_healthy_targets.count': String(minCount) } },
      { answers },
    );
    await clock.advance(INTERVAL_MS);
    expect([group.healthyHostCount, group.unhealthyHostCount]).toEqual([healthyN, unhealthyN]);
    expect(group.failingOpen).toBe(open);
    const counts = spread(total * 10);
    expect(Object.keys(counts).length).toBe(open ? total : healthyN);
  });

  it.each([
    // [percentage, healthy, unhealthy, failing open]
    ['50', 1, 3, true],
    ['50', 2, 2, false],
    ['75', 2, 2, true],
    ['100', 3, 1, true],
    ['off', 1, 3, false],
  ])('with minimum_healthy_targets.percentage %s, %i healthy and %i unhealthy: failing open is %s', async (percentage, healthyN, unhealthyN, open) => {
    const total = healthyN + unhealthyN;
    const all = Array.from({ length: total }, (_, i) => i + 1);
    const answers: Record<string, Answer> = {};
    for (let i = healthyN + 1; i <= total; i++) answers[`10.0.0.${i}`] = 'refused';
    const { clock, group, spread } = setup(
      { targets: ids(...all), attributes: { 'target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage': percentage } },
      { answers },
    );
    await clock.advance(INTERVAL_MS);
    expect(group.failingOpen).toBe(open);
    expect(Object.keys(spread(total * 10)).length).toBe(open ? total : healthyN);
  });
});

describe('TargetGroup: algorithms (spec 3.1)', () => {
  it('spreads round robin evenly and in order over the healthy targets', async () => {
    const { clock, group, spread } = setup({ targets: ids(1, 2, 3) });
    await clock.advance(0);
    const order: string[] = [];
    for (let i = 0; i < 6; i++) {
      const lease = group.acquire();
      order.push(lease.target.id);
      lease.release();
    }
    expect(order).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.1', '10.0.0.2', '10.0.0.3']);
    expect(spread(300)).toEqual({ '10.0.0.1': 100, '10.0.0.2': 100, '10.0.0.3': 100 });
  });

  it('ignores requests in flight under round robin', async () => {
    const { clock, group } = setup({ targets: ids(1, 2) });
    await clock.advance(0);
    const held = [group.acquire(), group.acquire(), group.acquire(), group.acquire()];
    expect(held.map((l) => l.target.id)).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.1', '10.0.0.2']);
  });

  it('picks the target with the fewest requests in flight under least_outstanding_requests', async () => {
    const { clock, group } = setup({ targets: ids(1, 2, 3), attributes: { 'load_balancing.algorithm.type': 'least_outstanding_requests' } });
    await clock.advance(0);
    const byId = new Map(group.targets().map((t) => [t.id, t]));
    const hold = (id: string, n: number) => Array.from({ length: n }, () => new TargetLease(byId.get(id)!));
    hold('10.0.0.1', 3);
    hold('10.0.0.3', 2);
    const [onTwo] = hold('10.0.0.2', 1);
    for (let i = 0; i < 5; i++) {
      const lease = group.acquire();
      expect(lease.target.id).toBe('10.0.0.2');
      lease.release();
    }
    // With 10.0.0.2 at 2 in flight, 10.0.0.3 (2) ties with it and 10.0.0.1 (3) stays out.
    const second = group.acquire();
    expect(second.target.id).toBe('10.0.0.2');
    const picks = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const lease = group.acquire();
      picks.add(lease.target.id);
      lease.release();
    }
    expect(picks).toEqual(new Set(['10.0.0.2', '10.0.0.3']));
    onTwo!.release();
    second.release();
    expect(byId.get('10.0.0.2')!.outstanding).toBe(0);
  });

  it('spreads ties fairly under least_outstanding_requests instead of always taking the first', async () => {
    const { clock, group, spread } = setup({ targets: ids(1, 2, 3), attributes: { 'load_balancing.algorithm.type': 'least_outstanding_requests' } });
    await clock.advance(0);
    expect(spread(30)).toEqual({ '10.0.0.1': 10, '10.0.0.2': 10, '10.0.0.3': 10 });
  });

  it('counts each lease in flight once, and release is idempotent', async () => {
    const { clock, group } = setup({ targets: ids(1) });
    await clock.advance(0);
    const lease = group.acquire();
    expect(lease.target.outstanding).toBe(1);
    expect(lease.target.requestCount).toBe(1);
    lease.release();
    lease.release();
    expect(lease.target.outstanding).toBe(0);
  });
});

describe('TargetGroup: deregistration (spec 4.1)', () => {
  it('shows draining/Target.DeregistrationInProgress at once and takes no new requests', async () => {
    const { clock, group, health, spread, events } = setup({ targets: ids(1, 2) });
    await clock.advance(0);
    void group.deregister(ids(1));
    expect(health('10.0.0.1')).toEqual(DRAINING);
    expect(group.describeTargetHealth().map((d) => d.targetHealth.state)).toEqual(['draining', 'healthy']);
    expect(spread(10)).toEqual({ '10.0.0.2': 10 });
    const last = events.at(-1)!;
    expect(last.type === 'target.state_changed' && [last.from.state, last.to.state]).toEqual(['healthy', 'draining']);
  });

  it('lowers HealthyHostCount on deregistration without raising UnHealthyHostCount', async () => {
    const { clock, group } = setup({ targets: ids(1, 2) });
    await clock.advance(0);
    void group.deregister(ids(1));
    expect([group.healthyHostCount, group.unhealthyHostCount]).toEqual([1, 0]);
  });

  it('stops health checks for a draining target', async () => {
    const { clock, group, probes } = setup({ targets: ids(1) });
    await clock.advance(0);
    void group.deregister(ids(1));
    const before = probes.length;
    await clock.advance(10 * INTERVAL_MS);
    expect(probes).toHaveLength(before);
  });

  it('resolves drained after exactly the default 300 s delay when nothing is in flight, and shows draining until then', async () => {
    const { clock, group, health, events } = setup({ targets: ids(1) });
    await clock.advance(0);
    let outcome: unknown;
    void group.deregister(ids(1)).then((o) => (outcome = o));
    await clock.advance(299_999);
    expect(outcome).toBeUndefined();
    expect(health('10.0.0.1')).toEqual(DRAINING);
    await clock.advance(1);
    expect(outcome).toEqual([{ target: { id: '10.0.0.1', port: 80 }, result: 'drained', cutRequests: 0 }]);
    expect(health('10.0.0.1')).toEqual(NOT_REGISTERED);
    expect(group.describeTargetHealth()).toEqual([]);
    expect(events.at(-1)?.type).toBe('target.removed');
  });

  it('still waits the whole delay when the last request finishes early', async () => {
    const { clock, group, health } = setup({ targets: ids(1), attributes: { 'deregistration_delay.timeout_seconds': '30' } });
    await clock.advance(0);
    const lease = group.acquire();
    let outcome: unknown;
    void group.deregister(ids(1)).then((o) => (outcome = o));
    await clock.advance(1_000);
    lease.release();
    await clock.advance(28_999);
    expect(outcome).toBeUndefined();
    expect(health('10.0.0.1')).toEqual(DRAINING);
    await clock.advance(1);
    expect(outcome).toEqual([{ target: { id: '10.0.0.1', port: 80 }, result: 'drained', cutRequests: 0 }]);
  });

  it('cuts requests still in flight when the delay ends: onCut gets ELB_ERR_DEREGISTRATION_DELAY_ELAPSED and the outcome is cut', async () => {
    const { clock, group } = setup({ targets: ids(1) });
    await clock.advance(0);
    const leases = [group.acquire(), group.acquire()];
    const cuts: unknown[] = [];
    for (const l of leases) l.onCut((reason) => cuts.push(reason));
    const done = group.deregister(ids(1));
    await clock.advance(300_000);
    await expect(done).resolves.toEqual([{ target: { id: '10.0.0.1', port: 80 }, result: 'cut', cutRequests: 2 }]);
    expect(cuts).toHaveLength(2);
    for (const reason of cuts) expect(isElbError(reason, ErrorCodes.DEREGISTRATION_DELAY_ELAPSED)).toBe(true);
    expect(leases[0]!.target.outstanding).toBe(0);
  });

  it('does not cut a request released before the delay ends', async () => {
    const { clock, group } = setup({ targets: ids(1), attributes: { 'deregistration_delay.timeout_seconds': '10' } });
    await clock.advance(0);
    const lease = group.acquire();
    let cut = false;
    lease.onCut(() => (cut = true));
    const done = group.deregister(ids(1));
    lease.release();
    await clock.advance(10_000);
    await expect(done).resolves.toEqual([{ target: { id: '10.0.0.1', port: 80 }, result: 'drained', cutRequests: 0 }]);
    expect(cut).toBe(false);
  });

  it('deregisters at once with deregistration_delay.timeout_seconds 0', async () => {
    const { clock, group } = setup({ targets: ids(1), attributes: { 'deregistration_delay.timeout_seconds': '0' } });
    await clock.advance(0);
    const done = group.deregister(ids(1));
    await clock.advance(0);
    await expect(done).resolves.toEqual([{ target: { id: '10.0.0.1', port: 80 }, result: 'drained', cutRequests: 0 }]);
  });

  it('resolves reregistered when the target is registered again while draining, and checks it from initial', async () => {
    const { clock, group, health } = setup({ targets: ids(1) });
    await clock.advance(0);
    const lease = group.acquire();
    let cut = false;
    lease.onCut(() => (cut = true));
    const done = group.deregister(ids(1));
    await clock.advance(60_000);
    group.register(ids(1));
    expect(health('10.0.0.1')).toEqual(INITIAL_CHECKING);
    await expect(done).resolves.toEqual([{ target: { id: '10.0.0.1', port: 80 }, result: 'reregistered', cutRequests: 0 }]);
    expect(cut).toBe(false);
    await clock.advance(0);
    expect(health('10.0.0.1')).toEqual(HEALTHY);
    await clock.advance(300_000);
    expect(health('10.0.0.1')).toEqual(HEALTHY);
    expect(group.acquire().target.id).toBe('10.0.0.1');
  });

  it('resolves not-registered for a target that is not in the group', async () => {
    const { group } = setup({ targets: ids(1) });
    await expect(group.deregister([{ id: '10.0.0.9', port: 81 }])).resolves.toEqual([{ target: { id: '10.0.0.9', port: 81 }, result: 'not-registered', cutRequests: 0 }]);
  });

  it('gives a second deregistration of a draining target the same outcome, without restarting the delay', async () => {
    const { clock, group } = setup({ targets: ids(1), attributes: { 'deregistration_delay.timeout_seconds': '100' } });
    await clock.advance(0);
    const first = group.deregister(ids(1));
    await clock.advance(50_000);
    let second: unknown;
    void group.deregister(ids(1)).then((o) => (second = o));
    await clock.advance(50_000);
    expect(second).toEqual(await first);
    expect(second).toEqual([{ target: { id: '10.0.0.1', port: 80 }, result: 'drained', cutRequests: 0 }]);
  });

  it('resolves one outcome per target, each after its own delay', async () => {
    const { clock, group } = setup({ targets: ids(1, 2) });
    await clock.advance(0);
    const lease = group.acquire();
    const done = group.deregister([...ids(1, 2), { id: '10.0.0.9' }]);
    await clock.advance(300_000);
    expect((await done).map((o) => [o.target.id, o.result, o.cutRequests])).toEqual([
      ['10.0.0.1', 'cut', 1],
      ['10.0.0.2', 'drained', 0],
      ['10.0.0.9', 'not-registered', 0],
    ]);
    expect(lease.target.outstanding).toBe(0);
  });
});

describe('TargetGroup: attributes', () => {
  it('lists every attribute with its current value', () => {
    const { group } = setup();
    expect(group.attributes()).toMatchObject({ 'deregistration_delay.timeout_seconds': '300', 'load_balancing.algorithm.type': 'round_robin' });
  });

  it('switches from round robin to least outstanding requests', async () => {
    const { clock, group } = setup({ targets: ids(1, 2) });
    await clock.advance(0);
    const held = group.acquire();
    expect(held.target.id).toBe('10.0.0.1');
    // Round robin would now pick 10.0.0.2, then 10.0.0.1 again despite its lease.
    const returned = group.modifyAttributes({ 'load_balancing.algorithm.type': 'least_outstanding_requests' });
    expect(returned['load_balancing.algorithm.type']).toBe('least_outstanding_requests');
    expect(group.describe().loadBalancingAlgorithmType).toBe('least_outstanding_requests');
    for (let i = 0; i < 4; i++) {
      const lease = group.acquire();
      expect(lease.target.id).toBe('10.0.0.2');
      lease.release();
    }
  });

  it('keeps earlier changes when modifying another attribute', () => {
    const { group } = setup();
    group.modifyAttributes({ 'deregistration_delay.timeout_seconds': '5' });
    group.modifyAttributes({ 'load_balancing.algorithm.type': 'least_outstanding_requests' });
    expect(group.attributes()['deregistration_delay.timeout_seconds']).toBe('5');
  });

  it('uses a changed deregistration delay for the next deregistration', async () => {
    const { clock, group } = setup({ targets: ids(1) });
    await clock.advance(0);
    group.modifyAttributes({ 'deregistration_delay.timeout_seconds': '5' });
    let outcome: unknown;
    void group.deregister(ids(1)).then((o) => (outcome = o));
    await clock.advance(5_000);
    expect(outcome).toEqual([{ target: { id: '10.0.0.1', port: 80 }, result: 'drained', cutRequests: 0 }]);
  });

  it.each([
    [{ 'load_balancing.algorithm.type': 'random' }, /must be round_robin \| least_outstanding_requests \| weighted_random: got "random"/],
    [{ 'slow_start.duration_seconds': '30', 'load_balancing.algorithm.type': 'least_outstanding_requests' }, /slow start cannot be used/],
    [{ 'deregistration_delay.timeout_seconds': '3601' }, /0–3600: got "3601"/],
    [{ 'no.such.attribute': '1' }, /unknown attribute/],
  ])('rejects %j with ELB_ERR_INVALID_ARGUMENT and changes nothing', (changes, message) => {
    const { group } = setup();
    const before = group.attributes();
    let err: unknown;
    try {
      group.modifyAttributes({ 'deregistration_delay.timeout_seconds': '10', ...changes });
    } catch (e) {
      err = e;
    }
    expect(isElbError(err, ErrorCodes.INVALID_ARGUMENT)).toBe(true);
    expect((err as Error).message).toMatch(message);
    expect(group.attributes()).toEqual(before);
  });
});

describe('TargetGroup: close', () => {
  it('resolves pending deregistrations as closed and stops every timer', async () => {
    const { clock, group, probes } = setup({ targets: ids(1, 2) });
    await clock.advance(0);
    const done = group.deregister(ids(1));
    group.close();
    await expect(done).resolves.toEqual([{ target: { id: '10.0.0.1', port: 80 }, result: 'closed', cutRequests: 0 }]);
    const before = probes.length;
    await clock.advance(10 * INTERVAL_MS);
    expect(probes).toHaveLength(before);
    expect(clock.pendingTimers).toBe(0);
  });

  it('refuses register and deregister once closed', () => {
    const { group } = setup();
    group.close();
    expect(() => group.register(ids(1))).toThrow(expect.objectContaining({ code: ErrorCodes.INVALID_ARGUMENT }));
    expect(() => group.deregister(ids(1))).toThrow(/closed/);
  });
});
