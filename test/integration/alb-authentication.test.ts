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

/** An authenticate-oidc action as config() writes it, for rules of their own. */
function oidcAction(overrides: OidcConfig = {}) {
  return {
    type: 'authenticate-oidc',
    order: 1,
    authenticateOidcConfig: { issuer: ISSUER, authorizationEndpoint: `${ISSUER}/authorize`, tokenEndpoint: `${ISSUER}/token`, userInfoEndpoint: `${ISSUER}/userinfo`, clientId: 'my-app', clientSecret: 's3cret', ...overrides },
  };
}
const loginRule = (overrides: OidcConfig = {}) => ({ priority: 1, conditions: [{ field: 'path-pattern', values: ['/login'] }], actions: [oidcAction(overrides), { type: 'forward', order: 2, targetGroupName: 'web' }] });

describe('a session under allow, and before a fixed-response (spec 13.2.3, 6.3)', () => {
  it('allow forwards a signed-in user with the headers, and an authenticated fixed-response is logged authenticate,fixed-response', async () => {
    const t = await target();
    const fixed = { priority: 2, conditions: [{ field: 'path-pattern', values: ['/status'] }], actions: [oidcAction(), { type: 'fixed-response', order: 2, fixedResponseConfig: { statusCode: '200', contentType: 'text/plain', messageBody: 'up' } }] };
    const { url, records } = await start(config(t.port, { oidc: { onUnauthenticatedRequest: 'allow' }, emulator: { signInAs: 'bob' }, rules: [loginRule(), fixed] }));
    const b = browser();
    await b.get(`${url}/public`);
    expect(t.seen.at(-1)!.headers['x-amzn-oidc-identity']).toBeUndefined();
    await b.get(`${url}/login`);
    const page = await b.get(`${url}/public`);
    expect(page.status).toBe(200);
    expect(t.seen.at(-1)!.headers['x-amzn-oidc-identity']).toBe('bob');
    const status = await b.get(`${url}/status`);
    expect(status.body).toBe('up');
    expect(records.at(-1)).toMatchObject({ elbStatusCode: 200, actionsExecuted: ['authenticate', 'fixed-response'], matchedRulePriority: 2 });
  });
});

describe('the session (spec 13.2.4, 13.2.7) on a virtual clock', () => {
  it('is honoured until SessionTimeout; then, even under deny, an expired session is sent to the identity provider', async () => {
    const clock = new VirtualClock(Date.now());
    const t = await target();
    // /login signs in (authenticate); everything else is deny, with the same session cookie.
    const { url, records } = await start(config(t.port, { oidc: { sessionTimeout: 60, onUnauthenticatedRequest: 'deny' }, emulator: { signInAs: 'alice' }, rules: [loginRule({ sessionTimeout: 60 })] }), clock);
    const b = browser();
    expect((await b.get(`${url}/account`)).status).toBe(401);
    expect((await b.get(`${url}/login`)).hops.map((h) => h.status)).toEqual([302, 302, 302, 200]);
    await clock.advance(59_999);
    const before = await b.get(`${url}/account`, { follow: false });
    expect(before.status).toBe(200);
    expect(t.seen.at(-1)!.headers['x-amzn-oidc-identity']).toBe('alice');
    await clock.advance(1);
    const after = await b.get(`${url}/account`, { follow: false });
    expect(after.status).toBe(302);
    expect(after.hops[0]!.location).toMatch(/\/oauth2\/authorize\?response_type=code&client_id=my-app&/);
    expect(records.at(-1)).toMatchObject({ elbStatusCode: 302, actionsExecuted: ['authenticate'], matchedRulePriority: 0 });
  });

  it('refreshes the claims with the refresh token when the access token expires (ELBAuthRefreshTokenSuccess), and sends a signed-out user back to the provider', async () => {
    const clock = new VirtualClock(Date.now());
    const t = await target();
    const { elb, url } = await start(config(t.port, { emulator: { identityProvider: { accessTokenLifetimeSeconds: 10 } } }), clock);
    const b = browser();
    await b.submit(await b.get(`${url}/`), 'bob');
    const firstToken = t.seen.at(-1)!.headers['x-amzn-oidc-accesstoken'];
    await clock.advance(9_999);
    const fresh = await b.get(`${url}/a`, { follow: false });
    expect(fresh.hops[0]!.setCookies).toEqual([]);
    expect(t.seen.at(-1)!.headers['x-amzn-oidc-accesstoken']).toBe(firstToken);
    await clock.advance(1);
    const refreshed = await b.get(`${url}/b`, { follow: false });
    expect(refreshed.status).toBe(200);
    expect(refreshed.hops[0]!.setCookies).toEqual([expect.stringMatching(/^AWSELBAuthSessionCookie-0=.*; Secure; HttpOnly$/)]);
    const secondToken = t.seen.at(-1)!.headers['x-amzn-oidc-accesstoken'];
    expect(secondToken).not.toBe(firstToken);
    expect(t.seen.at(-1)!.headers['x-amzn-oidc-identity']).toBe('bob');
    expect(await metricSum(elb, 'ELBAuthRefreshTokenSuccess', { load_balancer: 'app' })).toBe(1);
    // Logout at the identity provider revokes the refresh token: the next refresh fails and asks for a new login.
    const idp = elb.applicationLoadBalancer('app').authentication!.identityProviderUrl;
    expect((await b.get(`${idp}/logout`)).body).toContain('<b>bob</b> is signed out');
    await clock.advance(10_000);
    const again = await b.get(`${url}/c`, { follow: false });
    expect(again.status).toBe(302);
    expect(again.hops[0]!.location).toContain(`${idp}/oauth2/authorize?`);
  });
});

describe('failures: status, error_reason and metric (spec 13.2.8)', () => {
  it('a tampered session cookie is 401 AuthInvalidCookie, logged, counted in ELBAuthFailure, and its shards expired', async () => {
    const t = await target();
    const { elb, url, records } = await start(config(t.port, { emulator: { signInAs: 'alice' } }));
    const b = browser();
    await b.get(`${url}/`);
    const [session] = await b.jar.getCookies(url).then((cs) => cs.filter((c) => c.key === 'AWSELBAuthSessionCookie-0'));
    session!.value = `${session!.value.slice(0, 40)}${session!.value[40] === 'A' ? 'B' : 'A'}${session!.value.slice(41)}`;
    const page = await b.get(`${url}/`, { follow: false });
    expect(page.status).toBe(401);
    expect(page.hops[0]!.setCookies).toEqual([expect.stringMatching(/^AWSELBAuthSessionCookie-0=; Expires=Thu, 01 Jan 1970/)]);
    expect(records.at(-1)).toMatchObject({ elbStatusCode: 401, errorReason: 'AuthInvalidCookie', actionsExecuted: ['authenticate'] });
    expect(accessLogLine(records.at(-1)!)).toContain('"authenticate" "-" "AuthInvalidCookie"');
    expect(await metricSum(elb, 'ELBAuthFailure', { load_balancer: 'app' })).toBe(1);
    // The expired shards start the next visit over: a new login.
    expect((await b.get(`${url}/`)).status).toBe(200);
  });

  it('"Deny access" at the login page comes back as error=access_denied: 561', async () => {
    const t = await target();
    const { elb, url, records } = await start(config(t.port));
    const b = browser();
    const login = await b.get(`${url}/`);
    const page = await b.submit(login, '');
    expect(page.status).toBe(561);
    expect(records.at(-1)).toMatchObject({ elbStatusCode: 561, actionsExecuted: ['authenticate'] });
    expect(await metricSum(elb, 'ELBAuthFailure', { load_balancer: 'app' })).toBe(1);
    expect(t.seen.filter((s) => s.url !== '/healthz')).toEqual([]);
  });

  it.each([
    ['no state', 'AuthMissingStateParam', '/oauth2/idpresponse?code=abc'],
    ['a state this load balancer did not make', 'AuthInvalidStateParam', '/oauth2/idpresponse?code=abc&state=bm90LW91cnMtYXQtYWxsLW5vdC1vdXJzLWF0LWFsbA'],
  ])('a callback with %s is 401 %s', async (_name, reason, path) => {
    const t = await target();
    const { url, records } = await start(config(t.port));
    const page = await browser().get(`${url}${path}`);
    expect(page.status).toBe(401);
    expect(records.at(-1)).toMatchObject({ elbStatusCode: 401, errorReason: reason });
  });

  it('a callback without the AWSALBAuthNonce cookie is 401 AuthMissingAWSALBAuthNonce', async () => {
    const t = await target();
    const { url, records } = await start(config(t.port, { emulator: { signInAs: 'alice' } }));
    const redirect = (await browser().get(`${url}/`, { follow: false })).hops[0]!.location!;
    // Another browser (no nonce cookie) follows the identity provider's redirect.
    const page = await browser().get(redirect);
    expect(page.status).toBe(401);
    expect(records.at(-1)).toMatchObject({ errorReason: 'AuthMissingAWSALBAuthNonce' });
  });
});

describe('authenticate-cognito (spec 13.2.2)', () => {
  it('signs the claims with the user pool as issuer and the pool client as client', async () => {
    const t = await target();
    const cfg = config(t.port, { emulator: { signInAs: 'alice' } });
    const listener = cfg.loadBalancers![0]!.listeners[0]!;
    (listener as { defaultActions: unknown[] }).defaultActions = [
      { type: 'authenticate-cognito', order: 1, authenticateCognitoConfig: { userPoolArn: 'arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_AbC123', userPoolClientId: 'pool-client', userPoolDomain: 'my-app' } },
      { type: 'forward', order: 2, targetGroupName: 'web' },
    ];
    const { elb, url } = await start(cfg);
    const page = await browser().get(`${url}/`);
    expect(page.status).toBe(200);
    const token = t.seen.at(-1)!.headers['x-amzn-oidc-data'] as string;
    const header = decodeProtectedHeader(token);
    expect(header).toMatchObject({ iss: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123', client: 'pool-client', signer: SIGNER });
    const auth = elb.applicationLoadBalancer('app').authentication!;
    const pem = await (await fetch(`${auth.publicKeysUrl}/${header.kid}`)).text();
    expect(pem).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    const { payload } = await jwtVerify(token, await importSPKI(pem, 'ES256'));
    expect(payload).toMatchObject({ sub: 'alice', iss: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123' });
  });
});
