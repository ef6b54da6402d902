/**
 * The jwt-validation action on real sockets (README, "JWT validation"): an HTTPS listener, JWKS
 * endpoints served by node:https with a certificate of the local CA (trusted by the load
 * balancer as its own) and by node:http (with the emulator's allowHttpJwksEndpoint), tokens
 * signed with jose, undici and curl as clients, and a target that records what it got.
 */
import { execFile } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload } from 'jose';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../src/config/schema.ts';
import { VirtualClock, type Clock } from '../../src/core/clock.ts';
import { accessLogLine } from '../../src/l7/access-log.ts';
import type { RequestRecord } from '../../src/l7/request-record.ts';
import { startLocalElb, type LocalElb } from '../../src/local-elb.ts';
import { openLocalCa, type LocalCertificateAuthority } from '../../src/tls/ca.ts';
import { deferCleanups, waitHealthy } from '../support/alb.ts';
import { waitFor } from '../support/wait.ts';
import { metricSum } from '../support/metrics.ts';
import { startTarget, type TestTarget } from '../support/targets.ts';

const run = promisify(execFile);
const defer = deferCleanups();
const ISSUER = 'https://idp.example.test';

type Key = { readonly kid: string; readonly privateKey: Awaited<ReturnType<typeof generateKeyPair>>["privateKey"]; readonly jwk: JWK };
async function rsaKey(kid: string): Promise<Key> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } };
}

/** A JWKS server: `/jwks` the published keys, `/big` over 150 KB, `/many` 11 keys, `/hang` no answer (held until close), `/down` a 503. */
interface JwksServer {
  readonly url: string;
  keys: JWK[];
  readonly requests: string[];
  close(): Promise<void>;
}
async function startJwks(tls?: https.ServerOptions): Promise<JwksServer> {
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    server.requests.push(req.url ?? '');
    const json = (body: unknown) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.url === '/jwks') return json({ keys: server.keys });
    if (req.url === '/many') return json({ keys: Array.from({ length: 11 }, (_, i) => ({ ...server.keys[0], kid: `k${i}` })) });
    if (req.url === '/big') return json({ keys: server.keys, padding: 'x'.repeat(150 * 1024) });
    if (req.url === '/hang') return void held.add(res);
    res.writeHead(503);
    res.end();
  };
  const held = new Set<http.ServerResponse>();
  const srv = tls ? https.createServer(tls, handler) : http.createServer(handler);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const server: JwksServer = {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${(srv.address() as AddressInfo).port}`,
    keys: [],
    requests: [],
    close: () => {
      for (const res of held) res.destroy();
      return new Promise<void>((r) => srv.close(() => r()));
    },
  };
  return server;
}

let stateDir: string;
let ca: LocalCertificateAuthority;
let k1: Key;
let k2: Key;
let secure: JwksServer;
let plain: JwksServer;
let client: Agent;
beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'local-elb-jwt-'));
  ca = await openLocalCa(stateDir);
  [k1, k2] = await Promise.all([rsaKey('k1'), rsaKey('k2')]);
  const cert = await ca.issue(['127.0.0.1']);
  secure = await startJwks({ cert: cert.certPem, key: cert.keyPem });
  plain = await startJwks();
  secure.keys = [k1.jwk];
  plain.keys = [k1.jwk];
  client = new Agent({ connect: { ca: ca.certPem } });
});
afterAll(async () => {
  await client.close();
  await secure.close();
  await plain.close();
  await rm(stateDir, { recursive: true, force: true });
});

const jwtAction = (jwksEndpoint: string, additionalClaims?: unknown[]) => ({ type: 'jwt-validation', order: 1, jwtValidationConfig: { jwksEndpoint, issuer: ISSUER, ...(additionalClaims ? { additionalClaims } : {}) } });
const forward = { type: 'forward', order: 2, targetGroupName: 'web' };
const rule = (priority: number, path: string, action: unknown) => ({ priority, conditions: [{ field: 'path-pattern', values: [path] }], actions: [action, forward] });

function config(targetPort: number, emulator: Record<string, unknown> = {}): ConfigInput {
  return {
    targetGroups: [{ name: 'web', protocol: 'HTTP', healthCheckPath: '/healthz', healthCheckIntervalSeconds: 5, healthCheckTimeoutSeconds: 2, healthyThresholdCount: 2, targets: [{ id: '127.0.0.1', port: targetPort }] }],
    loadBalancers: [
      {
        name: 'app',
        emulator: { jwtValidation: { allowHttpJwksEndpoint: true, ...emulator } },
        listeners: [
          {
            port: 0,
            protocol: 'HTTPS',
            defaultActions: [{ type: 'forward', targetGroupName: 'web' }],
            rules: [
              rule(1, '/api/*', jwtAction(`${secure.url}/jwks`)),
              rule(2, '/plain/*', jwtAction(`${plain.url}/jwks`)),
              rule(3, '/big/*', jwtAction(`${secure.url}/big`)),
              rule(4, '/many/*', jwtAction(`${secure.url}/many`)),
              rule(5, '/down/*', jwtAction(`${secure.url}/down`)),
              rule(6, '/single/*', jwtAction(`${secure.url}/jwks`, [{ format: 'single-string', name: 'admin', values: ['true'] }])),
              rule(7, '/array/*', jwtAction(`${secure.url}/jwks`, [{ format: 'string-array', name: 'ver', values: ['6', '19'] }])),
              rule(9, '/hang/*', jwtAction(`${secure.url}/hang`)),
              rule(8, '/scope/*', jwtAction(`${secure.url}/jwks`, [{ format: 'space-separated-values', name: 'scope', values: ['read:api', 'write'] }])),
            ],
          },
        ],
      },
    ],
  } as ConfigInput;
}

async function start(emulator: Record<string, unknown> = {}, clock?: Clock): Promise<{ elb: LocalElb; url: string; target: TestTarget; records: RequestRecord[] }> {
  const target = await startTarget('app');
  defer(() => target.close());
  const elb = await startLocalElb({ config: config(target.port, emulator), stateDir, ...(clock ? { clock } : {}) });
  defer(() => elb.close());
  const records: RequestRecord[] = [];
  elb.applicationLoadBalancer('app').onRequest((r) => records.push(r));
  await waitHealthy(elb.targetGroup('web'), 1);
  return { elb, url: elb.url('app'), target, records };
}

/** A token signed with `key` (RS256 unless `alg`), iss the action's issuer and exp in an hour unless overridden. */
async function token(claims: JWTPayload = {}, options: { key?: Key; kid?: string; nowMs?: number } = {}): Promise<string> {
  const key = options.key ?? k1;
  const now = Math.floor((options.nowMs ?? Date.now()) / 1000);
  return new SignJWT({ iss: ISSUER, exp: now + 3600, iat: now, sub: 'svc', ...claims }).setProtectedHeader({ alg: 'RS256', kid: options.kid ?? key.kid, typ: 'JWT' }).sign(key.privateKey);
}

async function get(url: string, authorization?: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const res = await request(url, { dispatcher: client, headers: authorization === undefined ? {} : { authorization } });
  return { status: res.statusCode, headers: res.headers, body: await res.body.text() };
}

describe('jwt-validation: a valid token goes on as it came', () => {
  it('forwards a request with a good RS256 token to the target, its Authorization header unchanged, and logs jwt-validation,forward', async () => {
    const { elb, url, target, records } = await start();
    const bearer = `Bearer ${await token()}`;
    const res = await get(`${url}/api/orders`, bearer);
    expect(res.status).toBe(200);
    expect(target.seen.at(-1)!.url).toBe('/api/orders');
    expect(target.seen.at(-1)!.headers.authorization).toBe(bearer);
    expect(records.at(-1)).toMatchObject({ elbStatusCode: 200, targetStatusCode: 200, actionsExecuted: ['jwt-validation', 'forward'], matchedRulePriority: 1 });
    expect(accessLogLine(records.at(-1)!)).toContain('"jwt-validation,forward"');
    // The keys are fetched once and kept: a second request asks the JWKS endpoint nothing.
    expect((await get(`${url}/api/again`, bearer)).status).toBe(200);
    expect(elb.applicationLoadBalancer('app').jwksFetches).toBe(1);
  });

  it('takes the keys from an http JWKS endpoint when emulator.jwtValidation.allowHttpJwksEndpoint is true', async () => {
    const { url, target } = await start();
    const before = plain.requests.length;
    expect((await get(`${url}/plain/x`, `Bearer ${await token()}`)).status).toBe(200);
    expect(target.seen.at(-1)!.url).toBe('/plain/x');
    expect(plain.requests.slice(before)).toEqual(['/jwks']);
  });

  it('costs a rule without the action nothing: no JWKS request, no token needed', async () => {
    const { elb, url, records } = await start();
    expect((await get(`${url}/public`)).status).toBe(200);
    expect(records.at(-1)).toMatchObject({ actionsExecuted: ['forward'], matchedRulePriority: 0 });
    expect(elb.applicationLoadBalancer('app').jwksFetches).toBe(0);
  });
});

describe('jwt-validation: an invalid or missing token is refused with 401 and WWW-Authenticate, and never reaches the target', () => {
  const hour = 3600;
  const now = () => Math.floor(Date.now() / 1000);
  it.each<[string, () => Promise<string | undefined>, string]>([
    ['no Authorization header', async () => undefined, 'Bearer'],
    ['a Basic Authorization header', async () => 'Basic dXNlcjpwYXNz', 'Bearer'],
    ['an expired token', async () => `Bearer ${await token({ exp: now() - 1 })}`, 'Bearer error="invalid_token"'],
    ['a token without exp', async () => `Bearer ${await token({ exp: undefined })}`, 'Bearer error="invalid_token"'],
    ['a token whose nbf is in the future', async () => `Bearer ${await token({ nbf: now() + hour })}`, 'Bearer error="invalid_token"'],
    ['a token whose iat is in the future', async () => `Bearer ${await token({ iat: now() + hour })}`, 'Bearer error="invalid_token"'],
    ['a token from another issuer', async () => `Bearer ${await token({ iss: 'https://evil.example.test' })}`, 'Bearer error="invalid_token"'],
    ['a token without iss', async () => `Bearer ${await token({ iss: undefined })}`, 'Bearer error="invalid_token"'],
    ['a bad signature (another key, the published kid)', async () => `Bearer ${await token({}, { key: k2, kid: 'k1' })}`, 'Bearer error="invalid_token"'],
    ['a kid the JWKS does not have', async () => `Bearer ${await token({}, { key: k2 })}`, 'Bearer error="invalid_token"'],
    ['a token that is not a JWT', async () => 'Bearer not.a.jwt', 'Bearer error="invalid_token"'],
  ])('refuses %s', async (_name, authorization, wwwAuthenticate) => {
    const { url, target, records } = await start();
    const seen = target.seen.length;
    const res = await get(`${url}/api/x`, await authorization());
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe(wwwAuthenticate);
    expect(res.headers.server).toBe('awselb/2.0');
    expect(res.body).toContain('401 Authorization Required');
    expect(target.seen.length).toBe(seen);
    expect(records.at(-1)).toMatchObject({ elbStatusCode: 401, producedBy: 'elb', actionsExecuted: ['jwt-validation'], matchedRulePriority: 1 });
    expect(records.at(-1)!.errorReason).toBeUndefined();
  });

  it('refuses an HS256 token signed with the public modulus as secret (only RS256 is taken)', async () => {
    const { url } = await start();
    const forged = await new SignJWT({ iss: ISSUER, exp: now() + hour }).setProtectedHeader({ alg: 'HS256', kid: 'k1' }).sign(new TextEncoder().encode(k1.jwk.n!));
    expect((await get(`${url}/api/x`, `Bearer ${forged}`)).status).toBe(401);
  });

  it('counts its 401s in HTTPCode_ELB_4XX_Count and the JWKS 500s in HTTPCode_ELB_5XX_Count (AWS documents no JWT metric)', async () => {
    const { elb, url } = await start();
    await get(`${url}/api/x`);
    await get(`${url}/api/x`, `Bearer ${await token({ iss: 'https://evil.example.test' })}`);
    await get(`${url}/down/x`, `Bearer ${await token()}`);
    expect(await metricSum(elb, 'HTTPCode_ELB_4XX_Count', { load_balancer: 'app' })).toBe(2);
    expect(await metricSum(elb, 'HTTPCode_ELB_5XX_Count', { load_balancer: 'app' })).toBe(1);
    expect(await metricSum(elb, 'ELBAuthFailure', { load_balancer: 'app' })).toBe(0);
  });

  it('leaves WWW-Authenticate out when emulator.jwtValidation.wwwAuthenticate is false', async () => {
    const { url } = await start({ wwwAuthenticate: false });
    const res = await get(`${url}/api/x`);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBeUndefined();
  });
});

describe('jwt-validation: additional claims by their format', () => {
  it.each<[string, number, string, JWTPayload]>([
    ['single-string equal to a value', 200, '/single/x', { admin: 'true' }],
    ['single-string with another value', 401, '/single/x', { admin: 'false' }],
    ['single-string that is an array', 401, '/single/x', { admin: ['true'] }],
    ['single-string missing', 401, '/single/x', {}],
    ['string-array holding one of the values', 200, '/array/x', { ver: ['1', '19'] }],
    ['string-array holding none of them', 401, '/array/x', { ver: ['1', '2'] }],
    ['string-array that is a string', 401, '/array/x', { ver: '6' }],
    ['space-separated-values holding one of them', 200, '/scope/x', { scope: 'openid read:api' }],
    ['space-separated-values holding none', 401, '/scope/x', { scope: 'openid read' }],
    ['space-separated-values that is an array', 401, '/scope/x', { scope: ['read:api'] }],
  ])('%s → %i', async (_name, status, path, claims) => {
    const { url } = await start();
    expect((await get(`${url}${path}`, `Bearer ${await token(claims)}`)).status).toBe(status);
  });

  it('with additionalClaimMatch all-values, needs every value', async () => {
    const { url } = await start({ additionalClaimMatch: 'all-values' });
    expect((await get(`${url}/scope/x`, `Bearer ${await token({ scope: 'read:api' })}`)).status).toBe(401);
    expect((await get(`${url}/scope/x`, `Bearer ${await token({ scope: 'write read:api email' })}`)).status).toBe(200);
  });
});

describe('jwt-validation: the JWKS endpoint', () => {
  it.each([
    ['over 150 KB', '/big/x', 'JwksResponseTooLarge'],
    ['with 11 keys', '/many/x', 'JwksTooManyKeys'],
    ['answering 503', '/down/x', 'JwksRequestFailed'],
  ])('does not forward when the key set is %s: 500', async (_name, path, errorCode) => {
    const { url, target, records } = await start();
    const seen = target.seen.length;
    const res = await get(`${url}${path}`, `Bearer ${await token()}`);
    expect(res.status).toBe(500);
    expect(res.headers['www-authenticate']).toBeUndefined();
    expect(target.seen.length).toBe(seen);
    expect(records.at(-1)).toMatchObject({ elbStatusCode: 500, errorCode, actionsExecuted: ['jwt-validation'] });
  });

  it('answers 500 JwksRequestTimeout when the endpoint does not answer within jwksTimeoutMs on the clock', async () => {
    const clock = new VirtualClock(Date.now());
    const { url, target, records } = await start({ jwksTimeoutMs: 2000 }, clock);
    const seen = target.seen.length;
    const asked = secure.requests.filter((r) => r === '/hang').length;
    const pending = get(`${url}/hang/x`, `Bearer ${await token({}, { nowMs: clock.now() })}`);
    await waitFor(() => secure.requests.filter((r) => r === '/hang').length > asked, { what: 'the JWKS request' });
    await clock.advance(1_999);
    expect(records.filter((r) => r.errorCode === 'JwksRequestTimeout')).toEqual([]);
    await clock.advance(1);
    expect((await pending).status).toBe(500);
    expect(target.seen.length).toBe(seen);
    expect(records.at(-1)).toMatchObject({ elbStatusCode: 500, errorCode: 'JwksRequestTimeout', actionsExecuted: ['jwt-validation'] });
  });

  it('keeps the keys jwksCacheSeconds on the clock, and asks again for a kid it lacks (at most every 10 s) so a rotated key works', async () => {
    const clock = new VirtualClock(Date.now());
    const { elb, url } = await start({ jwksCacheSeconds: 60 }, clock);
    const alb = elb.applicationLoadBalancer('app');
    secure.keys = [k1.jwk];
    defer(() => (secure.keys = [k1.jwk]));
    expect((await get(`${url}/api/x`, `Bearer ${await token({}, { nowMs: clock.now() })}`)).status).toBe(200);
    expect(alb.jwksFetches).toBe(1);
    // The IdP rotates in k2: within 10 s of the fetch a k2 token is refused without asking again.
    secure.keys = [k1.jwk, k2.jwk];
    await clock.advance(5_000);
    expect((await get(`${url}/api/x`, `Bearer ${await token({}, { key: k2, nowMs: clock.now() })}`)).status).toBe(401);
    expect(alb.jwksFetches).toBe(1);
    await clock.advance(5_000);
    expect((await get(`${url}/api/x`, `Bearer ${await token({}, { key: k2, nowMs: clock.now() })}`)).status).toBe(200);
    expect(alb.jwksFetches).toBe(2);
    // k1 is withdrawn: the kept set still has it until jwksCacheSeconds pass.
    secure.keys = [k2.jwk];
    expect((await get(`${url}/api/x`, `Bearer ${await token({}, { nowMs: clock.now() })}`)).status).toBe(200);
    await clock.advance(60_000);
    expect((await get(`${url}/api/x`, `Bearer ${await token({}, { nowMs: clock.now() })}`)).status).toBe(401);
    expect(alb.jwksFetches).toBe(3);
  });
});

describe('jwt-validation with curl', () => {
  async function curl(args: string[]): Promise<string> {
    const { stdout } = await run('curl', ['-sS', '--max-time', '10', '--cacert', ca.certPath, '-D', '-', '-o', '/dev/null', ...args], { encoding: 'utf8' });
    return stdout;
  }

  it('gets 200 with -H "Authorization: Bearer …" and 401 with WWW-Authenticate without it', async () => {
    const { url, target } = await start();
    const bearer = `Bearer ${await token()}`;
    expect(await curl(['-H', `Authorization: ${bearer}`, `${url}/api/curl`])).toMatch(/^HTTP\/(1\.1|2) 200 /);
    expect(target.seen.at(-1)!.headers.authorization).toBe(bearer);
    const refused = await curl([`${url}/api/curl`]);
    expect(refused).toMatch(/^HTTP\/(1\.1|2) 401 /);
    expect(refused).toMatch(/\r\nWWW-Authenticate: Bearer\r\n/i);
  });
});
