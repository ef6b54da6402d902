/**
 * The ALB's CloudWatch-named metrics move with real traffic: requests that reached a target,
 * target response classes, the ELB's own 5XX, connections and bytes (spec 8.3).
 */
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { startLocalElb } from '../../src/local-elb.ts';
import { startTarget } from '../support/targets.ts';
import { waitFor } from '../support/wait.ts';

function value(text: string, metric: string, labels: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${metric}{${labels}}`));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('ALB metrics', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('counts RequestCount, HTTPCode_Target_*, HTTPCode_ELB_*, TargetResponseTime, connections and bytes', async () => {
    const t = await startTarget('a');
    cleanups.push(() => t.close());
    t.handler = (req, res) => {
      res.statusCode = req.url === '/missing' ? 404 : 200;
      res.end('x');
    };
    const elb = await startLocalElb({
      config: {
        targetGroups: [
          { name: 'web', protocol: 'HTTP', healthCheckPath: '/healthz', targets: [{ id: '127.0.0.1', port: t.port }] },
          { name: 'empty', protocol: 'HTTP' },
        ],
        loadBalancers: [
          {
            name: 'app',
            listeners: [
              {
                port: 0,
                defaultActions: [{ type: 'forward', targetGroupName: 'web' }],
                rules: [{ priority: 1, conditions: [{ field: 'path-pattern', values: ['/empty/*'] }], actions: [{ type: 'forward', targetGroupName: 'empty' }] }],
              },
            ],
          },
        ],
      },
    });
    cleanups.push(() => elb.close());
    await waitFor(() => elb.targetGroup('web').healthyHostCount === 1, { what: 'a healthy target' });
    const get = async (path: string) => (await (await request(`${elb.url('app')}${path}`)).body.text(), undefined);
    for (let i = 0; i < 3; i++) await get('/');
    await get('/missing');
    await get('/empty/x');
    await get('/empty/y');

    const text = await elb.metrics.registry.metrics();
    const web = 'load_balancer="app",target_group="web"';
    expect(value(text, 'RequestCount', web)).toBe(4);
    expect(value(text, 'HTTPCode_Target_2XX_Count', web)).toBe(3);
    expect(value(text, 'HTTPCode_Target_4XX_Count', web)).toBe(1);
    expect(value(text, 'TargetResponseTime_count', web)).toBe(4);
    // 503s for the empty group are the ELB's own and, as in AWS, not in RequestCount.
    expect(value(text, 'RequestCount', 'load_balancer="app",target_group="empty"')).toBe(0);
    expect(value(text, 'HTTPCode_ELB_503_Count', 'load_balancer="app"')).toBe(2);
    expect(value(text, 'HTTPCode_ELB_5XX_Count', 'load_balancer="app"')).toBe(2);
    expect(value(text, 'RuleEvaluations', 'load_balancer="app"')).toBe(6);
    expect(value(text, 'NewConnectionCount', 'load_balancer="app"')).toBeGreaterThanOrEqual(1);
    expect(value(text, 'ProcessedBytes', 'load_balancer="app"')).toBeGreaterThan(0);
    expect(value(text, 'HealthyHostCount', web)).toBe(1);
  });
});
