/**
 * Typed attribute settings (spec 4.4–4.6): every field of the resolved default attribute maps,
 * in its type and unit (ms), a few other values, and a missing key.
 */
import { describe, expect, it } from 'vitest';
import {
  applicationLoadBalancerAttributes,
  applicationTargetGroupAttributes,
  networkTargetGroupAttributes,
  resolveAttributes,
  tcpListenerAttributes,
} from '../../../src/config/attributes.ts';
import {
  applicationLoadBalancerSettings,
  targetGroupSettings,
  tcpListenerSettings,
  type ApplicationLoadBalancerSettings,
  type TargetGroupSettings,
} from '../../../src/config/settings.ts';

type Catalogue = Parameters<typeof resolveAttributes>[0];

/** The complete attribute map `resolveAttributes` makes from `input` and the catalogue's defaults. */
function resolved(catalogue: Catalogue, input: Record<string, string> = {}): Record<string, string> {
  const r = resolveAttributes(catalogue, input, 'attributes');
  if (!r.ok) throw new Error(`test fixture rejected: ${JSON.stringify(r.issues)}`);
  return r.attributes;
}

const without = (a: Record<string, string>, key: string) => Object.fromEntries(Object.entries(a).filter(([k]) => k !== key));

const ALB_DEFAULTS: TargetGroupSettings = {
  deregistrationDelayMs: 300_000,
  algorithm: 'round_robin',
  anomalyMitigation: false,
  slowStartMs: 0,
  minimumHealthyTargetCount: 1,
  minimumHealthyTargetPercent: undefined,
  stickiness: undefined,
  terminateOnDeregistration: true,
  preserveClientIp: false,
  proxyProtocolV2: false,
  terminateWhenUnhealthy: false,
  unhealthyDrainingIntervalMs: 0,
};

/** An NLB group's defaults, with the fields that depend on protocol and target type (spec 4.5). */
const nlbDefaults = (o: { terminateOnDeregistration: boolean; preserveClientIp: boolean; terminateWhenUnhealthy: boolean }): TargetGroupSettings => ({
  deregistrationDelayMs: 300_000,
  algorithm: 'round_robin',
  anomalyMitigation: false,
  slowStartMs: 0,
  minimumHealthyTargetCount: 1,
  minimumHealthyTargetPercent: undefined,
  stickiness: undefined,
  proxyProtocolV2: false,
  unhealthyDrainingIntervalMs: 0,
  ...o,
});

describe('targetGroupSettings: the defaults (spec 4.4, 4.5)', () => {
  it('types every field of an ALB target group with default attributes (delay 300 s in ms, slow start off, round robin)', () => {
    expect(targetGroupSettings('application', resolved(applicationTargetGroupAttributes))).toStrictEqual(ALB_DEFAULTS);
  });

  it.each<[string, string, string, TargetGroupSettings]>([
    ['TCP ip: no termination on deregistration, no client IP preservation, termination when unhealthy', 'TCP', 'ip', nlbDefaults({ terminateOnDeregistration: false, preserveClientIp: false, terminateWhenUnhealthy: true })],
    ['TCP instance: client IP preserved', 'TCP', 'instance', nlbDefaults({ terminateOnDeregistration: false, preserveClientIp: true, terminateWhenUnhealthy: true })],
    ['UDP ip: termination on deregistration, client IP preserved, no termination when unhealthy', 'UDP', 'ip', nlbDefaults({ terminateOnDeregistration: true, preserveClientIp: true, terminateWhenUnhealthy: false })],
    ['UDP instance: as UDP ip', 'UDP', 'instance', nlbDefaults({ terminateOnDeregistration: true, preserveClientIp: true, terminateWhenUnhealthy: false })],
    ['TCP_UDP ip: as UDP', 'TCP_UDP', 'ip', nlbDefaults({ terminateOnDeregistration: true, preserveClientIp: true, terminateWhenUnhealthy: false })],
  ])('types every field of an NLB target group with default attributes: %s', (_case, protocol, targetType, expected) => {
    expect(targetGroupSettings('network', resolved(networkTargetGroupAttributes(protocol, targetType)))).toStrictEqual(expected);
  });
});

describe('targetGroupSettings: other values', () => {
  it.each<[string, Record<string, string>, Partial<TargetGroupSettings>]>([
    ['a deregistration delay of 0 s is 0 ms', { 'deregistration_delay.timeout_seconds': '0' }, { deregistrationDelayMs: 0 }],
    ['a deregistration delay of 3600 s is 3 600 000 ms', { 'deregistration_delay.timeout_seconds': '3600' }, { deregistrationDelayMs: 3_600_000 }],
    ['slow start of 30 s is 30 000 ms', { 'slow_start.duration_seconds': '30' }, { slowStartMs: 30_000 }],
    ['slow start of 900 s is 900 000 ms', { 'slow_start.duration_seconds': '900' }, { slowStartMs: 900_000 }],
    ['least outstanding requests', { 'load_balancing.algorithm.type': 'least_outstanding_requests' }, { algorithm: 'least_outstanding_requests' }],
    [
      'weighted random with anomaly mitigation on',
      { 'load_balancing.algorithm.type': 'weighted_random', 'load_balancing.algorithm.anomaly_mitigation': 'on' },
      { algorithm: 'weighted_random', anomalyMitigation: true },
    ],
    ['a minimum of 3 healthy targets', { 'target_group_health.unhealthy_state_routing.minimum_healthy_targets.count': '3' }, { minimumHealthyTargetCount: 3 }],
    ['a minimum of 50% healthy targets', { 'target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage': '50' }, { minimumHealthyTargetPercent: 50 }],
    ['stickiness on: lb_cookie by default, for 86 400 s', { 'stickiness.enabled': 'true' }, { stickiness: { type: 'lb_cookie', durationMs: 86_400_000 } }],
    ['lb_cookie stickiness for 60 s', { 'stickiness.enabled': 'true', 'stickiness.lb_cookie.duration_seconds': '60' }, { stickiness: { type: 'lb_cookie', durationMs: 60_000 } }],
    [
      'app_cookie stickiness on SESSIONID for 1 s',
      { 'stickiness.enabled': 'true', 'stickiness.type': 'app_cookie', 'stickiness.app_cookie.cookie_name': 'SESSIONID', 'stickiness.app_cookie.duration_seconds': '1' },
      { stickiness: { type: 'app_cookie', durationMs: 1_000, cookieName: 'SESSIONID' } },
    ],
    ['stickiness settings kept while stickiness.enabled is false', { 'stickiness.type': 'app_cookie', 'stickiness.app_cookie.cookie_name': 'SESSIONID' }, { stickiness: undefined }],
  ])('ALB: %s', (_case, input, changed) => {
    expect(targetGroupSettings('application', resolved(applicationTargetGroupAttributes, input))).toStrictEqual({ ...ALB_DEFAULTS, ...changed });
  });

  it.each<[string, Record<string, string>, Partial<TargetGroupSettings>]>([
    [
      'unhealthy draining for 120 s (120 000 ms) with termination off',
      { 'target_health_state.unhealthy.connection_termination.enabled': 'false', 'target_health_state.unhealthy.draining_interval_seconds': '120' },
      { terminateWhenUnhealthy: false, unhealthyDrainingIntervalMs: 120_000 },
    ],
    ['termination on deregistration', { 'deregistration_delay.connection_termination.enabled': 'true' }, { terminateOnDeregistration: true }],
    ['Proxy Protocol v2 and client IP preservation', { 'proxy_protocol_v2.enabled': 'true', 'preserve_client_ip.enabled': 'true' }, { proxyProtocolV2: true, preserveClientIp: true }],
    ['source_ip stickiness', { 'stickiness.enabled': 'true' }, { stickiness: { type: 'source_ip' } }],
    ['a delay of 45 s with a 10% minimum', { 'deregistration_delay.timeout_seconds': '45', 'target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage': '10' }, { deregistrationDelayMs: 45_000, minimumHealthyTargetPercent: 10 }],
  ])('NLB (TCP ip): %s', (_case, input, changed) => {
    const base = nlbDefaults({ terminateOnDeregistration: false, preserveClientIp: false, terminateWhenUnhealthy: true });
    expect(targetGroupSettings('network', resolved(networkTargetGroupAttributes('TCP', 'ip'), input))).toStrictEqual({ ...base, ...changed });
  });

  it('throws for an algorithm that is not in the registry (a map resolveAttributes never makes)', () => {
    const a = { ...resolved(applicationTargetGroupAttributes), 'load_balancing.algorithm.type': 'fastest' };
    expect(() => targetGroupSettings('application', a)).toThrow('load_balancing.algorithm.type fastest is not in the algorithm registry');
  });
});

describe('applicationLoadBalancerSettings and tcpListenerSettings (spec 4.6)', () => {
  it('types every field of an ALB with default attributes (idle 60 s, keep-alive 3600 s, in ms; XFF append)', () => {
    expect(applicationLoadBalancerSettings(resolved(applicationLoadBalancerAttributes))).toStrictEqual({
      idleTimeoutMs: 60_000,
      clientKeepAliveMs: 3_600_000,
      xffMode: 'append',
      xffClientPort: false,
      preserveHost: false,
      tlsVersionAndCipherHeaders: false,
      http2: true,
      desyncMitigationMode: 'defensive',
      dropInvalidHeaderFields: false,
      connectionLogs: false,
    } satisfies ApplicationLoadBalancerSettings);
  });

  it('types other ALB values (idle 1 s, keep-alive 60 s, XFF remove with the client port, Host preserved)', () => {
    const a = resolved(applicationLoadBalancerAttributes, {
      'idle_timeout.timeout_seconds': '1',
      'client_keep_alive.seconds': '60',
      'routing.http.xff_header_processing.mode': 'remove',
      'routing.http.xff_client_port.enabled': 'true',
      'routing.http.preserve_host_header.enabled': 'true',
      'routing.http.x_amzn_tls_version_and_cipher_suite.enabled': 'true',
      'routing.http2.enabled': 'false',
      'routing.http.desync_mitigation_mode': 'strictest',
      'routing.http.drop_invalid_header_fields.enabled': 'true',
      'connection_logs.s3.enabled': 'true',
      'connection_logs.s3.bucket': 'logs',
    });
    expect(applicationLoadBalancerSettings(a)).toStrictEqual({
      idleTimeoutMs: 1_000,
      clientKeepAliveMs: 60_000,
      xffMode: 'remove',
      xffClientPort: true,
      preserveHost: true,
      tlsVersionAndCipherHeaders: true,
      http2: false,
      desyncMitigationMode: 'strictest',
      dropInvalidHeaderFields: true,
      connectionLogs: true,
    });
  });

  it.each([
    ['the default 350 s', {}, 350_000],
    ['60 s', { 'tcp.idle_timeout.seconds': '60' }, 60_000],
    ['6000 s', { 'tcp.idle_timeout.seconds': '6000' }, 6_000_000],
  ])('types a TCP listener idle timeout of %s in ms', (_case, input, idleTimeoutMs) => {
    expect(tcpListenerSettings(resolved(tcpListenerAttributes, input))).toStrictEqual({ idleTimeoutMs });
  });
});

type Read = (attributes: Record<string, string>) => unknown;

/** One row per catalogue key: [what is missing, the resolved defaults without that key, the reader, the key]. */
function missingKeys(label: string, catalogue: Catalogue, read: Read): Array<[string, Record<string, string>, Read, string]> {
  const complete = resolved(catalogue);
  // Keys accepted with no local effect (S3 logs, cross-zone…) are stored, never read.
  const read_ = Object.keys(catalogue).filter((key) => catalogue[key]!.noLocalEffect === undefined);
  return read_.map((key) => [`${label} without ${key}`, without(complete, key), read, key]);
}

describe('settings: a resolved map missing a key is a bug, not a default', () => {
  const cases = [
    ...missingKeys('ALB target group', applicationTargetGroupAttributes, (a) => targetGroupSettings('application', a)),
    ...missingKeys('NLB target group', networkTargetGroupAttributes('TCP', 'ip'), (a) => targetGroupSettings('network', a)),
    ...missingKeys('ALB', applicationLoadBalancerAttributes, applicationLoadBalancerSettings),
    ...missingKeys('TCP listener', tcpListenerAttributes, tcpListenerSettings),
  ];

  it('covers every key of the four catalogues (11 ALB target group, 10 NLB target group, 10 ALB, 1 TCP listener)', () => {
    expect(cases).toHaveLength(11 + 10 + 10 + 1);
  });

  it.each(cases)('throws, naming the key: %s', (_case, attributes, read, key) => {
    expect(() => read(attributes)).toThrow(`attribute ${key} missing from a resolved attribute map`);
  });
});
