/**
 * The `alb.ingress.kubernetes.io/mutual-authentication` annotation (spec 12.7.1), translated
 * with the controller's rules and messages (pkg/ingress/model_build_listener.go): by port, HTTPS
 * ports only, verify's defaults, and the group merge ("conflicting mTLS Attributes").
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/schema.ts';
import { translate, type DesiredStack } from '../../../src/k8s/translate.ts';
import { albClass, ingress, lbService, node, snapshot } from '../../support/k8s-fixtures.ts';

const nodes = [node('worker', '172.18.0.3')];
const ING = 'alb.ingress.kubernetes.io/';
const CERT = 'arn:aws:acm:eu-west-1:111122223333:certificate/a';
const web = lbService('web', { type: 'NodePort', loadBalancerClass: null, ports: [{ name: 'http', port: 80, nodePort: 30082 }] });
const trustStores = [{ name: 'clients', caCertificatesBundleFile: '/ca.pem', revocationFiles: [] }];

function ing(name: string, annotations: Record<string, string>) {
  return ingress(name, [{ host: 'shop.example.com', paths: [{ path: '/', service: 'web', port: 80 }] }], {
    annotations: { [`${ING}listen-ports`]: '[{"HTTP": 8080}, {"HTTPS": 8443}, {"HTTPS": 9443}]', [`${ING}certificate-arn`]: CERT, ...annotations },
  });
}

function translateIngresses(...ingresses: ReturnType<typeof ingress>[]) {
  return translate(snapshot({ services: [web], ingresses, ingressClasses: [albClass], nodes }));
}

function stackOf(...ingresses: ReturnType<typeof ingress>[]): DesiredStack {
  const r = translateIngresses(...ingresses);
  expect(r.rejected).toEqual([]);
  const stack = r.stacks[0]!;
  // The controller's stack with local-elb kind's trust stores is a valid config.
  expect(() => parseConfig({ ...stack.config, trustStores })).not.toThrow();
  return stack;
}

const mtlsByPort = (stack: DesiredStack) => Object.fromEntries(stack.config.loadBalancers![0]!.listeners.map((l) => [l.port, l.mutualAuthentication]));

describe('mutual-authentication annotation', () => {
  it("sets each HTTPS port's mode as the controller does: verify gets ignoreClientCertificateExpiry false, the trust store by name or ARN; an HTTP port's entry is not used", () => {
    const stack = stackOf(
      ing('shop', {
        [`${ING}mutual-authentication`]:
          '[{"port": 8443, "mode": "verify", "trustStore": "clients", "advertiseTrustStoreCaNames": "on"}, {"port": 9443, "mode": "passthrough"}, {"port": 8080, "mode": "passthrough"}]',
      }),
    );
    expect(mtlsByPort(stack)).toEqual({
      8080: undefined,
      8443: { mode: 'verify', trustStore: 'clients', ignoreClientCertificateExpiry: false, advertiseTrustStoreCaNames: 'on' },
      9443: { mode: 'passthrough' },
    });
    const byArn = stackOf(ing('shop', { [`${ING}mutual-authentication`]: '[{"port": 8443, "mode": "verify", "trustStore": "arn:aws:elasticloadbalancing:eu-west-1:111122223333:truststore/clients/0123456789abcdef", "ignoreClientCertificateExpiry": true}]' }));
    const parsed = parseConfig({ ...byArn.config, trustStores }).loadBalancers[0]!.listeners.find((l) => l.port === 8443)!;
    expect(parsed.mutualAuthentication).toEqual({ mode: 'verify', trustStore: 'clients', ignoreClientCertificateExpiry: true, advertiseTrustStoreCaNames: 'off' });
  });

  it.each([
    ['not JSON', 'nope', /failed to parse mutualAuthentication configuration from ingress annotation: `nope`/],
    ['an empty list', '[]', /empty mutualAuthentication configuration from ingress annotation: `\[\]`/],
    ['a port out of range', '[{"port": 0, "mode": "off"}]', /listen port must be within \[1, 65535\]: 0/],
    ['no mode', '[{"port": 8443}]', /mutualAuthentication mode cannot be empty for port 8443/],
    ['an unknown mode', '[{"port": 8443, "mode": "strict"}]', /mutualAuthentication mode value must be among \[off, passthrough, verify\] for port 8443 : strict/],
    ['verify without a trust store', '[{"port": 8443, "mode": "verify"}]', /trustStore is required when mutualAuthentication mode is verify for port 8443/],
    ['a trust store in passthrough mode', '[{"port": 8443, "mode": "passthrough", "trustStore": "clients"}]', /Mutual Authentication mode passthrough does not support trustStore for port 8443/],
    ['ignoreClientCertificateExpiry with off', '[{"port": 8443, "mode": "off", "ignoreClientCertificateExpiry": false}]', /Mutual Authentication mode off does not support ignoring client certificate expiry for port 8443/],
    ['advertiseTrustStoreCaNames with passthrough', '[{"port": 8443, "mode": "passthrough", "advertiseTrustStoreCaNames": "on"}]', /Mutual Authentication mode passthrough does not support advertiseTrustStoreCaNames for port 8443/],
    ['advertiseTrustStoreCaNames yes', '[{"port": 8443, "mode": "verify", "trustStore": "clients", "advertiseTrustStoreCaNames": "yes"}]', /advertiseTrustStoreCaNames only supports the values "on" and "off" got value yes for port 8443/],
  ])('refuses %s with the controller’s message', (_name, value, message) => {
    const r = translateIngresses(ing('shop', { [`${ING}mutual-authentication`]: value }));
    expect(r.stacks).toEqual([]);
    expect(r.rejected[0]!.reason).toMatch(message);
  });

  it('merges a group: the same value on two Ingresses is one listener setting, different values are "conflicting mTLS Attributes"', () => {
    const group = { [`${ING}group.name`]: 'shared' };
    const value = '[{"port": 8443, "mode": "passthrough"}]';
    const same = stackOf(ing('a', { ...group, [`${ING}mutual-authentication`]: value }), ing('b', { ...group, [`${ING}mutual-authentication`]: value }), ing('c', group));
    expect(mtlsByPort(same)[8443]).toEqual({ mode: 'passthrough' });
    const r = translateIngresses(ing('a', { ...group, [`${ING}mutual-authentication`]: value }), ing('b', { ...group, [`${ING}mutual-authentication`]: '[{"port": 8443, "mode": "off"}]' }));
    expect(r.rejected[0]!.reason).toMatch(/failed to merge listenPort config for port: 8443: conflicting mTLS Attributes, default\/a: \{"mode":"passthrough"\} \| default\/b: \{"mode":"off"\}/);
  });
});
