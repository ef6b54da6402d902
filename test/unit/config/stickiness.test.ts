/**
 * Sticky sessions in the config (spec 3.3, 3.4, 3.5): target group stickiness on forward
 * actions (`forwardConfig.targetGroupStickinessConfig`), its duration, and the rule that a
 * weighted forward over sticky groups needs it; NLB source_ip stickiness by listener protocol.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/core/errors.ts';
import { parseConfig } from '../../../src/config/schema.ts';

const tg = (name: string, attributes: Record<string, string> = {}) => ({ name, protocol: 'HTTP', port: 8080, attributes });

function weighted(stickiness: unknown, attributes: Record<string, string> = {}) {
  return {
    targetGroups: [tg('blue', attributes), tg('green', attributes)],
    loadBalancers: [
      {
        name: 'app',
        listeners: [
          {
            port: 80,
            defaultActions: [
              {
                type: 'forward',
                forwardConfig: {
                  targetGroups: [{ targetGroupName: 'blue', weight: 80 }, { targetGroupName: 'green', weight: 20 }],
                  ...(stickiness !== undefined ? { targetGroupStickinessConfig: stickiness } : {}),
                },
              },
            ],
          },
        ],
      },
    ],
  };
}

function issues(input: unknown): Array<{ path: string; message: string }> {
  try {
    parseConfig(input);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues.map((i) => ({ path: i.path, message: i.message }));
    throw err;
  }
  return [];
}

const at = 'loadBalancers[0].listeners[0].defaultActions[0].forwardConfig.targetGroupStickinessConfig';

describe('targetGroupStickinessConfig (spec 3.4)', () => {
  it.each<[string, unknown, Record<string, string>, string[]]>([
    ['no group stickiness, no sticky groups', undefined, {}, []],
    ['group stickiness for 1 s', { enabled: true, durationSeconds: 1 }, {}, []],
    ['group stickiness for 604800 s (7 days)', { enabled: true, durationSeconds: 604800 }, {}, []],
    ['group stickiness disabled, with no duration', { enabled: false }, {}, []],
    ['group stickiness enabled without a duration', { enabled: true }, {}, [`${at}.durationSeconds`]],
    ['a duration of 0 s', { enabled: true, durationSeconds: 0 }, {}, [`${at}.durationSeconds`]],
    ['a duration of 604801 s', { enabled: true, durationSeconds: 604801 }, {}, [`${at}.durationSeconds`]],
    ['an unknown key', { enabled: true, durationSeconds: 60, cookie: 'x' }, {}, [at]],
    ['sticky groups without group stickiness', undefined, { 'stickiness.enabled': 'true' }, [at]],
    ['sticky groups with group stickiness disabled', { enabled: false }, { 'stickiness.enabled': 'true' }, [at]],
    ['sticky groups with group stickiness', { enabled: true, durationSeconds: 60 }, { 'stickiness.enabled': 'true' }, []],
  ])('%s: issues at %j', (_case, stickiness, attributes, paths) => {
    expect(issues(weighted(stickiness, attributes)).map((i) => i.path)).toEqual(paths);
  });

  it('keeps the config as given, for the forward action to read', () => {
    const config = parseConfig(weighted({ enabled: true, durationSeconds: 300 }));
    const action = config.loadBalancers[0]!.listeners[0]!.defaultActions[0]!;
    expect(action.type === 'forward' && action.forwardConfig?.targetGroupStickinessConfig).toEqual({ enabled: true, durationSeconds: 300 });
  });

  it('names the sticky groups and what is missing', () => {
    const [issue] = issues(weighted(undefined, { 'stickiness.enabled': 'true' }));
    expect(issue!.message).toMatch(/"blue", "green".*needs target group stickiness enabled.*got none/);
  });

  it('lets a single-group forward be sticky without group stickiness', () => {
    const input = {
      targetGroups: [tg('web', { 'stickiness.enabled': 'true' })],
      loadBalancers: [{ name: 'app', listeners: [{ port: 80, defaultActions: [{ type: 'forward', forwardConfig: { targetGroups: [{ targetGroupName: 'web' }] } }] }] }],
    };
    expect(issues(input)).toEqual([]);
  });
});

describe('NLB source_ip stickiness (spec 3.5)', () => {
  const nlb = (protocol: string, listenerProtocol: string) => ({
    targetGroups: [{ name: 'tcp', protocol, port: 9000, targetType: 'ip', attributes: { 'stickiness.enabled': 'true', 'stickiness.type': 'source_ip' } }],
    loadBalancers: [
      {
        name: 'net',
        type: 'network',
        listeners: [{ port: 9000, protocol: listenerProtocol, ...(listenerProtocol === 'TLS' ? { certificates: [{ certificateArn: 'arn:local' }] } : {}), defaultActions: [{ type: 'forward', targetGroupName: 'tcp' }] }],
      },
    ],
  });

  it.each([
    ['TCP', 'TCP', []],
    ['UDP', 'UDP', []],
    ['TCP_UDP', 'TCP_UDP', []],
    ['TCP', 'TLS', []],
    ['TLS', 'TLS', ['targetGroups[0].attributes["stickiness.enabled"]']],
  ])('a %s target group behind a %s listener: issues at %j', (protocol, listenerProtocol, paths) => {
    expect(issues(nlb(protocol, listenerProtocol)).map((i) => i.path)).toEqual(paths);
  });
});
