import { mathRandom, type Random } from '../core/random.ts';
import type { AlgorithmDescriptor, Pickable, PickContext, Picker, PickerOptions } from './picker.ts';

/**
 * `power_of_two_choices` (lab only, not an AWS value; Mitzenmacher 1996, Envoy's least_request
 * with two choices): draws two distinct candidates uniformly and takes the one with fewer
 * requests in flight, the first drawn on a tie. O(1) per pick, and the maximum load falls from
 * Θ(log n / log log n) (random) to Θ(log log n).
 */
export class PowerOfTwoChoicesPicker<T extends Pickable = Pickable> implements Picker<T> {
  readonly name = 'power_of_two_choices';
  readonly #random: Random;

  constructor(options: PickerOptions = {}) {
    this.#random = options.random ?? mathRandom;
  }

  pick(candidates: readonly T[], ctx?: PickContext): T | undefined {
    const n = candidates.length;
    if (n <= 1) return candidates[0];
    const random = ctx?.random ?? this.#random;
    const i = Math.floor(random.next() * n);
    let j = Math.floor(random.next() * (n - 1));
    if (j >= i) j++;
    const a = candidates[i]!;
    const b = candidates[j]!;
    return b.outstanding < a.outstanding ? b : a;
  }
}

export const powerOfTwoChoices: AlgorithmDescriptor = {
  name: 'power_of_two_choices',
  aws: false,
  description: 'two distinct random targets, the one with fewer in flight (Mitzenmacher)',
  create: (options) => new PowerOfTwoChoicesPicker(options),
};
