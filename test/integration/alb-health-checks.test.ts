/**
 * The ALB's HTTP health check on the wire (spec 2.4, 2.5), against real servers on a virtual
 * clock: the request each check sends (README "Target health": `GET <path>`, `Host: <ip>:<port>`,
 * `User-Agent: ELB-HealthChecker/2.0`, `Connection: close`, a connection per check, a fixed
 * cadence), and a target that does not answer within healthCheckTimeoutSeconds turning
 * unhealthy with Target.Timeout.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/clock.ts';
import { deferCleanups, startAlb } from '../support/alb.ts';
import { waitFor } from '../support/wait.ts';

const defer = deferCleanups();

interface Check {
  readonly method: string;
  readonly url: string;
  readonly rawHeaders: string[];
  readonly connection: number;
}

/** An HTTP server that records every request with the connection it came on, and answers with `respond`. */
async function recordingServer(respond: (res: http.ServerResponse) => void): Promise<{ port: number; checks: Check[] }> {
  const checks: Check[] = [];
  const sockets = new Map<Socket, number>();
  const server = http.createServer((req, res) => {
    checks.push({ method: req.method ?? '', url: req.url ?? '', rawHeaders: req.rawHeaders, connection: sockets.get(req.socket)! });
    respond(res);
  });
  server.on('connection', (s: Socket) => {
    sockets.set(s, sockets.size + 1);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  defer(() => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))));
  return { port: (server.address() as AddressInfo).port, checks };
}

describe('ALB HTTP health checks on a virtual clock', () => {
  it('sends GET <path> with Host <ip>:<port>, User-Agent ELB-HealthChecker/2.0 and Connection: close, one connection per check, every interval', async () => {
    const clock = new VirtualClock();
    const t = await recordingServer((res) => res.end('ok'));
    const alb = await startAlb({ clock, targetPorts: [t.port], healthCheckPath: '/status/check?deep=1' });
    defer(() => alb.elb.close());
    await waitFor(() => t.checks.length === 1, { what: 'the first check, at registration' });
    for (let i = 2; i <= 4; i++) {
      await clock.advance(4_999);
      expect(t.checks).toHaveLength(i - 1);
      await clock.advance(1);
      await waitFor(() => t.checks.length === i, { what: `check ${i}, 5 s after the one before` });
    }
    for (const check of t.checks) {
      expect(check.method).toBe('GET');
      expect(check.url).toBe('/status/check?deep=1');
      const headers = Object.fromEntries(Array.from({ length: check.rawHeaders.length / 2 }, (_, i) => [check.rawHeaders[2 * i]!.toLowerCase(), check.rawHeaders[2 * i + 1]!]));
      expect(headers).toMatchObject({ host: `127.0.0.1:${t.port}`, 'user-agent': 'ELB-HealthChecker/2.0', connection: 'close' });
    }
    expect(new Set(t.checks.map((c) => c.connection)).size).toBe(4);
    expect(alb.group.describeTargetHealth()[0]!.targetHealth).toEqual({ state: 'healthy' });
  });

  it('marks a target that does not answer within healthCheckTimeoutSeconds (2 s) unhealthy after 2 checks, with Target.Timeout', async () => {
    const clock = new VirtualClock();
    const held: http.ServerResponse[] = [];
    const t = await recordingServer((res) => void held.push(res)); // never answers
    defer(() => held.forEach((res) => res.destroy()));
    const alb = await startAlb({ clock, targetPorts: [t.port] });
    defer(() => alb.elb.close());
    const health = () => alb.group.describeTargetHealth()[0]!.targetHealth;
    await waitFor(() => t.checks.length === 1, { what: 'the first check to arrive' });
    expect(health()).toMatchObject({ state: 'initial', reason: 'Elb.InitialHealthChecking' });
    await clock.advance(1_999);
    expect(health()).toMatchObject({ state: 'initial' });
    await clock.advance(1); // the first check times out: one failure, below the threshold of 2
    expect(health()).toMatchObject({ state: 'initial', reason: 'Elb.InitialHealthChecking' });
    await clock.advance(3_000); // 5 s: the second check goes out
    await waitFor(() => t.checks.length === 2, { what: 'the second check to arrive' });
    await clock.advance(1_999);
    expect(health()).toMatchObject({ state: 'initial' });
    await clock.advance(1);
    await waitFor(() => health().state === 'unhealthy', { what: 'the target to turn unhealthy' });
    expect(health()).toEqual({ state: 'unhealthy', reason: 'Target.Timeout', description: 'Request timed out' });
  });
});
