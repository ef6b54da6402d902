import { mathRandom, type Random } from '../core/random.ts';
import type { AlgorithmDescriptor, Pickable, PickContext, Picker, PickerOptions } from './picker.ts';

/**
 * `weighted_random` (spec 3.1): a random candidate, each with probability proportional to its
 * weight. The weights are Automatic Target Weights, which the target group keeps from lease
 * outcomes and hands over in the pick context: all 1 until anomaly detection flags a target
 * and `load_balancing.algorithm.anomaly_mitigation` is on. A candidate's own `weight` (slow
 * start) multiplies in, though the config forbids slow start with this algorithm, as AWS is
 * reported to.
 */
export class WeightedRandomPicker<T extends Pickable = Pickable> implements Picker<T> {
  readonly name = 'weighted_random';
  readonly #random: Random;
  #checked: readonly T[] | undefined;
  #ownWeights = false;

  constructor(options: PickerOptions = {}) {
    this.#random = options.random ?? mathRandom;
  }

  pick(candidates: readonly T[], ctx?: PickContext): T | undefined {
    const n = candidates.length;
    if (n === 0) return undefined;
    const random = ctx?.random ?? this.#random;
    if (candidates !== this.#checked) {
      this.#checked = candidates;
      this.#ownWeights = candidates.some((c) => (c.weight ?? 1) < 1);
    }
    const weights = ctx?.weights;
    if ((weights === undefined || !weights.anyMitigated) && !this.#ownWeights) return candidates[Math.floor(random.next() * n)];
    const weightOf = (c: T) => (weights?.weightOf(c) ?? 1) * (c.weight ?? 1);
    let total = 0;
    for (const c of candidates) total += weightOf(c);
    let r = random.next() * total;
    for (const c of candidates) {
      r -= weightOf(c);
      if (r < 0) return c;
    }
    return candidates[n - 1];
  }
}

export const weightedRandom: AlgorithmDescriptor = {
  name: 'weighted_random',
  aws: true,
  description: 'random, weighted by automatic target weights (all 1 until anomaly mitigation turns a target down)',
  create: (options) => new WeightedRandomPicker(options),
};
