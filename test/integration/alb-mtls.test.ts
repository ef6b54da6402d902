/**
 * ALB mutual TLS on real sockets (spec 12.1.7, 12.1.8, 12.1.10, 12.1.11): passthrough and
 * verify listeners, checked by independent clients (curl --cert/--key, openssl s_client,
 * Node's https, node:http2, ws) against a target that echoes the X-Amzn-Mtls-* headers it
 * got. Client certificates are made in the test with @peculiar/x509; the listener's own
 * certificate comes from a local CA in a temporary state directory.
 */
import { execFile } from 'node:child_process';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import WebSocket, { WebSocketServer } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../src/config/schema.ts';
import { accessLogLine } from '../../src/l7/access-log.ts';
import { connectionLogLine, type ConnectionRecord } from '../../src/l7/connection-log.ts';
import type { RequestRecord } from '../../src/l7/request-record.ts';
import { startLocalElb, type LocalElb } from '../../src/local-elb.ts';
import { openLocalCa, type LocalCertificateAuthority } from '../../src/tls/ca.ts';
import { urlEncodePem } from '../../src/tls/client-certificate.ts';
import { deferCleanups, waitHealthy } from '../support/alb.ts';
import { metricSum } from '../support/metrics.ts';
import { chainPem, issue, issueV1, makeCa, makeCrl, type TestCert } from '../support/mtls-certs.ts';
import { startGrpcTarget } from '../support/grpc.ts';
import { waitFor } from '../support/wait.ts';

const run = promisify(execFile);
const defer = deferCleanups();
const DAY = 24 * 60 * 60 * 1000;

let stateDir: string;
let serverCa: LocalCertificateAuthority;
let serverCaPem: Buffer;
let clientCa: TestCert;
let otherCa: TestCert;
const certs: Record<'good' | 'expired' | 'stranger' | 'revoked' | 'v1' | 'deep' | 'i1' | 'i2' | 'i3', TestCert> = {} as never;
const files: Record<string, string> = {};

async function writeCert(name: string, c: TestCert, chain: readonly TestCert[] = [c]): Promise<void> {
  files[`${name}.pem`] = join(stateDir, `${name}.pem`);
  files[`${name}-key.pem`] = join(stateDir, `${name}-key.pem`);
  await writeFile(files[`${name}.pem`]!, chainPem(...chain));
  await writeFile(files[`${name}-key.pem`]!, c.keyPem);
}

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'local-elb-mtls-'));
  serverCa = await openLocalCa(stateDir);
  serverCaPem = await readFile(serverCa.certPath);
  clientCa = await makeCa('C=US, ST=Washington, L=Seattle, O=mTLS, OU=rootCA, CN=rootcamtls.com');
  otherCa = await makeCa('CN=Somebody Else');
  certs.good = await issue(clientCa, 'C=US, ST=Washington, O=mTLS, OU=client-3, CN=client_.com', { serialNumber: '03a5b1' });
  certs.expired = await issue(clientCa, 'CN=expired', { notBefore: new Date(Date.now() - 30 * DAY), notAfter: new Date(Date.now() - DAY) });
  certs.stranger = await issue(otherCa, 'CN=stranger');
  certs.revoked = await issue(clientCa, 'CN=revoked', { serialNumber: '7e57ed' });
  certs.v1 = await issueV1(clientCa, 'CN=version-one');
  certs.i1 = await issue(clientCa, 'CN=i1', { ca: true });
  certs.i2 = await issue(certs.i1, 'CN=i2', { ca: true });
  certs.i3 = await issue(certs.i2, 'CN=i3', { ca: true });
  certs.deep = await issue(certs.i3, 'CN=five-deep');
  for (const name of ['good', 'expired', 'stranger', 'revoked', 'v1'] as const) await writeCert(name, certs[name]);
  await writeCert('deep', certs.deep, [certs.deep, certs.i3, certs.i2, certs.i1]);
  files.bundle = join(stateDir, 'bundle.pem');
  await writeFile(files.bundle, `# the test's client CA\n${clientCa.pem}`);
  files.crl = join(stateDir, 'revoked.crl.pem');
  await writeFile(files.crl, await makeCrl(clientCa, ['7e57ed']));
});
afterAll(() => rm(stateDir, { recursive: true, force: true }));

/** A target that answers every request with the JSON of the headers it got; WebSocket upgrades get them as their first message. */
async function echoTarget(): Promise<{ port: number }> {
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(req.headers));
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => ws.send(JSON.stringify(req.headers))));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  defer(async () => {
    for (const c of wss.clients) c.terminate();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });
  return { port: (server.address() as AddressInfo).port };
}

type Mtls = NonNullable<NonNullable<ConfigInput['loadBalancers']>[number]['listeners'][number]['mutualAuthentication']>;

interface World {
  readonly elb: LocalElb;
  readonly url: string;
  readonly port: number;
  readonly connections: ConnectionRecord[];
  readonly requests: RequestRecord[];
}

async function alb(mutualAuthentication: Mtls, extra: { listenerAttributes?: Record<string, string>; emulator?: Record<string, unknown> } = {}): Promise<World> {
  const target = await echoTarget();
  const config: ConfigInput = {
    trustStores: [{ name: 'clients', caCertificatesBundleFile: files.bundle!, revocationFiles: [files.crl!] }],
    targetGroups: [{ name: 'echo', protocol: 'HTTP', healthCheckPath: '/healthz', healthCheckIntervalSeconds: 5, healthyThresholdCount: 2, targets: [{ id: '127.0.0.1', port: target.port }] }],
    loadBalancers: [
      {
        name: 'mtls',
        attributes: { 'connection_logs.s3.enabled': 'true', 'connection_logs.s3.bucket': 'local-logs' },
        ...(extra.emulator !== undefined ? { emulator: extra.emulator } : {}),
        listeners: [
          {
            port: 0,
            protocol: 'HTTPS',
            mutualAuthentication,
            ...(extra.listenerAttributes !== undefined ? { attributes: extra.listenerAttributes } : {}),
            defaultActions: [{ type: 'forward', targetGroupName: 'echo' }],
          },
        ],
      },
    ],
  };
  const elb = await startLocalElb({ config, stateDir });
  defer(() => elb.close());
  const lb = elb.applicationLoadBalancer('mtls');
  const connections: ConnectionRecord[] = [];
  const requests: RequestRecord[] = [];
  lb.onConnection((r) => connections.push(r));
  lb.onRequest((r) => requests.push(r));
  await waitHealthy(elb.targetGroup('echo'), 1);
  const url = elb.url('mtls').replace('127.0.0.1', 'localhost');
  return { elb, url, port: lb.ports[0]!, connections, requests };
}

/** curl with the local CA and optional client certificate `name`; status and body, or curl's exit code. */
async function curl(url: string, name: string | undefined, args: string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
  const cert = name === undefined ? [] : ['--cert', files[`${name}.pem`]!, '--key', files[`${name}-key.pem`]!];
  try {
    const { stdout, stderr } = await run('curl', ['-sS', '--max-time', '10', '--cacert', serverCa.certPath, ...cert, ...args, url], { encoding: 'utf8' });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** GET over node:https with client certificate `name`: the headers the target echoed, or the error. */
function httpsGet(url: string, name: string | undefined): Promise<{ headers: Record<string, string> } | { error: string }> {
  return new Promise((resolve) => {
    const req = https.get(
      url,
      {
        ca: serverCaPem,
        agent: false,
        ...(name !== undefined ? { cert: certsPem(name), key: certs[name as keyof typeof certs].keyPem } : {}),
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ headers: JSON.parse(body) as Record<string, string> }));
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
  });
}

function certsPem(name: string): string {
  return name === 'deep' ? chainPem(certs.deep, certs.i3, certs.i2, certs.i1) : certs[name as keyof typeof certs].pem;
}

const mtlsHeaders = (h: Record<string, string>) => Object.fromEntries(Object.entries(h).filter(([k]) => k.startsWith('x-amzn-mtls')));

describe('mutual TLS passthrough', () => {
  it('sends the presented chain URL-encoded in X-Amzn-Mtls-Clientcert (curl --cert), strips a client copy of every X-Amzn-Mtls-* header, and forwards a certificate-less client without it', async () => {
    const w = await alb({ mode: 'passthrough' });
    const r = await curl(w.url, 'good', ['-H', 'X-Amzn-Mtls-Clientcert-Subject: CN=forged', '-H', 'X-Amzn-Mtls-Clientcert: forged']);
    expect(r.code).toBe(0);
    const headers = JSON.parse(r.stdout) as Record<string, string>;
    expect(mtlsHeaders(headers)).toEqual({ 'x-amzn-mtls-clientcert': urlEncodePem(certs.good.pem) });
    expect(headers['x-amzn-mtls-clientcert']).toMatch(/^-----BEGIN%20CERTIFICATE-----%0A[A-Za-z0-9+/]+/);
    // A chain of several: leaf first.
    const deep = await httpsGet(w.url, 'deep');
    expect('headers' in deep && decodeURIComponent(deep.headers['x-amzn-mtls-clientcert']!)).toBe(chainPem(certs.deep, certs.i3, certs.i2, certs.i1));
    // Passthrough accepts any certificate, even one no trust store knows.
    const stranger = await curl(w.url, 'stranger');
    expect(mtlsHeaders(JSON.parse(stranger.stdout) as Record<string, string>)).toEqual({ 'x-amzn-mtls-clientcert': urlEncodePem(certs.stranger.pem) });
    const none = await curl(w.url, undefined, ['-H', 'X-Amzn-Mtls-Clientcert: forged']);
    expect(none.code).toBe(0);
    expect(mtlsHeaders(JSON.parse(none.stdout) as Record<string, string>)).toEqual({});
  });

  it("keeps '=' with emulator.mtlsPemEncoding keep-equals, and refuses a certificate-less client with mtlsPassthroughWithoutCertificate reject", async () => {
    const w = await alb({ mode: 'passthrough' }, { emulator: { mtlsPemEncoding: 'keep-equals', mtlsPassthroughWithoutCertificate: 'reject' } });
    const r = await curl(w.url, 'good');
    expect(mtlsHeaders(JSON.parse(r.stdout) as Record<string, string>)).toEqual({ 'x-amzn-mtls-clientcert': urlEncodePem(certs.good.pem, 'keep-equals') });
    const none = await curl(w.url, undefined);
    expect(none.code).not.toBe(0);
    expect(none.stdout).toBe('');
    await waitFor(() => w.connections.find((c) => c.tlsVerifyStatus === 'Failed:UnmappedConnectionError'), { what: 'the refused connection logged' });
  });
});

describe('mutual TLS verify', () => {
  it('sends the five verify headers for a certificate the trust store signed (node https): upper-case hex serial, RFC 2253 issuer and subject, validity, the leaf', async () => {
    const w = await alb({ mode: 'verify', trustStore: 'clients' });
    const r = await httpsGet(w.url, 'good');
    if (!('headers' in r)) throw new Error(`request failed: ${r.error}`);
    const leaf = certs.good.cert;
    const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
    expect(mtlsHeaders(r.headers)).toEqual({
      'x-amzn-mtls-clientcert-serial-number': '03A5B1',
      'x-amzn-mtls-clientcert-issuer': 'CN=rootcamtls.com,OU=rootCA,O=mTLS,L=Seattle,ST=Washington,C=US',
      'x-amzn-mtls-clientcert-subject': 'CN=client_.com,OU=client-3,O=mTLS,ST=Washington,C=US',
      'x-amzn-mtls-clientcert-validity': `NotBefore=${iso(leaf.notBefore)};NotAfter=${iso(leaf.notAfter)}`,
      'x-amzn-mtls-clientcert-leaf': urlEncodePem(certs.good.pem),
    });
  });

  it.each([
    ['an expired certificate', 'expired', 'ClientCertExpired'],
    ['a certificate of another CA', 'stranger', 'ClientCertUntrusted'],
    ['a revoked certificate (CRL)', 'revoked', 'ClientCertCrlHit'],
    ['an X.509v1 certificate', 'v1', 'ClientCertTypeUnsupported'],
    ['a chain 5 deep', 'deep', 'ClientCertMaxChainDepthExceeded'],
    ['no certificate', undefined, 'UnmappedConnectionError'],
  ])('closes the connection on %s before any HTTP response (curl fails), counts ClientTLSNegotiationErrorCount and logs Failed:%s', async (_what, name, code) => {
    const w = await alb({ mode: 'verify', trustStore: 'clients' });
    const before = await metricSum(w.elb, 'ClientTLSNegotiationErrorCount');
    const r = await curl(w.url, name);
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
    const viaNode = await httpsGet(w.url, name);
    expect('error' in viaNode).toBe(true);
    expect(await metricSum(w.elb, 'ClientTLSNegotiationErrorCount')).toBe(before + 2);
    await waitFor(() => w.connections.length >= 2 || undefined, { what: 'two connection records' });
    expect(w.connections.map((c) => c.tlsVerifyStatus)).toEqual([`Failed:${code}`, `Failed:${code}`]);
    const fields = connectionLogLine(w.connections[0]!).match(/"[^"]*"|\S+/g)!;
    expect(fields).toHaveLength(15);
    expect(fields[4]).toMatch(/^TLSv1\.[23]$/);
    expect(fields[6]).toBe('-');
    if (name !== undefined) expect(fields[7]).toMatch(/^"CN=/);
    // No request, so no access-log line.
    expect(w.requests).toEqual([]);
  });

  it('accepts an expired leaf with ignoreClientCertificateExpiry', async () => {
    const w = await alb({ mode: 'verify', trustStore: 'clients', ignoreClientCertificateExpiry: true });
    const r = await curl(w.url, 'expired');
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as Record<string, string>)['x-amzn-mtls-clientcert-subject']).toBe('CN=expired');
  });

  it("lists the trust store's CA names in the CertificateRequest only with advertiseTrustStoreCaNames on (openssl s_client)", async () => {
    const sClient = async (port: number) => {
      const out = await run('sh', ['-c', `openssl s_client -connect 127.0.0.1:${port} -cert ${files['good.pem']} -key ${files['good-key.pem']} < /dev/null 2>&1`], { encoding: 'utf8', timeout: 10_000 }).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }));
      return out.stdout;
    };
    const on = await alb({ mode: 'verify', trustStore: 'clients', advertiseTrustStoreCaNames: 'on' });
    const off = await alb({ mode: 'verify', trustStore: 'clients' });
    const withNames = await sClient(on.port);
    expect(withNames).toMatch(/Acceptable client certificate CA names\n.*CN = rootcamtls\.com/);
    expect(await sClient(off.port)).toMatch(/No client certificate CA names sent/);
  });

  it('renames the headers by the routing.http.request.x_amzn_mtls_*.header_name listener attributes, and drops a client copy of a new name', async () => {
    const w = await alb(
      { mode: 'verify', trustStore: 'clients' },
      { listenerAttributes: { 'routing.http.request.x_amzn_mtls_clientcert_subject.header_name': 'X-Client-Subject', 'routing.http.request.x_amzn_mtls_clientcert_leaf.header_name': 'X-Client-Leaf' } },
    );
    const r = await curl(w.url, 'good', ['-H', 'X-Client-Subject: CN=forged']);
    const headers = JSON.parse(r.stdout) as Record<string, string>;
    expect(headers['x-client-subject']).toBe('CN=client_.com,OU=client-3,O=mTLS,ST=Washington,C=US');
    expect(headers['x-client-leaf']).toBe(urlEncodePem(certs.good.pem));
    expect(headers['x-amzn-mtls-clientcert-subject']).toBeUndefined();
    expect(headers['x-amzn-mtls-clientcert-serial-number']).toBe('03A5B1');
  });

  it('sends the headers on HTTP/2 streams (node:http2) and on a WebSocket upgrade (ws)', async () => {
    const w = await alb({ mode: 'verify', trustStore: 'clients' });
    const client = http2.connect(w.url, { ca: serverCaPem, cert: certs.good.pem, key: certs.good.keyPem });
    defer(() => client.close());
    const body = await new Promise<string>((resolve, reject) => {
      const stream = client.request({ ':path': '/h2' });
      let data = '';
      stream.setEncoding('utf8');
      stream.on('data', (c: string) => (data += c));
      stream.on('end', () => resolve(data));
      stream.on('error', reject);
    });
    expect((JSON.parse(body) as Record<string, string>)['x-amzn-mtls-clientcert-serial-number']).toBe('03A5B1');
    const ws = new WebSocket(w.url.replace('https:', 'wss:'), { ca: serverCaPem, cert: certs.good.pem, key: certs.good.keyPem });
    defer(() => ws.terminate());
    const first = await new Promise<string>((resolve, reject) => {
      ws.once('message', (m) => resolve(String(m)));
      ws.once('error', reject);
    });
    expect((JSON.parse(first) as Record<string, string>)['x-amzn-mtls-clientcert-subject']).toBe('CN=client_.com,OU=client-3,O=mTLS,ST=Washington,C=US');
  });
});

describe('session resumption', () => {
  /** Two GETs through one https.Agent (which keeps the session it is given), each on a new connection: was the second resumed? */
  async function twoGets(w: World, name: string | undefined) {
    const agent = new https.Agent({ keepAlive: false, maxCachedSessions: 10 });
    defer(() => agent.destroy());
    const get = () =>
      new Promise<{ reused: boolean; headers: Record<string, string> }>((resolve, reject) => {
        const req = https.get(w.url, { ca: serverCaPem, agent, ...(name !== undefined ? { cert: certsPem(name), key: certs[name as keyof typeof certs].keyPem } : {}) }, (res) => {
          const reused = (res.socket as TLSSocket).isSessionReused();
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () => resolve({ reused, headers: JSON.parse(body) as Record<string, string> }));
        });
        req.on('error', reject);
      });
    const first = await get();
    return { first, second: await get() };
  }

  it('is off while mutual TLS is on, so every connection presents its certificate and gets the headers; on without mutual TLS', async () => {
    const plain = await twoGets(await alb({ mode: 'off' }), undefined);
    expect([plain.first.reused, plain.second.reused]).toEqual([false, true]);
    const verify = await twoGets(await alb({ mode: 'verify', trustStore: 'clients' }), 'good');
    expect([verify.first.reused, verify.second.reused]).toEqual([false, false]);
    expect(verify.second.headers['x-amzn-mtls-clientcert-serial-number']).toBe('03A5B1');
    const passthrough = await twoGets(await alb({ mode: 'passthrough' }), 'good');
    expect(passthrough.second.reused).toBe(false);
    expect(passthrough.second.headers['x-amzn-mtls-clientcert']).toBe(urlEncodePem(certs.good.pem));
  });
});

describe('mutual TLS and gRPC', () => {
  it('sends the verify headers as gRPC metadata to a GRPC target group (grpc-js client with a client certificate)', async () => {
    const g = await startGrpcTarget({ methods: { '/mtls.Check/Who': { code: grpc.status.OK } } });
    defer(() => g.close());
    const config: ConfigInput = {
      trustStores: [{ name: 'clients', caCertificatesBundleFile: files.bundle! }],
      targetGroups: [{ name: 'grpc', protocol: 'HTTP', protocolVersion: 'GRPC', healthCheckIntervalSeconds: 5, healthyThresholdCount: 2, targets: [{ id: '127.0.0.1', port: g.port }] }],
      loadBalancers: [
        {
          name: 'mtls',
          listeners: [{ port: 0, protocol: 'HTTPS', mutualAuthentication: { mode: 'verify', trustStore: 'clients' }, defaultActions: [{ type: 'forward', targetGroupName: 'grpc' }] }],
        },
      ],
    };
    const elb = await startLocalElb({ config, stateDir });
    defer(() => elb.close());
    await waitHealthy(elb.targetGroup('grpc'), 1);
    const target = `localhost:${elb.applicationLoadBalancer('mtls').ports[0]}`;
    const client = new grpc.Client(target, grpc.credentials.createSsl(serverCaPem, Buffer.from(certs.good.keyPem), Buffer.from(certs.good.pem)));
    defer(() => client.close());
    await new Promise<void>((resolve, reject) =>
      client.makeUnaryRequest('/mtls.Check/Who', (b: Buffer) => b, (b: Buffer) => b, Buffer.alloc(0), (err) => (err ? reject(err) : resolve())),
    );
    const metadata = g.calls.at(-1)!.metadata;
    expect(metadata['x-amzn-mtls-clientcert-serial-number']).toBe('03A5B1');
    expect(metadata['x-amzn-mtls-clientcert-subject']).toBe('CN=client_.com,OU=client-3,O=mTLS,ST=Washington,C=US');
  });
});

describe('trust store files', () => {
  it('refuse to start a verify listener whose bundle breaks a rule: InvalidCaCertificatesBundle naming the file and the rule', async () => {
    const bad = join(stateDir, 'bad-bundle.pem');
    await writeFile(bad, `${clientCa.pem}\n${otherCa.pem}`);
    const config: ConfigInput = {
      trustStores: [{ name: 'bad', caCertificatesBundleFile: bad }],
      targetGroups: [{ name: 'echo', protocol: 'HTTP', targets: [] }],
      loadBalancers: [{ name: 'mtls', listeners: [{ port: 0, protocol: 'HTTPS', mutualAuthentication: { mode: 'verify', trustStore: 'bad' }, defaultActions: [{ type: 'forward', targetGroupName: 'echo' }] }] }],
    };
    await expect(startLocalElb({ config, stateDir })).rejects.toThrow(new RegExp(`InvalidCaCertificatesBundle: trust store bad: ${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: line \\d+ is blank; a bundle holds no blank lines`));
  });
});

describe('connection log', () => {
  it('logs a plain handshake failure (no shared protocol version) as Failed:UnmappedConnectionError, and counts it', async () => {
    const w = await alb({ mode: 'off' });
    // ELBSecurityPolicy-2016-08 stops at TLS 1.2.
    const r = await curl(w.url, undefined, ['--tlsv1.3']);
    expect(r.code).not.toBe(0);
    await waitFor(() => w.connections[0], { what: 'the failed connection logged' });
    expect(w.connections[0]).toMatchObject({ tlsVerifyStatus: 'Failed:UnmappedConnectionError' });
    expect(w.connections[0]!.tlsHandshakeLatencyMs).toBeUndefined();
    expect(await metricSum(w.elb, 'ClientTLSNegotiationErrorCount')).toBe(1);
  });

  it('writes nothing while connection_logs.s3.enabled is false, and - for the TLS fields of an HTTP listener', async () => {
    const target = await echoTarget();
    const config = (enabled: string): ConfigInput => ({
      targetGroups: [{ name: 'echo', protocol: 'HTTP', targets: [{ id: '127.0.0.1', port: target.port }] }],
      loadBalancers: [{ name: 'plain', attributes: { 'connection_logs.s3.enabled': enabled, 'connection_logs.s3.bucket': 'b' }, listeners: [{ port: 0, defaultActions: [{ type: 'forward', targetGroupName: 'echo' }] }] }],
    });
    for (const enabled of ['false', 'true']) {
      const elb = await startLocalElb({ config: config(enabled), stateDir });
      defer(() => elb.close());
      const records: ConnectionRecord[] = [];
      const requests: RequestRecord[] = [];
      elb.applicationLoadBalancer('plain').onConnection((r) => records.push(r));
      elb.applicationLoadBalancer('plain').onRequest((r) => requests.push(r));
      await waitHealthy(elb.targetGroup('echo'), 1);
      const res = await fetch(elb.url('plain'));
      await res.text();
      await waitFor(() => requests[0], { what: 'the request record' });
      if (enabled === 'false') {
        expect(records).toEqual([]);
        continue;
      }
      expect(records).toHaveLength(1);
      const fields = connectionLogLine(records[0]!).split(' ');
      expect(fields.slice(4, 11)).toEqual(['-', '-', '-', '-', '-', '-', '-']);
      expect(fields[11]).toBe(records[0]!.connTraceId);
      expect(accessLogLine(requests[0]!).match(/"[^"]*"|\S+/g)![29]).toBe(records[0]!.connTraceId);
    }
  });

  it('writes one Success line per connection with the leaf fields and handshake latency, whose conn_trace_id every access-log line of that connection repeats', async () => {
    const w = await alb({ mode: 'verify', trustStore: 'clients' });
    // Two requests on one keep-alive connection, then one on another.
    const r = await curl(w.url, 'good', ['--next', '--cacert', serverCa.certPath, '--cert', files['good.pem']!, '--key', files['good-key.pem']!, w.url]);
    expect(r.code).toBe(0);
    await curl(w.url, 'good');
    await waitFor(() => (w.requests.length >= 3 && w.connections.length >= 2) || undefined, { what: 'three requests on two connections' });
    expect(w.connections).toHaveLength(2);
    const [first, second] = w.connections;
    expect(first).toMatchObject({ tlsVerifyStatus: 'Success', leaf: { subject: 'CN=client_.com,OU=client-3,O=mTLS,ST=Washington,C=US', serialNumber: '03A5B1' }, listenerPort: w.port });
    expect(first!.tlsHandshakeLatencyMs).toBeGreaterThanOrEqual(0);
    const traceIds = w.requests.map((req) => accessLogLine(req).match(/"[^"]*"|\S+/g)![29]);
    expect(traceIds).toEqual([first!.connTraceId, first!.connTraceId, second!.connTraceId]);
    expect(first!.connTraceId).not.toBe(second!.connTraceId);
    const fields = connectionLogLine(first!).match(/"[^"]*"|\S+/g)!;
    expect(fields[6]).toMatch(/^\d+\.\d{3}$/);
    expect(fields[10]).toBe('Success');
    expect(fields[11]).toMatch(/^TID_[0-9a-f]{32}$/);
  });
});
