/**
 * The admin API over real HTTP (README "Admin API"): `GET /metrics` itself, with every ALB
 * metric name the README lists moved by real traffic through a real listener, and the API's
 * error statuses (400, 404, 405 with Allow). The load balancer runs on a virtual clock so the
 * 504 and the health-check thresholds take no real time; health is scripted per target.
 */
import net, { type AddressInfo } from 'node:net';
import { Agent, request } from 'undici';
import { describe, expect, it } from 'vitest';
import { startAdminServer } from '../../src/admin/server.ts';
import { VirtualClock } from '../../src/core/clock.ts';
import { startLocalElb } from '../../src/local-elb.ts';
import type { Probe } from '../../src/targets/health-checker.ts';
import { deferCleanups } from '../support/alb.ts';
import { metricSum } from '../support/metrics.ts';
import { openRawConnection } from '../support/raw-connection.ts';
import { parseRawResponse, rawExchange } from '../support/raw-http.ts';
import { startTarget } from '../support/targets.ts';
import { waitFor } from '../support/wait.ts';

const defer = deferCleanups();

/** The value of one series in Prometheus text (0 when absent). */
function series(text: string, metric: string, labels: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${metric}{${labels}}`));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** A port with nothing listening (a listener opened and closed by the test itself, then kept closed). */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('GET /metrics on the admin API', () => {
  it("serves Prometheus text in which every ALB metric the README names counts this run's traffic", async () => {
    const clock = new VirtualClock();
    const web = await startTarget('web');
    defer(() => web.close());
    web.handler = (req, res) => {
      if (req.url === '/hang') return; // never answers: 504 at the idle timeout
      res.statusCode = req.url === '/missing' ? 404 : 200;
      res.end('web');
    };
    const sick = await startTarget('sick');
    defer(() => sick.close());
    const refused = await closedPort();
    // Scripted health: the sick target fails every check, the others pass.
    const probe: Probe = (target) => (target.port === sick.port ? { ok: false, failure: 'failed' } : { ok: true });
    const group = (name: string, port: number) => ({
      name,
      protocol: 'HTTP' as const,
      healthCheckIntervalSeconds: 5,
      healthCheckTimeoutSeconds: 2,
      unhealthyThresholdCount: 2,
      targets: [{ id: '127.0.0.1', port }],
    });
    const elb = await startLocalElb({
      clock,
      probe,
      config: {
        targetGroups: [group('web', web.port), group('sick', sick.port), group('gone', refused)],
        loadBalancers: [
          {
            name: 'app',
            attributes: { 'idle_timeout.timeout_seconds': '1' },
            listeners: [
              {
                port: 0,
                defaultActions: [{ type: 'forward', targetGroupName: 'web' }],
                rules: [
                  { priority: 1, conditions: [{ field: 'path-pattern', values: ['/sick/*'] }], actions: [{ type: 'forward', targetGroupName: 'sick' }] },
                  { priority: 2, conditions: [{ field: 'path-pattern', values: ['/gone/*'] }], actions: [{ type: 'forward', targetGroupName: 'gone' }] },
                  { priority: 3, conditions: [{ field: 'path-pattern', values: ['/old/*'] }], actions: [{ type: 'redirect', redirectConfig: { path: '/new', statusCode: 'HTTP_302' } }] },
                  {
                    priority: 4,
                    conditions: [{ field: 'path-pattern', values: ['/teapot'] }],
                    actions: [{ type: 'fixed-response', fixedResponseConfig: { statusCode: '500', contentType: 'text/plain', messageBody: 'fixed' } }],
                  },
                ],
              },
            ],
          },
        ],
      },
    });
    defer(() => elb.close());
    const admin = await startAdminServer(elb, { port: 0 });
    defer(() => admin.close());
    // The second failed check (one interval later) makes the sick target unhealthy: its group, all unhealthy, fails open.
    await clock.advance(5_000);
    await waitFor(() => elb.targetGroup('sick').unhealthyHostCount === 1 && elb.targetGroup('web').healthyHostCount === 1 && elb.targetGroup('gone').healthyHostCount === 1, {
      what: 'web and gone healthy, sick unhealthy',
    });

    const url = elb.url('app');
    // A client of its own, closed before the scrape, so only the connection held below stays open.
    const client = new Agent();
    defer(() => (client.closed ? undefined : client.close()));
    const get = async (path: string) => {
      const res = await request(`${url}${path}`, { dispatcher: client });
      await res.body.text();
      return res.statusCode;
    };
    expect(await get('/')).toBe(200);
    expect(await get('/missing')).toBe(404);
    expect(await get('/sick/x')).toBe(200); // fail-open: routed to the unhealthy target
    expect(await get('/gone/x')).toBe(502); // refused: TargetConnectionErrorCount
    expect(await get('/old/x')).toBe(302);
    expect(await get('/teapot')).toBe(500);
    expect(parseRawResponse(await rawExchange(url, 'GET / HTTP/1.1\r\nHost: x\r\nno colon\r\n\r\n')).status).toBe(400);
    const hanging = request(`${url}/hang`, { dispatcher: client }).then(async (res) => (await res.body.text(), res.statusCode));
    await waitFor(() => web.seen.some((s) => s.url === '/hang'), { what: 'the hanging request to reach the target' });
    await clock.advance(1_000);
    expect(await hanging).toBe(504);
    // One client connection held open for ActiveConnectionCount.
    const open = await openRawConnection(url);
    defer(() => open.destroy());
    open.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(await open.readResponse()).toMatchObject({ status: 200 });
    await client.close();
    await waitFor(async () => (await metricSum(elb, 'ActiveConnectionCount')) === 1, { what: 'only the held connection left open' });

    const res = await request(`${admin.url}/metrics`);
    expect(res.statusCode).toBe(200);
    expect(String(res.headers['content-type'])).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.body.text();
    const lb = 'load_balancer="app"';
    const tg = (name: string) => `load_balancer="app",target_group="${name}"`;
    expect({
      RequestCount: series(text, 'RequestCount', tg('web')),
      'RequestCount sick': series(text, 'RequestCount', tg('sick')),
      HTTPCode_Target_2XX_Count: series(text, 'HTTPCode_Target_2XX_Count', tg('web')),
      HTTPCode_Target_4XX_Count: series(text, 'HTTPCode_Target_4XX_Count', tg('web')),
      HTTPCode_ELB_3XX_Count: series(text, 'HTTPCode_ELB_3XX_Count', lb),
      HTTPCode_ELB_4XX_Count: series(text, 'HTTPCode_ELB_4XX_Count', lb),
      HTTPCode_ELB_5XX_Count: series(text, 'HTTPCode_ELB_5XX_Count', lb),
      HTTPCode_ELB_500_Count: series(text, 'HTTPCode_ELB_500_Count', lb),
      HTTPCode_ELB_502_Count: series(text, 'HTTPCode_ELB_502_Count', lb),
      HTTPCode_ELB_503_Count: series(text, 'HTTPCode_ELB_503_Count', lb),
      HTTPCode_ELB_504_Count: series(text, 'HTTPCode_ELB_504_Count', lb),
      TargetConnectionErrorCount: series(text, 'TargetConnectionErrorCount', tg('gone')),
      UnhealthyRoutingRequestCount: series(text, 'UnhealthyRoutingRequestCount', tg('sick')),
      'UnhealthyRoutingRequestCount web': series(text, 'UnhealthyRoutingRequestCount', tg('web')),
      HTTP_Fixed_Response_Count: series(text, 'HTTP_Fixed_Response_Count', lb),
      HTTP_Redirect_Count: series(text, 'HTTP_Redirect_Count', lb),
      ActiveConnectionCount: series(text, 'ActiveConnectionCount', lb),
      HealthyHostCount: series(text, 'HealthyHostCount', tg('web')),
      UnHealthyHostCount: series(text, 'UnHealthyHostCount', tg('sick')),
      'UnHealthyHostCount web': series(text, 'UnHealthyHostCount', tg('web')),
    }).toEqual({
      // web: /, /missing, /hang, and the held connection's request (the 400 never chose a target).
      RequestCount: 4,
      'RequestCount sick': 1,
      HTTPCode_Target_2XX_Count: 2,
      HTTPCode_Target_4XX_Count: 1,
      HTTPCode_ELB_3XX_Count: 1,
      HTTPCode_ELB_4XX_Count: 1,
      HTTPCode_ELB_5XX_Count: 3,
      HTTPCode_ELB_500_Count: 1,
      HTTPCode_ELB_502_Count: 1,
      HTTPCode_ELB_503_Count: 0,
      HTTPCode_ELB_504_Count: 1,
      TargetConnectionErrorCount: 1,
      UnhealthyRoutingRequestCount: 1,
      'UnhealthyRoutingRequestCount web': 0,
      HTTP_Fixed_Response_Count: 1,
      HTTP_Redirect_Count: 1,
      ActiveConnectionCount: 1,
      HealthyHostCount: 1,
      UnHealthyHostCount: 1,
      'UnHealthyHostCount web': 0,
    });
    // The rest of the README's list: present, and moved by this traffic.
    expect(series(text, 'TargetResponseTime_count', tg('web'))).toBe(3);
    // At least the client's keep-alive connection, the malformed request's and the held one.
    expect(series(text, 'NewConnectionCount', lb)).toBeGreaterThanOrEqual(3);
    expect(series(text, 'ProcessedBytes', lb)).toBeGreaterThan(0);
    // Rules evaluated until one matched (AWS counts rules, not requests): all 4 for each of
    // /, /missing, /hang and the held request, then 1 (/sick), 2 (/gone), 3 (/old), 4 (/teapot).
    expect(series(text, 'RuleEvaluations', lb)).toBe(4 * 4 + 1 + 2 + 3 + 4);
  });
});

describe('admin API errors', () => {
  it('answers 404, 400 and 405 (with Allow) as { code, message }', async () => {
    const a = await startTarget('a');
    defer(() => a.close());
    const elb = await startLocalElb({ config: { targetGroups: [{ name: 'web', protocol: 'HTTP', targets: [{ id: '127.0.0.1', port: a.port }] }], loadBalancers: [] } });
    defer(() => elb.close());
    const admin = await startAdminServer(elb, { port: 0 });
    defer(() => admin.close());
    const call = async (method: string, path: string, body?: string) => {
      const res = await request(`${admin.url}${path}`, { method: method as 'GET', ...(body !== undefined ? { body, headers: { 'content-type': 'application/json' } } : {}) });
      return { status: res.statusCode, allow: res.headers.allow, body: (await res.body.json()) as { code: string; message: string } };
    };

    const missing = await call('GET', '/v1/target-groups/nope/target-health');
    expect(missing).toMatchObject({ status: 404, body: { code: 'ELB_ERR_NOT_FOUND' } });
    expect(missing.body.message).toContain('nope');
    expect(await call('GET', '/v1/no-such-route')).toMatchObject({ status: 404, body: { code: 'ELB_ERR_NOT_FOUND' } });

    expect(await call('POST', '/v1/target-groups/web/register-targets', '{"targets": []}')).toMatchObject({ status: 400, body: { code: 'ELB_ERR_INVALID_ARGUMENT' } });
    expect(await call('POST', '/v1/target-groups/web/register-targets', 'not json')).toMatchObject({ status: 400, body: { code: 'ELB_ERR_INVALID_ARGUMENT' } });
    const badAttribute = await call('PUT', '/v1/target-groups/web/attributes', '{"attributes": [{"key": "deregistration_delay.timeout_seconds", "value": "4000"}]}');
    expect(badAttribute).toMatchObject({ status: 400, body: { code: 'ELB_ERR_INVALID_ARGUMENT' } });
    expect(badAttribute.body.message).toContain('deregistration_delay.timeout_seconds');

    const wrongMethod = await call('DELETE', '/v1/target-groups/web/target-health');
    expect(wrongMethod).toMatchObject({ status: 405, allow: 'GET', body: { code: 'ELB_ERR_METHOD_NOT_ALLOWED' } });
    expect(wrongMethod.body.message).toContain('DELETE');
    expect(await call('GET', '/v1/target-groups/web/register-targets')).toMatchObject({ status: 405, allow: 'POST' });
    // Nothing was changed by the refused calls.
    expect(elb.targetGroup('web').describeTargetHealth().map((d) => d.target)).toEqual([{ id: '127.0.0.1', port: a.port }]);
  });
});
