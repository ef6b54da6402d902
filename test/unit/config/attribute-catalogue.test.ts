/**
 * The attribute catalogues against the spec's tables, key by key (spec 4.4, 4.5, 4.6, 13.3,
 * 13.4): every key AWS defines for each resource is accepted with its default, and nothing else.
 */
import { describe, expect, it } from 'vitest';
import {
  applicationListenerAttributes,
  applicationLoadBalancerAttributes,
  applicationTargetGroupAttributes,
  networkLoadBalancerAttributes,
  networkTargetGroupAttributes,
  resolveAttributes,
  tcpListenerAttributes,
} from '../../../src/config/attributes.ts';

const defaults = (catalogue: Parameters<typeof resolveAttributes>[0]) => {
  const r = resolveAttributes(catalogue, {}, 'attributes');
  if (!r.ok) throw new Error('defaults do not resolve');
  return r.attributes;
};

const S3 = (name: string) => ({ [`${name}.s3.enabled`]: 'false', [`${name}.s3.bucket`]: '', [`${name}.s3.prefix`]: '' });
const TG_HEALTH = {
  'target_group_health.dns_failover.minimum_healthy_targets.count': '1',
  'target_group_health.dns_failover.minimum_healthy_targets.percentage': 'off',
  'target_group_health.unhealthy_state_routing.minimum_healthy_targets.count': '1',
  'target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage': 'off',
};

describe('attribute catalogues = the spec tables', () => {
  it('ALB target groups (spec 4.4, instance/ip; the Lambda-only key excluded)', () => {
    expect(defaults(applicationTargetGroupAttributes)).toEqual({
      'deregistration_delay.timeout_seconds': '300',
      'slow_start.duration_seconds': '0',
      'load_balancing.algorithm.type': 'round_robin',
      'load_balancing.algorithm.anomaly_mitigation': 'off',
      'load_balancing.cross_zone.enabled': 'use_load_balancer_configuration',
      'stickiness.enabled': 'false',
      'stickiness.type': 'lb_cookie',
      'stickiness.lb_cookie.duration_seconds': '86400',
      'stickiness.app_cookie.cookie_name': '',
      'stickiness.app_cookie.duration_seconds': '86400',
      ...TG_HEALTH,
    });
  });

  it.each([
    ['TCP', 'ip', { preserve: 'false', termination: 'false', unhealthy: 'true' }],
    ['UDP', 'instance', { preserve: 'true', termination: 'true', unhealthy: 'false' }],
  ] as const)('NLB target groups (spec 4.5): %s %s', (protocol, targetType, d) => {
    expect(defaults(networkTargetGroupAttributes(protocol, targetType))).toEqual({
      'deregistration_delay.timeout_seconds': '300',
      'deregistration_delay.connection_termination.enabled': d.termination,
      'preserve_client_ip.enabled': d.preserve,
      'proxy_protocol_v2.enabled': 'false',
      'stickiness.enabled': 'false',
      'stickiness.type': 'source_ip',
      'load_balancing.cross_zone.enabled': 'use_load_balancer_configuration',
      'target_health_state.unhealthy.connection_termination.enabled': d.unhealthy,
      'target_health_state.unhealthy.draining_interval_seconds': '0',
      ...TG_HEALTH,
    });
  });

  it('ALB load balancers (spec 4.6, 13.4.1)', () => {
    expect(defaults(applicationLoadBalancerAttributes)).toEqual({
      'idle_timeout.timeout_seconds': '60',
      'client_keep_alive.seconds': '3600',
      'routing.http2.enabled': 'true',
      'routing.http.xff_header_processing.mode': 'append',
      'routing.http.xff_client_port.enabled': 'false',
      'routing.http.preserve_host_header.enabled': 'false',
      'routing.http.drop_invalid_header_fields.enabled': 'false',
      'routing.http.desync_mitigation_mode': 'defensive',
      'routing.http.x_amzn_tls_version_and_cipher_suite.enabled': 'false',
      'waf.fail_open.enabled': 'false',
      'deletion_protection.enabled': 'false',
      'load_balancing.cross_zone.enabled': 'true',
      'zonal_shift.config.enabled': 'false',
      'ipv6.deny_all_igw_traffic': 'false',
      ...S3('access_logs'),
      ...S3('connection_logs'),
      ...S3('health_check_logs'),
    });
  });

  it('NLB load balancers (spec 4.6, 13.4.1)', () => {
    expect(defaults(networkLoadBalancerAttributes)).toEqual({
      'load_balancing.cross_zone.enabled': 'false',
      'deletion_protection.enabled': 'false',
      'zonal_shift.config.enabled': 'false',
      'ipv6.deny_all_igw_traffic': 'false',
      'dns_record.client_routing_policy': 'any_availability_zone',
      'secondary_ips.auto_assigned.per_subnet': '0',
      ...S3('access_logs'),
    });
  });

  it('listeners (spec 13.4.2): NLB TCP, ALB HTTP, ALB HTTPS', () => {
    expect(defaults(tcpListenerAttributes)).toEqual({ 'tcp.idle_timeout.seconds': '350' });
    const response = Object.fromEntries(
      [
        'strict_transport_security',
        'access_control_allow_origin',
        'access_control_allow_methods',
        'access_control_allow_headers',
        'access_control_allow_credentials',
        'access_control_expose_headers',
        'access_control_max_age',
        'content_security_policy',
        'x_content_type_options',
        'x_frame_options',
      ].map((h) => [`routing.http.response.${h}.header_value`, '']),
    );
    expect(defaults(applicationListenerAttributes('HTTP'))).toEqual({ 'routing.http.response.server.enabled': 'true', ...response });
    const renames = Object.fromEntries(
      [
        'x_amzn_tls_version',
        'x_amzn_tls_cipher_suite',
        'x_amzn_mtls_clientcert',
        'x_amzn_mtls_clientcert_serial_number',
        'x_amzn_mtls_clientcert_issuer',
        'x_amzn_mtls_clientcert_subject',
        'x_amzn_mtls_clientcert_validity',
        'x_amzn_mtls_clientcert_leaf',
      ].map((h) => [`routing.http.request.${h}.header_name`, '']),
    );
    expect(defaults(applicationListenerAttributes('HTTPS'))).toEqual({ 'routing.http.response.server.enabled': 'true', ...response, ...renames });
  });

  it.each([
    ['ALB', applicationLoadBalancerAttributes, 'secondary_ips.auto_assigned.per_subnet', '1'],
    ['ALB', applicationLoadBalancerAttributes, 'dns_record.client_routing_policy', 'any_availability_zone'],
    ['NLB', networkLoadBalancerAttributes, 'waf.fail_open.enabled', 'true'],
    ['NLB', networkLoadBalancerAttributes, 'routing.http2.enabled', 'true'],
    ['NLB', networkLoadBalancerAttributes, 'connection_logs.s3.enabled', 'true'],
    ['ALB target group', applicationTargetGroupAttributes, 'proxy_protocol_v2.enabled', 'true'],
    ['ALB target group', applicationTargetGroupAttributes, 'lambda.multi_value_headers.enabled', 'true'],
    ['any', applicationLoadBalancerAttributes, 'ip_address_type', 'dualstack'],
  ] as const)('refuses on %s the key %s, which that resource does not have', (_what, catalogue, key, value) => {
    expect(resolveAttributes(catalogue, { [key]: value }, 'attributes').ok).toBe(false);
  });

  it.each([
    [applicationLoadBalancerAttributes, 'secondary_ips.auto_assigned.per_subnet', '8'],
    [networkLoadBalancerAttributes, 'secondary_ips.auto_assigned.per_subnet', '8'],
    [networkLoadBalancerAttributes, 'dns_record.client_routing_policy', 'nearest'],
    [applicationLoadBalancerAttributes, 'deletion_protection.enabled', 'yes'],
    [applicationTargetGroupAttributes, 'target_group_health.dns_failover.minimum_healthy_targets.percentage', '101'],
    [applicationTargetGroupAttributes, 'load_balancing.cross_zone.enabled', 'maybe'],
  ] as const)('validates a value with no local effect as AWS does: %s %s=%s is refused', (catalogue, key, value) => {
    const r = resolveAttributes(catalogue, { [key]: value }, 'attributes');
    expect(r.ok).toBe(false);
  });
});
