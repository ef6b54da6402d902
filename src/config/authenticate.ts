/**
 * The authentication actions of ALB rules (spec 13.2.1, 13.2.2, 6.3): `authenticate-oidc` and
 * `authenticate-cognito` with AWS's fields, defaults and validation, and the load balancer's
 * `emulator` fields of the local identity provider that stands in for the configured one
 * (README, "Authentication"). schema.ts puts these into the one config schema.
 */
import { z } from 'zod';
import type { ConfigIssue } from '../core/errors.ts';
import { intIn, oneOf, show, strict } from './fields.ts';
import { checkJwtValidationAction, isJwtValidationAction, type JwtValidationEmulatorConfig } from './jwt-validation.ts';

/** `SessionCookieName`'s default: the shards are `AWSELBAuthSessionCookie-0`, `-1`, … (spec 13.2.4). */
export const DEFAULT_SESSION_COOKIE_NAME = 'AWSELBAuthSessionCookie';
/** `SessionTimeout`'s default, 7 days (spec 13.2.2); the emulator's range is 1–604800. */
export const DEFAULT_SESSION_TIMEOUT_SECONDS = 604800;
/** `AuthenticationRequestExtraParams` holds at most this many entries (spec 13.2.2). */
export const MAX_EXTRA_PARAMS = 10;

export const AUTHENTICATE_ACTION_TYPES = ['authenticate-oidc', 'authenticate-cognito'] as const;
/** The actions that come before the routing action, one per rule at most (spec 13.2.1). */
export const AUTHENTICATION_ACTION_TYPES = [...AUTHENTICATE_ACTION_TYPES, 'jwt-validation'] as const;
export const ROUTING_ACTION_TYPES = ['forward', 'redirect', 'fixed-response'] as const;

const httpsUrl = z.string({ error: (iss) => `must be a full https:// URL: got ${show(iss.input)}` }).refine(
  (value) => {
    try {
      const url = new URL(value);
      return url.protocol === 'https:' && url.hostname !== '';
    } catch {
      return false;
    }
  },
  { error: (iss) => `must be a full https:// URL: got ${show(iss.input)}` },
);

/** A cookie name (RFC 6265 token): the shards add `-<n>` to it. */
const cookieName = z
  .string({ error: (iss) => `must be a cookie name: got ${show(iss.input)}` })
  .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,200}$/, { error: (iss) => `must be a cookie name (letters, digits and !#$%&'*+-.^_\`|~, 1–200 characters): got ${show(iss.input)}` });

const extraParams = z
  .record(z.string().min(1), z.string({ error: (iss) => `must be a string: got ${show(iss.input)}` }))
  .refine((m) => Object.keys(m).length <= MAX_EXTRA_PARAMS, {
    error: (iss) => `may hold at most ${MAX_EXTRA_PARAMS} entries (spec 13.2.2): got ${Object.keys(iss.input as object).length}`,
  });

/** The fields both authentication configs share, with AWS's defaults (spec 13.2.2). */
const sessionFields = {
  sessionCookieName: cookieName.default(DEFAULT_SESSION_COOKIE_NAME),
  /** Space-separated, as the identity provider expects; must yield an ID token (`openid`). */
  scope: z.string().min(1).max(4096).default('openid'),
  /** Seconds (AWS's maximum is UNCONFIRMED; 1–604800 here). */
  sessionTimeout: intIn(1, 604800).default(DEFAULT_SESSION_TIMEOUT_SECONDS),
  /** Appended to the authorization redirect's query. */
  authenticationRequestExtraParams: extraParams.optional(),
  /** `authenticate` (302 to the identity provider), `allow` (forward without the claims headers) or `deny` (401). */
  onUnauthenticatedRequest: oneOf(['deny', 'allow', 'authenticate']).default('authenticate'),
};

const order = intIn(1, 50000).optional();

export const authenticateOidcActionSchema = strict({
  type: z.literal('authenticate-oidc'),
  order,
  authenticateOidcConfig: strict({
    issuer: httpsUrl,
    authorizationEndpoint: httpsUrl,
    tokenEndpoint: httpsUrl,
    userInfoEndpoint: httpsUrl,
    clientId: z.string().min(1).max(256),
    /** Required when the action is created, which is what a config does. */
    clientSecret: z.string().min(1).max(4096).optional(),
    /** ModifyRule/ModifyListener only (keep the stored secret): a config creates the action, so it must be false. */
    useExistingClientSecret: z.boolean().default(false),
    ...sessionFields,
  }),
});

export const authenticateCognitoActionSchema = strict({
  type: z.literal('authenticate-cognito'),
  order,
  authenticateCognitoConfig: strict({
    /** `arn:aws:cognito-idp:<region>:<account>:userpool/<pool-id>`; its region and pool id make the issuer. */
    userPoolArn: z.string().regex(/^arn:aws[a-z-]*:cognito-idp:[a-z0-9-]+:\d{12}:userpool\/[\w-]+_[0-9A-Za-z]+$/, {
      error: (iss) => `must be a user pool ARN, arn:aws:cognito-idp:<region>:<account>:userpool/<region>_<id>: got ${show(iss.input)}`,
    }),
    userPoolClientId: z.string().min(1).max(256),
    /** A domain prefix, or a fully qualified custom domain. */
    userPoolDomain: z.string().min(1).max(253),
    ...sessionFields,
  }),
});

export type AuthenticateOidcActionConfig = z.output<typeof authenticateOidcActionSchema>;
export type AuthenticateCognitoActionConfig = z.output<typeof authenticateCognitoActionSchema>;
export type AuthenticateActionConfig = AuthenticateOidcActionConfig | AuthenticateCognitoActionConfig;

export function isAuthenticateAction(action: { readonly type: string }): action is AuthenticateActionConfig {
  return action.type === 'authenticate-oidc' || action.type === 'authenticate-cognito';
}

/** The settings both kinds share, whichever the action is. */
export function authenticateSettings(action: AuthenticateActionConfig): AuthenticateOidcActionConfig['authenticateOidcConfig'] | AuthenticateCognitoActionConfig['authenticateCognitoConfig'] {
  return action.type === 'authenticate-oidc' ? action.authenticateOidcConfig : action.authenticateCognitoConfig;
}

/**
 * What the identity provider is to the load balancer: the issuer that goes into
 * `x-amzn-oidc-data` (spec 13.2.6) and the OAuth client. For Cognito the issuer is
 * `https://cognito-idp.<region>.amazonaws.com/<pool-id>` and the endpoints are the user pool
 * domain's (spec 13.2.2; UNCONFIRMED in ALB's docs).
 */
export function identityProviderOf(action: AuthenticateActionConfig): {
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string | undefined;
  readonly authorizationEndpoint: string;
} {
  if (action.type === 'authenticate-oidc') {
    const c = action.authenticateOidcConfig;
    return { issuer: c.issuer, clientId: c.clientId, clientSecret: c.clientSecret, authorizationEndpoint: c.authorizationEndpoint };
  }
  const c = action.authenticateCognitoConfig;
  const [, , , region, , resource] = c.userPoolArn.split(':');
  const poolId = resource!.slice('userpool/'.length);
  const domain = c.userPoolDomain.includes('.') ? c.userPoolDomain : `${c.userPoolDomain}.auth.${region}.amazoncognito.com`;
  return { issuer: `https://cognito-idp.${region}.amazonaws.com/${poolId}`, clientId: c.userPoolClientId, clientSecret: undefined, authorizationEndpoint: `https://${domain}/oauth2/authorize` };
}

/**
 * The actions of one rule or default rule (spec 6.3, 13.2.1): exactly one routing action
 * (forward, redirect, fixed-response), at most one authentication action (authenticate-oidc,
 * authenticate-cognito or jwt-validation) before it, on HTTPS listeners only; with two actions
 * both carry `Order` (AWS: "required for rules with multiple actions") and the routing action's
 * is the highest. A config creates the action, so an OIDC action gives its client secret; a
 * jwt-validation action's JWKS endpoint is https unless the load balancer's `emulator` allows http.
 */
export function checkRuleActions(
  actions: ReadonlyArray<{ readonly type: string; readonly order?: number | undefined }>,
  path: string,
  listenerProtocol: string,
  jwtEmulator: Pick<JwtValidationEmulatorConfig, 'allowHttpJwksEndpoint'> = { allowHttpJwksEndpoint: false },
): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const routing = actions.filter((a) => (ROUTING_ACTION_TYPES as readonly string[]).includes(a.type));
  const authenticating = actions.filter((a) => (AUTHENTICATION_ACTION_TYPES as readonly string[]).includes(a.type));
  if (routing.length !== 1) issues.push({ path, message: `must hold exactly one routing action (forward, redirect or fixed-response): got ${routing.length}` });
  if (authenticating.length > 1) issues.push({ path, message: `may hold at most one authentication action (authenticate-oidc, authenticate-cognito or jwt-validation): got ${authenticating.length} (${authenticating.map((a) => a.type).join(', ')})` });
  actions.forEach((action, i) => {
    const at = `${path}[${i}]`;
    if (isJwtValidationAction(action)) {
      if (listenerProtocol !== 'HTTPS') issues.push({ path: `${at}.type`, message: `jwt-validation applies to HTTPS listeners only (spec 13.2.1); this listener is ${listenerProtocol}` });
      issues.push(...checkJwtValidationAction(action, at, jwtEmulator));
      return;
    }
    if (!isAuthenticateAction(action)) return;
    if (listenerProtocol !== 'HTTPS') issues.push({ path: `${at}.type`, message: `${action.type} applies to HTTPS listeners only (spec 13.2.1); this listener is ${listenerProtocol}` });
    if (action.type === 'authenticate-oidc') {
      const c = action.authenticateOidcConfig;
      if (c.useExistingClientSecret) {
        issues.push({ path: `${at}.authenticateOidcConfig.useExistingClientSecret`, message: 'applies to modifying an existing action only; a config creates the action, so give clientSecret: got true' });
      } else if (c.clientSecret === undefined) {
        issues.push({ path: `${at}.authenticateOidcConfig.clientSecret`, message: 'is required when the action is created (spec 13.2.2): got nothing' });
      }
    }
  });
  if (actions.length > 1) {
    actions.forEach((a, i) => {
      if (a.order === undefined) issues.push({ path: `${path}[${i}].order`, message: `is required for rules with several actions (1–50000, the routing action last): got nothing` });
    });
    const orders = actions.map((a) => a.order).filter((o): o is number => o !== undefined);
    if (new Set(orders).size !== orders.length) issues.push({ path, message: `each action needs its own order: got ${orders.join(', ')}` });
    const last = routing[0];
    if (last?.order !== undefined && authenticating.some((a) => a.order !== undefined && a.order > last.order!)) {
      issues.push({ path, message: `the routing action (${last.type}) must have the highest order, after the authentication action (spec 6.3): got ${actions.map((a) => `${a.type} ${a.order}`).join(', ')}` });
    }
  }
  return issues;
}

// ---------------------------------------------------------------------------------------------
// The local identity provider (emulator fields of an application load balancer)

/** One user of the local identity provider: `sub` and any other claims its user-info endpoint returns. */
const identitySchema = z
  .looseObject({ sub: z.string({ error: (iss) => `must be the identity's subject, a string: got ${show(iss.input)}` }).min(1).max(255) })
  .transform((identity) => identity as { sub: string } & Record<string, unknown>);

export const DEFAULT_IDENTITIES: ReadonlyArray<{ sub: string } & Record<string, unknown>> = [{ sub: 'local-user', name: 'Local User', email: 'local-user@example.com', email_verified: true }];

export const identityProviderDefaults = { address: '127.0.0.1', port: 0, accessTokenLifetimeSeconds: 3600, refreshTokens: true } as const;

/** Where local-elb serves the identity provider and the public keys, and how its tokens behave. */
const identityProviderSchema = strict({
  /** The address it binds; loopback unless you mean to expose it. */
  address: z.string().default(identityProviderDefaults.address),
  /** 0 = any free port (the URL is logged at startup, event `auth.started`); fix it so an app's key URL stays put. */
  port: intIn(0, 65535).default(identityProviderDefaults.port),
  /** `expires_in` of its access tokens: after it the load balancer refreshes the session (spec 13.2.7). */
  accessTokenLifetimeSeconds: intIn(1, 604800).default(identityProviderDefaults.accessTokenLifetimeSeconds),
  /** Whether its token endpoint gives refresh tokens (without them the session lasts to its timeout). */
  refreshTokens: z.boolean().default(identityProviderDefaults.refreshTokens),
});

/** Spread into the load balancer's `emulator` schema; `authenticationEmulatorDefaults` into its default. */
export const authenticationEmulatorFields = {
  /** The users the local login page lists (spec 13.2.3 step 2). */
  identities: z.array(identitySchema).min(1).max(100).default(() => DEFAULT_IDENTITIES.map((i) => ({ ...i }))),
  /** The `sub` of an identity signed in without the login page. */
  signInAs: z.string().min(1).optional(),
  identityProvider: identityProviderSchema.default({ ...identityProviderDefaults }),
  /** `exp` of `x-amzn-oidc-data`, seconds after it is made (AWS's value is UNCONFIRMED; spec 13.2.6). */
  oidcDataLifetimeSeconds: intIn(1, 86400).default(120),
};

export const authenticationEmulatorDefaults = {
  identities: DEFAULT_IDENTITIES.map((i) => ({ ...i })),
  identityProvider: { ...identityProviderDefaults },
  oidcDataLifetimeSeconds: 120,
};

export interface AuthenticationEmulatorConfig {
  readonly identities: ReadonlyArray<{ readonly sub: string } & Readonly<Record<string, unknown>>>;
  readonly signInAs?: string | undefined;
  readonly identityProvider: { readonly address: string; readonly port: number; readonly accessTokenLifetimeSeconds: number; readonly refreshTokens: boolean };
  readonly oidcDataLifetimeSeconds: number;
}

/** Identities have distinct subjects; `signInAs` names one of them. */
export function checkAuthenticationEmulator(emulator: AuthenticationEmulatorConfig, path: string): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const subs = new Set<string>();
  emulator.identities.forEach((identity, i) => {
    if (subs.has(identity.sub)) issues.push({ path: `${path}.identities[${i}].sub`, message: `duplicate identity ${JSON.stringify(identity.sub)}` });
    subs.add(identity.sub);
  });
  if (emulator.signInAs !== undefined && !subs.has(emulator.signInAs)) {
    issues.push({ path: `${path}.signInAs`, message: `must be the sub of one of emulator.identities (${[...subs].map((s) => JSON.stringify(s)).join(', ')}): got ${JSON.stringify(emulator.signInAs)}` });
  }
  return issues;
}
