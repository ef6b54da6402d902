/**
 * Request and response header handling for forwarding (spec 5.3–5.5, 7.3): hop-by-hop
 * headers dropped, `X-Forwarded-For` by mode, `X-Forwarded-Proto`/`-Port` overwritten,
 * `Host` rewritten as ALB does, `X-Amzn-Trace-Id` added. Pure functions, no sockets.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { traceHeader } from './trace-id.ts';

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'expect', 'http2-settings']);
const REPLACED = new Set(['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-port', 'x-amzn-trace-id', 'host']);

/** More than this many addresses in an incoming `X-Forwarded-For` gets HTTP 463 (spec 5.3). */
export const MAX_XFF_ADDRESSES = 30;

export interface ForwardHeaderOptions {
  readonly xffMode: 'append' | 'preserve' | 'remove';
  readonly xffClientPort: boolean;
  readonly preserveHost: boolean;
  /** The port the client connected to (X-Forwarded-Port, and the Host rewrite). */
  readonly listenerPort: number;
  readonly protocol: 'http' | 'https';
}

export interface ClientAddress {
  readonly ip: string;
  readonly port: number;
}

export type UpstreamHeaders =
  | { readonly ok: true; readonly headers: string[]; readonly traceId: string; readonly host: string | undefined }
  | { readonly ok: false; readonly status: 463 };

export { plainIp } from '../core/addresses.ts';

function connectionTokens(value: string | undefined): Set<string> {
  const out = new Set<string>();
  if (value) for (const t of value.split(',')) out.add(t.trim().toLowerCase());
  return out;
}

/** The Host header as ALB sends it when host preservation is off (spec 5.4). */
export function rewriteHost(host: string, listenerPort: number): string {
  const m = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(host);
  if (m === null) return host;
  const name = m[1]!;
  const port = m[2];
  if (listenerPort === 80 || listenerPort === 443) return name;
  return port !== undefined && port !== '' ? host : `${name}:${listenerPort}`;
}

function formatClient(client: ClientAddress, withPort: boolean): string {
  if (!withPort) return client.ip;
  return client.ip.includes(':') ? `[${client.ip}]:${client.port}` : `${client.ip}:${client.port}`;
}

/**
 * Builds the flat `[name, value, …]` header list sent to the target from the client's raw
 * headers. `hostOverride` replaces the Host (absolute-form request URIs, spec 5.4).
 */
export function upstreamHeaders(
  rawHeaders: readonly string[],
  client: ClientAddress,
  options: ForwardHeaderOptions,
  nowMs: number,
  hostOverride?: string,
): UpstreamHeaders {
  let connection: string | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.toLowerCase() === 'connection') connection = connection ? `${connection},${rawHeaders[i + 1]}` : rawHeaders[i + 1];
  }
  const dropped = connectionTokens(connection);
  const out: string[] = [];
  let xff: string | undefined;
  let trace: string | undefined;
  let host: string | undefined;
  const hosts: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    const value = rawHeaders[i + 1]!;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || dropped.has(lower)) continue;
    if (REPLACED.has(lower)) {
      if (lower === 'x-forwarded-for') xff = xff === undefined ? value : `${xff}, ${value}`;
      else if (lower === 'x-amzn-trace-id') trace ??= value;
      else if (lower === 'host') {
        host ??= value;
        hosts.push(value);
      }
      continue;
    }
    out.push(name, value);
  }

  if (xff !== undefined && xff.split(',').filter((a) => a.trim() !== '').length > MAX_XFF_ADDRESSES) return { ok: false, status: 463 };

  if (hostOverride !== undefined) {
    out.push('Host', options.preserveHost ? hostOverride : rewriteHost(hostOverride, options.listenerPort));
    host = hostOverride;
  } else if (options.preserveHost) {
    for (const h of hosts) out.push('Host', h);
  } else if (host !== undefined) {
    out.push('Host', rewriteHost(host, options.listenerPort));
  }

  const me = formatClient(client, options.xffClientPort);
  if (options.xffMode === 'append') out.push('X-Forwarded-For', xff === undefined || xff.trim() === '' ? me : `${xff}, ${me}`);
  else if (options.xffMode === 'preserve' && xff !== undefined) out.push('X-Forwarded-For', xff);
  out.push('X-Forwarded-Proto', options.protocol, 'X-Forwarded-Port', String(options.listenerPort));
  const traceId = traceHeader(trace, nowMs);
  out.push('X-Amzn-Trace-Id', traceId);
  return { ok: true, headers: out, traceId, host };
}

/** Response headers from the target, minus hop-by-hop ones, ready for `writeHead`. */
export function downstreamHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const dropped = connectionTokens(Array.isArray(headers.connection) ? headers.connection.join(',') : headers.connection);
  const out: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || dropped.has(name)) continue;
    out[name] = value;
  }
  return out;
}
