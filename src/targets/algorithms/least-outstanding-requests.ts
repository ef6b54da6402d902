import type { Pickable, Picker } from './picker.ts';

/**
 * `least_outstanding_requests` (spec 3.1): the candidate with the fewest requests in flight.
 * Ties (UNCONFIRMED in AWS) go round robin: the scan starts one place later each pick, so
 * equally loaded targets share the traffic instead of the first one taking it all.
 */
export class LeastOutstandingRequestsPicker<T extends Pickable = Pickable> implements Picker<T> {
  readonly name = 'least_outstanding_requests';
  #start = 0;

  pick(candidates: readonly T[]): T | undefined {
    const n = candidates.length;
    if (n === 0) return undefined;
    if (this.#start >= n) this.#start = 0;
    let best: T | undefined;
    for (let i = 0; i < n; i++) {
      const c = candidates[(this.#start + i) % n]!;
      if (best === undefined || c.outstanding < best.outstanding) best = c;
    }
    this.#start++;
    return best;
  }
}
