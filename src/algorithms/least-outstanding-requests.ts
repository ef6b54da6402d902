import type { AlgorithmDescriptor, Pickable, Picker } from './picker.ts';

/**
 * `least_outstanding_requests` (spec 3.1): the candidate with the fewest requests in flight.
 * Ties (UNCONFIRMED in AWS) go round robin over the tied candidates only, so equally loaded
 * targets share the traffic evenly, wherever they sit in the list.
 */
export class LeastOutstandingRequestsPicker<T extends Pickable = Pickable> implements Picker<T> {
  readonly name = 'least_outstanding_requests';
  #turn = 0;

  pick(candidates: readonly T[]): T | undefined {
    let least = Infinity;
    let ties = 0;
    for (const c of candidates) {
      if (c.outstanding < least) {
        least = c.outstanding;
        ties = 1;
      } else if (c.outstanding === least) ties++;
    }
    if (ties === 0) return undefined;
    let skip = this.#turn % ties;
    this.#turn = (this.#turn + 1) % 0x7fffffff;
    for (const c of candidates) if (c.outstanding === least && skip-- === 0) return c;
    return undefined;
  }
}

export const leastOutstandingRequests: AlgorithmDescriptor = {
  name: 'least_outstanding_requests',
  aws: true,
  description: 'fewest requests in flight; round robin among ties',
  create: () => new LeastOutstandingRequestsPicker(),
};
