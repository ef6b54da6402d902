import { mathRandom, type Random } from '../core/random.ts';
import type { AlgorithmDescriptor, Pickable, PickContext, Picker, PickerOptions } from './picker.ts';

/**
 * The probability of rule `i` (0-based) of `n` in kube-proxy's `KUBE-SVC-*` chain (spec 10.3),
 * as iptables gets it: `1/(n−i)` printed with `%0.10f`; the last rule has none (always matches).
 */
export function kubeProxyRuleProbabilities(n: number): (string | undefined)[] {
  return Array.from({ length: n }, (_, i) => (i === n - 1 ? undefined : (1 / (n - i)).toFixed(10)));
}

/**
 * `kube_proxy_random` (lab only): kube-proxy's iptables mode (spec 10.3). The rules are tried in
 * order and each draws its own random number (`-m statistic --mode random --probability p`),
 * with p rounded to 10 decimals as kube-proxy writes it; the last rule always matches. The
 * result is uniform over the endpoints, per new connection (conntrack keeps it), load-blind.
 */
export class KubeProxyRandomPicker<T extends Pickable = Pickable> implements Picker<T> {
  readonly name = 'kube_proxy_random';
  readonly #random: Random;
  #probabilities: number[] = [];

  constructor(options: PickerOptions = {}) {
    this.#random = options.random ?? mathRandom;
  }

  pick(candidates: readonly T[], ctx?: PickContext): T | undefined {
    const n = candidates.length;
    if (n === 0) return undefined;
    if (this.#probabilities.length !== n) this.#probabilities = kubeProxyRuleProbabilities(n).map((p) => (p === undefined ? 1 : Number(p)));
    const random = ctx?.random ?? this.#random;
    for (let i = 0; i < n - 1; i++) if (random.next() < this.#probabilities[i]!) return candidates[i];
    return candidates[n - 1];
  }
}

export const kubeProxyRandom: AlgorithmDescriptor = {
  name: 'kube_proxy_random',
  aws: false,
  description: "kube-proxy's iptables chain (spec 10.3): rule i of n matches with probability 1/(n−i) written with 10 decimals (`0.3333333333`), each rule with its own draw; the last always matches",
  create: (options) => new KubeProxyRandomPicker(options),
};
