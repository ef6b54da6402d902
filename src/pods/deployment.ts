/**
 * The pods of one target group, kept at `replicas` like a Deployment and its ReplicaSets:
 * crashed pods restart in place, deleted pods are replaced, and a rollout replaces every pod
 * under `maxSurge`/`maxUnavailable` (Kubernetes' rolling update: surge rounds up, unavailable
 * rounds down, old pods go only while enough pods stay available).
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../core/clock.ts';
import { waitUntil } from '../core/wait.ts';
import { ElbError, ErrorCodes } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { PodsConfig } from '../config/schema.ts';
import type { PodIpAllocator } from './ip-allocator.ts';
import { Pod, type PodStatus } from './pod.ts';
import type { PodProber } from './probes.ts';
import type { PodRuntime } from './runtime.ts';
import type { Timeline } from './timeline.ts';

export interface DeploymentOptions {
  /** The target group's name; pods are named `<name>-r<revision>-<5 chars>`. */
  readonly name: string;
  readonly spec: PodsConfig;
  readonly clock: Clock;
  readonly runtime: PodRuntime;
  readonly prober: PodProber;
  readonly timeline: Timeline;
  readonly ips: PodIpAllocator;
  readonly logger: Logger;
  readonly output: (pod: string, stream: 'stdout' | 'stderr', line: string) => void;
}

function resolveCount(value: number | string, replicas: number, round: 'up' | 'down'): number {
  if (typeof value === 'number') return value;
  const fraction = (Number(value.slice(0, -1)) / 100) * replicas;
  return round === 'up' ? Math.ceil(fraction) : Math.floor(fraction);
}

const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

function suffix(): string {
  return [...randomBytes(5)].map((b) => ALPHABET[b % ALPHABET.length]).join('');
}

export class Deployment {
  readonly name: string;
  readonly #o: DeploymentOptions;
  readonly #pods = new Set<Pod>();
  readonly #listeners = new Set<(pod: Pod) => void>();
  #replicas: number;
  #revision = 1;
  #rolling: Promise<void> | undefined;
  #closed = false;

  constructor(options: DeploymentOptions) {
    this.name = options.name;
    this.#o = options;
    this.#replicas = options.spec.replicas;
  }

  get replicas(): number {
    return this.#replicas;
  }

  get revision(): number {
    return this.#revision;
  }

  /** Every pod that has not finished terminating. */
  pods(): Pod[] {
    return [...this.#pods];
  }

  status(): PodStatus[] {
    return this.pods().map((p) => p.status());
  }

  /** Called on every change of any pod (ready, terminating, terminated …). */
  onPodChange(listener: (pod: Pod) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Creates the initial pods. */
  start(): void {
    this.#reconcile();
  }

  /** Resolves once `replicas` pods of the current revision are Ready (or rejects at the deadline). */
  waitReady(timeoutMs: number): Promise<void> {
    return waitUntil(() => this.#current().filter((p) => p.ready).length >= this.#replicas, {
      clock: this.#o.clock,
      timeoutMs,
      changes: (wake) => this.onPodChange(wake),
      timedOut: () => {
        const states = this.status().map((s) => `${s.name} ${s.status}${s.ready ? ' ready' : s.containersReady ? ' containers-ready' : ' not-ready'} (restarts ${s.restartCount})`);
        return new ElbError(ErrorCodes.PODS_NOT_READY, `target group ${this.name}: ${this.#replicas} pods not ready after ${timeoutMs / 1000}s: ${states.join('; ') || 'no pods'}`);
      },
    });
  }

  /** Sets the number of replicas; extra pods are deleted (not-ready and newest first). */
  scale(replicas: number): void {
    if (!Number.isInteger(replicas) || replicas < 0 || replicas > 100) {
      throw new ElbError(ErrorCodes.INVALID_ARGUMENT, `replicas must be an integer 0–100: got ${replicas}`);
    }
    this.#replicas = replicas;
    this.#reconcile();
  }

  /** Deletes one pod (the termination sequence); the Deployment creates a replacement at once. */
  deletePod(name: string): Promise<void> {
    const pod = this.pods().find((p) => p.name === name);
    if (pod === undefined) throw new ElbError(ErrorCodes.NOT_FOUND, `no pod named ${name} in ${this.name}; pods: ${this.pods().map((p) => p.name).join(', ') || 'none'}`);
    const done = pod.delete();
    this.#reconcile();
    return done;
  }

  /**
   * Replaces every pod with one of a new revision, under the rolling-update limits. Resolves
   * when the new pods are all Ready and the old ones have terminated.
   */
  rollout(): Promise<void> {
    if (this.#rolling) return this.#rolling;
    this.#revision++;
    const revision = this.#revision;
    const { timeline } = this.#o;
    timeline.record('rollout.started', { detail: `${this.name} revision ${revision}` });
    this.#rolling = (async () => {
      for (;;) {
        if (this.#closed) return;
        // Listen before the step: the step itself can change pods (one without a readiness
        // probe is ready as soon as it starts), and that change must lead to another step.
        const next = this.#nextChange();
        const settled = this.#rollingStep(revision);
        if (settled) {
          next.off();
          break;
        }
        await next.changed;
      }
      await Promise.all(this.pods().filter((p) => p.terminating).map((p) => p.delete()));
      timeline.record('rollout.finished', { detail: `${this.name} revision ${revision}` });
    })().finally(() => {
      this.#rolling = undefined;
    });
    return this.#rolling;
  }

  /** Deletes every pod: the full termination sequence, or at once with `graceSeconds: 0`. */
  async close(graceSeconds?: number): Promise<void> {
    this.#closed = true;
    await Promise.all(this.pods().map((p) => p.delete(graceSeconds)));
  }

  #current(): Pod[] {
    return this.pods().filter((p) => !p.terminating && p.revision === this.#revision);
  }

  #create(revision: number): Pod {
    const o = this.#o;
    const pod = new Pod({
      name: `${this.name}-r${revision}-${suffix()}`,
      ip: o.ips.allocate(),
      revision,
      spec: o.spec,
      clock: o.clock,
      runtime: o.runtime,
      prober: o.prober,
      timeline: o.timeline,
      output: o.output,
      logger: o.logger,
      env: { TARGET_GROUP: this.name },
    });
    this.#pods.add(pod);
    pod.onChange((p) => {
      if (p.phase === 'Terminated') this.#pods.delete(p);
      for (const l of this.#listeners) l(p);
    });
    pod.start();
    return pod;
  }

  /** Outside a rollout: keep `replicas` live pods of the current revision. */
  #reconcile(): void {
    if (this.#closed || this.#rolling) return;
    const live = this.#current();
    for (let n = live.length; n < this.#replicas; n++) this.#create(this.#revision);
    if (live.length > this.#replicas) {
      // `live` is in creation order; the sort is stable, so the newest go first within each readiness.
      const extra = [...live].reverse().sort((a, b) => Number(a.ready) - Number(b.ready)).slice(0, live.length - this.#replicas);
      for (const pod of extra) void pod.delete();
    }
  }

  /** One step of the rolling update; returns true when nothing is left to do. */
  #rollingStep(revision: number): boolean {
    const replicas = this.#replicas;
    const { maxSurge, maxUnavailable } = this.#o.spec.strategy.rollingUpdate;
    const surge = resolveCount(maxSurge, replicas, 'up');
    const unavailable = resolveCount(maxUnavailable, replicas, 'down');
    const live = this.pods().filter((p) => !p.terminating);
    const old = live.filter((p) => p.revision < revision);
    const fresh = live.filter((p) => p.revision === revision);
    if (old.length === 0 && fresh.length >= replicas && fresh.filter((p) => p.ready).length >= replicas) return true;
    let total = live.length;
    let newCount = fresh.length;
    while (total < replicas + surge && newCount < replicas) {
      this.#create(revision);
      total++;
      newCount++;
    }
    let available = live.filter((p) => p.ready).length;
    const minAvailable = replicas - unavailable;
    // Old pods that are not ready cost no availability: they go first.
    for (const pod of [...old].sort((a, b) => Number(a.ready) - Number(b.ready))) {
      if (!pod.ready) {
        void pod.delete();
        continue;
      }
      if (available - 1 < minAvailable) break;
      void pod.delete();
      available--;
    }
    return false;
  }

  #nextChange(): { changed: Promise<void>; off: () => void } {
    let off: () => void = () => {};
    const changed = new Promise<void>((resolve) => {
      off = this.onPodChange(() => {
        off();
        resolve();
      });
    });
    return { changed, off };
  }
}
