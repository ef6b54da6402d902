/**
 * ALB connection-log lines (spec 12.1.8): one per connection attempt, the 15 fields in AWS's
 * order, space-separated, placeholders as AWS writes them. Made while the load balancer's
 * `connection_logs.s3.enabled` is "true"; `conn_trace_id` is the access log's field 30 for the
 * requests of that connection. Pure functions, no sockets.
 */
import { randomBytes } from 'node:crypto';

export interface ConnectionRecord {
  readonly loadBalancer: string;
  /** When the connection was established or failed (epoch ms). */
  readonly timeMs: number;
  readonly client: { readonly ip: string; readonly port: number };
  readonly listenerPort: number;
  /** HTTPS listeners: the handshake's protocol and cipher, when it got that far. */
  readonly tlsProtocol?: string;
  readonly tlsCipher?: string;
  /** Established TLS sessions only. */
  readonly tlsHandshakeLatencyMs?: number;
  /** Mutual TLS (passthrough or verify) with a certificate the load balancer could read. */
  readonly leaf?: { readonly subject: string; readonly validity: string; readonly serialNumber: string };
  /** `Success`, `Failed:<code>`; undefined on HTTP listeners (`-`, spec 12.1.8 UNCONFIRMED). */
  readonly tlsVerifyStatus?: string;
  readonly connTraceId: string;
  /** The load balancer node's address (the listener's local address). */
  readonly nodeAddress: string;
}

/** `TID_` and 32 hex digits, as AWS's logs show (spec 12.1.8). */
export function newConnTraceId(): string {
  return `TID_${randomBytes(16).toString('hex')}`;
}

function isoMicros(ms: number): string {
  const total = Math.round(ms * 1000);
  const whole = Math.floor(total / 1000);
  const micros = total - whole * 1000;
  return new Date(whole).toISOString().replace(/Z$/, `${String(micros).padStart(3, '0')}Z`);
}

const quoted = (v: string) => `"${v.replace(/"/g, '\\"')}"`;

export function connectionLogLine(r: ConnectionRecord, loadBalancerId = r.loadBalancer): string {
  return [
    isoMicros(r.timeMs),
    r.client.ip,
    String(r.client.port),
    String(r.listenerPort),
    r.tlsProtocol ?? '-',
    r.tlsCipher ?? '-',
    r.tlsHandshakeLatencyMs === undefined ? '-' : (r.tlsHandshakeLatencyMs / 1000).toFixed(3),
    r.leaf === undefined ? '-' : quoted(r.leaf.subject),
    r.leaf?.validity ?? '-',
    r.leaf?.serialNumber ?? '-',
    r.tlsVerifyStatus ?? '-',
    r.connTraceId,
    // The key-exchange group: Node does not tell a server which one was used.
    '-',
    `app/${loadBalancerId}/local`,
    r.nodeAddress,
  ].join(' ');
}
