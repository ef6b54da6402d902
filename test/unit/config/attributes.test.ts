import { describe, expect, it } from 'vitest';
import {
  applicationLoadBalancerAttributes,
  applicationTargetGroupAttributes,
  attributeNumberOrOff,
  checkApplicationTargetGroupAttributes,
  checkNetworkTargetGroupAttributes,
  networkTargetGroupAttributes,
  resolveAttributes,
} from '../../../src/config/attributes.ts';

describe('resolveAttributes', () => {
  it('fills every default when nothing is given', () => {
    const r = resolveAttributes(applicationTargetGroupAttributes, {}, 'attributes');
    expect(r).toEqual({
      ok: true,
      attributes: {
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
      },
    });
  });

  it('starts from base values instead of defaults when a base is given (ModifyTargetGroupAttributes)', () => {
    const r = resolveAttributes(applicationTargetGroupAttributes, { 'stickiness.enabled': 'false' }, 'attributes', {
      'deregistration_delay.timeout_seconds': '10',
      'load_balancing.algorithm.type': 'least_outstanding_requests',
    });
    expect(r.ok && r.attributes['deregistration_delay.timeout_seconds']).toBe('10');
    expect(r.ok && r.attributes['load_balancing.algorithm.type']).toBe('least_outstanding_requests');
    expect(r.ok && r.attributes['slow_start.duration_seconds']).toBe('0');
  });

  it.each([
    ['deregistration_delay.timeout_seconds', '0', true],
    ['deregistration_delay.timeout_seconds', '3600', true],
    ['deregistration_delay.timeout_seconds', '3601', false],
    ['deregistration_delay.timeout_seconds', '1.5', false],
    ['deregistration_delay.timeout_seconds', '', false],
    ['deregistration_delay.timeout_seconds', ' 10', false],
    ['load_balancing.algorithm.type', 'round_robin', true],
    ['load_balancing.algorithm.type', 'least_outstanding_requests', true],
    ['load_balancing.algorithm.type', 'weighted_random', true],
    ['load_balancing.algorithm.type', 'random', false],
    ['load_balancing.algorithm.type', 'power_of_two_choices', false],
    ['load_balancing.algorithm.anomaly_mitigation', 'on', true],
    ['load_balancing.algorithm.anomaly_mitigation', 'off', true],
    ['load_balancing.algorithm.anomaly_mitigation', 'true', false],
    ['load_balancing.algorithm.type', 'ROUND_ROBIN', false],
    ['slow_start.duration_seconds', '0', true],
    ['slow_start.duration_seconds', '30', true],
    ['slow_start.duration_seconds', '900', true],
    ['slow_start.duration_seconds', '29', false],
    ['slow_start.duration_seconds', '1', false],
    ['slow_start.duration_seconds', '901', false],
    ['stickiness.enabled', 'false', true],
    ['stickiness.enabled', 'true', true],
    ['stickiness.enabled', 'yes', false],
    ['stickiness.type', 'lb_cookie', true],
    ['stickiness.type', 'app_cookie', true],
    ['stickiness.type', 'source_ip', false],
    ['stickiness.type', 'LB_COOKIE', false],
    ['stickiness.lb_cookie.duration_seconds', '1', true],
    ['stickiness.lb_cookie.duration_seconds', '604800', true],
    ['stickiness.lb_cookie.duration_seconds', '0', false],
    ['stickiness.lb_cookie.duration_seconds', '604801', false],
    ['stickiness.app_cookie.duration_seconds', '1', true],
    ['stickiness.app_cookie.duration_seconds', '604800', true],
    ['stickiness.app_cookie.duration_seconds', '0', false],
    ['stickiness.app_cookie.duration_seconds', '604801', false],
    ['stickiness.app_cookie.cookie_name', 'SESSIONID', true],
    ['stickiness.app_cookie.cookie_name', 'JSESSIONID', true],
    ['stickiness.app_cookie.cookie_name', 'connect.sid', true],
    ['stickiness.app_cookie.cookie_name', 'AWSALB', false],
    ['stickiness.app_cookie.cookie_name', 'AWSALBAPP-0', false],
    ['stickiness.app_cookie.cookie_name', 'AWSALBTG', false],
    ['stickiness.app_cookie.cookie_name', 'AWSALBmine', false],
    ['stickiness.app_cookie.cookie_name', 'my session', false],
    ['stickiness.app_cookie.cookie_name', 'a;b', false],
    ['stickiness.app_cookie.cookie_name', 'a=b', false],
    ['target_group_health.unhealthy_state_routing.minimum_healthy_targets.count', '1', true],
    ['target_group_health.unhealthy_state_routing.minimum_healthy_targets.count', '0', false],
    ['target_group_health.unhealthy_state_routing.minimum_healthy_targets.count', 'off', false],
    ['target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage', 'off', true],
    ['target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage', '100', true],
    ['target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage', '101', false],
  ])('target group attribute %s = %j is valid: %s', (key, value, valid) => {
    const r = resolveAttributes(applicationTargetGroupAttributes, { [key]: value }, 'tg.attributes');
    expect(r.ok).toBe(valid);
    if (r.ok) expect(r.attributes[key]).toBe(value);
    else expect(r.issues).toEqual([{ path: `tg.attributes["${key}"]`, message: expect.stringContaining(JSON.stringify(value)) as unknown as string }]);
  });

  it.each([
    ['routing.http.xff_header_processing.mode', 'preserve', true],
    ['routing.http.xff_header_processing.mode', 'drop', false],
    ['routing.http.xff_client_port.enabled', 'true', true],
    ['routing.http.preserve_host_header.enabled', '1', false],
    ['client_keep_alive.seconds', '604800', true],
    ['client_keep_alive.seconds', '604801', false],
    ['idle_timeout.timeout_seconds', '1', true],
  ])('load balancer attribute %s = %j is valid: %s', (key, value, valid) => {
    expect(resolveAttributes(applicationLoadBalancerAttributes, { [key]: value }, 'a').ok).toBe(valid);
  });

  it('reports every bad key, not only the first', () => {
    const r = resolveAttributes(applicationTargetGroupAttributes, { a: '1', 'stickiness.type': 'source_ip', 'deregistration_delay.timeout_seconds': 'x' }, 'p');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues.map((i) => i.path)).toEqual(['p["a"]', 'p["stickiness.type"]', 'p["deregistration_delay.timeout_seconds"]']);
  });
});

describe('checkApplicationTargetGroupAttributes', () => {
  const attrs = (algorithm: string, slowStart: string, mitigation: string) => ({
    'load_balancing.algorithm.type': algorithm,
    'slow_start.duration_seconds': slowStart,
    'load_balancing.algorithm.anomaly_mitigation': mitigation,
  });

  it.each([
    ['round_robin', '30', 'off', []],
    ['round_robin', '0', 'off', []],
    ['weighted_random', '0', 'on', []],
    ['least_outstanding_requests', '0', 'off', []],
    ['least_outstanding_requests', '30', 'off', ['p["slow_start.duration_seconds"]']],
    ['weighted_random', '60', 'off', ['p["slow_start.duration_seconds"]']],
    ['round_robin', '0', 'on', ['p["load_balancing.algorithm.anomaly_mitigation"]']],
    ['least_outstanding_requests', '45', 'on', ['p["load_balancing.algorithm.anomaly_mitigation"]', 'p["slow_start.duration_seconds"]']],
  ])('algorithm %s with slow start %s and anomaly mitigation %s has issues at %j', (algorithm, slowStart, mitigation, paths) => {
    expect(checkApplicationTargetGroupAttributes(attrs(algorithm, slowStart, mitigation), 'p').map((i) => i.path)).toEqual(paths);
  });

  it('names the algorithm in the message', () => {
    const [issue] = checkApplicationTargetGroupAttributes(attrs('least_outstanding_requests', '30', 'off'), 'p');
    expect(issue!.message).toMatch(/cannot be used with load_balancing.algorithm.type "least_outstanding_requests".*got "30"/);
  });
});

describe('sticky sessions: the rules between attributes (spec 3.3, 3.5, 3.6)', () => {
  const alb = (input: Record<string, string>) => {
    const r = resolveAttributes(applicationTargetGroupAttributes, input, 'p');
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    return checkApplicationTargetGroupAttributes(r.attributes, 'p');
  };

  it.each<[string, Record<string, string>, string[]]>([
    ['lb_cookie stickiness on its own', { 'stickiness.enabled': 'true' }, []],
    ['app_cookie stickiness with a cookie name', { 'stickiness.enabled': 'true', 'stickiness.type': 'app_cookie', 'stickiness.app_cookie.cookie_name': 'SESSIONID' }, []],
    ['app_cookie stickiness without a cookie name', { 'stickiness.enabled': 'true', 'stickiness.type': 'app_cookie' }, ['p["stickiness.app_cookie.cookie_name"]']],
    ['app_cookie chosen while stickiness is off, without a name', { 'stickiness.type': 'app_cookie' }, []],
    ['stickiness with least outstanding requests (the algorithm makes the first choice)', { 'stickiness.enabled': 'true', 'load_balancing.algorithm.type': 'least_outstanding_requests' }, []],
    ['stickiness with weighted random', { 'stickiness.enabled': 'true', 'load_balancing.algorithm.type': 'weighted_random' }, []],
    ['stickiness with slow start', { 'stickiness.enabled': 'true', 'slow_start.duration_seconds': '30' }, []],
  ])('%s: issues at %j', (_case, input, paths) => {
    expect(alb(input).map((i) => i.path)).toEqual(paths);
  });

  it("gives AWS's message for app_cookie without a cookie name", () => {
    const [issue] = alb({ 'stickiness.enabled': 'true', 'stickiness.type': 'app_cookie' });
    expect(issue!.message).toContain("You must set an application cookie name to enable stickiness of type 'app_cookie'");
  });

  it('refuses stickiness on a group with cross-zone load balancing off', () => {
    const a = { 'stickiness.enabled': 'true', 'stickiness.type': 'lb_cookie', 'load_balancing.cross_zone.enabled': 'false' };
    expect(checkApplicationTargetGroupAttributes(a, 'p')).toEqual([{ path: 'p["stickiness.enabled"]', message: expect.stringContaining('cross-zone') as unknown as string }]);
  });

  it('names the reserved prefixes when an application cookie takes one', () => {
    const r = resolveAttributes(applicationTargetGroupAttributes, { 'stickiness.app_cookie.cookie_name': 'AWSALBTGX' }, 'p');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues[0]!.message).toMatch(/AWSALB, AWSALBAPP, AWSALBTG are reserved.*got "AWSALBTGX"/);
  });

  it.each<[string, string, Record<string, string>, boolean]>([
    ['TCP: source_ip stickiness', 'TCP', { 'stickiness.enabled': 'true' }, true],
    ['UDP: source_ip stickiness', 'UDP', { 'stickiness.enabled': 'true', 'stickiness.type': 'source_ip' }, true],
    ['TCP_UDP: source_ip stickiness', 'TCP_UDP', { 'stickiness.enabled': 'true' }, true],
    ['TLS: no stickiness behind TLS listeners', 'TLS', { 'stickiness.enabled': 'true' }, false],
    ['TLS: stickiness off', 'TLS', { 'stickiness.enabled': 'false' }, true],
    ['TCP: lb_cookie is an ALB type', 'TCP', { 'stickiness.type': 'lb_cookie' }, false],
  ])('NLB %s is valid: %s', (_case, protocol, input, valid) => {
    const r = resolveAttributes(networkTargetGroupAttributes(protocol, 'ip'), input, 'p');
    const issues = r.ok ? checkNetworkTargetGroupAttributes(protocol, r.attributes, 'p') : r.issues;
    expect(issues.length === 0).toBe(valid);
  });
});

describe('attributeNumberOrOff', () => {
  it.each([
    ['off', undefined],
    [undefined, undefined],
    ['50', 50],
    ['1', 1],
  ])('reads %j as %j', (value, expected) => {
    expect(attributeNumberOrOff(value)).toBe(expected);
  });
});
