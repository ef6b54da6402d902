/**
 * The controller's `alb.ingress.kubernetes.io/jwt-validation` annotation, translated as its
 * buildJwtValidationConfig and buildActions do: JSON decoded as Go does (camelCase or
 * PascalCase keys), jwksEndpoint and issuer required, each additional claim with format, name
 * and values; a jwt-validation action before the routing action of every rule and of the
 * default backend on HTTPS listeners, none on HTTP ones; never beside auth-type.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/schema.ts';
import { translate, type DesiredStack } from '../../../src/k8s/translate.ts';
import { albClass, ingress, lbService, node, snapshot } from '../../support/k8s-fixtures.ts';

const ING = 'alb.ingress.kubernetes.io/';
const nodes = [node('worker', '172.18.0.3')];
const JWT = { jwksEndpoint: 'https://idp.example.test/.well-known/jwks.json', issuer: 'https://idp.example.test' };

function translated(annotations: Record<string, string>, options: { defaultBackend?: boolean } = {}): DesiredStack | string {
  const web = lbService('web', { type: 'NodePort', loadBalancerClass: null, ports: [{ name: 'http', port: 80, nodePort: 30082 }] });
  const ing = ingress('web', [{ paths: [{ path: '/api', pathType: 'Prefix', service: 'web', port: 80 }] }], { annotations, ...(options.defaultBackend ? { defaultBackend: { service: 'web', port: 80 } } : {}) });
  const r = translate(snapshot({ services: [web], ingresses: [ing], ingressClasses: [albClass], nodes }));
  if (r.rejected.length > 0) return r.rejected[0]!.reason;
  const stack = r.stacks[0]!;
  expect(() => parseConfig(stack.config)).not.toThrow();
  return stack;
}
const listeners = (stack: DesiredStack | string) => (stack as DesiredStack).config.loadBalancers![0]!.listeners;

describe('jwt-validation annotation → a jwt-validation action', () => {
  it('puts it before the forward of each rule and of the default backend on an HTTPS listener', () => {
    const claims = [
      { name: 'admin', format: 'single-string', values: ['true'] },
      { name: 'scope', format: 'space-separated-values', values: ['read:api', 'write'] },
    ];
    const stack = translated({ [`${ING}listen-ports`]: '[{"HTTPS": 443}]', [`${ING}jwt-validation`]: JSON.stringify({ ...JWT, additionalClaims: claims }) }, { defaultBackend: true });
    const listener = listeners(stack)[0]!;
    const action = { type: 'jwt-validation', order: 1, jwtValidationConfig: { ...JWT, additionalClaims: claims.map(({ format, name, values }) => ({ format, name, values })) } };
    expect(listener.rules![0]!.actions).toEqual([action, { type: 'forward', order: 2, targetGroupName: expect.stringMatching(/^k8s-default-web-/) }]);
    expect(listener.defaultActions).toEqual([action, { type: 'forward', order: 2, targetGroupName: expect.stringMatching(/^k8s-default-web-/) }]);
  });

  it('reads PascalCase keys as Go does and leaves the action off HTTP listeners', () => {
    const stack = translated({ [`${ING}listen-ports`]: '[{"HTTP": 80}, {"HTTPS": 443}]', [`${ING}jwt-validation`]: JSON.stringify({ JwksEndpoint: JWT.jwksEndpoint, Issuer: JWT.issuer }) });
    const [http, https] = listeners(stack);
    expect(http!.rules![0]!.actions.map((a) => a.type)).toEqual(['forward']);
    expect(https!.rules![0]!.actions[0]).toEqual({ type: 'jwt-validation', order: 1, jwtValidationConfig: JWT });
  });

  it.each([
    ['no jwksEndpoint', { issuer: JWT.issuer }, 'jwksEndpoint is a required field for jwt validation'],
    ['no issuer', { jwksEndpoint: JWT.jwksEndpoint }, 'issuer is a required field for jwt validation'],
    ['a claim without format', { ...JWT, additionalClaims: [{ name: 'a', values: ['1'] }] }, 'format is a required field for additional claims for jwt validation'],
    ['a claim without name', { ...JWT, additionalClaims: [{ format: 'single-string', values: ['1'] }] }, 'name is a required field for additional claims for jwt validation'],
    ['a claim without values', { ...JWT, additionalClaims: [{ format: 'single-string', name: 'a', values: [] }] }, 'values must not be empty for additional claims for jwt validation'],
  ])('refuses the Ingress with %s, as the controller does', (_name, value, message) => {
    expect(translated({ [`${ING}listen-ports`]: '[{"HTTPS": 443}]', [`${ING}jwt-validation`]: JSON.stringify(value) })).toBe(`ingress: default/web: ${message}`);
  });

  it('refuses JSON it cannot decode with the controller’s wrapped message', () => {
    const raw = '{"jwksEndpoint": 1}';
    expect(translated({ [`${ING}listen-ports`]: '[{"HTTPS": 443}]', [`${ING}jwt-validation`]: raw })).toMatch(/^ingress: default\/web: failed to parse json annotation, alb\.ingress\.kubernetes\.io\/jwt-validation: \{"jwksEndpoint": 1\}: json: cannot unmarshal number into Go struct field JwtValidationConfig\.jwksEndpoint of type string$/);
  });

  it('refuses it beside auth-type on an HTTPS listener: "authentication and jwt validation can\'t both be configured"', () => {
    const reason = translated({ [`${ING}listen-ports`]: '[{"HTTPS": 443}]', [`${ING}jwt-validation`]: JSON.stringify(JWT), [`${ING}auth-type`]: 'cognito', [`${ING}auth-idp-cognito`]: JSON.stringify({ userPoolARN: 'arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_AbC', userPoolClientID: 'c', userPoolDomain: 'd' }) });
    expect(reason).toBe("ingress: default/web: authentication and jwt validation can't both be configured");
  });
});
