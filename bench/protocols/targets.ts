/**
 * What the protocols bench's targets child (child-targets.ts) serves, shared by the parent and
 * its children: the order of the ports it reports, and the small message each workload sends.
 */
export const TARGET_SERVERS = [
  /** `ws` echo server on plain HTTP (also GET /healthz → 200): direct ws:// and the ALB's target. */
  'ws',
  /** The same echo server on HTTPS: direct wss://, the baseline of the HTTPS listener. */
  'wss',
  /** grpc-js serving test/fixtures/echo.proto, insecure: direct and the GRPC target group's target. */
  'grpc',
  /** The same over TLS: the direct TLS baseline and the GRPC target group with protocol HTTPS. */
  'grpcs',
  /** node:http2 secure server (ALPN h2): direct HTTP/2 over TLS, h2load's baseline. */
  'h2',
  /** node:http2 cleartext server (prior knowledge): direct h2c, and the HTTP2 target group's target. */
  'h2c',
  /** node:http HTTP/1.1 server: the HTTP1 target group's target. */
  'http1',
] as const;
export type TargetServer = (typeof TARGET_SERVERS)[number];
export type TargetPorts = Readonly<Record<TargetServer, number>>;

/** Names the targets' certificate covers (issued by the local CA the ALB's listeners use too). */
export const TARGET_CERTIFICATE_NAMES = ['localhost', '127.0.0.1'] as const;

export function targetPorts(ports: readonly number[]): TargetPorts {
  if (ports.length !== TARGET_SERVERS.length) throw new Error(`targets child reported ${ports.length} ports, expected ${TARGET_SERVERS.length} (${TARGET_SERVERS.join(', ')})`);
  return Object.fromEntries(TARGET_SERVERS.map((name, i) => [name, ports[i]!])) as TargetPorts;
}
