/**
 * The controller's `mutual-authentication` Ingress annotation end to end (spec 12.7.1), against
 * the in-repo fake API server: trust stores from `local-elb kind --config`'s `trustStores:`
 * (loadKindConfig), a verify-mode HTTPS listener that a client certificate of the store gets
 * through, with the X-Amzn-Mtls-* headers at the pod, and that refuses a stranger's; a
 * passthrough port beside it. The listener certificate comes from a local CA in a temporary
 * state directory.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadKindConfig } from '../../src/cli/kind-config.ts';
import { urlEncodePem } from '../../src/tls/client-certificate.ts';
import { controllerWorld } from '../support/k8s-world.ts';
import { albClass, ingress, lbService, node } from '../support/k8s-fixtures.ts';
import { issue, makeCa, type TestCert } from '../support/mtls-certs.ts';
import { startTarget } from '../support/targets.ts';
import { waitFor } from '../support/wait.ts';

const ING = 'alb.ingress.kubernetes.io/';
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

/** GET over TLS (the listener's certificate not checked) with an optional client certificate: status and body, or the error code. */
function get(ip: string, port: number, client: TestCert | undefined): Promise<{ status: number; body: string } | { error: string }> {
  return new Promise((resolve) => {
    const req = https.get(
      { host: ip, port, path: '/', servername: 'shop.example.com', headers: { host: `shop.example.com:${port}` }, rejectUnauthorized: false, agent: false, ...(client ? { cert: client.pem, key: client.keyPem } : {}) },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
  });
}

describe('mutual-authentication through the controller and the fake API server', () => {
  it('serves a verify port that takes the trust store’s clients (headers at the pod) and refuses others, and a passthrough port beside it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'local-elb-k8s-mtls-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const clientCa = await makeCa('CN=Cluster Clients');
    const good = await issue(clientCa, 'CN=shopper', { serialNumber: '5a11ad' });
    const stranger = await issue(await makeCa('CN=Elsewhere'), 'CN=stranger');
    await writeFile(join(dir, 'clients.pem'), clientCa.pem);
    await writeFile(join(dir, 'kind.yaml'), 'trustStores:\n  - { name: clients, caCertificatesBundleFile: clients.pem }\n');
    const { trustStores } = await loadKindConfig(join(dir, 'kind.yaml'));

    const { api, controller } = await controllerWorld(cleanups, 'local-elb-k8s-mtls-state-', { trustStores });
    const web = await startTarget('web');
    cleanups.push(() => web.close());
    api.create(node('worker', '127.0.0.1'), { keepStatus: true });
    api.create(albClass);
    api.create(lbService('web', { type: 'NodePort', loadBalancerClass: null, ports: [{ name: 'http', port: 80, nodePort: web.port }] }));
    api.create(
      ingress('shop', [{ host: 'shop.example.com', paths: [{ path: '/', pathType: 'Prefix', service: 'web', port: 80 }] }], {
        annotations: {
          [`${ING}listen-ports`]: '[{"HTTPS": 8443}, {"HTTPS": 9443}]',
          [`${ING}mutual-authentication`]: '[{"port": 8443, "mode": "verify", "trustStore": "clients"}, {"port": 9443, "mode": "passthrough"}]',
        },
      }),
    );
    await controller.start();
    const ip = await waitFor(
      () => (api.get('networking.k8s.io/v1', 'Ingress', 'default', 'shop') as { status?: { loadBalancer?: { ingress?: Array<{ ip?: string }> } } }).status?.loadBalancer?.ingress?.[0]?.ip,
      { what: 'the Ingress address' },
    );
    const served = await waitFor(async () => {
      const r = await get(ip, 8443, good);
      return 'status' in r && r.body === 'web' ? r : undefined;
    }, { what: 'the app over verify-mode HTTPS once its target is healthy' });
    expect(served.status).toBe(200);
    const seen = web.seen.at(-1)!;
    expect(seen.headers['x-amzn-mtls-clientcert-serial-number']).toBe('5A11AD');
    expect(seen.headers['x-amzn-mtls-clientcert-subject']).toBe('CN=shopper');
    expect(seen.headers['x-amzn-mtls-clientcert-issuer']).toBe('CN=Cluster Clients');
    expect('error' in (await get(ip, 8443, stranger))).toBe(true);
    expect('error' in (await get(ip, 8443, undefined))).toBe(true);

    const passthrough = await get(ip, 9443, stranger);
    expect(passthrough).toMatchObject({ status: 200, body: 'web' });
    expect(web.seen.at(-1)!.headers['x-amzn-mtls-clientcert']).toBe(urlEncodePem(stranger.pem));
    const listeners = controller.stacks().get('ingress/default/shop')!.stack.config.loadBalancers![0]!.listeners;
    expect(listeners.map((l) => [l.port, l.mutualAuthentication?.mode])).toEqual([
      [8443, 'verify'],
      [9443, 'passthrough'],
    ]);
  });
});
