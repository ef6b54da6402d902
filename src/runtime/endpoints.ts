/**
 * Endpoints as EndpointSlices describe them (spec 10.1), and which of them the AWS Load
 * Balancer Controller registers as `ip` targets (spec 9.6). One rule for every source of
 * endpoints: the EndpointSlices of a kind cluster and the local pods alike.
 */

/** One endpoint of a Service port (discovery.k8s.io/v1 conditions). */
export interface Endpoint {
  readonly address: string;
  readonly port: number;
  /** `conditions.ready`; undefined means unknown, which counts as ready. */
  readonly ready: boolean | undefined;
  readonly terminating: boolean;
  /** The pod's `ContainersReady` condition: every readiness probe passes (a readiness gate may still be pending). */
  readonly containersReady: boolean;
  /** The node's `Ready` condition. */
  readonly nodeReady: 'True' | 'False' | 'Unknown';
  /** The pod behind the endpoint (`namespace/name`, or a local pod's name), for readiness gates. */
  readonly pod?: string;
}

/** A target the controller wants registered. */
export interface DesiredTarget {
  readonly id: string;
  readonly port: number;
  /** The pod behind an `ip` target, for readiness gates. */
  readonly pod?: string;
}

/**
 * `ip` targets from endpoints (spec 9.6): ready (or unknown) endpoints; else pods whose
 * containers are ready on Ready nodes and are not terminating (a readiness gate is pending);
 * else, only if nothing qualifies, endpoints on nodes whose readiness is Unknown. Terminating
 * endpoints are never targets. Sorted by address and port.
 */
export function desiredTargets(endpoints: readonly Endpoint[]): DesiredTarget[] {
  const chosen = new Map<string, DesiredTarget>();
  const fallback = new Map<string, DesiredTarget>();
  for (const ep of endpoints) {
    const target: DesiredTarget = { id: ep.address, port: ep.port, ...(ep.pod !== undefined ? { pod: ep.pod } : {}) };
    const key = `${ep.address}:${ep.port}`;
    if (ep.ready !== false) {
      chosen.set(key, target);
      continue;
    }
    if (ep.terminating) continue;
    if (ep.containersReady && ep.nodeReady === 'True') chosen.set(key, target);
    else if (ep.nodeReady === 'Unknown') fallback.set(key, target);
  }
  const out = chosen.size > 0 ? chosen : fallback;
  return [...out.values()].sort((a, b) => a.id.localeCompare(b.id) || a.port - b.port);
}
