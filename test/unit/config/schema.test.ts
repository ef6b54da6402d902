import { describe, expect, it } from 'vitest';
import { ConfigError, ErrorCodes } from '../../../src/core/errors.ts';
import { parseConfig, type ConfigInput } from '../../../src/config/schema.ts';

/** A minimal valid target group; override fields per case. */
const group = (overrides: Record<string, unknown> = {}) => ({ name: 'web', protocol: 'HTTP', port: 8080, ...overrides });
/** A minimal valid load balancer forwarding to `web`. */
const balancer = (overrides: Record<string, unknown> = {}) => ({
  name: 'app',
  listeners: [{ port: 80, defaultActions: [{ type: 'forward', targetGroupName: 'web' }] }],
  ...overrides,
});

function configError(input: unknown, source?: string): ConfigError {
  try {
    parseConfig(input, source);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('parseConfig accepted an invalid configuration');
}

describe('parseConfig: defaults', () => {
  it('fills the AWS ALB target group defaults (spec 2.2, 4.4)', () => {
    const tg = parseConfig({ targetGroups: [group()] }).targetGroups[0]!;
    expect(tg).toMatchObject({
      targetType: 'instance',
      healthCheckProtocol: 'HTTP',
      healthCheckPort: 'traffic-port',
      healthCheckPath: '/',
      healthCheckEnabled: true,
      healthCheckIntervalSeconds: 30,
      healthCheckTimeoutSeconds: 5,
      healthyThresholdCount: 5,
      unhealthyThresholdCount: 2,
      matcher: { httpCode: '200' },
      targets: [],
      emulator: { initialHealthyThresholdCount: 1, registrationDelaySeconds: 0 },
    });
    expect(tg.attributes).toEqual({
      'deregistration_delay.timeout_seconds': '300',
      'load_balancing.algorithm.type': 'round_robin',
      'load_balancing.algorithm.anomaly_mitigation': 'off',
      'slow_start.duration_seconds': '0',
      'stickiness.enabled': 'false',
      'stickiness.type': 'lb_cookie',
      'stickiness.lb_cookie.duration_seconds': '86400',
      'stickiness.app_cookie.cookie_name': '',
      'stickiness.app_cookie.duration_seconds': '86400',
      'target_group_health.unhealthy_state_routing.minimum_healthy_targets.count': '1',
      'target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage': 'off',
      'load_balancing.cross_zone.enabled': 'use_load_balancer_configuration',
      'target_group_health.dns_failover.minimum_healthy_targets.count': '1',
      'target_group_health.dns_failover.minimum_healthy_targets.percentage': 'off',
    });
  });

  it('fills the AWS ALB load balancer attribute defaults (spec 4.6) and listener defaults', () => {
    const config = parseConfig({ targetGroups: [group()], loadBalancers: [balancer()] });
    const lb = config.loadBalancers[0]!;
    expect(lb.type).toBe('application');
    expect(lb.attributes).toEqual({
      'idle_timeout.timeout_seconds': '60',
      'client_keep_alive.seconds': '3600',
      'routing.http.xff_header_processing.mode': 'append',
      'routing.http.xff_client_port.enabled': 'false',
      'routing.http.preserve_host_header.enabled': 'false',
      'routing.http.x_amzn_tls_version_and_cipher_suite.enabled': 'false',
      'routing.http2.enabled': 'true',
      'routing.http.desync_mitigation_mode': 'defensive',
      'routing.http.drop_invalid_header_fields.enabled': 'false',
      'load_balancing.cross_zone.enabled': 'true',
      'waf.fail_open.enabled': 'false',
      'deletion_protection.enabled': 'false',
      'zonal_shift.config.enabled': 'false',
      'ipv6.deny_all_igw_traffic': 'false',
      'access_logs.s3.enabled': 'false',
      'access_logs.s3.bucket': '',
      'access_logs.s3.prefix': '',
      'connection_logs.s3.enabled': 'false',
      'connection_logs.s3.bucket': '',
      'connection_logs.s3.prefix': '',
      'health_check_logs.s3.enabled': 'false',
      'health_check_logs.s3.bucket': '',
      'health_check_logs.s3.prefix': '',
    });
    expect(lb.listeners[0]).toMatchObject({ port: 80, protocol: 'HTTP', address: '127.0.0.1', rules: [] });
    // An HTTP listener's attributes: the response headers of spec 13.3.1, off.
    expect(lb.listeners[0]!.attributes).toEqual({
      'routing.http.response.server.enabled': 'true',
      'routing.http.response.strict_transport_security.header_value': '',
      'routing.http.response.access_control_allow_origin.header_value': '',
      'routing.http.response.access_control_allow_methods.header_value': '',
      'routing.http.response.access_control_allow_headers.header_value': '',
      'routing.http.response.access_control_allow_credentials.header_value': '',
      'routing.http.response.access_control_expose_headers.header_value': '',
      'routing.http.response.access_control_max_age.header_value': '',
      'routing.http.response.content_security_policy.header_value': '',
      'routing.http.response.x_content_type_options.header_value': '',
      'routing.http.response.x_frame_options.header_value': '',
    });
  });

  it('returns an empty configuration for undefined input', () => {
    expect(parseConfig(undefined)).toEqual({ targetGroups: [], loadBalancers: [], certificates: [], trustStores: [] });
  });

  it('fills redirect defaults that keep every component of the original URL', () => {
    const config = parseConfig({
      loadBalancers: [{ name: 'app', listeners: [{ port: 80, defaultActions: [{ type: 'redirect', redirectConfig: { statusCode: 'HTTP_301' } }] }] }],
    });
    expect(config.loadBalancers[0]!.listeners[0]!.defaultActions[0]).toEqual({
      type: 'redirect',
      redirectConfig: { protocol: '#{protocol}', host: '#{host}', port: '#{port}', path: '/#{path}', query: '#{query}', statusCode: 'HTTP_301' },
    });
  });

  it('keeps explicit values instead of defaults', () => {
    const tg = parseConfig({
      targetGroups: [
        group({
          healthCheckIntervalSeconds: 10,
          healthCheckTimeoutSeconds: 3,
          healthyThresholdCount: 2,
          unhealthyThresholdCount: 3,
          healthCheckPath: '/healthz',
          matcher: { httpCode: '200-299' },
          emulator: { initialHealthyThresholdCount: 3, registrationDelaySeconds: 120 },
        }),
      ],
    }).targetGroups[0]!;
    expect(tg).toMatchObject({
      healthCheckIntervalSeconds: 10,
      healthCheckTimeoutSeconds: 3,
      healthyThresholdCount: 2,
      unhealthyThresholdCount: 3,
      healthCheckPath: '/healthz',
      matcher: { httpCode: '200-299' },
      emulator: { initialHealthyThresholdCount: 3, registrationDelaySeconds: 120 },
    });
  });

  it('turns numeric and boolean attribute values into AWS-style strings', () => {
    const config = parseConfig({
      targetGroups: [group({ attributes: { 'deregistration_delay.timeout_seconds': 0, 'stickiness.enabled': false } })],
      loadBalancers: [balancer({ attributes: { 'routing.http.xff_client_port.enabled': true, 'idle_timeout.timeout_seconds': 4000 } })],
    });
    expect(config.targetGroups[0]!.attributes['deregistration_delay.timeout_seconds']).toBe('0');
    expect(config.targetGroups[0]!.attributes['stickiness.enabled']).toBe('false');
    expect(config.loadBalancers[0]!.attributes['routing.http.xff_client_port.enabled']).toBe('true');
    expect(config.loadBalancers[0]!.attributes['idle_timeout.timeout_seconds']).toBe('4000');
  });

  it.each([
    ['traffic-port', 'traffic-port'],
    [9000, 9000],
    ['9000', 9000],
  ])('accepts healthCheckPort %j as %j', (input, expected) => {
    expect(parseConfig({ targetGroups: [group({ healthCheckPort: input })] }).targetGroups[0]!.healthCheckPort).toBe(expected);
  });
});

describe('parseConfig: ranges (spec 2.1, 4.4, 4.6)', () => {
  it.each([
    ['healthCheckIntervalSeconds', 1, '5–300'],
    ['healthCheckIntervalSeconds', 301, '5–300'],
    ['healthCheckIntervalSeconds', 5.5, '5–300'],
    ['healthCheckIntervalSeconds', '30', '5–300'],
    ['healthCheckTimeoutSeconds', 1, '2–120'],
    ['healthCheckTimeoutSeconds', 121, '2–120'],
    ['healthyThresholdCount', 1, '2–10'],
    ['healthyThresholdCount', 11, '2–10'],
    ['unhealthyThresholdCount', 1, '2–10'],
    ['unhealthyThresholdCount', 11, '2–10'],
    ['port', 0, '1–65535'],
    ['port', 65536, '1–65535'],
  ])('rejects targetGroups[0].%s = %j, naming the field, the value and the range %s', (field, value, range) => {
    // Keep the timeout below the interval so only the field under test is wrong.
    const base = field === 'healthCheckTimeoutSeconds' ? { healthCheckIntervalSeconds: 300 } : {};
    const err = configError({ targetGroups: [group({ ...base, [field]: value })] });
    expect(err.code).toBe(ErrorCodes.CONFIG_INVALID);
    expect(err.issues).toHaveLength(1);
    expect(err.issues[0]!.path).toBe(`targetGroups[0].${field}`);
    expect(err.issues[0]!.message).toContain(range);
    expect(err.issues[0]!.message).toContain(`got ${JSON.stringify(value)}`);
    expect(err.message).toContain(`targetGroups[0].${field}`);
  });

  it('puts the field path, the range and the value in the error message itself', () => {
    const err = configError({ targetGroups: [group({ healthCheckIntervalSeconds: 1 })] }, 'local-elb.yaml');
    expect(err.message).toContain('local-elb.yaml');
    expect(err.message).toContain('targetGroups[0].healthCheckIntervalSeconds');
    expect(err.message).toContain('5–300');
    expect(err.message).toContain('got 1');
    expect(err.source).toBe('local-elb.yaml');
  });

  it.each([
    [5, 4, true],
    [5, 5, true],
    [5, 6, false],
    [30, 30, true],
    [10, 29, false],
  ])('with interval %i and timeout %i accepts it: %s (timeout must not exceed the interval)', (interval, timeout, ok) => {
    const input = { targetGroups: [group({ healthCheckIntervalSeconds: interval, healthCheckTimeoutSeconds: timeout })] };
    if (ok) {
      expect(() => parseConfig(input)).not.toThrow();
      return;
    }
    const err = configError(input);
    expect(err.issues).toEqual([
      { path: 'targetGroups[0].healthCheckTimeoutSeconds', message: expect.stringContaining(`got ${timeout}`) as unknown as string },
    ]);
    expect(err.issues[0]!.message).toContain(`healthCheckIntervalSeconds (${interval})`);
  });

  it('rejects a timeout above the default interval of 30 when only the timeout is set', () => {
    const err = configError({ targetGroups: [group({ healthCheckTimeoutSeconds: 31 })] });
    expect(err.issues[0]!.path).toBe('targetGroups[0].healthCheckTimeoutSeconds');
  });

  it.each(['200', '200,202', '200-299', '200,300-399', '200-499', '499'])('accepts matcher %j', (httpCode) => {
    expect(parseConfig({ targetGroups: [group({ matcher: { httpCode } })] }).targetGroups[0]!.matcher.httpCode).toBe(httpCode);
  });

  it.each(['500', '199', '200-500', '299-200', 'ok', '', '200,', '2000'])('rejects matcher %j outside ALB 200–499', (httpCode) => {
    const err = configError({ targetGroups: [group({ matcher: { httpCode } })] });
    expect(err.issues[0]!.path).toBe('targetGroups[0].matcher.httpCode');
    expect(err.issues[0]!.message).toContain('200–499');
    expect(err.issues[0]!.message).toContain(JSON.stringify(httpCode));
  });

  it.each([
    ['deregistration_delay.timeout_seconds', '3601', '0–3600'],
    ['deregistration_delay.timeout_seconds', '-1', '0–3600'],
    ['deregistration_delay.timeout_seconds', 'soon', '0–3600'],
    ['target_group_health.unhealthy_state_routing.minimum_healthy_targets.count', '0', '1–1000'],
    ['target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage', '101', '1–100'],
    ['target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage', '0', 'off or an integer 1–100'],
    ['load_balancing.algorithm.type', 'random', 'round_robin | least_outstanding_requests | weighted_random'],
    ['slow_start.duration_seconds', '10', '0 or an integer 30–900'],
    ['load_balancing.algorithm.anomaly_mitigation', 'yes', 'on | off'],
  ])('rejects target group attribute %s = %j, naming the allowed values %s', (key, value, allowed) => {
    const err = configError({ targetGroups: [group({ attributes: { [key]: value } })] });
    expect(err.issues).toHaveLength(1);
    expect(err.issues[0]!.path).toBe(`targetGroups[0].attributes["${key}"]`);
    expect(err.issues[0]!.message).toContain(allowed);
    expect(err.issues[0]!.message).toContain(`got ${JSON.stringify(value)}`);
  });

  it.each([
    ['idle_timeout.timeout_seconds', '0', '1–4000'],
    ['idle_timeout.timeout_seconds', '4001', '1–4000'],
    ['client_keep_alive.seconds', '59', '60–604800'],
    ['routing.http.xff_header_processing.mode', 'replace', 'append | preserve | remove'],
    ['routing.http.preserve_host_header.enabled', 'yes', 'true | false'],
  ])('rejects load balancer attribute %s = %j, naming the allowed values %s', (key, value, allowed) => {
    const err = configError({ targetGroups: [group()], loadBalancers: [balancer({ attributes: { [key]: value } })] });
    expect(err.issues).toHaveLength(1);
    expect(err.issues[0]!.path).toBe(`loadBalancers[0].attributes["${key}"]`);
    expect(err.issues[0]!.message).toContain(allowed);
  });

  it.each<[string, Record<string, string | boolean>]>([
    ['duration-based stickiness for 60 s', { 'stickiness.enabled': true, 'stickiness.lb_cookie.duration_seconds': '60' }],
    ['application-based stickiness on SESSIONID', { 'stickiness.enabled': 'true', 'stickiness.type': 'app_cookie', 'stickiness.app_cookie.cookie_name': 'SESSIONID' }],
  ])('accepts %s (spec 3.3)', (_case, attributes) => {
    const config = parseConfig({ targetGroups: [group({ attributes })] });
    expect(config.targetGroups[0]!.attributes['stickiness.enabled']).toBe('true');
  });

  it.each<[string, Record<string, string>, string, RegExp]>([
    ['app_cookie without a cookie name', { 'stickiness.enabled': 'true', 'stickiness.type': 'app_cookie' }, 'stickiness.app_cookie.cookie_name', /You must set an application cookie name/],
    ['a reserved application cookie name', { 'stickiness.app_cookie.cookie_name': 'AWSALBAPP-1' }, 'stickiness.app_cookie.cookie_name', /reserved.*"AWSALBAPP-1"/],
    ['a duration of 0 s', { 'stickiness.lb_cookie.duration_seconds': '0' }, 'stickiness.lb_cookie.duration_seconds', /1–604800: got "0"/],
  ])('rejects sticky sessions with %s, naming the key', (_case, attributes, key, why) => {
    const err = configError({ targetGroups: [group({ attributes })] });
    expect(err.issues).toEqual([{ path: `targetGroups[0].attributes["${key}"]`, message: expect.stringMatching(why) as unknown as string }]);
  });
});

describe('parseConfig: routing attributes that depend on each other (spec 3.1, 3.2)', () => {
  it.each([
    [{ 'load_balancing.algorithm.type': 'least_outstanding_requests', 'slow_start.duration_seconds': '30' }, 'slow_start.duration_seconds'],
    [{ 'load_balancing.algorithm.type': 'weighted_random', 'slow_start.duration_seconds': '30' }, 'slow_start.duration_seconds'],
    [{ 'load_balancing.algorithm.anomaly_mitigation': 'on' }, 'load_balancing.algorithm.anomaly_mitigation'],
  ])('rejects %j at %s', (attributes, key) => {
    const err = configError({ targetGroups: [group({ attributes })] });
    expect(err.issues.map((i) => i.path)).toEqual([`targetGroups[0].attributes["${key}"]`]);
  });

  it.each([
    [{ 'load_balancing.algorithm.type': 'round_robin', 'slow_start.duration_seconds': '900' }],
    [{ 'load_balancing.algorithm.type': 'weighted_random', 'load_balancing.algorithm.anomaly_mitigation': 'on' }],
  ])('accepts %j', (attributes) => {
    const tg = parseConfig({ targetGroups: [group({ attributes })] }).targetGroups[0]!;
    expect(tg.attributes).toMatchObject(attributes);
  });

  it('fills the slow start and automatic target weights settings (UNCONFIRMED in AWS, chosen by local-elb)', () => {
    const tg = parseConfig({ targetGroups: [group()] }).targetGroups[0]!;
    expect(tg.emulator.slowStartInitialWeight).toBe(0.05);
    expect(tg.emulator.automaticTargetWeights).toEqual({
      evaluationIntervalSeconds: 5,
      windowSeconds: 30,
      minimumRequests: 20,
      minimumErrorRatio: 0.05,
      errorRatioMultiple: 3,
      reductionFactor: 0.5,
      recoveryFactor: 2,
      minimumWeight: 0.02,
    });
  });

  it.each([
    [{ slowStartInitialWeight: 0 }, 'emulator.slowStartInitialWeight'],
    [{ automaticTargetWeights: { reductionFactor: 1.5 } }, 'emulator.automaticTargetWeights.reductionFactor'],
    [{ automaticTargetWeights: { evaluationIntervalSeconds: 0 } }, 'emulator.automaticTargetWeights.evaluationIntervalSeconds'],
    [{ automaticTargetWeights: { colour: 1 } }, 'emulator.automaticTargetWeights'],
  ])('rejects emulator %j at %s', (emulator, path) => {
    const err = configError({ targetGroups: [group({ emulator })] });
    expect(err.issues.map((i) => i.path)).toEqual([`targetGroups[0].${path}`]);
  });
});

describe('parseConfig: unknown keys', () => {
  it('rejects an unknown target group key and lists the allowed keys', () => {
    const err = configError({ targetGroups: [group({ healthCheckInterval: 10 })] });
    expect(err.issues).toHaveLength(1);
    expect(err.issues[0]!.path).toBe('targetGroups[0]');
    expect(err.issues[0]!.message).toContain('unknown key "healthCheckInterval"');
    expect(err.issues[0]!.message).toMatch(/allowed: .*healthCheckIntervalSeconds/);
  });

  it('names every unknown key at once', () => {
    const err = configError({ targetGroups: [group({ foo: 1, bar: 2 })] });
    expect(err.issues[0]!.message).toContain('unknown keys "foo", "bar"');
  });

  it('rejects an unknown top-level key and lists targetGroups and loadBalancers', () => {
    const err = configError({ targetGroup: [] });
    expect(err.issues[0]!.message).toContain('unknown key "targetGroup"');
    expect(err.issues[0]!.message).toContain('allowed: targetGroups, loadBalancers');
  });

  it('rejects unknown keys deep inside a listener', () => {
    const err = configError({ targetGroups: [group()], loadBalancers: [balancer({ listeners: [{ port: 80, defaultActions: [{ type: 'forward', targetGroupName: 'web' }], rule: [] }] })] });
    expect(err.issues[0]!.path).toBe('loadBalancers[0].listeners[0]');
    expect(err.issues[0]!.message).toMatch(/unknown key "rule".*allowed: .*rules/);
  });

  it('rejects an unknown target group attribute and lists the supported ones', () => {
    const err = configError({ targetGroups: [group({ attributes: { 'deregistration_delay.seconds': '10' } })] });
    expect(err.issues[0]!.path).toBe('targetGroups[0].attributes["deregistration_delay.seconds"]');
    expect(err.issues[0]!.message).toMatch(/unknown attribute; supported: .*deregistration_delay\.timeout_seconds/);
  });
});

describe('parseConfig: every issue in one error', () => {
  it('lists every field error of the schema in one ConfigError', () => {
    const err = configError({
      targetGroups: [group({ healthCheckIntervalSeconds: 1, healthyThresholdCount: 11, colour: 'red' }), group({ name: 'api', port: -1 })],
    });
    expect(err.code).toBe('ELB_ERR_CONFIG_INVALID');
    expect(err.issues.map((i) => i.path).sort()).toEqual([
      'targetGroups[0]',
      'targetGroups[0].healthCheckIntervalSeconds',
      'targetGroups[0].healthyThresholdCount',
      'targetGroups[1].port',
    ]);
    for (const issue of err.issues) expect(err.message).toContain(issue.path);
  });

  it('lists every cross-reference error in one ConfigError', () => {
    const err = configError({
      targetGroups: [group(), group({ healthCheckTimeoutSeconds: 31 }), group({ name: 'api', matcher: { httpCode: '600' }, attributes: { 'stickiness.type': 'source_ip' } })],
      loadBalancers: [balancer({ listeners: [{ port: 80, defaultActions: [{ type: 'forward', targetGroupName: 'nope' }] }] })],
    });
    expect(err.issues.map((i) => i.path)).toEqual([
      'targetGroups[1].name',
      'targetGroups[1].healthCheckTimeoutSeconds',
      'targetGroups[2].matcher.httpCode',
      'targetGroups[2].attributes["stickiness.type"]',
      'loadBalancers[0].listeners[0].defaultActions[0]',
    ]);
  });
});

describe('parseConfig: cross references', () => {
  it('rejects duplicate target group names', () => {
    const err = configError({ targetGroups: [group(), group()] });
    expect(err.issues).toEqual([{ path: 'targetGroups[1].name', message: 'duplicate target group name "web"' }]);
  });

  it('rejects duplicate load balancer names', () => {
    const err = configError({ targetGroups: [group()], loadBalancers: [balancer(), balancer()] });
    expect(err.issues.map((i) => i.path)).toContain('loadBalancers[1].name');
    expect(err.issues.find((i) => i.path === 'loadBalancers[1].name')!.message).toBe('duplicate load balancer name "app"');
  });

  it('rejects a forward action naming an undefined target group and lists the defined ones', () => {
    const err = configError({
      targetGroups: [group(), group({ name: 'api' })],
      loadBalancers: [balancer({ listeners: [{ port: 80, defaultActions: [{ type: 'forward', targetGroupName: 'admin' }] }] })],
    });
    expect(err.issues).toEqual([
      { path: 'loadBalancers[0].listeners[0].defaultActions[0]', message: 'names target group "admin", which is not defined; defined: web, api' },
    ]);
  });

  it('rejects an undefined target group inside a weighted forwardConfig of a rule', () => {
    const err = configError({
      targetGroups: [group()],
      loadBalancers: [
        balancer({
          listeners: [
            {
              port: 80,
              defaultActions: [{ type: 'forward', targetGroupName: 'web' }],
              rules: [
                {
                  priority: 1,
                  conditions: [{ field: 'path-pattern', values: ['/api/*'] }],
                  actions: [{ type: 'forward', forwardConfig: { targetGroups: [{ targetGroupName: 'web' }, { targetGroupName: 'api', weight: 2 }] } }],
                },
              ],
            },
          ],
        }),
      ],
    });
    expect(err.issues).toHaveLength(1);
    expect(err.issues[0]!.path).toBe('loadBalancers[0].listeners[0].rules[0].actions[0]');
    expect(err.issues[0]!.message).toContain('"api", which is not defined');
  });

  it('rejects a forward action with both targetGroupName and forwardConfig', () => {
    const err = configError({
      targetGroups: [group()],
      loadBalancers: [
        balancer({
          listeners: [{ port: 80, defaultActions: [{ type: 'forward', targetGroupName: 'web', forwardConfig: { targetGroups: [{ targetGroupName: 'web' }] } }] }],
        }),
      ],
    });
    expect(err.issues[0]!.message).toContain('exactly one of targetGroupName or forwardConfig');
  });

  it('rejects one target group used by two load balancers', () => {
    const err = configError({ targetGroups: [group()], loadBalancers: [balancer(), balancer({ name: 'other' })] });
    expect(err.issues).toHaveLength(1);
    expect(err.issues[0]!.path).toBe('loadBalancers[1].listeners[0].defaultActions[0]');
    expect(err.issues[0]!.message).toContain('already used by load balancer "app"');
  });

  it('rejects duplicate rule priorities on one listener', () => {
    const rule = { priority: 10, conditions: [{ field: 'path-pattern', values: ['/a'] }], actions: [{ type: 'forward', targetGroupName: 'web' }] };
    const err = configError({
      targetGroups: [group()],
      loadBalancers: [balancer({ listeners: [{ port: 80, defaultActions: [{ type: 'forward', targetGroupName: 'web' }], rules: [rule, rule] }] })],
    });
    expect(err.issues).toEqual([{ path: 'loadBalancers[0].listeners[0].rules[1].priority', message: 'duplicate priority 10 on this listener' }]);
  });

  it('rejects a target without a port when the group has none', () => {
    const err = configError({ targetGroups: [{ name: 'web', protocol: 'HTTP', targets: [{ id: '127.0.0.1', port: 3000 }, { id: '127.0.0.1' }] }] });
    expect(err.issues).toEqual([{ path: 'targetGroups[0].targets[1].port', message: 'is required when the target group has no port' }]);
  });

  it('rejects two terminal actions on one rule', () => {
    const err = configError({
      targetGroups: [group()],
      loadBalancers: [
        balancer({
          listeners: [
            {
              port: 80,
              defaultActions: [
                { type: 'forward', targetGroupName: 'web' },
                { type: 'fixed-response', fixedResponseConfig: { statusCode: '200' } },
              ],
            },
          ],
        }),
      ],
    });
    expect(err.issues[0]!.path).toBe('loadBalancers[0].listeners[0].defaultActions');
    expect(err.issues[0]!.message).toContain('exactly one routing action');
    expect(err.issues[0]!.message).toContain('got 2');
  });

  it.each([
    [{ field: 'http-header', values: ['x'] }, 'needs httpHeaderConfig'],
    [{ field: 'path-pattern' }, 'needs exactly one of values or pathPatternConfig'],
    [{ field: 'path-pattern', values: ['/a'], pathPatternConfig: { values: ['/b'] } }, 'needs exactly one of values or pathPatternConfig'],
    [{ field: 'path-pattern', hostHeaderConfig: { values: ['a.example.com'] } }, 'takes values or pathPatternConfig, not hostHeaderConfig'],
  ])('rejects condition %j: %s', (condition, message) => {
    const err = configError({
      targetGroups: [group()],
      loadBalancers: [
        balancer({
          listeners: [
            { port: 80, defaultActions: [{ type: 'forward', targetGroupName: 'web' }], rules: [{ priority: 1, conditions: [condition], actions: [{ type: 'forward', targetGroupName: 'web' }] }] },
          ],
        }),
      ],
    });
    expect(err.issues.some((i) => i.path === 'loadBalancers[0].listeners[0].rules[0].conditions[0]' && i.message.includes(message))).toBe(true);
  });

  it('rejects two path-pattern conditions in one rule but allows two http-header conditions', () => {
    const listener = (conditions: unknown[]) => ({
      targetGroups: [group()],
      loadBalancers: [
        balancer({ listeners: [{ port: 80, defaultActions: [{ type: 'forward', targetGroupName: 'web' }], rules: [{ priority: 1, conditions, actions: [{ type: 'forward', targetGroupName: 'web' }] }] }] }),
      ],
    });
    const err = configError(listener([{ field: 'path-pattern', values: ['/a'] }, { field: 'path-pattern', values: ['/b'] }]));
    expect(err.issues).toEqual([{ path: 'loadBalancers[0].listeners[0].rules[0].conditions[1]', message: 'at most one path-pattern condition per rule (spec 6.2)' }]);
    const header = (v: string) => ({ field: 'http-header', httpHeaderConfig: { httpHeaderName: 'X-A', values: [v] } });
    expect(() => parseConfig(listener([header('1'), header('2')]))).not.toThrow();
  });

  it.each([
    [{ healthCheckEnabled: false }, 'targetGroups[0].healthCheckEnabled', /cannot be disabled/],
    [{ name: '-web' }, 'targetGroups[0].name', /not starting or ending with a hyphen: got "-web"/],
    [{ name: 'a'.repeat(33) }, 'targetGroups[0].name', /1–32 letters/],
    [{ protocol: 'QUIC' }, 'targetGroups[0].protocol', /must be one of HTTP \| HTTPS \| TCP \| TLS \| UDP \| TCP_UDP: got "QUIC"/],
    [{ healthCheckProtocol: 'TCP' }, 'targetGroups[0].healthCheckProtocol', /must be HTTP \| HTTPS for an HTTP target group/],
    [{ healthCheckPath: 'health' }, 'targetGroups[0].healthCheckPath', /must start with \//],
    [{ healthCheckPort: 'other' }, 'targetGroups[0].healthCheckPort', /"traffic-port" or a port 1–65535/],
  ])('rejects target group %j at %s', (overrides, path, message) => {
    const err = configError({ targetGroups: [group(overrides)] });
    expect(err.issues.map((i) => i.path)).toContain(path);
    expect(err.issues.find((i) => i.path === path)!.message).toMatch(message);
  });

  it('rejects an unknown action type, naming it', () => {
    const err = configError({ loadBalancers: [balancer({ listeners: [{ port: 80, defaultActions: [{ type: 'lambda' }] }] })] });
    expect(err.issues[0]!.message).toContain('type must be one of forward | fixed-response | redirect | authenticate-oidc | authenticate-cognito | jwt-validation: got "lambda"');
  });

  it('rejects a fixed-response status that AWS does not allow', () => {
    const err = configError({ loadBalancers: [balancer({ listeners: [{ port: 80, defaultActions: [{ type: 'fixed-response', fixedResponseConfig: { statusCode: '302' } }] }] })] });
    expect(err.issues[0]!.path).toBe('loadBalancers[0].listeners[0].defaultActions[0].fixedResponseConfig.statusCode');
    expect(err.issues[0]!.message).toContain('got "302"');
  });
});

describe('parseConfig: result', () => {
  const input: ConfigInput = {
    targetGroups: [{ name: 'web', protocol: 'HTTP', port: 8080, targets: [{ id: '127.0.0.1' }] }],
    loadBalancers: [
      {
        name: 'app',
        listeners: [
          {
            port: 80,
            defaultActions: [{ type: 'forward', targetGroupName: 'web' }],
            rules: [{ priority: 1, conditions: [{ field: 'path-pattern', values: ['/a'] }], actions: [{ type: 'forward', targetGroupName: 'web' }] }],
          },
        ],
      },
    ],
  };

  it('is deeply frozen', () => {
    const config = parseConfig(input);
    const tg = config.targetGroups[0]!;
    const listener = config.loadBalancers[0]!.listeners[0]!;
    for (const value of [config, config.targetGroups, tg, tg.attributes, tg.matcher, tg.targets, tg.targets[0], tg.emulator, config.loadBalancers[0], config.loadBalancers[0]!.attributes, listener, listener.defaultActions[0], listener.rules[0]!.conditions[0]!.values]) {
      expect(Object.isFrozen(value)).toBe(true);
    }
    expect(() => {
      (tg as { healthCheckIntervalSeconds: number }).healthCheckIntervalSeconds = 5;
    }).toThrow(TypeError);
    expect(() => {
      (tg.attributes as Record<string, string>)['deregistration_delay.timeout_seconds'] = '0';
    }).toThrow(TypeError);
    expect(tg.attributes['deregistration_delay.timeout_seconds']).toBe('300');
  });

  it('does not modify or freeze the input', () => {
    const copy = structuredClone(input);
    parseConfig(copy);
    expect(copy).toEqual(input);
    expect(Object.isFrozen(copy.targetGroups![0])).toBe(false);
  });
});
