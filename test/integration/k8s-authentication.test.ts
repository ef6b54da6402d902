/**
 * The controller's auth-* annotations through the in-repo fake API server (spec 13.2.9, issue
 * #13): an Ingress on HTTPS with auth-type oidc and auth-idp-oidc naming a Secret (clientID,
 * clientSecret), the real @kubernetes/client-node watching it, a real HTTP server as the pod,
 * and a browser-like client that follows the redirects, picks an identity on the local login
 * page and reaches the pod with the claims headers under the annotated session cookie name.
 */
import { decodeProtectedHeader } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { openLocalCa } from '../../src/tls/ca.ts';
import { Browser } from '../support/browser.ts';
import { albClass, ingress, lbService, node } from '../support/k8s-fixtures.ts';
import { startTarget } from '../support/targets.ts';
import { waitFor } from '../support/wait.ts';
import { controllerWorld } from '../support/k8s-world.ts';

const ING = 'alb.ingress.kubernetes.io/';
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

describe('auth-* annotations through the controller', () => {
  it('serves an OIDC-protected Ingress: login page, session cookie of auth-session-cookie, the claims headers at the pod', async () => {
    const { api, controller, stateDir } = await controllerWorld(cleanups, 'local-elb-k8s-auth-');
    const pod = await startTarget('pod', { healthPath: '/' });
    cleanups.push(() => pod.close());
    api.create(node('worker', '127.0.0.1'), { keepStatus: true });
    api.create(albClass);
    api.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'oidc-client', namespace: 'default' }, data: { clientID: Buffer.from('web-client\n').toString('base64'), clientSecret: Buffer.from('s3cret').toString('base64') } });
    api.create(lbService('web', { type: 'NodePort', loadBalancerClass: null, ports: [{ name: 'http', port: 80, nodePort: pod.port }] }));
    api.create(
      ingress('web', [{ paths: [{ path: '/', pathType: 'Prefix', service: 'web', port: 80 }] }], {
        annotations: {
          [`${ING}listen-ports`]: '[{"HTTPS": 8443}]',
          [`${ING}auth-type`]: 'oidc',
          [`${ING}auth-idp-oidc`]: JSON.stringify({
            issuer: 'https://login.example.test',
            authorizationEndpoint: 'https://login.example.test/oauth2/authorize',
            tokenEndpoint: 'https://login.example.test/oauth2/token',
            userInfoEndpoint: 'https://login.example.test/oauth2/userinfo',
            secretName: 'oidc-client',
          }),
          [`${ING}auth-scope`]: 'openid email',
          [`${ING}auth-session-cookie`]: 'web-session',
          [`${ING}auth-session-timeout`]: '3600',
        },
      }),
    );
    await controller.start();
    const ip = await waitFor(() => (api.get('networking.k8s.io/v1', 'Ingress', 'default', 'web') as { status?: { loadBalancer?: { ingress?: Array<{ ip?: string }> } } }).status?.loadBalancer?.ingress?.[0]?.ip, {
      what: 'the Ingress address',
    });
    const ca = await openLocalCa(stateDir);
    const browser = new Browser(ca.certPem);
    cleanups.push(() => browser.close());
    const login = await waitFor(
      async () => {
        const page = await browser.get(`https://${ip}:8443/hello`).catch(() => undefined);
        return page?.status === 200 && page.body.includes('Sign in as') ? page : undefined;
      },
      { what: 'the login page through the load balancer' },
    );
    const authorize = new URL(login.url);
    expect(authorize.searchParams.get('client_id')).toBe('web-client');
    expect(authorize.searchParams.get('scope')).toBe('openid email');
    const page = await browser.submit(login, 'local-user');
    expect(page.status).toBe(200);
    expect(page.body).toBe('pod');
    expect(page.hops[1]!.setCookies).toContainEqual(expect.stringMatching(/^web-session-0=/));
    const seen = pod.seen.at(-1)!;
    expect(seen.url).toBe('/hello');
    expect(seen.headers['x-amzn-oidc-identity']).toBe('local-user');
    expect(decodeProtectedHeader(seen.headers['x-amzn-oidc-data'] as string)).toMatchObject({ alg: 'ES256', iss: 'https://login.example.test', client: 'web-client' });
    // The annotations are no longer "not emulated (ignored)". (A first reconcile that ran before the
    // Secret informer had listed may have said the Secret was missing; the next one serves it.)
    const events = api.list('v1', 'Event', 'default') as Array<{ reason: string; message: string }>;
    expect(events.filter((e) => e.message.includes('auth-') && e.message.includes('not emulated'))).toEqual([]);
  });
});
