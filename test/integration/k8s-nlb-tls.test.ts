/**
 * NLB TLS listeners from Service annotations end to end (spec 12.7.2, 12.6), against the in-repo
 * fake API server with the real @kubernetes/client-node: `aws-load-balancer-ssl-cert` (mapped to
 * files by a kind config) with `aws-load-balancer-ssl-ports` makes the named port a TLS listener
 * in front of a plaintext pod, checked with `openssl s_client -verify_return_error` and Node's
 * tls client, each trusting only the test CA, while the other port stays plain TCP; and
 * `aws-load-balancer-alpn-policy` decides the ALPN protocol the clients get. The pods are real
 * TCP servers that record what they receive. Every CA lives in a temporary directory.
 */
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { loadKindConfig } from '../../src/cli/kind-config.ts';
import { openLocalCa } from '../../src/tls/ca.ts';
import { startFakeKubeApiServer, type FakeKubeApiServer } from '../support/fake-kube-apiserver.ts';
import { lbService, node } from '../support/k8s-fixtures.ts';
import { hasOpenssl } from '../support/s-client.ts';
import { startTcpTarget, type TcpTarget } from '../support/tcp.ts';
import { waitFor } from '../support/wait.ts';
import { testController } from '../support/k8s-world.ts';

const SVC = 'service.beta.kubernetes.io/';
const ARN = 'arn:aws:acm:eu-west-1:111122223333:certificate/shop';
const openssl = hasOpenssl();

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

/** A CA of its own, a certificate for shop.example.com from it, and a kind config mapping ARN to the files. */
async function certificateFiles() {
  const dir = await mkdtemp(join(tmpdir(), 'local-elb-k8s-nlb-tls-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const ca = await openLocalCa(join(dir, 'issuer-state'));
  const leaf = await ca.issue(['shop.example.com']);
  await writeFile(join(dir, 'shop.pem'), leaf.certPem);
  await writeFile(join(dir, 'shop-key.pem'), leaf.keyPem);
  const kindConfig = join(dir, 'kind.yaml');
  await writeFile(kindConfig, `certificates:\n  - certificateArn: ${ARN}\n    certificateFile: shop.pem\n    privateKeyFile: shop-key.pem\n`);
  return { stateDir: join(dir, 'controller-state'), caPath: ca.certPath, caPem: ca.certPem, kindConfig, fingerprint: new X509Certificate(leaf.certPem).fingerprint256 };
}

/**
 * The controller with the kind config's certificates, one node at 127.0.0.1, and a LoadBalancer
 * Service `shop` whose ports `tls` (8443) and `plain` (9000) reach two TCP pods by NodePort.
 */
async function world(annotations: Record<string, string>) {
  const files = await certificateFiles();
  const { certificates } = await loadKindConfig(files.kindConfig);
  const api = await startFakeKubeApiServer({ bookmarkIntervalMs: 200 });
  cleanups.push(() => api.close());
  const controller = testController(api, {
    stateDir: files.stateDir,
    certificates,
  });
  cleanups.push(() => controller.stop());
  const pod = async (name: string) => {
    const t = await startTcpTarget(name);
    cleanups.push(() => t.close());
    return t;
  };
  const tlsPod = await pod('tls-pod');
  const plainPod = await pod('plain-pod');
  api.create(node('worker', '127.0.0.1'), { keepStatus: true });
  api.create(
    lbService('shop', {
      annotations: { [`${SVC}aws-load-balancer-ssl-cert`]: ARN, ...annotations },
      ports: [
        { name: 'tls', port: 8443, targetPort: 8443, nodePort: tlsPod.port },
        { name: 'plain', port: 9000, targetPort: 9000, nodePort: plainPod.port },
      ],
    }),
  );
  await controller.start();
  const ip = await serviceIp(api);
  // Both targets pass their TCP checks before the clients come.
  for (const group of controller.stacks().get('service/default/shop')!.elb.targetGroups()) {
    await waitFor(() => group.describeTargetHealth()[0]?.targetHealth.state === 'healthy', { what: `${group.name} healthy` });
  }
  return { api, controller, files, ip, tlsPod, plainPod };
}

const serviceIp = (api: FakeKubeApiServer) =>
  waitFor(() => (api.get('v1', 'Service', 'default', 'shop') as { status?: { loadBalancer?: { ingress?: Array<{ ip?: string }> } } }).status?.loadBalancer?.ingress?.[0]?.ip, {
    what: 'EXTERNAL-IP of Service shop',
  });

/** A TLS session trusting only `ca`, SNI shop.example.com, offering `alpn`; writes `message` and waits for `until`. */
function tlsExchange(ip: string, port: number, ca: string, message: string, until: string, alpn?: string[]) {
  return new Promise<{ authorized: boolean; fingerprint: string; alpn: string | false; received: string }>((resolve, reject) => {
    const socket = tls.connect({ host: ip, port, servername: 'shop.example.com', ca, ...(alpn ? { ALPNProtocols: alpn } : {}) }, () => socket.write(message));
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      received += chunk;
      if (!received.includes(until)) return;
      resolve({ authorized: socket.authorized, fingerprint: socket.getPeerCertificate().fingerprint256, alpn: socket.alpnProtocol ?? false, received });
      socket.end();
    });
    socket.on('error', reject);
  });
}

/** `openssl s_client` (not -brief: OpenSSL 3.0's brief summary has no ALPN line) that sends `message`, waits for `until`, then stops. */
async function sClient(ip: string, port: number, args: readonly string[], message: string, until: string): Promise<string> {
  const child = spawn('openssl', ['s_client', '-connect', `${ip}:${port}`, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  cleanups.push(async () => void child.kill('SIGKILL'));
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

function plainExchange(ip: string, port: number, message: string, until: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: ip, port }, () => socket.write(message));
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      received += chunk;
      if (received.includes(until)) {
        resolve(received);
        socket.end();
      }
    });
    socket.on('error', reject);
  });
}

/** What the pod received on its flows (health checks carry no data). */
const receivedBy = (pod: TcpTarget) => pod.flows.map((f) => f.received).join('');

describe('Service TLS annotations → NLB TLS listeners through the controller and the fake API server', () => {
  it.skipIf(!openssl)('serves ssl-ports over TLS with the ssl-cert from the kind config (openssl s_client) in front of a plaintext pod; the other port stays TCP', async () => {
    const { controller, files, ip, tlsPod, plainPod } = await world({ [`${SVC}aws-load-balancer-ssl-ports`]: 'tls' });
    const listeners = controller.stacks().get('service/default/shop')!.stack.config.loadBalancers![0]!.listeners;
    expect(listeners.map((l) => [l.port, l.protocol, l.sslPolicy])).toEqual([
      [8443, 'TLS', 'ELBSecurityPolicy-2016-08'],
      [9000, 'TCP', undefined],
    ]);

    const output = await sClient(ip, 8443, ['-servername', 'shop.example.com', '-CAfile', files.caPath, '-verify_return_error'], 'hello over TLS\n', 'tls-pod:hello over TLS');
    expect(output).toMatch(/Verify return code: 0 \(ok\)/);
    expect(output).toContain('subject=CN = shop.example.com');
    // The pod got the bytes in the clear: the NLB terminated TLS.
    expect(receivedBy(tlsPod)).toBe('hello over TLS\n');

    const node = await tlsExchange(ip, 8443, files.caPem, 'from node\n', 'tls-pod:from node');
    expect(node).toMatchObject({ authorized: true, fingerprint: files.fingerprint, alpn: false });
    expect(receivedBy(tlsPod)).toBe('hello over TLS\nfrom node\n');

    // The port ssl-ports does not name is plain TCP: a TLS client's bytes reach its pod as they are.
    expect(await plainExchange(ip, 9000, 'plain bytes', 'plain-pod:plain bytes')).toBe('plain-pod:plain bytes');
    expect(receivedBy(plainPod)).toBe('plain bytes');
  });

  it('serves every TCP port over TLS when ssl-ports is not given, checked with Node’s tls client trusting only the test CA', async () => {
    const { files, ip, tlsPod, plainPod } = await world({});
    expect(await tlsExchange(ip, 8443, files.caPem, 'a\n', 'tls-pod:a')).toMatchObject({ authorized: true, fingerprint: files.fingerprint });
    expect(await tlsExchange(ip, 9000, files.caPem, 'b\n', 'plain-pod:b')).toMatchObject({ authorized: true, fingerprint: files.fingerprint });
    expect([receivedBy(tlsPod), receivedBy(plainPod)]).toEqual(['a\n', 'b\n']);
  });

  it('negotiates ALPN by aws-load-balancer-alpn-policy (HTTP2Preferred: the policy’s order wins), no overlap going on without ALPN', async () => {
    const { ip, files, tlsPod } = await world({ [`${SVC}aws-load-balancer-ssl-ports`]: 'tls', [`${SVC}aws-load-balancer-alpn-policy`]: 'HTTP2Preferred' });
    expect((await tlsExchange(ip, 8443, files.caPem, '1\n', 'tls-pod:1', ['http/1.1', 'h2'])).alpn).toBe('h2');
    expect((await tlsExchange(ip, 8443, files.caPem, '2\n', 'tls-pod:2', ['http/1.1'])).alpn).toBe('http/1.1');
    expect((await tlsExchange(ip, 8443, files.caPem, '3\n', 'tls-pod:3', ['spdy/3'])).alpn).toBe(false);
    if (openssl) {
      const output = await sClient(ip, 8443, ['-servername', 'shop.example.com', '-CAfile', files.caPath, '-verify_return_error', '-alpn', 'http/1.1,h2'], '4\n', 'tls-pod:4');
      expect(output).toContain('ALPN protocol: h2');
    }
    // Whatever was negotiated, the pod got plaintext.
    expect(receivedBy(tlsPod)).toBe(openssl ? '1\n2\n3\n4\n' : '1\n2\n3\n');
  });

  it('issues the certificate from the local CA for an ssl-cert the kind config does not map (the load balancer address and localhost), and says so', async () => {
    const unmapped = 'arn:aws:acm:eu-west-1:111122223333:certificate/elsewhere';
    const { api, ip, files, tlsPod } = await world({ [`${SVC}aws-load-balancer-ssl-cert`]: unmapped, [`${SVC}aws-load-balancer-ssl-ports`]: 'tls' });
    const caPem = await readFile(join(files.stateDir, 'ca', 'ca.pem'), 'utf8');
    const session = await new Promise<{ authorized: boolean; names: string }>((resolve, reject) => {
      // No SNI (an address is not a server name): the address is checked against the certificate.
      const socket = tls.connect({ host: ip, port: 8443, ca: caPem }, () => {
        resolve({ authorized: socket.authorized, names: socket.getPeerCertificate().subjectaltname ?? '' });
        socket.end('y\n');
      });
      socket.on('error', reject);
    });
    expect(session.authorized).toBe(true);
    expect(session.names).toContain(`IP Address:${ip}`);
    expect(session.names).toContain('DNS:localhost');
    await waitFor(() => receivedBy(tlsPod) === 'y\n', { what: 'the bytes at the pod' });
    const notice = await waitFor(
      () => (api.list('v1', 'Event', 'default') as Array<{ reason: string; message: string; type: string; involvedObject: { name: string } }>).find((e) => e.reason === 'LocalCertificate' && e.involvedObject.name === 'shop'),
      { what: 'the LocalCertificate Event' },
    );
    expect(notice.type).toBe('Normal');
    expect(notice.message).toBe(`certificate ${unmapped} (TLS:8443) is not mapped to files in \`local-elb kind --config\`: local-elb's CA issues one for localhost, *.localtest.me, ${ip} instead`);
  });

  it('negotiates no ALPN without alpn-policy (AWS default None), whatever the client offers', async () => {
    const { ip, files } = await world({ [`${SVC}aws-load-balancer-ssl-ports`]: 'tls' });
    expect((await tlsExchange(ip, 8443, files.caPem, 'x\n', 'tls-pod:x', ['h2', 'http/1.1'])).alpn).toBe(false);
  });
});
