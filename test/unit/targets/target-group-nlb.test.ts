/**
 * NLB target groups on a virtual clock with scripted probes (spec 1.2, 2.3, 2.4, 3.5, 4.2, 4.3,
 * 4.5): the defaults parseConfig fills for TCP/UDP groups, the attribute rules, flow-hash
 * picks, unhealthy-target connection handling (`unhealthy.draining`) and deregistration that
 * keeps or cuts connections.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/core/clock.ts';
import { ConfigError, type ElbError, ErrorCodes } from '../../../src/core/errors.ts';
import { parseConfig } from '../../../src/config/schema.ts';
import type { ProbeResult, TargetHealth } from '../../../src/targets/health.ts';
import type { Probe } from '../../../src/targets/health-checker.ts';
import { TargetGroup, type TargetGroupEvent } from '../../../src/targets/target-group.ts';
import type { Lease } from '../../../src/targets/target.ts';

type Answer = 'ok' | 'timeout' | 'refused' | number;

const HEALTHY: TargetHealth = { state: 'healthy' };
const FAILED: TargetHealth = { state: 'unhealthy', reason: 'Target.FailedHealthChecks', description: 'Health checks failed' };
const UNHEALTHY_DRAINING: TargetHealth = { state: 'unhealthy.draining', reason: 'Target.FailedHealthChecks', description: 'Health checks failed' };
const INITIAL_CHECKING: TargetHealth = { state: 'initial', reason: 'Elb.InitialHealthChecking', description: 'Initial health checks in progress' };

const INTERVAL_MS = 10_000;

const groups: TargetGroup[] = [];
afterEach(() => {
  for (const g of groups.splice(0)) g.close();
});

function tcpGroup(overrides: Record<string, unknown> = {}) {
  return parseConfig({ targetGroups: [{ name: 'tcp', protocol: 'TCP', targetType: 'ip', port: 80, ...overrides }] }).targetGroups[0]!;
}

function configIssues(overrides: Record<string, unknown>) {
  try {
    tcpGroup(overrides);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues;
  }
  throw new Error('parseConfig accepted the config');
}

/**
 * An NLB target group (TCP unless overridden) on a virtual clock: checks every 10 s, timeout
 * 5 s, thresholds 2/2; every target answers its checks `ok` until told otherwise. Targets
 * 10.0.0.1–3 on port 80 are registered and healthy when it returns.
 */
async function setup(overrides: Record<string, unknown> = {}, targets = 3) {
  const clock = new VirtualClock();
  const answers = new Map<string, Answer>();
  const probe: Probe = (target, signal) => {
    const a = answers.get(target.id) ?? 'ok';
    if (a === 'timeout') return new Promise<ProbeResult>((resolve) => signal.addEventListener('abort', () => resolve({ ok: false, failure: 'timeout' })));
    if (a === 'refused') return Promise.resolve({ ok: false, failure: 'failed', detail: 'ECONNREFUSED' });
    const status = a === 'ok' ? 200 : a;
    return Promise.resolve(status < 400 ? { ok: true, statusCode: status } : { ok: false, failure: 'code', statusCode: status });
  };
  const config = tcpGroup({
    healthCheckIntervalSeconds: INTERVAL_MS / 1000,
    healthCheckTimeoutSeconds: 5,
    healthyThresholdCount: 2,
    unhealthyThresholdCount: 2,
    targets: Array.from({ length: targets }, (_, i) => ({ id: `10.0.0.${i + 1}` })),
    ...overrides,
  });
  const group = new TargetGroup({ config, clock, probe });
  groups.push(group);
  group.setLoadBalancers(['edge']);
  const events: TargetGroupEvent[] = [];
  group.on((e) => events.push(e));
  await clock.advance(0);
  expect(group.healthyHostCount).toBe(targets);
  events.length = 0;
  const health = (id: string) => group.describeTargetHealth([{ id, port: 80 }])[0]!.targetHealth;
  const answer = (id: string, a: Answer) => answers.set(id, a);
  /** A lease on target `id`, as a new flow would take it, recording whether it was cut. */
  const leaseOn = (id: string) => {
    for (let h = 0; h < 100; h++) {
      const lease = group.acquire({ flowHash: h });
      if (lease.target.id === id) {
        const cut: ElbError[] = [];
        lease.onCut((reason) => cut.push(reason));
        return { lease, cut };
      }
      lease.release();
    }
    throw new Error(`no flow hash picks ${id}`);
  };
  /** Targets new flows can land on. */
  const pickable = () => {
    const ids = new Set<string>();
    for (let h = 0; h < 30; h++) {
      const lease = group.acquire({ flowHash: h });
      ids.add(lease.target.id);
      lease.release();
    }
    return [...ids].sort();
  };
  return { clock, group, events, health, answer, leaseOn, pickable };
}

describe('NLB target group defaults from parseConfig (spec 2.3, 4.5)', () => {
  it('checks TCP every 30 s with a 10 s timeout, thresholds 5/2, on the traffic port', () => {
    const c = tcpGroup();
    expect(c).toMatchObject({
      kind: 'network',
      healthCheckProtocol: 'TCP',
      healthCheckPort: 'traffic-port',
      healthCheckPath: '/',
      healthCheckIntervalSeconds: 30,
      healthCheckTimeoutSeconds: 10,
      healthyThresholdCount: 5,
      unhealthyThresholdCount: 2,
      matcher: { httpCode: '200-399' },
    });
  });

  it('uses a 6 s timeout and matcher 200-399 for HTTP checks', () => {
    expect(tcpGroup({ healthCheckProtocol: 'HTTP' })).toMatchObject({ healthCheckProtocol: 'HTTP', healthCheckTimeoutSeconds: 6, matcher: { httpCode: '200-399' }, healthCheckPath: '/' });
  });

  it('allows matcher codes up to 599 (ALB stops at 499)', () => {
    expect(tcpGroup({ healthCheckProtocol: 'HTTP', matcher: { httpCode: '200-599' } }).matcher).toEqual({ httpCode: '200-599' });
    expect(configIssues({ healthCheckProtocol: 'HTTP', matcher: { httpCode: '600' } }).map((i) => i.path)).toEqual(['targetGroups[0].matcher.httpCode']);
  });

  it('rejects a path or matcher with TCP checks', () => {
    expect(configIssues({ healthCheckPath: '/health', matcher: { httpCode: '200' } }).map((i) => i.path)).toEqual(['targetGroups[0].healthCheckPath', 'targetGroups[0].matcher']);
  });

  it('rejects the default 10 s TCP timeout when the interval is 5 s, saying it is the default', () => {
    const [issue] = configIssues({ healthCheckIntervalSeconds: 5 });
    expect(issue).toEqual({ path: 'targetGroups[0].healthCheckTimeoutSeconds', message: 'must not exceed healthCheckIntervalSeconds (5): got 10 (the default for this kind of health check)' });
  });

  it.each([
    ['TCP', 'ip', { preserve: 'false', deregistrationTermination: 'false', unhealthyTermination: 'true' }],
    ['TCP', 'instance', { preserve: 'true', deregistrationTermination: 'false', unhealthyTermination: 'true' }],
    ['UDP', 'ip', { preserve: 'true', deregistrationTermination: 'true', unhealthyTermination: 'false' }],
    ['UDP', 'instance', { preserve: 'true', deregistrationTermination: 'true', unhealthyTermination: 'false' }],
    ['TCP_UDP', 'ip', { preserve: 'true', deregistrationTermination: 'true', unhealthyTermination: 'false' }],
  ] as const)('fills the attributes of a %s %s group: %j', (protocol, targetType, expected) => {
    expect(tcpGroup({ protocol, targetType }).attributes).toEqual({
      'deregistration_delay.timeout_seconds': '300',
      'deregistration_delay.connection_termination.enabled': expected.deregistrationTermination,
      'preserve_client_ip.enabled': expected.preserve,
      'proxy_protocol_v2.enabled': 'false',
      'stickiness.enabled': 'false',
      'stickiness.type': 'source_ip',
      'target_health_state.unhealthy.connection_termination.enabled': expected.unhealthyTermination,
      'target_health_state.unhealthy.draining_interval_seconds': '0',
      'target_group_health.unhealthy_state_routing.minimum_healthy_targets.count': '1',
      'target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage': 'off',
      'load_balancing.cross_zone.enabled': 'use_load_balancer_configuration',
      'target_group_health.dns_failover.minimum_healthy_targets.count': '1',
      'target_group_health.dns_failover.minimum_healthy_targets.percentage': 'off',
    });
  });

  it('rejects ALB-only attributes on an NLB group with AWS InvalidConfigurationRequest wording, listing the supported keys', () => {
    const [issue] = configIssues({ attributes: { 'load_balancing.algorithm.type': 'round_robin' } });
    expect(issue!.path).toBe('targetGroups[0].attributes["load_balancing.algorithm.type"]');
    expect(issue!.message).toMatch(
      /^not supported here \(InvalidConfigurationRequest: Target group attribute key 'load_balancing\.algorithm\.type' is not supported on network load balancer target groups\); supported: deregistration_delay.timeout_seconds/,
    );
  });

  it('rejects a key AWS does not define with ValidationError wording', () => {
    const [issue] = configIssues({ attributes: { 'no.such.key': '1' } });
    expect(issue!.message).toMatch(/^unknown attribute; supported: .* \(ValidationError: Target group attribute key 'no\.such\.key' is not recognized\)$/);
  });
});

describe('NLB attribute rules (spec 4.3, 4.5)', () => {
  it.each([
    [
      'a draining interval while unhealthy connection termination is on (the TCP default)',
      'TCP',
      { 'target_health_state.unhealthy.draining_interval_seconds': '30' },
      'targetGroups[0].attributes["target_health_state.unhealthy.draining_interval_seconds"]',
      /only when target_health_state.unhealthy.connection_termination.enabled is "false"/,
    ],
    ['preserve_client_ip off for UDP', 'UDP', { 'preserve_client_ip.enabled': 'false' }, 'targetGroups[0].attributes["preserve_client_ip.enabled"]', /cannot be disabled for UDP/],
    ['preserve_client_ip off for TCP_UDP', 'TCP_UDP', { 'preserve_client_ip.enabled': 'false' }, 'targetGroups[0].attributes["preserve_client_ip.enabled"]', /cannot be disabled for TCP_UDP/],
    [
      'unhealthy connection termination on for UDP',
      'UDP',
      { 'target_health_state.unhealthy.connection_termination.enabled': 'true' },
      'targetGroups[0].attributes["target_health_state.unhealthy.connection_termination.enabled"]',
      /cannot be enabled for UDP/,
    ],
    ['a draining interval above 360000', 'TCP', { 'target_health_state.unhealthy.connection_termination.enabled': 'false', 'target_health_state.unhealthy.draining_interval_seconds': '360001' }, 'targetGroups[0].attributes["target_health_state.unhealthy.draining_interval_seconds"]', /0–360000/],
  ])('rejects %s', (_name, protocol, attributes, path, message) => {
    const issues = configIssues({ protocol, attributes });
    expect(issues.map((i) => i.path)).toEqual([path]);
    expect(issues[0]!.message).toMatch(message);
  });

  it.each([
    ['a draining interval with unhealthy connection termination off', 'TCP', { 'target_health_state.unhealthy.connection_termination.enabled': 'false', 'target_health_state.unhealthy.draining_interval_seconds': '30' }],
    ['preserve_client_ip off for TCP instance targets', 'TCP', { 'preserve_client_ip.enabled': 'false' }],
    ['Proxy Protocol v2 on UDP with client IP preservation', 'UDP', { 'proxy_protocol_v2.enabled': 'true' }],
  ])('accepts %s', (_name, protocol, attributes) => {
    expect(() => tcpGroup({ protocol, attributes })).not.toThrow();
  });

  it('applies the same rules to ModifyTargetGroupAttributes, against the merged attributes', async () => {
    const { group } = await setup();
    expect(() => group.modifyAttributes({ 'target_health_state.unhealthy.draining_interval_seconds': '30' })).toThrow(/draining_interval_seconds.*connection_termination.enabled is "false"/);
    group.modifyAttributes({ 'target_health_state.unhealthy.connection_termination.enabled': 'false', 'target_health_state.unhealthy.draining_interval_seconds': '30' });
    expect(() => group.modifyAttributes({ 'target_health_state.unhealthy.connection_termination.enabled': 'true' })).toThrow(/draining_interval_seconds/);
    expect(group.attributes()['target_health_state.unhealthy.connection_termination.enabled']).toBe('false');
  });
});

describe('NLB flow-hash picks (spec 3.5)', () => {
  it('picks the same target for the same flow hash, every time', async () => {
    const { group } = await setup();
    for (let h = 0; h < 50; h++) {
      const first = group.acquire({ flowHash: h });
      const again = group.acquire({ flowHash: h });
      expect(again.target).toBe(first.target);
      first.release();
      again.release();
    }
  });

  it('spreads hashes over every healthy target and ignores the load on each (no least-connections)', async () => {
    const { group } = await setup();
    const held: Lease[] = [];
    const counts: Record<string, number> = {};
    for (let h = 0; h < 300; h++) {
      const lease = group.acquire({ flowHash: h });
      counts[lease.target.id] = (counts[lease.target.id] ?? 0) + 1;
      held.push(lease);
    }
    expect(counts).toEqual({ '10.0.0.1': 100, '10.0.0.2': 100, '10.0.0.3': 100 });
    for (const l of held) l.release();
  });
});

describe('NLB unhealthy targets (spec 2.4, 4.3)', () => {
  it('reports failed checks of any kind as Target.FailedHealthChecks', async () => {
    const { clock, health, answer } = await setup({ healthCheckProtocol: 'HTTP', healthCheckPath: '/health' });
    answer('10.0.0.1', 500);
    answer('10.0.0.2', 'timeout');
    answer('10.0.0.3', 'refused');
    await clock.advance(2 * INTERVAL_MS + 5_000);
    expect([health('10.0.0.1'), health('10.0.0.2'), health('10.0.0.3')]).toEqual([FAILED, FAILED, FAILED]);
  });

  it('cuts the leases of a target that becomes unhealthy when connection termination is on (the TCP default)', async () => {
    const { clock, group, health, answer, leaseOn, events } = await setup();
    const { lease, cut } = leaseOn('10.0.0.1');
    const other = leaseOn('10.0.0.2');
    answer('10.0.0.1', 'refused');
    await clock.advance(INTERVAL_MS);
    expect(cut).toEqual([]);
    await clock.advance(INTERVAL_MS);
    expect(health('10.0.0.1')).toEqual(FAILED);
    expect(cut.map((e) => e.code)).toEqual([ErrorCodes.TARGET_UNHEALTHY]);
    expect(lease.target.outstanding).toBe(0);
    expect(other.cut).toEqual([]);
    expect(events.filter((e) => e.type === 'target.state_changed' && e.target.id === '10.0.0.1').map((e) => e.type === 'target.state_changed' && e.to.state)).toEqual(['unhealthy']);
    expect(group.failingOpen).toBe(false);
  });

  it('keeps the leases of an unhealthy target while the group fails open (all targets unhealthy)', async () => {
    const { clock, group, health, answer, leaseOn } = await setup({}, 1);
    const { cut } = leaseOn('10.0.0.1');
    answer('10.0.0.1', 'refused');
    await clock.advance(2 * INTERVAL_MS);
    expect(health('10.0.0.1')).toEqual(FAILED);
    expect(group.failingOpen).toBe(true);
    expect(cut).toEqual([]);
  });

  const drainingAttributes = {
    'target_health_state.unhealthy.connection_termination.enabled': 'false',
    'target_health_state.unhealthy.draining_interval_seconds': '30',
  };

  it('shows unhealthy.draining for draining_interval_seconds with the leases kept and no new flows, then unhealthy with the leases cut', async () => {
    const { clock, group, health, answer, leaseOn, pickable, events } = await setup({ attributes: drainingAttributes });
    const { lease, cut } = leaseOn('10.0.0.1');
    answer('10.0.0.1', 'refused');
    await clock.advance(2 * INTERVAL_MS);
    expect(health('10.0.0.1')).toEqual(UNHEALTHY_DRAINING);
    expect(cut).toEqual([]);
    expect(pickable()).toEqual(['10.0.0.2', '10.0.0.3']);
    expect(group.unhealthyHostCount).toBe(1);
    await clock.advance(29_999);
    expect(health('10.0.0.1')).toEqual(UNHEALTHY_DRAINING);
    expect(cut).toEqual([]);
    await clock.advance(1);
    expect(health('10.0.0.1')).toEqual(FAILED);
    expect(cut.map((e) => e.code)).toEqual([ErrorCodes.TARGET_UNHEALTHY]);
    expect(lease.target.outstanding).toBe(0);
    const states = events.filter((e) => e.type === 'target.state_changed' && e.target.id === '10.0.0.1').map((e) => e.type === 'target.state_changed' && [e.from.state, e.to.state]);
    expect(states).toEqual([
      ['healthy', 'unhealthy.draining'],
      ['unhealthy.draining', 'unhealthy'],
    ]);
  });

  it('returns an unhealthy.draining target to healthy when it passes healthyThresholdCount checks within the interval, keeping its leases', async () => {
    const { clock, health, answer, leaseOn, pickable } = await setup({ attributes: drainingAttributes });
    const { cut } = leaseOn('10.0.0.1');
    answer('10.0.0.1', 'refused');
    await clock.advance(2 * INTERVAL_MS);
    expect(health('10.0.0.1')).toEqual(UNHEALTHY_DRAINING);
    answer('10.0.0.1', 'ok');
    await clock.advance(INTERVAL_MS);
    expect(health('10.0.0.1')).toEqual(UNHEALTHY_DRAINING);
    await clock.advance(INTERVAL_MS);
    expect(health('10.0.0.1')).toEqual(HEALTHY);
    await clock.advance(60_000);
    expect(health('10.0.0.1')).toEqual(HEALTHY);
    expect(cut).toEqual([]);
    expect(pickable()).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3']);
  });

  it('ends unhealthy.draining at once with the default interval of 0', async () => {
    const { clock, health, answer, leaseOn } = await setup({ attributes: { 'target_health_state.unhealthy.connection_termination.enabled': 'false' } });
    const { cut } = leaseOn('10.0.0.1');
    answer('10.0.0.1', 'refused');
    await clock.advance(2 * INTERVAL_MS);
    expect(health('10.0.0.1')).toEqual(FAILED);
    expect(cut).toHaveLength(1);
  });

  it('takes a target that fails its initial checks straight to unhealthy (it has nothing to drain)', async () => {
    const { clock, group, health, answer } = await setup({ attributes: drainingAttributes });
    answer('10.0.0.9', 'refused');
    group.register([{ id: '10.0.0.9' }]);
    expect(health('10.0.0.9')).toEqual(INITIAL_CHECKING);
    await clock.advance(INTERVAL_MS);
    expect(health('10.0.0.9')).toEqual(FAILED);
  });

  it('stops unhealthy.draining when the target is deregistered: it shows draining and follows the deregistration delay', async () => {
    const { clock, group, health, answer, leaseOn } = await setup({ attributes: { ...drainingAttributes, 'deregistration_delay.timeout_seconds': '60' } });
    const { cut } = leaseOn('10.0.0.1');
    answer('10.0.0.1', 'refused');
    await clock.advance(2 * INTERVAL_MS);
    expect(health('10.0.0.1')).toEqual(UNHEALTHY_DRAINING);
    const outcome = group.deregister([{ id: '10.0.0.1' }]);
    expect(health('10.0.0.1')).toMatchObject({ state: 'draining' });
    await clock.advance(30_000);
    expect(cut).toEqual([]);
    await clock.advance(30_000);
    expect(await outcome).toEqual([{ target: { id: '10.0.0.1', port: 80 }, result: 'drained', cutRequests: 0, remaining: 1 }]);
    expect(cut).toEqual([]);
  });
});

describe('NLB deregistration (spec 4.2)', () => {
  it('keeps leases past the delay when deregistration_delay.connection_termination is off (the TCP default), and reports them as remaining', async () => {
    const { clock, group, leaseOn, pickable } = await setup({ attributes: { 'deregistration_delay.timeout_seconds': '60' } });
    const { lease, cut } = leaseOn('10.0.0.1');
    const outcome = group.deregister([{ id: '10.0.0.1' }]);
    expect(pickable()).toEqual(['10.0.0.2', '10.0.0.3']);
    await clock.advance(60_000);
    expect(await outcome).toEqual([{ target: { id: '10.0.0.1', port: 80 }, result: 'drained', cutRequests: 0, remaining: 1 }]);
    expect(cut).toEqual([]);
    expect(group.describeTargetHealth().map((d) => d.target.id)).toEqual(['10.0.0.2', '10.0.0.3']);
    expect(group.describeTargetHealth([{ id: '10.0.0.1', port: 80 }])[0]!.targetHealth.state).toBe('unused');
    // The flow ends on its own later; releasing the lease of a removed target is harmless.
    lease.release();
    expect(lease.target.outstanding).toBe(0);
  });

  it.each([
    ['TCP with connection_termination on', 'TCP', { 'deregistration_delay.connection_termination.enabled': 'true' }],
    ['UDP (on by default)', 'UDP', {}],
  ])('cuts leases when the delay ends: %s', async (_name, protocol, attributes) => {
    const { clock, group, leaseOn } = await setup({
      protocol,
      healthCheckProtocol: 'TCP',
      attributes: { 'deregistration_delay.timeout_seconds': '60', ...attributes },
    });
    const { cut } = leaseOn('10.0.0.1');
    const outcome = group.deregister([{ id: '10.0.0.1' }]);
    await clock.advance(59_999);
    expect(cut).toEqual([]);
    await clock.advance(1);
    expect(await outcome).toEqual([{ target: { id: '10.0.0.1', port: 80 }, result: 'cut', cutRequests: 1 }]);
    expect(cut.map((e) => e.code)).toEqual([ErrorCodes.DEREGISTRATION_DELAY_ELAPSED]);
  });
});
