/**
 * The authenticate-oidc / authenticate-cognito actions in the config (spec 13.2.1, 13.2.2, 6.3):
 * AWS's defaults, placement (HTTPS listeners only, before the single routing action, both with
 * an order) and field validation, and the emulator's identities.
 */
import { describe, expect, it } from 'vitest';
import { identityProviderOf } from '../../../src/config/authenticate.ts';
import { parseConfig, type ConfigInput } from '../../../src/config/schema.ts';
import { actionsConfig as config, configIssues as issues } from '../../support/config-actions.ts';

const oidc = (overrides: Record<string, unknown> = {}) => ({
  type: 'authenticate-oidc',
  order: 1,
  authenticateOidcConfig: {
    issuer: 'https://idp.example.test',
    authorizationEndpoint: 'https://idp.example.test/authorize',
    tokenEndpoint: 'https://idp.example.test/token',
    userInfoEndpoint: 'https://idp.example.test/userinfo',
    clientId: 'app',
    clientSecret: 's3cret',
    ...overrides,
  },
});
const cognito = (overrides: Record<string, unknown> = {}) => ({
  type: 'authenticate-cognito',
  order: 1,
  authenticateCognitoConfig: { userPoolArn: 'arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_AbCdEf123', userPoolClientId: 'pool-client', userPoolDomain: 'my-app', ...overrides },
});
const forward = { type: 'forward', order: 2, targetGroupName: 'web' };


describe('authenticate actions: defaults (spec 13.2.2)', () => {
  it('fills SessionCookieName, Scope, SessionTimeout and OnUnauthenticatedRequest as AWS does', () => {
    const action = parseConfig(config([oidc(), forward])).loadBalancers[0]!.listeners[0]!.defaultActions[0]!;
    expect(action).toEqual({
      type: 'authenticate-oidc',
      order: 1,
      authenticateOidcConfig: expect.objectContaining({ sessionCookieName: 'AWSELBAuthSessionCookie', scope: 'openid', sessionTimeout: 604800, onUnauthenticatedRequest: 'authenticate', useExistingClientSecret: false }),
    });
  });

  it('gives a Cognito action the issuer of its user pool and the pool domain’s endpoints', () => {
    const action = parseConfig(config([cognito(), forward])).loadBalancers[0]!.listeners[0]!.defaultActions[0]!;
    expect(identityProviderOf(action as never)).toEqual({
      issuer: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123',
      clientId: 'pool-client',
      clientSecret: undefined,
      authorizationEndpoint: 'https://my-app.auth.eu-west-1.amazoncognito.com/oauth2/authorize',
    });
  });

  it('fills the local identity provider’s defaults: one identity, any free port, 120 s tokens', () => {
    const lb = parseConfig(config([oidc(), forward])).loadBalancers[0]!;
    expect(lb.emulator).toMatchObject({
      identities: [{ sub: 'local-user', name: 'Local User', email: 'local-user@example.com', email_verified: true }],
      identityProvider: { address: '127.0.0.1', port: 0, accessTokenLifetimeSeconds: 3600, refreshTokens: true },
      oidcDataLifetimeSeconds: 120,
    });
  });
});

describe('authenticate actions: validation (spec 13.2.1, 6.3)', () => {
  const at = 'loadBalancers[0].listeners[0].defaultActions';
  it.each([
    ['on an HTTP listener', config([oidc(), forward], { protocol: 'HTTP' }), `${at}[0].type`, /applies to HTTPS listeners only \(spec 13\.2\.1\); this listener is HTTP/],
    ['with no routing action', config([oidc()]), at, /exactly one routing action .*got 0/],
    ['with two authenticate actions', config([oidc(), { ...cognito(), order: 2 }, { ...forward, order: 3 }]), at, /at most one authentication action .*got 2/],
    ['after the routing action', config([{ ...oidc(), order: 3 }, forward]), at, /the routing action \(forward\) must have the highest order/],
    ['without order', config([{ ...oidc(), order: undefined }, forward]), `${at}[0].order`, /required for rules with several actions/],
    ['with both at one order', config([oidc(), { ...forward, order: 1 }]), at, /each action needs its own order: got 1, 1/],
    ['without a client secret', config([oidc({ clientSecret: undefined }), forward]), `${at}[0].authenticateOidcConfig.clientSecret`, /required when the action is created/],
    ['with useExistingClientSecret', config([oidc({ useExistingClientSecret: true }), forward]), `${at}[0].authenticateOidcConfig.useExistingClientSecret`, /modifying an existing action only/],
    ['with an http:// issuer', config([oidc({ issuer: 'http://idp.example.test' }), forward]), `${at}[0].authenticateOidcConfig.issuer`, /must be a full https:\/\/ URL: got "http:\/\/idp\.example\.test"/],
    ['with a token endpoint that is no URL', config([oidc({ tokenEndpoint: 'token' }), forward]), `${at}[0].authenticateOidcConfig.tokenEndpoint`, /full https:\/\/ URL/],
    ['with sessionTimeout 0', config([oidc({ sessionTimeout: 0 }), forward]), `${at}[0].authenticateOidcConfig.sessionTimeout`, /integer 1–604800: got 0/],
    ['with sessionTimeout over 7 days', config([oidc({ sessionTimeout: 604801 }), forward]), `${at}[0].authenticateOidcConfig.sessionTimeout`, /integer 1–604800/],
    ['with onUnauthenticatedRequest "block"', config([oidc({ onUnauthenticatedRequest: 'block' }), forward]), `${at}[0].authenticateOidcConfig.onUnauthenticatedRequest`, /deny \| allow \| authenticate: got "block"/],
    ['with a cookie name holding a space', config([oidc({ sessionCookieName: 'my cookie' }), forward]), `${at}[0].authenticateOidcConfig.sessionCookieName`, /cookie name/],
    [
      'with 11 extra params',
      config([oidc({ authenticationRequestExtraParams: Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`p${i}`, 'v'])) }), forward]),
      `${at}[0].authenticateOidcConfig.authenticationRequestExtraParams`,
      /at most 10 entries .*got 11/,
    ],
    ['with a user pool ARN that is not one', config([cognito({ userPoolArn: 'arn:aws:s3:::bucket' }), forward]), `${at}[0].authenticateCognitoConfig.userPoolArn`, /user pool ARN/],
    ['with an unknown field', config([oidc({ clientID: 'x' }), forward]), `${at}[0].authenticateOidcConfig`, /unknown key "clientID"/],
  ])('refuses an authenticate action %s', (_name, input, path, message) => {
    const found = issues(input);
    expect(found.map((i) => i.path)).toContain(path);
    expect(found.find((i) => i.path === path)!.message).toMatch(message);
  });

  it('accepts authenticate then fixed-response on a rule, and refuses authenticate before a GRPC group (forward only, spec 6.3)', () => {
    const rule = (actions: unknown[]) => ({ ...config([forward]), loadBalancers: [{ name: 'app', listeners: [{ port: 443, protocol: 'HTTPS', defaultActions: [{ type: 'forward', targetGroupName: 'web' }], rules: [{ priority: 5, conditions: [{ field: 'path-pattern', values: ['/x'] }], actions }] }] }] });
    expect(issues(rule([oidc(), { type: 'fixed-response', order: 2, fixedResponseConfig: { statusCode: '200' } }]) as ConfigInput)).toEqual([]);
    const grpc = { ...(rule([oidc(), forward]) as ConfigInput), targetGroups: [{ name: 'web', protocol: 'HTTP', port: 80, protocolVersion: 'GRPC' }] } as ConfigInput;
    expect(issues(grpc).map((i) => i.message)).toContainEqual(expect.stringMatching(/may only forward \(spec 6\.3\): got "authenticate-oidc"/));
  });

  it.each([
    ['two identities with one sub', { identities: [{ sub: 'a' }, { sub: 'a' }] }, 'loadBalancers[0].emulator.identities[1].sub', /duplicate identity "a"/],
    ['signInAs naming no identity', { identities: [{ sub: 'a' }], signInAs: 'b' }, 'loadBalancers[0].emulator.signInAs', /must be the sub of one of emulator.identities \("a"\): got "b"/],
    ['an identity without sub', { identities: [{ email: 'x@example.test' }] }, 'loadBalancers[0].emulator.identities[0].sub', /subject, a string/],
  ])('refuses emulator fields with %s', (_name, emulator, path, message) => {
    const found = issues(config([oidc(), forward], { emulator }));
    expect(found.find((i) => i.path === path)?.message).toMatch(message);
  });
});
