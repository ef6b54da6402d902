import type { Clock } from '../../core/clock.ts';
import type { Random } from '../../core/random.ts';
import type { AutomaticTargetWeightsSettings } from './automatic-target-weights.ts';

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

/** What a picker may know about the request or flow it chooses for. */
export interface PickContext {
  /** NLB: the hash of the flow's tuple (spec 3.5), an unsigned 32-bit integer. */
  readonly flowHash?: number;
  /** Randomness for this pick (the lab passes a seeded one); random pickers use their own otherwise. */
  readonly random?: Random;
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
  /**
   * Called by the target group when a lease on `target` is released with an outcome (the
   * HAProxy "connection dropped" hook). Pickers that learn from outcomes (weighted_random's
   * anomaly detection) count it; it must not throw, block or pick.
   */
  onResult?(target: T, outcome: Outcome): void;
}

/** What `createPicker` may hand a picker; each picker takes what it needs and ignores the rest. */
export interface PickerOptions {
  /** Random pickers' randomness (default `Math.random`); a `PickContext.random` overrides it per pick. */
  readonly random?: Random;
  /** The target group's clock: weighted_random evaluates anomalies on it. */
  readonly clock?: Clock;
  /** `load_balancing.algorithm.anomaly_mitigation` is `on` (weighted_random only). */
  readonly anomalyMitigation?: boolean;
  /** Anomaly detection and mitigation numbers (UNCONFIRMED in AWS); defaults in `automaticTargetWeightsDefaults`. */
  readonly automaticTargetWeights?: Partial<AutomaticTargetWeightsSettings>;
}
