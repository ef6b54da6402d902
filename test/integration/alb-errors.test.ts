/**
 * Responses the ALB makes itself, on real sockets (spec 2.7, 6.3, 7.1, 7.2): the error
 * page for 5xx and 4xx, listener rules with fixed-response and redirect actions, and targets
 * that refuse, reset, hang or vanish without taking the process down or leaking sockets.
 */
import net, { type Socket } from 'node:net';
import { Client, request } from 'undici';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/clock.ts';
import type { RequestRecord } from '../../src/l7/request-record.ts';
import { deferCleanups, startAlb, waitHealthy, type AlbOptions, type TestAlb } from '../support/alb.ts';
import { metricSum } from '../support/metrics.ts';
import { openRawConnection } from '../support/raw-connection.ts';
import { parseRawResponse, rawExchange } from '../support/raw-http.ts';
import { startTarget, type TestTarget } from '../support/targets.ts';
import { waitFor } from '../support/wait.ts';

const defer = deferCleanups();

async function target(name: string): Promise<TestTarget> {
  const t = await startTarget(name);
  defer(() => t.close());
  return t;
}

async function alb(options: AlbOptions = {}): Promise<TestAlb> {
  const a = await startAlb(options);
  defer(() => a.elb.close());
  return a;
}

async function get(url: string, options: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {}) {
  const res = await request(url, { method: (options.method ?? 'GET') as 'GET', headers: options.headers ?? {}, body: options.body ?? null });
  return { status: res.statusCode, headers: res.headers, body: await res.body.text() };
}

/** The ALB error page: `Server: awselb/2.0`, HTML whose title is the status line. */
function expectErrorPage(res: { status: number; headers: Record<string, unknown>; body: string }, status: number, text: string): void {
  expect(res.status).toBe(status);
  expect(res.headers.server).toBe('awselb/2.0');
  expect(String(res.headers['content-type'])).toMatch(/^text\/html/);
  expect(res.body).toContain(`<title>${status} ${text}</title>`);
  expect(res.body).toContain(`<h1>${status} ${text}</h1>`);
}

describe('503 Service Temporarily Unavailable', () => {
  it('when the target group has no registered targets', async () => {
    const { url } = await alb();
    expectErrorPage(await get(`${url}/`), 503, 'Service Temporarily Unavailable');
  });

  it('when every registered target is still initial (registration in progress)', async () => {
    const a = await target('a');
    const { url, group } = await alb({ targetPorts: [a.port], emulator: { registrationDelaySeconds: 600 } });
    expect(group.describeTargetHealth()).toEqual([
      {
        target: { id: '127.0.0.1', port: a.port },
        healthCheckPort: String(a.port),
        targetHealth: { state: 'initial', reason: 'Elb.RegistrationInProgress', description: 'Target registration is in progress' },
      },
    ]);
    expectErrorPage(await get(`${url}/`), 503, 'Service Temporarily Unavailable');
    expect(a.seen).toHaveLength(0);
  });
});

describe('502 Bad Gateway', () => {
  it('when a healthy target has vanished and refuses the connection', async () => {
    const a = await target('a');
    const { url, group } = await alb({ targetPorts: [a.port] });
    await waitHealthy(group, 1);
    expect((await get(`${url}/`)).status).toBe(200);
    await a.close();
    expectErrorPage(await get(`${url}/`), 502, 'Bad Gateway');
  });

  it.each([
    ['resets the connection', (s: Socket) => s.resetAndDestroy()],
    ['closes the connection', (s: Socket) => s.destroy()],
  ])('when the target %s before answering a GET', async (_name, kill) => {
    const a = await target('a');
    a.handler = (req) => kill(req.socket);
    const { url, group } = await alb({ targetPorts: [a.port] });
    await waitHealthy(group, 1);
    expectErrorPage(await get(`${url}/`), 502, 'Bad Gateway');
  });

  it.each([
    ['resets the connection', (s: Socket) => s.resetAndDestroy()],
    ['closes the connection', (s: Socket) => s.destroy()],
  ])('when the target %s halfway through a request body, and the client connection stays usable', async (_name, kill) => {
    const a = await target('a');
    a.handler = (req) => req.once('data', () => kill(req.socket));
    const { url, group } = await alb({ targetPorts: [a.port] });
    await waitHealthy(group, 1);
    const client = new Client(url);
    defer(() => client.destroy());
    for (let i = 0; i < 4; i++) {
      const res = await client.request({ path: '/upload', method: 'POST', body: Buffer.alloc(4 * 1024 * 1024, 1), signal: AbortSignal.timeout(5_000) });
      expectErrorPage({ status: res.statusCode, headers: res.headers, body: await res.body.text() }, 502, 'Bad Gateway');
    }
    expect(a.seen).toHaveLength(4);
  });

  it('cuts the client connection when the target dies after sending its headers', async () => {
    const a = await target('a');
    a.handler = (req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('partial', () => req.socket.destroy());
    };
    const { url, group } = await alb({ targetPorts: [a.port] });
    await waitHealthy(group, 1);
    const res = await request(`${url}/`);
    expect(res.statusCode).toBe(200);
    await expect(res.body.text()).rejects.toThrow();
    a.handler = undefined;
    expect(await get(`${url}/`)).toMatchObject({ status: 200, body: 'a' });
  });
});

describe('early responses', () => {
  it('passes on a target answer sent before the request body was read, and the client connection stays usable', async () => {
    const a = await target('a');
    a.handler = (_req, res) => res.writeHead(413, { 'content-type': 'text/plain' }).end('too big');
    const { url, group } = await alb({ targetPorts: [a.port] });
    await waitHealthy(group, 1);
    const client = new Client(url);
    defer(() => client.destroy());
    for (let i = 0; i < 4; i++) {
      const res = await client.request({ path: '/upload', method: 'POST', body: Buffer.alloc(4 * 1024 * 1024, 1), signal: AbortSignal.timeout(5_000) });
      expect({ status: res.statusCode, body: await res.body.text() }).toEqual({ status: 413, body: 'too big' });
    }
    a.handler = undefined;
    const res = await client.request({ path: '/after', method: 'GET', signal: AbortSignal.timeout(5_000) });
    expect({ status: res.statusCode, body: await res.body.text() }).toEqual({ status: 200, body: 'a' });
  });
});

// The idle timeout on a virtual clock: real sockets, but the 1 s passes when the test says, so
// "not before 1 s" and "at 1 s" are exact instead of wall-clock bounds a busy machine breaks.
describe('504 Gateway Time-out (virtual clock)', () => {
  it('when the target does not answer within the idle timeout (1 s): nothing at 999 ms, the 504 page at 1 s', async () => {
    const clock = new VirtualClock();
    const a = await target('a');
    a.handler = () => {};
    const { url, group, elb } = await alb({ targetPorts: [a.port], clock, loadBalancerAttributes: { 'idle_timeout.timeout_seconds': '1' } });
    await waitHealthy(group, 1);
    const records: RequestRecord[] = [];
    elb.applicationLoadBalancer('app').onRequest((r) => records.push(r));
    const pending = get(`${url}/hang`);
    await waitFor(() => a.seen.length === 1, { what: 'the request to reach the target' });
    await clock.advance(999);
    expect(records).toEqual([]);
    await clock.advance(1);
    expectErrorPage(await pending, 504, 'Gateway Time-out');
    expect(records.map((r) => [r.elbStatusCode, r.errorCode])).toEqual([[504, 'ELB_ERR_TARGET_TIMEOUT']]);
  });
});

describe('408 Request Timeout (virtual clock)', () => {
  it('when the client sends no complete request headers within the idle timeout (1 s): nothing at 999 ms, 408 at 1 s', async () => {
    const clock = new VirtualClock();
    const a = await target('a');
    const { url, elb } = await alb({ targetPorts: [a.port], clock, loadBalancerAttributes: { 'idle_timeout.timeout_seconds': '1' } });
    const conn = await openRawConnection(url);
    defer(() => conn.destroy());
    conn.write('GET / HTTP/1.1\r\nHost: x\r\n');
    await waitFor(async () => (await metricSum(elb, 'ActiveConnectionCount')) === 1, { what: 'the ALB to accept the connection' });
    await clock.advance(999);
    expect(await metricSum(elb, 'HTTPCode_ELB_4XX_Count')).toBe(0);
    await clock.advance(1);
    expect(await conn.readResponse()).toMatchObject({ status: 408, headers: { server: 'awselb/2.0' } });
    expect(await metricSum(elb, 'HTTPCode_ELB_4XX_Count')).toBe(1);
    expect(a.seen).toHaveLength(0);
  });
});

describe('4xx and 501 from the load balancer', () => {
  it('405 for TRACE, without reaching the target', async () => {
    const a = await target('a');
    const { url, group } = await alb({ targetPorts: [a.port] });
    await waitHealthy(group, 1);
    expectErrorPage(await get(`${url}/`, { method: 'TRACE' }), 405, 'Method Not Allowed');
    expect(a.seen).toHaveLength(0);
  });

  it.each([
    ['a request line that is not HTTP', 'this is not http\r\n\r\n'],
    ['a request line with no version (HTTP/0.9)', 'GET /\r\nHost: x\r\n\r\n'],
    // HTTP/1.2 is Acceptable (NonCompliantVersion) and routed by desync mitigation: alb-desync.test.ts.
    ['an HTTP version that cannot be read (Severe, BadVersion)', 'GET / HTTP/1.x\r\nHost: x\r\n\r\n'],
    ['a header line without a colon', 'GET / HTTP/1.1\r\nHost: x\r\nnot a header\r\n\r\n'],
  ])('400 for %s, sent raw', async (_name, bytes) => {
    const { url } = await alb();
    const res = parseRawResponse(await rawExchange(url, bytes));
    expect(res.status).toBe(400);
    expect(res.headers.server).toBe('awselb/2.0');
    expect(res.headers.connection).toBe('close');
    expect(res.body).toContain('<title>400 Bad Request</title>');
  });

  it.each([
    ['over 16 KiB', 17 * 1024],
    ['over the whole 64 KiB head', 70 * 1024],
  ])('414 for a request line %s, without reaching the target', async (_name, length) => {
    const a = await target('a');
    const { url, group } = await alb({ targetPorts: [a.port] });
    await waitHealthy(group, 1);
    const res = parseRawResponse(await rawExchange(url, `GET /${'a'.repeat(length)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
    expect(res.status).toBe(414);
    expect(res.headers.server).toBe('awselb/2.0');
    expect(res.body).toContain('<title>414 Request-URI Too Large</title>');
    expect(a.seen).toHaveLength(0);
  });

  it('505 for an HTTP/2.0 request line on an HTTP/1 listener, sent raw', async () => {
    const a = await target('a');
    const { url, group } = await alb({ targetPorts: [a.port] });
    await waitHealthy(group, 1);
    const res = parseRawResponse(await rawExchange(url, 'GET / HTTP/2.0\r\nHost: x\r\nConnection: close\r\n\r\n'));
    expect(res.status).toBe(505);
    expect(res.body).toContain('<title>505 HTTP Version Not Supported</title>');
    expect(a.seen).toHaveLength(0);
  });

  it.each([
    ['gzip', 'Transfer-Encoding: gzip\r\n\r\n'],
    ['gzip, chunked', 'Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n'],
  ])('501 for Transfer-Encoding: %s, sent raw', async (_name, tail) => {
    const a = await target('a');
    const { url, group } = await alb({ targetPorts: [a.port] });
    await waitHealthy(group, 1);
    const res = parseRawResponse(await rawExchange(url, `POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${tail}`));
    expect(res.status).toBe(501);
    expect(res.headers.server).toBe('awselb/2.0');
    expect(res.body).toContain('<title>501 Not Implemented</title>');
    expect(a.seen).toHaveLength(0);
  });
});

describe('pipelined requests', () => {
  it('answers a good request and then the malformed one pipelined behind it (400), in order, then closes', async () => {
    const a = await target('a');
    const { url, group } = await alb({ targetPorts: [a.port] });
    await waitHealthy(group, 1);
    const raw = await rawExchange(url, 'GET /first HTTP/1.1\r\nHost: x\r\n\r\nGET /second HTTP/1.1\r\nHost: x\r\nnot a header\r\n\r\n');
    const [first, second] = raw.split(/(?=HTTP\/1\.1 \d{3} )/);
    // The test target answers chunked (no Content-Length): the chunk `a`, then the last chunk.
    expect(parseRawResponse(first!)).toMatchObject({ status: 200, body: '1\r\na\r\n0\r\n\r\n', headers: { connection: 'keep-alive', 'transfer-encoding': 'chunked' } });
    expect(parseRawResponse(second!)).toMatchObject({ status: 400, headers: { connection: 'close', server: 'awselb/2.0' } });
    expect(a.seen.map((s) => s.url)).toEqual(['/first']);
  });
});

describe('listener rules with fixed-response and redirect actions', () => {
  const rules: AlbOptions['rules'] = [
    {
      priority: 10,
      conditions: [{ field: 'path-pattern', values: ['/static/*'] }],
      actions: [{ type: 'fixed-response', fixedResponseConfig: { statusCode: '200', contentType: 'text/plain', messageBody: 'static here' } }],
    },
    {
      priority: 20,
      conditions: [{ field: 'host-header', values: ['old.example.com'] }],
      actions: [{ type: 'redirect', redirectConfig: { host: 'new.example.com', statusCode: 'HTTP_301' } }],
    },
    {
      priority: 30,
      conditions: [{ field: 'path-pattern', values: ['/maintenance'] }],
      actions: [{ type: 'fixed-response', fixedResponseConfig: { statusCode: '503', contentType: 'application/json', messageBody: '{"down":true}' } }],
    },
  ];

  it('answers fixed responses and redirects itself, and forwards the rest', async () => {
    const a = await target('a');
    const { url, port, group } = await alb({ targetPorts: [a.port], rules });
    await waitHealthy(group, 1);

    const fixed = await get(`${url}/static/app.css`);
    expect(fixed).toMatchObject({ status: 200, body: 'static here' });
    expect(fixed.headers).toMatchObject({ server: 'awselb/2.0', 'content-type': 'text/plain' });

    const down = await get(`${url}/maintenance`);
    expect(down).toMatchObject({ status: 503, body: '{"down":true}' });
    expect(down.headers['content-type']).toBe('application/json');

    const moved = await get(`${url}/a/b?x=1`, { headers: { host: 'old.example.com' } });
    expect(moved.status).toBe(301);
    expect(moved.headers.location).toBe(`http://new.example.com:${port}/a/b?x=1`);
    expect(moved.headers.server).toBe('awselb/2.0');

    expect(a.seen).toHaveLength(0);
    const forwarded = await get(`${url}/static`, { headers: { host: 'new.example.com' } });
    expect(forwarded).toMatchObject({ status: 200, body: 'a' });
    expect(a.seen.map((s) => s.url)).toEqual(['/static']);
  });
});

describe('misbehaving targets', () => {
  it('survives targets that hang, reset and vanish, and leaves no target sockets open after close', async () => {
    const hang = await target('hang');
    const reset = await target('reset');
    const good = await target('good');
    const gone = await target('gone');
    hang.handler = () => {};
    reset.handler = (req) => req.socket.resetAndDestroy();
    const a = await startAlb({ targetPorts: [hang.port, reset.port, good.port, gone.port] });
    let closed = false;
    defer(() => (closed ? undefined : a.elb.close()));
    await waitHealthy(a.group, 4);
    await gone.close();

    // Round robin: two requests to each target. Hang's two stay in flight.
    const outcomes: Array<number | string> = [];
    const pending = Array.from({ length: 8 }, () =>
      request(`${a.url}/`)
        .then(async (res) => {
          await res.body.text();
          outcomes.push(res.statusCode);
        })
        .catch((err: Error) => void outcomes.push((err as { code?: string }).code ?? err.message)),
    );
    await waitFor(() => outcomes.length === 6 && hang.seen.length === 2, { what: 'six answers and two requests held by the hanging target' });
    expect([...outcomes].sort()).toEqual([200, 200, 502, 502, 502, 502]);
    expect(hang.open).toBeGreaterThan(0);

    closed = true;
    await a.elb.close();
    await Promise.all(pending);
    expect(outcomes).toHaveLength(8);
    await waitFor(() => hang.open === 0 && reset.open === 0 && good.open === 0, { what: 'every target socket closed' });
  });

  it('aborts the target request when the client disconnects mid-upload, records 400 (closed before the full body, spec 7.1), and leaves no socket open', async () => {
    const a = await target('a');
    let targetRequestClosed = false;
    a.handler = (req) => {
      req.on('data', () => {});
      req.on('close', () => (targetRequestClosed = true));
    };
    const { url, group, elb } = await alb({ targetPorts: [a.port] });
    await waitHealthy(group, 1);
    const records: number[] = [];
    elb.applicationLoadBalancer('app').onRequest((r) => records.push(r.elbStatusCode));
    const { hostname, port } = new URL(url);
    const socket = net.connect({ host: hostname, port: Number(port) });
    socket.on('error', () => {});
    socket.write(`POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n${'x'.repeat(1000)}`);
    await waitFor(() => a.seen.length === 1, { what: 'the upload to reach the target' });
    socket.destroy();
    await waitFor(() => targetRequestClosed && a.open === 0, { what: 'the target request to be aborted and its connection closed' });
    await waitFor(() => records.length === 1, { what: 'the request record' });
    expect(records).toEqual([400]);
  });
});
