/**
 * The local identity provider that stands in for the one an authenticate action names
 * (README, "Authentication"; spec 13.2.3), and the load balancer's public-key endpoint, on one
 * plain-HTTP server of their own:
 *
 * - `GET /oauth2/authorize` — the login page listing `emulator.identities` (a form per
 *   identity, and a "Deny" that answers the load balancer with `error=access_denied`, so 561
 *   can be seen); with `emulator.signInAs`, or this provider's own session cookie from an
 *   earlier sign-in, a code at once (spec 13.2.7: the IdP may re-issue a code silently).
 * - `POST /oauth2/authorize` — the page's form: 302 to `redirect_uri?code=…&state=…`.
 * - `POST /oauth2/token` — `authorization_code` (codes are single use, 5 minutes) and
 *   `refresh_token` grants; the client authenticates with HTTP Basic or form fields (both are
 *   accepted: which one ALB uses is UNCONFIRMED); an ID token (ES256, signed with jose) when
 *   the scope has `openid`.
 * - `GET /oauth2/userInfo` — the identity's claims for a Bearer access token.
 * - `GET /logout` — ends this provider's session and revokes the user's refresh tokens, then
 *   302 to `logout_uri` / `post_logout_redirect_uri` when given (Cognito's and OIDC's names).
 * - `GET /<kid>` — a public key the load balancer published, as PEM: the shape of
 *   `https://public-keys.auth.elb.<region>.amazonaws.com/<kid>` (spec 13.2.6).
 *
 * State (codes, tokens, sessions) is in memory, on the injected clock; nothing persists.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { generateKeyPair, SignJWT } from 'jose';
import { hostForUrl } from '../../core/addresses.ts';
import type { Clock } from '../../core/clock.ts';
import { bindListener } from '../../core/listen.ts';
import type { Logger } from '../../core/logger.ts';

export type Identity = { readonly sub: string } & Readonly<Record<string, unknown>>;

/** An OAuth client the provider knows (an authenticate action of the load balancer). */
export interface IdentityProviderClient {
  readonly clientId: string;
  /** Checked when given (OIDC actions); Cognito pool clients have one only in AWS. */
  readonly clientSecret: string | undefined;
  /** The issuer the provider stands in for: its ID tokens carry it. */
  readonly issuer: string;
}

export interface LocalIdentityProviderOptions {
  readonly identities: readonly Identity[];
  /** Sign this identity in without the login page. */
  readonly signInAs?: string | undefined;
  readonly address: string;
  readonly port: number;
  readonly accessTokenLifetimeSeconds: number;
  readonly refreshTokens: boolean;
  readonly clock: Clock;
  readonly log: Logger;
}

const CODE_LIFETIME_MS = 5 * 60 * 1000;
const SESSION_COOKIE = 'LocalElbIdpSession';

interface CodeGrant {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly sub: string;
  readonly scope: string;
  readonly expiresAtMs: number;
}
interface AccessGrant {
  readonly sub: string;
  readonly clientId: string;
  readonly expiresAtMs: number;
}
interface RefreshGrant {
  readonly sub: string;
  readonly clientId: string;
  readonly scope: string;
}

const token = () => randomBytes(24).toString('base64url');

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export class LocalIdentityProvider {
  readonly #o: LocalIdentityProviderOptions;
  readonly #identities: ReadonlyMap<string, Identity>;
  readonly #clients = new Map<string, IdentityProviderClient>();
  readonly #keys = new Map<string, string>();
  readonly #codes = new Map<string, CodeGrant>();
  readonly #access = new Map<string, AccessGrant>();
  readonly #refresh = new Map<string, RefreshGrant>();
  readonly #sessions = new Map<string, string>();
  #idTokenKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'] | undefined;
  #server: http.Server | undefined;
  #url = '';

  constructor(options: LocalIdentityProviderOptions) {
    this.#o = options;
    this.#identities = new Map(options.identities.map((i) => [i.sub, i]));
  }

  /** `http://address:port`, once started. */
  get url(): string {
    return this.#url;
  }

  register(client: IdentityProviderClient): void {
    this.#clients.set(client.clientId, client);
  }

  /** Serves `pem` at `/<kid>`. */
  publishKey(kid: string, pem: string): void {
    this.#keys.set(kid, pem);
  }

  async start(): Promise<void> {
    this.#idTokenKey = (await generateKeyPair('ES256')).privateKey;
    const server = http.createServer((req, res) => {
      this.#handle(req, res).catch((err: unknown) => {
        this.#o.log.error({ err, event: 'idp.internal_error' }, 'local identity provider failed a request');
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('internal error');
      });
    });
    this.#server = server;
    const { address, port } = this.#o;
    await bindListener(server, (done) => server.listen(port, address, done), `the local identity provider on ${address}:${port}`, this.#o.log);
    this.#url = `http://${hostForUrl(address)}:${(server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    const server = this.#server;
    if (server === undefined) return;
    this.#server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async #handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://idp.local');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    if (path === '/oauth2/authorize' && method === 'GET') return this.#authorize(req, res, url.searchParams);
    if (path === '/oauth2/authorize' && method === 'POST') return this.#signIn(res, new URLSearchParams(await readBody(req)));
    if (path === '/oauth2/token' && method === 'POST') return this.#token(req, res, new URLSearchParams(await readBody(req)));
    if (path.toLowerCase() === '/oauth2/userinfo' && (method === 'GET' || method === 'POST')) return this.#userInfo(req, res);
    if (path === '/logout' && method === 'GET') return this.#logout(req, res, url.searchParams);
    const pem = this.#keys.get(path.slice(1));
    if (pem !== undefined && method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/x-pem-file', 'content-length': Buffer.byteLength(pem) });
      res.end(pem);
      return;
    }
    if (path === '/' && method === 'GET') return html(res, 200, this.#indexPage());
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found');
  }

  /** The authorization request (spec 13.2.3 step 1's redirect): checks it, then the login page or a code. */
  #authorize(req: http.IncomingMessage, res: http.ServerResponse, q: URLSearchParams): void {
    const request = this.#authorizationRequest(q);
    if (typeof request === 'string') return html(res, 400, page('Bad authorization request', `<p>${escapeHtml(request)}</p>`));
    const silent = this.#o.signInAs ?? (q.get('prompt') === 'login' ? undefined : this.#sessions.get(cookie(req, SESSION_COOKIE) ?? ''));
    if (silent !== undefined && this.#identities.has(silent)) return this.#redirectWithCode(res, request, silent);
    const hidden = (['client_id', 'redirect_uri', 'state', 'scope'] as const)
      .map((k) => `<input type="hidden" name="${k}" value="${escapeHtml(q.get(k) ?? '')}">`)
      .join('');
    const forms = [...this.#identities.values()]
      .map((identity) => {
        const label = [identity.name, identity.email].filter((v) => typeof v === 'string').join(' · ');
        return (
          `<form method="post" action="/oauth2/authorize" data-identity="${escapeHtml(identity.sub)}">${hidden}` +
          `<input type="hidden" name="identity" value="${escapeHtml(identity.sub)}">` +
          `<button type="submit">Sign in as <b>${escapeHtml(identity.sub)}</b>${label ? ` <small>${escapeHtml(label)}</small>` : ''}</button></form>`
        );
      })
      .join('\n');
    const deny = `<form method="post" action="/oauth2/authorize" data-identity="">${hidden}<input type="hidden" name="deny" value="1"><button type="submit">Deny access (the load balancer answers 561)</button></form>`;
    const redirect = new URL(request.redirectUri);
    html(
      res,
      200,
      page(
        'Sign in',
        `<p>local-elb's identity provider, standing in for <code>${escapeHtml(request.client.issuer)}</code>. ` +
          `Client <code>${escapeHtml(request.client.clientId)}</code> on <code>${escapeHtml(redirect.host)}</code> asks for <code>${escapeHtml(request.scope)}</code>.</p>\n${forms}\n${deny}`,
      ),
    );
  }

  #authorizationRequest(q: URLSearchParams): { client: IdentityProviderClient; redirectUri: string; scope: string; state: string } | string {
    const client = this.#clients.get(q.get('client_id') ?? '');
    if (client === undefined) return `unknown client_id ${JSON.stringify(q.get('client_id'))}; known: ${[...this.#clients.keys()].join(', ') || 'none'}`;
    const redirectUri = q.get('redirect_uri') ?? '';
    if (!/^https:\/\/[^/]+\/oauth2\/idpresponse$/.test(redirectUri)) return `redirect_uri must be https://<load balancer>/oauth2/idpresponse: got ${JSON.stringify(redirectUri)}`;
    if ((q.get('response_type') ?? 'code') !== 'code') return `response_type must be code: got ${JSON.stringify(q.get('response_type'))}`;
    return { client, redirectUri, scope: q.get('scope') ?? 'openid', state: q.get('state') ?? '' };
  }

  /** The login page's form: a chosen identity gets a code, "Deny" the error ALB answers 561 to. */
  #signIn(res: http.ServerResponse, form: URLSearchParams): void {
    const request = this.#authorizationRequest(form);
    if (typeof request === 'string') return html(res, 400, page('Bad authorization request', `<p>${escapeHtml(request)}</p>`));
    if (form.get('deny') !== null) {
      const to = new URL(request.redirectUri);
      to.searchParams.set('error', 'access_denied');
      to.searchParams.set('error_description', 'The user denied access at the local login page');
      if (request.state) to.searchParams.set('state', request.state);
      return redirect(res, to.href);
    }
    const sub = form.get('identity') ?? '';
    if (!this.#identities.has(sub)) return html(res, 400, page('Unknown identity', `<p>${escapeHtml(sub)} is not one of emulator.identities</p>`));
    const session = token();
    this.#sessions.set(session, sub);
    this.#redirectWithCode(res, request, sub, `${SESSION_COOKIE}=${session}; Path=/; HttpOnly`);
  }

  #redirectWithCode(res: http.ServerResponse, request: { client: IdentityProviderClient; redirectUri: string; scope: string; state: string }, sub: string, setCookie?: string): void {
    const code = token();
    this.#codes.set(code, { clientId: request.client.clientId, redirectUri: request.redirectUri, sub, scope: request.scope, expiresAtMs: this.#o.clock.now() + CODE_LIFETIME_MS });
    const to = new URL(request.redirectUri);
    to.searchParams.set('code', code);
    if (request.state) to.searchParams.set('state', request.state);
    redirect(res, to.href, setCookie);
  }

  async #token(req: http.IncomingMessage, res: http.ServerResponse, form: URLSearchParams): Promise<void> {
    const credentials = clientCredentials(req, form);
    const client = this.#clients.get(credentials.clientId);
    if (client === undefined || (client.clientSecret !== undefined && client.clientSecret !== credentials.clientSecret)) {
      return json(res, 401, { error: 'invalid_client', error_description: 'unknown client or wrong client secret' });
    }
    const now = this.#o.clock.now();
    let sub: string;
    let scope: string;
    const grant = form.get('grant_type');
    if (grant === 'authorization_code') {
      const code = this.#codes.get(form.get('code') ?? '');
      this.#codes.delete(form.get('code') ?? '');
      if (code === undefined || code.expiresAtMs <= now || code.clientId !== client.clientId || code.redirectUri !== form.get('redirect_uri')) {
        return json(res, 400, { error: 'invalid_grant', error_description: 'the code is unknown, used, expired, or for another client or redirect_uri' });
      }
      ({ sub, scope } = code);
    } else if (grant === 'refresh_token') {
      const refresh = this.#refresh.get(form.get('refresh_token') ?? '');
      if (refresh === undefined || refresh.clientId !== client.clientId) return json(res, 400, { error: 'invalid_grant', error_description: 'the refresh token is unknown or revoked' });
      ({ sub, scope } = refresh);
    } else {
      return json(res, 400, { error: 'unsupported_grant_type' });
    }
    const identity = this.#identities.get(sub)!;
    this.#prune(now);
    const accessToken = token();
    const lifetimeMs = this.#o.accessTokenLifetimeSeconds * 1000;
    this.#access.set(accessToken, { sub, clientId: client.clientId, expiresAtMs: now + lifetimeMs });
    const body: Record<string, unknown> = { access_token: accessToken, token_type: 'Bearer', expires_in: this.#o.accessTokenLifetimeSeconds, scope };
    if (scope.split(' ').includes('openid')) {
      const nowSeconds = Math.floor(now / 1000);
      body.id_token = await new SignJWT({ ...identity })
        .setProtectedHeader({ alg: 'ES256', typ: 'JWT' })
        .setIssuer(client.issuer)
        .setAudience(client.clientId)
        .setSubject(sub)
        .setIssuedAt(nowSeconds)
        .setExpirationTime(nowSeconds + this.#o.accessTokenLifetimeSeconds)
        .sign(this.#idTokenKey!);
    }
    if (this.#o.refreshTokens) {
      const refreshToken = grant === 'refresh_token' ? form.get('refresh_token')! : token();
      this.#refresh.set(refreshToken, { sub, clientId: client.clientId, scope });
      body.refresh_token = refreshToken;
    }
    json(res, 200, body);
  }

  #userInfo(req: http.IncomingMessage, res: http.ServerResponse): void {
    const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    const grant = m ? this.#access.get(m[1]!) : undefined;
    if (grant === undefined || grant.expiresAtMs <= this.#o.clock.now()) {
      res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"', 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'invalid_token' }));
      return;
    }
    json(res, 200, this.#identities.get(grant.sub));
  }

  /** Ends this provider's session and the user's refresh tokens (spec 13.2.7: then a refresh fails and the load balancer asks for a new login). */
  #logout(req: http.IncomingMessage, res: http.ServerResponse, q: URLSearchParams): void {
    const session = cookie(req, SESSION_COOKIE);
    const sub = session === undefined ? undefined : this.#sessions.get(session);
    if (session !== undefined) this.#sessions.delete(session);
    if (sub !== undefined) {
      for (const [t, grant] of this.#refresh) if (grant.sub === sub) this.#refresh.delete(t);
      for (const [t, grant] of this.#access) if (grant.sub === sub) this.#access.delete(t);
    }
    const clear = `${SESSION_COOKIE}=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; HttpOnly`;
    const back = q.get('logout_uri') ?? q.get('post_logout_redirect_uri');
    if (back !== null && /^https?:\/\//.test(back)) return redirect(res, back, clear);
    res.setHeader('set-cookie', clear);
    html(res, 200, page('Signed out', `<p>${sub === undefined ? 'No one was signed in.' : `<b>${escapeHtml(sub)}</b> is signed out.`}</p>`));
  }

  #prune(now: number): void {
    for (const [t, grant] of this.#access) if (grant.expiresAtMs <= now) this.#access.delete(t);
    for (const [c, grant] of this.#codes) if (grant.expiresAtMs <= now) this.#codes.delete(c);
  }

  #indexPage(): string {
    const list = (items: string[]) => `<ul>${items.map((i) => `<li>${i}</li>`).join('')}</ul>`;
    return page(
      "local-elb's identity provider",
      `<p>Stands in for: ${list([...this.#clients.values()].map((c) => `<code>${escapeHtml(c.issuer)}</code> (client <code>${escapeHtml(c.clientId)}</code>)`))}</p>` +
        `<p>Public keys of x-amzn-oidc-data: ${list([...this.#keys.keys()].map((kid) => `<a href="/${kid}">${this.#url}/${kid}</a>`))}</p>` +
        `<p>Identities: ${list([...this.#identities.keys()].map((s) => `<code>${escapeHtml(s)}</code>`))}</p>` +
        `<p><a href="/logout">Sign out</a></p>`,
    );
  }
}

function clientCredentials(req: http.IncomingMessage, form: URLSearchParams): { clientId: string; clientSecret: string | undefined } {
  const m = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  if (m) {
    const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon >= 0) return { clientId: decodeURIComponent(decoded.slice(0, colon)), clientSecret: decodeURIComponent(decoded.slice(colon + 1)) };
  }
  return { clientId: form.get('client_id') ?? '', clientSecret: form.get('client_secret') ?? undefined };
}

function cookie(req: http.IncomingMessage, name: string): string | undefined {
  for (const pair of (req.headers.cookie ?? '').split(';')) {
    const eq = pair.indexOf('=');
    if (eq > 0 && pair.slice(0, eq).trim() === name) return pair.slice(eq + 1).trim();
  }
  return undefined;
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > 64 * 1024) throw new Error('request body over 64 KiB');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function html(res: http.ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function redirect(res: http.ServerResponse, location: string, setCookie?: string): void {
  res.writeHead(302, { location, ...(setCookie !== undefined ? { 'set-cookie': setCookie } : {}), 'content-length': 0 });
  res.end();
}

function page(title: string, body: string): string {
  return (
    `<!doctype html>\n<html><head><meta charset="utf-8"><title>${escapeHtml(title)} · local-elb</title>` +
    `<style>body{font-family:system-ui,sans-serif;max-width:40em;margin:3em auto}form{margin:.5em 0}button{font-size:1em;padding:.4em .8em}</style></head>` +
    `<body><h1>${escapeHtml(title)}</h1>\n${body}\n</body></html>\n`
  );
}
