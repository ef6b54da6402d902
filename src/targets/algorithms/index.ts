import { KubeProxyRandomPicker } from './kube-proxy-random.ts';
import { LeastOutstandingRequestsPicker } from './least-outstanding-requests.ts';
import type { Pickable, Picker, PickerOptions } from './picker.ts';
import { PowerOfTwoChoicesPicker } from './power-of-two-choices.ts';
import { RandomPicker } from './random.ts';
import { RoundRobinPicker } from './round-robin.ts';
import { WeightedRandomPicker } from './weighted-random.ts';

export type { Outcome, Pickable, PickContext, Picker, PickerOptions } from './picker.ts';
export { AutomaticTargetWeights, type AnomalyDetection, type AutomaticTargetWeightsSettings } from './automatic-target-weights.ts';
export { FlowHashPicker, flowHash } from './flow-hash.ts';
export { KubeProxyRandomPicker, kubeProxyRuleProbabilities } from './kube-proxy-random.ts';
export { LeastOutstandingRequestsPicker } from './least-outstanding-requests.ts';
export { PowerOfTwoChoicesPicker } from './power-of-two-choices.ts';
export { RandomPicker } from './random.ts';
export { RoundRobinPicker } from './round-robin.ts';
export { WeightedRandomPicker } from './weighted-random.ts';

/**
 * Every picker by name. The first three are the `load_balancing.algorithm.type` values of an
 * ALB (spec 3.1, `awsAlgorithms`); `random`, `power_of_two_choices` and `kube_proxy_random` run
 * in the routing-algorithm lab and through the library, never from an ELB config.
 */
export const algorithms = {
  round_robin: () => new RoundRobinPicker(),
  least_outstanding_requests: () => new LeastOutstandingRequestsPicker(),
  weighted_random: (options?: PickerOptions) => new WeightedRandomPicker(options),
  random: (options?: PickerOptions) => new RandomPicker(options),
  power_of_two_choices: (options?: PickerOptions) => new PowerOfTwoChoicesPicker(options),
  kube_proxy_random: (options?: PickerOptions) => new KubeProxyRandomPicker(options),
} as const satisfies Record<string, (options?: PickerOptions) => Picker>;

export type AlgorithmName = keyof typeof algorithms;

/** The values the ALB attribute `load_balancing.algorithm.type` takes (spec 3.1). */
export const awsAlgorithms = ['round_robin', 'least_outstanding_requests', 'weighted_random'] as const satisfies readonly AlgorithmName[];

export function isAlgorithmName(name: string): name is AlgorithmName {
  return Object.hasOwn(algorithms, name);
}

export function createPicker<T extends Pickable>(name: string, options?: PickerOptions): Picker<T> {
  if (!isAlgorithmName(name)) throw new RangeError(`unknown load_balancing.algorithm.type ${JSON.stringify(name)}; known: ${Object.keys(algorithms).join(', ')}`);
  return algorithms[name](options) as unknown as Picker<T>;
}
