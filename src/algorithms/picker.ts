import type { Random } from '../core/random.ts';

/**
 * A picker only answers "which one next" among the candidates the target group hands it
 * (healthy targets, or all registered ones when failing open). It never probes, sleeps or
 * logs, and fail-open is never its decision. Counters it reads (outstanding requests) live
 * on the targets, kept by the target group's leases.
 */
export interface Pickable {
  /** Requests in flight on this target. */
  readonly outstanding: number;
  /**
   * Slow start (spec 3.2): the share of a full target's traffic this one should take, in
   * (0, 1]; absent means 1. The target group changes it only while a target is in slow
   * start, and hands the picker a new candidates array when a weight goes to or from 1.
   */
  readonly weight?: number;
}

/**
 * Automatic target weights (spec 3.1) as a picker reads them: kept by the target group from
 * the outcomes its leases report (targets/outcome-stats.ts), never by the picker.
 */
export interface AutomaticWeights {
  /** True while some target's weight is below 1. */
  readonly anyMitigated: boolean;
  weightOf(target: object): number;
}

/** What a picker may know about the request or flow it chooses for. */
export interface PickContext {
  /** NLB: the hash of the flow's tuple (spec 3.5), an unsigned 32-bit integer. */
  readonly flowHash?: number;
  /** Randomness for this pick (the lab passes a seeded one); random pickers use their own otherwise. */
  readonly random?: Random;
  /** The group's automatic target weights (weighted_random draws by them). */
  readonly weights?: AutomaticWeights;
}

/**
 * How a request ended, as the holder of its lease reports it when it releases the lease:
 * `error` for a 5XX or a connection error (what ALB anomaly detection counts, spec 3.1).
 */
export type Outcome = 'ok' | 'error';

export interface Picker<T extends Pickable = Pickable> {
  /** The `load_balancing.algorithm.type` value this picker implements (`flow_hash` for NLB). */
  readonly name: string;
  /** Chooses one of `candidates` (never empty when called by a target group). */
  pick(candidates: readonly T[], ctx?: PickContext): T | undefined;
}

/** What `createPicker` may hand a picker; each picker takes what it needs and ignores the rest. */
export interface PickerOptions {
  /** Random pickers' randomness (default `Math.random`); a `PickContext.random` overrides it per pick. */
  readonly random?: Random;
}

/**
 * One routing algorithm: what the registry (registry.ts) lists, and what the config's
 * `load_balancing.algorithm.type`, the README's table and `createPicker` all read.
 */
export interface AlgorithmDescriptor {
  readonly name: string;
  /** An ALB `load_balancing.algorithm.type` value (spec 3.1); the others run in the lab and the library only. */
  readonly aws: boolean;
  /** One line for the README's table of algorithms. */
  readonly description: string;
  create(options?: PickerOptions): Picker;
}
