/**
 * The jwt-validation action (AWS: "Verify JWTs using an Application Load Balancer"; README,
 * "JWT validation"): the step before a rule's routing action. The request's
 * `Authorization: Bearer <token>` must be a JWS signed with RS256 by a key of the JWKS endpoint,
 * with `iss` equal to the action's Issuer and an `exp` in the future; `nbf` and `iat`, when
 * present, must not be in the future; each additional claim must match by its format. A valid
 * token goes on with the request as it came (the Authorization header untouched); anything else
 * is answered by the answer stage (401, or 500 when the keys cannot be had). Time is the
 * listener's clock.
 */
import { decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import type { JwtAdditionalClaim, JwtValidationActionConfig, JwtValidationEmulatorConfig } from '../../config/jwt-validation.ts';
import type { KeySet } from '../auth/jwks.ts';
import { answerJwtValidation, type JwtValidationOutcome } from '../pipeline/answer.ts';
import type { RequestContext } from '../pipeline/context.ts';
import { clientLeft } from './authenticate.ts';

const EXECUTED = Object.freeze(['jwt-validation']);

/** The token of the first `Authorization` header when its scheme is Bearer (case-insensitive, RFC 6750 §2.1). */
export function bearerToken(rawHeaders: readonly string[]): string | undefined {
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.length !== 13 || rawHeaders[i]!.toLowerCase() !== 'authorization') continue;
    const m = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(rawHeaders[i + 1]!);
    return m?.[1];
  }
  return undefined;
}

/**
 * Whether one additional claim of the token matches (API: JwtValidationActionAdditionalClaim).
 * single-string: a string equal to one of the values; string-array: an array of strings,
 * space-separated-values: a string split at spaces, each holding one (`any-value`) or every
 * (`all-values`) configured value. Returns why not, or undefined.
 */
export function additionalClaimProblem(payload: JWTPayload, claim: JwtAdditionalClaim, match: JwtValidationEmulatorConfig['additionalClaimMatch']): string | undefined {
  const value = payload[claim.name];
  if (value === undefined) return `the token has no ${JSON.stringify(claim.name)} claim`;
  let held: readonly string[];
  switch (claim.format) {
    case 'single-string':
      if (typeof value !== 'string') return `claim ${JSON.stringify(claim.name)} is not a string (format single-string)`;
      return claim.values.includes(value) ? undefined : `claim ${JSON.stringify(claim.name)} is ${JSON.stringify(value)}, not one of ${JSON.stringify(claim.values)}`;
    case 'string-array':
      if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) return `claim ${JSON.stringify(claim.name)} is not an array of strings (format string-array)`;
      held = value as string[];
      break;
    case 'space-separated-values':
      if (typeof value !== 'string') return `claim ${JSON.stringify(claim.name)} is not a string (format space-separated-values)`;
      held = value.split(' ').filter((v) => v !== '');
      break;
  }
  const ok = match === 'all-values' ? claim.values.every((v) => held.includes(v)) : claim.values.some((v) => held.includes(v));
  return ok ? undefined : `claim ${JSON.stringify(claim.name)} holds ${JSON.stringify(held)}, not ${match === 'all-values' ? 'all' : 'any'} of ${JSON.stringify(claim.values)}`;
}

/** The jwt-validation step of a matched rule: `route` runs the routing action once the token is valid. */
export function validateJwt(ctx: RequestContext, action: JwtValidationActionConfig, route: () => void): void {
  const token = bearerToken(ctx.rawHeaders);
  if (token === undefined) return reject(ctx, 'JwtMissing', 'the request has no Authorization: Bearer token');
  void check(ctx, action, token, route).catch((err: unknown) => {
    ctx.listener.log.error({ err, event: 'jwt.internal_error' }, 'JWT validation failed unexpectedly');
    if (!ctx.finished) reject(ctx, 'JwksRequestFailed', 'internal error');
  });
}

async function check(ctx: RequestContext, action: JwtValidationActionConfig, token: string, route: () => void): Promise<void> {
  const jwt = ctx.listener.jwt;
  if (jwt === undefined) return reject(ctx, 'JwksRequestFailed', 'no JWKS state for this listener');
  const config = action.jwtValidationConfig;
  let result = await jwt.jwks.keys(config.jwksEndpoint);
  if (result.ok) {
    const kid = kidOf(token);
    const again = kid === undefined ? undefined : jwt.jwks.keysWithout(config.jwksEndpoint, kid, result.keys);
    if (again !== undefined) result = await again;
  }
  if (clientLeft(ctx)) return;
  if (!result.ok) return reject(ctx, result.reason, result.detail);
  const problem = await tokenProblem(token, result.keys, config, ctx.listener.clock.now(), jwt.settings.additionalClaimMatch);
  if (clientLeft(ctx)) return;
  if (problem !== undefined) return reject(ctx, 'JwtInvalid', problem);
  ctx.jwtValidated = true;
  route();
}

function kidOf(token: string): string | undefined {
  try {
    const kid = decodeProtectedHeader(token).kid;
    return typeof kid === 'string' ? kid : undefined;
  } catch {
    return undefined;
  }
}

/** Why the token is not valid at `nowMs`, or undefined. */
export async function tokenProblem(
  token: string,
  keys: KeySet,
  config: JwtValidationActionConfig['jwtValidationConfig'],
  nowMs: number,
  match: JwtValidationEmulatorConfig['additionalClaimMatch'],
): Promise<string | undefined> {
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, keys.resolve, { algorithms: ['RS256'], issuer: config.issuer, requiredClaims: ['iss', 'exp'], currentDate: new Date(nowMs) }));
  } catch (err) {
    if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'the token is not signed with RS256 (the only algorithm ALB takes)';
    if (err instanceof joseErrors.JWKSNoMatchingKey) return 'no key of the JWKS endpoint matches the token (its kid, or alg RS256)';
    if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'the signature does not verify';
    if (err instanceof joseErrors.JOSEError) return err.message;
    throw err;
  }
  // jose checks exp and nbf; iat, when present, must not be in the future either.
  if (typeof payload.iat === 'number' && payload.iat * 1000 > nowMs) return `the token's iat (${payload.iat}) is in the future`;
  for (const claim of config.additionalClaims ?? []) {
    const problem = additionalClaimProblem(payload, claim, match);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

function reject(ctx: RequestContext, outcome: JwtValidationOutcome, detail: string): void {
  ctx.listener.log.debug({ event: 'jwt.rejected', reason: outcome, detail }, `jwt-validation: ${outcome}: ${detail}`);
  ctx.actionsExecuted = EXECUTED;
  const headers: string[] = [];
  if (ctx.listener.jwt?.settings.wwwAuthenticate !== false && (outcome === 'JwtMissing' || outcome === 'JwtInvalid')) {
    // RFC 6750 §3: no error code when the request had no token; invalid_token when it did not validate.
    headers.push('WWW-Authenticate', outcome === 'JwtMissing' ? 'Bearer' : 'Bearer error="invalid_token"');
  }
  answerJwtValidation(ctx, outcome, headers);
}
