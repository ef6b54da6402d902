/**
 * HTTP/2 from clients and to targets, and gRPC, through HTTPS listeners (spec 7.3, 12.3, 12.4):
 * node:http2 and curl --http2 as clients, h2load when installed; grpc-js servers behind GRPC
 * target groups and a grpc-js client through the ALB (unary, server-streaming-free bidi, errors
 * with their status and trailers); 464 for requests that do not suit the group's protocol version.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import http2 from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../src/config/schema.ts';
import { VirtualClock, type Clock } from '../../src/core/clock.ts';
import { accessLogLine } from '../../src/l7/access-log.ts';
import type { RequestRecord } from '../../src/l7/request-record.ts';
import { startLocalElb, type LocalElb } from '../../src/local-elb.ts';
import { openLocalCa, type LocalCertificateAuthority } from '../../src/tls/ca.ts';
import { deferCleanups, waitHealthy } from '../support/alb.ts';
import { metricSum } from '../support/metrics.ts';
import { loadEcho, startGrpcTarget, type EchoResponse } from '../support/grpc.ts';
import { requirePeer } from '../support/peers.ts';
import { selfSignedCertificate } from '../support/s-client.ts';
import { startTarget } from '../support/targets.ts';
import { waitFor } from '../support/wait.ts';

const run = promisify(execFile);
const defer = deferCleanups();
let stateDir: string;
let ca: LocalCertificateAuthority;
beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'local-elb-h2-'));
  ca = await openLocalCa(stateDir);
});
afterAll(() => rm(stateDir, { recursive: true, force: true }));

async function startElb(config: ConfigInput, options: { clock?: Clock } = {}): Promise<{ elb: LocalElb; records: RequestRecord[]; url: string }> {
  const elb = await startLocalElb({ config, stateDir, ...(options.clock ? { clock: options.clock } : {}) });
  defer(() => elb.close());
  const records: RequestRecord[] = [];
  elb.applicationLoadBalancer('alb').onRequest((r) => records.push(r));
  for (const g of elb.targetGroups()) await waitHealthy(g, g.config.targets.length);
  return { elb, records, url: elb.url('alb').replace('127.0.0.1', 'localhost') };
}

function httpsAlb(groups: NonNullable<ConfigInput['targetGroups']>, extra: { attributes?: Record<string, string>; emulator?: Record<string, unknown>; rules?: unknown[] } = {}): ConfigInput {
  return {
    targetGroups: groups,
    loadBalancers: [
      {
        name: 'alb',
        attributes: { ...extra.attributes },
        ...(extra.emulator ? { emulator: extra.emulator } : {}),
        listeners: [
          { port: 0, protocol: 'HTTPS', defaultActions: [{ type: 'forward', targetGroupName: groups[0]!.name }], rules: (extra.rules ?? []) as never },
          { port: 0, protocol: 'HTTP', defaultActions: [{ type: 'fixed-response', fixedResponseConfig: { statusCode: '200', messageBody: 'plain' } }] },
        ],
      },
    ],
  };
}

const web = (port: number) => ({ name: 'web', protocol: 'HTTP' as const, healthCheckPath: '/healthz', targets: [{ id: '127.0.0.1', port }] });

function h2Get(client: http2.ClientHttp2Session, path: string, headers: http2.OutgoingHttpHeaders = {}): Promise<{ status: number; body: string; headers: http2.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = client.request({ ':path': path, ...headers });
    let body = '';
    let head: http2.IncomingHttpHeaders = {};
    req.setEncoding('utf8');
    req.on('response', (h) => (head = h));
    req.on('data', (d: string) => (body += d));
    req.on('end', () => resolve({ status: Number(head[':status']), body, headers: head }));
    req.on('error', reject);
    req.end();
  });
}

describe('HTTP/2 from clients (HTTPS listeners)', () => {
  it('serves 100 concurrent streams on one connection, each an HTTP/1.1 request to the target, logged as h2', async () => {
    const a = await startTarget('a');
    defer(() => a.close());
    const { records, url } = await startElb(httpsAlb([web(a.port)]));
    const client = http2.connect(url, { ca: readFileSync(ca.certPath) });
    defer(() => client.close());
    const responses = await Promise.all(Array.from({ length: 100 }, (_, i) => h2Get(client, `/stream/${i}`, { cookie: 'a=1', 'x-n': String(i) })));
    expect(responses.every((r) => r.status === 200 && r.body === 'a')).toBe(true);
    const seen = a.seen.filter((s) => s.url.startsWith('/stream/'));
    expect(seen).toHaveLength(100);
    expect(new Set(seen.map((s) => s.headers['x-forwarded-proto']))).toEqual(new Set(['https']));
    expect(seen[0]!.headers.host).toMatch(/^localhost:\d+$/);
    await waitFor(() => records.length >= 100, { what: '100 records' });
    const fields = accessLogLine(records[0]!).match(/"[^"]*"|\S+/g)!;
    expect(fields[0]).toBe('h2');
    expect(fields[12]).toMatch(/^"GET https:\/\/localhost:\d+\/stream\/\d+ HTTP\/2\.0"$/);
  });

  it('answers curl --http2 with HTTP/2 (ALPN h2), and HTTP/1.1 only with routing.http2.enabled false', async () => {
    const a = await startTarget('a');
    defer(() => a.close());
    const on = await startElb(httpsAlb([web(a.port)]));
    const version = async (url: string) => (await run('curl', ['-sS', '--http2', '--cacert', ca.certPath, '-o', '/dev/null', '-w', '%{http_version}', `${url}/v`], { encoding: 'utf8' })).stdout;
    expect(await version(on.url)).toBe('2');
    const posted = await run('curl', ['-sS', '--http2', '--cacert', ca.certPath, '--data-binary', 'payload', `${on.url}/post`], { encoding: 'utf8' });
    expect(posted.stdout).toBe('a:payload');
    await on.elb.close();
    const b = await startTarget('b');
    defer(() => b.close());
    const off = await startElb(httpsAlb([web(b.port)], { attributes: { 'routing.http2.enabled': 'false' } }));
    expect(await version(off.url)).toBe('1.1');
  });

  it('sends GOAWAY after the configured number of requests on a connection (AWS: 10,000), having answered the last', async () => {
    const a = await startTarget('a');
    defer(() => a.close());
    const { url } = await startElb(httpsAlb([web(a.port)], { emulator: { http2RequestsPerConnection: 5 } }));
    const client = http2.connect(url, { ca: readFileSync(ca.certPath) });
    defer(() => client.destroy());
    const goaway = new Promise<number>((resolve) => client.once('goaway', (code) => resolve(code)));
    for (let i = 0; i < 5; i++) expect((await h2Get(client, `/n${i}`)).status).toBe(200);
    expect(await goaway).toBe(http2.constants.NGHTTP2_NO_ERROR);
    await waitFor(() => client.closed || client.destroyed, { what: 'the connection to close' });
  });

  it('announces SETTINGS_MAX_CONCURRENT_STREAMS 128 and holds 128 streams open at once', async () => {
    // A target that answers only once 128 requests are waiting: all 128 must be in flight together.
    const waiting: Array<() => void> = [];
    const target = http.createServer((req, res) => {
      if (req.url === '/healthz') return void res.end('ok');
      waiting.push(() => res.end('held'));
      if (waiting.length === 128) for (const answer of waiting) answer();
    });
    target.keepAliveTimeout = 120_000;
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    defer(() => new Promise<void>((r) => (target.closeAllConnections(), target.close(() => r()))));
    const port = (target.address() as { port: number }).port;
    const { url } = await startElb(httpsAlb([web(port)]));
    const client = http2.connect(url, { ca: readFileSync(ca.certPath) });
    defer(() => client.close());
    await new Promise<void>((resolve) => client.once('remoteSettings', () => resolve()));
    expect(client.remoteSettings.maxConcurrentStreams).toBe(128);
    const responses = await Promise.all(Array.from({ length: 128 }, (_, i) => h2Get(client, `/held/${i}`)));
    expect(responses.every((r) => r.status === 200 && r.body === 'held')).toBe(true);
  });

  it('ends a connection with GOAWAY once client_keep_alive.seconds has passed, after answering one more request (virtual clock)', async () => {
    const clock = new VirtualClock();
    const a = await startTarget('a');
    defer(() => a.close());
    const { url } = await startElb(httpsAlb([web(a.port)], { attributes: { 'client_keep_alive.seconds': '60', 'idle_timeout.timeout_seconds': '4000' } }), { clock });
    const client = http2.connect(url, { ca: readFileSync(ca.certPath) });
    defer(() => client.destroy());
    let goaway = false;
    client.once('goaway', () => (goaway = true));
    expect((await h2Get(client, '/first')).status).toBe(200);
    await clock.advance(59_000);
    expect((await h2Get(client, '/at-59s')).status).toBe(200);
    expect(goaway).toBe(false);
    await clock.advance(1_000);
    expect((await h2Get(client, '/at-60s')).status).toBe(200);
    await waitFor(() => goaway, { what: 'GOAWAY after the keep-alive duration' });
    await waitFor(() => client.closed || client.destroyed, { what: 'the connection to close' });
  });

  it('closes an HTTP/2 connection with no stream activity for the idle timeout (virtual clock)', async () => {
    const clock = new VirtualClock();
    const a = await startTarget('a');
    defer(() => a.close());
    const { url } = await startElb(httpsAlb([web(a.port)], { attributes: { 'idle_timeout.timeout_seconds': '30' } }), { clock });
    const client = http2.connect(url, { ca: readFileSync(ca.certPath) });
    defer(() => client.destroy());
    expect((await h2Get(client, '/once')).status).toBe(200);
    await clock.advance(20_000);
    expect(client.closed || client.destroyed).toBe(false);
    await clock.advance(15_000);
    await waitFor(() => client.closed || client.destroyed, { what: 'the idle connection to close' });
  });

  it('refuses an HTTP/2 header name with an underscore (400, the stricter HTTP/2 validation), and the connection goes on', async () => {
    const a = await startTarget('a');
    defer(() => a.close());
    const { url } = await startElb(httpsAlb([web(a.port)]));
    const client = http2.connect(url, { ca: readFileSync(ca.certPath) });
    defer(() => client.close());
    expect((await h2Get(client, '/bad', { x_bad: '1' })).status).toBe(400);
    expect((await h2Get(client, '/good', { 'x-good': '1' })).status).toBe(200);
    expect(a.seen.map((s) => s.url)).toEqual(['/good']);
  });

  it('speaks HTTP/2 end to end to an HTTP2 target group (cleartext, prior knowledge), with trailers', async () => {
    const target = http2.createServer();
    target.on('stream', (stream, headers) => {
      stream.respond({ ':status': 200, 'content-type': 'text/plain', trailer: 'x-checksum' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'x-checksum': 'abc' }));
      stream.end(`h2 target saw ${headers[':method']} ${headers[':path']} from ${headers['x-forwarded-proto']}`);
    });
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    defer(() => new Promise<void>((r) => target.close(() => r())));
    const port = (target.address() as { port: number }).port;
    const { url } = await startElb(httpsAlb([{ name: 'h2', protocol: 'HTTP', protocolVersion: 'HTTP2', healthCheckPath: '/healthz', targets: [{ id: '127.0.0.1', port }] }]));
    const client = http2.connect(url, { ca: readFileSync(ca.certPath) });
    defer(() => client.close());
    const trailers = new Promise<http2.IncomingHttpHeaders>((resolve) => {
      const req = client.request({ ':path': '/end-to-end' });
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (d: string) => (body += d));
      req.on('trailers', (t) => resolve({ ...t, body }));
      req.end();
    });
    expect(await trailers).toMatchObject({ 'x-checksum': 'abc', body: 'h2 target saw GET /end-to-end from https' });
  });

  it('speaks HTTP/2 over TLS (ALPN h2, no SNI) to an HTTPS HTTP2 target group with a self-signed certificate, health-checked the same way', async () => {
    const keys = await selfSignedCertificate(stateDir, 'ecdsa');
    const seen: Array<{ alpn: string | false | null; servername: string | false | null; path: string }> = [];
    const target = http2.createSecureServer({ key: keys.key, cert: keys.cert });
    target.on('stream', (stream, headers) => {
      const socket = stream.session!.socket as import('node:tls').TLSSocket;
      seen.push({ alpn: socket.alpnProtocol, servername: (socket as unknown as { servername: string | false }).servername, path: String(headers[':path']) });
      stream.respond({ ':status': 200 });
      stream.end(`tls h2 ${headers[':path']}`);
    });
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    defer(() => new Promise<void>((r) => target.close(() => r())));
    const port = (target.address() as { port: number }).port;
    const { url } = await startElb(httpsAlb([{ name: 'h2tls', protocol: 'HTTPS', protocolVersion: 'HTTP2', healthCheckPath: '/healthz', targets: [{ id: '127.0.0.1', port }] }]));
    const client = http2.connect(url, { ca: readFileSync(ca.certPath) });
    defer(() => client.close());
    expect(await h2Get(client, '/secure')).toMatchObject({ status: 200, body: 'tls h2 /secure' });
    expect(seen.find((s) => s.path === '/healthz')).toMatchObject({ alpn: 'h2', servername: false });
    expect(seen.find((s) => s.path === '/secure')).toMatchObject({ alpn: 'h2', servername: false });
  });

  it('answers an HTTP/2 preface on an HTTP listener with 505 (no h2c)', async () => {
    const a = await startTarget('a');
    defer(() => a.close());
    const { elb } = await startElb(httpsAlb([web(a.port)]));
    const plainPort = elb.applicationLoadBalancer('alb').ports[1]!;
    const out = await run('curl', ['-sS', '--http2-prior-knowledge', '-o', '/dev/null', '-w', '%{http_code}', `http://127.0.0.1:${plainPort}/`], { encoding: 'utf8' }).then(
      (r) => r.stdout,
      (err: { stdout?: string }) => err.stdout ?? 'failed',
    );
    // curl reads the 505 HTTP/1.1 answer as a broken HTTP/2 stream; the raw answer is what counts.
    const { rawExchange, parseRawResponse } = await import('../support/raw-http.ts');
    const raw = await rawExchange(`http://127.0.0.1:${plainPort}`, 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', { timeoutMs: 5_000 });
    expect(parseRawResponse(raw).status).toBe(505);
    expect(out).not.toBe('200');
  });

  // Skipped without h2load outside CI (the run's setup says so once); fails under CI=true.
  it.skipIf(requirePeer('h2load') === undefined)('measures h2load through the listener (Debian nghttp2-client)', async () => {
    const a = await startTarget('a');
    defer(() => a.close());
    const { url } = await startElb(httpsAlb([web(a.port)]));
    const { stdout } = await run('h2load', ['-n', '400', '-c', '2', '-m', '20', `${url}/load`], { encoding: 'utf8' });
    expect(stdout).toMatch(/requests: 400 total, 400 started, 400 done, 400 succeeded/);
    expect(stdout).toMatch(/status codes: 400 2xx/);
  });
});

describe('gRPC through a GRPC target group', () => {
  const { Echo } = loadEcho();
  const grpcGroup = (port: number, extra: Record<string, unknown> = {}) => ({ name: 'grpc', protocol: 'HTTP' as const, protocolVersion: 'GRPC' as const, targets: [{ id: '127.0.0.1', port }], ...extra });

  function echoClient(url: string): grpc.Client & Record<string, (...args: never[]) => unknown> {
    const client = new Echo(new URL(url).host, grpc.credentials.createSsl(readFileSync(ca.certPath))) as grpc.Client & Record<string, (...args: never[]) => unknown>;
    defer(() => client.close());
    return client;
  }

  function say(client: grpc.Client & Record<string, (...args: never[]) => unknown>, method: 'Say' | 'Fail', req: object): Promise<EchoResponse> {
    return new Promise((resolve, reject) => (client[method] as (r: object, cb: (e: grpc.ServiceError | null, r: EchoResponse) => void) => void)(req, (err, res) => (err ? reject(err) : resolve(res))));
  }

  it('passes unary, server-streaming, client-streaming and bidi-streaming calls with their trailers, health-checked by gRPC (default path and 12), logged grpcs and counted in GrpcRequestCount', async () => {
    const g = await startGrpcTarget();
    defer(() => g.close());
    const { elb, records, url } = await startElb(httpsAlb([grpcGroup(g.port)]));
    expect(elb.targetGroup('grpc').describeTargetHealth()[0]!.targetHealth.state).toBe('healthy');
    const client = echoClient(url);
    expect(await say(client, 'Say', { text: 'hello' })).toEqual({ text: 'hello' });
    // An error status travels in the trailers.
    await expect(say(client, 'Fail', { code: grpc.status.NOT_FOUND, text: 'no such thing' })).rejects.toMatchObject({ code: grpc.status.NOT_FOUND, details: 'no such thing' });
    const chat = (client.Chat as () => grpc.ClientDuplexStream<{ text: string }, EchoResponse>)();
    const got: string[] = [];
    chat.on('data', (r: EchoResponse) => got.push(r.text));
    const ended = new Promise<void>((resolve, reject) => {
      chat.on('end', () => resolve());
      chat.on('error', reject);
    });
    for (const text of ['one', 'two', 'three']) chat.write({ text });
    chat.end();
    await ended;
    expect(got).toEqual(['one', 'two', 'three']);
    // Server streaming: 50 answers to one request, then the status in the trailers.
    const counted: string[] = [];
    const count = (client.Count as (req: { text: string; code: number }, metadata: grpc.Metadata) => grpc.ClientReadableStream<EchoResponse>)({ text: 'n', code: 50 }, new grpc.Metadata());
    const countStatus = new Promise<grpc.StatusObject>((resolve) => count.on('status', resolve));
    count.on('data', (r: EchoResponse) => counted.push(r.text));
    expect(await countStatus).toMatchObject({ code: grpc.status.OK });
    expect(counted).toEqual(Array.from({ length: 50 }, (_, i) => `n ${i + 1}`));
    // Client streaming: many messages, one answer when the client ends.
    const collected = new Promise<EchoResponse>((resolve, reject) => {
      const call = (client.Collect as (callback: (err: grpc.ServiceError | null, res: EchoResponse) => void) => grpc.ClientWritableStream<{ text: string }>)((err, res) =>
        err ? reject(err) : resolve(res),
      );
      for (let i = 0; i < 100; i++) call.write({ text: `m${i}` });
      call.end();
    });
    expect((await collected).text).toBe(Array.from({ length: 100 }, (_, i) => `m${i}`).join(' '));
    await waitFor(() => records.filter((r) => r.grpc).length >= 5, { what: 'five gRPC records' });
    const line = accessLogLine(records.find((r) => r.url.endsWith('/localelb.test.Echo/Say'))!);
    const fields = line.match(/"[^"]*"|\S+/g)!;
    expect(fields[0]).toBe('grpcs');
    expect(fields[8]).toBe('200');
    expect(fields[12]).toMatch(/^"POST https:\/\/localhost:\d+\/localelb\.test\.Echo\/Say HTTP\/2\.0"$/);
    // Say, Fail, Chat, Count, Collect: health checks are not requests.
    expect(await metricSum(elb, 'GrpcRequestCount')).toBe(5);
  });

  it('routes by gRPC path with path-pattern rules', async () => {
    const g1 = await startGrpcTarget();
    const g2 = await startGrpcTarget();
    defer(() => g1.close());
    defer(() => g2.close());
    const { records, url } = await startElb(
      httpsAlb([grpcGroup(g1.port), { ...grpcGroup(g2.port), name: 'grpc2' }], {
        rules: [{ priority: 1, conditions: [{ field: 'path-pattern', values: ['/localelb.test.Echo/Fail'] }], actions: [{ type: 'forward', targetGroupName: 'grpc2' }] }],
      }),
    );
    const client = echoClient(url);
    await say(client, 'Say', { text: 'x' });
    await expect(say(client, 'Fail', { code: grpc.status.ABORTED })).rejects.toMatchObject({ code: grpc.status.ABORTED });
    await waitFor(() => records.length >= 2, { what: 'two records' });
    expect(records.find((r) => r.url.endsWith('/Say'))!.targetGroup).toBe('grpc');
    expect(records.find((r) => r.url.endsWith('/Fail'))!.targetGroup).toBe('grpc2');
  });

  it('answers 464 to HTTP/1.1 and to a non-POST HTTP/2 request for a GRPC group, and to gRPC for an HTTP1 group', async () => {
    const g = await startGrpcTarget();
    const a = await startTarget('a');
    defer(() => g.close());
    defer(() => a.close());
    const { url } = await startElb(
      httpsAlb([grpcGroup(g.port), web(a.port)], {
        rules: [{ priority: 1, conditions: [{ field: 'path-pattern', values: ['/web/*'] }], actions: [{ type: 'forward', targetGroupName: 'web' }] }],
      }),
    );
    const h1 = await request(`${url}/localelb.test.Echo/Say`, { method: 'POST', headers: { 'content-type': 'application/grpc' }, dispatcher: new (await import('undici')).Agent({ allowH2: false, connect: { ca: readFileSync(ca.certPath) } }) });
    await h1.body.dump();
    expect(h1.statusCode).toBe(464);
    const client = http2.connect(url, { ca: readFileSync(ca.certPath) });
    defer(() => client.close());
    expect((await h2Get(client, '/localelb.test.Echo/Say')).status).toBe(464);
    expect((await h2Get(client, '/web/x', { ':method': 'POST', 'content-type': 'application/grpc' })).status).toBe(464);
    expect((await h2Get(client, '/web/x')).status).toBe(200);
  });

  it('marks a target unhealthy when its gRPC health check answers 14 UNAVAILABLE (fail-open still routes to it), and a grpc-js client gets UNAVAILABLE from the 502 once it is gone', async () => {
    const g = await startGrpcTarget({ methods: { '/AWS.ALB/healthcheck': { code: grpc.status.UNAVAILABLE, details: 'not ready' } } });
    defer(() => g.close());
    const elb = await startLocalElb({
      stateDir,
      config: httpsAlb([grpcGroup(g.port, { healthCheckIntervalSeconds: 5, healthCheckTimeoutSeconds: 2, unhealthyThresholdCount: 2 })]),
    });
    defer(() => elb.close());
    const group = elb.targetGroup('grpc');
    await waitFor(() => group.describeTargetHealth()[0]!.targetHealth.state === 'unhealthy', { what: 'unhealthy by gRPC check', timeoutMs: 15_000 });
    expect(group.describeTargetHealth()[0]!.targetHealth).toMatchObject({ state: 'unhealthy', reason: 'Target.ResponseCodeMismatch' });
    expect(g.calls.every((c) => c.path === '/AWS.ALB/healthcheck')).toBe(true);
    // The only target is unhealthy: the group fails open and calls still reach it.
    const client = echoClient(elb.url('alb').replace('127.0.0.1', 'localhost'));
    expect(await say(client, 'Say', { text: 'fail-open' })).toEqual({ text: 'fail-open' });
    // With the target gone, the ALB's 502 reaches grpc-js as UNAVAILABLE (gRPC's HTTP mapping).
    await g.close();
    await expect(say(client, 'Say', { text: 'gone' })).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
  });

  it("adds a trailers-only grpc-status to the load balancer's own errors with emulator.grpcStatusOnErrors (AWS sends the plain status)", async () => {
    const { url } = await startElb(httpsAlb([{ name: 'grpc', protocol: 'HTTP', protocolVersion: 'GRPC', targets: [] }], { emulator: { grpcStatusOnErrors: true } }));
    const client = http2.connect(url, { ca: readFileSync(ca.certPath) });
    defer(() => client.close());
    const res = await h2Get(client, '/localelb.test.Echo/Say', { ':method': 'POST', 'content-type': 'application/grpc' });
    expect(res.status).toBe(503);
    expect(res.headers['grpc-status']).toBe('14');
    expect(res.headers['content-type']).toBe('text/html');
  });
});
