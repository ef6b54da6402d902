/**
 * gRPC health checks (spec 12.4.4) against real servers on 127.0.0.1, port 0: grpc-js servers
 * (insecure, and TLS with a self-signed certificate from `openssl req`), node:http2 servers that
 * record what the check sends, HTTP/1.1 servers and a closed port. First the probe on its own,
 * then target groups with protocolVersion GRPC on a virtual clock (the checks' cadence) over
 * real sockets (the checks themselves), reporting AWS's states and reasons.
 */
import http2 from 'node:http2';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/clock.ts';
import { parseGrpcMatcher } from '../../src/config/matcher.ts';
import { parseConfig } from '../../src/config/schema.ts';
import type { ProbeResult } from '../../src/targets/health.ts';
import { grpcProbe } from '../../src/targets/probes.ts';
import { TargetGroup } from '../../src/targets/target-group.ts';
import { healthCheckTls } from '../../src/tls/provider.ts';
import { startGrpcTarget, type GrpcTarget } from '../support/grpc.ts';
import { selfSignedCertificate, type KeyPair } from '../support/s-client.ts';
import { startTarget, type TestTarget } from '../support/targets.ts';
import { refusedPort } from '../support/tcp.ts';
import { waitFor } from '../support/wait.ts';

const HEALTH_PATH = '/AWS.ALB/healthcheck';

/** What a node:http2 server saw of one check. */
interface SeenCheck {
  readonly headers: http2.IncomingHttpHeaders;
  readonly body: Buffer;
  readonly alpn: string | false | null | undefined;
  readonly servername: string | false | null | undefined;
}

/** How a recording server answers: a trailers-only response, data then trailers, a plain HTTP status, or never. */
type H2Answer = { trailersOnly: string } | { trailers: string | undefined } | { status: number } | 'hang';

/** A node:http2 server (cleartext with prior knowledge, or TLS with ALPN h2) that records each check. */
async function startRecorder(tls?: KeyPair) {
  const seen: SeenCheck[] = [];
  let answer: H2Answer = { trailersOnly: '12' };
  const sessions = new Set<http2.ServerHttp2Session>();
  const server = tls ? http2.createSecureServer({ key: tls.key, cert: tls.cert }) : http2.createServer();
  server.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
  });
  server.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      const socket = stream.session?.socket as TLSSocket | undefined;
      seen.push({ headers, body: Buffer.concat(chunks), alpn: tls ? socket?.alpnProtocol : undefined, servername: tls ? socket?.servername : undefined });
      if (answer === 'hang') return;
      if ('trailersOnly' in answer) stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': answer.trailersOnly }, { endStream: true });
      else if ('status' in answer) stream.respond({ ':status': answer.status, 'content-type': 'text/plain' }, { endStream: true });
      else {
        const grpcStatus = answer.trailers;
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers(grpcStatus === undefined ? {} : { 'grpc-status': grpcStatus }));
        stream.end(Buffer.from([0, 0, 0, 0, 0]));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    seen,
    get openSessions() {
      return sessions.size;
    },
    answer(next: H2Answer) {
      answer = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sessions) s.destroy();
        server.close(() => resolve());
      }),
  };
}
type Recorder = Awaited<ReturnType<typeof startRecorder>>;

function grpcCodes(text: string) {
  const m = parseGrpcMatcher(text);
  if (!m.ok) throw new Error(m.message);
  return m.matches;
}

/** One check with a 5 s timeout, as a target group would run it. */
function check(port: number, options: { path?: string; codes?: string; secure?: boolean; timeoutMs?: number } = {}): Promise<ProbeResult> {
  const probe = grpcProbe({ path: options.path ?? HEALTH_PATH, matcher: grpcCodes(options.codes ?? '12'), ...(options.secure ? { tls: healthCheckTls() } : {}) });
  return Promise.resolve(probe({ id: '127.0.0.1', port }, AbortSignal.timeout(options.timeoutMs ?? 5_000)));
}

let dir: string;
let keys: KeyPair;
let plain: GrpcTarget;
let secure: GrpcTarget;
let down: GrpcTarget;
let downSecure: GrpcTarget;
let recorder: Recorder;
let secureRecorder: Recorder;
let http1: TestTarget;
let https1: TestTarget;
let dead: { port: number; close(): Promise<void> } | undefined;
let deadPort: number;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'local-elb-grpc-'));
  keys = await selfSignedCertificate(dir, 'ecdsa');
  plain = await startGrpcTarget();
  secure = await startGrpcTarget({ tls: keys });
  down = await startGrpcTarget({ methods: { [HEALTH_PATH]: { code: grpc.status.UNAVAILABLE, details: 'draining' }, '/test.Slow/Hang': 'hang' } });
  downSecure = await startGrpcTarget({ tls: keys, methods: { [HEALTH_PATH]: { code: grpc.status.UNAVAILABLE } } });
  recorder = await startRecorder();
  secureRecorder = await startRecorder(keys);
  http1 = await startTarget('http1', { healthPath: HEALTH_PATH });
  https1 = await startTarget('https1', { healthPath: HEALTH_PATH, https: { key: keys.key, cert: keys.cert } });
  // Refused for the whole file (a port listened on and closed could be taken meanwhile).
  dead = await refusedPort();
  deadPort = dead.port;
});

afterAll(async () => {
  for (const s of [plain, secure, down, downSecure, recorder, secureRecorder, http1, https1]) await s?.close();
  await dead?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('grpcProbe: one gRPC check over HTTP/2', () => {
  it.each([
    ['cleartext HTTP/2 (an HTTP target group)', false],
    ['TLS with ALPN h2 (an HTTPS target group)', true],
  ])('finds a grpc-js server healthy with the default path and matcher over %s: it answers UNIMPLEMENTED (12)', async (_, tls) => {
    expect(await check(tls ? secure.port : plain.port, { secure: tls })).toEqual({ ok: true, statusCode: grpc.status.UNIMPLEMENTED });
  });

  it.each([
    ['cleartext', false],
    ['TLS', true],
  ])('sends a unary POST to the path with the gRPC headers and an empty length-prefixed message (%s)', async (_, tls) => {
    const r = tls ? secureRecorder : recorder;
    r.seen.length = 0;
    expect(await check(r.port, { secure: tls })).toEqual({ ok: true, statusCode: 12 });
    const [seen] = r.seen;
    expect(seen!.headers).toMatchObject({
      ':method': 'POST',
      ':path': HEALTH_PATH,
      ':scheme': tls ? 'https' : 'http',
      ':authority': `127.0.0.1:${r.port}`,
      'content-type': 'application/grpc',
      te: 'trailers',
      'user-agent': 'ELB-HealthChecker/2.0',
    });
    expect([...seen!.body]).toEqual([0, 0, 0, 0, 0]);
    if (tls) expect({ alpn: seen!.alpn, servername: seen!.servername }).toEqual({ alpn: 'h2', servername: false });
  });

  it('closes its connection after the check', async () => {
    await check(recorder.port);
    await waitFor(() => recorder.openSessions === 0, { what: 'the check connection to close' });
  });

  it.each([
    ['cleartext', false],
    ['TLS', true],
  ])('reports a health method answering UNAVAILABLE (14) as a code mismatch with that code (%s)', async (_, tls) => {
    const server = tls ? downSecure : down;
    const before = server.calls.length;
    expect(await check(server.port, { secure: tls })).toEqual({ ok: false, failure: 'code', statusCode: grpc.status.UNAVAILABLE });
    expect(server.calls.slice(before).map((c) => c.path)).toEqual([HEALTH_PATH]);
  });

  it('takes any status with the matcher 0-99', async () => {
    expect(await check(down.port, { codes: '0-99' })).toEqual({ ok: true, statusCode: 14 });
    expect(await check(plain.port, { codes: '0-99' })).toEqual({ ok: true, statusCode: 12 });
  });

  it('calls a path you set, and reads grpc-status from the trailers after a response message (Echo/Say answers OK)', async () => {
    expect(await check(plain.port, { path: '/localelb.test.Echo/Say', codes: '0' })).toEqual({ ok: true, statusCode: 0 });
    expect(await check(plain.port, { path: '/localelb.test.Echo/Say' })).toEqual({ ok: false, failure: 'code', statusCode: 0 });
  });

  it.each<[string, H2Answer, ProbeResult]>([
    ['grpc-status in the trailers', { trailers: '5' }, { ok: false, failure: 'code', statusCode: 5 }],
    ['a trailers-only response', { trailersOnly: '0' }, { ok: true, statusCode: 0 }],
    ['an HTTP 404', { status: 404 }, { ok: false, failure: 'failed', detail: 'HTTP 404' }],
    ['an HTTP 503', { status: 503 }, { ok: false, failure: 'failed', detail: 'HTTP 503' }],
    ['no grpc-status at all', { trailers: undefined }, { ok: false, failure: 'failed', detail: 'no grpc-status in the response' }],
    ['a grpc-status that is not a number', { trailersOnly: 'OK' }, { ok: false, failure: 'failed', detail: 'grpc-status "OK" is not a status code' }],
  ])('judges %s', async (_, answer, result) => {
    recorder.answer(answer);
    try {
      expect(await check(recorder.port, { codes: '0-4' })).toEqual(result);
    } finally {
      recorder.answer({ trailersOnly: '12' });
    }
  });

  it.each([
    ['an HTTP/1.1 server, over cleartext HTTP/2', () => http1.port, false],
    ['an HTTPS server without h2, over TLS', () => https1.port, true],
    ['a TLS gRPC server, over cleartext HTTP/2', () => secure.port, false],
    ['a cleartext gRPC server, over TLS', () => plain.port, true],
    ['a closed port', () => deadPort, false],
  ])('fails against %s, with a detail', async (_, port, tls) => {
    const result = await check(port(), { secure: tls });
    expect(result).toMatchObject({ ok: false, failure: 'failed' });
    expect((result as { detail?: string }).detail).toMatch(/\S/);
  });

  it('gives up when the signal aborts (the timeout) on a grpc-js method that never answers', async () => {
    const before = down.calls.length;
    expect(await check(down.port, { path: '/test.Slow/Hang', timeoutMs: 300 })).toEqual({ ok: false, failure: 'timeout' });
    expect(down.calls.length).toBe(before + 1);
  });

  it('closes the connection of a check that timed out', async () => {
    recorder.answer('hang');
    try {
      expect(await check(recorder.port, { timeoutMs: 300 })).toEqual({ ok: false, failure: 'timeout' });
      await waitFor(() => recorder.openSessions === 0, { what: 'the timed-out check connection to close' });
    } finally {
      recorder.answer({ trailersOnly: '12' });
    }
  });

  it('names the refusal of a closed port', async () => {
    expect(await check(deadPort)).toEqual({ ok: false, failure: 'failed', detail: 'ECONNREFUSED' });
  });
});

describe('target groups with protocolVersion GRPC (thresholds 2/2, on a virtual clock)', () => {
  const INTERVAL_MS = 10_000;
  const groups: TargetGroup[] = [];
  afterAll(() => {
    for (const g of groups) g.close();
  });

  /**
   * A GRPC group over `ports`, used by a load balancer so its checks run: the first check at
   * registration, the next after each interval. `checks` rounds run, each waited for until
   * every probe settled (its timeout timer gone, leaving one interval timer per target).
   */
  async function checked(ports: readonly number[], fields: Record<string, unknown>, checks: number) {
    const clock = new VirtualClock();
    const config = parseConfig({
      targetGroups: [
        { name: 'svc', protocol: 'HTTP', protocolVersion: 'GRPC', port: 50051, healthCheckIntervalSeconds: INTERVAL_MS / 1000, healthyThresholdCount: 2, unhealthyThresholdCount: 2, ...fields },
      ],
    }).targetGroups[0]!;
    const group = new TargetGroup({ config, clock });
    groups.push(group);
    group.register(ports.map((port) => ({ id: '127.0.0.1', port })));
    group.setLoadBalancers(['app']);
    for (let round = 1; round <= checks; round++) {
      if (round > 1) await clock.advance(INTERVAL_MS);
      await waitFor(() => clock.pendingTimers === ports.length, { what: `health-check round ${round} to settle` });
    }
    const health = (port: number) => group.describeTargetHealth([{ id: '127.0.0.1', port }])[0]!.targetHealth;
    return { group, health };
  }

  it('marks grpc-js servers healthy with the defaults, and reports a down health method, an HTTP/1.1 server and a closed port unhealthy with AWS reasons', async () => {
    const { health } = await checked([plain.port, down.port, http1.port, deadPort], {}, 2);
    expect(health(plain.port)).toEqual({ state: 'healthy' });
    expect(health(down.port)).toEqual({ state: 'unhealthy', reason: 'Target.ResponseCodeMismatch', description: 'Health checks failed with these codes: [14]' });
    expect(health(http1.port)).toEqual({ state: 'unhealthy', reason: 'Target.FailedHealthChecks', description: 'Health checks failed' });
    expect(health(deadPort)).toEqual({ state: 'unhealthy', reason: 'Target.FailedHealthChecks', description: 'Health checks failed' });
  });

  it('keeps a target initial after one failed check (below unhealthyThresholdCount 2)', async () => {
    const { health } = await checked([down.port], {}, 1);
    expect(health(down.port)).toMatchObject({ state: 'initial', reason: 'Elb.InitialHealthChecking' });
  });

  it('checks an HTTPS GRPC group over TLS with ALPN h2: healthy grpc-js server, unhealthy down one, failed cleartext one', async () => {
    const { health } = await checked([secure.port, downSecure.port, plain.port], { protocol: 'HTTPS' }, 2);
    expect(health(secure.port)).toEqual({ state: 'healthy' });
    expect(health(downSecure.port)).toMatchObject({ state: 'unhealthy', reason: 'Target.ResponseCodeMismatch', description: 'Health checks failed with these codes: [14]' });
    expect(health(plain.port)).toMatchObject({ state: 'unhealthy', reason: 'Target.FailedHealthChecks' });
  });

  it('takes the UNAVAILABLE server as healthy with matcher grpcCode 0-99', async () => {
    const { health } = await checked([down.port], { matcher: { grpcCode: '0-99' } }, 1);
    expect(health(down.port)).toEqual({ state: 'healthy' });
  });

  it('checks the healthCheckPath it is given (Echo/Say answers OK: healthy with grpcCode 0, a mismatch with the default 12)', async () => {
    const ok = await checked([plain.port], { healthCheckPath: '/localelb.test.Echo/Say', matcher: { grpcCode: '0' } }, 1);
    expect(ok.health(plain.port)).toEqual({ state: 'healthy' });
    const mismatch = await checked([plain.port], { healthCheckPath: '/localelb.test.Echo/Say' }, 2);
    expect(mismatch.health(plain.port)).toMatchObject({ state: 'unhealthy', description: 'Health checks failed with these codes: [0]' });
  });
});
