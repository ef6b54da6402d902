/**
 * The attribute catalogues of spec sections 4.4 (ALB target groups) and 4.6 (load balancers):
 * AWS's keys, AWS's string values, AWS's defaults and ranges. Both the config file and the
 * admin API's modify call validate through here, so the two can never disagree.
 */
import { awsAlgorithms } from '../algorithms/registry.ts';
import type { ConfigIssue } from '../core/errors.ts';

export interface AttributeSpec {
  readonly defaultValue: string;
  readonly allowed: string;
  /** Returns an error message, or undefined when the value is valid. */
  check(value: string): string | undefined;
  /**
   * Set on keys that are accepted with AWS's validation, stored and described back, but change
   * nothing on this machine (S3 logs, deletion protection, zonal shift…): why not.
   */
  readonly noLocalEffect?: string;
}

/** `spec`, marked as accepted with no local effect, for `why`. */
function noLocalEffect(spec: AttributeSpec, why: string): AttributeSpec {
  return { ...spec, noLocalEffect: why };
}

/** Free text up to `maxLength` characters (AWS: attribute values up to 1024), optionally restricted to `pattern`. */
function stringAttribute(maxLength: number, defaultValue = '', pattern?: { readonly test: RegExp; readonly allowed: string }): AttributeSpec {
  const allowed = pattern ? `${pattern.allowed}, at most ${maxLength} characters` : `a string of at most ${maxLength} characters`;
  return {
    defaultValue,
    allowed,
    check(value) {
      if (value.length > maxLength) return `must be ${allowed}: got ${value.length} characters`;
      if (pattern && value !== '' && !pattern.test.test(value)) return `must be ${allowed}: got ${JSON.stringify(value)}`;
      return undefined;
    },
  };
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

/** Why a key changes nothing on this machine. */
const ONE_ZONE = 'every target is in one local zone, so cross-zone routing changes nothing';
const NO_DNS = 'there is no Route 53 DNS name to fail over';
const NO_S3 = 'logs go to --access-log, not to S3';
const NOTHING_TO_PROTECT = 'a local load balancer is deleted with its process';
const NO_ZONAL_SHIFT = 'there is one local zone and no zonal shift';
const NO_IGW = 'there is no internet gateway locally';

/** The prefixes of the load balancer's own cookies, which an application cookie may not take (spec 3.3). */
export const RESERVED_COOKIE_PREFIXES = ['AWSALB', 'AWSALBAPP', 'AWSALBTG'] as const;

/** An RFC 6265 cookie name (a token) that does not start with a reserved prefix; `""` (the default) means none. */
function appCookieNameAttribute(): AttributeSpec {
  const allowed = `a cookie name (letters, digits and ${"!#$%&'*+-.^_`|~"}) not starting with ${RESERVED_COOKIE_PREFIXES.join(', ')}`;
  return {
    defaultValue: '',
    allowed,
    check(value) {
      if (value === '') return undefined;
      if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,255}$/.test(value)) return `must be ${allowed}, at most 255 characters: got ${JSON.stringify(value)}`;
      const reserved = RESERVED_COOKIE_PREFIXES.find((p) => value.startsWith(p));
      if (reserved !== undefined) {
        return `names starting with ${RESERVED_COOKIE_PREFIXES.join(', ')} are reserved for the load balancer's own cookies (spec 3.3; InvalidConfigurationRequest): got ${JSON.stringify(value)}`;
      }
      return undefined;
    },
  };
}

/** ALB sticky sessions (spec 3.3, 4.4): duration-based (`lb_cookie`) and application-based (`app_cookie`). */
function applicationStickinessAttributes(): Record<string, AttributeSpec> {
  return {
    'stickiness.enabled': booleanAttribute('false'),
    // AWS's reported default for the type is UNCONFIRMED (spec 3.3); lb_cookie is what it is seen to report.
    'stickiness.type': enumAttribute(['lb_cookie', 'app_cookie'], 'lb_cookie'),
    'stickiness.lb_cookie.duration_seconds': intAttribute(1, 604800, '86400'),
    'stickiness.app_cookie.cookie_name': appCookieNameAttribute(),
    'stickiness.app_cookie.duration_seconds': intAttribute(1, 604800, '86400'),
  };
}

/** ALB target group attributes (spec 4.4) that local-elb emulates. */
export const applicationTargetGroupAttributes: Readonly<Record<string, AttributeSpec>> = {
  'deregistration_delay.timeout_seconds': intAttribute(0, 3600, '300'),
  'load_balancing.algorithm.type': enumAttribute(awsAlgorithms, 'round_robin'),
  'load_balancing.algorithm.anomaly_mitigation': enumAttribute(['on', 'off'], 'off'),
  'slow_start.duration_seconds': intAttribute(30, 900, '0', ['0']),
  ...applicationStickinessAttributes(),
  'target_group_health.unhealthy_state_routing.minimum_healthy_targets.count': intAttribute(1, 1000, '1'),
  'target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage': intAttribute(1, 100, 'off', ['off']),
  ...sharedTargetGroupAttributes(),
};

/** Target group keys of ALB and NLB alike that have no local meaning (spec 4.4, 4.5, 2.6). */
function sharedTargetGroupAttributes(): Record<string, AttributeSpec> {
  return {
    'load_balancing.cross_zone.enabled': noLocalEffect(enumAttribute(['true', 'false', 'use_load_balancer_configuration'], 'use_load_balancer_configuration'), ONE_ZONE),
    'target_group_health.dns_failover.minimum_healthy_targets.count': noLocalEffect(intAttribute(1, 1000, '1', ['off']), NO_DNS),
    'target_group_health.dns_failover.minimum_healthy_targets.percentage': noLocalEffect(intAttribute(1, 100, 'off', ['off']), NO_DNS),
  };
}


/** S3 log switches of spec 4.6 and 13.4.1: `<name>.s3.enabled`, `.bucket` (required when enabled), `.prefix`. */
function s3LogAttributes(name: string): Record<string, AttributeSpec> {
  return {
    [`${name}.s3.enabled`]: noLocalEffect(booleanAttribute('false'), NO_S3),
    [`${name}.s3.bucket`]: noLocalEffect(stringAttribute(255), NO_S3),
    [`${name}.s3.prefix`]: noLocalEffect(stringAttribute(1024), NO_S3),
  };
}

/** The S3 log switches a catalogue has: each needs its bucket when enabled (spec 13.4.1). */
function checkS3Buckets(a: Readonly<Record<string, string>>, path: string): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const name of ['access_logs', 'connection_logs', 'health_check_logs']) {
    if (a[`${name}.s3.enabled`] === 'true' && !a[`${name}.s3.bucket`]) {
      issues.push({ path: `${path}["${name}.s3.bucket"]`, message: `is required when ${name}.s3.enabled is "true" (spec 13.4.1)` });
    }
  }
  return issues;
}

/** Rules between load balancer attributes that a single value cannot check (spec 13.4.1). */
export function checkLoadBalancerAttributes(a: Readonly<Record<string, string>>, path: string): ConfigIssue[] {
  return checkS3Buckets(a, path);
}

/** ALB load balancer attributes (spec 4.6) that local-elb emulates. */
export const applicationLoadBalancerAttributes: Readonly<Record<string, AttributeSpec>> = {
  'idle_timeout.timeout_seconds': intAttribute(1, 4000, '60'),
  'client_keep_alive.seconds': intAttribute(60, 604800, '3600'),
  'routing.http.xff_header_processing.mode': enumAttribute(['append', 'preserve', 'remove'], 'append'),
  'routing.http.xff_client_port.enabled': booleanAttribute('false'),
  'routing.http.preserve_host_header.enabled': booleanAttribute('false'),
  // Desync mitigation (spec 13.1): how requests that are not RFC-compliant are treated.
  'routing.http.desync_mitigation_mode': enumAttribute(['monitor', 'defensive', 'strictest'], 'defensive'),
  // Header names outside [-A-Za-z0-9]+ are not forwarded when true (spec 13.1.8).
  'routing.http.drop_invalid_header_fields.enabled': booleanAttribute('false'),
  'routing.http.x_amzn_tls_version_and_cipher_suite.enabled': booleanAttribute('false'),
  'routing.http2.enabled': booleanAttribute('true'),
  // One local zone: cross-zone is always on for an ALB (spec 4.6), and nothing else is possible.
  'load_balancing.cross_zone.enabled': noLocalEffect(onlyValue('true', 'cross-zone routing is always on for application load balancers'), ONE_ZONE),
  'waf.fail_open.enabled': noLocalEffect(booleanAttribute('false'), 'there is no AWS WAF in front of a local load balancer'),
  'deletion_protection.enabled': noLocalEffect(booleanAttribute('false'), NOTHING_TO_PROTECT),
  'zonal_shift.config.enabled': noLocalEffect(booleanAttribute('false'), NO_ZONAL_SHIFT),
  'ipv6.deny_all_igw_traffic': noLocalEffect(booleanAttribute('false'), NO_IGW),
  ...s3LogAttributes('access_logs'),
  ...s3LogAttributes('connection_logs'),
  // Connection log lines (spec 12.1.8) are made while this is "true" (`local-elb serve --connection-log` writes them); there is no S3 bucket.
  'connection_logs.s3.enabled': booleanAttribute('false'),
  ...s3LogAttributes('health_check_logs'),
};

/**
 * Response header values (spec 13.3.1): ASCII letters, digits, space and
 * `_ : ; . , \ / ' ? ! ( ) { } [ ] @ < > = - + * # & | ~ ^ %`, up to 1 KB; empty turns it off.
 */
const HEADER_VALUE = { test: /^[A-Za-z0-9 _:;.,\\/'?!(){}[\]@<>=\-+*#&|~^%]+$/, allowed: "ASCII letters, digits, spaces and _ : ; . , \\ / ' ? ! ( ) { } [ ] @ < > = - + * # & | ~ ^ % (empty: off)" };
/** A request header's new name (spec 13.3.2; the rules are UNCONFIRMED: a token of letters, digits and hyphens). */
const HEADER_NAME = { test: /^[-A-Za-z0-9]+$/, allowed: 'letters, digits and hyphens (empty: the standard name)' };

/** The response headers an ALB listener can set, by attribute key (spec 13.3.1). */
export const RESPONSE_HEADER_ATTRIBUTES: Readonly<Record<string, string>> = {
  'routing.http.response.strict_transport_security.header_value': 'Strict-Transport-Security',
  'routing.http.response.access_control_allow_origin.header_value': 'Access-Control-Allow-Origin',
  'routing.http.response.access_control_allow_methods.header_value': 'Access-Control-Allow-Methods',
  'routing.http.response.access_control_allow_headers.header_value': 'Access-Control-Allow-Headers',
  'routing.http.response.access_control_allow_credentials.header_value': 'Access-Control-Allow-Credentials',
  'routing.http.response.access_control_expose_headers.header_value': 'Access-Control-Expose-Headers',
  'routing.http.response.access_control_max_age.header_value': 'Access-Control-Max-Age',
  'routing.http.response.content_security_policy.header_value': 'Content-Security-Policy',
  'routing.http.response.x_content_type_options.header_value': 'X-Content-Type-Options',
  'routing.http.response.x_frame_options.header_value': 'X-Frame-Options',
};

/** The request headers an HTTPS listener can rename, by attribute key (spec 13.3.2). */
export const REQUEST_HEADER_RENAME_ATTRIBUTES: Readonly<Record<string, string>> = {
  'routing.http.request.x_amzn_tls_version.header_name': 'X-Amzn-Tls-Version',
  'routing.http.request.x_amzn_tls_cipher_suite.header_name': 'X-Amzn-Tls-Cipher-Suite',
  'routing.http.request.x_amzn_mtls_clientcert.header_name': 'X-Amzn-Mtls-Clientcert',
  'routing.http.request.x_amzn_mtls_clientcert_serial_number.header_name': 'X-Amzn-Mtls-Clientcert-Serial-Number',
  'routing.http.request.x_amzn_mtls_clientcert_issuer.header_name': 'X-Amzn-Mtls-Clientcert-Issuer',
  'routing.http.request.x_amzn_mtls_clientcert_subject.header_name': 'X-Amzn-Mtls-Clientcert-Subject',
  'routing.http.request.x_amzn_mtls_clientcert_validity.header_name': 'X-Amzn-Mtls-Clientcert-Validity',
  'routing.http.request.x_amzn_mtls_clientcert_leaf.header_name': 'X-Amzn-Mtls-Clientcert-Leaf',
};

/** Headers the ALB sets itself, which a rename may not take (spec 13.3.2: UNCONFIRMED, chosen). */
const ALB_SET_HEADERS = new Set(['host', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-port', 'x-amzn-trace-id', ...Object.values(REQUEST_HEADER_RENAME_ATTRIBUTES).map((h) => h.toLowerCase())]);

/**
 * ALB listener attributes (spec 13.3, 13.4.2): the response headers on HTTP and HTTPS
 * listeners; the request header renames on HTTPS listeners only (the `X-Amzn-Mtls-*` ones
 * rename what a listener with mutual TLS sends, spec 12.1.6).
 */
export function applicationListenerAttributes(protocol: 'HTTP' | 'HTTPS'): Readonly<Record<string, AttributeSpec>> {
  const catalogue: Record<string, AttributeSpec> = { 'routing.http.response.server.enabled': booleanAttribute('true') };
  for (const key of Object.keys(RESPONSE_HEADER_ATTRIBUTES)) catalogue[key] = stringAttribute(1024, '', HEADER_VALUE);
  if (protocol === 'HTTPS') {
    for (const [key, header] of Object.entries(REQUEST_HEADER_RENAME_ATTRIBUTES)) {
      const name = stringAttribute(256, '', HEADER_NAME);
      const spec: AttributeSpec = {
        ...name,
        check: (v) => name.check(v) ?? (ALB_SET_HEADERS.has(v.toLowerCase()) && v.toLowerCase() !== header.toLowerCase() ? `must not be a header the load balancer sets itself: got ${JSON.stringify(v)}` : undefined),
      };
      catalogue[key] = spec;
    }
  }
  return catalogue;
}

/** Whose attributes a catalogue holds, for AWS's wording of a refused key (spec 13.4.5). */
export interface AttributeOwner {
  readonly resource: 'Load balancer' | 'Listener' | 'Target group';
  /** `load balancers with type 'network'`, `TLS listeners`… */
  readonly kind: string;
  /** The keys the same resource has elsewhere (the other load balancer type, other listener protocols). */
  readonly elsewhere?: Readonly<Record<string, AttributeSpec>>;
}

/**
 * Validates `input` against `catalogue` and fills in every default. Returns the complete map
 * (what DescribeTargetGroupAttributes would list) or the issues, each with its field path.
 */
export function resolveAttributes(
  catalogue: Readonly<Record<string, AttributeSpec>>,
  input: Readonly<Record<string, string>>,
  path: string,
  base?: Readonly<Record<string, string>>,
  aws?: AttributeOwner,
): { ok: true; attributes: Record<string, string> } | { ok: false; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  const attributes: Record<string, string> = {};
  for (const [key, spec] of Object.entries(catalogue)) attributes[key] = base?.[key] ?? spec.defaultValue;
  for (const [key, value] of Object.entries(input)) {
    const spec = catalogue[key];
    const at = `${path}["${key}"]`;
    if (spec === undefined) {
      const supported = `supported: ${Object.keys(catalogue).join(', ')}`;
      if (aws === undefined) issues.push({ path: at, message: `unknown attribute; ${supported}` });
      else if (aws.elsewhere?.[key] !== undefined) {
        // AWS's two shapes (spec 13.4.5): a key of another type, and a key AWS does not define.
        issues.push({ path: at, message: `not supported here (InvalidConfigurationRequest: ${aws.resource} attribute key '${key}' is not supported on ${aws.kind}); ${supported}` });
      } else issues.push({ path: at, message: `unknown attribute; ${supported} (ValidationError: ${aws.resource} attribute key '${key}' is not recognized)` });
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
  issues.push(...checkApplicationStickiness(a, path));
  return issues;
}

/**
 * Sticky sessions' rules (spec 3.3, 3.6): app_cookie needs the application's cookie name (AWS's
 * InvalidConfigurationRequest); stickiness needs cross-zone load balancing on for the group.
 */
function checkApplicationStickiness(a: Readonly<Record<string, string>>, path: string): ConfigIssue[] {
  if (a['stickiness.enabled'] !== 'true') return [];
  const issues: ConfigIssue[] = [];
  if (a['stickiness.type'] === 'app_cookie' && !a['stickiness.app_cookie.cookie_name']) {
    issues.push({
      path: `${path}["stickiness.app_cookie.cookie_name"]`,
      message: `is required when stickiness.type is "app_cookie" (InvalidConfigurationRequest: You must set an application cookie name to enable stickiness of type 'app_cookie'): got ""`,
    });
  }
  if (a['load_balancing.cross_zone.enabled'] === 'false') {
    issues.push({
      path: `${path}["stickiness.enabled"]`,
      message: 'sticky sessions need cross-zone load balancing on for the target group (spec 3.3, 3.6): load_balancing.cross_zone.enabled is "false"',
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
    // source_ip stickiness (spec 3.5): new flows from one client address go to one target.
    'stickiness.enabled': booleanAttribute('false'),
    'stickiness.type': enumAttribute(['source_ip'], 'source_ip'),
    'target_health_state.unhealthy.connection_termination.enabled': booleanAttribute(udp ? 'false' : 'true'),
    'target_health_state.unhealthy.draining_interval_seconds': intAttribute(0, 360000, '0'),
    'target_group_health.unhealthy_state_routing.minimum_healthy_targets.count': intAttribute(1, 1000, '1'),
    'target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage': intAttribute(1, 100, 'off', ['off']),
    ...sharedTargetGroupAttributes(),
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
  // A TLS target group is reached only through TLS listeners (spec 1.1), where AWS has no source_ip stickiness (spec 3.5).
  if (protocol === 'TLS' && a['stickiness.enabled'] === 'true') {
    issues.push({ path: `${path}["stickiness.enabled"]`, message: 'source_ip stickiness is not supported with TLS listeners and TLS target groups (spec 3.5): got "true"' });
  }
  return issues;
}

/** NLB load balancer attributes (spec 4.6, 13.4.1): every one accepted; none has a local effect (one zone, no DNS, no S3). */
export const networkLoadBalancerAttributes: Readonly<Record<string, AttributeSpec>> = {
  'load_balancing.cross_zone.enabled': noLocalEffect(booleanAttribute('false'), ONE_ZONE),
  'deletion_protection.enabled': noLocalEffect(booleanAttribute('false'), NOTHING_TO_PROTECT),
  'zonal_shift.config.enabled': noLocalEffect(booleanAttribute('false'), NO_ZONAL_SHIFT),
  'ipv6.deny_all_igw_traffic': noLocalEffect(booleanAttribute('false'), NO_IGW),
  'dns_record.client_routing_policy': noLocalEffect(
    enumAttribute(['availability_zone_affinity', 'partial_availability_zone_affinity', 'any_availability_zone'], 'any_availability_zone'),
    'there is no DNS name and one local zone',
  ),
  'secondary_ips.auto_assigned.per_subnet': noLocalEffect(intAttribute(0, 7, '0'), 'there are no subnets or network interfaces locally'),
  ...s3LogAttributes('access_logs'),
};

/**
 * The keys of `input` that are accepted but have no local effect, set to a value other than
 * their default, with why: logged once at startup (issue #13), listed in the README.
 */
export function withoutLocalEffect(catalogue: Readonly<Record<string, AttributeSpec>>, input: Readonly<Record<string, string>>): Array<{ key: string; value: string; why: string }> {
  const out: Array<{ key: string; value: string; why: string }> = [];
  for (const [key, value] of Object.entries(input)) {
    const spec = catalogue[key];
    if (spec?.noLocalEffect !== undefined && value !== spec.defaultValue) out.push({ key, value, why: spec.noLocalEffect });
  }
  return out;
}

/** NLB TCP listener attributes (spec 3.5, 4.6). */
export const tcpListenerAttributes: Readonly<Record<string, AttributeSpec>> = {
  'tcp.idle_timeout.seconds': intAttribute(60, 6000, '350'),
};
