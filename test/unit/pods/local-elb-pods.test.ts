/**
 * LocalElb with local pods, on a virtual clock with the fake runtime and scripted probes: the
 * wiring of Deployment, PodTargetSource and the target group, rollouts and close. The only
 * socket is the ALB listener on 127.0.0.1:0 that puts the target group in use.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/core/clock.ts';
import { ErrorCodes } from '../../../src/core/errors.ts';
import type { ConfigInput } from '../../../src/config/schema.ts';
import { startLocalElb, type LocalElb } from '../../../src/local-elb.ts';
import type { Probe } from '../../../src/targets/health-checker.ts';
import { FakeRuntime, IGNORE_SIGTERM, ScriptedProber } from '../../support/fake-runtime.ts';
import type { PodsInput } from '../../support/pods.ts';

const S = 1000;

const opened: LocalElb[] = [];
afterEach(async () => {
  for (const elb of opened.splice(0)) await elb.close();
});

function config(pods: PodsInput = {}): ConfigInput {
  return {
    targetGroups: [
      {
        name: 'web',
        protocol: 'HTTP',
        port: 80,
        healthCheckIntervalSeconds: 5,
        healthCheckTimeoutSeconds: 2,
        pods: {
          command: ['app'],
          replicas: 2,
          readinessProbe: { httpGet: { path: '/ready' }, initialDelaySeconds: 1, periodSeconds: 1 },
          lifecycle: { preStop: { sleep: { seconds: 5 } } },
          strategy: { rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
          ...pods,
        },
        propagation: { endpointsDelaySeconds: 1, registrationDelaySeconds: 0, deregistrationLagSeconds: 0 },
      },
    ],
    loadBalancers: [{ name: 'app', listeners: [{ port: 0, defaultActions: [{ type: 'forward', targetGroupName: 'web' }] }] }],
  };
}

async function start(pods: PodsInput = {}) {
  const clock = new VirtualClock();
  const runtime = new FakeRuntime(clock, { onSigterm: IGNORE_SIGTERM });
  const prober = new ScriptedProber(clock);
  const probe: Probe = () => Promise.resolve({ ok: true, statusCode: 200 });
  const elb = await startLocalElb({ config: config(pods), clock, podRuntime: runtime, podProber: prober.prober, probe, waitForPodsMs: 0 });
  opened.push(elb);
  return { clock, runtime, prober, elb };
}

/** Advances a second at a time until `p` settles (at most `maxSeconds`); true if it did. */
async function settles(clock: VirtualClock, p: Promise<unknown>, maxSeconds = 300): Promise<boolean> {
  let done = false;
  void p.then(
    () => (done = true),
    () => (done = true),
  );
  for (let i = 0; i < maxSeconds && !done; i++) await clock.advance(S);
  return done;
}

describe('LocalElb with local pods', () => {
  it('starts the pods, registers them once ready, and reports them by target', async () => {
    const { clock, runtime, elb } = await start();
    expect(runtime.containers()).toHaveLength(2);
    expect(elb.pods('web').map((p) => p.phase)).toEqual(['Running', 'Running']);
    await clock.advance(3 * S); // ready at 1, endpoints at 2, registered and healthy at 2
    const group = elb.targetGroup('web');
    expect(group.healthyHostCount).toBe(2);
    const [first] = elb.pods('web');
    expect(elb.podForTarget(`${first!.ip}:${first!.port}`)).toEqual({ name: first!.name, phase: 'Running', terminating: false });
    expect(elb.podForTarget('10.0.0.1:80')).toBeUndefined();
    expect(elb.timeline.events().filter((e) => e.kind === 'target.register')).toHaveLength(2);
  });

  it('completes elb.rollout under clock advances, leaving two healthy revision-2 targets', async () => {
    const { clock, runtime, elb } = await start();
    await clock.advance(3 * S);
    expect(await settles(clock, elb.rollout('web'))).toBe(true);
    expect(elb.deployment('web').revision).toBe(2);
    expect(elb.pods('web').map((p) => [p.revision, p.ready])).toEqual([
      [2, true],
      [2, true],
    ]);
    const group = elb.targetGroup('web');
    expect(group.healthyHostCount).toBe(2);
    const healthyIps = group.describeTargetHealth().filter((d) => d.targetHealth.state === 'healthy').map((d) => d.target.id);
    expect(healthyIps.sort()).toEqual(elb.pods('web').map((p) => p.ip).sort());
    const kinds = elb.timeline.events().map((e) => e.kind);
    expect(kinds).toContain('rollout.started');
    expect(kinds).toContain('rollout.finished');
    // Old pods ignored SIGTERM: SIGTERM after the 5 s preStop, SIGKILL at the 30 s grace period.
    const revision1 = runtime.containers().filter((c) => c.spec.env['POD_NAME']!.includes('-r1-'));
    expect(revision1).toHaveLength(2);
    for (const c of revision1) {
      expect(c.signalNames).toEqual(['SIGTERM', 'SIGKILL']);
      expect(c.signals[1]!.timeMs - c.signals[0]!.timeMs).toBe(25 * S);
    }
  });

  it('elb.close() kills every pod process: each got SIGKILL or had exited', async () => {
    const { clock, runtime, elb } = await start();
    await clock.advance(3 * S);
    runtime.containers()[0]!.crash(1);
    await clock.advance(0);
    await elb.close();
    expect(runtime.running()).toEqual([]);
    for (const c of runtime.processes) expect(c.signalNames.includes('SIGKILL') || c.exit?.code === 1).toBe(true);
    expect(elb.pods('web')).toEqual([]);
  });

  it('elb.close() also kills a pod that is in the middle of its termination sequence', async () => {
    const { clock, runtime, elb } = await start({ lifecycle: { preStop: { sleep: { seconds: 20 } } } });
    await clock.advance(3 * S);
    const [first] = elb.pods('web');
    void elb.deployment('web').deletePod(first!.name);
    await clock.advance(1 * S);
    let closed = false;
    void elb.close().then(() => (closed = true));
    // No virtual time passes: the preStop sleep (until 24 s) must not hold close up.
    for (let i = 0; i < 50 && !closed; i++) await clock.advance(0);
    expect(closed).toBe(true);
    expect(clock.now()).toBe(4 * S);
    expect(runtime.running()).toEqual([]);
  });

  it('throws ELB_ERR_NOT_FOUND for a target group without pods', async () => {
    const { elb } = await start();
    expect(() => elb.rollout('nope')).toThrow(expect.objectContaining({ code: ErrorCodes.NOT_FOUND }));
  });

  it('waits for every pod to be ready and healthy in start() when waitForPodsMs is set', async () => {
    const clock = new VirtualClock();
    const runtime = new FakeRuntime(clock);
    const prober = new ScriptedProber(clock);
    const probe: Probe = () => Promise.resolve({ ok: true, statusCode: 200 });
    const starting = startLocalElb({ config: config(), clock, podRuntime: runtime, podProber: prober.prober, probe, waitForPodsMs: 30 * S });
    let elb: LocalElb | undefined;
    void starting.then((e) => opened.push((elb = e)));
    for (let i = 0; i < 100 && elb === undefined; i++) await clock.advance(100);
    expect(elb).toBeDefined();
    expect(elb!.targetGroup('web').healthyHostCount).toBe(2);
    expect(clock.now()).toBeLessThanOrEqual(3 * S);
  });
});
