import type { Pickable, Picker } from './picker.ts';

/** `round_robin` (spec 3.1): rotates through the candidates in order. */
export class RoundRobinPicker<T extends Pickable = Pickable> implements Picker<T> {
  readonly name = 'round_robin';
  #next = 0;

  pick(candidates: readonly T[]): T | undefined {
    if (candidates.length === 0) return undefined;
    if (this.#next >= candidates.length) this.#next = 0;
    return candidates[this.#next++];
  }
}
