/**
 * WebSockets through the ALB (spec 7.3, 12.5) with the `ws` library on both ends: the upgrade
 * is forwarded, the 101 turns both connections into a tunnel, the idle timeout and the
 * deregistration delay close it, and the access log gets a `ws`/`wss` line at close.
 */
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import type { ConfigInput } from '../../src/config/schema.ts';
import { VirtualClock } from '../../src/core/clock.ts';
import { accessLogLine } from '../../src/l7/access-log.ts';
import type { RequestRecord } from '../../src/l7/request-record.ts';
import { startLocalElb, type LocalElb } from '../../src/local-elb.ts';
import { openLocalCa, type LocalCertificateAuthority } from '../../src/tls/ca.ts';
import { deferCleanups, waitHealthy } from '../support/alb.ts';
import { metricSum } from '../support/metrics.ts';
import { waitFor } from '../support/wait.ts';

const defer = deferCleanups();
let stateDir: string;
let ca: LocalCertificateAuthority;
beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'local-elb-ws-'));
  ca = await openLocalCa(stateDir);
});
afterAll(() => rm(stateDir, { recursive: true, force: true }));

interface EchoServer {
  readonly port: number;
  readonly name: string;
  /** Upgrade requests seen, with their headers. */
  readonly upgrades: http.IncomingHttpHeaders[];
  readonly open: () => number;
}

/** A `ws` echo server on its own HTTP server, which also answers health checks and plain GETs. */
async function echoServer(name: string, options: { refuse?: boolean } = {}): Promise<EchoServer> {
  const server = http.createServer((req, res) => {
    res.writeHead(req.url === '/healthz' ? 200 : 426, { 'content-type': 'text/plain' }).end(req.url === '/healthz' ? 'ok' : 'upgrade required');
  });
  const upgrades: http.IncomingHttpHeaders[] = [];
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    upgrades.push(req.headers);
    if (options.refuse) {
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 6\r\nConnection: close\r\n\r\nno way');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('message', (data, binary) => ws.send(binary ? data : `${name}:${String(data)}`, { binary }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  defer(async () => {
    for (const c of wss.clients) c.terminate();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });
  return { port: (server.address() as AddressInfo).port, name, upgrades, open: () => wss.clients.size };
}

function config(targets: number[], extra: { protocol?: 'HTTP' | 'HTTPS'; lbAttributes?: Record<string, string>; tgAttributes?: Record<string, string> } = {}): ConfigInput {
  return {
    targetGroups: [
      {
        name: 'ws',
        protocol: 'HTTP',
        healthCheckPath: '/healthz',
        healthCheckIntervalSeconds: 5,
        healthCheckTimeoutSeconds: 2,
        healthyThresholdCount: 2,
        attributes: { ...extra.tgAttributes },
        targets: targets.map((port) => ({ id: '127.0.0.1', port })),
      },
    ],
    loadBalancers: [
      {
        name: 'alb',
        attributes: { ...extra.lbAttributes },
        listeners: [{ port: 0, protocol: extra.protocol ?? 'HTTP', defaultActions: [{ type: 'forward', targetGroupName: 'ws' }] }],
      },
    ],
  };
}

async function startElb(c: ConfigInput, options: { clock?: VirtualClock } = {}): Promise<{ elb: LocalElb; records: RequestRecord[] }> {
  const elb = await startLocalElb({ config: c, stateDir, ...(options.clock ? { clock: options.clock } : {}) });
  defer(() => elb.close());
  const records: RequestRecord[] = [];
  elb.applicationLoadBalancer('alb').onRequest((r) => records.push(r));
  await waitHealthy(elb.targetGroup('ws'), c.targetGroups![0]!.targets!.length);
  return { elb, records };
}

function connect(url: string, options: WebSocket.ClientOptions = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options);
    defer(() => ws.terminate());
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`unexpected response ${res.statusCode}`)));
  });
}

function nextMessage(ws: WebSocket): Promise<string> {
  return new Promise((resolve) => ws.once('message', (data) => resolve(String(data))));
}

function closed(ws: WebSocket): Promise<number> {
  return new Promise((resolve) => (ws.readyState === WebSocket.CLOSED ? resolve(1006) : ws.once('close', (code) => resolve(code))));
}

describe('WebSockets through an ALB', () => {
  it('echo through an HTTP listener: the upgrade reaches the target with its headers and X-Forwarded-*, the access log gets a ws line at close with the bytes both ways', async () => {
    const a = await echoServer('a');
    const { elb, records } = await startElb(config([a.port]));
    const ws = await connect(`${elb.url('alb').replace('http', 'ws')}/chat?room=1`, { headers: { 'X-Trace': 't1' } });
    for (let i = 0; i < 5; i++) {
      const reply = nextMessage(ws);
      ws.send(`hello ${i}`);
      expect(await reply).toBe(`a:hello ${i}`);
    }
    const big = Buffer.alloc(1024 * 1024, 7);
    const echoed = new Promise<Buffer>((resolve) => ws.once('message', (data) => resolve(data as Buffer)));
    ws.send(big, { binary: true });
    expect((await echoed).equals(big)).toBe(true);
    const seen = a.upgrades[0]!;
    expect(seen.upgrade).toBe('websocket');
    expect(seen.connection).toMatch(/upgrade/i);
    expect(seen['sec-websocket-key']).toBeDefined();
    expect(seen['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen['x-forwarded-proto']).toBe('http');
    expect(seen['x-trace']).toBe('t1');
    expect(records).toEqual([]); // logged only when the connection closes
    ws.close(1000, 'bye');
    expect(await closed(ws)).toBe(1000);
    await waitFor(() => records.length === 1, { what: 'the ws record' });
    const r = records[0]!;
    expect(r).toMatchObject({ upgraded: true, elbStatusCode: 101, targetStatusCode: 101, producedBy: 'target', method: 'GET' });
    expect(r.receivedBytes).toBeGreaterThan(1024 * 1024);
    expect(r.sentBytes).toBeGreaterThan(1024 * 1024);
    const fields = accessLogLine(r).match(/"[^"]*"|\S+/g)!;
    expect(fields[0]).toBe('ws');
    expect(fields[8]).toBe('101');
    expect(fields[9]).toBe('101');
    expect(fields[12]).toMatch(/^"GET http:\/\/127\.0\.0\.1:\d+\/chat\?room=1 HTTP\/1\.1"$/);
    // No WebSocket metric of its own (spec 12.5): the upgrade is one request, the tunnel's bytes
    // are processed bytes, and a 101 is in no HTTPCode_Target_*XX count.
    expect(await metricSum(elb, 'RequestCount')).toBe(1);
    expect(await metricSum(elb, 'NewConnectionCount')).toBe(1);
    expect(await metricSum(elb, 'ProcessedBytes')).toBe(r.receivedBytes + r.sentBytes);
    expect(await metricSum(elb, 'HTTPCode_Target_2XX_Count')).toBe(0);
  });

  it('wss through an HTTPS listener', async () => {
    const a = await echoServer('a');
    const { elb, records } = await startElb(config([a.port], { protocol: 'HTTPS' }));
    const port = new URL(elb.url('alb')).port;
    const ws = await connect(`wss://localhost:${port}/`, { ca: readFileSync(ca.certPath) });
    const reply = nextMessage(ws);
    ws.send('over tls');
    expect(await reply).toBe('a:over tls');
    expect(a.upgrades[0]!['x-forwarded-proto']).toBe('https');
    ws.close();
    await waitFor(() => records.length === 1, { what: 'the wss record' });
    expect(accessLogLine(records[0]!).split(' ')[0]).toBe('wss');
  });

  it('passes a refused upgrade through as a normal response', async () => {
    const a = await echoServer('a', { refuse: true });
    const { elb, records } = await startElb(config([a.port]));
    await expect(connect(`${elb.url('alb').replace('http', 'ws')}/`)).rejects.toThrow('unexpected response 403');
    await waitFor(() => records.length === 1, { what: 'the record' });
    expect(records[0]).toMatchObject({ elbStatusCode: 403, targetStatusCode: 403 });
    expect(records[0]!.upgraded).toBeUndefined();
    expect(accessLogLine(records[0]!).split(' ')[0]).toBe('http');
  });

  it('keeps a tunnel with traffic open past the idle timeout and closes one with no bytes either way for that long', async () => {
    // On a virtual clock: the 2 s pass when the test says, not while a busy machine is between pings.
    const clock = new VirtualClock();
    const a = await echoServer('a');
    const { elb, records } = await startElb(config([a.port], { lbAttributes: { 'idle_timeout.timeout_seconds': '2' } }), { clock });
    const ws = await connect(`${elb.url('alb').replace('http', 'ws')}/`);
    // A message every second keeps it open for 3 s, past the 2 s timeout (the listener checks
    // every 200 ms from 0, so the messages go out on its ticks)...
    for (let i = 0; i < 4; i++) {
      if (i > 0) await clock.advance(1_000);
      const reply = nextMessage(ws);
      ws.send(`ping ${i}`);
      expect(await reply).toBe(`a:ping ${i}`);
    }
    await clock.advance(1_999);
    expect(ws.readyState).toBe(WebSocket.OPEN);
    // ...2 s of silence closes it.
    await clock.advance(1);
    expect(await closed(ws)).toBe(1006);
    await waitFor(() => records.length === 1 && a.open() === 0, { what: 'the tunnel closed on both sides' });
    expect(records[0]).toMatchObject({ upgraded: true, elbStatusCode: 101 });
  });

  it('keeps a WebSocket to a draining target open until the deregistration delay ends, then closes it', async () => {
    // The 2 s delay on a virtual clock: the exchange during it cannot lose a race with real time.
    const clock = new VirtualClock();
    const a = await echoServer('a');
    const { elb } = await startElb(config([a.port], { tgAttributes: { 'deregistration_delay.timeout_seconds': '2' } }), { clock });
    const ws = await connect(`${elb.url('alb').replace('http', 'ws')}/`);
    const group = elb.targetGroup('ws');
    const outcome = group.deregister([{ id: '127.0.0.1', port: a.port }]);
    expect(group.describeTargetHealth()[0]!.targetHealth.state).toBe('draining');
    await clock.advance(1_999);
    const reply = nextMessage(ws);
    ws.send('still here');
    expect(await reply).toBe('a:still here');
    expect(ws.readyState).toBe(WebSocket.OPEN);
    await clock.advance(1);
    expect(await closed(ws)).toBe(1006);
    const [result] = await outcome;
    expect(result).toMatchObject({ result: 'cut', cutRequests: 1 });
    await waitFor(() => a.open() === 0, { what: 'the target side closed' });
  });

  it('holds 1,000 concurrent WebSockets and reports the RSS', async () => {
    const a = await echoServer('a');
    const { elb } = await startElb(config([a.port]));
    const url = `${elb.url('alb').replace('http', 'ws')}/`;
    const rssBefore = process.memoryUsage().rss;
    const sockets: WebSocket[] = [];
    for (let batch = 0; batch < 10; batch++) sockets.push(...(await Promise.all(Array.from({ length: 100 }, () => connect(url)))));
    await waitFor(() => a.open() === 1000, { what: '1,000 WebSockets at the target' });
    const replies = await Promise.all(
      sockets.map((ws, i) => {
        const reply = nextMessage(ws);
        ws.send(String(i));
        return reply;
      }),
    );
    expect(replies.every((r, i) => r === `a:${i}`)).toBe(true);
    const rssAfter = process.memoryUsage().rss;
    console.log(`1,000 WebSockets through local-elb: RSS of the test process (clients, ELB and target together) ${(rssBefore / 2 ** 20).toFixed(0)} → ${(rssAfter / 2 ** 20).toFixed(0)} MiB`);
    for (const ws of sockets) ws.close();
    await waitFor(() => a.open() === 0, { what: 'all closed', timeoutMs: 15_000 });
  });
});
