/**
 * Attributes as the data path uses them: typed (milliseconds, enums, booleans) from the
 * attribute strings that `resolveAttributes` has validated and completed with AWS's defaults
 * (spec 4.4–4.6). The strings stay what Describe…Attributes shows; everything that acts on an
 * attribute reads these, so no default is applied twice and no value is parsed where it is used.
 */
import { isAlgorithmName, type AlgorithmName } from '../algorithms/registry.ts';

/** A target group's attributes (ALB spec 4.4, NLB 4.5); the other kind's fields hold their neutral values. */
export interface TargetGroupSettings {
  readonly deregistrationDelayMs: number;
  /** ALB `load_balancing.algorithm.type` (an NLB's is always the flow hash). */
  readonly algorithm: AlgorithmName;
  readonly anomalyMitigation: boolean;
  /** 0 when slow start is off. */
  readonly slowStartMs: number;
  readonly minimumHealthyTargetCount: number;
  /** `…minimum_healthy_targets.percentage`; undefined for `off`. */
  readonly minimumHealthyTargetPercent: number | undefined;
  /** Sticky sessions (spec 3.3, 3.5): undefined while `stickiness.enabled` is false. */
  readonly stickiness: StickinessSettings | undefined;
  /** NLB: `deregistration_delay.connection_termination.enabled`. */
  readonly terminateOnDeregistration: boolean;
  readonly preserveClientIp: boolean;
  readonly proxyProtocolV2: boolean;
  /** NLB: `target_health_state.unhealthy.connection_termination.enabled`. */
  readonly terminateWhenUnhealthy: boolean;
  readonly unhealthyDrainingIntervalMs: number;
}

/**
 * `stickiness.*` as the pick path reads them: ALB duration-based or application-based cookies
 * (spec 3.3), NLB source addresses (spec 3.5). Durations are how long a binding is valid.
 */
export type StickinessSettings =
  | { readonly type: 'lb_cookie'; readonly durationMs: number }
  | { readonly type: 'app_cookie'; readonly durationMs: number; readonly cookieName: string }
  | { readonly type: 'source_ip' };

/** An ALB's load balancer attributes (spec 4.6). */
export interface ApplicationLoadBalancerSettings {
  readonly idleTimeoutMs: number;
  readonly clientKeepAliveMs: number;
  readonly xffMode: 'append' | 'preserve' | 'remove';
  readonly xffClientPort: boolean;
  readonly preserveHost: boolean;
  /** `routing.http.x_amzn_tls_version_and_cipher_suite.enabled` (spec 12.1.6). */
  readonly tlsVersionAndCipherHeaders: boolean;
  /** `routing.http2.enabled`: HTTPS listeners offer `h2` by ALPN (spec 12.3). */
  readonly http2: boolean;
  /** `routing.http.desync_mitigation_mode` (spec 13.1.1). */
  readonly desyncMitigationMode: 'monitor' | 'defensive' | 'strictest';
  /** `routing.http.drop_invalid_header_fields.enabled`: names outside `[-A-Za-z0-9]+` are not forwarded (spec 13.1.8). */
  readonly dropInvalidHeaderFields: boolean;
  /** `connection_logs.s3.enabled`: a connection record per connection attempt (spec 12.1.8). */
  readonly connectionLogs: boolean;
}

/** An NLB TCP listener's attributes (spec 3.5, 4.6). */
export interface TcpListenerSettings {
  readonly idleTimeoutMs: number;
}

type Attributes = Readonly<Record<string, string>>;

/** The value of a key the catalogue always fills; a missing one is a bug, not a default. */
function value(a: Attributes, key: string): string {
  const v = a[key];
  if (v === undefined) throw new Error(`attribute ${key} missing from a resolved attribute map`);
  return v;
}

const seconds = (a: Attributes, key: string) => Number(value(a, key)) * 1000;
const flag = (a: Attributes, key: string) => value(a, key) === 'true';

export function targetGroupSettings(kind: 'application' | 'network', a: Attributes): TargetGroupSettings {
  const percentage = value(a, 'target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage');
  const common = {
    deregistrationDelayMs: seconds(a, 'deregistration_delay.timeout_seconds'),
    minimumHealthyTargetCount: Number(value(a, 'target_group_health.unhealthy_state_routing.minimum_healthy_targets.count')),
    minimumHealthyTargetPercent: percentage === 'off' ? undefined : Number(percentage),
    stickiness: stickinessSettings(kind, a),
  };
  if (kind === 'application') {
    const algorithm = value(a, 'load_balancing.algorithm.type');
    if (!isAlgorithmName(algorithm)) throw new Error(`load_balancing.algorithm.type ${algorithm} is not in the algorithm registry`);
    return {
      ...common,
      algorithm,
      anomalyMitigation: value(a, 'load_balancing.algorithm.anomaly_mitigation') === 'on',
      slowStartMs: seconds(a, 'slow_start.duration_seconds'),
      terminateOnDeregistration: true,
      preserveClientIp: false,
      proxyProtocolV2: false,
      terminateWhenUnhealthy: false,
      unhealthyDrainingIntervalMs: 0,
    };
  }
  return {
    ...common,
    algorithm: 'round_robin',
    anomalyMitigation: false,
    slowStartMs: 0,
    terminateOnDeregistration: flag(a, 'deregistration_delay.connection_termination.enabled'),
    preserveClientIp: flag(a, 'preserve_client_ip.enabled'),
    proxyProtocolV2: flag(a, 'proxy_protocol_v2.enabled'),
    terminateWhenUnhealthy: flag(a, 'target_health_state.unhealthy.connection_termination.enabled'),
    unhealthyDrainingIntervalMs: seconds(a, 'target_health_state.unhealthy.draining_interval_seconds'),
  };
}

/** Every `stickiness.*` key is read, on or off, so a map missing one is caught at once. */
function stickinessSettings(kind: 'application' | 'network', a: Attributes): StickinessSettings | undefined {
  const enabled = flag(a, 'stickiness.enabled');
  const type = value(a, 'stickiness.type');
  if (kind === 'network') return enabled ? { type: 'source_ip' } : undefined;
  const lbCookie: StickinessSettings = { type: 'lb_cookie', durationMs: seconds(a, 'stickiness.lb_cookie.duration_seconds') };
  const appCookie: StickinessSettings = { type: 'app_cookie', durationMs: seconds(a, 'stickiness.app_cookie.duration_seconds'), cookieName: value(a, 'stickiness.app_cookie.cookie_name') };
  if (!enabled) return undefined;
  return type === 'app_cookie' ? appCookie : lbCookie;
}

export function applicationLoadBalancerSettings(a: Attributes): ApplicationLoadBalancerSettings {
  return {
    idleTimeoutMs: seconds(a, 'idle_timeout.timeout_seconds'),
    clientKeepAliveMs: seconds(a, 'client_keep_alive.seconds'),
    xffMode: value(a, 'routing.http.xff_header_processing.mode') as ApplicationLoadBalancerSettings['xffMode'],
    xffClientPort: flag(a, 'routing.http.xff_client_port.enabled'),
    preserveHost: flag(a, 'routing.http.preserve_host_header.enabled'),
    tlsVersionAndCipherHeaders: flag(a, 'routing.http.x_amzn_tls_version_and_cipher_suite.enabled'),
    http2: flag(a, 'routing.http2.enabled'),
    desyncMitigationMode: value(a, 'routing.http.desync_mitigation_mode') as ApplicationLoadBalancerSettings['desyncMitigationMode'],
    dropInvalidHeaderFields: flag(a, 'routing.http.drop_invalid_header_fields.enabled'),
    connectionLogs: flag(a, 'connection_logs.s3.enabled'),
  };
}

export function tcpListenerSettings(a: Attributes): TcpListenerSettings {
  return { idleTimeoutMs: seconds(a, 'tcp.idle_timeout.seconds') };
}
