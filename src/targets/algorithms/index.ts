import { LeastOutstandingRequestsPicker } from './least-outstanding-requests.ts';
import type { Pickable, Picker } from './picker.ts';
import { RoundRobinPicker } from './round-robin.ts';

export type { Pickable, PickContext, Picker } from './picker.ts';
export { FlowHashPicker, flowHash } from './flow-hash.ts';
export { LeastOutstandingRequestsPicker } from './least-outstanding-requests.ts';
export { RoundRobinPicker } from './round-robin.ts';

/** The `load_balancing.algorithm.type` values a target group can run. */
export const algorithms = {
  round_robin: () => new RoundRobinPicker(),
  least_outstanding_requests: () => new LeastOutstandingRequestsPicker(),
} as const satisfies Record<string, () => Picker>;

export type AlgorithmName = keyof typeof algorithms;

export function createPicker<T extends Pickable>(name: string): Picker<T> {
  const make = (algorithms as Record<string, (() => Picker) | undefined>)[name];
  if (make === undefined) throw new RangeError(`unknown load_balancing.algorithm.type ${JSON.stringify(name)}; known: ${Object.keys(algorithms).join(', ')}`);
  return make() as Picker<T>;
}
