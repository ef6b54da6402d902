import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/core/logger.ts';
import type { Pod } from '../../../src/pods/pod.ts';
import { PodTargetSource } from '../../../src/pods/target-source.ts';
import type { TargetHealth } from '../../../src/targets/health.ts';
import type { Probe } from '../../../src/targets/health-checker.ts';
import { TargetGroup } from '../../../src/targets/target-group.ts';
import { IGNORE_SIGTERM } from '../../support/fake-runtime.ts';
import { podTargetGroupConfig, podWorld, type PodsInput, type PropagationInput } from '../../support/pods.ts';

const S = 1000;

const NOT_REGISTERED: TargetHealth = { state: 'unused', reason: 'Target.NotRegistered', description: 'Target is not registered to the target group' };
const HEALTHY: TargetHealth = { state: 'healthy' };
const DRAINING: TargetHealth = { state: 'draining', reason: 'Target.DeregistrationInProgress', description: 'Target deregistration is in progress' };

const closers: Array<() => void> = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

/**
 * A Deployment of `web` pods feeding a real TargetGroup (in use by `app`) through a
 * PodTargetSource, all on one virtual clock. Health checks every 5 s, answered by `healthy`
 * per target key (ok unless set to false); deregistration delay 300 s.
 */
function sourceWorld(pods: PodsInput, propagation: PropagationInput, tg: Record<string, unknown> = {}) {
  const w = podWorld({ onSigterm: IGNORE_SIGTERM });
  const config = podTargetGroupConfig(
    { replicas: 1, ...pods },
    { propagation, healthCheckIntervalSeconds: 5, healthCheckTimeoutSeconds: 2, healthyThresholdCount: 2, unhealthyThresholdCount: 2, ...tg },
  );
  const healthy = new Map<string, boolean>();
  const probe: Probe = (target) =>
    Promise.resolve(healthy.get(`${target.id}:${target.port}`) === false ? { ok: false, failure: 'code', statusCode: 503 } : { ok: true, statusCode: 200 });
  const group = new TargetGroup({ config, clock: w.clock, probe });
  group.setLoadBalancers(['app']);
  const deployment = w.deployment(config.pods!);
  const source = new PodTargetSource({
    deployment,
    group,
    propagation: config.propagation!,
    readinessGate: config.pods!.readinessGate,
    clock: w.clock,
    timeline: w.timeline,
    logger: silentLogger(),
  });
  closers.push(() => {
    source.close();
    group.close();
  });
  const health = (pod: Pod) => group.describeTargetHealth([{ id: pod.ip, port: pod.port }])[0]!.targetHealth;
  /** Advances to the absolute virtual time `seconds`. */
  const at = (seconds: number) => w.clock.advance(seconds * S - w.clock.now());
  return { ...w, group, deployment, source, health, at, healthy };
}

describe('PodTargetSource registration', () => {
  it.each([
    { endpointsDelaySeconds: 1, registrationDelaySeconds: 0, registeredAt: 6 },
    { endpointsDelaySeconds: 1, registrationDelaySeconds: 2, registeredAt: 8 },
    { endpointsDelaySeconds: 0, registrationDelaySeconds: 0, registeredAt: 5 },
    { endpointsDelaySeconds: 2.5, registrationDelaySeconds: 1, registeredAt: 8.5 },
  ])(
    'registers a pod that turns ready at 5 s at $registeredAt s (endpointsDelaySeconds $endpointsDelaySeconds + registrationDelaySeconds $registrationDelaySeconds), not before',
    async ({ endpointsDelaySeconds, registrationDelaySeconds, registeredAt }) => {
      const w = sourceWorld({ readinessProbe: { httpGet: { path: '/ready' }, initialDelaySeconds: 5, periodSeconds: 1 } }, { endpointsDelaySeconds, registrationDelaySeconds });
      w.deployment.start();
      const [pod] = w.deployment.pods();
      await w.at(5);
      expect(pod!.ready).toBe(true);
      if (registeredAt > 5) {
        await w.at(registeredAt - 0.001);
        expect(w.health(pod!)).toEqual(NOT_REGISTERED);
        expect(w.group.targets()).toEqual([]);
      }
      await w.at(registeredAt);
      expect(w.health(pod!)).toEqual(HEALTHY);
      expect(w.events(pod!.name, ['pod.ready', 'endpoint.ready', 'target.register'])).toEqual([
        ['pod.ready', 5],
        ['endpoint.ready', 5 + endpointsDelaySeconds],
        ['target.register', registeredAt],
      ]);
      expect(w.source.podFor(`${pod!.ip}:${pod!.port}`)).toBe(pod);
    },
  );

  it('does not register a pod whose readiness probe never passes', async () => {
    const w = sourceWorld({ readinessProbe: { tcpSocket: {}, periodSeconds: 1 } }, { endpointsDelaySeconds: 1 });
    w.prober.answerAll(false);
    w.deployment.start();
    await w.at(60);
    expect(w.group.targets()).toEqual([]);
    expect(w.events(undefined, ['endpoint.ready', 'target.register'])).toEqual([]);
  });

  it('deregisters a pod that turns not ready after endpointsDelaySeconds + deregistrationLagSeconds, and registers it again when it recovers', async () => {
    const w = sourceWorld({ readinessProbe: { tcpSocket: {}, periodSeconds: 1, failureThreshold: 1 } }, { endpointsDelaySeconds: 1, deregistrationLagSeconds: 2 });
    w.deployment.start();
    const [pod] = w.deployment.pods();
    await w.at(10);
    expect(w.health(pod!)).toEqual(HEALTHY);
    w.prober.answer(pod!.ip, false);
    await w.at(11); // not ready at 11
    await w.at(13.999);
    expect(w.health(pod!)).toEqual(HEALTHY);
    await w.at(14);
    expect(w.health(pod!)).toEqual(DRAINING);
    w.prober.answer(pod!.ip, true);
    await w.at(20); // ready at 15, endpoint at 16, registered again at 16
    expect(w.health(pod!)).toEqual(HEALTHY);
    expect(w.events(pod!.name, ['pod.not_ready', 'endpoint.not_ready', 'target.deregister', 'pod.ready', 'endpoint.ready', 'target.register']).slice(3)).toEqual([
      ['pod.not_ready', 11],
      ['endpoint.not_ready', 12],
      ['target.deregister', 14],
      ['pod.ready', 15],
      ['endpoint.ready', 16],
      ['target.register', 16],
    ]);
  });
});

describe('PodTargetSource deregistration on deletion', () => {
  it.each([
    { endpointsDelaySeconds: 1, deregistrationLagSeconds: 0, deregisteredAt: 21 },
    { endpointsDelaySeconds: 1, deregistrationLagSeconds: 3, deregisteredAt: 24 },
    { endpointsDelaySeconds: 0, deregistrationLagSeconds: 0, deregisteredAt: 20 },
  ])(
    'deregisters a pod deleted at 20 s at $deregisteredAt s (endpointsDelaySeconds $endpointsDelaySeconds + deregistrationLagSeconds $deregistrationLagSeconds) and its target shows draining',
    async ({ endpointsDelaySeconds, deregistrationLagSeconds, deregisteredAt }) => {
      const w = sourceWorld({ lifecycle: { preStop: { sleep: { seconds: 10 } } } }, { endpointsDelaySeconds, deregistrationLagSeconds });
      w.deployment.start();
      const [pod] = w.deployment.pods();
      await w.at(20);
      expect(w.health(pod!)).toEqual(HEALTHY);
      void w.deployment.deletePod(pod!.name);
      if (deregisteredAt > 20) {
        await w.at(deregisteredAt - 0.001);
        expect(w.health(pod!)).toEqual(HEALTHY);
      }
      await w.at(deregisteredAt);
      expect(w.health(pod!)).toEqual(DRAINING);
      expect(w.events(pod!.name, ['pod.deleting', 'endpoint.terminating', 'target.deregister'])).toEqual([
        ['pod.deleting', 20],
        ['endpoint.terminating', 20 + endpointsDelaySeconds],
        ['target.deregister', deregisteredAt],
      ]);
      const podTarget = { name: pod!.name, phase: 'Terminating', terminating: true };
      const found = w.source.podFor(`${pod!.ip}:${pod!.port}`);
      expect(found && { name: found.name, phase: found.phase, terminating: found.terminating }).toEqual(podTarget);
      // The pod is killed at 50 s while its target drains for 300 s.
      await w.at(60);
      expect(pod!.phase).toBe('Terminated');
      expect(w.health(pod!)).toEqual(DRAINING);
      await w.at(deregisteredAt + 300);
      expect(w.health(pod!)).toEqual(NOT_REGISTERED);
    },
  );

  it('registers the replacement of a deleted pod while the deleted one drains', async () => {
    const w = sourceWorld({}, { endpointsDelaySeconds: 1 });
    w.deployment.start();
    const [old] = w.deployment.pods();
    await w.at(5);
    void w.deployment.deletePod(old!.name);
    const replacement = w.deployment.pods().find((p) => p !== old)!;
    await w.at(6);
    expect(w.health(old!)).toEqual(DRAINING);
    expect(w.health(replacement)).toEqual(HEALTHY);
  });

  it.each([
    { name: 'after its endpoint turned ready', deleteAt: 2 },
    { name: 'before its endpoint turned ready', deleteAt: 0.5 },
  ])('does not apply a registration that would land after the pod started terminating ($name)', async ({ deleteAt }) => {
    const w = sourceWorld({}, { endpointsDelaySeconds: 1, registrationDelaySeconds: 5 });
    w.deployment.start(); // ready at 0 → endpoint ready at 1 → registration due at 6
    const [pod] = w.deployment.pods();
    await w.at(deleteAt);
    void w.deployment.deletePod(pod!.name);
    await w.at(10);
    expect(w.events(pod!.name, ['target.register'])).toEqual([]);
    expect(w.health(pod!)).toEqual(NOT_REGISTERED);
    expect(w.group.targets().map((t) => t.id)).not.toContain(pod!.ip);
  });
});

describe('PodTargetSource with the readiness gate (spec 9.5)', () => {
  it('registers a pod whose containers are ready but whose gate is pending, and the pod turns ready when its target is healthy', async () => {
    const w = sourceWorld({ readinessGate: true }, { endpointsDelaySeconds: 1, registrationDelaySeconds: 2 }, { emulator: { registrationDelaySeconds: 10 } });
    w.deployment.start();
    const [pod] = w.deployment.pods();
    expect(pod!.status()).toMatchObject({ containersReady: true, ready: false });
    await w.at(3); // registered at 3, in Elb.RegistrationInProgress for 10 s
    expect(w.health(pod!)).toMatchObject({ state: 'initial', reason: 'Elb.RegistrationInProgress' });
    expect(pod!.ready).toBe(false);
    await w.at(12.999);
    expect(pod!.ready).toBe(false);
    await w.at(13);
    expect(w.health(pod!)).toEqual(HEALTHY);
    expect(pod!.ready).toBe(true);
    // The EndpointSlice says ready only once the pod is Ready (gate True), a lag later.
    await w.at(14);
    expect(w.events(pod!.name, ['pod.containers_ready', 'endpoint.ready', 'target.register', 'pod.ready'])).toEqual([
      ['pod.containers_ready', 0],
      ['target.register', 3],
      ['pod.ready', 13],
      ['endpoint.ready', 14],
    ]);
    expect(w.timeline.events().filter((e) => e.kind === 'target.state_changed' && e.pod === pod!.name).map((e) => [e.timeMs / S, e.detail])).toEqual([
      [13, `${pod!.ip}:8080 initial -> healthy`],
    ]);
  });

  it.each([
    { registrationDelaySeconds: 0, registeredAt: 5 },
    { registrationDelaySeconds: 2, registeredAt: 7 },
  ])(
    'registers a gated pod when its containers turn ready, at $registeredAt s: the controller reads ContainersReady from the pod, not from the EndpointSlice (endpointsDelaySeconds 3 does not count)',
    async ({ registrationDelaySeconds, registeredAt }) => {
      const w = sourceWorld(
        { readinessGate: true, readinessProbe: { httpGet: { path: '/ready' }, initialDelaySeconds: 5, periodSeconds: 1 } },
        { endpointsDelaySeconds: 3, registrationDelaySeconds },
      );
      w.deployment.start(); // in the EndpointSlice (not ready) at 3; containers ready at 5
      const [pod] = w.deployment.pods();
      await w.at(registeredAt - 0.001);
      expect(w.health(pod!)).toEqual(NOT_REGISTERED);
      await w.at(registeredAt);
      expect(w.group.targets().map((t) => t.id)).toEqual([pod!.ip]);
      expect(w.events(pod!.name, ['pod.containers_ready', 'target.register'])).toEqual([
        ['pod.containers_ready', 5],
        ['target.register', registeredAt],
      ]);
    },
  );

  it('registers a gated pod whose containers are ready before it reaches the EndpointSlice only when it does', async () => {
    const w = sourceWorld({ readinessGate: true }, { endpointsDelaySeconds: 3, registrationDelaySeconds: 1 });
    w.deployment.start(); // containers ready at 0, in the EndpointSlice at 3
    const [pod] = w.deployment.pods();
    await w.at(3.999);
    expect(w.health(pod!)).toEqual(NOT_REGISTERED);
    await w.at(4);
    expect(w.events(pod!.name, ['target.register'])).toEqual([['target.register', 4]]);
  });

  it('keeps the pod not ready but registered while its target is unhealthy, and ready again when it recovers', async () => {
    const w = sourceWorld({ readinessGate: true }, { endpointsDelaySeconds: 0 });
    w.deployment.start();
    const [pod] = w.deployment.pods();
    await w.at(1);
    expect(pod!.ready).toBe(true);
    const key = `${pod!.ip}:${pod!.port}`;
    w.healthy.set(key, false);
    await w.at(10); // fails at 5 and 10 → unhealthy
    expect(w.health(pod!).state).toBe('unhealthy');
    expect(pod!.status()).toMatchObject({ ready: false, containersReady: true });
    expect(w.group.targets().map((t) => t.registration)).toEqual(['registered']);
    w.healthy.set(key, true);
    await w.at(20); // passes at 15 and 20 → healthy
    expect(w.health(pod!)).toEqual(HEALTHY);
    expect(pod!.ready).toBe(true);
  });

  it('makes a rollout (maxSurge 1, maxUnavailable 0) delete an old pod only after a new pod’s target is healthy', async () => {
    const w = sourceWorld({ replicas: 2, readinessGate: true, strategy: { rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } }, { endpointsDelaySeconds: 1, registrationDelaySeconds: 1 });
    w.deployment.start();
    await w.at(5);
    let done = false;
    void w.deployment.rollout().then(() => (done = true));
    for (let i = 0; i < 120 && !done; i++) await w.clock.advance(S);
    expect(done).toBe(true);
    const events = w.timeline.events();
    const healthyNew = events.filter((e) => e.kind === 'target.state_changed' && e.pod?.includes('-r2-') && e.detail?.endsWith('-> healthy')).map((e) => e.timeMs);
    const deletedOld = events.filter((e) => e.kind === 'pod.deleting' && e.pod?.includes('-r1-')).map((e) => e.timeMs);
    expect(healthyNew).toHaveLength(2);
    expect(deletedOld).toHaveLength(2);
    expect(deletedOld[0]).toBeGreaterThanOrEqual(healthyNew[0]!);
    expect(deletedOld[1]).toBeGreaterThanOrEqual(healthyNew[1]!);
    expect(w.group.healthyHostCount).toBe(2);
  });
});

describe('PodTargetSource close', () => {
  it('applies no pending registration after close', async () => {
    const w = sourceWorld({}, { endpointsDelaySeconds: 1, registrationDelaySeconds: 5 });
    w.deployment.start();
    await w.at(2);
    w.source.close();
    await w.at(10);
    expect(w.group.targets()).toEqual([]);
  });
});
