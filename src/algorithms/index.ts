/** Routing algorithms: pickers that only choose among the candidates a target group hands them. */
export type { AlgorithmDescriptor, AutomaticWeights, Outcome, Pickable, PickContext, Picker, PickerOptions } from './picker.ts';
export { algorithmRegistry, algorithms, awsAlgorithms, createPicker, isAlgorithmName, type AlgorithmName } from './registry.ts';
export { FlowHashPicker, flowHash } from './flow-hash.ts';
export { KubeProxyRandomPicker, kubeProxyRuleProbabilities } from './kube-proxy-random.ts';
export { LeastOutstandingRequestsPicker } from './least-outstanding-requests.ts';
export { PowerOfTwoChoicesPicker } from './power-of-two-choices.ts';
export { RandomPicker } from './random.ts';
export { RoundRobinPicker } from './round-robin.ts';
export { WeightedRandomPicker } from './weighted-random.ts';
