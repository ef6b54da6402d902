/**
 * The authenticate-oidc and authenticate-cognito actions (spec 13.2.3–13.2.8): the step before
 * a rule's routing action, and the identity provider's callback (`/oauth2/idpresponse`).
 *
 * A request with a valid session (the `<SessionCookieName>-N` cookies) goes on to the routing
 * action with `x-amzn-oidc-accesstoken`, `x-amzn-oidc-identity` and `x-amzn-oidc-data` (a new
 * ES256 JWT each time); one whose access token has expired is refreshed first when the
 * provider gave a refresh token (`ELBAuthRefreshTokenSuccess`, new cookies on the response).
 * One without a session gets `onUnauthenticatedRequest`: `authenticate` a 302 to the provider
 * with an `AWSALBAuthNonce` cookie, `allow` the routing action without the headers, `deny` 401
 * (but an expired session goes to the provider, as AWS documents). Client-sent `x-amzn-oidc-*`
 * never reach the target. The callback checks `state`, the nonce and the 15-minute window,
 * exchanges the code, reads the user info, sets the session and sends the browser back to what
 * it first asked for. Every failure is an `error_reason` and a metric (spec 13.2.8); the
 * answer stage gives its status.
 */
import { ErrorCodes } from '../../core/errors.ts';
import type { AuthenticateActionConfig } from '../../config/authenticate.ts';
import type { AuthenticateStep } from '../auth/authentication.ts';
import { tokenRequest, userInfoRequest, type IdpResult, type Tokens } from '../auth/idp-client.ts';
import {
  expiredCookie,
  expiredSessionCookies,
  isCorsRequest,
  newNonce,
  NONCE_COOKIE,
  requestCookies,
  sessionCookieValue,
  sessionSetCookies,
  type SessionRecord,
} from '../auth/session.ts';
import { userClaimsToken } from '../auth/user-claims.ts';
import { lowerName } from '../headers.ts';
import { answerAction, answerAuthentication, type AuthenticationOutcome } from '../pipeline/answer.ts';
import type { RequestContext } from '../pipeline/context.ts';
import { finish } from '../pipeline/record.ts';

/** Where the identity provider sends the browser back (spec 13.2.2). */
export const CALLBACK_PATH = '/oauth2/idpresponse';
/** The login must finish within 15 minutes of the redirect (spec 13.2.3). */
export const LOGIN_WINDOW_MS = 15 * 60 * 1000;

const EXECUTED = Object.freeze(['authenticate']);
const EMPTY = Buffer.alloc(0);

/** Which CloudWatch metric each failure counts in (spec 13.2.8; the nonce codes' metric is UNCONFIRMED: ELBAuthFailure). */
const failureMetric: Readonly<Record<Exclude<AuthenticationOutcome, 'Denied'>, 'failure' | 'error' | 'claimsSize'>> = {
  IdentityProviderError: 'failure',
  AuthInvalidCookie: 'failure',
  AuthInvalidGrantError: 'failure',
  AuthInvalidIdToken: 'failure',
  AuthInvalidStateParam: 'failure',
  AuthMissingStateParam: 'failure',
  AuthInvalidAWSALBAuthNonce: 'failure',
  AuthMissingAWSALBAuthNonce: 'failure',
  AuthInvalidTokenResponse: 'failure',
  AuthInvalidUserinfoResponse: 'failure',
  AuthMissingCodeParam: 'failure',
  AuthMissingHostHeader: 'error',
  AuthTokenEpRequestFailed: 'error',
  AuthUserinfoEpRequestFailed: 'error',
  AuthTokenEpRequestTimeout: 'error',
  AuthUserinfoEpRequestTimeout: 'error',
  AuthUnhandledException: 'error',
  AuthUserinfoResponseSizeExceeded: 'claimsSize',
};

/** Answers a failure: its status (answer stage), `error_reason`, and metric. */
function fail(ctx: RequestContext, outcome: AuthenticationOutcome, detail?: string, headers: readonly string[] = []): void {
  const counters = ctx.listener.counters.authentication;
  if (outcome !== 'Denied') {
    const metric = failureMetric[outcome];
    if (metric === 'failure') counters.failure++;
    else if (metric === 'error') counters.error++;
    else counters.userClaimsSizeExceeded++;
  }
  if (detail !== undefined) ctx.listener.log.debug({ event: 'auth.failed', reason: outcome, detail }, `authentication: ${outcome}: ${detail}`);
  if (ctx.actionsExecuted.length === 0) ctx.actionsExecuted = EXECUTED;
  answerAuthentication(ctx, outcome, headers);
}

/** The client's headers without any `x-amzn-oidc-*` (spec 13.2.5: only the load balancer sets them). */
function withoutOidcHeaders(raw: readonly string[]): readonly string[] {
  let found = false;
  for (let i = 0; i < raw.length && !found; i += 2) found = raw[i]!.length > 12 && lowerName(raw[i]!).startsWith('x-amzn-oidc-');
  if (!found) return raw;
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if (!lowerName(raw[i]!).startsWith('x-amzn-oidc-')) out.push(raw[i]!, raw[i + 1]!);
  return out;
}

/**
 * The authenticate step of a matched rule: `route` runs the routing action once the request
 * may go on (at once, or after a refresh at the token endpoint).
 */
export function authenticate(ctx: RequestContext, action: AuthenticateActionConfig, route: () => void): void {
  const auth = ctx.listener.auth;
  const step = auth?.stepFor(action);
  if (auth === undefined || step === undefined) return fail(ctx, 'AuthUnhandledException', 'no authentication state for this action');
  ctx.forwardedHeaders = withoutOidcHeaders(ctx.rawHeaders);
  const now = ctx.listener.clock.now();
  const cookies = requestCookies(ctx.rawHeaders);
  const name = step.settings.sessionCookieName;
  const found = sessionCookieValue(cookies, name);
  if (found === 'none') return unauthenticated(ctx, step, false, route);
  const shards = found === 'partial' ? 0 : found.shards;
  const record = found === 'partial' ? undefined : auth.sealer.openSession(found.value);
  // The 401 also expires the shards, so a browser holding another process's cookies (local-elb restarted) starts over.
  if (record === undefined) return fail(ctx, 'AuthInvalidCookie', `the ${name}-N cookies are ${found === 'partial' ? 'incomplete' : 'not a session of this load balancer'}`, expiredSessionCookies(cookies, name).flatMap((c) => ['Set-Cookie', c]));
  if (record.sessionExpiresAtMs <= now) return unauthenticated(ctx, step, true, route);
  if (record.refreshToken !== undefined && record.accessTokenExpiresAtMs !== undefined && record.accessTokenExpiresAtMs <= now) {
    void refreshSession(ctx, step, record, shards, route).catch((err: unknown) => unhandled(ctx, err));
    return;
  }
  signedIn(ctx, step, record, route);
}

function unhandled(ctx: RequestContext, err: unknown): void {
  ctx.listener.log.error({ err, event: 'auth.internal_error' }, 'authentication failed unexpectedly');
  if (!ctx.finished) fail(ctx, 'AuthUnhandledException');
}

/** On to the routing action with the three headers of spec 13.2.5. */
function signedIn(ctx: RequestContext, step: AuthenticateStep, record: SessionRecord, route: () => void, setCookies?: readonly string[]): void {
  const auth = ctx.listener.auth!;
  const exp = Math.floor((ctx.listener.clock.now() + auth.oidcDataLifetimeMs) / 1000);
  const data = userClaimsToken(auth.key, { iss: step.provider.issuer, client: step.provider.clientId, signer: auth.signer, exp }, record.claims);
  ctx.forwardedHeaders = [...ctx.forwardedHeaders, 'x-amzn-oidc-accesstoken', record.accessToken, 'x-amzn-oidc-identity', record.claims.sub, 'x-amzn-oidc-data', data];
  ctx.authenticated = true;
  if (setCookies !== undefined) ctx.setCookies = setCookies;
  route();
}

/** No session (or an expired one, or a refresh that failed): what `onUnauthenticatedRequest` says. */
function unauthenticated(ctx: RequestContext, step: AuthenticateStep, expired: boolean, route: () => void): void {
  switch (step.settings.onUnauthenticatedRequest) {
    case 'allow':
      ctx.authenticated = true;
      return route();
    case 'deny':
      // "A client whose session information has expired is redirected to the IdP" (spec 13.2.3).
      if (!expired) return fail(ctx, 'Denied');
      return redirectToProvider(ctx, step);
    case 'authenticate':
      return redirectToProvider(ctx, step);
  }
}

/** Step 1 of spec 13.2.3: 302 to the authorization endpoint with the `AWSALBAuthNonce` cookie. */
function redirectToProvider(ctx: RequestContext, step: AuthenticateStep): void {
  const auth = ctx.listener.auth!;
  // No Host (an HTTP/1.0 request): no redirect URI can be built (spec 13.2.8: 401).
  if (ctx.host === '') return fail(ctx, 'AuthMissingHostHeader', 'the request has no Host header');
  const nonce = newNonce();
  const state = auth.sealer.sealState({ nonce, step: step.index, originalPath: ctx.path, createdMs: ctx.listener.clock.now() });
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: step.provider.clientId,
    redirect_uri: `https://${ctx.host}${CALLBACK_PATH}`,
    scope: step.settings.scope,
    state,
  });
  for (const [k, v] of Object.entries(step.settings.authenticationRequestExtraParams ?? {})) query.set(k, v);
  const location = `${auth.authorizationEndpoint(step)}?${query.toString()}`;
  ctx.actionsExecuted = EXECUTED;
  ctx.redirectUrl = location;
  answerAction(ctx, 302, ['Location', location, 'Set-Cookie', `${NONCE_COOKIE}=${nonce}; Path=/`, 'Cache-Control', 'no-cache, no-store'], EMPTY);
}

/** The access token expired and there is a refresh token (spec 13.2.7): new tokens and claims, or a new login. */
async function refreshSession(ctx: RequestContext, step: AuthenticateStep, record: SessionRecord, shards: number, route: () => void): Promise<void> {
  const auth = ctx.listener.auth!;
  const clock = ctx.listener.clock;
  const client = auth.client(step);
  const started = clock.now();
  const tokens = await tokenRequest(client, { refreshToken: record.refreshToken! }, clock);
  const claims = tokens.ok ? await userInfoRequest(client, tokens.value.accessToken, clock) : tokens;
  ctx.listener.counters.authentication.observeLatency(clock.now() - started);
  if (clientLeft(ctx)) return;
  if (!tokens.ok || !claims.ok) {
    const failed = !tokens.ok ? tokens : (claims as Extract<typeof claims, { ok: false }>);
    ctx.listener.log.debug({ event: 'auth.refresh_failed', reason: failed.reason, detail: failed.detail }, `authentication: refresh failed (${failed.reason}): ${failed.detail}; a new login`);
    return unauthenticated(ctx, step, true, route);
  }
  const next: SessionRecord = { ...newRecord(tokens.value, claims.value, record.sessionExpiresAtMs), refreshToken: tokens.value.refreshToken ?? record.refreshToken };
  const setCookies = sessionSetCookies(step.settings.sessionCookieName, auth.sealer.sealSession(next), shards, clock.now(), isCorsRequest(ctx.rawHeaders));
  if (setCookies === undefined) return fail(ctx, 'AuthUserinfoResponseSizeExceeded', 'the session does not fit in four cookies');
  ctx.listener.counters.authentication.refreshTokenSuccess++;
  signedIn(ctx, step, next, route, setCookies);
}

function newRecord(tokens: Tokens, claims: Record<string, unknown> & { sub: string }, sessionExpiresAtMs: number): SessionRecord {
  return { claims, accessToken: tokens.accessToken, accessTokenExpiresAtMs: tokens.accessTokenExpiresAtMs, refreshToken: tokens.refreshToken, sessionExpiresAtMs };
}

/** The client went away while the load balancer waited on the identity provider: the request ends as 460. */
export function clientLeft(ctx: RequestContext): boolean {
  if (!ctx.response.finished) return false;
  ctx.status = 460;
  ctx.producedBy = 'elb';
  ctx.errorCode = ErrorCodes.CLIENT_CLOSED;
  finish(ctx);
  return true;
}

/** True for the identity provider's redirect back (spec 13.2.3 step 3), intercepted on listeners with authenticate actions. */
export function isAuthenticationCallback(ctx: RequestContext): boolean {
  const path = ctx.path;
  return (ctx.method === 'GET' || ctx.method === 'HEAD') && path.startsWith(CALLBACK_PATH) && (path.length === CALLBACK_PATH.length || path[CALLBACK_PATH.length] === '?');
}

/** Step 3 of spec 13.2.3: the rule comes back from `state`; the session is set and the browser sent to where it started. */
export function authenticationCallback(ctx: RequestContext): void {
  void callback(ctx).catch((err: unknown) => unhandled(ctx, err));
}

async function callback(ctx: RequestContext): Promise<void> {
  const auth = ctx.listener.auth!;
  const clock = ctx.listener.clock;
  ctx.actionsExecuted = EXECUTED;
  const q = ctx.path.indexOf('?');
  const params = new URLSearchParams(q < 0 ? '' : ctx.path.slice(q + 1));
  const stateText = params.get('state');
  if (stateText === null || stateText === '') return fail(ctx, 'AuthMissingStateParam', 'the callback has no state');
  const state = auth.sealer.openState(stateText);
  const step = state === undefined ? undefined : auth.step(state.step);
  if (state === undefined || step === undefined) return fail(ctx, 'AuthInvalidStateParam', 'the state is not one this load balancer made');
  ctx.match = { action: step.routing, priority: step.priority, evaluations: 0, authenticate: step.action };
  if (clock.now() - state.createdMs > LOGIN_WINDOW_MS) return fail(ctx, 'AuthInvalidStateParam', 'the login did not finish within 15 minutes of the redirect');
  const cookies = requestCookies(ctx.rawHeaders);
  const nonce = cookies.get(NONCE_COOKIE);
  if (nonce === undefined) return fail(ctx, 'AuthMissingAWSALBAuthNonce', `no ${NONCE_COOKIE} cookie`);
  if (nonce !== state.nonce) return fail(ctx, 'AuthInvalidAWSALBAuthNonce', `the ${NONCE_COOKIE} cookie is not the one the redirect set`);
  const idpError = params.get('error');
  if (idpError !== null) return fail(ctx, 'IdentityProviderError', `the identity provider answered error=${idpError}${params.get('error_description') ? `: ${params.get('error_description')}` : ''}`);
  const code = params.get('code');
  if (code === null || code === '') return fail(ctx, 'AuthMissingCodeParam', 'the callback has no code');
  if (ctx.host === '') return fail(ctx, 'AuthMissingHostHeader', 'the callback has no Host header');
  const client = auth.client(step);
  const started = clock.now();
  const tokens = await tokenRequest(client, { code, redirectUri: `https://${ctx.host}${CALLBACK_PATH}` }, clock);
  const claims: IdpResult<Record<string, unknown> & { sub: string }> = tokens.ok ? await userInfoRequest(client, tokens.value.accessToken, clock) : tokens;
  ctx.listener.counters.authentication.observeLatency(clock.now() - started);
  if (clientLeft(ctx)) return;
  if (!tokens.ok) return fail(ctx, tokens.reason, tokens.detail);
  if (!claims.ok) return fail(ctx, claims.reason, claims.detail);
  const now = clock.now();
  const record = newRecord(tokens.value, claims.value, now + step.settings.sessionTimeout * 1000);
  const previous = sessionCookieValue(cookies, step.settings.sessionCookieName);
  const setCookies = sessionSetCookies(step.settings.sessionCookieName, auth.sealer.sealSession(record), typeof previous === 'object' ? previous.shards : 0, now, isCorsRequest(ctx.rawHeaders));
  if (setCookies === undefined) return fail(ctx, 'AuthUserinfoResponseSizeExceeded', 'the session does not fit in four cookies');
  ctx.listener.counters.authentication.success++;
  const location = `https://${ctx.host}${state.originalPath}`;
  ctx.redirectUrl = location;
  answerAction(ctx, 302, ['Location', location, ...setCookies.flatMap((c) => ['Set-Cookie', c]), 'Set-Cookie', expiredCookie(NONCE_COOKIE), 'Cache-Control', 'no-cache, no-store'], EMPTY);
}
