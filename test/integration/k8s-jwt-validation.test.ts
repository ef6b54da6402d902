/**
 * The controller's jwt-validation annotation through the in-repo fake API server: an Ingress on
 * HTTPS whose annotation names an https JWKS endpoint (certificate from the kind state
 * directory's local CA), the real @kubernetes/client-node watching it, a real HTTP server as the
 * pod, and undici sending tokens jose signs: the pod sees only the valid one, Authorization
 * unchanged, and no Event says the annotation is not emulated.
 */
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { Agent, request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { openLocalCa } from '../../src/tls/ca.ts';
import { albClass, ingress, lbService, node } from '../support/k8s-fixtures.ts';
import { startTarget } from '../support/targets.ts';
import { waitFor } from '../support/wait.ts';
import { controllerWorld } from '../support/k8s-world.ts';

const ING = 'alb.ingress.kubernetes.io/';
const ISSUER = 'https://login.example.test';
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

describe('jwt-validation annotation through the controller', () => {
  it('serves a JWT-protected Ingress: 401 without a token, the pod reached with a valid one, Authorization unchanged', async () => {
    const { api, controller, stateDir } = await controllerWorld(cleanups, 'local-elb-k8s-jwt-');
    const ca = await openLocalCa(stateDir);
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256' };
    const cert = await ca.issue(['127.0.0.1']);
    const jwks = https.createServer({ cert: cert.certPem, key: cert.keyPem }, (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => jwks.close(() => r())));
    const pod = await startTarget('pod', { healthPath: '/' });
    cleanups.push(() => pod.close());
    api.create(node('worker', '127.0.0.1'), { keepStatus: true });
    api.create(albClass);
    api.create(lbService('web', { type: 'NodePort', loadBalancerClass: null, ports: [{ name: 'http', port: 80, nodePort: pod.port }] }));
    api.create(
      ingress('web', [{ paths: [{ path: '/', pathType: 'Prefix', service: 'web', port: 80 }] }], {
        annotations: {
          [`${ING}listen-ports`]: '[{"HTTPS": 8443}]',
          [`${ING}jwt-validation`]: JSON.stringify({
            jwksEndpoint: `https://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks.json`,
            issuer: ISSUER,
            additionalClaims: [{ name: 'scope', format: 'space-separated-values', values: ['read:api'] }],
          }),
        },
      }),
    );
    await controller.start();
    const ip = await waitFor(() => (api.get('networking.k8s.io/v1', 'Ingress', 'default', 'web') as { status?: { loadBalancer?: { ingress?: Array<{ ip?: string }> } } }).status?.loadBalancer?.ingress?.[0]?.ip, {
      what: 'the Ingress address',
    });
    const agent = new Agent({ connect: { ca: ca.certPem } });
    cleanups.push(() => agent.close());
    const now = Math.floor(Date.now() / 1000);
    const good = await new SignJWT({ iss: ISSUER, exp: now + 600, scope: 'openid read:api' }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).sign(privateKey);
    const narrow = await new SignJWT({ iss: ISSUER, exp: now + 600, scope: 'openid' }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).sign(privateKey);
    const send = async (bearer?: string) => {
      const res = await request(`https://${ip}:8443/hello`, { dispatcher: agent, headers: bearer ? { authorization: `Bearer ${bearer}` } : {} }).catch(() => undefined);
      if (res === undefined) return undefined;
      await res.body.text();
      return { status: res.statusCode, wwwAuthenticate: res.headers['www-authenticate'] };
    };
    // Once the load balancer is up, a request without a token is refused.
    expect(await waitFor(async () => ((await send())?.status === 401 ? await send() : undefined), { what: 'the 401 through the load balancer' })).toEqual({ status: 401, wwwAuthenticate: 'Bearer' });
    expect(await send(narrow)).toEqual({ status: 401, wwwAuthenticate: 'Bearer error="invalid_token"' });
    expect(pod.seen.filter((r) => r.url === '/hello')).toEqual([]);
    expect((await send(good))?.status).toBe(200);
    expect(pod.seen.at(-1)).toMatchObject({ url: '/hello', headers: expect.objectContaining({ authorization: `Bearer ${good}` }) });
    const events = api.list('v1', 'Event', 'default') as Array<{ reason: string; message: string }>;
    expect(events.filter((e) => e.message.includes('jwt-validation'))).toEqual([]);
  });
});
