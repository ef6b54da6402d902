/**
 * HTTPS listeners and HTTPS target groups on real sockets, checked by independent clients:
 * curl (--cacert with the local CA), openssl s_client, and Node's tls/https. Certificates come
 * from a local CA in a temporary state directory (never the user's ~/.local-elb).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import net from 'node:net';
import { join } from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { request } from 'undici';
import { beforeAll, afterAll, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../src/config/schema.ts';
import { accessLogLine } from '../../src/l7/access-log.ts';
import type { RequestRecord } from '../../src/l7/request-record.ts';
import { startLocalElb, type LocalElb } from '../../src/local-elb.ts';
import { openLocalCa, type LocalCertificateAuthority } from '../../src/tls/ca.ts';
import { deferCleanups, waitHealthy } from '../support/alb.ts';
import { startTarget, type TestTarget } from '../support/targets.ts';
import { waitFor } from '../support/wait.ts';

const run = promisify(execFile);
const defer = deferCleanups();

let stateDir: string;
let ca: LocalCertificateAuthority;
beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'local-elb-https-'));
  ca = await openLocalCa(stateDir);
});
afterAll(() => rm(stateDir, { recursive: true, force: true }));

const ARN_A = 'arn:aws:acm:us-east-1:000000000000:certificate/a';
const ARN_B = 'arn:aws:acm:us-east-1:000000000000:certificate/b';

/** A certificate for `names` from the test CA, written to files, as a `certificates:` entry. */
async function certificateFiles(arn: string, names: string[]) {
  const issued = await ca.issue(names);
  const base = join(stateDir, arn.split('/').pop()!);
  await writeFile(`${base}.pem`, issued.certPem);
  await writeFile(`${base}-key.pem`, issued.keyPem);
  return { certificateArn: arn, certificateFile: `${base}.pem`, privateKeyFile: `${base}-key.pem` };
}

async function target(name: string, options: Parameters<typeof startTarget>[1] = {}): Promise<TestTarget> {
  const t = await startTarget(name, options);
  defer(() => t.close());
  return t;
}

async function elbWith(config: ConfigInput): Promise<LocalElb> {
  const elb = await startLocalElb({ config, stateDir });
  defer(() => elb.close());
  return elb;
}

function forwardTo(port: number, extra: Record<string, unknown> = {}) {
  return {
    name: 'web',
    protocol: 'HTTP' as const,
    healthCheckPath: '/healthz',
    healthCheckIntervalSeconds: 5,
    healthCheckTimeoutSeconds: 2,
    healthyThresholdCount: 2,
    targets: [{ id: '127.0.0.1', port }],
    ...extra,
  };
}

/** curl with the test CA; returns status, headers and body (exit code when curl fails). */
async function curl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('curl', ['-sS', '--max-time', '10', '--cacert', ca.certPath, ...args], { encoding: 'utf8' });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** `openssl s_client` with `-brief`; returns what it printed and whether the handshake completed. */
async function sClient(port: number, args: string[]): Promise<{ connected: boolean; protocol?: string; cipher?: string; output: string }> {
  let output: string;
  try {
    const r = await run('sh', ['-c', `openssl s_client -connect 127.0.0.1:${port} -brief ${args.join(' ')} < /dev/null 2>&1`], { encoding: 'utf8', timeout: 10_000 });
    output = r.stdout;
  } catch (err) {
    output = (err as { stdout?: string }).stdout ?? String(err);
  }
  return {
    connected: /CONNECTION ESTABLISHED/.test(output),
    ...(/Protocol version: (\S+)/.exec(output)?.[1] ? { protocol: /Protocol version: (\S+)/.exec(output)![1] } : {}),
    ...(/Ciphersuite: (\S+)/.exec(output)?.[1] ? { cipher: /Ciphersuite: (\S+)/.exec(output)![1] } : {}),
    output,
  };
}

/** The certificate a TLS client is served for `servername` (undefined: no SNI). */
function servedCertificate(port: number, servername: string | undefined): Promise<{ subjectaltname: string; fingerprint256: string }> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername: servername ?? '', rejectUnauthorized: false }, () => {
      const cert = socket.getPeerCertificate();
      socket.end();
      resolve({ subjectaltname: cert.subjectaltname ?? '', fingerprint256: cert.fingerprint256 });
    });
    socket.on('error', reject);
  });
}

async function metric(elb: LocalElb, name: string): Promise<number> {
  const text = await elb.metrics.registry.metrics();
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) sum += Number(line.split(' ').pop());
  return sum;
}

describe('HTTPS listeners', () => {
  it('serve a certificate the local CA issued for localhost, *.localtest.me and the address, which curl --cacert verifies; the target sees X-Forwarded-Proto https', async () => {
    const a = await target('a');
    const elb = await elbWith({
      targetGroups: [forwardTo(a.port)],
      loadBalancers: [{ name: 'alb', listeners: [{ port: 0, protocol: 'HTTPS', defaultActions: [{ type: 'forward', targetGroupName: 'web' }] }] }],
    });
    const port = Number(new URL(elb.url('alb')).port);
    expect(elb.url('alb')).toBe(`https://127.0.0.1:${port}`);
    for (const url of [`https://localhost:${port}/x`, `https://127.0.0.1:${port}/x`]) {
      expect(await curl([url])).toMatchObject({ code: 0, stdout: 'a' });
    }
    expect(await curl(['--resolve', `shop.localtest.me:${port}:127.0.0.1`, `https://shop.localtest.me:${port}/y?q=1`])).toMatchObject({ code: 0, stdout: 'a' });
    // Without the CA curl refuses the certificate: it is the local CA's, not a public one.
    const untrusted = await run('curl', ['-sS', '--max-time', '10', `https://localhost:${port}/`]).then(
      () => 0,
      (err: { code?: number }) => err.code,
    );
    expect(untrusted).toBe(60);
    const seen = a.seen.find((s) => s.url === '/y?q=1')!;
    expect(seen.headers['x-forwarded-proto']).toBe('https');
    expect(seen.headers['x-forwarded-port']).toBe(String(port));
    expect(seen.headers.host).toBe(`shop.localtest.me:${port}`);
  });

  it('choose the certificate by SNI (the default without SNI or when nothing matches), and log https with the TLS fields', async () => {
    const a = await target('a');
    const files = [await certificateFiles(ARN_A, ['a.example.test']), await certificateFiles(ARN_B, ['b.example.test', '*.b.example.test'])];
    const elb = await elbWith({
      certificates: files,
      targetGroups: [forwardTo(a.port)],
      loadBalancers: [
        {
          name: 'alb',
          listeners: [
            {
              port: 0,
              protocol: 'HTTPS',
              sslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06',
              certificates: [{ certificateArn: ARN_A }, { certificateArn: ARN_B }],
              defaultActions: [{ type: 'forward', targetGroupName: 'web' }],
            },
          ],
        },
      ],
    });
    const records: RequestRecord[] = [];
    elb.applicationLoadBalancer('alb').onRequest((r) => records.push(r));
    const port = Number(new URL(elb.url('alb')).port);
    const a1 = await servedCertificate(port, 'a.example.test');
    const b1 = await servedCertificate(port, 'b.example.test');
    expect(a1.subjectaltname).toBe('DNS:a.example.test');
    expect(b1.subjectaltname).toContain('DNS:b.example.test');
    expect((await servedCertificate(port, 'x.b.example.test')).fingerprint256).toBe(b1.fingerprint256);
    expect((await servedCertificate(port, undefined)).fingerprint256).toBe(a1.fingerprint256);
    expect((await servedCertificate(port, 'nothing.example.test')).fingerprint256).toBe(a1.fingerprint256);
    // curl verifies each name against the certificate it was given (over HTTP/1.1: an h2 request logs h2).
    for (const host of ['a.example.test', 'b.example.test']) {
      expect(await curl(['--http1.1', '--resolve', `${host}:${port}:127.0.0.1`, `https://${host}:${port}/${host}`])).toMatchObject({ code: 0, stdout: 'a' });
    }
    await waitFor(() => records.length >= 2, { what: 'two request records' });
    const line = accessLogLine(records.find((r) => r.url.endsWith('/b.example.test'))!);
    const fields = line.match(/"[^"]*"|\S+/g)!;
    expect(fields[0]).toBe('https');
    expect(fields[14]).toBe('TLS_AES_128_GCM_SHA256'); // ssl_cipher: curl and the policy agree on TLS 1.3
    expect(fields[15]).toBe('TLSv1.3'); // ssl_protocol
    expect(fields[18]).toBe('"b.example.test"'); // domain_name
    expect(fields[19]).toBe(`"${ARN_B}"`); // chosen_cert_arn
    expect(fields[12]).toBe(`"GET https://b.example.test:${port}/b.example.test HTTP/1.1"`);
  });

  it('enforce the security policy: TLS 1.1 is refused under a TLS 1.2+ policy and accepted under ELBSecurityPolicy-2016-08; a refused handshake counts in ClientTLSNegotiationErrorCount', async () => {
    const a = await target('a');
    const elb = await elbWith({
      targetGroups: [forwardTo(a.port)],
      loadBalancers: [
        {
          name: 'alb',
          listeners: [
            { port: 0, protocol: 'HTTPS', sslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06', defaultActions: [{ type: 'forward', targetGroupName: 'web' }] },
            { port: 0, protocol: 'HTTPS', defaultActions: [{ type: 'forward', targetGroupName: 'web' }] },
          ],
        },
      ],
    });
    const [strict, legacy] = elb.applicationLoadBalancer('alb').ports;
    const tls11 = ['-tls1_1', '-cipher', 'DEFAULT@SECLEVEL=0'];
    expect(await sClient(strict!, tls11)).toMatchObject({ connected: false });
    expect(await sClient(legacy!, tls11)).toMatchObject({ connected: true, protocol: 'TLSv1.1' });
    // The 2016-08 default has no TLS 1.3; the TLS13 policy negotiates it.
    expect(await sClient(legacy!, [])).toMatchObject({ connected: true, protocol: 'TLSv1.2' });
    expect(await sClient(strict!, [])).toMatchObject({ connected: true, protocol: 'TLSv1.3' });
    // curl, asked for TLS 1.1 only, gets no connection from the strict listener.
    expect((await curl(['--tlsv1.1', '--tls-max', '1.1', '--ciphers', 'DEFAULT@SECLEVEL=0', `https://localhost:${strict}/`])).code).not.toBe(0);
    expect(await metric(elb, 'ClientTLSNegotiationErrorCount')).toBeGreaterThanOrEqual(2);
    // A client speaking plain HTTP to the TLS port is one more; it gets no HTTP answer, and the
    // listener carries on.
    const before = await metric(elb, 'ClientTLSNegotiationErrorCount');
    const answer = await new Promise<string>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port: strict! }, () => socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('error', () => {});
      socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    });
    expect(answer).not.toMatch(/^HTTP\//);
    await waitFor(async () => (await metric(elb, 'ClientTLSNegotiationErrorCount')) === before + 1, { what: 'one more TLS negotiation error' });
    expect(await curl([`https://localhost:${strict}/after`])).toMatchObject({ code: 0, stdout: 'a' });
  });

  it('X-Amzn-Tls-Version and X-Amzn-Tls-Cipher-Suite reach the target with routing.http.x_amzn_tls_version_and_cipher_suite.enabled, and a client cannot forge them', async () => {
    const a = await target('a');
    const elb = await elbWith({
      targetGroups: [forwardTo(a.port)],
      loadBalancers: [
        {
          name: 'alb',
          attributes: { 'routing.http.x_amzn_tls_version_and_cipher_suite.enabled': 'true' },
          listeners: [
            { port: 0, protocol: 'HTTPS', sslPolicy: 'ELBSecurityPolicy-TLS-1-2-2017-01', defaultActions: [{ type: 'forward', targetGroupName: 'web' }] },
            { port: 0, protocol: 'HTTP', defaultActions: [{ type: 'forward', targetGroupName: 'web' }] },
          ],
        },
      ],
    });
    const [https, http] = elb.applicationLoadBalancer('alb').ports;
    expect(await curl(['-H', 'X-Amzn-Tls-Version: forged', `https://localhost:${https}/tls`])).toMatchObject({ code: 0 });
    expect(await curl(['-H', 'X-Amzn-Tls-Version: forged', `http://127.0.0.1:${http}/plain`])).toMatchObject({ code: 0 });
    const viaTls = a.seen.find((s) => s.url === '/tls')!;
    expect(viaTls.headers['x-amzn-tls-version']).toBe('TLSv1.2');
    expect(viaTls.headers['x-amzn-tls-cipher-suite']).toBe('ECDHE-ECDSA-AES128-GCM-SHA256');
    expect(a.seen.find((s) => s.url === '/plain')!.headers['x-amzn-tls-version']).toBeUndefined();
  });

  it('redirect HTTP to HTTPS with the redirect action (301), and curl -L ends on the target over TLS', async () => {
    const a = await target('a');
    const elb = await elbWith({
      targetGroups: [forwardTo(a.port)],
      loadBalancers: [{ name: 'alb', listeners: [{ port: 0, protocol: 'HTTPS', defaultActions: [{ type: 'forward', targetGroupName: 'web' }] }] }],
    });
    const httpsPort = elb.applicationLoadBalancer('alb').ports[0]!;
    const redirector = await elbWith({
      loadBalancers: [
        {
          name: 'front',
          listeners: [{ port: 0, defaultActions: [{ type: 'redirect', redirectConfig: { protocol: 'HTTPS', port: String(httpsPort), statusCode: 'HTTP_301' } }] }],
        },
      ],
    });
    const httpPort = redirector.applicationLoadBalancer('front').ports[0]!;
    const first = await request(`http://localhost:${httpPort}/shop/cart?item=1`);
    await first.body.dump();
    expect(first.statusCode).toBe(301);
    expect(first.headers.location).toBe(`https://localhost:${httpsPort}/shop/cart?item=1`);
    const followed = await curl(['-L', '-w', '\\n%{url_effective} %{http_code}', `http://localhost:${httpPort}/shop/cart?item=1`]);
    expect(followed).toMatchObject({ code: 0, stdout: `a\nhttps://localhost:${httpsPort}/shop/cart?item=1 200` });
    expect(a.seen.at(-1)!.headers['x-forwarded-proto']).toBe('https');
  });

  it('refuse a config with an unknown policy, naming the valid ones', async () => {
    await expect(
      startLocalElb({
        stateDir,
        config: { loadBalancers: [{ name: 'alb', listeners: [{ port: 0, protocol: 'HTTPS', sslPolicy: 'ELBSecurityPolicy-Nope', defaultActions: [{ type: 'fixed-response', fixedResponseConfig: { statusCode: '200' } }] }] }] },
      }),
    ).rejects.toThrow(/loadBalancers\[0\]\.listeners\[0\]\.sslPolicy: .*got "ELBSecurityPolicy-Nope".*ELBSecurityPolicy-2016-08.*\(SSLPolicyNotFound\)/s);
  });
});

describe('HTTPS target groups', () => {
  /** A self-signed certificate (not from the CA: the ALB checks nothing on targets). */
  async function selfSigned(): Promise<{ cert: string; key: string }> {
    const dir = await mkdtemp(join(tmpdir(), 'local-elb-target-'));
    defer(() => rm(dir, { recursive: true, force: true }));
    await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-days', '1', '-subj', '/CN=expired.invalid']);
    const { readFile } = await import('node:fs/promises');
    return { cert: await readFile(join(dir, 'c.pem'), 'utf8'), key: await readFile(join(dir, 'k.pem'), 'utf8') };
  }

  it('send TLS to the target without checking its certificate and without SNI, and health-check it over HTTPS', async () => {
    const { cert, key } = await selfSigned();
    const a = await target('a', { https: { cert, key } });
    const elb = await elbWith({
      targetGroups: [forwardTo(a.port, { protocol: 'HTTPS' })],
      loadBalancers: [{ name: 'alb', listeners: [{ port: 0, defaultActions: [{ type: 'forward', targetGroupName: 'web' }] }] }],
    });
    const group = elb.targetGroup('web');
    expect(group.config.healthCheckProtocol).toBe('HTTPS');
    await waitHealthy(group, 1);
    expect(a.healthChecks).toBeGreaterThan(0);
    const res = await request(`${elb.url('alb')}/secure`);
    expect({ status: res.statusCode, body: await res.body.text() }).toEqual({ status: 200, body: 'a' });
    // Behind an HTTP listener the back-end policy is ELBSecurityPolicy-2016-08: TLS 1.2 at most.
    expect(a.seen.at(-1)!.tls).toEqual({ protocol: 'TLSv1.2', servername: false });
  });

  it('answer 502 for a plaintext target behind an HTTPS target group and count TargetTLSNegotiationErrorCount', async () => {
    const plain = await target('plain');
    const elb = await elbWith({
      targetGroups: [forwardTo(plain.port, { protocol: 'HTTPS' })],
      loadBalancers: [{ name: 'alb', listeners: [{ port: 0, defaultActions: [{ type: 'forward', targetGroupName: 'web' }] }] }],
    });
    const group = elb.targetGroup('web');
    await waitFor(() => group.describeTargetHealth()[0]?.targetHealth.state === 'unhealthy', { what: 'the plaintext target unhealthy', timeoutMs: 15_000 });
    const res = await request(`${elb.url('alb')}/`);
    await res.body.dump();
    expect(res.statusCode).toBe(502);
    expect(await metric(elb, 'TargetTLSNegotiationErrorCount')).toBe(1);
    expect(plain.seen).toEqual([]);
  });

  it('fail HTTPS health checks of a target that speaks only TLS 1.3 (2016-08 checks, spec 2.4), while a TLS 1.3 listener policy still reaches it', async () => {
    const { cert, key } = await selfSigned();
    const a = await target('a', { https: { cert, key, minVersion: 'TLSv1.3' } });
    const elb = await elbWith({
      targetGroups: [forwardTo(a.port, { protocol: 'HTTPS' })],
      loadBalancers: [
        {
          name: 'alb',
          listeners: [{ port: 0, protocol: 'HTTPS', sslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06', defaultActions: [{ type: 'forward', targetGroupName: 'web' }] }],
        },
      ],
    });
    const group = elb.targetGroup('web');
    await waitFor(() => group.describeTargetHealth()[0]?.targetHealth.state === 'unhealthy', { what: 'the TLS 1.3-only target unhealthy', timeoutMs: 15_000 });
    // All unhealthy: the ALB fails open, and its TLS 1.3 back-end policy (TLS13-1-0-2021-06) connects.
    const port = Number(new URL(elb.url('alb')).port);
    expect(await curl([`https://localhost:${port}/tls13`])).toMatchObject({ code: 0, stdout: 'a' });
    expect(a.seen.at(-1)!.tls).toEqual({ protocol: 'TLSv1.3', servername: false });
  });
});
