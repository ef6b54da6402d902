import { mathRandom, type Random } from '../../core/random.ts';
import { AutomaticTargetWeights, type AnomalyDetection } from './automatic-target-weights.ts';
import type { Outcome, Pickable, PickContext, Picker, PickerOptions } from './picker.ts';

/**
 * `weighted_random` (spec 3.1): a random candidate, each with probability proportional to its
 * weight. The weights are Automatic Target Weights: all 1 until anomaly detection flags a
 * target and `load_balancing.algorithm.anomaly_mitigation` is on, then the anomalous target's
 * weight shrinks each evaluation and grows back once it recovers (AutomaticTargetWeights).
 * A candidate's own `weight` (slow start) multiplies in, though the config forbids slow start
 * with this algorithm, as AWS is reported to.
 */
export class WeightedRandomPicker<T extends Pickable = Pickable> implements Picker<T> {
  readonly name = 'weighted_random';
  readonly weights: AutomaticTargetWeights<T>;
  readonly #random: Random;
  #checked: readonly T[] | undefined;
  #ownWeights = false;

  constructor(options: PickerOptions = {}) {
    this.#random = options.random ?? mathRandom;
    this.weights = new AutomaticTargetWeights<T>({
      ...(options.clock ? { clock: options.clock } : {}),
      mitigation: options.anomalyMitigation ?? false,
      ...(options.automaticTargetWeights ? { settings: options.automaticTargetWeights } : {}),
    });
  }

  pick(candidates: readonly T[], ctx?: PickContext): T | undefined {
    const n = candidates.length;
    if (n === 0) return undefined;
    this.weights.evaluate(candidates);
    const random = ctx?.random ?? this.#random;
    if (candidates !== this.#checked) {
      this.#checked = candidates;
      this.#ownWeights = candidates.some((c) => (c.weight ?? 1) < 1);
    }
    if (!this.weights.anyMitigated && !this.#ownWeights) return candidates[Math.floor(random.next() * n)];
    let total = 0;
    for (const c of candidates) total += this.#weight(c);
    let r = random.next() * total;
    for (const c of candidates) {
      r -= this.#weight(c);
      if (r < 0) return c;
    }
    return candidates[n - 1];
  }

  onResult(target: T, outcome: Outcome): void {
    this.weights.record(target, outcome);
  }

  /** `DescribeTargetHealth --include AnomalyDetection` for one target. */
  anomalyDetection(target: T): AnomalyDetection {
    return this.weights.detection(target);
  }

  #weight(c: T): number {
    return this.weights.weightOf(c) * (c.weight ?? 1);
  }
}
