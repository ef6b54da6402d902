import { mathRandom, type Random } from '../core/random.ts';
import type { AlgorithmDescriptor, Pickable, PickContext, Picker, PickerOptions } from './picker.ts';

/**
 * `random` (lab only, not an AWS value): each candidate with probability 1/n, whatever its
 * load. The baseline of the balls-into-bins results that power of two choices improves on.
 */
export class RandomPicker<T extends Pickable = Pickable> implements Picker<T> {
  readonly name = 'random';
  readonly #random: Random;

  constructor(options: PickerOptions = {}) {
    this.#random = options.random ?? mathRandom;
  }

  pick(candidates: readonly T[], ctx?: PickContext): T | undefined {
    if (candidates.length === 0) return undefined;
    return candidates[Math.floor((ctx?.random ?? this.#random).next() * candidates.length)];
  }
}

export const uniformRandom: AlgorithmDescriptor = {
  name: 'random',
  aws: false,
  description: 'uniform, load-blind',
  create: (options) => new RandomPicker(options),
};
