/**
 * ALB sticky sessions on real sockets (spec 3.3, 3.4): a browser-like client (undici with a
 * tough-cookie jar) against real HTTP targets. Duration-based stickiness keeps it on one target
 * over 200 requests and moves it when that target deregisters; an app that sets `SESSIONID`
 * binds it by application cookie; weighted target groups with group stickiness keep it on one
 * group; and on a virtual clock (bytes still over 127.0.0.1) the binding holds while the group
 * fails open and ends after its duration.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CookieJar } from 'tough-cookie';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/clock.ts';
import type { ConfigInput } from '../../src/config/schema.ts';
import { processSealer } from '../../src/l7/sticky.ts';
import { startLocalElb } from '../../src/local-elb.ts';
import type { ProbeResult } from '../../src/targets/health.ts';
import { accessLogLine } from '../../src/l7/access-log.ts';
import type { RequestRecord } from '../../src/l7/request-record.ts';
import { deferCleanups, startAlb, waitHealthy, type AlbOptions, type TestAlb } from '../support/alb.ts';
import { parseAccessLogLine } from '../support/access-log.ts';
import { metricSum } from '../support/metrics.ts';
import { startTarget, type TestTarget } from '../support/targets.ts';
import { waitFor } from '../support/wait.ts';

const defer = deferCleanups();

async function targets(names: readonly string[]): Promise<TestTarget[]> {
  const out: TestTarget[] = [];
  for (const name of names) {
    const t = await startTarget(name);
    defer(() => t.close());
    out.push(t);
  }
  return out;
}

async function alb(ts: readonly TestTarget[], options: AlbOptions = {}): Promise<TestAlb> {
  const a = await startAlb({ targetPorts: ts.map((t) => t.port), ...options });
  defer(() => a.elb.close());
  if (options.probe === undefined) await waitHealthy(a.group, ts.length);
  return a;
}

/** A browser: one cookie jar, each response's Set-Cookie stored, the jar's cookies sent. */
class Browser {
  readonly jar = new CookieJar();
  readonly setCookies: string[][] = [];

  async get(url: string): Promise<{ status: number; body: string }> {
    const cookie = await this.jar.getCookieString(url);
    const res = await request(url, { headers: cookie ? { cookie } : {} });
    const raw = res.headers['set-cookie'];
    const set = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
    this.setCookies.push(set);
    for (const c of set) await this.jar.setCookie(c, url);
    return { status: res.statusCode, body: await res.body.text() };
  }

  /** `n` requests; the target names that answered. */
  async browse(url: string, n: number): Promise<string[]> {
    const served: string[] = [];
    for (let i = 0; i < n; i++) {
      const r = await this.get(url);
      expect(r.status).toBe(200);
      served.push(r.body);
    }
    return served;
  }

  async cookie(url: string, name: string): Promise<string | undefined> {
    return (await this.jar.getCookies(url)).find((c) => c.key === name)?.value;
  }
}

const spec = (t: TestTarget) => ({ id: '127.0.0.1', port: t.port });

describe('duration-based stickiness (lb_cookie)', () => {
  it('keeps a browser on one target over 200 requests, and moves it when that target deregisters', async () => {
    const ts = await targets(['a', 'b', 'c']);
    const a = await alb(ts, { targetGroupAttributes: { 'stickiness.enabled': 'true', 'deregistration_delay.timeout_seconds': '5' } });
    const browser = new Browser();
    const served = await browser.browse(`${a.url}/cart`, 200);
    expect(new Set(served).size).toBe(1);
    const first = ts.find((t) => t.name === served[0])!;
    expect(first.seen.filter((r) => r.url === '/cart')).toHaveLength(200);

    // What the browser got: AWSALB and AWSALBCORS, Expires a week out, on every response.
    const [awsalb, cors] = browser.setCookies[0]!;
    expect(awsalb).toMatch(/^AWSALB=[A-Za-z0-9+/]+=*; Expires=\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT; Path=\/$/);
    expect(cors).toMatch(/^AWSALBCORS=[A-Za-z0-9+/]+=*; Expires=.+; Path=\/; SameSite=None; Secure$/);
    expect(browser.setCookies.every((s) => s.length === 2)).toBe(true);
    const expires = Date.parse(/Expires=([^;]+)/.exec(awsalb!)![1]!);
    expect(Math.abs(expires - (Date.now() + 7 * 86_400_000))).toBeLessThan(60_000);
    // The target saw the load balancer's cookie as the browser sent it.
    expect(first.seen.at(-1)!.headers.cookie).toContain('AWSALB=');

    // NonStickyRequestCount (spec 3.3): the first request had no cookie; the other 199 stuck.
    expect(await metricSum(a.elb, 'NonStickyRequestCount')).toBe(1);

    void a.group.deregister([spec(first)]);
    const after = await browser.browse(`${a.url}/cart`, 50);
    expect(after).not.toContain(first.name);
    expect(new Set(after).size).toBe(1);
    // One more: the cookie named a target being deregistered.
    expect(await metricSum(a.elb, 'NonStickyRequestCount')).toBe(2);
    expect(await metricSum(a.elb, 'AppCookieNonStickinessCount')).toBe(0);
  });

  it('spreads browsers without cookies over the targets, one target each', async () => {
    const ts = await targets(['a', 'b', 'c']);
    const a = await alb(ts, { targetGroupAttributes: { 'stickiness.enabled': 'true' } });
    const chosen = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const served = await new Browser().browse(a.url, 5);
      expect(new Set(served).size).toBe(1);
      chosen.add(served[0]!);
    }
    expect(chosen).toEqual(new Set(['a', 'b', 'c']));
  });

  it('bypasses least outstanding requests: a bound browser keeps its target while it is the busiest', async () => {
    const ts = await targets(['a', 'b']);
    const held: Array<() => void> = [];
    defer(() => held.splice(0).forEach((r) => r()));
    for (const t of ts) {
      t.handler = (req: IncomingMessage, res: ServerResponse) => {
        if (req.url === '/hold') held.push(() => res.end(`${t.name}-held`));
        else res.end(t.name);
      };
    }
    const a = await alb(ts, { targetGroupAttributes: { 'stickiness.enabled': 'true', 'load_balancing.algorithm.type': 'least_outstanding_requests' } });
    const browser = new Browser();
    const [mine] = await browser.browse(a.url, 1);
    const cookie = await browser.jar.getCookieString(a.url);
    const holds = [1, 2, 3].map(() => request(`${a.url}/hold`, { headers: { cookie } }).then((r) => r.body.text()));
    await waitFor(() => held.length === 3, { what: 'three held requests' });
    expect(ts.find((t) => t.name === mine)!.seen.filter((r) => r.url === '/hold')).toHaveLength(3);
    // A browser without the cookie gets the idle target; the bound one stays.
    expect((await new Browser().get(a.url)).body).not.toBe(mine);
    expect(await browser.browse(a.url, 5)).toEqual(Array(5).fill(mine));
    held.splice(0).forEach((r) => r());
    expect(await Promise.all(holds)).toEqual(Array(3).fill(`${mine}-held`));
  });
});

describe('duration-based stickiness on a virtual clock', () => {
  /** An ALB whose health checks answer from `failing` and move only with the clock. */
  async function scripted(ts: readonly TestTarget[], attributes: Record<string, string>) {
    const clock = new VirtualClock(Date.now());
    const failing = new Set<number>();
    const probe = (t: { port: number }): Promise<ProbeResult> => Promise.resolve(failing.has(t.port) ? { ok: false, failure: 'code', statusCode: 500 } : { ok: true, statusCode: 200 });
    const a = await alb(ts, { clock, probe, targetGroupAttributes: attributes });
    await clock.advance(0);
    await waitHealthy(a.group, ts.length);
    return { ...a, clock, failing };
  }

  it('honours the cookie while no target is healthy and the group fails open, then moves to a healthy target', async () => {
    const ts = await targets(['a', 'b', 'c']);
    const a = await scripted(ts, { 'stickiness.enabled': 'true' });
    const browser = new Browser();
    const [mine] = await browser.browse(a.url, 3);
    for (const t of ts) a.failing.add(t.port);
    await a.clock.advance(10_000);
    expect(a.group.healthyHostCount).toBe(0);
    expect(a.group.failingOpen).toBe(true);
    expect(await browser.browse(a.url, 30)).toEqual(Array(30).fill(mine));

    const other = ts.find((t) => t.name !== mine)!;
    a.failing.delete(other.port);
    await a.clock.advance(10_000);
    expect(a.group.healthyHostCount).toBe(1);
    expect(await browser.browse(a.url, 10)).toEqual(Array(10).fill(other.name));
  });

  it('starts a new binding when the bound target turns unhealthy while others are healthy', async () => {
    const ts = await targets(['a', 'b', 'c']);
    const a = await scripted(ts, { 'stickiness.enabled': 'true' });
    const browser = new Browser();
    const [mine] = await browser.browse(a.url, 3);
    a.failing.add(ts.find((t) => t.name === mine)!.port);
    await a.clock.advance(10_000);
    const after = await browser.browse(a.url, 20);
    expect(after).not.toContain(mine);
    expect(new Set(after).size).toBe(1);
  });

  it('ends the binding stickiness.lb_cookie.duration_seconds after it began, on the listener clock', async () => {
    const ts = await targets(['a', 'b', 'c']);
    const a = await scripted(ts, { 'stickiness.enabled': 'true', 'stickiness.lb_cookie.duration_seconds': '60' });
    const browser = new Browser();
    await browser.browse(a.url, 1);
    const binding = processSealer.open('AWSALB', await browser.cookie(a.url, 'AWSALB'))!;
    expect(binding.untilMs).toBe(a.clock.now() + 60_000);
    await a.clock.advance(59_000);
    await browser.browse(a.url, 2);
    expect(processSealer.open('AWSALB', await browser.cookie(a.url, 'AWSALB'))!.untilMs).toBe(binding.untilMs);
    await a.clock.advance(1_000);
    await browser.browse(a.url, 1);
    expect(processSealer.open('AWSALB', await browser.cookie(a.url, 'AWSALB'))!.untilMs).toBe(a.clock.now() + 60_000);
  });
});

describe('application-based stickiness (app_cookie) with an app that sets SESSIONID', () => {
  /** Each target starts a session (SESSIONID=<name>-<n>) for a request that has none, as express-session does. */
  function sessionApp(ts: readonly TestTarget[]): void {
    let n = 0;
    for (const t of ts) {
      t.handler = (req: IncomingMessage, res: ServerResponse) => {
        const has = /(?:^|;\s*)SESSIONID=/.test(req.headers.cookie ?? '');
        if (!has) res.setHeader('set-cookie', `SESSIONID=${t.name}-${++n}; Path=/; HttpOnly`);
        res.end(t.name);
      };
    }
  }
  const APP = { 'stickiness.enabled': 'true', 'stickiness.type': 'app_cookie', 'stickiness.app_cookie.cookie_name': 'SESSIONID', 'deregistration_delay.timeout_seconds': '5' };

  it("binds the browser to the target that started its session, passes the app's cookie through, and keeps the session on the new target when the old one comes back", async () => {
    const ts = await targets(['a', 'b', 'c']);
    sessionApp(ts);
    const a = await alb(ts, { targetGroupAttributes: APP });
    const browser = new Browser();
    const served = await browser.browse(a.url, 200);
    expect(new Set(served).size).toBe(1);
    const first = ts.find((t) => t.name === served[0])!;
    const session = await browser.cookie(a.url, 'SESSIONID');
    expect(session).toMatch(new RegExp(`^${first.name}-\\d+$`));
    // The app's Set-Cookie reached the browser unmodified, beside the load balancer's shards.
    expect(browser.setCookies[0]![0]).toMatch(/^SESSIONID=\w+-\d+; Path=\/; HttpOnly$/);
    expect(browser.setCookies[0]!.slice(1).map((c) => c.split('=')[0])).toEqual(['AWSALBAPP-0', 'AWSALBAPP-1', 'AWSALBAPP-2', 'AWSALBAPP-3']);
    expect(browser.setCookies[0]![2]).toMatch(/^AWSALBAPP-1=_remove_; Expires=/);
    expect(processSealer.open('AWSALBAPP', await browser.cookie(a.url, 'AWSALBAPP-0'))).toMatchObject({ group: 'web', target: `127.0.0.1:${first.port}` });

    // AppCookieNonStickinessCount (spec 3.3): only the first request, which carried no cookie.
    expect(await metricSum(a.elb, 'AppCookieNonStickinessCount')).toBe(1);

    void a.group.deregister([spec(first)]);
    const moved = await browser.browse(a.url, 20);
    expect(moved).not.toContain(first.name);
    expect(new Set(moved).size).toBe(1);
    expect(await browser.cookie(a.url, 'SESSIONID')).toBe(session);
    expect(await metricSum(a.elb, 'AppCookieNonStickinessCount')).toBe(2);

    a.group.register([spec(first)]);
    await waitHealthy(a.group, 3);
    expect(await browser.browse(a.url, 20)).toEqual(Array(20).fill(moved[0]));
    expect(await metricSum(a.elb, 'AppCookieNonStickinessCount')).toBe(2);
    expect(await metricSum(a.elb, 'NonStickyRequestCount')).toBe(0);
  });

  it('is not sticky for a client that keeps no cookies', async () => {
    const ts = await targets(['a', 'b', 'c']);
    sessionApp(ts);
    const a = await alb(ts, { targetGroupAttributes: APP });
    const served = new Set<string>();
    for (let i = 0; i < 6; i++) served.add(await (await request(a.url)).body.text());
    expect(served.size).toBe(3);
  });
});

describe('weighted target groups with target group stickiness (AWSALBTG)', () => {
  async function weighted(stickiness: { enabled: boolean; durationSeconds?: number } | undefined, attributes: Record<string, string> = {}) {
    const ts = await targets(['blue-1', 'blue-2', 'green-1', 'green-2']);
    const group = (name: string, members: readonly TestTarget[]) => ({
      name,
      protocol: 'HTTP' as const,
      port: 80,
      healthCheckPath: '/healthz',
      healthCheckIntervalSeconds: 5,
      healthCheckTimeoutSeconds: 2,
      healthyThresholdCount: 2,
      unhealthyThresholdCount: 2,
      attributes,
      targets: members.map((t) => ({ id: '127.0.0.1', port: t.port })),
    });
    const config: ConfigInput = {
      targetGroups: [group('blue', ts.slice(0, 2)), group('green', ts.slice(2))],
      loadBalancers: [
        {
          name: 'app',
          listeners: [
            {
              port: 0,
              defaultActions: [
                {
                  type: 'forward',
                  forwardConfig: {
                    targetGroups: [
                      { targetGroupName: 'blue', weight: 50 },
                      { targetGroupName: 'green', weight: 50 },
                    ],
                    ...(stickiness ? { targetGroupStickinessConfig: stickiness } : {}),
                  },
                },
              ],
            },
          ],
        },
      ],
    };
    const elb = await startLocalElb({ config });
    defer(() => elb.close());
    await waitHealthy(elb.targetGroup('blue'), 2);
    await waitHealthy(elb.targetGroup('green'), 2);
    const records: RequestRecord[] = [];
    elb.applicationLoadBalancer('app').onRequest((r) => records.push(r));
    return { url: elb.url('app'), ts, records };
  }
  const colour = (name: string) => name.split('-')[0]!;

  it('keeps each browser on one group over 100 requests (round robin inside it), and sends browsers to both groups', async () => {
    const { url } = await weighted({ enabled: true, durationSeconds: 300 });
    const groups = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const browser = new Browser();
      const served = await browser.browse(url, i === 0 ? 100 : 5);
      expect(new Set(served.map(colour)).size).toBe(1);
      if (i === 0) expect(new Set(served).size).toBe(2);
      expect(browser.setCookies[0]!.map((c) => c.split('=')[0])).toEqual(['AWSALBTG', 'AWSALBTGCORS']);
      groups.add(colour(served[0]!));
    }
    // Twelve browsers all on one group would happen 1 run in 2048.
    expect(groups).toEqual(new Set(['blue', 'green']));
  });

  it('logs error_reason AWSALBTGCookieInvalid for an AWSALBTG cookie it cannot read (URL-encoded), draws by weight and binds anew', async () => {
    const { url, records } = await weighted({ enabled: true, durationSeconds: 300 });
    const browser = new Browser();
    await browser.get(url);
    const good = (await browser.cookie(url, 'AWSALBTG'))!;
    const res = await request(url, { headers: { cookie: `AWSALBTG=${encodeURIComponent(good)}` } });
    expect(res.statusCode).toBe(200);
    await res.body.dump();
    const setCookie = [res.headers['set-cookie'] ?? []].flat();
    expect(setCookie.map((c) => c.split('=')[0])).toEqual(['AWSALBTG', 'AWSALBTGCORS']);
    await waitFor(() => records.length >= 2, { what: 'two request records' });
    expect(records.map((r) => r.errorReason)).toEqual([undefined, 'AWSALBTGCookieInvalid']);
    expect(parseAccessLogLine(accessLogLine(records[1]!)).error_reason).toBe('AWSALBTGCookieInvalid');
    // The browser's own (readable) cookie is no error.
    await browser.get(url);
    await waitFor(() => records.length >= 3, { what: 'a third record' });
    expect(records[2]!.errorReason).toBeUndefined();
  });

  it('without group stickiness a browser is spread over both groups', async () => {
    const { url } = await weighted(undefined);
    const served = await new Browser().browse(url, 40);
    expect(new Set(served.map(colour))).toEqual(new Set(['blue', 'green']));
  });

  it('with target stickiness in the groups too, keeps a browser on one target of one group', async () => {
    const { url } = await weighted({ enabled: true, durationSeconds: 300 }, { 'stickiness.enabled': 'true' });
    const browser = new Browser();
    expect(new Set(await browser.browse(url, 50)).size).toBe(1);
    expect((await browser.jar.getCookies(url)).map((c) => c.key).sort()).toEqual(['AWSALB', 'AWSALBCORS', 'AWSALBTG', 'AWSALBTGCORS']);
  });
});
