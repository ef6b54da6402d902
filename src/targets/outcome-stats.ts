/**
 * A target group's outcome statistics: automatic target weights (spec 3.1). Anomaly detection
 * over the outcomes that leases report, and, with `load_balancing.algorithm.anomaly_mitigation`
 * on, weights that shrink for an anomalous target and grow back when it recovers; the
 * weighted_random picker reads them through its pick context. AWS publishes none of the
 * numbers; the ones used here are settings (`automaticTargetWeightsDefaults`, in the README).
 *
 * Evaluation is lazy: the target group calls `evaluate` on every acquire with its clock, and
 * the work happens once per `evaluationIntervalSeconds`, so no timer runs.
 */
import type { Clock } from '../core/clock.ts';
import type { AutomaticWeights, Outcome } from '../algorithms/picker.ts';
import { automaticTargetWeightsDefaults } from '../config/schema.ts';

export interface AutomaticTargetWeightsSettings {
  readonly evaluationIntervalSeconds: number;
  readonly windowSeconds: number;
  readonly minimumRequests: number;
  readonly minimumErrorRatio: number;
  readonly errorRatioMultiple: number;
  readonly reductionFactor: number;
  readonly recoveryFactor: number;
  readonly minimumWeight: number;
}

/** AWS: anomaly detection needs at least three healthy targets in the group (spec 3.1). */
export const MINIMUM_TARGETS_FOR_DETECTION = 3;

/** What `DescribeTargetHealth --include AnomalyDetection` shows for one target. */
export interface AnomalyDetection {
  readonly result: 'normal' | 'anomalous';
  readonly mitigationInEffect: 'yes' | 'no';
  /** The target's weight, 1 when not mitigated. */
  readonly weight: number;
}

interface TargetStats {
  /** Outcomes per evaluation interval, a ring of `buckets` slots; the current slot is `epoch % buckets`. */
  readonly ok: Float64Array;
  readonly errors: Float64Array;
  anomalous: boolean;
  weight: number;
}

export class OutcomeStats<T extends object = object> implements AutomaticWeights {
  readonly settings: AutomaticTargetWeightsSettings;
  readonly mitigation: boolean;
  readonly #clock: Clock | undefined;
  readonly #intervalMs: number;
  readonly #buckets: number;
  readonly #stats = new Map<T, TargetStats>();
  #epoch = 0;
  #nextEvaluationMs: number | undefined;
  #mitigated = 0;

  constructor(options: { clock?: Clock; mitigation?: boolean; settings?: Partial<AutomaticTargetWeightsSettings> } = {}) {
    this.settings = { ...automaticTargetWeightsDefaults, ...options.settings };
    this.mitigation = options.mitigation ?? false;
    this.#clock = options.clock;
    this.#intervalMs = this.settings.evaluationIntervalSeconds * 1000;
    this.#buckets = Math.max(1, Math.ceil(this.settings.windowSeconds / this.settings.evaluationIntervalSeconds));
  }

  /** True while at least one target's weight is below 1 (the picker then draws by weight). */
  get anyMitigated(): boolean {
    return this.#mitigated > 0;
  }

  /** Counts one outcome for `target` in the current interval. */
  record(target: T, outcome: Outcome): void {
    const stats = this.#statsOf(target);
    const slot = this.#epoch % this.#buckets;
    if (outcome === 'error') stats.errors[slot]! += 1;
    else stats.ok[slot]! += 1;
  }

  /** The weight the picker uses for `target` (1 unless mitigated). */
  weightOf(target: object): number {
    return this.#stats.get(target as T)?.weight ?? 1;
  }

  detection(target: T): AnomalyDetection {
    const stats = this.#stats.get(target);
    const weight = stats?.weight ?? 1;
    return { result: stats?.anomalous ? 'anomalous' : 'normal', mitigationInEffect: weight < 1 ? 'yes' : 'no', weight };
  }

  /** `AnomalousHostCount` and `MitigatedHostCount` (spec 8.3). */
  counts(): { anomalousHostCount: number; mitigatedHostCount: number } {
    let anomalous = 0;
    for (const s of this.#stats.values()) if (s.anomalous) anomalous++;
    return { anomalousHostCount: anomalous, mitigatedHostCount: this.#mitigated };
  }

  /**
   * Runs the evaluations that have fallen due by the clock's `now`, over `candidates` (the
   * targets the group routes to). Without a clock, `evaluateNow` must be called instead.
   */
  evaluate(candidates: readonly T[]): void {
    if (this.#clock === undefined) return;
    const now = this.#clock.now();
    if (this.#nextEvaluationMs === undefined) {
      this.#nextEvaluationMs = now + this.#intervalMs;
      return;
    }
    if (now < this.#nextEvaluationMs) return;
    // After a long quiet spell, evaluating once per missed interval would only age the window out.
    const missed = Math.floor((now - this.#nextEvaluationMs) / this.#intervalMs);
    for (let i = 0; i < Math.min(missed, this.#buckets); i++) this.evaluateNow(candidates);
    this.evaluateNow(candidates);
    this.#nextEvaluationMs += (missed + 1) * this.#intervalMs;
  }

  /** One evaluation: judge every candidate over the window, adjust weights, start a new interval. */
  evaluateNow(candidates: readonly T[]): void {
    const s = this.settings;
    const present = new Set<T>(candidates);
    for (const target of [...this.#stats.keys()]) if (!present.has(target)) this.#stats.delete(target);
    const totals = candidates.map((t) => this.#window(this.#statsOf(t)));
    let allRequests = 0;
    let allErrors = 0;
    for (const w of totals) {
      allRequests += w.requests;
      allErrors += w.errors;
    }
    const detect = candidates.length >= MINIMUM_TARGETS_FOR_DETECTION;
    this.#mitigated = 0;
    candidates.forEach((target, i) => {
      const stats = this.#statsOf(target);
      const { requests, errors } = totals[i]!;
      if (!detect) stats.anomalous = false;
      else if (requests >= s.minimumRequests) {
        const ratio = errors / requests;
        const otherRequests = allRequests - requests;
        const othersRatio = otherRequests > 0 ? (allErrors - errors) / otherRequests : 0;
        stats.anomalous = ratio >= s.minimumErrorRatio && ratio >= s.errorRatioMultiple * othersRatio;
      }
      // Too few outcomes to judge: the target keeps its verdict until it has enough.
      if (this.mitigation) {
        stats.weight = stats.anomalous ? Math.max(s.minimumWeight, stats.weight * s.reductionFactor) : Math.min(1, stats.weight * s.recoveryFactor);
      } else stats.weight = 1;
      if (stats.weight < 1) this.#mitigated++;
    });
    this.#epoch++;
    const slot = this.#epoch % this.#buckets;
    for (const stats of this.#stats.values()) {
      stats.ok[slot] = 0;
      stats.errors[slot] = 0;
    }
  }

  #window(stats: TargetStats): { requests: number; errors: number } {
    let ok = 0;
    let errors = 0;
    for (let i = 0; i < this.#buckets; i++) {
      ok += stats.ok[i]!;
      errors += stats.errors[i]!;
    }
    return { requests: ok + errors, errors };
  }

  #statsOf(target: T): TargetStats {
    let stats = this.#stats.get(target);
    if (stats === undefined) {
      stats = { ok: new Float64Array(this.#buckets), errors: new Float64Array(this.#buckets), anomalous: false, weight: 1 };
      this.#stats.set(target, stats);
    }
    return stats;
  }
}
