/**
 * The jwt-validation action in the config (AWS's JwtValidationActionConfig and
 * JwtValidationActionAdditionalClaim; placement as spec 13.2.1): fields and limits, the
 * https-only JWKS endpoint unless the emulator allows http, one authentication action per rule
 * before the routing action, HTTPS listeners only, and the emulator settings' defaults.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/schema.ts';
import { actionsConfig as config, configIssues as issues } from '../../support/config-actions.ts';

const jwt = (overrides: Record<string, unknown> = {}, order: number | null = 1) => ({
  type: 'jwt-validation',
  ...(order !== null ? { order } : {}),
  jwtValidationConfig: { jwksEndpoint: 'https://idp.example.test/.well-known/jwks.json', issuer: 'https://idp.example.test', ...overrides },
});
const forward = { type: 'forward', order: 2, targetGroupName: 'web' };
const oidc = {
  type: 'authenticate-oidc',
  order: 1,
  authenticateOidcConfig: { issuer: 'https://i.test', authorizationEndpoint: 'https://i.test/a', tokenEndpoint: 'https://i.test/t', userInfoEndpoint: 'https://i.test/u', clientId: 'c', clientSecret: 's' },
};


const at = 'loadBalancers[0].listeners[0].defaultActions';

describe('jwt-validation: the action and its settings', () => {
  it('takes JwksEndpoint, Issuer and AdditionalClaims, and fills the emulator settings with their defaults', () => {
    const claims = [
      { format: 'single-string', name: 'admin', values: ['true'] },
      { format: 'string-array', name: 'ver', values: ['6', '19'] },
      { format: 'space-separated-values', name: 'scope', values: ['read:api', 'write'] },
    ];
    const parsed = parseConfig(config([jwt({ additionalClaims: claims }), forward]));
    const lb = parsed.loadBalancers[0]!;
    expect(lb.listeners[0]!.defaultActions[0]).toEqual(jwt({ additionalClaims: claims }));
    expect(lb.emulator.jwtValidation).toEqual({ allowHttpJwksEndpoint: false, jwksCacheSeconds: 300, jwksTimeoutMs: 5000, additionalClaimMatch: 'any-value', wwwAuthenticate: true });
  });

  it('takes the action in a rule, before its forward', () => {
    const input = config([forward]);
    (input.loadBalancers![0]!.listeners[0] as { rules: unknown[] }).rules = [{ priority: 1, conditions: [{ field: 'path-pattern', values: ['/api/*'] }], actions: [jwt(), forward] }];
    expect(issues(input)).toEqual([]);
  });
});

describe('jwt-validation: AWS validation, with errors naming the field, the value and what is allowed', () => {
  it.each([
    ['an http JWKS endpoint without the emulator setting', jwt({ jwksEndpoint: 'http://127.0.0.1:8080/jwks' }), `${at}[0].jwtValidationConfig.jwksEndpoint`, /must be an https:\/\/ URL .*allowHttpJwksEndpoint: true.*got "http:\/\/127\.0\.0\.1:8080\/jwks"/],
    ['a JWKS endpoint that is not a URL', jwt({ jwksEndpoint: 'idp.example.test/jwks' }), `${at}[0].jwtValidationConfig.jwksEndpoint`, /full URL with the protocol, the domain and the path.*got "idp\.example\.test\/jwks"/],
    ['a JWKS endpoint over 256 characters', jwt({ jwksEndpoint: `https://idp.example.test/${'a'.repeat(240)}` }), `${at}[0].jwtValidationConfig.jwksEndpoint`, /at most 256 characters: got 265/],
    ['an issuer over 256 characters', jwt({ issuer: 'i'.repeat(257) }), `${at}[0].jwtValidationConfig.issuer`, /at most 256 characters: got 257/],
    ['an additional claim on exp', jwt({ additionalClaims: [{ format: 'single-string', name: 'exp', values: ['1'] }] }), `${at}[0].jwtValidationConfig.additionalClaims[0].name`, /may not be exp, iss, nbf, iat.*got "exp"/],
    ['an unknown claim format', jwt({ additionalClaims: [{ format: 'json', name: 'x', values: ['1'] }] }), `${at}[0].jwtValidationConfig.additionalClaims[0].format`, /single-string \| string-array \| space-separated-values.*"json"/],
    ['a claim without values', jwt({ additionalClaims: [{ format: 'string-array', name: 'groups', values: [] }] }), `${at}[0].jwtValidationConfig.additionalClaims[0].values`, /at least one value/],
    ['a claim with 11 values', jwt({ additionalClaims: [{ format: 'string-array', name: 'groups', values: Array.from({ length: 11 }, (_, i) => `g${i}`) }] }), `${at}[0].jwtValidationConfig.additionalClaims[0].values`, /at most 10 values: got 11/],
    ['a space-separated value with a space', jwt({ additionalClaims: [{ format: 'space-separated-values', name: 'scope', values: ['read write'] }] }), `${at}[0].jwtValidationConfig.additionalClaims[0].values[0]`, /may not include spaces .*"read write"/],
    ['11 additional claims', jwt({ additionalClaims: Array.from({ length: 11 }, (_, i) => ({ format: 'single-string', name: `c${i}`, values: ['v'] })) }), `${at}[0].jwtValidationConfig.additionalClaims`, /at most 10 claims: got 11/],
  ])('refuses %s', (_name, action, path, message) => {
    const found = issues(config([action, forward]));
    expect(found).toContainEqual({ path, message: expect.stringMatching(message) });
  });

  it('accepts an http JWKS endpoint when emulator.jwtValidation.allowHttpJwksEndpoint is true', () => {
    expect(issues(config([jwt({ jwksEndpoint: 'http://127.0.0.1:8080/jwks' }), forward], { emulator: { jwtValidation: { allowHttpJwksEndpoint: true } } }))).toEqual([]);
  });

  it('refuses the action on an HTTP listener', () => {
    expect(issues(config([jwt(), forward], { protocol: 'HTTP' }))).toContainEqual({ path: `${at}[0].type`, message: 'jwt-validation applies to HTTPS listeners only (spec 13.2.1); this listener is HTTP' });
  });

  it('refuses jwt-validation beside an authenticate action (one authentication action per rule)', () => {
    expect(issues(config([oidc, { ...jwt(), order: 2 }, { ...forward, order: 3 }]))).toContainEqual({ path: at, message: 'may hold at most one authentication action (authenticate-oidc, authenticate-cognito or jwt-validation): got 2 (authenticate-oidc, jwt-validation)' });
  });

  it('refuses jwt-validation after the routing action', () => {
    expect(issues(config([{ ...jwt(), order: 3 }, forward]))).toContainEqual({ path: at, message: expect.stringMatching(/the routing action \(forward\) must have the highest order.*jwt-validation 3, forward 2/) });
  });

  it('needs an order on both actions', () => {
    expect(issues(config([jwt({}, null), forward]))).toContainEqual({ path: `${at}[0].order`, message: expect.stringMatching(/is required for rules with several actions/) });
  });

  it('refuses a jwt-validation action alone (no routing action)', () => {
    expect(issues(config([jwt()]))).toContainEqual({ path: at, message: 'must hold exactly one routing action (forward, redirect or fixed-response): got 0' });
  });
});
