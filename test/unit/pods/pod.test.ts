import { describe, expect, it } from 'vitest';
import type { TimelineKind } from '../../../src/pods/timeline.ts';
import { EXIT_AT_ONCE, IGNORE_SIGTERM, exitAfter, type SigtermBehaviour } from '../../support/fake-runtime.ts';
import { podWorld, podsSpec, TERMINATION_KINDS, type PodsInput } from '../../support/pods.ts';

const S = 1000;

describe('Pod start', () => {
  it('starts one container with PORT, HOST, POD_IP and POD_NAME, and is Running', () => {
    const w = podWorld();
    const pod = w.pod(podsSpec({ command: ['node', 'app.js'], port: 9000, env: { MODE: 'test' } }), 'web-r1-abcde');
    expect(pod.phase).toBe('Pending');
    pod.start();
    const [container] = w.runtime.containers();
    expect(w.runtime.containers()).toHaveLength(1);
    expect(container!.spec.command).toEqual(['node', 'app.js']);
    expect(container!.spec.env).toMatchObject({ MODE: 'test', PORT: '9000', HOST: pod.ip, POD_IP: pod.ip, POD_NAME: 'web-r1-abcde' });
    expect(pod.status()).toMatchObject({ name: 'web-r1-abcde', phase: 'Running', port: 9000, restartCount: 0, pid: container!.pid });
  });

  it('starts only once', () => {
    const w = podWorld();
    const pod = w.pod(podsSpec());
    pod.start();
    pod.start();
    expect(w.runtime.containers()).toHaveLength(1);
  });

  it('passes what the container prints to the output sink, by pod', () => {
    const w = podWorld();
    const pod = w.pod(podsSpec(), 'web-r1-print');
    pod.start();
    w.runtime.container('web-r1-print').output('stdout', 'listening');
    expect(w.output).toEqual([{ pod: 'web-r1-print', stream: 'stdout', line: 'listening' }]);
  });
});

describe('Pod readiness', () => {
  it('is ready as soon as it started when it has no readinessProbe', () => {
    const w = podWorld();
    const pod = w.pod(podsSpec(), 'p');
    pod.start();
    expect(pod.status()).toMatchObject({ containersReady: true, ready: true });
    expect(w.events('p')).toEqual([
      ['pod.created', 0],
      ['pod.started', 0],
      ['pod.containers_ready', 0],
      ['pod.ready', 0],
    ]);
  });

  type ReadyCase = {
    name: string;
    probe: NonNullable<PodsInput['readinessProbe']>;
    /** Times (s) at which the probe's answer changes; it starts with `initially`. */
    initially: boolean | 'hang';
    flips?: Array<[number, boolean | 'hang']>;
    readyAtSeconds: number | undefined;
  };
  const readyCases: ReadyCase[] = [
    { name: 'turns ready at the first probe, initialDelaySeconds (5 s) after start, when successThreshold is 1', probe: { httpGet: { path: '/ready' }, initialDelaySeconds: 5, periodSeconds: 10 }, initially: true, readyAtSeconds: 5 },
    { name: 'turns ready at once when initialDelaySeconds is 0', probe: { httpGet: { path: '/ready' }, periodSeconds: 10 }, initially: true, readyAtSeconds: 0 },
    { name: 'turns ready after 3 passes (at 5, 15, 25 s) when successThreshold is 3', probe: { httpGet: { path: '/ready' }, initialDelaySeconds: 5, periodSeconds: 10, successThreshold: 3 }, initially: true, readyAtSeconds: 25 },
    { name: 'turns ready at the first probe after the app starts answering (period 10 s, answers from 15 s → ready at 20 s)', probe: { httpGet: { path: '/ready' }, periodSeconds: 10 }, initially: false, flips: [[15, true]], readyAtSeconds: 20 },
    { name: 'stays not ready while every probe times out (timeoutSeconds 1)', probe: { tcpSocket: {}, periodSeconds: 2, timeoutSeconds: 1 }, initially: 'hang', readyAtSeconds: undefined },
    { name: 'turns ready at the first probe that answers in time after timeouts', probe: { tcpSocket: {}, periodSeconds: 2, timeoutSeconds: 1 }, initially: 'hang', flips: [[5, true]], readyAtSeconds: 6 },
  ];
  it.each(readyCases)('$name', async ({ probe, initially, flips = [], readyAtSeconds }) => {
    const w = podWorld();
    const pod = w.pod(podsSpec({ readinessProbe: probe }), 'p');
    w.prober.answer(pod.ip, initially);
    for (const [at, answer] of flips) w.clock.setTimer(at * S - 1, () => w.prober.answer(pod.ip, answer));
    pod.start();
    expect(pod.ready).toBe(false);
    await w.clock.advance(60 * S);
    expect(w.first('pod.ready', 'p')?.timeMs).toBe(readyAtSeconds === undefined ? undefined : readyAtSeconds * S);
    expect(pod.ready).toBe(readyAtSeconds !== undefined);
  });

  it.each([
    { failureThreshold: 1, notReadyAtSeconds: 10 },
    { failureThreshold: 3, notReadyAtSeconds: 30 },
  ])('turns not ready after $failureThreshold failed probes in a row (failureThreshold $failureThreshold, period 10 s → at $notReadyAtSeconds s)', async ({ failureThreshold, notReadyAtSeconds }) => {
    const w = podWorld();
    const pod = w.pod(podsSpec({ readinessProbe: { httpGet: { path: '/ready' }, periodSeconds: 10, failureThreshold } }), 'p');
    pod.start();
    await w.clock.advance(1 * S);
    expect(pod.ready).toBe(true);
    w.prober.answer(pod.ip, false);
    await w.clock.advance(notReadyAtSeconds * S - 1 * S - 1);
    expect(pod.ready).toBe(true);
    await w.clock.advance(1);
    expect(pod.ready).toBe(false);
    expect(w.first('pod.not_ready', 'p')?.timeMs).toBe(notReadyAtSeconds * S);
    expect(pod.status()).toMatchObject({ phase: 'Running', containersReady: false, restartCount: 0 });
  });

  it('turns ready again after successThreshold passes once the app recovers', async () => {
    const w = podWorld();
    const pod = w.pod(podsSpec({ readinessProbe: { httpGet: { path: '/ready' }, periodSeconds: 10, successThreshold: 2, failureThreshold: 1 } }), 'p');
    pod.start();
    await w.clock.advance(10 * S); // passes at 0 and 10
    expect(pod.ready).toBe(true);
    w.prober.answer(pod.ip, false);
    await w.clock.advance(10 * S); // fails at 20
    expect(pod.ready).toBe(false);
    w.prober.answer(pod.ip, true);
    await w.clock.advance(20 * S); // passes at 30, 40
    expect(w.events('p', ['pod.ready', 'pod.not_ready'])).toEqual([
      ['pod.ready', 10],
      ['pod.not_ready', 20],
      ['pod.ready', 40],
    ]);
  });
});

describe('Pod readiness gate', () => {
  it('holds a pod whose containers are ready not-ready until setGate(true), and not-ready again on setGate(false)', () => {
    const w = podWorld();
    const pod = w.pod(podsSpec({ readinessGate: true }), 'p');
    pod.start();
    expect(pod.status()).toMatchObject({ containersReady: true, ready: false });
    pod.setGate(true);
    expect(pod.ready).toBe(true);
    pod.setGate(false);
    expect(pod.ready).toBe(false);
    expect(w.events('p', ['pod.containers_ready', 'pod.ready', 'pod.not_ready'])).toEqual([
      ['pod.containers_ready', 0],
      ['pod.ready', 0],
      ['pod.not_ready', 0],
    ]);
  });

  it('needs both the gate and the readiness probe: a gate set before the probe passes waits for the probe', async () => {
    const w = podWorld();
    const pod = w.pod(podsSpec({ readinessGate: true, readinessProbe: { httpGet: { path: '/ready' }, initialDelaySeconds: 5 } }), 'p');
    pod.start();
    pod.setGate(true);
    expect(pod.ready).toBe(false);
    await w.clock.advance(5 * S);
    expect(pod.ready).toBe(true);
  });

  it('ignores setGate for a pod without a readiness gate', () => {
    const w = podWorld();
    const pod = w.pod(podsSpec(), 'p');
    pod.start();
    pod.setGate(false);
    expect(pod.ready).toBe(true);
  });
});

describe('Pod restarts', () => {
  it('restarts a crashed container with backoff 1 s, 2 s, 4 s … capped at 30 s, counting restarts', async () => {
    const w = podWorld();
    const pod = w.pod(podsSpec(), 'p');
    pod.start();
    for (let i = 0; i < 7; i++) {
      w.runtime.container('p').crash(1);
      await w.clock.advance(0);
      expect(pod.ready).toBe(false);
      await w.clock.advance(60 * S);
    }
    const exits = w.events('p', ['pod.exited']).map(([, t]) => t);
    const restarts = w.events('p', ['pod.restarted']).map(([, t]) => t);
    expect(restarts.map((t, i) => t - exits[i]!)).toEqual([1, 2, 4, 8, 16, 30, 30]);
    expect(pod.status()).toMatchObject({ restartCount: 7, phase: 'Running', ready: true });
    expect(w.runtime.containers('p')).toHaveLength(8);
    expect(w.events('p', ['pod.exited'])[0]).toEqual(['pod.exited', 0]);
    expect(w.first('pod.exited', 'p')?.detail).toBe('code 1');
  });

  it('is not ready between a crash and the restart, and ready again once the new container runs', async () => {
    const w = podWorld();
    const pod = w.pod(podsSpec(), 'p');
    pod.start();
    await w.clock.advance(10 * S);
    w.runtime.container('p').crash(137);
    await w.clock.advance(0);
    expect(pod.status()).toMatchObject({ ready: false, containersReady: false, phase: 'Running' });
    await w.clock.advance(1 * S - 1);
    expect(w.runtime.containers('p')).toHaveLength(1);
    await w.clock.advance(1);
    expect(w.runtime.containers('p')).toHaveLength(2);
    expect(pod.status()).toMatchObject({ ready: true, restartCount: 1, pid: w.runtime.container('p').pid });
  });

  it('kills the container with SIGKILL after failureThreshold failed liveness probes and starts a new one after the backoff', async () => {
    const w = podWorld();
    const pod = w.pod(
      podsSpec({
        readinessProbe: { httpGet: { path: '/ready' }, periodSeconds: 10 },
        livenessProbe: { httpGet: { path: '/live' }, periodSeconds: 10, failureThreshold: 3 },
      }),
      'p',
    );
    w.prober.answer(pod.ip, false, '/live');
    pod.start();
    await w.clock.advance(20 * S); // liveness fails at 0, 10, 20
    const first = w.runtime.containers('p')[0]!;
    expect(first.signals).toEqual([{ signal: 'SIGKILL', timeMs: 20 * S }]);
    expect(pod.ready).toBe(false);
    await w.clock.advance(1 * S);
    expect(w.runtime.containers('p')).toHaveLength(2);
    expect(w.first('pod.restarted', 'p')?.timeMs).toBe(21 * S);
    expect(pod.status()).toMatchObject({ restartCount: 1, ready: true });
    // Still failing: 21, 31, 41 → SIGKILL at 41, restart after 2 s.
    await w.clock.advance(30 * S);
    expect(w.runtime.containers('p')[1]!.signals).toEqual([{ signal: 'SIGKILL', timeMs: 41 * S }]);
    expect(w.runtime.containers('p')).toHaveLength(3);
    expect(w.events('p', ['pod.restarted'])).toEqual([
      ['pod.restarted', 21],
      ['pod.restarted', 43],
    ]);
  });

  it('does not restart a container whose liveness probe keeps passing', async () => {
    const w = podWorld();
    const pod = w.pod(podsSpec({ livenessProbe: { tcpSocket: {}, periodSeconds: 1 } }), 'p');
    pod.start();
    await w.clock.advance(60 * S);
    expect(w.runtime.containers('p')).toHaveLength(1);
    expect(w.prober.callsTo(pod.ip).length).toBe(61);
  });
});

type TerminationCase = {
  name: string;
  pods: PodsInput;
  onSigterm: SigtermBehaviour;
  execDurationMs?: number;
  gracePeriodOverride?: number;
  sequence: Array<[TimelineKind, number]>;
  signals: Array<[NodeJS.Signals, number]>;
};

const terminationCases: TerminationCase[] = [
  {
    name: 'preStop sleep 10 s, then SIGTERM at 10 s; an app that exits at once gets no SIGKILL',
    pods: { lifecycle: { preStop: { sleep: { seconds: 10 } } } },
    onSigterm: EXIT_AT_ONCE,
    sequence: [['pod.deleting', 0], ['pod.prestop_started', 0], ['pod.prestop_finished', 10], ['pod.sigterm', 10], ['pod.terminated', 10]],
    signals: [['SIGTERM', 10]],
  },
  {
    name: 'preStop sleep 10 s, an app that drains for 5 s after SIGTERM ends at 15 s',
    pods: { lifecycle: { preStop: { sleep: { seconds: 10 } } } },
    onSigterm: exitAfter(5 * S),
    sequence: [['pod.deleting', 0], ['pod.prestop_started', 0], ['pod.prestop_finished', 10], ['pod.sigterm', 10], ['pod.terminated', 15]],
    signals: [['SIGTERM', 10]],
  },
  {
    name: 'no preStop: SIGTERM at once; an app that ignores it gets SIGKILL exactly at the 30 s default grace period',
    pods: {},
    onSigterm: IGNORE_SIGTERM,
    sequence: [['pod.deleting', 0], ['pod.sigterm', 0], ['pod.sigkill', 30], ['pod.terminated', 30]],
    signals: [['SIGTERM', 0], ['SIGKILL', 30]],
  },
  {
    name: 'preStop sleep 10 s and an app that ignores SIGTERM: SIGTERM at 10 s, SIGKILL at 30 s (the hook counts against the grace period)',
    pods: { lifecycle: { preStop: { sleep: { seconds: 10 } } } },
    onSigterm: IGNORE_SIGTERM,
    sequence: [['pod.deleting', 0], ['pod.prestop_started', 0], ['pod.prestop_finished', 10], ['pod.sigterm', 10], ['pod.sigkill', 30], ['pod.terminated', 30]],
    signals: [['SIGTERM', 10], ['SIGKILL', 30]],
  },
  {
    name: 'an app that would drain for 40 s gets SIGKILL at the 30 s grace period',
    pods: {},
    onSigterm: exitAfter(40 * S),
    sequence: [['pod.deleting', 0], ['pod.sigterm', 0], ['pod.sigkill', 30], ['pod.terminated', 30]],
    signals: [['SIGTERM', 0], ['SIGKILL', 30]],
  },
  {
    name: 'preStop sleep 40 s with grace 30 s is cut at 30 s, then SIGTERM at 30 s and SIGKILL at 32 s (the 2 s minimum)',
    pods: { terminationGracePeriodSeconds: 30, lifecycle: { preStop: { sleep: { seconds: 40 } } } },
    onSigterm: IGNORE_SIGTERM,
    sequence: [['pod.deleting', 0], ['pod.prestop_started', 0], ['pod.prestop_finished', 30], ['pod.sigterm', 30], ['pod.sigkill', 32], ['pod.terminated', 32]],
    signals: [['SIGTERM', 30], ['SIGKILL', 32]],
  },
  {
    name: 'preStop sleep 40 s with grace 30 s and an app that exits at once on SIGTERM: SIGTERM at 30 s, no SIGKILL',
    pods: { terminationGracePeriodSeconds: 30, lifecycle: { preStop: { sleep: { seconds: 40 } } } },
    onSigterm: EXIT_AT_ONCE,
    sequence: [['pod.deleting', 0], ['pod.prestop_started', 0], ['pod.prestop_finished', 30], ['pod.sigterm', 30], ['pod.terminated', 30]],
    signals: [['SIGTERM', 30]],
  },
  {
    name: 'preStop sleep 29 s with grace 30 s leaves 1 s: SIGTERM at 29 s, SIGKILL at 31 s (at least 2 s after SIGTERM)',
    pods: { terminationGracePeriodSeconds: 30, lifecycle: { preStop: { sleep: { seconds: 29 } } } },
    onSigterm: IGNORE_SIGTERM,
    sequence: [['pod.deleting', 0], ['pod.prestop_started', 0], ['pod.prestop_finished', 29], ['pod.sigterm', 29], ['pod.sigkill', 31], ['pod.terminated', 31]],
    signals: [['SIGTERM', 29], ['SIGKILL', 31]],
  },
  {
    name: 'grace period 0: SIGKILL at once and no preStop',
    pods: { terminationGracePeriodSeconds: 0, lifecycle: { preStop: { sleep: { seconds: 10 } } } },
    onSigterm: IGNORE_SIGTERM,
    sequence: [['pod.deleting', 0], ['pod.sigkill', 0], ['pod.terminated', 0]],
    signals: [['SIGKILL', 0]],
  },
  {
    name: 'a grace-period override of 5 s on delete: SIGKILL at 5 s',
    pods: {},
    onSigterm: IGNORE_SIGTERM,
    gracePeriodOverride: 5,
    sequence: [['pod.deleting', 0], ['pod.sigterm', 0], ['pod.sigkill', 5], ['pod.terminated', 5]],
    signals: [['SIGTERM', 0], ['SIGKILL', 5]],
  },
  {
    name: 'preStop exec hook that runs 3 s: SIGTERM at 3 s',
    pods: { lifecycle: { preStop: { exec: { command: ['sh', '-c', 'sleep 3'] } } } },
    onSigterm: EXIT_AT_ONCE,
    execDurationMs: 3 * S,
    sequence: [['pod.deleting', 0], ['pod.prestop_started', 0], ['pod.prestop_finished', 3], ['pod.sigterm', 3], ['pod.terminated', 3]],
    signals: [['SIGTERM', 3]],
  },
  {
    name: 'preStop exec hook still running at grace 5 s is killed at 5 s, then SIGTERM at 5 s and SIGKILL at 7 s',
    pods: { terminationGracePeriodSeconds: 5, lifecycle: { preStop: { exec: { command: ['sleep', '60'] } } } },
    onSigterm: IGNORE_SIGTERM,
    execDurationMs: 60 * S,
    sequence: [['pod.deleting', 0], ['pod.prestop_started', 0], ['pod.prestop_finished', 5], ['pod.sigterm', 5], ['pod.sigkill', 7], ['pod.terminated', 7]],
    signals: [['SIGTERM', 5], ['SIGKILL', 7]],
  },
];

describe('Pod termination sequence (spec 10.2)', () => {
  it.each(terminationCases)('$name', async ({ pods, onSigterm, execDurationMs, gracePeriodOverride, sequence, signals }) => {
    const w = podWorld({ onSigterm, ...(execDurationMs !== undefined ? { execDurationMs } : {}) });
    const pod = w.pod(podsSpec(pods), 'p');
    pod.start();
    let doneAtMs: number | undefined;
    void pod.delete(gracePeriodOverride).then(() => (doneAtMs = w.clock.now()));
    await w.clock.advance(120 * S);
    expect(w.events('p', TERMINATION_KINDS)).toEqual(sequence);
    expect(w.runtime.container('p').signals.map((s) => [s.signal, s.timeMs / S])).toEqual(signals);
    expect(doneAtMs).toBe(sequence[sequence.length - 1]![1] * S);
    expect(pod.phase).toBe('Terminated');
    expect(w.runtime.running()).toEqual([]);
  });

  it('runs the preStop exec hook with the pod env and kills it with SIGKILL when cut short', async () => {
    const w = podWorld({ onSigterm: EXIT_AT_ONCE, execDurationMs: 60 * S });
    const pod = w.pod(podsSpec({ port: 9000, env: { MODE: 'x' }, terminationGracePeriodSeconds: 5, lifecycle: { preStop: { exec: { command: ['sleep', '60'] } } } }), 'p');
    pod.start();
    void pod.delete();
    await w.clock.advance(10 * S);
    const [hook] = w.runtime.execs('p');
    expect(hook!.spec).toMatchObject({ name: 'p-prestop', command: ['sleep', '60'], env: { MODE: 'x', PORT: '9000', POD_IP: pod.ip, POD_NAME: 'p' } });
    expect(hook!.signals).toEqual([{ signal: 'SIGKILL', timeMs: 5 * S }]);
    expect(w.first('pod.prestop_finished', 'p')?.detail).toBe('cut short by the grace period');
  });

  it('marks the pod terminating and not ready the moment deletion starts, before preStop ends', async () => {
    const w = podWorld();
    const pod = w.pod(podsSpec({ lifecycle: { preStop: { sleep: { seconds: 10 } } } }), 'p');
    pod.start();
    await w.clock.advance(1 * S);
    void pod.delete();
    expect(pod.status()).toMatchObject({ phase: 'Running', status: 'Terminating', terminating: true, ready: false, containersReady: true });
    expect(w.events('p', ['pod.deleting', 'pod.not_ready'])).toEqual([
      ['pod.deleting', 1],
      ['pod.not_ready', 1],
    ]);
  });

  it('returns the same deletion to a second delete call', async () => {
    const w = podWorld({ onSigterm: IGNORE_SIGTERM });
    const pod = w.pod(podsSpec(), 'p');
    pod.start();
    const first = pod.delete();
    expect(pod.delete()).toBe(first);
    await w.clock.advance(60 * S);
    expect(w.events('p', ['pod.deleting'])).toHaveLength(1);
  });

  it.each([
    { during: 'preStop', atSeconds: 3, sequence: [['pod.deleting', 0], ['pod.prestop_started', 0], ['pod.prestop_finished', 3], ['pod.sigkill', 3], ['pod.terminated', 3]] },
    { during: 'the wait after SIGTERM', atSeconds: 15, sequence: [['pod.deleting', 0], ['pod.prestop_started', 0], ['pod.prestop_finished', 10], ['pod.sigterm', 10], ['pod.sigkill', 15], ['pod.terminated', 15]] },
  ] as Array<{ during: string; atSeconds: number; sequence: Array<[TimelineKind, number]> }>)(
    'kills at once when deleted again with grace 0 during $during (a forced deletion)',
    async ({ atSeconds, sequence }) => {
      const w = podWorld({ onSigterm: IGNORE_SIGTERM });
      const pod = w.pod(podsSpec({ lifecycle: { preStop: { sleep: { seconds: 10 } } } }), 'p');
      pod.start();
      const first = pod.delete();
      await w.clock.advance(atSeconds * S);
      let done = false;
      void pod.delete(0).then(() => (done = true));
      await w.clock.advance(0);
      expect(done).toBe(true);
      await first;
      expect(w.events('p', TERMINATION_KINDS)).toEqual(sequence);
      expect(w.first('pod.sigkill', 'p')?.detail).toBe('forced deletion');
      expect(w.runtime.running()).toEqual([]);
      expect(w.clock.pendingTimers).toBe(0);
    },
  );

  it('terminates a pod that was never started at once, with no signals', async () => {
    const w = podWorld();
    const pod = w.pod(podsSpec({ lifecycle: { preStop: { sleep: { seconds: 10 } } } }), 'p');
    await pod.delete();
    expect(w.events('p', TERMINATION_KINDS)).toEqual([
      ['pod.deleting', 0],
      ['pod.terminated', 0],
    ]);
    expect(w.runtime.processes).toEqual([]);
  });

  it('terminates a pod whose container is down (crash backoff) at once, without preStop or signals, and never restarts it', async () => {
    const w = podWorld();
    const pod = w.pod(podsSpec({ lifecycle: { preStop: { sleep: { seconds: 10 } } } }), 'p');
    pod.start();
    w.runtime.container('p').crash(1);
    await w.clock.advance(500);
    let done = false;
    void pod.delete().then(() => (done = true));
    await w.clock.advance(0);
    expect(done).toBe(true);
    expect(w.events('p', TERMINATION_KINDS)).toEqual([
      ['pod.deleting', 0.5],
      ['pod.terminated', 0.5],
    ]);
    await w.clock.advance(60 * S);
    expect(w.runtime.containers('p')).toHaveLength(1);
    expect(w.runtime.container('p').signals).toEqual([]);
  });
});

describe('a terminating pod', () => {
  it('never turns ready: not through its readiness probe, not through the gate', async () => {
    const w = podWorld({ onSigterm: IGNORE_SIGTERM });
    const pod = w.pod(podsSpec({ readinessGate: true, readinessProbe: { httpGet: { path: '/ready' }, periodSeconds: 1 } }), 'p');
    pod.start();
    await w.clock.advance(1 * S);
    void pod.delete();
    pod.setGate(true);
    const readiness: boolean[] = [];
    pod.onChange((p) => readiness.push(p.ready));
    for (let i = 0; i < 30; i++) {
      await w.clock.advance(1 * S);
      readiness.push(pod.ready);
    }
    expect(readiness.every((r) => !r)).toBe(true);
    expect(w.events('p', ['pod.ready'])).toEqual([]);
  });

  it('is not restarted when its container exits during the sequence, whether by crash, SIGTERM or SIGKILL', async () => {
    const cases: Array<[string, SigtermBehaviour, (w: ReturnType<typeof podWorld>) => void]> = [
      ['crash during preStop', IGNORE_SIGTERM, (w) => w.runtime.container('p').crash(1)],
      ['exits on SIGTERM', EXIT_AT_ONCE, () => {}],
      ['killed at the grace period', IGNORE_SIGTERM, () => {}],
    ];
    for (const [, onSigterm, during] of cases) {
      const w = podWorld({ onSigterm });
      const pod = w.pod(podsSpec({ lifecycle: { preStop: { sleep: { seconds: 5 } } } }), 'p');
      pod.start();
      void pod.delete();
      await w.clock.advance(1 * S);
      during(w);
      await w.clock.advance(120 * S);
      expect(w.runtime.containers('p')).toHaveLength(1);
      expect(pod.status()).toMatchObject({ phase: 'Succeeded', status: 'Completed', restartCount: 0, ready: false });
      expect(w.events('p', ['pod.restarted'])).toEqual([]);
    }
  });

  it('cancels a pending restart when deleted during the crash backoff', async () => {
    const w = podWorld();
    const pod = w.pod(podsSpec(), 'p');
    pod.start();
    w.runtime.container('p').crash(1);
    void pod.delete();
    await w.clock.advance(60 * S);
    expect(w.runtime.containers('p')).toHaveLength(1);
    expect(pod.phase).toBe('Terminated');
  });

  it('stops its probes', async () => {
    const w = podWorld();
    const pod = w.pod(podsSpec({ readinessProbe: { tcpSocket: {}, periodSeconds: 1 }, livenessProbe: { tcpSocket: {}, periodSeconds: 1 } }), 'p');
    pod.start();
    await w.clock.advance(5 * S);
    void pod.delete();
    const before = w.prober.calls.length;
    await w.clock.advance(60 * S);
    expect(w.prober.calls.length).toBe(before);
  });
});
