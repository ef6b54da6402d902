import type { AlgorithmDescriptor, Pickable, Picker } from './picker.ts';

/**
 * `round_robin` (spec 3.1): rotates through the candidates in order. While some candidate has
 * a weight below 1 (slow start, spec 3.2) it is smooth weighted round robin (nginx's): each
 * pick adds every candidate's weight to its running score, takes the highest score and
 * subtracts the total weight from it, so a target at weight w gets a w-sized share, spread
 * out rather than in bursts.
 */
export class RoundRobinPicker<T extends Pickable = Pickable> implements Picker<T> {
  readonly name = 'round_robin';
  #next = 0;
  #checked: readonly T[] | undefined;
  #weighted = false;
  #scores = new WeakMap<T, number>();

  pick(candidates: readonly T[]): T | undefined {
    if (candidates.length === 0) return undefined;
    if (candidates !== this.#checked) {
      this.#checked = candidates;
      const weighted = candidates.some((c) => (c.weight ?? 1) < 1);
      if (weighted && !this.#weighted) this.#scores = new WeakMap();
      this.#weighted = weighted;
    }
    if (this.#weighted) return this.#smooth(candidates);
    if (this.#next >= candidates.length) this.#next = 0;
    return candidates[this.#next++];
  }

  #smooth(candidates: readonly T[]): T {
    let total = 0;
    let best = candidates[0]!;
    let bestScore = -Infinity;
    for (const c of candidates) {
      const w = c.weight ?? 1;
      const score = (this.#scores.get(c) ?? 0) + w;
      this.#scores.set(c, score);
      total += w;
      if (score > bestScore) {
        best = c;
        bestScore = score;
      }
    }
    this.#scores.set(best, bestScore - total);
    return best;
  }
}

export const roundRobin: AlgorithmDescriptor = {
  name: 'round_robin',
  aws: true,
  description: "rotates over the healthy targets; while a target is in slow start, smooth weighted round robin (nginx's), so a target at weight w gets a w-sized share, spread out",
  create: () => new RoundRobinPicker(),
};
