/**
 * The controller's authentication annotations (spec 13.2.9), translated: auth-type oidc and
 * cognito with auth-idp-*, the OIDC client from a Secret (clientID or legacy clientId,
 * clientSecret; trimmed as the controller trims them), the defaults it always sends, the
 * Service's annotations over the Ingress's for a rule forwarding to that Service, HTTP
 * listeners left without the action, and the controller's errors.
 */
import type { V1Secret } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/schema.ts';
import { translate, type DesiredStack } from '../../../src/k8s/translate.ts';
import { albClass, ingress, lbService, node, snapshot } from '../../support/k8s-fixtures.ts';

const ING = 'alb.ingress.kubernetes.io/';
const nodes = [node('worker', '172.18.0.3')];
const HTTPS = { [`${ING}listen-ports`]: '[{"HTTPS": 443}]' };
const OIDC = JSON.stringify({
  issuer: 'https://idp.example.test',
  authorizationEndpoint: 'https://idp.example.test/authorize',
  tokenEndpoint: 'https://idp.example.test/token',
  userInfoEndpoint: 'https://idp.example.test/userinfo',
  secretName: 'oidc-client',
});
const b64 = (s: string) => Buffer.from(s).toString('base64');
const secret = (data: Record<string, string>, name = 'oidc-client', namespace = 'default'): V1Secret => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name, namespace },
  data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])),
});

function stackOf(annotations: Record<string, string>, options: { secrets?: V1Secret[]; serviceAnnotations?: Record<string, string> } = {}): DesiredStack | string {
  const web = lbService('web', { type: 'NodePort', loadBalancerClass: null, ports: [{ name: 'http', port: 80, nodePort: 30082 }], ...(options.serviceAnnotations ? { annotations: options.serviceAnnotations } : {}) });
  const r = translate(snapshot({ services: [web], ingresses: [ingress('web', [{ paths: [{ path: '/', pathType: 'Prefix', service: 'web', port: 80 }] }], { annotations })], ingressClasses: [albClass], nodes, secrets: options.secrets ?? [secret({ clientID: 'my-client', clientSecret: 's3cret' })] }));
  if (r.rejected.length > 0) return r.rejected[0]!.reason;
  const stack = r.stacks[0]!;
  expect(() => parseConfig(stack.config)).not.toThrow();
  return stack;
}

const listeners = (stack: DesiredStack | string) => (stack as DesiredStack).config.loadBalancers![0]!.listeners;

describe('auth-* annotations → authenticate actions (spec 13.2.9)', () => {
  it('puts authenticate-oidc before the forward of each rule on an HTTPS listener, with the controller’s explicit defaults and the Secret’s client', () => {
    const stack = stackOf({ ...HTTPS, [`${ING}auth-type`]: 'oidc', [`${ING}auth-idp-oidc`]: OIDC }, { secrets: [secret({ clientID: 'my-client \n', clientSecret: 's3cret\r\n' })] });
    const rule = listeners(stack)[0]!.rules![0]!;
    expect(rule.actions).toEqual([
      {
        type: 'authenticate-oidc',
        order: 1,
        authenticateOidcConfig: {
          issuer: 'https://idp.example.test',
          authorizationEndpoint: 'https://idp.example.test/authorize',
          tokenEndpoint: 'https://idp.example.test/token',
          userInfoEndpoint: 'https://idp.example.test/userinfo',
          clientId: 'my-client',
          clientSecret: 's3cret',
          scope: 'openid',
          sessionCookieName: 'AWSELBAuthSessionCookie',
          sessionTimeout: 604800,
          onUnauthenticatedRequest: 'authenticate',
        },
      },
      { type: 'forward', order: 2, targetGroupName: expect.stringMatching(/^k8s-default-web-/) },
    ]);
    // The default action (the controller's 404) is not guarded.
    expect(listeners(stack)[0]!.defaultActions).toEqual([{ type: 'fixed-response', fixedResponseConfig: { statusCode: '404', contentType: 'text/plain' } }]);
  });

  it('takes auth-scope, auth-session-cookie, auth-session-timeout, auth-on-unauthenticated-request and the legacy clientId key', () => {
    const stack = stackOf(
      {
        ...HTTPS,
        [`${ING}auth-type`]: 'oidc',
        [`${ING}auth-idp-oidc`]: JSON.stringify({ ...JSON.parse(OIDC), authenticationRequestExtraParams: { prompt: 'login' } }),
        [`${ING}auth-scope`]: 'openid email',
        [`${ING}auth-session-cookie`]: 'my-session',
        [`${ING}auth-session-timeout`]: '3600',
        [`${ING}auth-on-unauthenticated-request`]: 'deny',
      },
      { secrets: [secret({ clientId: 'legacy', clientSecret: 'x' })] },
    );
    expect(listeners(stack)[0]!.rules![0]!.actions![0]).toMatchObject({
      authenticateOidcConfig: { clientId: 'legacy', scope: 'openid email', sessionCookieName: 'my-session', sessionTimeout: 3600, onUnauthenticatedRequest: 'deny', authenticationRequestExtraParams: { prompt: 'login' } },
    });
  });

  it('makes authenticate-cognito from auth-idp-cognito', () => {
    const stack = stackOf({
      ...HTTPS,
      [`${ING}auth-type`]: 'cognito',
      [`${ING}auth-idp-cognito`]: JSON.stringify({ userPoolARN: 'arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_AbC123', userPoolClientID: 'pool-client', userPoolDomain: 'my-app' }),
    });
    expect(listeners(stack)[0]!.rules![0]!.actions![0]).toMatchObject({
      type: 'authenticate-cognito',
      authenticateCognitoConfig: { userPoolArn: 'arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_AbC123', userPoolClientId: 'pool-client', userPoolDomain: 'my-app', scope: 'openid' },
    });
  });

  it('lets the backend Service’s annotations win over the Ingress’s', () => {
    const stack = stackOf({ ...HTTPS, [`${ING}auth-type`]: 'oidc', [`${ING}auth-idp-oidc`]: OIDC }, { serviceAnnotations: { [`${ING}auth-type`]: 'none' } });
    expect(listeners(stack)[0]!.rules![0]!.actions).toEqual([{ type: 'forward', targetGroupName: expect.stringMatching(/^k8s-default-web-/) }]);
  });

  it('ignores the annotations on HTTP listeners, as the controller does, and no longer warns about them', () => {
    const stack = stackOf({ [`${ING}auth-type`]: 'oidc', [`${ING}auth-idp-oidc`]: OIDC }) as DesiredStack;
    expect(listeners(stack)[0]!.rules![0]!.actions).toEqual([{ type: 'forward', targetGroupName: expect.stringMatching(/^k8s-default-web-/) }]);
    expect(stack.problems.filter((p) => p.includes('auth-'))).toEqual([]);
  });

  it.each([
    ['an unknown auth-type', { [`${ING}auth-type`]: 'saml' }, undefined, 'ingress: default/web: unknown authType: saml'],
    ['auth-idp-oidc that is not JSON', { [`${ING}auth-type`]: 'oidc', [`${ING}auth-idp-oidc`]: '{issuer' }, undefined, `ingress: default/web: failed to parse json annotation, ${ING}auth-idp-oidc: {issuer`],
    ['a Secret that does not exist', { [`${ING}auth-type`]: 'oidc', [`${ING}auth-idp-oidc`]: OIDC }, [], 'ingress: default/web: secrets "oidc-client" not found'],
    ['a Secret without clientID', { [`${ING}auth-type`]: 'oidc', [`${ING}auth-idp-oidc`]: OIDC }, [secret({ clientSecret: 'x' })], 'ingress: default/web: missing clientID, secret: default/oidc-client'],
    ['a Secret without clientSecret', { [`${ING}auth-type`]: 'oidc', [`${ING}auth-idp-oidc`]: OIDC }, [secret({ clientID: 'x' })], 'ingress: default/web: missing clientSecret, secret: default/oidc-client'],
    ['a Secret in another namespace', { [`${ING}auth-type`]: 'oidc', [`${ING}auth-idp-oidc`]: OIDC }, [secret({ clientID: 'x', clientSecret: 'y' }, 'oidc-client', 'other')], 'ingress: default/web: secrets "oidc-client" not found'],
    ['an auth-session-timeout that is not an integer', { [`${ING}auth-type`]: 'oidc', [`${ING}auth-idp-oidc`]: OIDC, [`${ING}auth-session-timeout`]: 'a day' }, undefined, `failed to parse int64 annotation, ${ING}auth-session-timeout: a day`],
  ])('refuses the Ingress group for %s with the controller’s error', (_name, annotations, secrets, message) => {
    const reason = stackOf({ ...HTTPS, ...annotations }, secrets === undefined ? {} : { secrets });
    expect(typeof reason).toBe('string');
    expect(reason).toContain(message);
  });
});
