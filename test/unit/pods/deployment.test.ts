import { describe, expect, it } from 'vitest';
import type { VirtualClock } from '../../../src/core/clock.ts';
import { ErrorCodes } from '../../../src/core/errors.ts';
import type { Deployment } from '../../../src/pods/deployment.ts';
import { IGNORE_SIGTERM } from '../../support/fake-runtime.ts';
import { podWorld, podsSpec, type PodsInput } from '../../support/pods.ts';

const S = 1000;
const NAME = /^web-r1-[bcdfghjklmnpqrstvwxz2456789]{5}$/;

/** Advances the clock a second at a time until `p` settles; fails after `maxSeconds`. */
async function settle<T>(clock: VirtualClock, p: Promise<T>, maxSeconds = 600): Promise<T> {
  let done = false;
  let value: T | undefined;
  let error: unknown;
  let failed = false;
  p.then(
    (v) => {
      done = true;
      value = v;
    },
    (err) => {
      done = true;
      failed = true;
      error = err;
    },
  );
  for (let i = 0; i < maxSeconds && !done; i++) await clock.advance(S);
  await clock.advance(0);
  if (!done) throw new Error(`still pending after ${maxSeconds} s of virtual time`);
  if (failed) throw error;
  return value as T;
}

const live = (d: Deployment) => d.pods().filter((p) => !p.terminating);
const ready = (d: Deployment) => d.pods().filter((p) => p.ready);

/** A readiness probe that passes 2 s after start, then every second. */
const READY_AFTER_2S: PodsInput['readinessProbe'] = { httpGet: { path: '/ready' }, initialDelaySeconds: 2, periodSeconds: 1 };

describe('Deployment start', () => {
  it('creates `replicas` pods named <tg>-r1-xxxxx, each on its own IP and the same port', () => {
    const w = podWorld();
    const d = w.deployment(podsSpec({ replicas: 3, port: 8080 }));
    d.start();
    const pods = d.status();
    expect(pods).toHaveLength(3);
    for (const p of pods) {
      expect(p.name).toMatch(NAME);
      expect(p).toMatchObject({ revision: 1, phase: 'Running', port: 8080, ready: true });
    }
    expect(new Set(pods.map((p) => p.ip)).size).toBe(3);
    expect(new Set(pods.map((p) => p.name)).size).toBe(3);
    expect(w.runtime.containers()).toHaveLength(3);
    for (const c of w.runtime.containers()) expect(c.spec.env['TARGET_GROUP']).toBe('web');
  });

  it('creates nothing for 0 replicas', () => {
    const w = podWorld();
    const d = w.deployment(podsSpec({ replicas: 0 }));
    d.start();
    expect(d.pods()).toEqual([]);
  });

  it('waitReady resolves once every replica is ready', async () => {
    const w = podWorld();
    const d = w.deployment(podsSpec({ replicas: 2, readinessProbe: READY_AFTER_2S }));
    d.start();
    let readyAtMs: number | undefined;
    void d.waitReady(10 * S).then(() => (readyAtMs = w.clock.now()));
    await w.clock.advance(10 * S);
    expect(readyAtMs).toBe(2 * S);
  });

  it('waitReady rejects with ELB_ERR_PODS_NOT_READY naming the pods when they are not ready in time', async () => {
    const w = podWorld();
    w.prober.answerAll(false);
    const d = w.deployment(podsSpec({ replicas: 2, readinessProbe: READY_AFTER_2S }));
    d.start();
    const rejected = expect(d.waitReady(5 * S)).rejects.toMatchObject({ code: ErrorCodes.PODS_NOT_READY, message: expect.stringMatching(/web-r1-\w{5} Running not-ready/) });
    await w.clock.advance(5 * S);
    await rejected;
  });
});

describe('Deployment keeps its replicas', () => {
  it('replaces a deleted pod at once, while the deleted one goes through its termination sequence', async () => {
    const w = podWorld({ onSigterm: IGNORE_SIGTERM });
    const d = w.deployment(podsSpec({ replicas: 2, lifecycle: { preStop: { sleep: { seconds: 5 } } } }));
    d.start();
    await w.clock.advance(1 * S);
    const [victim, other] = d.pods();
    const deleted = d.deletePod(victim!.name);
    expect(live(d)).toHaveLength(2);
    expect(d.pods()).toHaveLength(3);
    expect(victim!.terminating).toBe(true);
    const replacement = live(d).find((p) => p !== other)!;
    expect(replacement.name).toMatch(NAME);
    expect(replacement.ip).not.toBe(victim!.ip);
    expect(w.first('pod.created', replacement.name)?.timeMs).toBe(1 * S);
    await settle(w.clock, deleted);
    expect(w.clock.now()).toBe(31 * S);
    expect(d.pods()).toEqual([other, replacement]);
  });

  it('restarts a crashed pod in place instead of replacing it', async () => {
    const w = podWorld();
    const d = w.deployment(podsSpec({ replicas: 2 }));
    d.start();
    const [first] = d.pods();
    w.runtime.container(first!.name).crash(1);
    await w.clock.advance(2 * S);
    expect(d.pods()).toHaveLength(2);
    expect(d.pods()[0]).toBe(first);
    expect(first!.status()).toMatchObject({ restartCount: 1, ready: true });
  });

  it('throws ELB_ERR_NOT_FOUND for deletePod of an unknown pod, listing the pods', () => {
    const w = podWorld();
    const d = w.deployment(podsSpec({ replicas: 1 }));
    d.start();
    expect(() => d.deletePod('web-r1-nope0')).toThrow(expect.objectContaining({ code: ErrorCodes.NOT_FOUND, message: expect.stringContaining(d.pods()[0]!.name) }));
  });

  it('scales up by creating pods of the current revision', () => {
    const w = podWorld();
    const d = w.deployment(podsSpec({ replicas: 2 }));
    d.start();
    d.scale(5);
    expect(d.replicas).toBe(5);
    expect(live(d)).toHaveLength(5);
    expect(new Set(d.pods().map((p) => p.ip)).size).toBe(5);
  });

  it('scales down by deleting not-ready pods first', async () => {
    const w = podWorld();
    const d = w.deployment(podsSpec({ replicas: 4, readinessProbe: { tcpSocket: {}, periodSeconds: 1, failureThreshold: 1 } }));
    d.start();
    await w.clock.advance(1 * S);
    const [a, b, c, e] = d.pods();
    w.prober.answer(b!.ip, false);
    w.prober.answer(e!.ip, false);
    await w.clock.advance(1 * S);
    expect(ready(d)).toEqual([a, c]);
    d.scale(2);
    expect(live(d)).toEqual([a, c]);
    expect(b!.terminating && e!.terminating).toBe(true);
  });

  it('scales down by deleting the newest pods first when all are ready', () => {
    const w = podWorld();
    const d = w.deployment(podsSpec({ replicas: 2 }));
    d.start();
    d.scale(4);
    const [a, b] = d.pods();
    d.scale(2);
    expect(live(d)).toEqual([a, b]);
  });

  it.each([-1, 101, 1.5])('rejects scale(%s) with ELB_ERR_INVALID_ARGUMENT', (n) => {
    const w = podWorld();
    const d = w.deployment(podsSpec());
    expect(() => d.scale(n)).toThrow(expect.objectContaining({ code: ErrorCodes.INVALID_ARGUMENT, message: `replicas must be an integer 0–100: got ${n}` }));
  });

  it('close deletes every pod with the given grace period and creates no replacements', async () => {
    const w = podWorld({ onSigterm: IGNORE_SIGTERM });
    const d = w.deployment(podsSpec({ replicas: 3 }));
    d.start();
    await d.close(0);
    expect(d.pods()).toEqual([]);
    expect(w.runtime.containers()).toHaveLength(3);
    for (const c of w.runtime.containers()) expect(c.signalNames).toEqual(['SIGKILL']);
  });
});

type RolloutCase = {
  replicas: number;
  maxSurge: number | string;
  maxUnavailable: number | string;
  /** The most non-terminating pods at any moment: replicas + surge (rounded up). */
  maxLive: number;
  /** The fewest ready pods at any moment: replicas − unavailable (rounded down). */
  minReady: number;
};

const rolloutCases: RolloutCase[] = [
  { replicas: 3, maxSurge: 1, maxUnavailable: 0, maxLive: 4, minReady: 3 },
  { replicas: 3, maxSurge: 0, maxUnavailable: 1, maxLive: 3, minReady: 2 },
  { replicas: 3, maxSurge: '25%', maxUnavailable: '25%', maxLive: 4, minReady: 3 },
  { replicas: 4, maxSurge: '25%', maxUnavailable: '25%', maxLive: 5, minReady: 3 },
  { replicas: 3, maxSurge: '50%', maxUnavailable: '50%', maxLive: 5, minReady: 2 },
  { replicas: 10, maxSurge: '25%', maxUnavailable: '25%', maxLive: 13, minReady: 8 },
  { replicas: 2, maxSurge: '0%', maxUnavailable: '50%', maxLive: 2, minReady: 1 },
  { replicas: 1, maxSurge: 1, maxUnavailable: 0, maxLive: 2, minReady: 1 },
];

/** Starts a deployment, waits until it is ready, rolls it out and watches every pod change. */
async function rolloutWatched(pods: PodsInput) {
  const w = podWorld();
  const d = w.deployment(podsSpec(pods));
  d.start();
  await settle(w.clock, d.waitReady(60 * S));
  const seen = { maxLive: live(d).length, minReady: ready(d).length };
  d.onPodChange(() => {
    seen.maxLive = Math.max(seen.maxLive, live(d).length);
    seen.minReady = Math.min(seen.minReady, ready(d).length);
  });
  const startedAtMs = w.clock.now();
  await settle(w.clock, d.rollout());
  return { w, d, seen, startedAtMs };
}

describe('Deployment rollout', () => {
  it.each(rolloutCases)(
    'with $replicas replicas, maxSurge $maxSurge and maxUnavailable $maxUnavailable never has more than $maxLive live pods nor fewer than $minReady ready ones',
    async ({ replicas, maxSurge, maxUnavailable, maxLive, minReady }) => {
      const { d, seen } = await rolloutWatched({
        replicas,
        strategy: { rollingUpdate: { maxSurge, maxUnavailable } },
        readinessProbe: READY_AFTER_2S,
        lifecycle: { preStop: { sleep: { seconds: 3 } } },
      });
      expect(seen).toEqual({ maxLive, minReady });
      expect(d.status().map((p) => [p.revision, p.ready])).toEqual(Array.from({ length: replicas }, () => [2, true]));
    },
  );

  it('ends with every pod of revision 2 ready, the old ones terminated, and rollout.started/finished on the timeline', async () => {
    const { w, d, startedAtMs } = await rolloutWatched({ replicas: 3, strategy: { rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } }, readinessProbe: READY_AFTER_2S });
    expect(d.revision).toBe(2);
    expect(d.pods().every((p) => /^web-r2-\w{5}$/.test(p.name) && p.ready)).toBe(true);
    const old = w.runtime.containers().filter((c) => /^web-r1-/.test(c.spec.env['POD_NAME']!));
    expect(old).toHaveLength(3);
    expect(old.every((c) => !c.running)).toBe(true);
    const marks = w.timeline.events().filter((e) => e.kind.startsWith('rollout.'));
    expect(marks.map((e) => [e.kind, e.detail])).toEqual([
      ['rollout.started', 'web revision 2'],
      ['rollout.finished', 'web revision 2'],
    ]);
    expect(marks[0]!.timeMs).toBe(startedAtMs);
    const lastTerminated = Math.max(...w.timeline.events().filter((e) => e.kind === 'pod.terminated').map((e) => e.timeMs));
    expect(marks[1]!.timeMs).toBe(lastTerminated);
  });

  it('replaces one pod at a time with maxSurge 1 / maxUnavailable 0: an old pod is deleted only when a new one is ready', async () => {
    const { w } = await rolloutWatched({ replicas: 2, strategy: { rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } }, readinessProbe: READY_AFTER_2S });
    const steps = w.timeline
      .events()
      .filter((e) => (e.kind === 'pod.ready' && e.pod?.includes('-r2-')) || (e.kind === 'pod.deleting' && e.pod?.includes('-r1-')))
      .map((e) => e.kind);
    expect(steps).toEqual(['pod.ready', 'pod.deleting', 'pod.ready', 'pod.deleting']);
  });

  it('completes when new pods are ready at once (no readinessProbe)', async () => {
    const { d, seen } = await rolloutWatched({ replicas: 3, strategy: { rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } });
    expect(seen).toEqual({ maxLive: 4, minReady: 3 });
    expect(d.status().map((p) => p.revision)).toEqual([2, 2, 2]);
  });

  it('keeps every old pod while new pods never turn ready (maxUnavailable 0)', async () => {
    const w = podWorld();
    const d = w.deployment(podsSpec({ replicas: 2, strategy: { rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } }, readinessProbe: READY_AFTER_2S }));
    d.start();
    await settle(w.clock, d.waitReady(60 * S));
    const old = d.pods();
    let finished = false;
    w.runtime.onSigterm = IGNORE_SIGTERM;
    const rolling = d.rollout();
    void rolling.then(() => (finished = true));
    const fresh = live(d).filter((p) => p.revision === 2);
    expect(fresh).toHaveLength(1);
    w.prober.answer(fresh[0]!.ip, false);
    await w.clock.advance(600 * S);
    expect(finished).toBe(false);
    expect(old.every((p) => p.ready)).toBe(true);
    expect(live(d)).toHaveLength(3);
    expect(d.rollout()).toBe(rolling);
  });
});
