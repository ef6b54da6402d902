import { describe, expect, it } from 'vitest';
import {
  applicationLoadBalancerAttributes,
  applicationTargetGroupAttributes,
  attributeNumberOrOff,
  checkApplicationTargetGroupAttributes,
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
        'target_group_health.unhealthy_state_routing.minimum_healthy_targets.count': '1',
        'target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage': 'off',
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
    ['stickiness.enabled', 'true', false],
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
    const r = resolveAttributes(applicationTargetGroupAttributes, { a: '1', 'stickiness.enabled': 'true', 'deregistration_delay.timeout_seconds': 'x' }, 'p');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues.map((i) => i.path)).toEqual(['p["a"]', 'p["stickiness.enabled"]', 'p["deregistration_delay.timeout_seconds"]']);
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
