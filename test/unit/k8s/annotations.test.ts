/**
 * Every annotation the AWS Load Balancer Controller documents (test/fixtures/lbc-annotations.json,
 * extracted from its docs at the recorded commit) is emulated, accepted with no local effect (a
 * notice), or warned (a problem naming it); none is silently dropped (issue #14).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ANNOTATIONS, annotationTable, INGRESS_PREFIX, LBC_DOCS_COMMIT, lookupAnnotation, SERVICE_PREFIX, type AnnotationEntry } from '../../../src/k8s/annotations.ts';
import { AUTH_ANNOTATIONS } from '../../../src/k8s/auth-annotations.ts';
import { INGRESS_RULE_ANNOTATIONS } from '../../../src/k8s/ingress-annotations.ts';
import { translate, type DesiredStack } from '../../../src/k8s/translate.ts';
import { albClass, ingress, lbService, node, snapshot } from '../../support/k8s-fixtures.ts';

interface FixtureEntry {
  readonly name: string;
  readonly on: readonly string[];
  readonly type: string;
  readonly doc: string;
}
const fixture = JSON.parse(readFileSync(new URL('../../fixtures/lbc-annotations.json', import.meta.url), 'utf8')) as {
  commit: string;
  annotations: FixtureEntry[];
  excluded: Array<{ name: string; reason: string }>;
};

const nodes = [node('worker', '172.18.0.3')];

/** A concrete key for a documented name (`actions.${action-name}` → `actions.blue`). */
function concreteKey(name: string): string {
  return name
    .replace('${action-name}', 'blue')
    .replace('${transforms-name}', 'web')
    .replace('${conditions-name}', 'web')
    .replace('${serviceName}.${servicePort}', 'web.80')
    .replace(`${INGRESS_PREFIX}listener-attributes.\${Protocol}-\${Port}`, `${INGRESS_PREFIX}listener-attributes.HTTP-80`)
    .replace('${Protocol}-${Port}', 'TCP-80')
    .replace('${protocol}-${port}', 'TCP-80')
    .replace('${port}', '80');
}

const ARN = 'arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555';

/** Values a user would write (and that the controller accepts), with any annotation they need beside them. */
const PLAUSIBLE: Record<string, { value: string; with?: Record<string, string> }> = {
  [`${INGRESS_PREFIX}load-balancer-name`]: { value: 'my-alb' },
  [`${INGRESS_PREFIX}group.name`]: { value: 'team' },
  [`${INGRESS_PREFIX}minimum-load-balancer-capacity`]: { value: 'CapacityUnits=100' },
  [`${INGRESS_PREFIX}listener-attributes.HTTP-80`]: { value: 'routing.http.response.server.enabled=false' },
  [`${INGRESS_PREFIX}group.order`]: { value: '10' },
  [`${INGRESS_PREFIX}ip-address-type`]: { value: 'dualstack' },
  [`${INGRESS_PREFIX}scheme`]: { value: 'internet-facing' },
  [`${INGRESS_PREFIX}load-balancer-attributes`]: { value: 'idle_timeout.timeout_seconds=60' },
  [`${INGRESS_PREFIX}listen-ports`]: { value: '[{"HTTP": 8080}]' },
  [`${INGRESS_PREFIX}ssl-redirect`]: { value: '443', with: { [`${INGRESS_PREFIX}listen-ports`]: '[{"HTTP": 80}, {"HTTPS": 443}]', [`${INGRESS_PREFIX}certificate-arn`]: ARN } },
  [`${INGRESS_PREFIX}certificate-arn`]: { value: ARN },
  [`${INGRESS_PREFIX}mutual-authentication`]: { value: '[{"port": 443, "mode": "passthrough"}]', with: { [`${INGRESS_PREFIX}certificate-arn`]: ARN } },
  [`${INGRESS_PREFIX}jwt-validation`]: { value: '{"jwksEndpoint": "https://idp.example.test/jwks", "issuer": "https://idp.example.test"}', with: { [`${INGRESS_PREFIX}certificate-arn`]: ARN } },
  [`${INGRESS_PREFIX}ssl-policy`]: { value: 'ELBSecurityPolicy-TLS13-1-2-2021-06', with: { [`${INGRESS_PREFIX}certificate-arn`]: ARN } },
  [`${INGRESS_PREFIX}target-type`]: { value: 'ip' },
  [`${INGRESS_PREFIX}backend-protocol`]: { value: 'HTTPS' },
  [`${INGRESS_PREFIX}backend-protocol-version`]: { value: 'HTTP1' },
  [`${INGRESS_PREFIX}target-group-attributes`]: { value: 'deregistration_delay.timeout_seconds=30' },
  [`${INGRESS_PREFIX}healthcheck-port`]: { value: '8080' },
  [`${INGRESS_PREFIX}healthcheck-protocol`]: { value: 'HTTP' },
  [`${INGRESS_PREFIX}healthcheck-path`]: { value: '/ready' },
  [`${INGRESS_PREFIX}healthcheck-interval-seconds`]: { value: '10' },
  [`${INGRESS_PREFIX}healthcheck-timeout-seconds`]: { value: '4' },
  [`${INGRESS_PREFIX}healthy-threshold-count`]: { value: '3' },
  [`${INGRESS_PREFIX}unhealthy-threshold-count`]: { value: '3' },
  [`${INGRESS_PREFIX}success-codes`]: { value: '200-299' },
  [`${INGRESS_PREFIX}auth-type`]: { value: 'none' },
  [`${INGRESS_PREFIX}auth-idp-cognito`]: { value: '{"userPoolARN":"arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_abc","userPoolClientID":"client","userPoolDomain":"auth"}' },
  [`${INGRESS_PREFIX}auth-idp-oidc`]: { value: '{"issuer":"https://idp.example.com","authorizationEndpoint":"https://idp.example.com/auth","tokenEndpoint":"https://idp.example.com/token","userInfoEndpoint":"https://idp.example.com/userinfo","secretName":"oidc"}' },
  [`${INGRESS_PREFIX}auth-on-unauthenticated-request`]: { value: 'authenticate' },
  [`${INGRESS_PREFIX}auth-scope`]: { value: 'openid email' },
  [`${INGRESS_PREFIX}auth-session-cookie`]: { value: 'session' },
  [`${INGRESS_PREFIX}auth-session-timeout`]: { value: '3600' },
  [`${INGRESS_PREFIX}actions.blue`]: { value: '{"type":"fixed-response","fixedResponseConfig":{"statusCode":"503","contentType":"text/plain"}}' },
  [`${INGRESS_PREFIX}transforms.web`]: { value: '[{"type":"url-rewrite","urlRewriteConfig":{"rewrites":[{"regex":"^/api/(.*)$","replace":"/$1"}]}}]' },
  [`${INGRESS_PREFIX}conditions.web`]: { value: '[{"field":"http-request-method","httpRequestMethodConfig":{"Values":["GET"]}}]' },
  [`${SERVICE_PREFIX}aws-load-balancer-type`]: { value: 'external' },
  [`${SERVICE_PREFIX}aws-load-balancer-nlb-target-type`]: { value: 'ip' },
  [`${SERVICE_PREFIX}aws-load-balancer-name`]: { value: 'my-nlb' },
  [`${SERVICE_PREFIX}aws-load-balancer-internal`]: { value: 'false' },
  [`${SERVICE_PREFIX}aws-load-balancer-scheme`]: { value: 'internet-facing' },
  [`${SERVICE_PREFIX}aws-load-balancer-ip-address-type`]: { value: 'dualstack' },
  [`${SERVICE_PREFIX}aws-load-balancer-proxy-protocol`]: { value: '*' },
  [`${SERVICE_PREFIX}aws-load-balancer-proxy-protocol-per-target-group`]: { value: '80' },
  [`${SERVICE_PREFIX}aws-load-balancer-ssl-cert`]: { value: ARN },
  [`${SERVICE_PREFIX}aws-load-balancer-ssl-ports`]: { value: 'http', with: { [`${SERVICE_PREFIX}aws-load-balancer-ssl-cert`]: ARN } },
  [`${SERVICE_PREFIX}aws-load-balancer-ssl-negotiation-policy`]: { value: 'ELBSecurityPolicy-TLS13-1-2-2021-06', with: { [`${SERVICE_PREFIX}aws-load-balancer-ssl-cert`]: ARN } },
  [`${SERVICE_PREFIX}aws-load-balancer-backend-protocol`]: { value: 'ssl', with: { [`${SERVICE_PREFIX}aws-load-balancer-ssl-cert`]: ARN } },
  [`${SERVICE_PREFIX}aws-load-balancer-alpn-policy`]: { value: 'HTTP2Preferred', with: { [`${SERVICE_PREFIX}aws-load-balancer-ssl-cert`]: ARN } },
  [`${SERVICE_PREFIX}aws-load-balancer-healthcheck-protocol`]: { value: 'HTTP' },
  [`${SERVICE_PREFIX}aws-load-balancer-healthcheck-port`]: { value: 'traffic-port' },
  [`${SERVICE_PREFIX}aws-load-balancer-healthcheck-path`]: { value: '/ready', with: { [`${SERVICE_PREFIX}aws-load-balancer-healthcheck-protocol`]: 'HTTP' } },
  [`${SERVICE_PREFIX}aws-load-balancer-healthcheck-healthy-threshold`]: { value: '3' },
  [`${SERVICE_PREFIX}aws-load-balancer-healthcheck-unhealthy-threshold`]: { value: '3' },
  [`${SERVICE_PREFIX}aws-load-balancer-healthcheck-timeout`]: { value: '6' },
  [`${SERVICE_PREFIX}aws-load-balancer-healthcheck-interval`]: { value: '10' },
  [`${SERVICE_PREFIX}aws-load-balancer-healthcheck-success-codes`]: { value: '200-399', with: { [`${SERVICE_PREFIX}aws-load-balancer-healthcheck-protocol`]: 'HTTP' } },
  [`${SERVICE_PREFIX}aws-load-balancer-target-group-attributes`]: { value: 'deregistration_delay.timeout_seconds=30' },
  [`${SERVICE_PREFIX}aws-load-balancer-target-group-attributes.80`]: { value: 'deregistration_delay.timeout_seconds=30' },
  [`${SERVICE_PREFIX}aws-load-balancer-listener-attributes.TCP-80`]: { value: 'tcp.idle_timeout.seconds=600' },
};

/** Any value of the documented type, for annotations whose value local-elb does not read. */
function valueOfType(type: string): string {
  if (type === 'boolean') return 'true';
  if (type.startsWith('integer')) return '3000';
  if (type === 'stringList') return 'a,b';
  if (type === 'stringMap') return 'k1=v1,k2=v2';
  if (type === 'json') return '{"mode":"verify"}';
  return type.includes('|') ? type.split('|').at(-1)!.trim() : 'value-1';
}

/**
 * The stack (or rejection) for an object carrying these annotations: an Ingress, a Service the
 * NLB path serves (`service.beta.kubernetes.io/…`), or the backend Service of an Ingress (`alb.ingress.kubernetes.io/…`).
 */
function translated(on: 'Ingress' | 'Service', annotations: Record<string, string>): { stack: DesiredStack | undefined; rejected: string[] } {
  const albOnService = on === 'Service' && Object.keys(annotations).some((k) => k.startsWith(INGRESS_PREFIX));
  const backend = lbService('web', { type: 'NodePort', loadBalancerClass: null, ...(albOnService ? { annotations } : {}) });
  const r =
    on === 'Ingress' || albOnService
      ? translate(snapshot({ ingresses: [ingress('site', [{ paths: [{ path: '/', service: 'web', port: 80 }] }], { annotations: albOnService ? {} : annotations })], ingressClasses: [albClass], services: [backend], nodes }))
      : translate(snapshot({ services: [lbService('web', { annotations })], nodes }));
  return { stack: r.stacks[0], rejected: r.rejected.map((x) => x.reason) };
}

const mentions = (messages: readonly string[] | undefined, key: string) => (messages ?? []).filter((m) => m.includes(`annotation ${key}`));

describe('the annotation catalogue against the controller docs', () => {
  it('follows the docs at the commit the fixture was extracted from', () => {
    expect(fixture.commit).toBe(LBC_DOCS_COMMIT);
    expect(fixture.annotations.length).toBeGreaterThan(100);
  });

  it.each(fixture.annotations.map((a) => [a.name, a] as const))('has %s', (_, documented) => {
    const entry = ANNOTATIONS.find((e) => e.name === documented.name);
    expect(entry, `catalogue entry for ${documented.name}`).toBeDefined();
    expect(entry!.on).toEqual(documented.on);
    expect(entry!.note.length).toBeGreaterThan(10);
  });

  it('has no entry the fixture lacks, and none of the excluded names', () => {
    const documented = new Set(fixture.annotations.map((a) => a.name));
    expect(ANNOTATIONS.filter((e) => !documented.has(e.name)).map((e) => e.name)).toEqual([]);
    expect(new Set(ANNOTATIONS.map((e) => e.name)).size).toBe(ANNOTATIONS.length);
    for (const x of fixture.excluded) {
      expect(x.reason.length).toBeGreaterThan(10);
      for (const name of x.name.split(', ')) expect(lookupAnnotation(name), name).toBeUndefined();
    }
  });

  it('counts every authentication and rule annotation translate reads as emulated', () => {
    for (const suffix of AUTH_ANNOTATIONS) expect(lookupAnnotation(`${INGRESS_PREFIX}${suffix}`)?.handling).toBe('emulated');
    for (const suffix of INGRESS_RULE_ANNOTATIONS) expect(lookupAnnotation(`${INGRESS_PREFIX}${suffix}${suffix.endsWith('.') ? 'x' : ''}`)?.handling, suffix).toBe('emulated');
  });
});

describe('translating an object that carries each documented annotation', () => {
  const cases = ANNOTATIONS.flatMap((e) => e.on.map((on) => [`${e.handling} ${e.name} on ${on === 'Ingress' ? 'an Ingress' : e.on.length > 1 ? 'a backend Service' : 'a Service'}`, e, on] as const));
  it.each(cases)('%s', (_, entry: AnnotationEntry, on) => {
    const key = concreteKey(entry.name);
    expect(lookupAnnotation(key)).toBe(entry);
    const plausible = PLAUSIBLE[key] ?? { value: valueOfType(fixture.annotations.find((a) => a.name === entry.name)!.type) };
    const { stack, rejected } = translated(on, { ...(on === 'Ingress' || !key.startsWith(INGRESS_PREFIX) ? plausible.with : {}), [key]: plausible.value });
    expect(rejected).toEqual([]);
    expect(stack).toBeDefined();
    const problems = mentions(stack!.problems, key);
    const notices = mentions(stack!.annotationNotices, key);
    if (entry.handling === 'emulated') {
      expect(problems).toEqual([]);
      expect(notices).toEqual([]);
    } else if (entry.handling === 'no-local-effect') {
      expect(problems).toEqual([]);
      expect(notices).toEqual([expect.stringContaining(`annotation ${key} is accepted, with no local effect: ${entry.note}`)]);
    } else {
      expect(notices).toEqual([]);
      expect(problems).toEqual([expect.stringContaining(`annotation ${key}: ${JSON.stringify(plausible.value)} is not emulated by local-elb: ${entry.note}`)]);
    }
  });

  it.each([
    [`${INGRESS_PREFIX}scheme`, 'internal'],
    [`${INGRESS_PREFIX}ip-address-type`, 'ipv4'],
    [`${SERVICE_PREFIX}aws-load-balancer-scheme`, 'internal'],
    [`${SERVICE_PREFIX}aws-load-balancer-internal`, 'true'],
    [`${SERVICE_PREFIX}aws-load-balancer-ip-address-type`, 'ipv4'],
  ])('says nothing about %s: %s, which a loopback IPv4 address serves as AWS does', (key, value) => {
    const { stack } = translated(lookupAnnotation(key)!.on[0]!, { [key]: value });
    expect(mentions(stack!.problems, key)).toEqual([]);
    expect(mentions(stack!.annotationNotices, key)).toEqual([]);
  });

  it.each([
    ['Ingress', `${INGRESS_PREFIX}healthcheck-paht`],
    ['Ingress', `${INGRESS_PREFIX}aws-load-balancer-scheme`],
    ['Service', `${SERVICE_PREFIX}aws-load-balancer-connection-idle-timeout`],
    ['Service', `${SERVICE_PREFIX}aws-load-balancer-target-group-attributes-typo`],
  ] as const)('warns about %s annotation %s, which the controller does not document', (on, key) => {
    const { stack } = translated(on, { [key]: '1' });
    expect(mentions(stack!.problems, key)).toEqual([expect.stringMatching(/is not one the AWS Load Balancer Controller reads \(not in its documented annotations at 225f44568848\): ignored, as the controller ignores it/)]);
  });

  it('warns about an Ingress-only annotation on a backend Service, naming the Service and the Ingress', () => {
    const key = `${INGRESS_PREFIX}listen-ports`;
    const { stack } = translated('Service', { [key]: '[{"HTTP": 8080}]', [`${INGRESS_PREFIX}tags`]: 'team=a' });
    expect(stack!.problems).toEqual([`Service default/web (backend of default/site): annotation ${key} is read from Ingresses only, not from a Service: ignored, as the controller ignores it`]);
    expect(stack!.annotationNotices).toEqual([expect.stringMatching(/^Service default\/web \(backend of default\/site\): annotation alb\.ingress\.kubernetes\.io\/tags is accepted, with no local effect/)]);
  });

  it('prefixes an Ingress group member’s messages with its namespace and name', () => {
    const { stack } = translated('Ingress', { [`${INGRESS_PREFIX}tags`]: 'team=a', [`${INGRESS_PREFIX}inbound-cidrs`]: '10.0.0.0/8' });
    expect(stack!.annotationNotices).toEqual([expect.stringMatching(/^default\/site: annotation alb\.ingress\.kubernetes\.io\/tags is accepted, with no local effect: /)]);
    expect(stack!.problems).toEqual([expect.stringMatching(/^default\/site: annotation alb\.ingress\.kubernetes\.io\/inbound-cidrs: "10\.0\.0\.0\/8" is not emulated by local-elb: not enforced/)]);
  });
});

describe('the README', () => {
  it("kind section holds the catalogue's table", () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    // The README's copy is generated: paste annotationTable()'s output when the catalogue changes.
    expect(readme.includes(annotationTable()), 'README.md holds annotationTable() verbatim').toBe(true);
  });
});
