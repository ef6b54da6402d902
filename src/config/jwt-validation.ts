/**
 * The `jwt-validation` action of ALB rules (AWS: "Verify JWTs using an Application Load
 * Balancer", the API's JwtValidationActionConfig and JwtValidationActionAdditionalClaim; spec
 * 13.2.1 for its placement): the bearer token's RS256 signature is checked against the JWKS
 * endpoint's keys, `iss` and `exp` are required, `nbf` and `iat` checked when present, and up to
 * 10 additional claims by their format. AWS's fields and limits, and the load balancer's
 * `emulator.jwtValidation` settings for what AWS does not say (README, "JWT validation").
 * schema.ts puts these into the one config schema; checkRuleActions (authenticate.ts) places
 * the action like the authenticate actions.
 */
import { z } from 'zod';
import type { ConfigIssue } from '../core/errors.ts';
import { intIn, oneOf, show, strict } from './fields.ts';

/** JwksEndpoint and Issuer: at most 256 characters (API reference). */
export const MAX_JWT_FIELD_LENGTH = 256;
/** AdditionalClaims and each claim's Values: at most 10 (API reference). */
export const MAX_ADDITIONAL_CLAIMS = 10;
export const MAX_CLAIM_VALUES = 10;
/** Each claim value: at most 256 characters (API reference). */
export const MAX_CLAIM_VALUE_LENGTH = 256;
/** The claims ALB always validates, which AdditionalClaims may not name (API reference). */
export const DEFAULT_VALIDATED_CLAIMS = ['exp', 'iss', 'nbf', 'iat'] as const;
export const CLAIM_FORMATS = ['single-string', 'string-array', 'space-separated-values'] as const;
export type ClaimFormat = (typeof CLAIM_FORMATS)[number];

const additionalClaimSchema = strict({
  /** How the claim's value is read from the token: a string, an array of strings, or a space-separated string (as `scope`). */
  format: oneOf(CLAIM_FORMATS),
  /** Not exp, iss, nbf or iat (always validated). */
  name: z
    .string({ error: (iss) => `must be a claim name, a string: got ${show(iss.input)}` })
    .min(1, { error: 'must be a claim name of at least one character: got ""' })
    .refine((n) => !(DEFAULT_VALIDATED_CLAIMS as readonly string[]).includes(n), {
      error: (iss) => `may not be ${DEFAULT_VALIDATED_CLAIMS.join(', ')}: ALB validates those by default; got ${show(iss.input)}`,
    }),
  /** 1–10 values of up to 256 characters; with space-separated-values, none holds a space. */
  values: z
    .array(z.string().max(MAX_CLAIM_VALUE_LENGTH, { error: (iss) => `must be at most ${MAX_CLAIM_VALUE_LENGTH} characters: got ${String(iss.input).length}` }))
    .min(1, { error: 'needs at least one value: got none' })
    .max(MAX_CLAIM_VALUES, { error: (iss) => `may hold at most ${MAX_CLAIM_VALUES} values: got ${(iss.input as unknown[]).length}` }),
});

export const jwtValidationActionSchema = strict({
  type: z.literal('jwt-validation'),
  order: intIn(1, 50000).optional(),
  jwtValidationConfig: strict({
    /** A full URL with the domain and path: https (http only with `emulator.jwtValidation.allowHttpJwksEndpoint`), ≤ 256 characters. */
    jwksEndpoint: z
      .string({ error: (iss) => `must be a full https:// URL: got ${show(iss.input)}` })
      .max(MAX_JWT_FIELD_LENGTH, { error: (iss) => `must be at most ${MAX_JWT_FIELD_LENGTH} characters: got ${String(iss.input).length}` })
      .refine(isHttpUrl, { error: (iss) => `must be a full URL with the protocol, the domain and the path (https://…): got ${show(iss.input)}` }),
    /** What the token's `iss` must equal, ≤ 256 characters. */
    issuer: z
      .string({ error: (iss) => `must be a string: got ${show(iss.input)}` })
      .min(1, { error: 'must not be empty: got ""' })
      .max(MAX_JWT_FIELD_LENGTH, { error: (iss) => `must be at most ${MAX_JWT_FIELD_LENGTH} characters: got ${String(iss.input).length}` }),
    additionalClaims: z
      .array(additionalClaimSchema)
      .max(MAX_ADDITIONAL_CLAIMS, { error: (iss) => `may hold at most ${MAX_ADDITIONAL_CLAIMS} claims: got ${(iss.input as unknown[]).length}` })
      .optional(),
  }),
});

export type JwtValidationActionConfig = z.output<typeof jwtValidationActionSchema>;
export type JwtAdditionalClaim = NonNullable<JwtValidationActionConfig['jwtValidationConfig']['additionalClaims']>[number];

export function isJwtValidationAction(action: { readonly type: string }): action is JwtValidationActionConfig {
  return action.type === 'jwt-validation';
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.hostname !== '';
  } catch {
    return false;
  }
}

/**
 * What AWS does not document, as settings of the load balancer (`emulator.jwtValidation`):
 * chosen defaults beside each (README, "JWT validation: what AWS does not say").
 */
export const jwtValidationEmulatorDefaults = {
  allowHttpJwksEndpoint: false,
  jwksCacheSeconds: 300,
  jwksTimeoutMs: 5000,
  additionalClaimMatch: 'any-value',
  wwwAuthenticate: true,
} as const;

export const jwtValidationEmulatorSchema = strict({
  /** Accept `http://` JWKS endpoints (a local test IdP on 127.0.0.1). AWS takes https only; off. */
  allowHttpJwksEndpoint: z.boolean().default(jwtValidationEmulatorDefaults.allowHttpJwksEndpoint),
  /** How long fetched keys are used before the endpoint is asked again (a token with an unknown `kid` asks sooner, at most every 10 s). */
  jwksCacheSeconds: intIn(1, 86400).default(jwtValidationEmulatorDefaults.jwksCacheSeconds),
  /** How long one JWKS request may take; after it the request is answered 500. */
  jwksTimeoutMs: intIn(100, 60000).default(jwtValidationEmulatorDefaults.jwksTimeoutMs),
  /**
   * string-array and space-separated-values claims: `any-value` passes when the token holds one
   * of the configured values, `all-values` when it holds every one. single-string always means
   * "equals one of the values".
   */
  additionalClaimMatch: oneOf(['any-value', 'all-values']).default(jwtValidationEmulatorDefaults.additionalClaimMatch),
  /** Add RFC 6750's `WWW-Authenticate: Bearer …` to the 401. */
  wwwAuthenticate: z.boolean().default(jwtValidationEmulatorDefaults.wwwAuthenticate),
});

export type JwtValidationEmulatorConfig = z.output<typeof jwtValidationEmulatorSchema>;

/**
 * The checks that need the load balancer's settings: an http JWKS endpoint needs
 * `allowHttpJwksEndpoint`; space-separated-values values hold no space (API reference).
 */
export function checkJwtValidationAction(action: JwtValidationActionConfig, at: string, emulator: Pick<JwtValidationEmulatorConfig, 'allowHttpJwksEndpoint'>): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const c = action.jwtValidationConfig;
  if (new URL(c.jwksEndpoint).protocol === 'http:' && !emulator.allowHttpJwksEndpoint) {
    issues.push({
      path: `${at}.jwtValidationConfig.jwksEndpoint`,
      message: `must be an https:// URL (AWS takes https only; set the load balancer's emulator.jwtValidation.allowHttpJwksEndpoint: true for a local http endpoint): got ${JSON.stringify(c.jwksEndpoint)}`,
    });
  }
  c.additionalClaims?.forEach((claim, i) => {
    const cat = `${at}.jwtValidationConfig.additionalClaims[${i}]`;
    if (claim.format === 'space-separated-values') {
      claim.values.forEach((v, j) => {
        if (v.includes(' ')) issues.push({ path: `${cat}.values[${j}]`, message: `may not include spaces with format space-separated-values: got ${JSON.stringify(v)}` });
      });
    }
  });
  return issues;
}
