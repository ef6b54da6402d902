/**
 * The controller's TLS annotations end to end (spec 12.7), against the in-repo fake API server
 * with the real @kubernetes/client-node: an Ingress with an ssl-redirect and a certificate-arn
 * mapped to files by a kind config answers 301 on HTTP and serves HTTPS with that certificate
 * (curl and Node's https client, each trusting only the test CA); an Ingress without
 * certificate-arn gets one from the local CA covering its hosts; `local-elb kind --config`
 * without the right to bind 443 moves the port and the redirect with it. Every CA lives in a
 * temporary state directory, never ~/.local-elb.
 */
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { loadKindConfig } from '../../src/cli/kind-config.ts';
import { openLocalCa } from '../../src/tls/ca.ts';
import { startCli } from '../support/cli.ts';
import { startFakeKubeApiServer, type FakeKubeApiServer } from '../support/fake-kube-apiserver.ts';
import { albClass, ingress, lbService, node } from '../support/k8s-fixtures.ts';
import { requirePeer } from '../support/peers.ts';
import { startTarget } from '../support/targets.ts';
import { waitFor } from '../support/wait.ts';
import { testAddressPrefix, testController } from '../support/k8s-world.ts';

const ING = 'alb.ingress.kubernetes.io/';
const ARN = 'arn:aws:acm:eu-west-1:111122223333:certificate/shop';
// Without curl (outside CI) the curl checks are left out (the run's setup says so once); under CI=true it fails.
const hasCurl = requirePeer('curl') !== undefined;

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A CA in its own state directory, a certificate for `names` from it, and a kind config mapping ARN to the files. */
async function certificateFiles(names: string[]) {
  const dir = await tempDir('local-elb-k8s-tls-');
  const ca = await openLocalCa(join(dir, 'issuer-state'));
  const leaf = await ca.issue(names);
  await writeFile(join(dir, 'shop.pem'), leaf.certPem);
  await writeFile(join(dir, 'shop-key.pem'), leaf.keyPem);
  const kindConfig = join(dir, 'kind.yaml');
  await writeFile(kindConfig, `certificates:\n  - certificateArn: ${ARN}\n    certificateFile: shop.pem\n    privateKeyFile: shop-key.pem\n`);
  return { dir, caPath: ca.certPath, caPem: ca.certPem, leaf, kindConfig, fingerprint: new X509Certificate(leaf.certPem).fingerprint256 };
}

async function world(options: { certificates?: Awaited<ReturnType<typeof loadKindConfig>>['certificates']; stateDir: string }) {
  const api = await startFakeKubeApiServer({ bookmarkIntervalMs: 200 });
  cleanups.push(() => api.close());
  const controller = testController(api, {
    stateDir: options.stateDir,
    ...(options.certificates ? { certificates: options.certificates } : {}),
  });
  cleanups.push(() => controller.stop());
  const web = await startTarget('web');
  cleanups.push(() => web.close());
  api.create(node('worker', '127.0.0.1'), { keepStatus: true });
  api.create(albClass);
  api.create(lbService('web', { type: 'NodePort', loadBalancerClass: null, ports: [{ name: 'http', port: 80, nodePort: web.port }] }));
  return { api, controller };
}

const ingressIp = (api: FakeKubeApiServer, name: string) =>
  waitFor(() => (api.get('networking.k8s.io/v1', 'Ingress', 'default', name) as { status?: { loadBalancer?: { ingress?: Array<{ ip?: string }> } } }).status?.loadBalancer?.ingress?.[0]?.ip, {
    what: `the address of Ingress ${name}`,
  });

const events = (api: FakeKubeApiServer) => api.list('v1', 'Event', 'default') as Array<{ reason: string; message: string; type: string; involvedObject: { name: string } }>;

/** GET over TLS trusting only `ca`, sending SNI `servername`; the body and the certificate served. */
function httpsGet(ip: string, port: number, servername: string, ca: string, path = '/'): Promise<{ status: number; body: string; fingerprint: string; authorized: boolean }> {
  return new Promise((resolve, reject) => {
    const req = https.get({ host: ip, port, path, servername, ca, headers: { host: `${servername}:${port}` }, agent: false }, (res) => {
      const socket = res.socket as tls.TLSSocket;
      const fingerprint = socket.getPeerCertificate().fingerprint256;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, fingerprint, authorized: socket.authorized }));
    });
    req.on('error', reject);
  });
}

function curl(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env };
  for (const name of ['CURL_CA_BUNDLE', 'SSL_CERT_FILE', 'SSL_CERT_DIR']) delete env[name];
  return new Promise((resolve) =>
    execFile('curl', args, { env, timeout: 20_000 }, (err, stdout, stderr) => resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr })),
  );
}

describe('TLS annotations through the controller and the fake API server', () => {
  it('answers 301 to HTTPS on the HTTP port (ssl-redirect) and serves the certificate-arn from the kind config on HTTPS', async () => {
    const files = await certificateFiles(['shop.example.com']);
    const stateDir = await tempDir('local-elb-k8s-tls-state-');
    const { certificates } = await loadKindConfig(files.kindConfig);
    const { api, controller } = await world({ certificates, stateDir });
    api.create(
      ingress('shop', [{ host: 'shop.example.com', paths: [{ path: '/', pathType: 'Prefix', service: 'web', port: 80 }] }], {
        annotations: {
          [`${ING}listen-ports`]: '[{"HTTP": 8080}, {"HTTPS": 8443}]',
          [`${ING}ssl-redirect`]: '8443',
          [`${ING}certificate-arn`]: ARN,
        },
      }),
    );
    await controller.start();
    const ip = await ingressIp(api, 'shop');

    const redirect = await request(`http://${ip}:8080/cart?item=1`, { headers: { host: 'shop.example.com:8080' } });
    await redirect.body.dump();
    expect(redirect.statusCode).toBe(301);
    expect(redirect.headers.location).toBe('https://shop.example.com:8443/cart?item=1');

    const served = await waitFor(async () => {
      const r = await httpsGet(ip, 8443, 'shop.example.com', files.caPem, '/cart');
      return r.body === 'web' ? r : undefined;
    }, { what: 'the app over HTTPS once its target is healthy' });
    expect(served).toMatchObject({ status: 200, authorized: true, fingerprint: files.fingerprint });

    if (hasCurl) {
      const out = await curl(['-sS', '--cacert', files.caPath, '--resolve', `shop.example.com:8443:${ip}`, 'https://shop.example.com:8443/']);
      expect(out).toMatchObject({ code: 0, stdout: 'web' });
      // curl follows the redirect to the same app, trusting only the test CA.
      const followed = await curl(['-sS', '-L', '--cacert', files.caPath, '--resolve', `shop.example.com:8080:${ip}`, '--resolve', `shop.example.com:8443:${ip}`, 'http://shop.example.com:8080/']);
      expect(followed).toMatchObject({ code: 0, stdout: 'web' });
    }

    const listener = controller.stacks().get('ingress/default/shop')!.stack.config.loadBalancers![0]!.listeners[1]!;
    expect(listener).toMatchObject({ port: 8443, protocol: 'HTTPS', sslPolicy: 'ELBSecurityPolicy-2016-08' });
    // The certificate came from the files: the controller never opened a CA of its own.
    expect(existsSync(join(stateDir, 'ca'))).toBe(false);
    expect(events(api).filter((e) => e.reason === 'LocalCertificate')).toEqual([]);
  });

  it('issues a certificate from the local CA for an HTTPS Ingress without certificate-arn, covering rules[].host and tls[].hosts', async () => {
    const stateDir = await tempDir('local-elb-k8s-tls-state-');
    const { api, controller } = await world({ stateDir });
    api.create(
      ingress('app', [{ host: 'app.example.com', paths: [{ path: '/', pathType: 'Prefix', service: 'web', port: 80 }] }], {
        annotations: { [`${ING}listen-ports`]: '[{"HTTPS": 8443}]' },
        tls: [{ hosts: ['app.example.com', 'alt.example.com'] }],
      }),
    );
    await controller.start();
    const ip = await ingressIp(api, 'app');
    const caPem = await waitFor(async () => (existsSync(join(stateDir, 'ca', 'ca.pem')) ? readFile(join(stateDir, 'ca', 'ca.pem'), 'utf8') : undefined), { what: 'the local CA in the state directory' });

    const app = await waitFor(async () => {
      const got = await httpsGet(ip, 8443, 'app.example.com', caPem);
      return got.body === 'web' ? got : undefined;
    }, { what: 'HTTPS for app.example.com' });
    expect(app.authorized).toBe(true);
    // A host that only spec.tls names is covered too (no rule names it: the default 404).
    expect(await httpsGet(ip, 8443, 'alt.example.com', caPem)).toMatchObject({ status: 404, authorized: true });
    const served = await new Promise<tls.PeerCertificate>((resolve, reject) => {
      const socket = tls.connect({ host: ip, port: 8443, servername: 'alt.example.com', ca: caPem }, () => {
        resolve(socket.getPeerCertificate());
        socket.end();
      });
      socket.on('error', reject);
    });
    expect(served.subjectaltname).toContain('DNS:alt.example.com');
    expect(served.subjectaltname).toContain('DNS:app.example.com');
    expect(served.subjectaltname).toContain(`IP Address:${ip}`);

    const notice = await waitFor(() => events(api).find((e) => e.reason === 'LocalCertificate' && e.involvedObject.name === 'app'), { what: 'the LocalCertificate Event' });
    expect(notice.type).toBe('Normal');
    expect(notice.message).toContain("local-elb's CA issues one for app.example.com, alt.example.com");
  });

  it('issues a certificate from the local CA for a certificate-arn the kind config does not map, and says so', async () => {
    const files = await certificateFiles(['shop.example.com']);
    const stateDir = await tempDir('local-elb-k8s-tls-state-');
    const { api, controller } = await world({ certificates: (await loadKindConfig(files.kindConfig)).certificates, stateDir });
    const unmapped = 'arn:aws:acm:eu-west-1:111122223333:certificate/elsewhere';
    api.create(ingress('other', [{ host: 'other.example.com', paths: [{ path: '/', pathType: 'Prefix', service: 'web', port: 80 }] }], { annotations: { [`${ING}listen-ports`]: '[{"HTTPS": 9443}]', [`${ING}certificate-arn`]: unmapped } }));
    await controller.start();
    const ip = await ingressIp(api, 'other');
    const caPem = await waitFor(async () => (existsSync(join(stateDir, 'ca', 'ca.pem')) ? readFile(join(stateDir, 'ca', 'ca.pem'), 'utf8') : undefined), { what: 'the local CA in the state directory' });
    const served = await waitFor(async () => {
      const got = await httpsGet(ip, 9443, 'other.example.com', caPem);
      return got.body === 'web' ? got : undefined;
    }, { what: 'HTTPS for other.example.com' });
    expect(served.authorized).toBe(true);
    const notice = await waitFor(() => events(api).find((e) => e.reason === 'LocalCertificate' && e.involvedObject.name === 'other'), { what: 'the LocalCertificate Event' });
    expect(notice.message).toContain(`certificate ${unmapped} (HTTPS:9443) is not mapped to files in \`local-elb kind --config\``);
  });

  // NLB TLS listeners from Service annotations (ssl-cert, ssl-ports, alpn-policy): k8s-nlb-tls.test.ts.

  const root = process.getuid?.() === 0;
  const hasSetpriv = !root || requirePeer('setpriv') !== undefined;
  it.skipIf(root && !hasSetpriv)(
    'runs local-elb kind --config without the right to bind 443: HTTPS moves to a free port and the ssl-redirect follows it',
    async () => {
      const files = await certificateFiles(['shop.example.com']);
      const stateDir = await tempDir('local-elb-k8s-tls-state-');
      const api = await startFakeKubeApiServer({ bookmarkIntervalMs: 200 });
      cleanups.push(() => api.close());
      const web = await startTarget('web');
      cleanups.push(() => web.close());
      api.create(node('worker', '127.0.0.1'), { keepStatus: true });
      api.create(albClass);
      api.create(lbService('web', { type: 'NodePort', loadBalancerClass: null, ports: [{ name: 'http', port: 80, nodePort: web.port }] }));
      api.create(
        ingress('shop', [{ host: 'shop.example.com', paths: [{ path: '/', pathType: 'Prefix', service: 'web', port: 80 }] }], {
          annotations: { [`${ING}listen-ports`]: '[{"HTTP": 80}, {"HTTPS": 443}]', [`${ING}ssl-redirect`]: '443', [`${ING}certificate-arn`]: ARN },
        }),
      );
      const kubeconfig = api.writeKubeconfig(await tempDir('local-elb-k8s-tls-kube-'));
      // As root, drop CAP_NET_BIND_SERVICE (a non-root user lacks it already).
      const wrapper = root ? ['setpriv', '--bounding-set=-net_bind_service', '--inh-caps=-net_bind_service', '--'] : [];
      const cli = startCli(
        ['--state-dir', stateDir, 'kind', '--kubeconfig', kubeconfig, '--config', files.kindConfig, '--address-prefix', testAddressPrefix(), '--no-admin', '--log-level', 'warn'],
        { LOCAL_ELB_STATE_DIR: '' },
        wrapper,
      );
      cleanups.push(async () => void (await cli.stop('SIGKILL')));
      await cli.waitForStdout(/watching/);
      const ip = await ingressIp(api, 'shop');

      expect(await waitFor(() => events(api).find((e) => e.reason === 'PrivilegedPort' && e.involvedObject.name === 'shop'), { what: 'the PrivilegedPort Event' })).toMatchObject({ type: 'Warning' });
      const ensured = await waitFor(() => events(api).find((e) => e.reason === 'EnsuredLoadBalancer' && e.involvedObject.name === 'shop'), { what: 'the EnsuredLoadBalancer Event' });
      const [, httpPort, httpsPort] = /\(ports 80→(\d+), 443→(\d+)\)/.exec(ensured.message) ?? [];
      expect(httpsPort, ensured.message).toBeDefined();

      const redirect = await request(`http://${ip}:${httpPort}/`, { headers: { host: 'shop.example.com' } });
      await redirect.body.dump();
      expect(redirect.statusCode).toBe(301);
      expect(redirect.headers.location).toBe(`https://shop.example.com:${httpsPort}/`);
      const served = await waitFor(async () => {
        const r = await httpsGet(ip, Number(httpsPort), 'shop.example.com', files.caPem);
        return r.body === 'web' ? r : undefined;
      }, { what: 'the app over HTTPS on the moved port' });
      expect(served).toMatchObject({ authorized: true, fingerprint: files.fingerprint });
      expect(cli.stderr()).toMatch(/ports below 1024 need root or CAP_NET_BIND_SERVICE/);
      expect(await cli.stop('SIGTERM')).toBe(0);
    },
    30_000,
  );
});
