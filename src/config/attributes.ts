/**
 * The attribute catalogues of spec sections 4.4 (ALB target groups) and 4.6 (load balancers):
 * AWS's keys, AWS's string values, AWS's defaults and ranges. Both the config file and the
 * admin API's modify call validate through here, so the two can never disagree.
 */
import { awsAlgorithms } from '../algorithms/registry.ts';
import type { ConfigIssue } from '../core/errors.ts';

interface AttributeSpec {
  readonly defaultValue: string;
  readonly allowed: string;
  /** Returns an error message, or undefined when the value is valid. */
  check(value: string): string | undefined;
}

function intAttribute(lo: number, hi: number, defaultValue: string, extra?: readonly string[]): AttributeSpec {
  const allowed = `${extra ? `${extra.join(' | ')} or ` : ''}an integer ${lo}–${hi}`;
  return {
    defaultValue,
    allowed,
    check(value) {
      if (extra?.includes(value)) return undefined;
      const n = Number(value);
      return /^-?\d+$/.test(value) && n >= lo && n <= hi ? undefined : `must be ${allowed}: got ${JSON.stringify(value)}`;
    },
  };
}

function enumAttribute(values: readonly string[], defaultValue: string, notEmulated: Readonly<Record<string, string>> = {}): AttributeSpec {
  const allowed = values.join(' | ');
  return {
    defaultValue,
    allowed,
    check(value) {
      if (values.includes(value)) return undefined;
      const why = notEmulated[value];
      if (why !== undefined) return `${JSON.stringify(value)} is an AWS value that local-elb does not emulate yet (${why}); allowed here: ${allowed}`;
      return `must be ${allowed}: got ${JSON.stringify(value)}`;
    },
  };
}

/** An AWS attribute whose other values local-elb does not emulate yet: say so, never ignore them. */
function onlyValue(value: string, why: string): AttributeSpec {
  return {
    defaultValue: value,
    allowed: value,
    check: (v) => (v === value ? undefined : `local-elb supports only ${JSON.stringify(value)} here (${why}): got ${JSON.stringify(v)}`),
  };
}

const booleanAttribute = (defaultValue: 'true' | 'false') => enumAttribute(['true', 'false'], defaultValue);

/** ALB target group attributes (spec 4.4) that local-elb emulates. */
export const applicationTargetGroupAttributes: Readonly<Record<string, AttributeSpec>> = {
  'deregistration_delay.timeout_seconds': intAttribute(0, 3600, '300'),
  'load_balancing.algorithm.type': enumAttribute(awsAlgorithms, 'round_robin'),
  'load_balancing.algorithm.anomaly_mitigation': enumAttribute(['on', 'off'], 'off'),
  'slow_start.duration_seconds': intAttribute(30, 900, '0', ['0']),
  'stickiness.enabled': onlyValue('false', 'AWS allows true | false; sticky sessions are not emulated yet'),
  'target_group_health.unhealthy_state_routing.minimum_healthy_targets.count': intAttribute(1, 1000, '1'),
  'target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage': intAttribute(1, 100, 'off', ['off']),
};

/** ALB load balancer attributes (spec 4.6) that local-elb emulates. */
export const applicationLoadBalancerAttributes: Readonly<Record<string, AttributeSpec>> = {
  'idle_timeout.timeout_seconds': intAttribute(1, 4000, '60'),
  'client_keep_alive.seconds': intAttribute(60, 604800, '3600'),
  'routing.http.xff_header_processing.mode': enumAttribute(['append', 'preserve', 'remove'], 'append'),
  'routing.http.xff_client_port.enabled': booleanAttribute('false'),
  'routing.http.preserve_host_header.enabled': booleanAttribute('false'),
  'routing.http.x_amzn_tls_version_and_cipher_suite.enabled': booleanAttribute('false'),
  'routing.http2.enabled': booleanAttribute('true'),
};

/**
 * Validates `input` against `catalogue` and fills in every default. Returns the complete map
 * (what DescribeTargetGroupAttributes would list) or the issues, each with its field path.
 */
export function resolveAttributes(
  catalogue: Readonly<Record<string, AttributeSpec>>,
  input: Readonly<Record<string, string>>,
  path: string,
  base?: Readonly<Record<string, string>>,
): { ok: true; attributes: Record<string, string> } | { ok: false; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  const attributes: Record<string, string> = {};
  for (const [key, spec] of Object.entries(catalogue)) attributes[key] = base?.[key] ?? spec.defaultValue;
  for (const [key, value] of Object.entries(input)) {
    const spec = catalogue[key];
    const at = `${path}["${key}"]`;
    if (spec === undefined) {
      issues.push({ path: at, message: `unknown attribute; supported: ${Object.keys(catalogue).join(', ')}` });
      continue;
    }
    const problem = spec.check(value);
    if (problem !== undefined) issues.push({ path: at, message: problem });
    else attributes[key] = value;
  }
  return issues.length > 0 ? { ok: false, issues } : { ok: true, attributes };
}

/**
 * Rules between ALB target group attributes that a single value cannot check (spec 3.1, 3.2):
 * anomaly mitigation only with weighted_random; slow start not with least_outstanding_requests
 * (AWS) nor with weighted_random (AWS's secondary sources; UNCONFIRMED in its reference).
 */
export function checkApplicationTargetGroupAttributes(a: Readonly<Record<string, string>>, path: string): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const algorithm = a['load_balancing.algorithm.type'];
  if (a['load_balancing.algorithm.anomaly_mitigation'] === 'on' && algorithm !== 'weighted_random') {
    issues.push({
      path: `${path}["load_balancing.algorithm.anomaly_mitigation"]`,
      message: `can be "on" only when load_balancing.algorithm.type is "weighted_random" (spec 3.1): the algorithm is ${JSON.stringify(algorithm)}`,
    });
  }
  const slowStart = a['slow_start.duration_seconds'];
  if (slowStart !== undefined && slowStart !== '0' && (algorithm === 'least_outstanding_requests' || algorithm === 'weighted_random')) {
    issues.push({
      path: `${path}["slow_start.duration_seconds"]`,
      message: `slow start cannot be used with load_balancing.algorithm.type ${JSON.stringify(algorithm)} (spec 3.1, 3.2): set "0" or use "round_robin"; got ${JSON.stringify(slowStart)}`,
    });
  }
  return issues;
}

/** Reads `count`/`percentage` style attributes where `off` means no threshold. */
export function attributeNumberOrOff(value: string | undefined): number | undefined {
  return value === undefined || value === 'off' ? undefined : Number(value);
}

/**
 * NLB target group attributes (spec 4.5). Some defaults depend on the protocol and target type:
 * connection termination on deregistration is on for UDP/TCP_UDP; client IP preservation is
 * off only for `ip` targets over TCP; unhealthy connection termination cannot be on for UDP.
 */
export function networkTargetGroupAttributes(protocol: string, targetType: string): Readonly<Record<string, AttributeSpec>> {
  const udp = protocol === 'UDP' || protocol === 'TCP_UDP';
  return {
    'deregistration_delay.timeout_seconds': intAttribute(0, 3600, '300'),
    'deregistration_delay.connection_termination.enabled': booleanAttribute(udp ? 'true' : 'false'),
    'preserve_client_ip.enabled': booleanAttribute(udp || targetType === 'instance' ? 'true' : 'false'),
    'proxy_protocol_v2.enabled': booleanAttribute('false'),
    'stickiness.enabled': onlyValue('false', 'AWS allows true | false; source_ip stickiness is not emulated yet'),
    'target_health_state.unhealthy.connection_termination.enabled': booleanAttribute(udp ? 'false' : 'true'),
    'target_health_state.unhealthy.draining_interval_seconds': intAttribute(0, 360000, '0'),
    'target_group_health.unhealthy_state_routing.minimum_healthy_targets.count': intAttribute(1, 1000, '1'),
    'target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage': intAttribute(1, 100, 'off', ['off']),
  };
}

/** Rules between NLB attributes that a single value cannot check (spec 4.3, 4.5). */
export function checkNetworkTargetGroupAttributes(protocol: string, a: Readonly<Record<string, string>>, path: string): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const udp = protocol === 'UDP' || protocol === 'TCP_UDP';
  if (udp && a['preserve_client_ip.enabled'] === 'false') {
    issues.push({ path: `${path}["preserve_client_ip.enabled"]`, message: `cannot be disabled for ${protocol} target groups (spec 4.5)` });
  }
  if (udp && a['target_health_state.unhealthy.connection_termination.enabled'] === 'true') {
    issues.push({ path: `${path}["target_health_state.unhealthy.connection_termination.enabled"]`, message: `cannot be enabled for ${protocol} target groups (spec 4.3)` });
  }
  if (a['target_health_state.unhealthy.connection_termination.enabled'] === 'true' && a['target_health_state.unhealthy.draining_interval_seconds'] !== '0') {
    issues.push({
      path: `${path}["target_health_state.unhealthy.draining_interval_seconds"]`,
      message: 'can be set only when target_health_state.unhealthy.connection_termination.enabled is "false" (spec 4.3)',
    });
  }
  return issues;
}

/** NLB load balancer attributes local-elb emulates: none yet (cross-zone and DNS have no local meaning). */
export const networkLoadBalancerAttributes: Readonly<Record<string, AttributeSpec>> = {};

/** NLB TCP listener attributes (spec 3.5, 4.6). */
export const tcpListenerAttributes: Readonly<Record<string, AttributeSpec>> = {
  'tcp.idle_timeout.seconds': intAttribute(60, 6000, '350'),
};
