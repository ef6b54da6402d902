/**
 * A listener's `mutualAuthentication` and the top-level `trustStores:` (spec 12.1.7): the
 * API's defaults, and its refusals with the field, the value and what is allowed.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/core/errors.ts';
import { parseConfig, trustStoreNameOf, type ConfigInput } from '../../../src/config/schema.ts';

type Mtls = Record<string, unknown>;

function config(mutualAuthentication: Mtls, protocol: 'HTTP' | 'HTTPS' = 'HTTPS', trustStores = [{ name: 'clients', caCertificatesBundleFile: '/ca.pem' }]): ConfigInput {
  return {
    trustStores,
    targetGroups: [{ name: 'web', protocol: 'HTTP', targets: [] }],
    loadBalancers: [{ name: 'app', listeners: [{ port: 443, protocol, mutualAuthentication, defaultActions: [{ type: 'forward', targetGroupName: 'web' }] }] }],
  } as ConfigInput;
}

function issues(input: ConfigInput): string[] {
  try {
    parseConfig(input);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues.map((i) => `${i.path}: ${i.message}`);
    throw err;
  }
  return [];
}

const at = 'loadBalancers[0].listeners[0].mutualAuthentication';

describe('mutualAuthentication', () => {
  it("fills the API's defaults: verify with ignoreClientCertificateExpiry false and advertiseTrustStoreCaNames off; the trust store by name or ARN", () => {
    const byName = parseConfig(config({ mode: 'verify', trustStore: 'clients' })).loadBalancers[0]!.listeners[0]!;
    expect(byName.mutualAuthentication).toEqual({ mode: 'verify', trustStore: 'clients', ignoreClientCertificateExpiry: false, advertiseTrustStoreCaNames: 'off' });
    const byArn = parseConfig(config({ mode: 'verify', trustStore: 'arn:aws:elasticloadbalancing:us-east-1:000000000000:truststore/clients/0123456789abcdef' })).loadBalancers[0]!.listeners[0]!;
    expect(byArn.mutualAuthentication?.trustStore).toBe('clients');
    expect(parseConfig(config({})).loadBalancers[0]!.listeners[0]!.mutualAuthentication).toEqual({ mode: 'off', ignoreClientCertificateExpiry: false, advertiseTrustStoreCaNames: 'off' });
    expect(trustStoreNameOf('plain')).toBe('plain');
  });

  it.each<[string, Mtls, 'HTTP' | 'HTTPS', RegExp]>([
    ['verify without a trust store', { mode: 'verify' }, 'HTTPS', /mutualAuthentication\.trustStore: is required when mode is "verify": a trustStores: name or its ARN \(defined: clients\); got nothing/],
    ['an unknown trust store', { mode: 'verify', trustStore: 'nope' }, 'HTTPS', /names trust store "nope", which trustStores: does not define \(TrustStoreNotFound\); defined: clients/],
    ['a trust store in passthrough mode', { mode: 'passthrough', trustStore: 'clients' }, 'HTTPS', /trustStore: applies to mode "verify" only; mode is "passthrough": got "clients"/],
    ['ignoreClientCertificateExpiry off verify', { mode: 'passthrough', ignoreClientCertificateExpiry: true }, 'HTTPS', /ignoreClientCertificateExpiry: applies to mode "verify" only; mode is "passthrough": got true/],
    ['advertiseTrustStoreCaNames off verify', { mode: 'off', advertiseTrustStoreCaNames: 'on' }, 'HTTPS', /advertiseTrustStoreCaNames: applies to mode "verify" only; mode is "off": got "on"/],
    ['mutual TLS on an HTTP listener', { mode: 'passthrough' }, 'HTTP', /mode: mutual TLS applies to HTTPS listeners only \(InvalidConfigurationRequest\); this one is HTTP: got "passthrough"/],
    ['an unknown mode', { mode: 'strict' }, 'HTTPS', /mode: must be one of off \| passthrough \| verify: got "strict"/],
  ])('refuses %s, naming the field and what is allowed', (_name, mtls, protocol, message) => {
    const found = issues(config(mtls, protocol));
    expect(found.join('\n')).toMatch(message);
    expect(found.every((i) => i.startsWith(at))).toBe(true);
  });

  it('refuses two trust stores of one name (DuplicateTrustStoreName)', () => {
    const dup = [
      { name: 'clients', caCertificatesBundleFile: '/a.pem' },
      { name: 'clients', caCertificatesBundleFile: '/b.pem' },
    ];
    expect(issues(config({}, 'HTTPS', dup))).toEqual(['trustStores[1].name: duplicate trust store name "clients" (DuplicateTrustStoreName)']);
  });
});
