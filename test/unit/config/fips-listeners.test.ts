/**
 * On one ALB the secure listeners use FIPS policies or non-FIPS ones, never both (spec 12.1.3);
 * an NLB has no such rule in the spec.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/core/errors.ts';
import { parseConfig, type ConfigInput } from '../../../src/config/schema.ts';

function config(type: 'application' | 'network', policies: string[]): ConfigInput {
  const protocol = type === 'application' ? 'HTTPS' : 'TLS';
  return {
    targetGroups: [{ name: 'web', protocol: type === 'application' ? 'HTTP' : 'TCP' }],
    loadBalancers: [
      {
        name: 'lb',
        type,
        listeners: [
          ...policies.map((sslPolicy, i) => ({ port: 8443 + i, protocol, sslPolicy, defaultActions: [{ type: 'forward', targetGroupName: 'web' }] })),
          ...(type === 'application' ? [{ port: 8080, protocol: 'HTTP', defaultActions: [{ type: 'forward', targetGroupName: 'web' }] }] : []),
        ],
      },
    ],
  } as ConfigInput;
}

function messages(input: ConfigInput): string[] {
  try {
    parseConfig(input);
    return [];
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues.map((i) => `${i.path}: ${i.message}`);
  }
}

describe('FIPS and non-FIPS policies on one load balancer', () => {
  it('accepts an ALB whose HTTPS listeners are all FIPS, or all non-FIPS (an HTTP listener beside them has no policy)', () => {
    expect(messages(config('application', ['ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04', 'ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04']))).toEqual([]);
    expect(messages(config('application', ['ELBSecurityPolicy-2016-08', 'ELBSecurityPolicy-TLS13-1-2-2021-06']))).toEqual([]);
  });

  it('refuses an ALB that mixes them, naming both listeners and policies', () => {
    expect(messages(config('application', ['ELBSecurityPolicy-TLS13-1-2-2021-06', 'ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04']))).toEqual([
      'loadBalancers[0].listeners[1].sslPolicy: the secure listeners of an application load balancer must all use FIPS policies or all non-FIPS ones (InvalidConfigurationRequest): loadBalancers[0].listeners[0] has ELBSecurityPolicy-TLS13-1-2-2021-06 (a non-FIPS policy), this one ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04 (a FIPS policy)',
    ]);
  });

  it('lets an NLB mix them', () => {
    expect(messages(config('network', ['ELBSecurityPolicy-TLS13-1-2-2021-06', 'ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04']))).toEqual([]);
  });
});
