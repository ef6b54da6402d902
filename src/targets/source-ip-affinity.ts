/**
 * NLB `source_ip` stickiness (spec 3.5): which target each client address's new flows go to.
 * The target group asks here before it chooses for a new flow; a binding holds while its
 * target can take new flows, and is replaced by the target chosen otherwise. Bounded: when
 * full, the binding used least recently goes first.
 */
export class SourceIpAffinity {
  /** Client address → target key, least recently used first (a Map keeps insertion order). */
  readonly #bound = new Map<string, string>();
  readonly #maxEntries: number;

  constructor(maxEntries = 65_536) {
    this.#maxEntries = maxEntries;
  }

  get size(): number {
    return this.#bound.size;
  }

  /** The target key `clientIp`'s flows are bound to, if any. */
  get(clientIp: string): string | undefined {
    return this.#bound.get(clientIp);
  }

  /** Binds `clientIp` to `targetKey` (again), as the most recently used binding. */
  bind(clientIp: string, targetKey: string): void {
    this.#bound.delete(clientIp);
    this.#bound.set(clientIp, targetKey);
    if (this.#bound.size > this.#maxEntries) this.#bound.delete(this.#bound.keys().next().value!);
  }

  /** Stickiness was turned off: every binding is forgotten. */
  clear(): void {
    this.#bound.clear();
  }
}
