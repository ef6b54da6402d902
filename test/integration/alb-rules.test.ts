/** Listener rules that read the query string and headers, through the real listener. */
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { startLocalElb } from '../../src/local-elb.ts';
import { startTarget } from '../support/targets.ts';
import { waitFor } from '../support/wait.ts';

describe('ALB rules on real requests', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('routes on query-string and http-header conditions, else the default action', async () => {
    const t = await startTarget('app');
    cleanups.push(() => t.close());
    const fixed = (body: string) => ({ type: 'fixed-response' as const, fixedResponseConfig: { statusCode: '200', contentType: 'text/plain' as const, messageBody: body } });
    const elb = await startLocalElb({
      config: {
        targetGroups: [{ name: 'web', protocol: 'HTTP', healthCheckPath: '/healthz', targets: [{ id: '127.0.0.1', port: t.port }] }],
        loadBalancers: [
          {
            name: 'app',
            listeners: [
              {
                port: 0,
                defaultActions: [{ type: 'forward', targetGroupName: 'web' }],
                rules: [
                  { priority: 1, conditions: [{ field: 'query-string', queryStringConfig: { values: [{ key: 'version', value: 'v2*' }] } }], actions: [fixed('query')] },
                  { priority: 2, conditions: [{ field: 'http-header', httpHeaderConfig: { httpHeaderName: 'X-Canary', values: ['yes'] } }], actions: [fixed('header')] },
                ],
              },
            ],
          },
        ],
      },
    });
    cleanups.push(() => elb.close());
    await waitFor(() => elb.targetGroup('web').healthyHostCount === 1, { what: 'the target to be healthy' });
    const get = async (path: string, headers: Record<string, string> = {}) => {
      const res = await request(`${elb.url('app')}${path}`, { headers });
      return { status: res.statusCode, body: await res.body.text() };
    };
    expect(await get('/x?version=v2.1')).toEqual({ status: 200, body: 'query' });
    // Neither condition matches: the default action forwards to the target (not a 503 page).
    expect(await get('/x?version=v1')).toEqual({ status: 200, body: 'app' });
    expect(await get('/x', { 'x-canary': 'YES' })).toEqual({ status: 200, body: 'header' });
    expect(await get('/x', { 'x-canary': 'no' })).toEqual({ status: 200, body: 'app' });
    expect(t.seen.map((s) => s.url)).toEqual(['/x?version=v1', '/x']);
  });
});
