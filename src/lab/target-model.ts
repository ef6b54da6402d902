/**
 * What a scenario's targets are, one place for both ways of running it: the simulator reads the
 * resolved specs and `serviceFinish` on a virtual clock, and the real run's target processes
 * (src/harness/lab-real/) serve requests through a `ModelTarget` on the real clock. So a target
 * that is ten times slower, pauses for GC or warms up does so by the same arithmetic in both.
 *
 * No sockets here: a `ModelTarget` takes a clock and answers through a callback.
 */
import type { Clock } from '../core/clock.ts';
import type { Random } from '../core/random.ts';
import type { Scenario, ServiceModel } from './scenario.ts';
import { finishWithPauses, stream, unitServiceTime, type PauseCycle } from './workload.ts';

/** One target of a scenario with its overrides applied (plain data: it crosses process boundaries). */
export interface TargetModelSpec {
  readonly index: number;
  /** `t3`; `node-1/pod-0` for the double hop's pods. */
  readonly name: string;
  /** The service-time distribution (its mean is the scenario's, before the multiplier). */
  readonly service: ServiceModel;
  /** Requests served at once; the rest wait in FIFO order. */
  readonly concurrency: number;
  /** Mean service time with the latency multiplier applied. */
  readonly meanMs: number;
  readonly errorRatio: number;
  /** How long an error answer takes; absent: a normal service time. */
  readonly errorLatencyMs: number | undefined;
  /** GC pauses, in run time (ms since the run's start). */
  readonly pauses: PauseCycle | undefined;
  readonly warmup: { readonly multiplier: number; readonly ms: number } | undefined;
  /** When it starts and is registered (0: from the start, warm). */
  readonly registerAtMs: number;
  /** Kubernetes node index for the double hop's pods; -1 otherwise. */
  readonly kubeNode: number;
  /** Its position among the pods of its node (the double hop), else 0. */
  readonly podOnNode: number;
}

/**
 * Every target of `scenario` with its overrides applied, in index order. GC phases that the
 * scenario leaves open are drawn from the seed's `gc` stream, one per target in order.
 */
export function resolveTargetModels(scenario: Scenario, seed: number): TargetModelSpec[] {
  const gc = stream(seed, 'gc');
  const kube = scenario.kubernetes;
  const nodeOf: number[] = [];
  if (kube) kube.podsPerNode.forEach((pods, node) => nodeOf.push(...Array.from({ length: pods }, () => node)));
  const podIndexOnNode = new Map<number, number>();
  const out: TargetModelSpec[] = [];
  for (let i = 0; i < scenario.targets.count; i++) {
    const o: {
      latencyMultiplier?: number;
      concurrency?: number;
      errorRatio?: number;
      errorLatencyMs?: number;
      gcPause?: { everyMs: number; pauseMs: number; offsetMs?: number | undefined };
      registerAtSeconds?: number;
      warmup?: { multiplier: number; seconds: number };
    } = {};
    for (const override of scenario.targets.overrides) if (override.targets.includes(i)) Object.assign(o, stripUndefined(override));
    const gcOffset = gc.next();
    const kubeNode = kube ? nodeOf[i]! : -1;
    const podOnNode = podIndexOnNode.get(kubeNode) ?? 0;
    podIndexOnNode.set(kubeNode, podOnNode + 1);
    out.push({
      index: i,
      name: kube ? `node-${kubeNode}/pod-${podOnNode}` : `t${i}`,
      service: scenario.targets.service,
      concurrency: o.concurrency ?? scenario.targets.concurrency,
      meanMs: scenario.targets.service.meanMs * (o.latencyMultiplier ?? 1),
      errorRatio: o.errorRatio ?? 0,
      errorLatencyMs: o.errorLatencyMs,
      pauses: o.gcPause ? { everyMs: o.gcPause.everyMs, pauseMs: o.gcPause.pauseMs, offsetMs: o.gcPause.offsetMs ?? gcOffset * o.gcPause.everyMs } : undefined,
      warmup: o.warmup ? { multiplier: o.warmup.multiplier, ms: o.warmup.seconds * 1000 } : undefined,
      registerAtMs: (o.registerAtSeconds ?? 0) * 1000,
      kubeNode,
      podOnNode: kube ? podOnNode : 0,
    });
  }
  return out;
}

/** The draws that decide one request's work: a service time with mean 1, and a uniform that fails it below the error ratio. */
export interface RequestDraws {
  readonly unit: number;
  readonly errorDraw: number;
}

/** The draws for one request from a stream, in the simulator's order (service-time draw, then error draw). */
export function drawRequest(service: ServiceModel, serviceStream: Random, errorStream: Random): RequestDraws {
  return { unit: unitServiceTime(service, serviceStream), errorDraw: errorStream.next() };
}

/**
 * When work that starts at `startMs` ends, and whether it is an error answer: service time is
 * the unit draw × the target's mean × the warm-up factor (`multiplier` times slower at
 * `startedAtMs`, back to 1 linearly over the warm-up), an error takes `errorLatencyMs` when set,
 * and GC pauses stop the work, not the clock.
 */
export function serviceFinish(spec: TargetModelSpec, draws: RequestDraws, startMs: number, startedAtMs: number): { readonly failed: boolean; readonly finishMs: number } {
  const failed = draws.errorDraw < spec.errorRatio;
  const serviceMs = failed && spec.errorLatencyMs !== undefined ? spec.errorLatencyMs : draws.unit * spec.meanMs * warmupFactor(spec, startMs, startedAtMs);
  return { failed, finishMs: finishWithPauses(startMs, serviceMs, spec.pauses) };
}

/** Cold start: `multiplier` times slower at start, back to normal linearly over the warm-up. */
export function warmupFactor(spec: TargetModelSpec, nowMs: number, startedAtMs: number): number {
  const w = spec.warmup;
  if (w === undefined) return 1;
  const elapsed = nowMs - startedAtMs;
  return elapsed >= w.ms ? 1 : 1 + (w.multiplier - 1) * (1 - elapsed / w.ms);
}

/** How a model target answered one request. */
export interface ModelAnswer {
  readonly failed: boolean;
  /** When it reached the target, started service and was due to finish (the target's clock). */
  readonly arrivalMs: number;
  readonly startMs: number;
  readonly finishMs: number;
}

interface Waiting {
  readonly draws: RequestDraws;
  readonly arrivalMs: number;
  readonly answer: (answer: ModelAnswer) => void;
}

/**
 * A target as the scenario describes it: `concurrency` slots and a FIFO queue on a clock. The
 * real run's target process answers HTTP requests through one; tests drive one on a
 * VirtualClock.
 *
 * A slot is free from its request's modelled finish time, not from when the timer fired: on the
 * real clock a timer fires a little late, and that lateness adds to the request's latency but
 * never compounds into the queue behind it (the next request starts at the modelled finish, or
 * on arrival if it came later).
 */
export class ModelTarget {
  readonly spec: TargetModelSpec;
  readonly #clock: Clock;
  readonly #random: Random;
  #startedAtMs: number;
  #busy = 0;
  readonly #queue: Waiting[] = [];
  #queueHead = 0;
  #peakInFlight = 0;
  #served = 0;

  /**
   * `random` draws for requests that carry no draws of their own (default: the `service/<name>`
   * stream of seed 0). `startedAtMs` is when the process started, for the warm-up; default: warm.
   */
  constructor(spec: TargetModelSpec, options: { readonly clock: Clock; readonly random?: Random; readonly startedAtMs?: number }) {
    this.spec = spec;
    this.#clock = options.clock;
    this.#random = options.random ?? stream(0, `service/${spec.name}`);
    this.#startedAtMs = options.startedAtMs ?? Number.NEGATIVE_INFINITY;
  }

  /** The process (re)starts now: the warm-up runs from here. */
  start(atMs = this.#clock.now()): void {
    this.#startedAtMs = atMs;
  }

  get inService(): number {
    return this.#busy;
  }

  get queued(): number {
    return this.#queue.length - this.#queueHead;
  }

  /** The most requests held at once (in service and queued). */
  get peakInFlight(): number {
    return this.#peakInFlight;
  }

  /** Requests answered so far. */
  get served(): number {
    return this.#served;
  }

  /** Draws for a request that brought none, from this target's own stream. */
  drawOwn(): RequestDraws {
    return drawRequest(this.spec.service, this.#random, this.#random);
  }

  /**
   * Takes a request: it starts at once on a free slot or waits its turn, and `answer` is called
   * when its service ends. The target keeps working on it whatever the client does meanwhile.
   */
  submit(draws: RequestDraws, answer: (answer: ModelAnswer) => void): void {
    const arrivalMs = this.#clock.now();
    const request: Waiting = { draws, arrivalMs, answer };
    if (this.#busy < this.spec.concurrency) this.#start(request, arrivalMs);
    else this.#queue.push(request);
    const held = this.#busy + this.queued;
    if (held > this.#peakInFlight) this.#peakInFlight = held;
  }

  #start(request: Waiting, startMs: number): void {
    this.#busy++;
    const { failed, finishMs } = serviceFinish(this.spec, request.draws, startMs, this.#startedAtMs);
    this.#clock.setTimer(finishMs - this.#clock.now(), () => {
      this.#busy--;
      this.#served++;
      request.answer({ failed, arrivalMs: request.arrivalMs, startMs, finishMs });
      const next = this.#shift();
      if (next !== undefined) this.#start(next, Math.max(finishMs, next.arrivalMs));
    });
  }

  #shift(): Waiting | undefined {
    if (this.#queueHead >= this.#queue.length) return undefined;
    const next = this.#queue[this.#queueHead++]!;
    if (this.#queueHead > 1024 && this.#queueHead * 2 > this.#queue.length) {
      this.#queue.splice(0, this.#queueHead);
      this.#queueHead = 0;
    }
    return next;
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
