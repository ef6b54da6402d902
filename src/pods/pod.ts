/**
 * One local pod: a child process with the Kubernetes lifecycle (spec 10.1, 10.2). Started,
 * probed (readiness; liveness restarts it), optionally held not-ready by a readiness gate, and
 * on deletion: marked terminating, preStop, SIGTERM, the grace period, SIGKILL. Every wait
 * runs on the injected clock; only the runtime touches processes.
 */
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import type { PodProbeConfig, PodsConfig } from '../config/schema.ts';
import { HealthChecker } from '../targets/health-checker.ts';
import { HealthTracker, type ProbeResult } from '../targets/health.ts';
import type { PodProber } from './probes.ts';
import type { OutputSink, PodRuntime, ProcessExit, ProcessHandle } from './runtime.ts';
import type { Timeline } from './timeline.ts';

/** Where a pod is in its life here; `Terminating` and `Terminated` are not Kubernetes phases (see PodStatus). */
export type PodPhase = 'Pending' | 'Running' | 'Terminating' | 'Terminated';

/** A snapshot of a pod, in Kubernetes terms. */
export interface PodStatus {
  readonly name: string;
  readonly ip: string;
  readonly port: number;
  readonly revision: number;
  /** Kubernetes' `status.phase`: a terminating pod is still `Running`; an ended one `Succeeded`. */
  readonly phase: 'Pending' | 'Running' | 'Succeeded';
  /** What `kubectl get pods` shows in STATUS: `Pending`, `Running`, `Terminating`, `Completed`. */
  readonly status: 'Pending' | 'Running' | 'Terminating' | 'Completed';
  /** All containers ready (the readiness probe passes). */
  readonly containersReady: boolean;
  /** ContainersReady and every readiness gate True: what EndpointSlices call `ready`. */
  readonly ready: boolean;
  readonly terminating: boolean;
  readonly restartCount: number;
  readonly pid?: number;
}

/**
 * Where a pod's termination sequence is (spec 10.2), on the pod's clock: what the dashboard's
 * preStop, SIGTERM and grace-period countdowns read. Undefined fields have not happened yet.
 */
export interface PodTermination {
  readonly startedAtMs: number;
  readonly gracePeriodMs: number;
  readonly preStopStartedAtMs?: number;
  /** A `sleep` hook: when it ends by itself (an `exec` hook's end is not known in advance). */
  readonly preStopEndsAtMs?: number;
  readonly preStopFinishedAtMs?: number;
  readonly sigtermAtMs?: number;
  /** When SIGKILL comes if the process is still running (the grace period, at least 2 s after SIGTERM). */
  readonly sigkillDueAtMs?: number;
  readonly sigkillAtMs?: number;
}

export interface PodOptions {
  readonly name: string;
  readonly ip: string;
  readonly revision: number;
  readonly spec: PodsConfig;
  readonly clock: Clock;
  readonly runtime: PodRuntime;
  readonly prober: PodProber;
  readonly timeline: Timeline;
  readonly output: (pod: string, stream: 'stdout' | 'stderr', line: string) => void;
  readonly logger: Logger;
  /** Extra env for the container (the target group's name, …). */
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * Kubelet always leaves a container at least this long between SIGTERM and SIGKILL, however
 * much of the grace period the preStop hook used (spec 10.2's one-off 2 s extension).
 */
export const MIN_GRACE_AFTER_SIGTERM_MS = 2000;
const MAX_RESTART_BACKOFF_MS = 30_000;
const PASSED: ProbeResult = { ok: true };
const FAILED: ProbeResult = { ok: false, failure: 'failed' };

export class Pod {
  readonly name: string;
  readonly ip: string;
  readonly port: number;
  readonly revision: number;
  readonly #o: PodOptions;
  readonly #listeners = new Set<(pod: Pod) => void>();
  #phase: PodPhase = 'Pending';
  #process: ProcessHandle | undefined;
  #containersReady = false;
  #gate = true;
  #terminating = false;
  #restartCount = 0;
  #stopProbes: Array<() => void> = [];
  #deletion: Promise<void> | undefined;
  #termination: PodTermination | undefined;
  #cancelRestart: () => void = () => {};
  /** Cuts a termination sequence in progress short: SIGKILL now (a second delete with grace 0). */
  #force: () => void = () => {};

  constructor(options: PodOptions) {
    this.#o = options;
    this.name = options.name;
    this.ip = options.ip;
    this.port = options.spec.port;
    this.revision = options.revision;
    this.#gate = !options.spec.readinessGate;
    options.timeline.record('pod.created', { pod: this.name, detail: `${this.ip}:${this.port} revision ${this.revision}` });
  }

  status(): PodStatus {
    return {
      name: this.name,
      ip: this.ip,
      port: this.port,
      revision: this.revision,
      phase: this.#phase === 'Terminating' ? 'Running' : this.#phase === 'Terminated' ? 'Succeeded' : this.#phase,
      status: this.#phase === 'Terminated' ? 'Completed' : this.#phase,
      containersReady: this.#containersReady,
      ready: this.ready,
      terminating: this.#terminating,
      restartCount: this.#restartCount,
      ...(this.#process ? { pid: this.#process.pid } : {}),
    };
  }

  get ready(): boolean {
    return this.#containersReady && this.#gate && !this.#terminating;
  }

  get containersReady(): boolean {
    return this.#containersReady;
  }

  get terminating(): boolean {
    return this.#terminating;
  }

  get phase(): PodPhase {
    return this.#phase;
  }

  /** The termination sequence so far, once the pod is being deleted. */
  get termination(): PodTermination | undefined {
    return this.#termination;
  }

  onChange(listener: (pod: Pod) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Starts the container and its probes. */
  start(): void {
    if (this.#phase !== 'Pending') return;
    this.#launch();
  }

  /**
   * The readiness gate condition (`target-health.elbv2.k8s.aws/…`, spec 9.5), set by whoever
   * watches the target's health. Ignored for pods without a gate.
   */
  setGate(ok: boolean): void {
    if (!this.#o.spec.readinessGate || ok === this.#gate) return;
    const wasReady = this.ready;
    this.#gate = ok;
    this.#readyChanged(wasReady);
  }

  /**
   * Deletes the pod with the Kubernetes termination sequence; resolves when it is gone. A
   * second call with grace 0 on a pod already terminating kills it at once (as
   * `kubectl delete --grace-period=0 --force` does), so `close` never waits out a preStop.
   */
  delete(gracePeriodSeconds = this.#o.spec.terminationGracePeriodSeconds): Promise<void> {
    if (this.#deletion !== undefined) {
      if (gracePeriodSeconds === 0) this.#force();
      return this.#deletion;
    }
    this.#deletion = this.#terminate(gracePeriodSeconds * 1000);
    return this.#deletion;
  }

  #launch(): void {
    const o = this.#o;
    const sink: OutputSink = (stream, line) => o.output(this.name, stream, line);
    const handle = o.runtime.start(
      {
        name: this.name,
        command: o.spec.command,
        env: { ...o.spec.env, ...o.env, PORT: String(this.port), HOST: this.ip, POD_IP: this.ip, POD_NAME: this.name },
        ...(o.spec.cwd ? { cwd: o.spec.cwd } : {}),
      },
      sink,
    );
    this.#process = handle;
    this.#phase = 'Running';
    o.timeline.record('pod.started', { pod: this.name, detail: `pid ${handle.pid}` });
    this.#emit();
    void handle.exited.then((exit) => this.#onExit(handle, exit));
    if (o.spec.readinessProbe) this.#stopProbes.push(this.#probeLoop(o.spec.readinessProbe, 'readiness'));
    else this.#setContainersReady(true);
    if (o.spec.livenessProbe) this.#stopProbes.push(this.#probeLoop(o.spec.livenessProbe, 'liveness'));
  }

  #onExit(handle: ProcessHandle, exit: ProcessExit): void {
    if (handle !== this.#process) return;
    const o = this.#o;
    o.timeline.record('pod.exited', { pod: this.name, detail: exit.signal ? `signal ${exit.signal}` : `code ${exit.code}` });
    this.#stopAllProbes();
    this.#setContainersReady(false);
    if (this.#terminating) return;
    // restartPolicy Always: back off 1 s, 2 s, 4 s … up to 30 s.
    const backoffMs = Math.min(1000 * 2 ** this.#restartCount, MAX_RESTART_BACKOFF_MS);
    this.#restartCount++;
    o.logger.warn({ event: 'pod.exited', pod: this.name, code: exit.code, signal: exit.signal }, `pod ${this.name} exited; restarting in ${backoffMs} ms`);
    this.#cancelRestart = o.clock.setTimer(backoffMs, () => {
      if (this.#terminating) return;
      o.timeline.record('pod.restarted', { pod: this.name, detail: `restart ${this.#restartCount}` });
      this.#launch();
    });
  }

  /**
   * Runs a probe every `periodSeconds` after `initialDelaySeconds`, on the load balancer's own
   * health checker and threshold tracker: readiness turns on after `successThreshold`
   * consecutive passes and off after `failureThreshold` consecutive failures; liveness restarts
   * the container after `failureThreshold` failures.
   */
  #probeLoop(probe: PodProbeConfig, kind: 'readiness' | 'liveness'): () => void {
    const { clock, prober } = this.#o;
    const tracker = new HealthTracker({
      initialHealthyThresholdCount: probe.successThreshold,
      healthyThresholdCount: probe.successThreshold,
      unhealthyThresholdCount: probe.failureThreshold,
    });
    const checker = new HealthChecker({
      clock,
      probe: (target, signal) => prober(probe, target.id, this.port, signal).then((ok) => (ok ? PASSED : FAILED), () => FAILED),
      intervalMs: probe.periodSeconds * 1000,
      timeoutMs: probe.timeoutSeconds * 1000,
      onResult: (_key, result) => {
        const health = tracker.record(result);
        if (health === undefined) return;
        if (kind === 'readiness') this.#setContainersReady(health.state === 'healthy');
        else if (health.state === 'unhealthy') {
          this.#o.logger.warn({ event: 'pod.liveness_failed', pod: this.name }, `pod ${this.name} failed its liveness probe: restarting the container`);
          this.#process?.kill('SIGKILL');
        }
      },
    });
    checker.watch(this.name, { id: this.ip, port: this.port }, { initialDelayMs: probe.initialDelaySeconds * 1000 });
    return () => checker.close();
  }

  #stopAllProbes(): void {
    for (const stop of this.#stopProbes.splice(0)) stop();
  }

  #setContainersReady(ok: boolean): void {
    if (ok === this.#containersReady) return;
    const wasReady = this.ready;
    this.#containersReady = ok;
    if (ok) this.#o.timeline.record('pod.containers_ready', { pod: this.name });
    this.#readyChanged(wasReady);
  }

  #readyChanged(wasReady: boolean): void {
    const ready = this.ready;
    if (ready !== wasReady) this.#o.timeline.record(ready ? 'pod.ready' : 'pod.not_ready', { pod: this.name });
    this.#emit();
  }

  #emit(): void {
    for (const l of this.#listeners) l(this);
  }

  /** The termination sequence of spec 10.2, in order. */
  async #terminate(graceMs: number): Promise<void> {
    const { clock, timeline, spec } = this.#o;
    const wasReady = this.ready;
    this.#terminating = true;
    this.#cancelRestart();
    const startedAt = clock.now();
    const deadline = startedAt + graceMs;
    let forced = false;
    const force = new Promise<void>((resolve) => {
      this.#force = () => {
        forced = true;
        resolve();
      };
    });
    const termination = (fields: Partial<PodTermination>) => {
      this.#termination = { ...this.#termination!, ...fields };
    };
    this.#termination = { startedAtMs: startedAt, gracePeriodMs: graceMs };
    timeline.record('pod.deleting', { pod: this.name, detail: `grace period ${graceMs / 1000}s` });
    this.#phase = 'Terminating';
    this.#readyChanged(wasReady);
    this.#stopAllProbes();
    const process = this.#process;
    const running = process !== undefined && (await isRunning(process));
    if (running && graceMs > 0 && !forced) {
      const preStop = spec.lifecycle?.preStop;
      if (preStop !== undefined) {
        termination({ preStopStartedAtMs: clock.now(), ...(preStop.sleep ? { preStopEndsAtMs: Math.min(deadline, clock.now() + preStop.sleep.seconds * 1000) } : {}) });
        timeline.record('pod.prestop_started', { pod: this.name, detail: preStop.sleep ? `sleep ${preStop.sleep.seconds}s` : `exec ${preStop.exec!.command.join(' ')}` });
        let hook: Promise<unknown>;
        let cancelHook: () => void = () => {};
        if (preStop.sleep) {
          hook = new Promise<void>((resolve) => {
            cancelHook = clock.setTimer(preStop.sleep!.seconds * 1000, resolve);
          });
        } else {
          const h = this.#o.runtime.exec(
            { name: `${this.name}-prestop`, command: preStop.exec!.command, env: { ...spec.env, PORT: String(this.port), POD_IP: this.ip, POD_NAME: this.name } },
            (stream, line) => this.#o.output(this.name, stream, `[preStop] ${line}`),
          );
          hook = h.exited;
          cancelHook = () => h.kill('SIGKILL');
        }
        const hookOrForce = Promise.race([hook, force]);
        // The hook gets at most the grace period (kubelet's killContainer).
        const outcome = await raceTimer(clock, hookOrForce, deadline - clock.now());
        if (outcome === 'timeout' || forced) cancelHook();
        const detail = outcome === 'timeout' ? 'cut short by the grace period' : forced ? 'cut short by a forced deletion' : `after ${((clock.now() - startedAt) / 1000).toFixed(3)}s`;
        termination({ preStopFinishedAtMs: clock.now() });
        timeline.record('pod.prestop_finished', { pod: this.name, detail });
      }
      let outcome: 'done' | 'timeout' = 'done';
      if (!forced) {
        process.kill('SIGTERM');
        termination({ sigtermAtMs: clock.now(), sigkillDueAtMs: clock.now() + Math.max(MIN_GRACE_AFTER_SIGTERM_MS, deadline - clock.now()) });
        timeline.record('pod.sigterm', { pod: this.name });
        // Whatever the hook used, the container gets at least 2 s after SIGTERM (kubelet's
        // minimum grace period: the "2 s extension" of spec 10.2).
        outcome = await raceTimer(clock, Promise.race([process.exited, force]), Math.max(MIN_GRACE_AFTER_SIGTERM_MS, deadline - clock.now()));
      }
      if (outcome === 'timeout' || forced) {
        process.kill('SIGKILL');
        termination({ sigkillAtMs: clock.now() });
        timeline.record('pod.sigkill', { pod: this.name, detail: forced ? 'forced deletion' : 'grace period elapsed' });
      }
      await process.exited;
    } else if (running) {
      process.kill('SIGKILL');
      termination({ sigkillAtMs: clock.now() });
      timeline.record('pod.sigkill', { pod: this.name, detail: forced ? 'forced deletion' : 'grace period 0' });
      await process.exited;
    }
    this.#phase = 'Terminated';
    timeline.record('pod.terminated', { pod: this.name });
    this.#emit();
  }
}

async function isRunning(process: ProcessHandle): Promise<boolean> {
  // Both sides settle one microtask later, the exit first when it has already happened (an
  // already-resolved `Promise.resolve(false)` would always win the race).
  const exitedNow = await Promise.race([process.exited.then(() => true), Promise.resolve().then(() => false)]);
  return !exitedNow;
}

/** Resolves 'done' when `p` settles, or 'timeout' after `ms` on the clock. */
function raceTimer(clock: Clock, p: Promise<unknown>, ms: number): Promise<'done' | 'timeout'> {
  return new Promise((resolve) => {
    const cancel = clock.setTimer(Math.max(0, ms), () => resolve('timeout'));
    p.then(
      () => {
        cancel();
        resolve('done');
      },
      () => {
        cancel();
        resolve('done');
      },
    );
  });
}
