/**
 * Sticky picks on the target group (spec 3.1, 3.2, 3.3, 3.5), on a virtual clock with scripted
 * health checks: `acquireBound` honours a binding while its target can take requests
 * (healthy, or any registered one while the group fails open) and bypasses the algorithm;
 * `acquireFlow` keeps an NLB client address on one target with source_ip stickiness.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/core/clock.ts';
import { parseConfig } from '../../../src/config/schema.ts';
import type { ProbeResult } from '../../../src/targets/health.ts';
import type { Probe } from '../../../src/targets/health-checker.ts';
import { TargetGroup } from '../../../src/targets/target-group.ts';

const INTERVAL_MS = 10_000;
const groups: TargetGroup[] = [];
afterEach(() => {
  for (const g of groups.splice(0)) g.close();
});

/** A group of targets 10.0.0.1…n on port 80 whose checks pass until `fail(id)`; thresholds 2/2. */
function setup(n: number, fields: Record<string, unknown> = {}) {
  const clock = new VirtualClock();
  const failing = new Set<string>();
  const probe: Probe = (target) => Promise.resolve<ProbeResult>(failing.has(target.id) ? { ok: false, failure: 'code', statusCode: 500 } : { ok: true, statusCode: 200 });
  const config = parseConfig({
    targetGroups: [
      {
        name: 'web',
        protocol: 'HTTP',
        port: 80,
        healthCheckIntervalSeconds: INTERVAL_MS / 1000,
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 2,
        targets: Array.from({ length: n }, (_, i) => ({ id: `10.0.0.${i + 1}` })),
        ...fields,
      },
    ],
  }).targetGroups[0]!;
  const group = new TargetGroup({ config, clock, probe });
  groups.push(group);
  group.setLoadBalancers(['app']);
  return {
    clock,
    group,
    fail: (id: string) => failing.add(id),
    pass: (id: string) => failing.delete(id),
    /** Holds a lease on `id`'s target (least outstanding requests then avoids it). */
    hold: (id: string) => group.acquireBound(`${id}:80`)!,
  };
}

const ready = async (clock: VirtualClock) => clock.advance(0);

describe('acquireBound: a sticky request goes to its target while it can take requests (spec 3.3)', () => {
  it('leases the bound target, counting it in flight', async () => {
    const { clock, group } = setup(3);
    await ready(clock);
    const lease = group.acquireBound('10.0.0.2:80')!;
    expect(lease.target.key).toBe('10.0.0.2:80');
    expect(lease.target.outstanding).toBe(1);
    lease.release();
    expect(lease.target.outstanding).toBe(0);
  });

  it.each<[string, (s: ReturnType<typeof setup>) => Promise<unknown> | unknown]>([
    ['unhealthy', async (s) => {
      s.fail('10.0.0.2');
      await s.clock.advance(2 * INTERVAL_MS);
    }],
    ['draining', (s) => void s.group.deregister([{ id: '10.0.0.2' }])],
    ['gone after its deregistration delay', async (s) => {
      void s.group.deregister([{ id: '10.0.0.2' }]);
      await s.clock.advance(300_000);
    }],
  ])('gives nothing when the bound target is %s: the caller starts a new binding', async (_state, change) => {
    const s = setup(3);
    await ready(s.clock);
    await change(s);
    expect(s.group.acquireBound('10.0.0.2:80')).toBeUndefined();
    expect(s.group.acquire().target.key).not.toBe('10.0.0.2:80');
  });

  it('gives nothing for a target the group never had', async () => {
    const { clock, group } = setup(2);
    await ready(clock);
    expect(group.acquireBound('10.0.0.9:80')).toBeUndefined();
  });

  it('honours the binding to an unhealthy target while the group fails open (no target healthy)', async () => {
    const { clock, group, fail } = setup(2);
    await ready(clock);
    fail('10.0.0.1');
    fail('10.0.0.2');
    await clock.advance(2 * INTERVAL_MS);
    expect(group.failingOpen).toBe(true);
    expect(group.acquireBound('10.0.0.2:80')?.target.key).toBe('10.0.0.2:80');
  });

  it('bypasses least outstanding requests: a sticky request joins the busiest target', async () => {
    const s = setup(2, { attributes: { 'load_balancing.algorithm.type': 'least_outstanding_requests', 'stickiness.enabled': 'true' } });
    await ready(s.clock);
    for (let i = 0; i < 5; i++) s.hold('10.0.0.1');
    expect(s.group.acquire().target.key).toBe('10.0.0.2:80');
    expect(s.group.acquireBound('10.0.0.1:80')!.target.outstanding).toBe(6);
  });

  it('bypasses slow start: a client bound to a target in slow start stays on it at full rate', async () => {
    const s = setup(1, { attributes: { 'slow_start.duration_seconds': '300', 'stickiness.enabled': 'true' } });
    await ready(s.clock);
    await s.clock.advance(INTERVAL_MS);
    s.group.register([{ id: '10.0.0.2' }]);
    await s.clock.advance(0);
    const newcomer = s.group.targets().find((t) => t.id === '10.0.0.2')!;
    expect(s.group.slowStartSince(newcomer)).toBeDefined();
    // New bindings mostly go to the full-weight target; the bound client keeps its newcomer.
    let toNewcomer = 0;
    for (let i = 0; i < 200; i++) {
      const lease = s.group.acquire();
      if (lease.target === newcomer) toNewcomer++;
      lease.release();
    }
    expect(toNewcomer).toBeLessThan(40);
    for (let i = 0; i < 200; i++) {
      const lease = s.group.acquireBound('10.0.0.2:80')!;
      expect(lease.target).toBe(newcomer);
      lease.release();
    }
  });
});

describe('acquireFlow: NLB source_ip stickiness (spec 3.5)', () => {
  const nlb = (stickiness: boolean, n = 4) => {
    const clock = new VirtualClock();
    const failing = new Set<string>();
    const config = parseConfig({
      targetGroups: [
        {
          name: 'tcp',
          protocol: 'TCP',
          port: 9000,
          targetType: 'ip',
          healthCheckIntervalSeconds: 10,
          healthyThresholdCount: 2,
          unhealthyThresholdCount: 2,
          attributes: { 'stickiness.enabled': String(stickiness), 'stickiness.type': 'source_ip' },
          targets: Array.from({ length: n }, (_, i) => ({ id: `10.0.1.${i + 1}` })),
        },
      ],
    }).targetGroups[0]!;
    const group = new TargetGroup({ config, clock, probe: (t) => Promise.resolve<ProbeResult>(failing.has(t.id) ? { ok: false, failure: 'failed' } : { ok: true }) });
    groups.push(group);
    group.setLoadBalancers(['net']);
    /** The targets `n` new flows from `ip` go to (each flow its own tuple hash). */
    const flows = (ip: string, count = 20) =>
      new Set(
        Array.from({ length: count }, (_, i) => {
          const lease = group.acquireFlow(ip, { flowHash: (i * 2654435761) >>> 0 });
          lease.release();
          return lease.target.key;
        }),
      );
    return { clock, group, flows, fail: (id: string) => failing.add(id), pass: (id: string) => failing.delete(id) };
  };

  it('without stickiness, the flows of one client spread by their tuple hash', async () => {
    const { clock, flows } = nlb(false);
    await clock.advance(0);
    expect(flows('127.0.0.2').size).toBeGreaterThan(1);
  });

  it('with stickiness, every new flow of one client goes to one target', async () => {
    const { clock, flows } = nlb(true);
    await clock.advance(0);
    expect(flows('127.0.0.2').size).toBe(1);
    expect(flows('127.0.0.3').size).toBe(1);
  });

  it('spreads different clients over the targets', async () => {
    const { clock, flows } = nlb(true);
    await clock.advance(0);
    const chosen = new Set(Array.from({ length: 32 }, (_, i) => [...flows(`127.0.0.${i + 2}`, 2)][0]));
    expect(chosen.size).toBeGreaterThan(1);
  });

  it('moves a client whose target turns unhealthy, and keeps it on the new one when the old one recovers', async () => {
    const { clock, group, flows, fail, pass } = nlb(true);
    await clock.advance(0);
    const [first] = [...flows('127.0.0.2')];
    const firstId = first!.split(':')[0]!;
    fail(firstId);
    await clock.advance(20_000);
    const moved = flows('127.0.0.2');
    expect(moved.size).toBe(1);
    expect([...moved][0]).not.toBe(first);
    pass(firstId);
    await clock.advance(20_000);
    expect(group.describeTargetHealth([{ id: firstId }])[0]!.targetHealth.state).toBe('healthy');
    expect(flows('127.0.0.2')).toEqual(moved);
  });

  it('forgets the bindings when stickiness is turned off', async () => {
    const { clock, group, flows } = nlb(true);
    await clock.advance(0);
    expect(flows('127.0.0.2').size).toBe(1);
    group.modifyAttributes({ 'stickiness.enabled': 'false' });
    expect(flows('127.0.0.2').size).toBeGreaterThan(1);
  });
});
