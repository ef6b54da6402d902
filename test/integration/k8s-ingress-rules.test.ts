/**
 * Ingress rule fidelity through the controller (issue #14, spec 15.5): the legacy PascalCase
 * `actions.*` redirect of worked example A (kept on the HTTP listener, dropped on the HTTPS one by
 * the rule optimiser), a `conditions.*` header condition (a request without the header falls
 * through to the next rule), two Ingresses of one group on different listen-ports (each rule only
 * on its own listener), and a `transforms.*` url-rewrite seen by the pod. Against the in-repo fake
 * API server with the real @kubernetes/client-node; pods are real HTTP servers on 127.0.0.1.
 */
import https from 'node:https';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import type { FakeKubeApiServer } from '../support/fake-kube-apiserver.ts';
import { albClass, ingress, lbService, node } from '../support/k8s-fixtures.ts';
import { startTarget, type TestTarget } from '../support/targets.ts';
import { waitFor } from '../support/wait.ts';
import { controllerWorld } from '../support/k8s-world.ts';

const ING = 'alb.ingress.kubernetes.io/';

// Every cleanup runs, last first; then the first failure fails the test.
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  const errors: unknown[] = [];
  for (const c of cleanups.splice(0).reverse()) await c().catch((err: unknown) => errors.push(err));
  if (errors.length > 0) throw errors[0];
});

/** The fake API server, a node at 127.0.0.1, and one NodePort Service per pod name, each pod a real server. */
async function world(podNames: readonly string[]) {
  const { api, controller } = await controllerWorld(cleanups, 'local-elb-k8s-rules-');
  api.create(node('worker', '127.0.0.1'), { keepStatus: true });
  api.create(albClass);
  const pods: Record<string, TestTarget> = {};
  for (const name of podNames) {
    const pod = await startTarget(name, { healthPath: '/' });
    cleanups.push(() => pod.close());
    pods[name] = pod;
    api.create(lbService(name, { type: 'NodePort', loadBalancerClass: null, ports: [{ name: 'http', port: 80, nodePort: pod.port }] }));
  }
  return { api, controller, pods };
}

const ingressIp = (api: FakeKubeApiServer, name: string) =>
  waitFor(() => (api.get('networking.k8s.io/v1', 'Ingress', 'default', name) as { status?: { loadBalancer?: { ingress?: Array<{ ip?: string }> } } }).status?.loadBalancer?.ingress?.[0]?.ip, {
    what: `the address of Ingress ${name}`,
  });

async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; location?: string }> {
  const res = await request(url, { headers });
  const body = await res.body.text();
  const location = res.headers.location;
  return { status: res.statusCode, body, ...(typeof location === 'string' ? { location } : {}) };
}

/** GET over TLS without checking the certificate (the local CA's): routing is what is tested here. */
function httpsGet(ip: string, port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get({ host: ip, port, path, rejectUnauthorized: false, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}

/** Polls until `url` answers 200 from a pod (targets become healthy after the first checks). */
const until200 = (url: string, headers: Record<string, string> = {}) =>
  waitFor(async () => {
    const r = await get(url, headers).catch(() => undefined);
    return r?.status === 200 ? r : undefined;
  }, { what: `200 from ${url}` });

describe('Ingress rule annotations through the controller and the fake API server', () => {
  it('serves worked example A: the PascalCase redirect on HTTP, the real path on HTTPS where the redirect would loop', async () => {
    const { api, controller } = await world(['web']);
    api.create(
      ingress('shop', [{ paths: [{ path: '/', pathType: 'Prefix', service: 'go-secure', port: 'use-annotation' }, { path: '/', pathType: 'Prefix', service: 'web', port: 80 }] }], {
        annotations: {
          [`${ING}listen-ports`]: '[{"HTTP": 8080}, {"HTTPS": 8443}]',
          [`${ING}actions.go-secure`]: '{"Type":"redirect","RedirectConfig":{"Protocol":"HTTPS","Port":"8443","StatusCode":"HTTP_301"}}',
        },
      }),
    );
    await controller.start();
    const ip = await ingressIp(api, 'shop');
    const served = await waitFor(async () => {
      const r = await httpsGet(ip, 8443, '/cart').catch(() => undefined);
      return r?.status === 200 ? r : undefined;
    }, { what: 'the pod through the HTTPS listener' });
    expect(served.body).toBe('web');
    expect(await get(`http://${ip}:8080/cart?item=1`)).toEqual({ status: 301, body: '', location: `https://${ip}:8443/cart?item=1` });
    const events = api.list('v1', 'Event', 'default') as Array<{ reason: string; message: string }>;
    expect(events.filter((e) => /actions\.|not emulated/.test(e.message))).toEqual([]);
  });

  it('routes by a conditions.<name> header condition; a request without the header falls through to the next rule', async () => {
    const { api, controller } = await world(['web', 'canary']);
    api.create(
      ingress('shop', [{ paths: [{ path: '/', pathType: 'Prefix', service: 'canary', port: 80 }, { path: '/', pathType: 'Prefix', service: 'web', port: 80 }] }], {
        annotations: {
          [`${ING}listen-ports`]: '[{"HTTP": 8080}]',
          [`${ING}conditions.canary`]: '[{"Field":"http-header","HttpHeaderConfig":{"HttpHeaderName":"X-Canary","Values":["on"]}}]',
        },
      }),
    );
    await controller.start();
    const ip = await ingressIp(api, 'shop');
    expect((await until200(`http://${ip}:8080/x`)).body).toBe('web');
    expect((await until200(`http://${ip}:8080/x`, { 'x-canary': 'on' })).body).toBe('canary');
    expect((await get(`http://${ip}:8080/x`, { 'x-canary': 'off' })).body).toBe('web');
  });

  it('puts each rule of two grouped Ingresses only on the listener of its own listen-ports', async () => {
    const { api, controller } = await world(['a', 'b']);
    const member = (name: string, port: number) =>
      ingress(name, [{ paths: [{ path: `/${name}`, pathType: 'Prefix', service: name, port: 80 }] }], {
        annotations: { [`${ING}group.name`]: 'shared', [`${ING}listen-ports`]: `[{"HTTP": ${port}}]` },
      });
    api.create(member('a', 8080));
    api.create(member('b', 8081));
    await controller.start();
    const ip = await ingressIp(api, 'a');
    expect(await ingressIp(api, 'b')).toBe(ip);
    expect((await until200(`http://${ip}:8080/a`)).body).toBe('a');
    expect((await until200(`http://${ip}:8081/b`)).body).toBe('b');
    // The other Ingress's path is the listener's default, the controller's fixed 404.
    expect((await get(`http://${ip}:8080/b`)).status).toBe(404);
    expect((await get(`http://${ip}:8081/a`)).status).toBe(404);
  });
});

// transforms.<name> end to end: the translation (test/unit/k8s/translate-ingress-rules.test.ts,
// worked example B) and the data path's rewrite (src/l7/transforms.ts) together.
describe('transforms.<name> through the data path', () => {
  it('rewrites the URL of a request before the pod sees it', async () => {
    const { api, controller, pods } = await world(['api']);
    api.create(
      ingress('shop', [{ paths: [{ path: '/api', pathType: 'Prefix', service: 'api', port: 80 }] }], {
        annotations: {
          [`${ING}listen-ports`]: '[{"HTTP": 8080}]',
          [`${ING}transforms.api`]: '[{"type":"url-rewrite","urlRewriteConfig":{"rewrites":[{"regex":"^/api/(.*)$","replace":"/$1"}]}}]',
        },
      }),
    );
    await controller.start();
    const ip = await ingressIp(api, 'shop');
    expect((await until200(`http://${ip}:8080/api/hello`)).body).toBe('api');
    expect(pods.api!.seen.at(-1)!.url).toBe('/hello');
  });
});
