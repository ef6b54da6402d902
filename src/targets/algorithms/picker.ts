/**
 * A picker only answers "which one next" among the candidates the target group hands it
 * (healthy targets, or all registered ones when failing open). It never probes, sleeps or
 * logs, and fail-open is never its decision. Counters it reads (outstanding requests) live
 * on the targets, kept by the target group's leases.
 */
export interface Pickable {
  /** Requests in flight on this target. */
  readonly outstanding: number;
}

/** What a picker may know about the request or flow it chooses for. */
export interface PickContext {
  /** NLB: the hash of the flow's tuple (spec 3.5), an unsigned 32-bit integer. */
  readonly flowHash?: number;
}

export interface Picker<T extends Pickable = Pickable> {
  /** The `load_balancing.algorithm.type` value this picker implements (`flow_hash` for NLB). */
  readonly name: string;
  /** Chooses one of `candidates` (never empty when called by a target group). */
  pick(candidates: readonly T[], ctx?: PickContext): T | undefined;
}
