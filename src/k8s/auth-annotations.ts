/**
 * The AWS Load Balancer Controller's authentication annotations (spec 13.2.9, prefix
 * `alb.ingress.kubernetes.io/`) → an authenticate-oidc or authenticate-cognito action, as the
 * controller builds it: `auth-type` (`none`, `oidc`, `cognito`), `auth-idp-oidc` /
 * `auth-idp-cognito` (JSON), `auth-on-unauthenticated-request`, `auth-scope`,
 * `auth-session-cookie` and `auth-session-timeout`, with the controller's defaults sent
 * explicitly. An OIDC client's ID and secret come from the Secret `secretName` names in the
 * Ingress's namespace (keys `clientID`, legacy `clientId`, and `clientSecret`; the ID's trailing
 * whitespace and the secret's trailing control characters trimmed, as the controller does).
 * Pure: objects in, an action or the controller's error out. translate.ts calls it.
 */
import type { V1Secret } from '@kubernetes/client-node';
import { DEFAULT_SESSION_COOKIE_NAME, DEFAULT_SESSION_TIMEOUT_SECONDS } from '../config/authenticate.ts';

export const AUTH_ANNOTATIONS = ['auth-type', 'auth-idp-oidc', 'auth-idp-cognito', 'auth-on-unauthenticated-request', 'auth-scope', 'auth-session-cookie', 'auth-session-timeout'] as const;

/** What translate.ts puts before a rule's routing action (order 1; the routing action gets 2). */
export type AuthenticateActionInput =
  | { readonly type: 'authenticate-oidc'; readonly authenticateOidcConfig: Record<string, unknown> }
  | { readonly type: 'authenticate-cognito'; readonly authenticateCognitoConfig: Record<string, unknown> };

export type AuthAnnotationResult = { readonly action: AuthenticateActionInput | undefined } | { readonly error: string };

function decode(secret: V1Secret, key: string): string | undefined {
  const data = secret.data?.[key];
  if (data !== undefined) return Buffer.from(data, 'base64').toString('utf8');
  return secret.stringData?.[key];
}

function parseJson(prefix: string, key: string, raw: string): Record<string, unknown> | string {
  try {
    const value = JSON.parse(raw) as unknown;
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // reported below
  }
  return `failed to parse json annotation, ${prefix}${key}: ${raw}`;
}

const stringField = (o: Record<string, unknown>, k: string) => (typeof o[k] === 'string' ? (o[k] as string) : undefined);

/**
 * The authenticate action `annotations` ask for (the Ingress's, with a Service's merged over
 * them by the caller when the rule forwards to that one Service), or the controller's error.
 * `secrets` are the cluster's; `namespace` is the Ingress's.
 */
export function authenticateAction(annotations: Readonly<Record<string, string>>, prefix: string, namespace: string, secrets: readonly V1Secret[]): AuthAnnotationResult {
  const get = (k: (typeof AUTH_ANNOTATIONS)[number]) => annotations[`${prefix}${k}`];
  const type = get('auth-type') ?? 'none';
  if (type === 'none') return { action: undefined };
  if (type !== 'oidc' && type !== 'cognito') return { error: `unknown authType: ${type}` };
  const onUnauthenticatedRequest = get('auth-on-unauthenticated-request') ?? 'authenticate';
  if (!['authenticate', 'allow', 'deny'].includes(onUnauthenticatedRequest)) return { error: `unknown onUnauthenticatedRequest: ${onUnauthenticatedRequest}` };
  const rawTimeout = get('auth-session-timeout');
  if (rawTimeout !== undefined && !/^[+-]?\d+$/.test(rawTimeout.trim())) return { error: `failed to parse int64 annotation, ${prefix}auth-session-timeout: ${rawTimeout}` };
  const session = {
    scope: get('auth-scope') ?? 'openid',
    sessionCookieName: get('auth-session-cookie') ?? DEFAULT_SESSION_COOKIE_NAME,
    sessionTimeout: rawTimeout === undefined ? DEFAULT_SESSION_TIMEOUT_SECONDS : Number(rawTimeout),
    onUnauthenticatedRequest,
  };
  const key = type === 'oidc' ? 'auth-idp-oidc' : 'auth-idp-cognito';
  const raw = get(key);
  if (raw === undefined) return { error: `missing ${prefix}${key} annotation for auth-type ${type}` };
  const idp = parseJson(prefix, key, raw);
  if (typeof idp === 'string') return { error: idp };
  const extra = idp.authenticationRequestExtraParams;
  const extraParams = extra !== undefined && extra !== null && typeof extra === 'object' ? { authenticationRequestExtraParams: extra as Record<string, string> } : {};
  if (type === 'cognito') {
    return {
      action: {
        type: 'authenticate-cognito',
        authenticateCognitoConfig: { userPoolArn: stringField(idp, 'userPoolARN'), userPoolClientId: stringField(idp, 'userPoolClientID'), userPoolDomain: stringField(idp, 'userPoolDomain'), ...extraParams, ...session },
      },
    };
  }
  const secretName = stringField(idp, 'secretName');
  if (secretName === undefined) return { error: `${prefix}${key}: secretName is required` };
  const secret = secrets.find((s) => s.metadata?.namespace === namespace && s.metadata?.name === secretName);
  const secretKey = `${namespace}/${secretName}`;
  if (secret === undefined) return { error: `secrets "${secretName}" not found (the OIDC client of ${prefix}${key}, namespace ${namespace})` };
  const clientId = decode(secret, 'clientID') ?? decode(secret, 'clientId');
  if (clientId === undefined) return { error: `missing clientID, secret: ${secretKey}` };
  const clientSecret = decode(secret, 'clientSecret');
  if (clientSecret === undefined) return { error: `missing clientSecret, secret: ${secretKey}` };
  return {
    action: {
      type: 'authenticate-oidc',
      authenticateOidcConfig: {
        issuer: stringField(idp, 'issuer'),
        authorizationEndpoint: stringField(idp, 'authorizationEndpoint'),
        tokenEndpoint: stringField(idp, 'tokenEndpoint'),
        userInfoEndpoint: stringField(idp, 'userInfoEndpoint'),
        clientId: clientId.replace(/\s+$/u, ''),
        // eslint-disable-next-line no-control-regex
        clientSecret: clientSecret.replace(/[\u0000-\u001f\u007f-\u009f]+$/u, ''),
        ...extraParams,
        ...session,
      },
    },
  };
}
