/**
 * NLB ALPN policies (spec 12.6.3): each policy's preference list, and the protocol an NLB TLS
 * listener picks from a client's list, by the policy's order. No overlap (or policy `None`) picks
 * nothing, and the handshake goes on without ALPN.
 */

/** Each `AlpnPolicy` and its server preference list, in AWS's spelling and order. */
export const ALPN_POLICY_PROTOCOLS = Object.freeze({
  None: Object.freeze([]),
  HTTP1Only: Object.freeze(['http/1.1', 'http/1.0']),
  HTTP2Only: Object.freeze(['h2']),
  HTTP2Optional: Object.freeze(['http/1.1', 'http/1.0', 'h2']),
  HTTP2Preferred: Object.freeze(['h2', 'http/1.1', 'http/1.0']),
} as const satisfies Record<string, readonly string[]>);

export type AlpnPolicy = keyof typeof ALPN_POLICY_PROTOCOLS;

/** The protocol the listener negotiates with a client offering `clientProtocols` (undefined: no ALPN). */
export function selectAlpnProtocol(policy: AlpnPolicy, clientProtocols: readonly string[] | undefined): string | undefined {
  if (clientProtocols === undefined) return undefined;
  return (ALPN_POLICY_PROTOCOLS[policy] as readonly string[]).find((p) => clientProtocols.includes(p));
}
