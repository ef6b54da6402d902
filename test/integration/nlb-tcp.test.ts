/**
 * The NLB's TCP listener on real sockets (spec 2.4, 3.5, 4.2, 4.3, 5.1, 5.2, 8.4): client IP
 * preservation, flow pinning, half-close, resets in both directions, draining that keeps or
 * cuts connections, unhealthy-target resets, the idle timeout, Proxy Protocol v2 read by nginx,
 * and NLB-style HTTP health checks. Timing-heavy cases run on a VirtualClock (checks, draining
 * intervals and idle timers) while the bytes still cross real sockets.
 */
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { VirtualClock, type Clock } from '../../src/core/clock.ts';
import { seededRandom, type Random } from '../../src/core/random.ts';
import type { ConfigInput } from '../../src/config/schema.ts';
import { startLocalElb, type LocalElb } from '../../src/local-elb.ts';
import type { TargetGroup } from '../../src/targets/target-group.ts';
import { deferCleanups } from '../support/alb.ts';
import { requireNginx, startNginx } from '../support/nginx.ts';
import { requireIpv6Loopback } from '../support/peers.ts';
import { fairShareLowerBound } from '../support/stats.ts';
import { connectClient, startTcpTarget, type TcpClient, type TcpTarget, type TcpTargetOptions } from '../support/tcp.ts';
import { waitFor } from '../support/wait.ts';

const defer = deferCleanups();

type TargetGroupInput = NonNullable<ConfigInput['targetGroups']>[number];

interface NlbOptions {
  readonly targets: readonly { readonly address?: string; readonly port: number }[];
  readonly attributes?: Readonly<Record<string, string>>;
  readonly listenerAttributes?: Readonly<Record<string, string>>;
  /** Overrides of the target group (health-check settings). */
  readonly group?: Partial<TargetGroupInput>;
  readonly clock?: Clock;
  readonly random?: Random;
  /** Targets expected healthy before the test starts (default: all). */
  readonly healthy?: number;
}

interface TestNlb {
  readonly elb: LocalElb;
  readonly port: number;
  readonly group: TargetGroup;
}

/** NLB `edge` with one TCP listener on 127.0.0.1:0 forwarding to `ip` target group `tcp`; checks every 5 s. */
async function startNlb(options: NlbOptions): Promise<TestNlb> {
  const elb = await startLocalElb({
    config: {
      targetGroups: [
        {
          name: 'tcp',
          protocol: 'TCP',
          targetType: 'ip',
          healthCheckIntervalSeconds: 5,
          healthCheckTimeoutSeconds: 2,
          attributes: { ...options.attributes },
          targets: options.targets.map((t) => ({ id: t.address ?? '127.0.0.1', port: t.port })),
          ...options.group,
        },
      ],
      loadBalancers: [
        {
          name: 'edge',
          type: 'network',
          listeners: [{ port: 0, protocol: 'TCP', attributes: { ...options.listenerAttributes }, defaultActions: [{ type: 'forward', targetGroupName: 'tcp' }] }],
        },
      ],
    },
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.random ? { random: options.random } : {}),
  });
  defer(() => elb.close());
  const group = elb.targetGroup('tcp');
  const healthy = options.healthy ?? options.targets.length;
  await waitFor(() => group.healthyHostCount === healthy, { timeoutMs: 5_000, what: `${healthy} healthy targets` });
  return { elb, port: elb.networkLoadBalancer('edge').ports[0]!, group };
}

async function targets(names: readonly string[], options: TcpTargetOptions = {}): Promise<TcpTarget[]> {
  const out: TcpTarget[] = [];
  for (const name of names) {
    const t = await startTcpTarget(name, options);
    defer(() => t.close());
    out.push(t);
  }
  return out;
}

async function client(port: number, options: { localAddress?: string; allowHalfOpen?: boolean } = {}): Promise<TcpClient> {
  const c = await connectClient(port, options);
  defer(() => c.socket.destroy());
  return c;
}

/** Which target answered: the echo is `<target>:<message>`. */
const servedBy = (reply: string) => reply.split(':')[0];

/** Opens connections until one lands on `target` (the flow hash is random per connection). */
async function clientOn(port: number, target: TcpTarget): Promise<TcpClient> {
  for (let i = 0; i < 50; i++) {
    const c = await client(port);
    if (servedBy(await c.exchange(`hello${i}`)) === target.name) return c;
    c.socket.destroy();
  }
  throw new Error(`no connection landed on ${target.name} in 50 tries`);
}

/** Sum of a metric's values over all label sets. */
async function metric(elb: LocalElb, name: string): Promise<number> {
  const m = elb.metrics.registry.getSingleMetric(name);
  if (m === undefined) throw new Error(`no metric ${name}`);
  return (await m.get()).values.reduce((sum, v) => sum + v.value, 0);
}

const healthOf = (group: TargetGroup, t: TcpTarget) => group.describeTargetHealth([{ id: '127.0.0.1', port: t.port }])[0]!.targetHealth;

describe('client IP preservation (spec 5.1)', () => {
  it.each([
    ['true', '127.0.0.23'],
    ['false', '127.0.0.1'],
  ])('a target sees the client as its source when preserve_client_ip.enabled is %s: %s', async (preserve, seen) => {
    const [t] = await targets(['a']);
    const nlb = await startNlb({ targets: [t!], attributes: { 'preserve_client_ip.enabled': preserve } });
    const c = await client(nlb.port, { localAddress: '127.0.0.23' });
    expect(c.socket.localAddress).toBe('127.0.0.23');
    expect(await c.exchange('hi')).toBe('a:hi');
    expect(t!.flows).toHaveLength(1);
    expect(t!.flows[0]!.remoteAddress).toBe(seen);
  });
});

// Skipped without ::1 outside CI (the run's setup says so once); fails under CI=true.
const hasIpv6Loopback = requireIpv6Loopback();

describe.skipIf(!hasIpv6Loopback)('client IP preservation across address families (spec 5.1)', () => {
  it("lets an IPv6 client reach an IPv4 target, which sees the load balancer's IPv4 address", async () => {
    const [t] = await targets(['a']);
    const elb = await startLocalElb({
      config: {
        targetGroups: [
          {
            name: 'tcp',
            protocol: 'TCP',
            targetType: 'ip',
            healthCheckIntervalSeconds: 5,
            healthCheckTimeoutSeconds: 2,
            attributes: { 'preserve_client_ip.enabled': 'true' },
            targets: [{ id: '127.0.0.1', port: t!.port }],
          },
        ],
        loadBalancers: [{ name: 'edge', type: 'network', listeners: [{ port: 0, address: '::1', protocol: 'TCP', defaultActions: [{ type: 'forward', targetGroupName: 'tcp' }] }] }],
      },
    });
    defer(() => elb.close());
    await waitFor(() => elb.targetGroup('tcp').healthyHostCount === 1, { timeoutMs: 5_000, what: 'the target to be healthy' });
    const socket = net.connect({ host: '::1', port: elb.networkLoadBalancer('edge').ports[0]! });
    defer(() => socket.destroy());
    const reply = await new Promise<string>((resolve, reject) => {
      socket.once('data', (chunk) => resolve(chunk.toString()));
      socket.once('error', reject);
      socket.once('close', () => reject(new Error('closed without a reply')));
      socket.write('over IPv6');
    });
    expect(reply).toBe('a:over IPv6');
    expect(t!.flows[0]!.remoteAddress).toBe('127.0.0.1');
  });
});

/** 300 flows over 3 targets: each gets at least 52 (of 100 expected) except in 1 run in 10^9. */
const SPREAD_CONNECTIONS = 300;
const SPREAD_MINIMUM = fairShareLowerBound(SPREAD_CONNECTIONS, 3, 1e-9);

describe('flows (spec 3.5)', () => {
  it('keeps every byte of a connection on one target for its whole life', async () => {
    const ts = await targets(['a', 'b', 'c']);
    const nlb = await startNlb({ targets: ts });
    const clients: TcpClient[] = [];
    for (let i = 0; i < 6; i++) clients.push(await client(nlb.port));
    const servedPerClient = clients.map(() => new Set<string>());
    // Interleave: round after round, every connection sends one more message.
    for (let round = 0; round < 5; round++) {
      for (const [i, c] of clients.entries()) servedPerClient[i]!.add(servedBy(await c.exchange(`c${i}r${round};`))!);
    }
    expect(servedPerClient.every((s) => s.size === 1)).toBe(true);
    // One target connection per client connection (no multiplexing), carrying all its bytes.
    expect(ts.reduce((n, t) => n + t.flows.length, 0)).toBe(6);
    for (const [i, c] of clients.entries()) {
      const target = ts.find((t) => t.name === [...servedPerClient[i]!][0])!;
      const upstream = target.flows.find((u) => u.received.includes(`c${i}r0;`))!;
      expect(upstream.received).toBe([0, 1, 2, 3, 4].map((r) => `c${i}r${r};`).join(''));
      expect(c.received).toBe([0, 1, 2, 3, 4].map((r) => `${target.name}:c${i}r${r};`).join(''));
    }
  });

  it(`spreads ${SPREAD_CONNECTIONS} connections over 3 targets, each taking at least ${SPREAD_MINIMUM} (fails by chance in under 1 run in 10^9)`, async () => {
    const ts = await targets(['a', 'b', 'c']);
    // The per-connection stand-in for the TCP sequence number comes from a seeded stream; the
    // client ports the kernel picks vary, so the bound is the binomial one, not an exact count.
    const nlb = await startNlb({ targets: ts, random: seededRandom(19) });
    for (let i = 0; i < SPREAD_CONNECTIONS; i++) {
      const c = await client(nlb.port);
      await c.exchange(`n${i}`);
      c.socket.destroy();
    }
    const counts = ts.map((t) => t.flows.length);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(SPREAD_CONNECTIONS);
    for (const n of counts) expect(n).toBeGreaterThanOrEqual(SPREAD_MINIMUM);
  });

  it('passes a half-close through: the client ends its side and still receives the target\'s late reply, then the close', async () => {
    const [t] = await targets(['a'], {
      onEnd: (peer) => {
        peer.socket.write('late reply after your FIN');
        peer.socket.end();
      },
    });
    const nlb = await startNlb({ targets: [t!] });
    const c = await client(nlb.port, { allowHalfOpen: true });
    expect(await c.exchange('question')).toBe('a:question');
    c.socket.end();
    await waitFor(() => c.closed, { what: 'the client connection to close' });
    expect(c.received).toBe('a:questionlate reply after your FIN');
    expect(c.ended).toBe(true);
    expect(c.error).toBeUndefined();
    expect(t!.flows[0]!.ended).toBe(true);
    expect(t!.flows[0]!.error).toBeUndefined();
  });

  it('passes a target reset to the client (ECONNRESET) and counts TCP_Target_Reset_Count', async () => {
    const [t] = await targets(['a']);
    const nlb = await startNlb({ targets: [t!] });
    const c = await client(nlb.port);
    await c.exchange('hi');
    t!.flows[0]!.socket.resetAndDestroy();
    await waitFor(() => c.closed, { timeoutMs: 2_000, what: 'the client connection to close' });
    expect(c.error).toBe('ECONNRESET');
    expect(await metric(nlb.elb, 'TCP_Target_Reset_Count')).toBe(1);
    expect(await metric(nlb.elb, 'TCP_Client_Reset_Count')).toBe(0);
  });

  it('passes a client reset to the target (ECONNRESET) and counts TCP_Client_Reset_Count', async () => {
    const [t] = await targets(['a']);
    const nlb = await startNlb({ targets: [t!] });
    const c = await client(nlb.port);
    await c.exchange('hi');
    c.socket.resetAndDestroy();
    const upstream = t!.flows[0]!;
    await waitFor(() => upstream.closed, { timeoutMs: 2_000, what: 'the target connection to close' });
    expect(upstream.error).toBe('ECONNRESET');
    expect(await metric(nlb.elb, 'TCP_Client_Reset_Count')).toBe(1);
    expect(await metric(nlb.elb, 'TCP_Target_Reset_Count')).toBe(0);
  });

  it('resets a client at once when the target group has no registered targets (spec 2.7)', async () => {
    const nlb = await startNlb({ targets: [] });
    // The kernel completes the handshake before the NLB sees the connection, so the reset
    // may reach the client before or after its connect event.
    const socket = net.connect({ host: '127.0.0.1', port: nlb.port });
    defer(() => socket.destroy());
    const seen = { error: '', closed: false, received: 0 };
    socket.on('error', (err: NodeJS.ErrnoException) => (seen.error = err.code ?? ''));
    socket.on('close', () => (seen.closed = true));
    socket.on('data', (chunk: Buffer) => (seen.received += chunk.length));
    socket.write('anyone?');
    await waitFor(() => seen.closed, { timeoutMs: 2_000, what: 'the client connection to be reset' });
    expect(seen).toEqual({ error: 'ECONNRESET', closed: true, received: 0 });
    expect(await metric(nlb.elb, 'TCP_ELB_Reset_Count')).toBe(1);
    expect(await metric(nlb.elb, 'ActiveFlowCount')).toBe(0);
  });

  it('closes every target connection when the load balancer closes', async () => {
    const ts = await targets(['a', 'b']);
    const nlb = await startNlb({ targets: ts });
    const clients: TcpClient[] = [];
    for (let i = 0; i < 6; i++) {
      const c = await client(nlb.port);
      await c.exchange(`m${i}`);
      clients.push(c);
    }
    expect(await metric(nlb.elb, 'ActiveFlowCount')).toBe(6);
    await nlb.elb.close();
    await waitFor(() => ts.every((t) => t.open === 0), { timeoutMs: 2_000, what: 'every target connection to close' });
    await waitFor(() => clients.every((c) => c.closed), { timeoutMs: 2_000, what: 'every client connection to close' });
    expect(ts.reduce((n, t) => n + t.flows.length, 0)).toBe(6);
  });
});

describe('deregistration on a virtual clock (spec 4.2)', () => {
  // The 1 s delay is virtual: it ends when the test advances the clock, not while an exchange
  // on a busy machine is still under way.
  it('keeps an open connection past the delay when connection_termination is off (the default), and sends new ones elsewhere', async () => {
    const clock = new VirtualClock();
    const ts = await targets(['a', 'b']);
    const nlb = await startNlb({ targets: ts, clock, attributes: { 'deregistration_delay.timeout_seconds': '1' } });
    expect(nlb.group.attributes()['deregistration_delay.connection_termination.enabled']).toBe('false');
    const [a, b] = ts as [TcpTarget, TcpTarget];
    const c = await clientOn(nlb.port, a);
    const drained = nlb.group.deregister([{ id: '127.0.0.1', port: a.port }]);
    expect(healthOf(nlb.group, a)).toMatchObject({ state: 'draining', reason: 'Target.DeregistrationInProgress' });
    const before = b.flows.length;
    for (let i = 0; i < 5; i++) {
      const other = await client(nlb.port);
      expect(servedBy(await other.exchange(`new${i}`))).toBe('b');
    }
    expect(b.flows.length - before).toBe(5);
    await clock.advance(999);
    expect(healthOf(nlb.group, a)).toMatchObject({ state: 'draining', reason: 'Target.DeregistrationInProgress' });
    expect(await c.exchange('during the delay')).toBe('a:during the delay');
    await clock.advance(1);
    const [outcome] = await drained;
    expect(outcome).toMatchObject({ target: { id: '127.0.0.1', port: a.port }, cutRequests: 0, remaining: 1 });
    expect(nlb.group.describeTargetHealth().map((d) => d.target.port)).toEqual([b.port]);
    expect(await c.exchange('after the delay')).toBe('a:after the delay');
    expect(c.error).toBeUndefined();
    expect(await metric(nlb.elb, 'TCP_ELB_Reset_Count')).toBe(0);
  });

  it('resets an open connection when the delay ends with connection_termination on', async () => {
    const clock = new VirtualClock();
    const ts = await targets(['a', 'b']);
    const nlb = await startNlb({
      targets: ts,
      clock,
      attributes: { 'deregistration_delay.timeout_seconds': '1', 'deregistration_delay.connection_termination.enabled': 'true' },
    });
    const [a] = ts as [TcpTarget, TcpTarget];
    const c = await clientOn(nlb.port, a);
    const upstream = a.flows.find((u) => !u.closed)!;
    const drained = nlb.group.deregister([{ id: '127.0.0.1', port: a.port }]);
    await clock.advance(999);
    expect(await c.exchange('still here')).toBe('a:still here');
    expect(c.closed).toBe(false);
    await clock.advance(1);
    const [outcome] = await drained;
    expect(outcome).toMatchObject({ target: { id: '127.0.0.1', port: a.port }, result: 'cut', cutRequests: 1 });
    expect(outcome!.remaining).toBeUndefined();
    await waitFor(() => c.closed && upstream.closed, { timeoutMs: 2_000, what: 'both sides to be reset' });
    expect(c.error).toBe('ECONNRESET');
    expect(upstream.error).toBe('ECONNRESET');
    expect(await metric(nlb.elb, 'TCP_ELB_Reset_Count')).toBe(2);
  });
});

describe('unhealthy targets on a virtual clock (spec 2.4, 4.3)', () => {
  /**
   * Two targets checked every 5 s (unhealthy after 2 failures); the one holding the client's
   * connection stops listening, so its checks are refused while the connection stays open.
   */
  async function failingTarget(attributes: Record<string, string>) {
    const clock = new VirtualClock();
    const ts = await targets(['a', 'b']);
    const nlb = await startNlb({ targets: ts, attributes, clock });
    const [a, b] = ts as [TcpTarget, TcpTarget];
    const c = await clientOn(nlb.port, a);
    const onB = await clientOn(nlb.port, b);
    a.stopListening();
    /** Advances one check interval. */
    const interval = () => clock.advance(5_000);
    return { clock, nlb, a, b, c, onB, interval };
  }

  it('resets the connections of a target that becomes unhealthy (connection_termination on, the TCP default)', async () => {
    const { nlb, a, b, c, onB, interval } = await failingTarget({});
    expect(nlb.group.attributes()['target_health_state.unhealthy.connection_termination.enabled']).toBe('true');
    await interval();
    await interval();
    await waitFor(() => healthOf(nlb.group, a).state === 'unhealthy', { timeoutMs: 2_000, what: 'a to become unhealthy' });
    expect(healthOf(nlb.group, a)).toEqual({ state: 'unhealthy', reason: 'Target.FailedHealthChecks', description: 'Health checks failed' });
    await waitFor(() => c.closed, { timeoutMs: 2_000, what: 'the flow on a to be reset' });
    expect(c.error).toBe('ECONNRESET');
    expect(await onB.exchange('unaffected')).toBe('b:unaffected');
    expect(healthOf(nlb.group, b)).toEqual({ state: 'healthy' });
    const fresh = await client(nlb.port);
    expect(servedBy(await fresh.exchange('new'))).toBe('b');
  });

  it('keeps the connections of an unhealthy target for draining_interval_seconds when connection_termination is off, then resets them', async () => {
    const { nlb, a, c, interval } = await failingTarget({
      'target_health_state.unhealthy.connection_termination.enabled': 'false',
      'target_health_state.unhealthy.draining_interval_seconds': '30',
    });
    await interval();
    await interval();
    await waitFor(() => healthOf(nlb.group, a).state === 'unhealthy.draining', { timeoutMs: 2_000, what: 'a to be unhealthy.draining' });
    expect(healthOf(nlb.group, a)).toEqual({ state: 'unhealthy.draining', reason: 'Target.FailedHealthChecks', description: 'Health checks failed' });
    expect(nlb.group.unhealthyHostCount).toBe(1);
    for (let i = 0; i < 3; i++) {
      const fresh = await client(nlb.port);
      expect(servedBy(await fresh.exchange(`new${i}`))).toBe('b');
    }
    // 25 s into the 30 s interval the flow still works.
    for (let i = 0; i < 5; i++) await interval();
    expect(await c.exchange('still draining')).toBe('a:still draining');
    expect(healthOf(nlb.group, a).state).toBe('unhealthy.draining');
    await interval();
    await waitFor(() => c.closed, { timeoutMs: 2_000, what: 'the flow on a to be reset' });
    expect(c.error).toBe('ECONNRESET');
    expect(healthOf(nlb.group, a)).toEqual({ state: 'unhealthy', reason: 'Target.FailedHealthChecks', description: 'Health checks failed' });
  });
});

describe('idle timeout on a virtual clock (spec 3.5)', () => {
  it('resets a flow idle for tcp.idle_timeout.seconds and keeps one that keeps sending', async () => {
    const clock = new VirtualClock();
    const [t] = await targets(['a']);
    // One check at start, the next after 300 s: the test's minute of virtual time has no checks.
    const nlb = await startNlb({
      targets: [t!],
      clock,
      listenerAttributes: { 'tcp.idle_timeout.seconds': '60' },
      group: { healthCheckIntervalSeconds: 300, healthCheckTimeoutSeconds: 10 },
    });
    const idle = await client(nlb.port);
    const chatty = await client(nlb.port);
    await idle.exchange('once');
    await chatty.exchange('first');
    // Checked every 6 s (a tenth of the timeout): reset on the first check 60 s after the
    // first check that saw the last bytes, i.e. at 66 s.
    for (let s = 6; s <= 60; s += 6) {
      await clock.advance(6_000);
      await chatty.exchange(`at ${s}s;`);
    }
    expect(await metric(nlb.elb, 'TCP_ELB_Reset_Count')).toBe(0);
    expect(idle.closed).toBe(false);
    await clock.advance(6_000);
    await waitFor(() => idle.closed, { timeoutMs: 2_000, what: 'the idle flow to be reset' });
    expect(idle.error).toBe('ECONNRESET');
    expect(await chatty.exchange('still alive')).toBe('a:still alive');
    expect(await metric(nlb.elb, 'TCP_ELB_Reset_Count')).toBe(2);
    await waitFor(() => t!.flows.filter((u) => u.closed).length === 1, { timeoutMs: 2_000, what: 'the target side of the idle flow to be reset' });
  });
});

// Skipped without nginx outside CI (the run's setup says so once); fails under CI=true.
const hasNginx = requireNginx() !== undefined;

describe.skipIf(!hasNginx)('Proxy Protocol v2 read by nginx (spec 5.2)', () => {
  it.each(['TCP', 'HTTP'] as const)(
    'announces the client 127.0.0.23 and the listener address to nginx, and %s health checks carry a LOCAL header nginx accepts',
    async (healthCheckProtocol) => {
      const nginx = await startNginx(
        `location / { default_type text/plain; return 200 "$proxy_protocol_addr $proxy_protocol_port $proxy_protocol_server_addr $proxy_protocol_server_port $remote_addr\\n"; }`,
        {},
        { proxyProtocol: true },
      );
      defer(() => nginx.close());
      const nlb = await startNlb({
        targets: [{ port: nginx.port }],
        attributes: { 'proxy_protocol_v2.enabled': 'true' },
        group: { healthCheckProtocol, ...(healthCheckProtocol === 'HTTP' ? { healthCheckPath: '/' } : {}) },
      });
      const c = await client(nlb.port, { localAddress: '127.0.0.23' });
      const clientPort = c.socket.localPort;
      c.socket.end('GET / HTTP/1.1\r\nHost: nlb\r\nConnection: close\r\n\r\n');
      await waitFor(() => c.closed, { what: 'nginx to answer and close' });
      expect(c.received).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      const body = c.received.split('\r\n\r\n')[1]!.trim();
      // preserve_client_ip is off for ip targets over TCP: the connection itself comes from the NLB.
      expect(body).toBe(`127.0.0.23 ${clientPort} 127.0.0.1 ${nlb.port} 127.0.0.1`);
      expect(nginx.stderr).not.toMatch(/broken header/);
    },
  );
});

interface HttpCheckTarget {
  readonly port: number;
  readonly checks: http.IncomingHttpHeaders[];
}

async function httpCheckTarget(status: number): Promise<HttpCheckTarget> {
  const checks: http.IncomingHttpHeaders[] = [];
  const server = http.createServer((req, res) => {
    if (req.url === '/health') checks.push(req.headers);
    res.writeHead(status, status === 302 ? { location: '/elsewhere' } : {});
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  defer(() => new Promise<void>((resolve) => server.close(() => resolve())));
  defer(() => server.closeAllConnections());
  return { port: (server.address() as AddressInfo).port, checks };
}

describe('NLB HTTP health checks (spec 2.3, 2.4)', () => {
  it('takes 302 as healthy (matcher 200-399), reports 500 as Target.FailedHealthChecks, and sends Host: <load balancer>:<listener port>', async () => {
    const clock = new VirtualClock();
    const ok = await httpCheckTarget(302);
    const bad = await httpCheckTarget(500);
    const nlb = await startNlb({
      targets: [{ port: ok.port }, { port: bad.port }],
      clock,
      healthy: 1,
      group: { healthCheckProtocol: 'HTTP', healthCheckPath: '/health' },
    });
    expect(nlb.group.describe().matcher).toEqual({ httpCode: '200-399' });
    await clock.advance(5_000);
    const badHealth = () => nlb.group.describeTargetHealth([{ id: '127.0.0.1', port: bad.port }])[0]!.targetHealth;
    await waitFor(() => badHealth().state === 'unhealthy', { timeoutMs: 2_000, what: 'the 500 target to become unhealthy' });
    expect(badHealth()).toEqual({ state: 'unhealthy', reason: 'Target.FailedHealthChecks', description: 'Health checks failed' });
    expect(nlb.group.describeTargetHealth([{ id: '127.0.0.1', port: ok.port }])[0]!.targetHealth).toEqual({ state: 'healthy' });
    await waitFor(() => ok.checks.length >= 2, { timeoutMs: 2_000, what: 'a second check' });
    // Every check made once the listener is bound names the listener, not the target.
    const last = ok.checks.at(-1)!;
    expect(last.host).toBe(`127.0.0.1:${nlb.port}`);
    expect(last['user-agent']).toBe('ELB-HealthChecker/2.0');
  });

  it('reports a check that times out as Target.FailedHealthChecks, not Target.Timeout', async () => {
    const clock = new VirtualClock();
    const silent = http.createServer(() => {
      // never answers
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
    defer(() => new Promise<void>((resolve) => silent.close(() => resolve())));
    defer(() => silent.closeAllConnections());
    const port = (silent.address() as AddressInfo).port;
    const nlb = await startNlb({ targets: [{ port }], clock, healthy: 0, group: { healthCheckProtocol: 'HTTP', healthCheckPath: '/health' } });
    const health = () => nlb.group.describeTargetHealth()[0]!.targetHealth;
    await clock.advance(5_000);
    await clock.advance(5_000);
    await waitFor(() => health().state === 'unhealthy', { timeoutMs: 2_000, what: 'the silent target to become unhealthy' });
    expect(health()).toEqual({ state: 'unhealthy', reason: 'Target.FailedHealthChecks', description: 'Health checks failed' });
  });
});
