/**
 * The ALB's timeouts on real sockets and a virtual clock (spec 7.1, 7.2): the bytes cross
 * 127.0.0.1, but the listener's and the upstream's timers move only when the test advances the
 * clock, so each case checks "nothing yet" a millisecond before its limit and the outcome at it.
 * Covers the 10 s connect timeout (504), a target that stops reading the request body (504), a
 * client that stops sending its body (408), idle keep-alive client connections closed at the
 * idle timeout, and client_keep_alive.seconds ending a connection with `Connection: close`.
 */
import { spawn } from 'node:child_process';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/clock.ts';
import type { RequestRecord } from '../../src/l7/request-record.ts';
import { deferCleanups, startAlb, waitHealthy, type AlbOptions, type TestAlb } from '../support/alb.ts';
import { metricSum } from '../support/metrics.ts';
import { openRawConnection, type RawConnection } from '../support/raw-connection.ts';
import { startTarget, type TestTarget } from '../support/targets.ts';
import { waitFor } from '../support/wait.ts';

const defer = deferCleanups();

async function target(name: string): Promise<TestTarget> {
  const t = await startTarget(name);
  defer(() => t.close());
  return t;
}

async function alb(options: AlbOptions & { clock: VirtualClock }): Promise<TestAlb & { records: RequestRecord[] }> {
  const a = await startAlb(options);
  defer(() => a.elb.close());
  const records: RequestRecord[] = [];
  a.elb.applicationLoadBalancer('app').onRequest((r) => records.push(r));
  return { ...a, records };
}

async function raw(url: string): Promise<RawConnection> {
  const c = await openRawConnection(url);
  defer(() => c.destroy());
  return c;
}

/**
 * A listening port whose SYNs go unanswered: a child process listens with a backlog of 1 and
 * then blocks its event loop (it never accepts), and two connections fill the accept queue, so
 * the kernel drops the next SYN and a connect to the port stays pending. The child is ended
 * by its PID when the test is over.
 */
async function unansweredPort(): Promise<number> {
  const child = spawn(
    process.execPath,
    [
      '-e',
      `const s = require('node:net').createServer();
       s.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
         require('node:fs').writeSync(1, s.address().port + '\\n');
         Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
       });`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  defer(async () => {
    child.kill('SIGKILL');
    await exited;
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  const port = Number(await waitFor(() => /^(\d+)\n/.exec(out)?.[1], { what: 'the blocked listener to print its port' }));
  // Fill the accept queue (backlog 1 holds two on Linux) with connections nobody accepts.
  const fillers: net.Socket[] = [];
  defer(() => fillers.forEach((s) => s.destroy()));
  for (let i = 0; i < 2; i++) {
    const s = net.connect({ host: '127.0.0.1', port });
    s.on('error', () => {});
    fillers.push(s);
    await new Promise<void>((resolve) => s.once('connect', () => resolve()));
  }
  // The next connection now hangs: had it connected, the request would wait for the 60 s idle
  // timeout instead, and the 504 at 10 s below would not come.
  return port;
}

describe('ALB timeouts on a virtual clock', () => {
  it('answers 504 when no connection to the target is made within 10 s, and counts TargetConnectionErrorCount', async () => {
    const clock = new VirtualClock();
    const port = await unansweredPort();
    // Health checks are scripted healthy: the check itself would hang on the same port.
    const { url, group, elb, records } = await alb({ clock, targetPorts: [port], probe: () => ({ ok: true }) });
    await waitHealthy(group, 1);
    const conn = await raw(url);
    conn.write('GET /never HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor(async () => (await metricSum(elb, 'ActiveConnectionCount')) === 1, { what: 'the client connection' });
    await clock.advance(9_999);
    expect(records).toEqual([]);
    await clock.advance(1);
    const res = await conn.readResponse();
    expect(res).toMatchObject({ status: 504, headers: { server: 'awselb/2.0' } });
    expect(res.body).toContain('<title>504 Gateway Time-out</title>');
    expect(records.map((r) => [r.elbStatusCode, r.errorCode])).toEqual([[504, 'ELB_ERR_TARGET_CONNECT_TIMEOUT']]);
    expect(await metricSum(elb, 'TargetConnectionErrorCount')).toBe(1);
    expect(await metricSum(elb, 'HTTPCode_ELB_504_Count')).toBe(1);
  });

  it('answers 504 when the target stops reading a streamed request body for the idle timeout (1 s)', async () => {
    const clock = new VirtualClock();
    const a = await target('a');
    // Takes the head, never reads the body and never answers: its receive buffer fills.
    a.handler = (req) => req.pause();
    const { url, group, records } = await alb({ clock, targetPorts: [a.port], loadBalancerAttributes: { 'idle_timeout.timeout_seconds': '1' } });
    await waitHealthy(group, 1);
    const conn = await raw(url);
    conn.write('POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n');
    await waitFor(() => a.seen.length === 1, { what: 'the request head to reach the target' });
    // 16 MiB offered: far more than the socket buffers between here and the target hold.
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    for (let i = 0; i < 256; i++) conn.write(Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]));
    await clock.advance(999);
    expect(records).toEqual([]);
    await clock.advance(1);
    await waitFor(() => records.length === 1, { what: 'the request to end' });
    expect(records.map((r) => [r.elbStatusCode, r.errorCode])).toEqual([[504, 'ELB_ERR_TARGET_TIMEOUT']]);
    expect(await conn.readResponse({ timeoutMs: 10_000 })).toMatchObject({ status: 504 });
  });

  it('answers 408 when the client stops sending its body for the idle timeout (1 s), without waiting for the target', async () => {
    const clock = new VirtualClock();
    const a = await target('a');
    const { url, group, records } = await alb({ clock, targetPorts: [a.port], loadBalancerAttributes: { 'idle_timeout.timeout_seconds': '1' } });
    await waitHealthy(group, 1);
    const conn = await raw(url);
    conn.write('POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789');
    await waitFor(() => a.seen.length === 1, { what: 'the request head to reach the target' });
    await clock.advance(999);
    expect(records).toEqual([]);
    await clock.advance(1);
    expect(await conn.readResponse()).toMatchObject({ status: 408, headers: { server: 'awselb/2.0' } });
    expect(records.map((r) => r.elbStatusCode)).toEqual([408]);
  });

  it('closes an idle keep-alive client connection at the idle timeout (2 s), with a FIN and no response', async () => {
    const clock = new VirtualClock();
    const a = await target('a');
    const { url, group, elb } = await alb({ clock, targetPorts: [a.port], loadBalancerAttributes: { 'idle_timeout.timeout_seconds': '2' } });
    await waitHealthy(group, 1);
    const conn = await raw(url);
    // The listener checks idle connections every tenth of the timeout (200 ms) from its start at
    // 0 ms; the requests go out on those ticks, so "2 s idle" falls on a check exactly.
    conn.write('GET /once HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(await conn.readResponse()).toMatchObject({ status: 200, body: 'a', headers: { connection: 'keep-alive' } });
    await clock.advance(1_000);
    // A second request within the timeout keeps the connection and restarts its idle time.
    conn.write('GET /again HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(await conn.readResponse()).toMatchObject({ status: 200, body: 'a' });
    await clock.advance(1_999);
    expect(conn.isClosed).toBe(false);
    expect(await metricSum(elb, 'ActiveConnectionCount')).toBe(1);
    await clock.advance(1);
    expect(await conn.closed()).toEqual({ endedByServer: true, error: undefined });
    expect(conn.unread).toBe('');
    await waitFor(async () => (await metricSum(elb, 'ActiveConnectionCount')) === 0, { what: 'ActiveConnectionCount back to 0' });
  });

  it('ends a client connection once client_keep_alive.seconds (60) has passed: the next response says Connection: close, then the ALB closes it', async () => {
    const clock = new VirtualClock();
    const a = await target('a');
    const { url, group } = await alb({
      clock,
      targetPorts: [a.port],
      loadBalancerAttributes: { 'client_keep_alive.seconds': '60', 'idle_timeout.timeout_seconds': '4000' },
    });
    await waitHealthy(group, 1);
    const conn = await raw(url);
    conn.write('GET /first HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(await conn.readResponse()).toMatchObject({ status: 200, headers: { connection: 'keep-alive' } });
    await clock.advance(59_999);
    conn.write('GET /at-59.999s HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(await conn.readResponse()).toMatchObject({ status: 200, headers: { connection: 'keep-alive' } });
    await clock.advance(1);
    conn.write('GET /at-60s HTTP/1.1\r\nHost: x\r\n\r\n');
    const last = await conn.readResponse();
    expect(last).toMatchObject({ status: 200, body: 'a', headers: { connection: 'close' } });
    expect(last.headers['keep-alive']).toBeUndefined();
    expect(await conn.closed()).toMatchObject({ endedByServer: true });
    expect(a.seen.map((s) => s.url)).toEqual(['/first', '/at-59.999s', '/at-60s']);
  });
});
