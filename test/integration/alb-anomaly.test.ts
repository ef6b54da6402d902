/**
 * Automatic target weights (spec 3.1) driven by real answers through the real listener: a
 * target that answers 500 to every request (while passing its health checks) is found
 * anomalous from the 5XX the ALB forwarded, and anomaly mitigation cuts its share of the
 * traffic. The evaluations run on a virtual clock (every 5 s); the requests cross real sockets.
 */
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/clock.ts';
import { seededRandom } from '../../src/core/random.ts';
import { startLocalElb, type LocalElb } from '../../src/local-elb.ts';
import { deferCleanups } from '../support/alb.ts';
import { metricSum } from '../support/metrics.ts';
import { binomialLowerBound, binomialUpperBound } from '../support/stats.ts';
import { startTarget, type TestTarget } from '../support/targets.ts';
import { waitFor } from '../support/wait.ts';

const defer = deferCleanups();

async function send(elb: LocalElb, count: number): Promise<Record<string, number>> {
  const by: Record<string, number> = {};
  for (let i = 0; i < count; i++) {
    const res = await request(`${elb.url('app')}/work/${i}`);
    const who = res.headers['x-target'] as string;
    await res.body.text();
    by[who] = (by[who] ?? 0) + 1;
  }
  return by;
}

describe('anomaly mitigation from real 5XX answers (weighted_random, spec 3.1)', () => {
  const ROUND = 300;
  // Before mitigation the failing target has weight 1 of 3; after four halvings 1/16 of 2 1/16.
  const UNMITIGATED_AT_LEAST = binomialLowerBound(ROUND, 1 / 3, 1e-9);
  const MITIGATED_BELOW = binomialUpperBound(ROUND, 0.0625 / 2.0625, 1e-9);

  it(`finds the target answering 500 anomalous and cuts its share of ${ROUND} requests from at least ${UNMITIGATED_AT_LEAST} to under ${MITIGATED_BELOW}`, async () => {
    const clock = new VirtualClock();
    const targets: TestTarget[] = [];
    for (const name of ['good-1', 'good-2', 'failing']) {
      const t = await startTarget(name);
      defer(() => t.close());
      targets.push(t);
    }
    const failing = targets[2]!;
    // Passes its health checks (the health path is answered before the handler), fails the work.
    failing.handler = (_req, res) => res.writeHead(500, { 'x-target': 'failing' }).end('boom');
    const elb = await startLocalElb({
      clock,
      random: seededRandom(19),
      config: {
        targetGroups: [
          {
            name: 'web',
            protocol: 'HTTP',
            healthCheckPath: '/healthz',
            healthCheckIntervalSeconds: 5,
            attributes: { 'load_balancing.algorithm.type': 'weighted_random', 'load_balancing.algorithm.anomaly_mitigation': 'on' },
            // Five outcomes in the 30 s window are enough for a verdict (default 20), so the
            // weight keeps falling while the failing target gets only a few requests per interval.
            emulator: { automaticTargetWeights: { minimumRequests: 5 } },
            targets: targets.map((t) => ({ id: '127.0.0.1', port: t.port })),
          },
        ],
        loadBalancers: [{ name: 'app', listeners: [{ port: 0, defaultActions: [{ type: 'forward', targetGroupName: 'web' }] }] }],
      },
    });
    defer(() => elb.close());
    const group = elb.targetGroup('web');
    await waitFor(() => group.healthyHostCount === 3, { what: 'three healthy targets' });
    const verdicts = () =>
      Object.fromEntries(
        group.describeTargetHealth(undefined, { include: ['AnomalyDetection'] }).map((d) => [targets.find((t) => t.port === d.target.port)!.name, d.anomalyDetection]),
      );

    const before = await send(elb, ROUND);
    expect(before.failing ?? 0).toBeGreaterThanOrEqual(UNMITIGATED_AT_LEAST);
    expect(verdicts()).toEqual({
      'good-1': { result: 'normal', mitigationInEffect: 'no' },
      'good-2': { result: 'normal', mitigationInEffect: 'no' },
      failing: { result: 'normal', mitigationInEffect: 'no' },
    });
    // Evaluations every 5 s (made at the first pick after each interval), each with fresh 500s
    // in its window, halve the weight (reductionFactor 0.5) until it is 1/16, the share the
    // bound below assumes.
    const failingTarget = group.targets().find((t) => t.port === failing.port)!;
    const weight = () => group.anomalyDetection(failingTarget).weight;
    const seen: number[] = [];
    // (The first verdict needs the 30 s window's history: at most 16 evaluations in all.)
    for (let i = 0; i < 16 && weight() > 0.0625; i++) {
      await clock.advance(5_000);
      await send(elb, 60);
      seen.push(weight());
    }
    expect(seen.slice(seen.indexOf(0.5))).toEqual([0.5, 0.25, 0.125, 0.0625]);
    expect(seen.slice(0, seen.indexOf(0.5)).every((w) => w === 1)).toBe(true);
    expect(verdicts()).toEqual({
      'good-1': { result: 'normal', mitigationInEffect: 'no' },
      'good-2': { result: 'normal', mitigationInEffect: 'no' },
      failing: { result: 'anomalous', mitigationInEffect: 'yes' },
    });
    expect(await metricSum(elb, 'AnomalousHostCount', { target_group: 'web' })).toBe(1);
    expect(await metricSum(elb, 'MitigatedHostCount', { target_group: 'web' })).toBe(1);
    const after = await send(elb, ROUND);
    expect(after.failing ?? 0).toBeLessThan(MITIGATED_BELOW);
    expect((after['good-1'] ?? 0) + (after['good-2'] ?? 0) + (after.failing ?? 0)).toBe(ROUND);
  });
});
