/**
 * Every routing algorithm, one line each. The config's `load_balancing.algorithm.type` takes
 * the `aws` ones (spec 3.1), the lab and `createPicker` take them all, and a test holds the
 * README's table of algorithms to their descriptions. A new algorithm is its own file and one
 * line here.
 */
import { kubeProxyRandom } from './kube-proxy-random.ts';
import { leastOutstandingRequests } from './least-outstanding-requests.ts';
import type { AlgorithmDescriptor, Pickable, Picker, PickerOptions } from './picker.ts';
import { powerOfTwoChoices } from './power-of-two-choices.ts';
import { uniformRandom } from './random.ts';
import { roundRobin } from './round-robin.ts';
import { weightedRandom } from './weighted-random.ts';

export const algorithmRegistry = [roundRobin, leastOutstandingRequests, weightedRandom, uniformRandom, powerOfTwoChoices, kubeProxyRandom] as const satisfies readonly AlgorithmDescriptor[];

export type AlgorithmName = (typeof algorithmRegistry)[number]['name'];

/** Every picker by name. */
export const algorithms: Readonly<Record<string, (options?: PickerOptions) => Picker>> = Object.fromEntries(algorithmRegistry.map((a) => [a.name, a.create]));

/** The values the ALB attribute `load_balancing.algorithm.type` takes (spec 3.1). */
export const awsAlgorithms: readonly string[] = algorithmRegistry.filter((a) => a.aws).map((a) => a.name);

export function isAlgorithmName(name: string): name is AlgorithmName {
  return algorithmRegistry.some((a) => a.name === name);
}

export function createPicker<T extends Pickable>(name: string, options?: PickerOptions): Picker<T> {
  const algorithm = algorithmRegistry.find((a) => a.name === name);
  if (algorithm === undefined) throw new RangeError(`unknown load_balancing.algorithm.type ${JSON.stringify(name)}; known: ${algorithmRegistry.map((a) => a.name).join(', ')}`);
  return algorithm.create(options) as unknown as Picker<T>;
}
