/**
 * Automatic target weights seen from outside (spec 3.1): DescribeTargetHealth with
 * `include: AnomalyDetection` and the AnomalousHostCount / MitigatedHostCount metrics.
 */
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/core/clock.ts';
import { parseConfig } from '../../../src/config/schema.ts';
import { startLocalElb } from '../../../src/local-elb.ts';

describe('anomaly detection exposure', () => {
  it('shows an erroring target as anomalous and mitigated, and counts it in the metrics', async () => {
    const clock = new VirtualClock();
    const config = parseConfig({
      targetGroups: [
        {
          name: 'web',
          protocol: 'HTTP',
          attributes: { 'load_balancing.algorithm.type': 'weighted_random', 'load_balancing.algorithm.anomaly_mitigation': 'on' },
          targets: [1, 2, 3, 4].map((i) => ({ id: `10.0.0.${i}`, port: 80 })),
        },
      ],
      loadBalancers: [{ name: 'app', listeners: [{ port: 0, defaultActions: [{ type: 'forward', targetGroupName: 'web' }] }] }],
    });
    const elb = await startLocalElb({ config, clock, probe: async () => ({ ok: true }) });
    try {
      const group = elb.targetGroup('web');
      await clock.advance(0);
      expect(group.healthyHostCount).toBe(4);
      for (let i = 0; i < 2000; i++) {
        const lease = group.acquire();
        lease.release(lease.target.id === '10.0.0.1' ? 'error' : 'ok');
      }
      await clock.advance(5_000);
      group.acquire().release('ok');

      const rows = group.describeTargetHealth(undefined, { include: ['AnomalyDetection'] });
      expect(rows.find((r) => r.target.id === '10.0.0.1')!.anomalyDetection).toEqual({ result: 'anomalous', mitigationInEffect: 'yes' });
      expect(rows.find((r) => r.target.id === '10.0.0.2')!.anomalyDetection).toEqual({ result: 'normal', mitigationInEffect: 'no' });
      expect(group.describeTargetHealth()[0]!.anomalyDetection).toBeUndefined();

      const text = await elb.metrics.registry.metrics();
      expect(text).toContain('AnomalousHostCount{load_balancer="app",target_group="web"} 1');
      expect(text).toContain('MitigatedHostCount{load_balancer="app",target_group="web"} 1');
    } finally {
      await elb.close();
    }
  });
});
