import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/core/clock.ts';
import { parseConfig } from '../../../src/config/schema.ts';
import { WeightedRandomPicker } from '../../../src/algorithms/index.ts';
import type { Probe } from '../../../src/targets/health-checker.ts';
import { TargetGroup } from '../../../src/targets/target-group.ts';
import type { Target } from '../../../src/targets/target.ts';

const groups: TargetGroup[] = [];
afterEach(() => {
  for (const g of groups.splice(0)) g.close();
});

/**
 * A target group on a virtual clock with a scripted probe that answers at once (the
 * simulation's kind): every target passes until told otherwise. Interval 5 s, thresholds 2/2,
 * one pass to leave `initial`.
 */
function setup(attributes: Record<string, string>, targets: string[], emulator: Record<string, unknown> = {}) {
  const clock = new VirtualClock();
  const failing = new Set<string>();
  const probe: Probe = (target) => (failing.has(target.id) ? { ok: false, failure: 'failed' } : { ok: true, statusCode: 200 });
  const config = parseConfig({
    targetGroups: [
      {
        name: 'web',
        protocol: 'HTTP',
        port: 80,
        healthCheckIntervalSeconds: 5,
        healthCheckTimeoutSeconds: 2,
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 2,
        attributes,
        emulator,
        targets: targets.map((id) => ({ id })),
      },
    ],
  }).targetGroups[0]!;
  const group = new TargetGroup({ config, clock, probe });
  groups.push(group);
  group.setLoadBalancers(['app']);
  const share = (n = 1000) => {
    const counts: Record<string, number> = {};
    for (let i = 0; i < n; i++) {
      const lease = group.acquire();
      counts[lease.target.id] = (counts[lease.target.id] ?? 0) + 1;
      lease.release();
    }
    return counts;
  };
  const target = (id: string) => group.targets().find((t) => t.id === id && t.registration === 'registered')!;
  return { clock, group, failing, share, target };
}

const SLOW_START = { 'slow_start.duration_seconds': '100' };

describe('slow start (spec 3.2)', () => {
  it('does not start targets registered together into an empty group in slow start', () => {
    const { share, target } = setup(SLOW_START, ['a', 'b', 'c']);
    expect(['a', 'b', 'c'].map((id) => target(id).weight)).toEqual([1, 1, 1]);
    expect(share(900)).toEqual({ a: 300, b: 300, c: 300 });
  });

  it('starts a target that becomes healthy beside a healthy target at ε, and raises its share linearly to a full one over the duration', () => {
    const { clock, group, share, target } = setup(SLOW_START, ['a', 'b']);
    clock.advanceSync(10_000);
    group.register([{ id: 'c' }]);
    expect(group.slowStartSince(target('c'))).toBe(10_000);
    const shares: number[] = [];
    for (const atSeconds of [10, 35, 60, 85, 109.999, 110]) {
      clock.advanceSync(atSeconds * 1000 - clock.now());
      shares.push(share(10_000).c ?? 0);
    }
    // weight 0.05 + 0.95 · elapsed/100 s; share = w / (2 + w)
    const expected = [0.05, 0.2875, 0.525, 0.7625, 0.99999].map((w) => Math.round((10_000 * w) / (2 + w)));
    shares.slice(0, 5).forEach((s, i) => expect(Math.abs(s - expected[i]!)).toBeLessThanOrEqual(1));
    expect(shares[5]).toBe(3333);
    expect(target('c').weight).toBe(1);
    expect(group.slowStartSince(target('c'))).toBeUndefined();
  });

  it('takes ε from emulator.slowStartInitialWeight', () => {
    const { clock, group, target } = setup(SLOW_START, ['a'], { slowStartInitialWeight: 0.2 });
    clock.advanceSync(1_000);
    group.register([{ id: 'b' }]);
    group.acquire().release();
    expect(target('b').weight).toBe(0.2);
  });

  it('ends slow start when the target turns unhealthy and starts it again when it is healthy again', () => {
    const { clock, group, failing, share, target } = setup(SLOW_START, ['a', 'b']);
    clock.advanceSync(1_000);
    group.register([{ id: 'c' }]);
    clock.advanceSync(50_000);
    share(1);
    expect(target('c').weight).toBeCloseTo(0.05 + 0.95 * 0.5, 10);
    failing.add('c');
    clock.advanceSync(10_000);
    expect(group.describeTargetHealth([{ id: 'c' }])[0]!.targetHealth.state).toBe('unhealthy');
    expect(group.slowStartSince(target('c'))).toBeUndefined();
    expect(target('c').weight).toBe(1);
    failing.delete('c');
    clock.advanceSync(10_000);
    expect(group.describeTargetHealth([{ id: 'c' }])[0]!.targetHealth.state).toBe('healthy');
    share(1);
    expect(target('c').weight).toBe(0.05);
  });

  it('ends slow start on deregistration and starts it again when the target is registered and healthy again', () => {
    const { clock, group, target } = setup(SLOW_START, ['a', 'b']);
    clock.advanceSync(1_000);
    group.register([{ id: 'c' }]);
    const first = target('c');
    void group.deregister([{ id: 'c' }]);
    expect(first.weight).toBe(1);
    expect(group.slowStartSince(first)).toBeUndefined();
    clock.advanceSync(1_000);
    group.register([{ id: 'c' }]);
    expect(group.slowStartSince(target('c'))).toBe(2_000);
  });

  it('does not put targets that are already healthy into slow start when it is enabled', () => {
    const { clock, group, share, target } = setup({}, ['a', 'b']);
    clock.advanceSync(1_000);
    group.modifyAttributes(SLOW_START);
    expect(share(1000)).toEqual({ a: 500, b: 500 });
    group.register([{ id: 'c' }]);
    share(1);
    expect(target('c').weight).toBe(0.05);
  });

  it('ends every slow start at once when the duration is set back to 0', () => {
    const { clock, group, share } = setup(SLOW_START, ['a', 'b']);
    clock.advanceSync(1_000);
    group.register([{ id: 'c' }]);
    group.modifyAttributes({ 'slow_start.duration_seconds': '0' });
    expect(share(900)).toEqual({ a: 300, b: 300, c: 300 });
  });

  it('does not apply to targets that become healthy together after the group had none', () => {
    const { clock, group, failing, target } = setup(SLOW_START, ['a', 'b']);
    failing.add('a').add('b');
    clock.advanceSync(10_000);
    failing.clear();
    clock.advanceSync(10_000);
    expect(group.healthyHostCount).toBe(2);
    expect([target('a').weight, target('b').weight]).toEqual([1, 1]);
  });
});

describe('outcomes reported through leases (weighted_random with anomaly mitigation, spec 3.1)', () => {
  const attributes = { 'load_balancing.algorithm.type': 'weighted_random', 'load_balancing.algorithm.anomaly_mitigation': 'on' };

  it("feeds the group's picker, which lowers the share of the target that keeps failing", () => {
    const { clock, group, share, target } = setup(attributes, ['a', 'b', 'c', 'd'], { automaticTargetWeights: { evaluationIntervalSeconds: 1 } });
    const before = share(4000).a!;
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 400; i++) {
        const lease = group.acquire();
        lease.release(lease.target.id === 'a' ? 'error' : 'ok');
      }
      clock.advanceSync(1_000);
    }
    const after = share(4000).a ?? 0;
    expect(before).toBeGreaterThan(800);
    expect(after).toBeLessThan(200);
    expect(target('a').weight).toBe(1);
  });

  it('counts nothing for a lease released without an outcome', () => {
    const { clock, group, share } = setup(attributes, ['a', 'b', 'c'], { automaticTargetWeights: { evaluationIntervalSeconds: 1, minimumRequests: 1 } });
    share(3000);
    clock.advanceSync(5_000);
    expect(Math.abs(share(3000).a! - 1000)).toBeLessThan(120);
  });

  it('lets a picker passed in by the caller draw by the automatic target weights the group keeps from lease outcomes', () => {
    const clock = new VirtualClock();
    const picker = new WeightedRandomPicker<Target>();
    const config = parseConfig({
      targetGroups: [
        {
          name: 'web',
          protocol: 'HTTP',
          port: 80,
          attributes: { 'load_balancing.algorithm.type': 'weighted_random', 'load_balancing.algorithm.anomaly_mitigation': 'on' },
          emulator: { automaticTargetWeights: { evaluationIntervalSeconds: 1 } },
          targets: [{ id: 'a' }, { id: 'b' }, { id: 'c' }],
        },
      ],
    }).targetGroups[0]!;
    const group = new TargetGroup({ config, clock, probe: () => ({ ok: true }), picker });
    groups.push(group);
    group.setLoadBalancers(['app']);
    for (let i = 0; i < 300; i++) {
      const lease = group.acquire();
      lease.release(lease.target.id === 'b' ? 'error' : 'ok');
    }
    clock.advanceSync(1_000);
    group.acquire().release();
    const b = group.targets().find((t) => t.id === 'b')!;
    expect(group.anomalyDetection(b)).toEqual({ result: 'anomalous', mitigationInEffect: 'yes', weight: 0.5 });
  });
});
