/**
 * Request and response header handling for forwarding (spec 5.3–5.5, 7.3): hop-by-hop
 * headers dropped, `X-Forwarded-For` by mode, `X-Forwarded-Proto`/`-Port` overwritten,
 * `Host` rewritten as ALB does, `X-Amzn-Trace-Id` added. Pure functions, no sockets.
 */
import type { ClientAddress } from './exchange.ts';
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

export type { ClientAddress } from './exchange.ts';

/** The headers to send to the target, and the trace id they carry (access log `trace_id`). */
export interface UpstreamHeaders {
  readonly headers: string[];
  readonly traceId: string;
}

export { plainIp } from '../core/addresses.ts';

function connectionTokens(value: string): Set<string> {
  const out = new Set<string>();
  for (const t of value.split(',')) out.add(t.trim().toLowerCase());
  return out;
}

/** The headers a `Connection` header names (RFC 9110 7.6.1), or undefined without one. */
function connectionNamed(raw: readonly string[]): Set<string> | undefined {
  let connection: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length === 10 && raw[i]!.toLowerCase() === 'connection') connection = connection === undefined ? raw[i + 1]! : `${connection},${raw[i + 1]}`;
  }
  return connection === undefined ? undefined : connectionTokens(connection);
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
  const dropped = connectionNamed(rawHeaders);
  const out: string[] = [];
  let xff: string | undefined;
  let xffItems: string | undefined;
  let trace: string | undefined;
  let host: string | undefined;
  const hosts: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    const value = rawHeaders[i + 1]!;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || dropped?.has(lower)) continue;
    if (REPLACED.has(lower)) {
      if (lower === 'x-forwarded-for') {
        xff = xff === undefined ? value : `${xff}, ${value}`;
        // Appending, an empty header counts as none (spec 5.3: no XFF → the client address alone).
        if (value.trim() !== '') xffItems = xffItems === undefined ? value : `${xffItems}, ${value}`;
      }
      else if (lower === 'x-amzn-trace-id') trace ??= value;
      else if (lower === 'host') {
        host ??= value;
        hosts.push(value);
      }
      continue;
    }
    out.push(name, value);
  }

  if (hostOverride !== undefined) {
    out.push('Host', options.preserveHost ? hostOverride : rewriteHost(hostOverride, options.listenerPort));
  } else if (options.preserveHost) {
    for (const h of hosts) out.push('Host', h);
  } else if (host !== undefined) {
    out.push('Host', rewriteHost(host, options.listenerPort));
  }

  const me = formatClient(client, options.xffClientPort);
  if (options.xffMode === 'append') out.push('X-Forwarded-For', xffItems === undefined ? me : `${xffItems}, ${me}`);
  else if (options.xffMode === 'preserve' && xff !== undefined) out.push('X-Forwarded-For', xff);
  out.push('X-Forwarded-Proto', options.protocol, 'X-Forwarded-Port', String(options.listenerPort));
  const traceId = traceHeader(trace, nowMs);
  out.push('X-Amzn-Trace-Id', traceId);
  return { headers: out, traceId };
}

/** How many addresses the client's `X-Forwarded-For` headers hold together (more than 30 is 463, spec 5.3). */
export function forwardedForCount(rawHeaders: readonly string[]): number {
  let n = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name.length !== 15 || name.toLowerCase() !== 'x-forwarded-for') continue;
    for (const a of rawHeaders[i + 1]!.split(',')) if (a.trim() !== '') n++;
  }
  return n;
}

/** The target's response headers as the client gets them, with the facts framing needs. */
export interface DownstreamHeaders {
  /** `[name, value, …]` without hop-by-hop headers. */
  readonly headers: string[];
  /** The target's `Content-Length`, when it sent one. */
  readonly contentLength: number | undefined;
  readonly hasDate: boolean;
}

/** Response headers from the target (`[name, value, …]`), minus hop-by-hop ones. */
export function downstreamHeaders(raw: readonly string[]): DownstreamHeaders {
  const dropped = connectionNamed(raw);
  const headers: string[] = [];
  let contentLength: number | undefined;
  let hasDate = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || dropped?.has(lower)) continue;
    if (lower === 'content-length') contentLength = Number(raw[i + 1]);
    else if (lower === 'date') hasDate = true;
    headers.push(name, raw[i + 1]!);
  }
  return { headers, contentLength, hasDate };
}
