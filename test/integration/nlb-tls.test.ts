/**
 * NLB TLS listeners on real sockets (spec 12.6, 8.2, 8.4, 5.1, 5.2, 3.5): openssl s_client and
 * Node's tls as clients; plain TCP echo servers, Node TLS servers and nginx as targets.
 * Certificates come from a local CA in a temporary state directory. Timing cases (handshake
 * and idle timeouts, the target handshake limit) run on a VirtualClock while the bytes still
 * cross real sockets.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net, { type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { Command, IPv4ProxyAddress, V2ProxyProtocol } from 'proxy-protocol-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock, type Clock } from '../../src/core/clock.ts';
import type { ConfigInput } from '../../src/config/schema.ts';
import { nlbAccessLogLine, type TlsConnectionRecord } from '../../src/l4/access-log.ts';
import { startLocalElb, type LocalElb } from '../../src/local-elb.ts';
import { openLocalCa, type LocalCertificateAuthority } from '../../src/tls/ca.ts';
import type { TargetGroup } from '../../src/targets/target-group.ts';
import { deferCleanups } from '../support/alb.ts';
import { startCli } from '../support/cli.ts';
import { requireNginx, startNginx } from '../support/nginx.ts';
import { openFileDescriptors } from '../support/process-stats.ts';
import { sClient, selfSignedCertificate } from '../support/s-client.ts';
import { startTcpTarget, type TcpTarget } from '../support/tcp.ts';
import { waitFor } from '../support/wait.ts';

const defer = deferCleanups();

let stateDir: string;
let ca: LocalCertificateAuthority;
let targetKeys: { key: Buffer; cert: Buffer };
beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'local-elb-nlb-tls-'));
  ca = await openLocalCa(stateDir);
  targetKeys = await selfSignedCertificate(stateDir, 'ecdsa');
});
afterAll(() => rm(stateDir, { recursive: true, force: true }));

const ARN_A = 'arn:aws:acm:us-east-1:000000000000:certificate/nlb-a';
const ARN_B = 'arn:aws:acm:us-east-1:000000000000:certificate/nlb-b';

type TargetGroupInput = NonNullable<ConfigInput['targetGroups']>[number];
type ListenerInput = NonNullable<ConfigInput['loadBalancers']>[number]['listeners'][number];

interface TlsNlbOptions {
  readonly targets: readonly { readonly port: number }[];
  /** Overrides of the one TLS listener, or several listeners. */
  readonly listener?: Partial<ListenerInput>;
  readonly listeners?: readonly Partial<ListenerInput>[];
  /** Overrides of the `ip` target group (protocol TCP by default). */
  readonly group?: Partial<TargetGroupInput>;
  readonly certificates?: ConfigInput['certificates'];
  readonly clock?: Clock;
  readonly healthy?: number;
}

interface TlsNlb {
  readonly elb: LocalElb;
  readonly port: number;
  readonly ports: number[];
  readonly group: TargetGroup;
  readonly records: TlsConnectionRecord[];
}

/** NLB `edge`: TLS listener(s) on 127.0.0.1:0 forwarding to target group `backend` (TCP checks every 5 s). */
async function startTlsNlb(o: TlsNlbOptions): Promise<TlsNlb> {
  const listeners = (o.listeners ?? [o.listener ?? {}]).map((l) => ({ port: 0, protocol: 'TLS' as const, defaultActions: [{ type: 'forward' as const, targetGroupName: 'backend' }], ...l }));
  const elb = await startLocalElb({
    config: {
      ...(o.certificates ? { certificates: o.certificates } : {}),
      targetGroups: [
        {
          name: 'backend',
          protocol: 'TCP',
          targetType: 'ip',
          healthCheckIntervalSeconds: 5,
          healthCheckTimeoutSeconds: 2,
          targets: o.targets.map((t) => ({ id: '127.0.0.1', port: t.port })),
          ...o.group,
        },
      ],
      loadBalancers: [{ name: 'edge', type: 'network', listeners }],
    },
    stateDir,
    ...(o.clock ? { clock: o.clock } : {}),
  });
  defer(() => elb.close());
  const group = elb.targetGroup('backend');
  const healthy = o.healthy ?? o.targets.length;
  await waitFor(() => group.healthyHostCount === healthy, { timeoutMs: 5_000, what: `${healthy} healthy targets` });
  const records: TlsConnectionRecord[] = [];
  elb.networkLoadBalancer('edge').onTlsConnection((r) => records.push(r));
  const ports = elb.networkLoadBalancer('edge').ports;
  return { elb, port: ports[0]!, ports, group, records };
}

async function tcpTarget(name: string): Promise<TcpTarget> {
  const t = await startTcpTarget(name);
  defer(() => t.close());
  return t;
}

interface TlsSessionSeen {
  readonly protocol: string | null;
  readonly servername: string | false | undefined;
  readonly alpn: string | false | null;
  readonly remoteAddress: string;
  received: string;
}

interface TlsTarget {
  readonly port: number;
  readonly sessions: TlsSessionSeen[];
}

/** A Node TLS server with a self-signed certificate that echoes `<name>:<chunk>`; health checks (TCP) never handshake. */
async function tlsTarget(name: string, options: tls.TlsOptions = {}): Promise<TlsTarget> {
  const sessions: TlsSessionSeen[] = [];
  const sockets = new Set<Socket>();
  const server = tls.createServer({ ...targetKeys, ...options }, (socket) => {
    const seen: TlsSessionSeen = {
      protocol: socket.getProtocol(),
      servername: (socket as tls.TLSSocket & { servername?: string | false }).servername,
      alpn: socket.alpnProtocol,
      remoteAddress: (socket.remoteAddress ?? '').replace(/^::ffff:/, ''),
      received: '',
    };
    sessions.push(seen);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      seen.received += chunk;
      socket.write(`${name}:${chunk}`);
    });
    socket.on('error', () => {});
    socket.on('end', () => socket.end());
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  defer(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { port: (server.address() as AddressInfo).port, sessions };
}

interface TlsClient {
  readonly socket: tls.TLSSocket;
  received: string;
  closed: boolean;
  error: string | undefined;
  /** Writes `message` and resolves with what came back once it holds `message`. */
  exchange(message: string): Promise<string>;
}

/** A Node TLS client that trusts the test CA; resolves once the handshake is done. */
function tlsClient(port: number, options: tls.ConnectionOptions & { localAddress?: string } = {}): Promise<TlsClient> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca: ca.certPem, servername: 'localhost', ...options });
    defer(() => socket.destroy());
    socket.once('error', reject);
    socket.once('secureConnect', () => {
      socket.off('error', reject);
      const c: TlsClient = {
        socket,
        received: '',
        closed: false,
        error: undefined,
        exchange: (message) =>
          new Promise((done, fail) => {
            const from = c.received.length;
            const timer = setTimeout(() => fail(new Error(`no echo of ${message} within 5 s; got ${JSON.stringify(c.received.slice(from))}`)), 5_000);
            const check = () => {
              if (!c.received.slice(from).includes(message)) return;
              clearTimeout(timer);
              socket.off('data', check);
              done(c.received.slice(from));
            };
            socket.on('data', check);
            socket.write(message);
          }),
      };
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (c.received += chunk));
      socket.on('error', (err: NodeJS.ErrnoException) => (c.error = err.code ?? err.message));
      socket.on('close', () => (c.closed = true));
      resolve(c);
    });
  });
}

/**
 * `openssl s_client` (`-brief` unless `brief` is false: OpenSSL 3.0's brief summary leaves out
 * the ALPN line) that sends `message` after the handshake and waits until `until` comes back;
 * then it is stopped. Returns everything it printed.
 */
async function sClientExchange(port: number, args: readonly string[], message: string, until: string, brief = true): Promise<string> {
  const child = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, ...(brief ? ['-brief'] : []), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  defer(() => child.kill('SIGKILL'));
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.stdin.write(message);
  await waitFor(() => output.includes(until) || child.exitCode !== null, { what: `${until} from s_client` });
  child.kill('SIGTERM');
  await exited;
  return output;
}

/** The served certificate's SAN for `servername` (undefined: no SNI). */
function servedNames(port: number, servername: string | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername: servername ?? '', rejectUnauthorized: false }, () => {
      resolve(socket.getPeerCertificate().subjectaltname ?? '');
      socket.destroy();
    });
    socket.on('error', reject);
  });
}

/** A certificate for `names` from the test CA, written to files, as a `certificates:` entry. */
async function certificateFiles(arn: string, names: string[]) {
  const issued = await ca.issue(names);
  const base = join(stateDir, arn.split('/').pop()!);
  await writeFile(`${base}.pem`, issued.certPem);
  await writeFile(`${base}-key.pem`, issued.keyPem);
  return { certificateArn: arn, certificateFile: `${base}.pem`, privateKeyFile: `${base}-key.pem` };
}

/** A metric's value summed over the label sets that contain `labels` (e.g. `protocol="TLS"`). */
async function metric(elb: LocalElb, name: string, labels = ''): Promise<number> {
  const text = await elb.metrics.registry.metrics();
  let sum = 0;
  for (const line of text.split('\n')) {
    if ((line.startsWith(`${name}{`) || line.startsWith(`${name} `)) && line.includes(labels)) sum += Number(line.split(' ').pop());
  }
  return sum;
}

/** Connects and writes `bytes` (nothing when undefined), then either waits for the close or closes/resets itself. */
function rawClient(port: number, bytes: Buffer | string | undefined, then: 'wait' | 'end' | 'reset' = 'wait'): Promise<{ received: Buffer; error: string | undefined }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let error: string | undefined;
    const socket = net.connect({ host: '127.0.0.1', port }, () => {
      if (bytes !== undefined) socket.write(bytes);
      if (then === 'end') socket.end();
      if (then === 'reset') setImmediate(() => socket.resetAndDestroy());
    });
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', (err: NodeJS.ErrnoException) => (error = err.code));
    socket.on('close', () => resolve({ received: Buffer.concat(chunks), error }));
  });
}

describe('NLB TLS listener to a TCP target group (spec 12.6.4)', () => {
  it("terminates TLS: openssl s_client verifies the local CA's certificate, and the target receives exactly the plaintext sent after the handshake", async () => {
    const a = await tcpTarget('a');
    const nlb = await startTlsNlb({ targets: [a] });
    expect(nlb.elb.networkLoadBalancer('edge').url()).toBe(`tls://127.0.0.1:${nlb.port}`);
    const output = await sClientExchange(nlb.port, ['-CAfile', ca.certPath, '-verify_return_error', '-servername', 'localhost'], 'hello over tls\n', 'a:hello over tls');
    expect(output).toMatch(/Verification: OK/);
    expect(a.flows).toHaveLength(1);
    expect(a.flows[0]!.received).toBe('hello over tls\n');
    await waitFor(async () => (await metric(nlb.elb, 'ActiveFlowCount', 'protocol="TLS"')) === 0, { what: 'the TLS flow to end' });
    expect(await metric(nlb.elb, 'NewFlowCount', 'protocol="TLS"')).toBe(1);
    expect(await metric(nlb.elb, 'NewFlowCount', 'protocol="TCP"')).toBe(0);
    // Payload each way, once: 15 bytes in, 17 back.
    expect(await metric(nlb.elb, 'ProcessedBytes', 'protocol="TLS"')).toBe(32);
    expect(await metric(nlb.elb, 'ClientTLSNegotiationErrorCount')).toBe(0);
  });

  it('chooses the certificate by SNI among two (the default without SNI or for an unknown name), which s_client verifies by name', async () => {
    const a = await tcpTarget('a');
    const nlb = await startTlsNlb({
      targets: [a],
      certificates: [await certificateFiles(ARN_A, ['a.example.test']), await certificateFiles(ARN_B, ['b.example.test'])],
      listener: { certificates: [{ certificateArn: ARN_A }, { certificateArn: ARN_B }] },
    });
    expect(await servedNames(nlb.port, 'a.example.test')).toBe('DNS:a.example.test');
    expect(await servedNames(nlb.port, 'b.example.test')).toBe('DNS:b.example.test');
    expect(await servedNames(nlb.port, undefined)).toBe('DNS:a.example.test');
    expect(await servedNames(nlb.port, 'other.example.test')).toBe('DNS:a.example.test');
    const output = await sClientExchange(nlb.port, ['-CAfile', ca.certPath, '-verify_return_error', '-servername', 'b.example.test', '-verify_hostname', 'b.example.test'], 'via b\n', 'a:via b');
    expect(output).toMatch(/Verification: OK/);
    await waitFor(() => nlb.records.some((r) => r.domainName === 'b.example.test'), { what: 'the record of the b.example.test connection' });
    expect(nlb.records.find((r) => r.domainName === 'b.example.test')!.chosenCertArn).toBe(ARN_B);
    expect(nlb.records.find((r) => r.domainName === 'a.example.test')!.chosenCertArn).toBe(ARN_A);
  });

  it('refuses TLS 1.1 under ELBSecurityPolicy-TLS13-1-2-2021-06 and counts it in ClientTLSNegotiationErrorCount; the target sees nothing of it', async () => {
    const a = await tcpTarget('a');
    const nlb = await startTlsNlb({ targets: [a], listener: { sslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06' } });
    const refused = await sClient(nlb.port, ['-tls1_1', '-cipher', 'DEFAULT@SECLEVEL=0', '-servername', 'localhost']);
    expect(refused.connected).toBe(false);
    expect(await sClient(nlb.port, ['-tls1_2'])).toMatchObject({ connected: true, protocol: 'TLSv1.2' });
    expect(await sClient(nlb.port, [])).toMatchObject({ connected: true, protocol: 'TLSv1.3' });
    await waitFor(() => nlb.records.length === 3, { what: 'three connection records' });
    expect(await metric(nlb.elb, 'ClientTLSNegotiationErrorCount')).toBe(1);
    expect(a.flows).toHaveLength(0);
    const failed = nlb.records.find((r) => r.failure !== undefined)!;
    expect(failed).toMatchObject({ failure: 'client_tls_error', tlsProtocol: undefined, tlsCipher: undefined, tlsHandshakeMs: undefined, domainName: 'localhost', target: undefined });
    // A valid ClientHello came, so the log names the certificate SNI chose.
    expect(failed.chosenCertArn).toBe('arn:aws:acm:local:000000000000:certificate/local-elb-edge');
    const f = nlbAccessLogLine(failed).split(' ');
    expect([f[8], f[14], f[15], f[17]]).toEqual(['-', '-', '-', 'localhost']);
  });
});

describe('NLB TLS listener to a TLS target group (spec 12.6.2, 12.6.4)', () => {
  it.each([
    ['ELBSecurityPolicy-2016-08', 'TLSv1.2'],
    ['ELBSecurityPolicy-TLS13-1-2-2021-06', 'TLSv1.3'],
  ])('re-encrypts to a self-signed target without SNI; under %s the back end negotiates %s', async (sslPolicy, backendProtocol) => {
    const t = await tlsTarget('t');
    const nlb = await startTlsNlb({ targets: [t], group: { protocol: 'TLS' }, listener: { sslPolicy } });
    const c = await tlsClient(nlb.port);
    expect(await c.exchange('secret')).toBe('t:secret');
    expect(t.sessions).toHaveLength(1);
    expect(t.sessions[0]).toMatchObject({ protocol: backendProtocol, received: 'secret', alpn: false });
    expect(t.sessions[0]!.servername).toBeFalsy();
    expect(await metric(nlb.elb, 'TargetTLSNegotiationErrorCount')).toBe(0);
  });

  it('resets the client when the target does not speak TLS, and counts TargetTLSNegotiationErrorCount', async () => {
    const plain = await tcpTarget('plain');
    const nlb = await startTlsNlb({ targets: [plain], group: { protocol: 'TLS' } });
    const c = await tlsClient(nlb.port);
    c.socket.write('hello?');
    await waitFor(() => c.closed, { what: 'the client connection to be reset' });
    expect(c.error).toBe('ECONNRESET');
    expect(await metric(nlb.elb, 'TargetTLSNegotiationErrorCount')).toBe(1);
    expect(await metric(nlb.elb, 'ClientTLSNegotiationErrorCount')).toBe(0);
    await waitFor(() => nlb.records.length === 1, { what: 'the connection record' });
    expect(nlb.records[0]).toMatchObject({ failure: 'target_tls_error', tlsProtocol: 'TLSv1.2', target: { id: '127.0.0.1', port: plain.port } });
    // The target got the NLB's ClientHello, never the client's bytes.
    expect(plain.flows[0]!.received).not.toContain('hello?');
  });

  it('resets the client when the target takes the connection but no handshake comes within 10 s (virtual clock)', async () => {
    const clock = new VirtualClock();
    const silent = net.createServer(() => {});
    const held = new Set<Socket>();
    silent.on('connection', (s) => (held.add(s), s.on('error', () => {})));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
    defer(() => new Promise<void>((resolve) => (held.forEach((s) => s.destroy()), silent.close(() => resolve()))));
    const port = (silent.address() as AddressInfo).port;
    const nlb = await startTlsNlb({ targets: [{ port }], group: { protocol: 'TLS', healthCheckIntervalSeconds: 300, healthCheckTimeoutSeconds: 10 }, clock });
    const c = await tlsClient(nlb.port);
    c.socket.write('anyone?');
    await waitFor(() => held.size >= 2, { what: 'the NLB to connect to the target' }); // the health check and the flow
    await clock.advance(9_000);
    expect(c.closed).toBe(false);
    await clock.advance(1_000);
    await waitFor(() => c.closed, { what: 'the client to be reset' });
    expect(c.error).toBe('ECONNRESET');
    expect(await metric(nlb.elb, 'TargetTLSNegotiationErrorCount')).toBe(1);
  });
});

describe('ALPN policies (spec 12.6.3)', () => {
  const POLICIES = ['None', 'HTTP1Only', 'HTTP2Only', 'HTTP2Optional', 'HTTP2Preferred'] as const;
  const H2_H1 = ['h2', 'http/1.1'];
  const CASES: ReadonlyArray<readonly [(typeof POLICIES)[number], string[], string | false]> = [
    ['None', H2_H1, false],
    ['None', ['http/1.1'], false],
    ['None', ['h2'], false],
    ['HTTP1Only', H2_H1, 'http/1.1'],
    ['HTTP1Only', ['http/1.1'], 'http/1.1'],
    ['HTTP1Only', ['h2'], false],
    ['HTTP2Only', H2_H1, 'h2'],
    ['HTTP2Only', ['http/1.1'], false],
    ['HTTP2Only', ['h2'], 'h2'],
    ['HTTP2Optional', H2_H1, 'http/1.1'],
    ['HTTP2Optional', ['http/1.1'], 'http/1.1'],
    ['HTTP2Optional', ['h2'], 'h2'],
    ['HTTP2Preferred', H2_H1, 'h2'],
    ['HTTP2Preferred', ['http/1.1'], 'http/1.1'],
    ['HTTP2Preferred', ['h2'], 'h2'],
  ];

  it(`negotiates by the policy's order with Node clients, and without overlap the connection goes on without ALPN (${CASES.length} cases)`, async () => {
    const a = await tcpTarget('a');
    const nlb = await startTlsNlb({ targets: [a], listeners: POLICIES.map((alpnPolicy) => ({ alpnPolicy })) });
    for (const [policy, offer, expected] of CASES) {
      const c = await tlsClient(nlb.ports[POLICIES.indexOf(policy)]!, { ALPNProtocols: offer });
      expect(c.socket.alpnProtocol, `${policy} with ${offer.join(',')}`).toBe(expected);
      expect(await c.exchange(`${policy}:${offer.join(',')}`)).toBe(`a:${policy}:${offer.join(',')}`);
      c.socket.destroy();
    }
    await waitFor(() => nlb.records.length === CASES.length, { what: 'a record per connection' });
    expect(await metric(nlb.elb, 'ClientTLSNegotiationErrorCount')).toBe(0);
    // The access log has the client's list only where the listener has an ALPN policy (spec 8.2).
    const byOffer = nlb.records.filter((r) => r.alpnClientPreferenceList !== undefined);
    expect(byOffer).toHaveLength(CASES.filter(([p]) => p !== 'None').length);
    const line = nlbAccessLogLine(nlb.records.find((r) => r.alpnFrontEnd === 'h2' && r.alpnClientPreferenceList?.length === 2)!).split(' ');
    expect(line.slice(18, 21)).toEqual(['h2', '-', '"h2","http/1.1"']);
  });

  it.each([
    ['HTTP2Optional', 'h2,http/1.1', 'ALPN protocol: http/1.1'],
    ['HTTP2Preferred', 'http/1.1,h2', 'ALPN protocol: h2'],
    ['HTTP2Only', 'http/1.1', 'No ALPN negotiated'],
    ['HTTP1Only', 'h2', 'No ALPN negotiated'],
  ])('with openssl s_client: %s and -alpn %s → %s, and the bytes still reach the target', async (alpnPolicy, offer, negotiated) => {
    const a = await tcpTarget('a');
    const nlb = await startTlsNlb({ targets: [a], listener: { alpnPolicy } });
    const output = await sClientExchange(nlb.port, ['-alpn', offer, '-CAfile', ca.certPath, '-servername', 'localhost'], 'ping\n', 'a:ping', false);
    expect(output).toContain(negotiated);
    expect(a.flows[0]!.received).toBe('ping\n');
  });

  it('offers the protocol negotiated with the client to a TLS target (alpn_be_protocol), and none when the client got none', async () => {
    const t = await tlsTarget('t', { ALPNProtocols: ['h2', 'http/1.1'] });
    const nlb = await startTlsNlb({ targets: [t], group: { protocol: 'TLS' }, listeners: [{ alpnPolicy: 'HTTP2Preferred' }, { alpnPolicy: 'None' }] });
    for (const [port, offer] of [
      [nlb.ports[0]!, ['h2', 'http/1.1']],
      [nlb.ports[0]!, ['http/1.1']],
      [nlb.ports[1]!, ['h2', 'http/1.1']],
    ] as const) {
      const c = await tlsClient(port, { ALPNProtocols: [...offer] });
      await c.exchange('x');
      c.socket.destroy();
    }
    expect(t.sessions.map((s) => s.alpn)).toEqual(['h2', 'http/1.1', false]);
    await waitFor(() => nlb.records.length === 3, { what: 'three records' });
    const sorted = [...nlb.records].sort((x, y) => x.startedAtMs - y.startedAtMs);
    expect(sorted.map((r) => [r.alpnFrontEnd, r.alpnBackEnd])).toEqual([
      ['h2', 'h2'],
      ['http/1.1', 'http/1.1'],
      [undefined, undefined],
    ]);
  });
});

describe('client IP preservation and Proxy Protocol v2 on TLS listeners (spec 5.1, 5.2)', () => {
  it.each([
    ['TCP', 'true', '127.0.0.23'],
    ['TCP', 'false', '127.0.0.1'],
    ['TLS', 'true', '127.0.0.23'],
    ['TLS', 'false', '127.0.0.1'],
  ])('a %s target sees the client as its source when preserve_client_ip.enabled is %s: %s', async (protocol, preserve, seen) => {
    const target = protocol === 'TCP' ? await tcpTarget('a') : await tlsTarget('a');
    const nlb = await startTlsNlb({ targets: [target], group: { protocol: protocol as 'TCP' | 'TLS', attributes: { 'preserve_client_ip.enabled': preserve } } });
    const c = await tlsClient(nlb.port, { localAddress: '127.0.0.23' });
    expect(await c.exchange('hi')).toBe('a:hi');
    const remote = 'flows' in target ? target.flows[0]!.remoteAddress : target.sessions[0]!.remoteAddress;
    expect(remote).toBe(seen);
  });

  it('puts the PPv2 header before the TLS handshake with a TLS target: the client 127.0.0.23 and the listener, then TLS', async () => {
    const headers: V2ProxyProtocol[] = [];
    const sessions: { protocol: string | null; received: string }[] = [];
    const sockets = new Set<Socket>();
    // Reads the PPv2 header off the TCP stream, then speaks TLS on what follows.
    const server = net.createServer((raw) => {
      sockets.add(raw);
      raw.on('error', () => {});
      let buffered = Buffer.alloc(0);
      const onData = (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk]);
        if (buffered.length < 16) return;
        const total = 16 + buffered.readUInt16BE(14);
        if (buffered.length < total) return;
        raw.off('data', onData);
        raw.pause();
        headers.push(V2ProxyProtocol.parse(new Uint8Array(buffered.subarray(0, total))));
        if (buffered.length > total) raw.unshift(buffered.subarray(total));
        const secure = new tls.TLSSocket(raw, { isServer: true, ...targetKeys });
        secure.on('error', () => {});
        secure.once('secure', () => {
          const s = { protocol: secure.getProtocol(), received: '' };
          sessions.push(s);
          secure.setEncoding('utf8');
          secure.on('data', (d: string) => {
            s.received += d;
            secure.write(`t:${d}`);
          });
        });
      };
      raw.on('data', onData);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    defer(() => new Promise<void>((resolve) => (sockets.forEach((s) => s.destroy()), server.close(() => resolve()))));
    const port = (server.address() as AddressInfo).port;
    const nlb = await startTlsNlb({ targets: [{ port }], group: { protocol: 'TLS', attributes: { 'proxy_protocol_v2.enabled': 'true' } } });
    const c = await tlsClient(nlb.port, { localAddress: '127.0.0.23' });
    expect(await c.exchange('over ppv2')).toBe('t:over ppv2');
    const flow = headers.find((h) => h.command === Command.PROXY)!;
    const a = flow.proxyAddress as IPv4ProxyAddress;
    expect({ src: a.sourceAddress.address.join('.'), srcPort: a.sourcePort, dst: a.destinationAddress.address.join('.'), dstPort: a.destinationPort }).toEqual({
      src: '127.0.0.23',
      srcPort: c.socket.localPort,
      dst: '127.0.0.1',
      dstPort: nlb.port,
    });
    expect(sessions).toEqual([{ protocol: 'TLSv1.2', received: 'over ppv2' }]);
  });

  const hasNginx = requireNginx() !== undefined;
  it.skipIf(!hasNginx)('announces the client to nginx (proxy_protocol) behind a TCP target group, ahead of the plaintext HTTP request', async () => {
    const nginx = await startNginx(
      `location / { default_type text/plain; return 200 "$proxy_protocol_addr $proxy_protocol_port $proxy_protocol_server_addr $proxy_protocol_server_port $remote_addr\\n"; }`,
      {},
      { proxyProtocol: true },
    );
    defer(() => nginx.close());
    const nlb = await startTlsNlb({ targets: [{ port: nginx.port }], group: { attributes: { 'proxy_protocol_v2.enabled': 'true' } } });
    const c = await tlsClient(nlb.port, { localAddress: '127.0.0.23' });
    const clientPort = c.socket.localPort;
    c.socket.end('GET / HTTP/1.1\r\nHost: nlb\r\nConnection: close\r\n\r\n');
    await waitFor(() => c.closed, { what: 'nginx to answer and close' });
    expect(c.received).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(c.received.split('\r\n\r\n')[1]!.trim()).toBe(`127.0.0.23 ${clientPort} 127.0.0.1 ${nlb.port} 127.0.0.1`);
    expect(nginx.stderr).not.toMatch(/broken header/);
  });
});

describe('flows on TLS listeners: draining, no target, timeouts (spec 4.2, 3.5, 12.6.5)', () => {
  it('resets an open TLS flow when the deregistration delay ends with connection_termination on, as on TCP listeners', async () => {
    const a = await tcpTarget('a');
    const nlb = await startTlsNlb({
      targets: [a],
      group: { attributes: { 'deregistration_delay.timeout_seconds': '1', 'deregistration_delay.connection_termination.enabled': 'true' } },
    });
    const c = await tlsClient(nlb.port);
    expect(await c.exchange('before')).toBe('a:before');
    const [outcome] = await nlb.group.deregister([{ id: '127.0.0.1', port: a.port }]);
    expect(outcome).toMatchObject({ result: 'cut', cutRequests: 1 });
    await waitFor(() => c.closed && a.flows[0]!.closed, { what: 'both sides to be reset' });
    expect(c.error).toBe('ECONNRESET');
    expect(a.flows[0]!.error).toBe('ECONNRESET');
    expect(await metric(nlb.elb, 'TCP_ELB_Reset_Count')).toBe(2);
  });

  it('completes the handshake, then resets the client when the target group has no registered target (spec 2.7)', async () => {
    const nlb = await startTlsNlb({ targets: [] });
    // The reset follows the server's last handshake flight at once: the client may read it
    // first, or not, so it sees ECONNRESET either just after its handshake or inside it.
    const socket = tls.connect({ host: '127.0.0.1', port: nlb.port, ca: ca.certPem, servername: 'localhost' });
    defer(() => socket.destroy());
    const error = await new Promise<string | undefined>((resolve) => {
      let code: string | undefined;
      socket.on('error', (err: NodeJS.ErrnoException) => (code ??= err.code));
      socket.once('close', () => resolve(code));
    });
    expect(error).toBe('ECONNRESET');
    await waitFor(() => nlb.records.length === 1, { what: 'the record' });
    expect(nlb.records[0]).toMatchObject({ failure: 'no_target', tlsProtocol: 'TLSv1.2', target: undefined });
    expect(await metric(nlb.elb, 'TCP_ELB_Reset_Count')).toBe(1);
  });

  it('resets a client that never finishes its handshake after 350 s, and an idle flow after 350 s whatever tcp.idle_timeout.seconds would say (virtual clock)', async () => {
    const clock = new VirtualClock();
    const a = await tcpTarget('a');
    const nlb = await startTlsNlb({ targets: [a], clock, group: { healthCheckIntervalSeconds: 300, healthCheckTimeoutSeconds: 10 } });
    const silent = rawClient(nlb.port, Buffer.from([22, 3, 1])); // the start of a record, then nothing
    const idle = await tlsClient(nlb.port);
    await idle.exchange('once');
    const chatty = await tlsClient(nlb.port);
    await chatty.exchange('first');
    // The sweep runs every 35 s. The handshake is reset at 350 s from its start; the idle flow
    // was last seen moving by the sweep at 35 s, so it goes at 385 s.
    for (let s = 35; s < 350; s += 35) {
      await clock.advance(35_000);
      await chatty.exchange(`at ${s}s;`);
    }
    expect(await metric(nlb.elb, 'ClientTLSNegotiationErrorCount')).toBe(0);
    await clock.advance(35_000);
    const reset = await silent;
    expect(reset.error).toBe('ECONNRESET');
    expect(await metric(nlb.elb, 'ClientTLSNegotiationErrorCount')).toBe(1);
    await chatty.exchange('at 350s;');
    expect(idle.closed).toBe(false);
    await clock.advance(35_000);
    await waitFor(() => idle.closed, { what: 'the idle flow to be reset' });
    expect(idle.error).toBe('ECONNRESET');
    expect(await chatty.exchange('still here')).toBe('a:still here');
    expect(await metric(nlb.elb, 'ClientTLSNegotiationErrorCount')).toBe(1);
    // One reset for the handshake, two for the idle flow.
    expect(await metric(nlb.elb, 'TCP_ELB_Reset_Count')).toBe(3);
    await waitFor(() => nlb.records.some((r) => r.failure === 'handshake_timeout'), { what: 'the timed-out handshake record' });
  });
});

describe('handshakes that fail (spec 12.6.7)', () => {
  it('survives garbage, half hellos, early closes and resets without leaking sockets, counting each in ClientTLSNegotiationErrorCount', async () => {
    const a = await tcpTarget('a');
    const nlb = await startTlsNlb({ targets: [a] });
    // Warm up (certificate contexts, lazy modules), then take the baseline.
    const warm = await tlsClient(nlb.port);
    await warm.exchange('warm');
    warm.socket.destroy();
    await waitFor(async () => (await metric(nlb.elb, 'ActiveFlowCount', 'protocol="TLS"')) === 0, { what: 'the warm-up flow to end' });
    await waitFor(() => a.open === 0, { what: 'the warm-up target connection to close' });
    const baseline = openFileDescriptors();
    const hello = await new Promise<Buffer>((resolve) => {
      // A real ClientHello, captured from a Node client against a server that only records.
      const recorder = net.createServer((s) => s.once('data', (d: Buffer) => (resolve(d), s.destroy(), recorder.close())));
      recorder.listen(0, '127.0.0.1', () => {
        const probe = tls.connect({ host: '127.0.0.1', port: (recorder.address() as AddressInfo).port, servername: 'localhost' });
        probe.on('error', () => {});
      });
    });
    const rounds = 20;
    const kinds = [
      () => rawClient(nlb.port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n'),
      () => rawClient(nlb.port, Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 37) & 0xff))),
      () => rawClient(nlb.port, hello.subarray(0, 40), 'end'),
      () => rawClient(nlb.port, hello.subarray(0, 40), 'reset'),
      () => rawClient(nlb.port, hello, 'end'),
      () => rawClient(nlb.port, undefined, 'end'),
      () => rawClient(nlb.port, undefined, 'reset'),
    ];
    const results = await Promise.all(Array.from({ length: rounds }, () => kinds.map((k) => k())).flat());
    expect(results.every((r) => !r.received.toString('latin1').startsWith('HTTP/'))).toBe(true);
    await waitFor(async () => (await metric(nlb.elb, 'ClientTLSNegotiationErrorCount')) === rounds * kinds.length, { what: 'every failure counted' });
    await waitFor(async () => (await metric(nlb.elb, 'ActiveFlowCount', 'protocol="TLS"')) === 0, { what: 'no TLS flow left' });
    await waitFor(() => openFileDescriptors() <= baseline + 2, { what: `file descriptors back to the baseline ${baseline} (now ${openFileDescriptors()})` });
    expect(a.flows.length).toBe(1); // only the warm-up reached the target
    // And the listener still serves.
    const after = await tlsClient(nlb.port);
    expect(await after.exchange('after')).toBe('a:after');
    expect(nlb.records.filter((r) => r.failure === 'client_tls_error' || r.failure === 'client_closed')).toHaveLength(rounds * kinds.length);
  });

  it('logs the alert a client sends when it rejects the certificate (incoming_tls_alert), with the certificate SNI chose', async () => {
    const a = await tcpTarget('a');
    const nlb = await startTlsNlb({ targets: [a] });
    // s_client without the CA, told to fail on a verify error: it sends unknown_ca (48).
    const refused = await sClient(nlb.port, ['-verify_return_error', '-servername', 'localhost', '-tls1_2']);
    expect(refused.connected).toBe(false);
    await waitFor(() => nlb.records.length === 1, { what: 'the record' });
    expect(nlb.records[0]).toMatchObject({ failure: 'client_tls_error', incomingTlsAlert: 48, domainName: 'localhost' });
    expect(nlbAccessLogLine(nlb.records[0]!).split(' ')[11]).toBe('48');
    expect(await metric(nlb.elb, 'ClientTLSNegotiationErrorCount')).toBe(1);
  });
});

describe('NLB access log through the CLI (spec 8.2)', () => {
  it('serve --access-log writes one tls line per connection, when it ends, in the field order of AWS', async () => {
    const a = await tcpTarget('a');
    const dir = await mkdtemp(join(tmpdir(), 'local-elb-nlb-log-'));
    defer(() => rm(dir, { recursive: true, force: true }));
    const configFile = join(dir, 'config.json');
    const logFile = join(dir, 'access.log');
    await writeFile(
      configFile,
      JSON.stringify({
        targetGroups: [{ name: 'backend', protocol: 'TCP', targetType: 'ip', healthCheckIntervalSeconds: 5, healthCheckTimeoutSeconds: 2, targets: [{ id: '127.0.0.1', port: a.port }] }],
        loadBalancers: [{ name: 'edge', type: 'network', listeners: [{ port: 0, protocol: 'TLS', alpnPolicy: 'HTTP2Preferred', defaultActions: [{ type: 'forward', targetGroupName: 'backend' }] }] }],
      }),
    );
    const cli = startCli(['--state-dir', stateDir, 'serve', '-c', configFile, '--no-admin', '--access-log', logFile, '--log-level', 'warn']);
    defer(async () => void (await cli.stop('SIGKILL')));
    const [, port] = await cli.waitForStdout(/load balancer edge listening on tls:\/\/127\.0\.0\.1:(\d+)/);
    await waitFor(async () => {
      const c = await tlsClient(Number(port), { ALPNProtocols: ['h2', 'http/1.1'] }).catch(() => undefined);
      if (c === undefined) return false;
      const ok = (await c.exchange('logged').catch(() => '')) === 'a:logged';
      c.socket.end();
      return ok;
    }, { what: 'one exchange through the CLI' });
    await rawClient(Number(port), 'not tls');
    const lines = await waitFor(async () => {
      const text = await readFile(logFile, 'utf8').catch(() => '');
      const got = text.split('\n').filter(Boolean);
      return got.length >= 2 ? got : undefined;
    }, { what: 'two access-log lines' });
    const ok = lines.find((l) => l.includes(' h2 '))!.split(' ');
    expect(ok.slice(0, 2)).toEqual(['tls', '2.0']);
    expect(ok[3]).toBe('net/edge/local');
    expect(ok[6]).toBe(`127.0.0.1:${port}`);
    expect(ok[9]).toBe('6'); // received_bytes: "logged"
    expect(ok[10]).toBe('8'); // sent_bytes: "a:logged"
    expect(ok.slice(14, 21)).toEqual([ok[14], 'tlsv12', '-', 'localhost', 'h2', '-', '"h2","http/1.1"']);
    expect(ok[14]).toMatch(/^ECDHE-ECDSA-AES128-GCM-SHA256$/);
    expect(ok[21]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
    const failed = lines.find((l) => !l.includes(' h2 '))!.split(' ');
    expect(failed).toHaveLength(22);
    expect(failed.slice(8, 21)).toEqual(['-', '0', '0', '-', '-', '-', '-', '-', '-', '-', '-', '-', '-']);
    expect(await cli.stop('SIGTERM')).toBe(0);
  });
});
