import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { startLocalElb, type LocalElb } from '../../src/local-elb.ts';
import { startTarget, type TestTarget } from '../support/targets.ts';
import { waitFor } from '../support/wait.ts';

describe('smoke', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('forwards round robin across three healthy targets', async () => {
    const targets: TestTarget[] = [];
    for (const n of ['a', 'b', 'c']) {
      const t = await startTarget(n);
      targets.push(t);
      cleanups.push(() => t.close());
    }
    const elb: LocalElb = await startLocalElb({
      config: {
        targetGroups: [
          {
            name: 'web',
            protocol: 'HTTP',
            healthCheckPath: '/healthz',
            healthCheckIntervalSeconds: 5,
            healthCheckTimeoutSeconds: 2,
            healthyThresholdCount: 2,
            targets: targets.map((t) => ({ id: '127.0.0.1', port: t.port })),
          },
        ],
        loadBalancers: [{ name: 'app', listeners: [{ port: 0, defaultActions: [{ type: 'forward', targetGroupName: 'web' }] }] }],
      },
    });
    cleanups.push(() => elb.close());
    await waitFor(() => elb.targetGroup('web').healthyHostCount === 3, { what: '3 healthy' });
    const bodies: string[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await request(elb.url('app'));
      bodies.push(await res.body.text());
    }
    expect(bodies.sort()).toEqual(['a', 'a', 'b', 'b', 'c', 'c']);
  });
});
