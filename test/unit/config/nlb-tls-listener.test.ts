/**
 * NLB TLS listeners in the config (spec 12.6): the defaults a TLS listener gets, the fixed
 * 350 s idle timeout (no listener attributes), the target groups it may forward to, and the
 * client-IP default of TLS target groups (spec 5.1).
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/core/errors.ts';
import { parseConfig, type ConfigInput } from '../../../src/config/schema.ts';

function nlb(listener: Record<string, unknown>, group: Record<string, unknown> = {}): ConfigInput {
  return {
    targetGroups: [{ name: 'backend', protocol: 'TCP', targetType: 'ip', ...group }],
    loadBalancers: [{ name: 'edge', type: 'network', listeners: [{ port: 443, protocol: 'TLS', defaultActions: [{ type: 'forward', targetGroupName: 'backend' }], ...listener }] }],
  } as ConfigInput;
}

function issues(input: ConfigInput): string[] {
  try {
    parseConfig(input);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues.map((i) => `${i.path}: ${i.message}`);
  }
  throw new Error('parseConfig accepted an invalid configuration');
}

describe('NLB TLS listeners in the config', () => {
  it('default to ELBSecurityPolicy-2016-08 and ALPN policy None, with no listener attributes', () => {
    const listener = parseConfig(nlb({})).loadBalancers[0]!.listeners[0]!;
    expect(listener).toMatchObject({ protocol: 'TLS', sslPolicy: 'ELBSecurityPolicy-2016-08', alpnPolicy: 'None', attributes: {} });
  });

  it('refuse tcp.idle_timeout.seconds: the idle timeout of a TLS listener is fixed at 350 s (spec 12.6.5)', () => {
    expect(issues(nlb({ attributes: { 'tcp.idle_timeout.seconds': '600' } }))).toEqual([
      'loadBalancers[0].listeners[0].attributes: a TLS listener takes no attributes: its idle timeout is fixed at 350 s (spec 12.6.5) and tcp.idle_timeout.seconds applies to TCP listeners only; got "tcp.idle_timeout.seconds"',
    ]);
  });

  it.each(['TCP', 'TLS'])('forward to a %s target group', (protocol) => {
    expect(parseConfig(nlb({}, { protocol })).targetGroups[0]!.protocol).toBe(protocol);
  });

  it.each(['UDP', 'TCP_UDP'])('refuse a %s target group', (protocol) => {
    expect(issues(nlb({}, { protocol })).join('\n')).toContain(`a TLS listener cannot forward to ${protocol} target group "backend"; it takes TCP | TLS`);
  });

  it.each([
    ['ip', 'false'],
    ['instance', 'true'],
  ])('give an %s TLS target group preserve_client_ip.enabled %s by default, as TCP (spec 5.1)', (targetType, preserve) => {
    const tg = parseConfig(nlb({}, { protocol: 'TLS', targetType })).targetGroups[0]!;
    expect(tg.attributes['preserve_client_ip.enabled']).toBe(preserve);
    expect(tg.attributes['proxy_protocol_v2.enabled']).toBe('false');
    expect(tg.healthCheckProtocol).toBe('TCP');
  });

  it('refuse an ALPN policy AWS does not have (ALPNPolicyNotFound)', () => {
    expect(issues(nlb({ alpnPolicy: 'HTTP3Only' }))[0]).toContain('alpnPolicy: must be None | HTTP1Only | HTTP2Only | HTTP2Optional | HTTP2Preferred (ALPNPolicyNotFound): got "HTTP3Only"');
  });
});
