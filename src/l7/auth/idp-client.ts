/**
 * The load balancer's server-side calls to an identity provider (spec 13.2.3 step 3, 13.2.7):
 * the token endpoint (code → tokens, and refresh) and the user-info endpoint, each with a
 * timeout on the injected clock. Every failure comes back as the access log's `error_reason`
 * (spec 13.2.8); the caller turns it into a status through the answer stage.
 */
import { decodeJwt } from 'jose';
import type { Clock } from '../../core/clock.ts';
import { MAX_CLAIMS_BYTES } from './session.ts';

/** How long one call to the identity provider may take (AWS's limit is UNCONFIRMED; chosen). */
export const IDP_REQUEST_TIMEOUT_MS = 5000;

export type IdpFailure =
  | 'AuthInvalidGrantError'
  | 'AuthInvalidIdToken'
  | 'AuthInvalidTokenResponse'
  | 'AuthInvalidUserinfoResponse'
  | 'AuthTokenEpRequestFailed'
  | 'AuthTokenEpRequestTimeout'
  | 'AuthUserinfoEpRequestFailed'
  | 'AuthUserinfoEpRequestTimeout'
  | 'AuthUserinfoResponseSizeExceeded';

export type IdpResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: IdpFailure; readonly detail: string };

export interface IdpClient {
  readonly clientId: string;
  readonly clientSecret: string | undefined;
  /** The issuer an ID token must name. */
  readonly issuer: string;
  readonly tokenEndpoint: string;
  readonly userInfoEndpoint: string;
}

export interface Tokens {
  readonly accessToken: string;
  /** ms on the caller's clock; undefined when the provider gave no `expires_in`. */
  readonly accessTokenExpiresAtMs: number | undefined;
  readonly refreshToken: string | undefined;
}

const fail = <T>(reason: IdpFailure, detail: string): IdpResult<T> => ({ ok: false, reason, detail });

/** One HTTP call with the clock's timeout; `timeout` is the result when it cannot be made or answered in time. */
async function call(url: string, init: RequestInit, clock: Clock, timeoutMs: number): Promise<{ ok: true; status: number; text: string } | { ok: false; detail: string }> {
  const abort = new AbortController();
  const cancel = clock.setTimer(timeoutMs, () => abort.abort());
  try {
    const res = await fetch(url, { ...init, signal: abort.signal, redirect: 'manual' });
    const text = await res.text();
    return { ok: true, status: res.status, text };
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return { ok: false, detail: abort.signal.aborted ? `no answer within ${timeoutMs} ms` : (cause?.code ?? cause?.message ?? (err as Error).message) };
  } finally {
    cancel();
  }
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(text) as unknown;
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `grant_type=authorization_code` (or `refresh_token`) at the token endpoint, the client
 * authenticating with HTTP Basic. A code exchange must bring an ID token for this client from
 * this issuer (spec 13.2.8: a scope without `openid` gives none, 401); its signature is the
 * provider's business over the back channel, as in OIDC's code flow.
 */
export async function tokenRequest(
  client: IdpClient,
  grant: { readonly code: string; readonly redirectUri: string } | { readonly refreshToken: string },
  clock: Clock,
  timeoutMs = IDP_REQUEST_TIMEOUT_MS,
): Promise<IdpResult<Tokens>> {
  const form = new URLSearchParams('code' in grant ? { grant_type: 'authorization_code', code: grant.code, redirect_uri: grant.redirectUri, client_id: client.clientId } : { grant_type: 'refresh_token', refresh_token: grant.refreshToken, client_id: client.clientId });
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
  if (client.clientSecret !== undefined) headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`).toString('base64')}`;
  const sent = clock.now();
  const res = await call(client.tokenEndpoint, { method: 'POST', headers, body: form.toString() }, clock, timeoutMs);
  if (!res.ok) return fail('AuthTokenEpRequestTimeout', `token endpoint ${client.tokenEndpoint}: ${res.detail}`);
  const body = parseObject(res.text);
  if (res.status < 200 || res.status > 299) {
    if (res.status === 400 && body?.error === 'invalid_grant') return fail('AuthInvalidGrantError', `token endpoint: invalid_grant${typeof body.error_description === 'string' ? `: ${body.error_description}` : ''}`);
    return fail('AuthTokenEpRequestFailed', `token endpoint answered ${res.status}${typeof body?.error === 'string' ? ` ${body.error}` : ''}`);
  }
  if (body === undefined || typeof body.access_token !== 'string' || body.access_token === '') return fail('AuthInvalidTokenResponse', 'token endpoint: no access_token in a JSON object');
  if ('code' in grant) {
    if (typeof body.id_token !== 'string') return fail('AuthInvalidIdToken', 'token endpoint gave no id_token (does the scope include openid?)');
    const problem = idTokenProblem(body.id_token, client, clock.now());
    if (problem !== undefined) return fail('AuthInvalidIdToken', problem);
  }
  const expiresIn = typeof body.expires_in === 'number' ? body.expires_in : typeof body.expires_in === 'string' && /^\d+$/.test(body.expires_in) ? Number(body.expires_in) : undefined;
  return {
    ok: true,
    value: {
      accessToken: body.access_token,
      accessTokenExpiresAtMs: expiresIn === undefined ? undefined : sent + expiresIn * 1000,
      refreshToken: typeof body.refresh_token === 'string' && body.refresh_token !== '' ? body.refresh_token : undefined,
    },
  };
}

/** The ID token's issuer, audience and expiry (its signature is not checked: it came over the back channel). */
function idTokenProblem(idToken: string, client: IdpClient, nowMs: number): string | undefined {
  let claims: ReturnType<typeof decodeJwt>;
  try {
    claims = decodeJwt(idToken);
  } catch (err) {
    return `the id_token is not a JWT: ${(err as Error).message}`;
  }
  if (claims.iss !== client.issuer) return `the id_token's iss is ${JSON.stringify(claims.iss)}, not the action's issuer ${JSON.stringify(client.issuer)}`;
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!audiences.includes(client.clientId)) return `the id_token's aud ${JSON.stringify(claims.aud)} does not name client ${JSON.stringify(client.clientId)}`;
  if (typeof claims.exp === 'number' && claims.exp * 1000 <= nowMs) return 'the id_token has expired';
  return undefined;
}

/**
 * The user-info endpoint with the access token: a JSON object with a string `sub`. The claims
 * and the access token together may not exceed 11K (spec 13.2.4: 500,
 * `ELBAuthUserClaimsSizeExceeded`).
 */
export async function userInfoRequest(client: IdpClient, accessToken: string, clock: Clock, timeoutMs = IDP_REQUEST_TIMEOUT_MS): Promise<IdpResult<Record<string, unknown> & { sub: string }>> {
  const res = await call(client.userInfoEndpoint, { method: 'GET', headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' } }, clock, timeoutMs);
  if (!res.ok) return fail('AuthUserinfoEpRequestTimeout', `user-info endpoint ${client.userInfoEndpoint}: ${res.detail}`);
  if (res.status < 200 || res.status > 299) return fail('AuthUserinfoEpRequestFailed', `user-info endpoint answered ${res.status}`);
  const claims = parseObject(res.text);
  if (claims === undefined || typeof claims.sub !== 'string' || claims.sub === '') return fail('AuthInvalidUserinfoResponse', 'user-info endpoint: not a JSON object with a string sub');
  const size = Buffer.byteLength(JSON.stringify(claims)) + Buffer.byteLength(accessToken);
  if (size > MAX_CLAIMS_BYTES) return fail('AuthUserinfoResponseSizeExceeded', `the user claims and the access token come to ${size} bytes, over ${MAX_CLAIMS_BYTES}`);
  return { ok: true, value: claims as Record<string, unknown> & { sub: string } };
}
