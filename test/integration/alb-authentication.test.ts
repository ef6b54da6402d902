/**
 * authenticate-oidc / authenticate-cognito on real sockets (spec 13.2, issue #13): an HTTPS
 * listener, the local identity provider on its own port, a browser-like client (undici with a
 * tough-cookie jar, following every redirect), and an app that verifies x-amzn-oidc-data with
 * jose, fetching the public key from the URL local-elb serves it at, as an app behind a real ALB
 * fetches https://public-keys.auth.elb.<region>.amazonaws.com/<kid>.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeProtectedHeader, importSPKI, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../src/config/schema.ts';
import { VirtualClock, type Clock } from '../../src/core/clock.ts';
import { accessLogLine } from '../../src/l7/access-log.ts';
import type { RequestRecord } from '../../src/l7/request-record.ts';
import { startLocalElb, type LocalElb } from '../../src/local-elb.ts';
import { openLocalCa, type LocalCertificateAuthority } from '../../src/tls/ca.ts';
import { deferCleanups, waitHealthy } from '../support/alb.ts';
import { Browser } from '../support/browser.ts';
import { metricSum } from '../support/metrics.ts';
import { startTarget, type TestTarget } from '../support/targets.ts';

const defer = deferCleanups();
let stateDir: string;
let ca: LocalCertificateAuthority;
beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'local-elb-auth-'));
  ca = await openLocalCa(stateDir);
});
afterAll(() => rm(stateDir, { recursive: true, force: true }));

const ISSUER = 'https://idp.example.test';
const IDENTITIES = [
  { sub: 'alice', name: 'Alice', email: 'alice@example.test' },
  { sub: 'bob', name: 'Bob', email: 'bob@example.test', groups: ['admin'] },
];

type OidcConfig = Record<string, unknown>;

function config(targetPort: number, options: { oidc?: OidcConfig; emulator?: Record<string, unknown>; rules?: unknown[] } = {}): ConfigInput {
  return {
    targetGroups: [{ name: 'web', protocol: 'HTTP', healthCheckPath: '/healthz', healthCheckIntervalSeconds: 5, healthCheckTimeoutSeconds: 2, healthyThresholdCount: 2, targets: [{ id: '127.0.0.1', port: targetPort }] }],
    loadBalancers: [
      {
        name: 'app',
        emulator: { identities: IDENTITIES, ...options.emulator },
        listeners: [
          {
            port: 0,
            protocol: 'HTTPS',
            defaultActions: [
              {
                type: 'authenticate-oidc',
                order: 1,
                authenticateOidcConfig: {
                  issuer: ISSUER,
                  authorizationEndpoint: `${ISSUER}/authorize`,
                  tokenEndpoint: `${ISSUER}/token`,
                  userInfoEndpoint: `${ISSUER}/userinfo`,
                  clientId: 'my-app',
                  clientSecret: 's3cret',
                  ...options.oidc,
                },
              },
              { type: 'forward', order: 2, targetGroupName: 'web' },
            ],
            rules: (options.rules ?? []) as never,
          },
        ],
      },
    ],
  } as ConfigInput;
}

async function target(): Promise<TestTarget> {
  const t = await startTarget('app');
  defer(() => t.close());
  return t;
}

async function start(cfg: ConfigInput, clock?: Clock): Promise<{ elb: LocalElb; url: string; records: RequestRecord[] }> {
  const elb = await startLocalElb({ config: cfg, stateDir, ...(clock ? { clock } : {}) });
  defer(() => elb.close());
  const records: RequestRecord[] = [];
  elb.applicationLoadBalancer('app').onRequest((r) => records.push(r));
  await waitHealthy(elb.targetGroup('web'), 1);
  return { elb, url: elb.url('app'), records };
}

function browser(): Browser {
  const b = new Browser(ca.certPem);
  defer(() => b.close());
  return b;
}

/**
 * The app an ALB user writes: verify x-amzn-oidc-data (ES256, key from `<keyBase>/<kid>`), check
 * the signer, answer the claims; 401 when the header is missing or does not verify.
 */
async function verifyingApp(keyBase: () => string, expectedSigner: string, currentDate?: () => Date) {
  const fetched: string[] = [];
  const server = http.createServer((req, res) => {
    void (async () => {
      if (req.url === '/healthz') return res.end('ok');
      const token = req.headers['x-amzn-oidc-data'];
      if (typeof token !== 'string') {
        res.writeHead(401, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ anonymous: true, headers: Object.keys(req.headers).filter((h) => h.startsWith('x-amzn-oidc-')) }));
      }
      try {
        const header = decodeProtectedHeader(token) as { kid: string; signer: string; client: string; iss: string; exp: number };
        const keyUrl = `${keyBase()}/${header.kid}`;
        fetched.push(keyUrl);
        const pem = await (await fetch(keyUrl)).text();
        const { payload } = await jwtVerify(token, await importSPKI(pem, 'ES256'), { algorithms: ['ES256'], issuer: ISSUER, ...(currentDate ? { currentDate: currentDate() } : {}) });
        if (header.signer !== expectedSigner) throw new Error(`signer ${header.signer}`);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ token, header, payload, identity: req.headers['x-amzn-oidc-identity'], accessToken: req.headers['x-amzn-oidc-accesstoken'], path: req.url }));
      } catch (err) {
        res.writeHead(403, { 'content-type': 'text/plain' });
        res.end(`verification failed: ${(err as Error).message}`);
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  defer(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { port: (server.address() as AddressInfo).port, fetched };
}

const SIGNER = 'arn:aws:elasticloadbalancing:local:000000000000:loadbalancer/app/app/local';

describe('onUnauthenticatedRequest: authenticate (spec 13.2.3)', () => {
  it('redirects to the local identity provider, and after its login page forwards with the three headers, which an app verifies with jose', async () => {
    let keyBase = '';
    const app = await verifyingApp(() => keyBase, SIGNER);
    const { elb, url, records } = await start(config(app.port));
    const auth = elb.applicationLoadBalancer('app').authentication!;
    keyBase = auth.publicKeysUrl;
    const b = browser();

    const login = await b.get(`${url}/orders?page=2`);
    // 302 from the load balancer with the nonce cookie, to the identity provider's authorize endpoint.
    const first = login.hops[0]!;
    expect(first.status).toBe(302);
    const authorize = new URL(first.location!);
    expect(`${authorize.origin}${authorize.pathname}`).toBe(`${auth.identityProviderUrl}/oauth2/authorize`);
    expect(Object.fromEntries(authorize.searchParams)).toMatchObject({ response_type: 'code', client_id: 'my-app', scope: 'openid', redirect_uri: `${url}/oauth2/idpresponse` });
    expect(authorize.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(first.setCookies).toEqual([expect.stringMatching(/^AWSALBAuthNonce=[A-Za-z0-9]{16}; Path=\/$/)]);
    // The login page lists the identities.
    expect(login.status).toBe(200);
    expect(login.url).toBe(first.location);
    expect(login.body).toContain('Sign in as <b>alice</b>');
    expect(login.body).toContain('Sign in as <b>bob</b>');

    const page = await b.submit(login, 'bob');
    // login form → 302 to /oauth2/idpresponse → 302 to the original URI with the session → the app.
    expect(page.hops.map((h) => h.status)).toEqual([302, 302, 200]);
    expect(page.hops[1]!.url).toMatch(new RegExp(`^${url}/oauth2/idpresponse\\?code=`));
    expect(page.hops[1]!.location).toBe(`${url}/orders?page=2`);
    expect(page.hops[1]!.setCookies).toEqual(
      expect.arrayContaining([expect.stringMatching(/^AWSELBAuthSessionCookie-0=[A-Za-z0-9+/=]+; Expires=[^;]+; Path=\/; Secure; HttpOnly$/), expect.stringMatching(/^AWSALBAuthNonce=; Expires=Thu, 01 Jan 1970/)]),
    );
    expect(page.status).toBe(200);
    const seen = JSON.parse(page.body) as { token: string; header: Record<string, unknown>; payload: Record<string, unknown>; identity: string; accessToken: string; path: string };
    expect(seen.path).toBe('/orders?page=2');
    expect(seen.identity).toBe('bob');
    expect(seen.accessToken).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(seen.header).toMatchObject({ typ: 'JWT', alg: 'ES256', kid: auth.kid, iss: ISSUER, client: 'my-app', signer: SIGNER });
    expect(seen.header.kid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(seen.payload).toMatchObject({ sub: 'bob', name: 'Bob', email: 'bob@example.test', groups: ['admin'], iss: ISSUER });
    expect(seen.payload.exp).toBe(seen.header.exp);
    // ALB's segments keep their base64url padding (spec 13.2.6): the 64-byte r‖s signature always ends in "==".
    expect(seen.token.split('.').map((s) => s.length % 4)).toEqual([0, 0, 0]);
    expect(seen.token).toMatch(/^[A-Za-z0-9_-]+={0,2}\.[A-Za-z0-9_-]+={0,2}\.[A-Za-z0-9_-]{86}==$/);
    expect(app.fetched).toEqual([`${auth.publicKeysUrl}/${auth.kid}`]);

    // The session cookie is honoured: the next request goes straight to the app.
    const again = await b.get(`${url}/again`);
    expect(again.hops.map((h) => h.status)).toEqual([200]);
    expect((JSON.parse(again.body) as { identity: string }).identity).toBe('bob');

    // Access log: the redirect, the callback and the forwards (spec 13.2.8's emulator note).
    const lines = records.map((r) => accessLogLine(r));
    expect(records.map((r) => [r.elbStatusCode, r.actionsExecuted.join(','), r.target === undefined ? '-' : 'target'])).toEqual([
      [302, 'authenticate', '-'],
      [302, 'authenticate', '-'],
      [200, 'authenticate,forward', 'target'],
      [200, 'authenticate,forward', 'target'],
    ]);
    expect(lines[0]).toContain(`"authenticate" "${first.location}" "-"`);
    expect(records[1]!.matchedRulePriority).toBe(0);
    expect(await metricSum(elb, 'ELBAuthSuccess', { load_balancer: 'app' })).toBe(1);
    expect(await metricSum(elb, 'ELBAuthFailure', { load_balancer: 'app' })).toBe(0);
    expect(await metricSum(elb, 'ELBAuthLatency_count', { load_balancer: 'app' })).toBe(1);
  });

  it('signs emulator.signInAs in without the login page', async () => {
    const t = await target();
    const { url } = await start(config(t.port, { emulator: { signInAs: 'alice' } }));
    const page = await browser().get(`${url}/`);
    expect(page.hops.map((h) => h.status)).toEqual([302, 302, 302, 200]);
    expect(page.body).toBe('app');
    expect(t.seen.at(-1)!.headers['x-amzn-oidc-identity']).toBe('alice');
  });
});

describe('onUnauthenticatedRequest: deny and allow (spec 13.2.3)', () => {
  it('deny answers 401 without a session and does not reach the target', async () => {
    const t = await target();
    const { url, records } = await start(config(t.port, { oidc: { onUnauthenticatedRequest: 'deny' } }));
    const page = await browser().get(`${url}/private`);
    expect(page.status).toBe(401);
    expect(page.body).toContain('401 Authorization Required');
    expect(t.seen.filter((s) => s.url === '/private')).toEqual([]);
    expect(records.at(-1)).toMatchObject({ elbStatusCode: 401, actionsExecuted: ['authenticate'] });
  });

  it('allow passes through without any x-amzn-oidc-* header, a client-sent one stripped', async () => {
    let keyBase = '';
    const app = await verifyingApp(() => keyBase, SIGNER);
    const { elb, url, records } = await start(config(app.port, { oidc: { onUnauthenticatedRequest: 'allow' } }));
    keyBase = elb.applicationLoadBalancer('app').authentication!.publicKeysUrl;
    const page = await browser().get(`${url}/public`, { headers: { 'x-amzn-oidc-identity': 'admin', 'x-amzn-oidc-data': 'forged' } });
    expect(page.status).toBe(401);
    expect(JSON.parse(page.body)).toEqual({ anonymous: true, headers: [] });
    expect(records.at(-1)).toMatchObject({ elbStatusCode: 401, actionsExecuted: ['authenticate', 'forward'], producedBy: 'target' });
  });
});
