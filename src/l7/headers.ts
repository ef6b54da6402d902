/**
 * Request and response header handling for forwarding (spec 5.3–5.5, 7.3): hop-by-hop
 * headers dropped, `X-Forwarded-For` by mode, `X-Forwarded-Proto`/`-Port` overwritten,
 * `Host` rewritten as ALB does, `X-Amzn-Trace-Id` added. Pure functions, no sockets.
 */
import type { ClientAddress } from './exchange.ts';
import { rootOnlyTraceHeader, TRACE_ROOT_ONLY_HEADER_BYTES, traceHeader } from './trace-id.ts';

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'expect', 'http2-settings']);
// The headers the load balancer sets; a client's copies never reach the target (the TLS ones:
// spec 12.1.6's safe default, UNCONFIRMED whether AWS strips them).
const REPLACED = new Set(['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-port', 'x-amzn-trace-id', 'host', 'x-amzn-tls-version', 'x-amzn-tls-cipher-suite']);

/** More than this many addresses in an incoming `X-Forwarded-For` gets HTTP 463 (spec 5.3). */
export const MAX_XFF_ADDRESSES = 30;

export interface ForwardHeaderOptions {
  readonly xffMode: 'append' | 'preserve' | 'remove';
  readonly xffClientPort: boolean;
  readonly preserveHost: boolean;
  /** The port the client connected to (X-Forwarded-Port, and the Host rewrite). */
  readonly listenerPort: number;
  readonly protocol: 'http' | 'https';
  /** Add `X-Amzn-Tls-Version` and `X-Amzn-Tls-Cipher-Suite` on HTTPS listeners (spec 12.1.6). */
  readonly tlsHeaders: boolean;
  /** Their names when a listener renames them (spec 13.3.2); a client's copy of a new name is dropped too. */
  readonly tlsHeaderNames?: TlsHeaderNames;
  /** `routing.http.drop_invalid_header_fields.enabled`: header names outside `[-A-Za-z0-9]+` are not forwarded (spec 13.1.8). */
  readonly dropInvalidHeaderFields?: boolean;
  /** The `X-Amzn-Mtls-*` names when a listener renames any (spec 12.1.6); a client's copy of a new name is dropped too. */
  readonly mtlsHeaderNames?: MtlsHeaderNames;
}

/** The headers mutual TLS adds (spec 12.1.7), by role. */
export interface MtlsHeaderNames {
  readonly clientCert: string;
  readonly serialNumber: string;
  readonly issuer: string;
  readonly subject: string;
  readonly validity: string;
  readonly leaf: string;
  /** The six names in lower case. */
  readonly lower: ReadonlySet<string>;
}

const MTLS_DEFAULT_NAMES = {
  clientCert: 'X-Amzn-Mtls-Clientcert',
  serialNumber: 'X-Amzn-Mtls-Clientcert-Serial-Number',
  issuer: 'X-Amzn-Mtls-Clientcert-Issuer',
  subject: 'X-Amzn-Mtls-Clientcert-Subject',
  validity: 'X-Amzn-Mtls-Clientcert-Validity',
  leaf: 'X-Amzn-Mtls-Clientcert-Leaf',
} as const;

export const DEFAULT_MTLS_HEADER_NAMES: MtlsHeaderNames = { ...MTLS_DEFAULT_NAMES, lower: new Set(Object.values(MTLS_DEFAULT_NAMES).map((n) => n.toLowerCase())) };

/** An HTTPS listener's mutual TLS header names from its rename attributes (empty: the standard name); undefined when none is renamed. */
export function mtlsHeaderNames(renames: Partial<Record<keyof typeof MTLS_DEFAULT_NAMES, string>>): MtlsHeaderNames | undefined {
  if (Object.values(renames).every((v) => v === undefined || v === '')) return undefined;
  const names = { ...MTLS_DEFAULT_NAMES } as Record<keyof typeof MTLS_DEFAULT_NAMES, string>;
  for (const [role, name] of Object.entries(renames) as Array<[keyof typeof MTLS_DEFAULT_NAMES, string | undefined]>) if (name) names[role] = name;
  return { ...names, lower: new Set(Object.values(names).map((n) => n.toLowerCase())) };
}

/** An RFC 9110 token: the only header names written to a target. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** The names `drop_invalid_header_fields` keeps (spec 13.1.8). */
const VALID_NAME = /^[-A-Za-z0-9]+$/;

export interface TlsHeaderNames {
  readonly version: string;
  readonly cipher: string;
  /** The two names in lower case. */
  readonly lower: ReadonlySet<string>;
}

/** The TLS header names of an HTTPS listener from its rename attributes (empty: the standard name); undefined when neither is renamed. */
export function tlsHeaderNames(version: string, cipher: string): TlsHeaderNames | undefined {
  if (version === '' && cipher === '') return undefined;
  const v = version || 'X-Amzn-Tls-Version';
  const c = cipher || 'X-Amzn-Tls-Cipher-Suite';
  return { version: v, cipher: c, lower: new Set([v.toLowerCase(), c.toLowerCase()]) };
}

export type { ClientAddress } from './exchange.ts';

/** The headers to send to the target, and the trace id they carry (access log `trace_id`). */
export interface UpstreamHeaders {
  readonly headers: string[];
  readonly traceId: string;
}

export { plainIp } from '../core/addresses.ts';

/** Header names are mostly the same few strings: their lower-case forms are kept (bounded, so odd names cannot grow it). */
const lowerCase = new Map<string, string>();
const LOWER_CASE_CACHE = 1024;

/** `name.toLowerCase()`, without a new string for names seen before. */
export function lowerName(name: string): string {
  let lower = lowerCase.get(name);
  if (lower === undefined) {
    lower = name.toLowerCase();
    if (lowerCase.size < LOWER_CASE_CACHE) lowerCase.set(name, lower);
  }
  return lower;
}

function connectionTokens(value: string): Set<string> | undefined {
  // The common values name no other header (both are hop-by-hop themselves).
  if (value.length <= 10) {
    const lower = lowerName(value);
    if (lower === 'keep-alive' || lower === 'close') return undefined;
  }
  const out = new Set<string>();
  for (const t of value.split(',')) out.add(t.trim().toLowerCase());
  return out;
}

/** The headers a `Connection` header names (RFC 9110 7.6.1), or undefined when it names none. */
function connectionNamed(raw: readonly string[]): Set<string> | undefined {
  let connection: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length === 10 && lowerName(raw[i]!) === 'connection') connection = connection === undefined ? raw[i + 1]! : `${connection},${raw[i + 1]}`;
  }
  return connection === undefined ? undefined : connectionTokens(connection);
}

/** rewriteHost's answers by listener port, for the Host values seen most (bounded). */
const rewrittenHosts = new Map<number, Map<string, string>>();

/** The Host header as ALB sends it when host preservation is off (spec 5.4). */
export function rewriteHost(host: string, listenerPort: number): string {
  let cache = rewrittenHosts.get(listenerPort);
  if (cache === undefined) rewrittenHosts.set(listenerPort, (cache = new Map()));
  let rewritten = cache.get(host);
  if (rewritten === undefined) {
    rewritten = rewriteHostUncached(host, listenerPort);
    if (cache.size < LOWER_CASE_CACHE) cache.set(host, rewritten);
  }
  return rewritten;
}

function rewriteHostUncached(host: string, listenerPort: number): string {
  const m = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(host);
  if (m === null) return host;
  const name = m[1]!;
  const port = m[2];
  if (listenerPort === 80 || listenerPort === 443) return name;
  return port !== undefined && port !== '' ? host : `${name}:${listenerPort}`;
}

const portStrings: string[] = [];

function portString(port: number): string {
  return (portStrings[port] ??= String(port));
}

function formatClient(client: ClientAddress, withPort: boolean): string {
  if (!withPort) return client.ip;
  return client.ip.includes(':') ? `[${client.ip}]:${client.port}` : `${client.ip}:${client.port}`;
}

/**
 * Builds the flat `[name, value, …]` header list sent to the target from the client's raw
 * headers. `hostOverride` replaces the Host (absolute-form request URIs, spec 5.4). Framing is
 * the load balancer's own (spec 13.1.7): one Content-Length, none beside a Transfer-Encoding.
 * A name that is not a token (a request desync mitigation let through) is never written to a
 * target, where another parser could read it otherwise (whether AWS drops it is UNCONFIRMED).
 */
export function upstreamHeaders(
  rawHeaders: readonly string[],
  client: ClientAddress,
  options: ForwardHeaderOptions,
  nowMs: number,
  hostOverride?: string,
  /** A WebSocket upgrade's `Upgrade` value: sent on, with `Connection: Upgrade` (spec 7.3). */
  upgrade?: string,
): UpstreamHeaders {
  const dropped = connectionNamed(rawHeaders);
  const out: string[] = [];
  let xff: string | undefined;
  let xffItems: string | undefined;
  let trace: string | undefined;
  let host: string | undefined;
  const hosts: string[] = [];
  let headerBytes = 0;
  let contentLengthAt = -1;
  let transferEncoding = false;
  const dropInvalid = options.dropInvalidHeaderFields === true;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    const value = rawHeaders[i + 1]!;
    headerBytes += name.length + value.length + 4;
    if (dropInvalid ? !VALID_NAME.test(name) : !TOKEN.test(name)) continue;
    const lower = lowerName(name);
    // The body's length goes on as it was framed, whatever `Connection` names.
    if (lower === 'content-length') {
      if (contentLengthAt < 0) {
        contentLengthAt = out.length;
        out.push(name, value);
      }
      continue;
    }
    if (lower === 'transfer-encoding') transferEncoding = true;
    if (HOP_BY_HOP.has(lower) || dropped?.has(lower) || options.tlsHeaderNames?.lower.has(lower)) continue;
    // Every X-Amzn-Mtls-* a client sends, and a renamed one's new name (spec 12.1.6's safe default).
    if (lower.startsWith('x-amzn-mtls-') || options.mtlsHeaderNames?.lower.has(lower)) continue;
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
  if (transferEncoding && contentLengthAt >= 0) out.splice(contentLengthAt, 2);

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
  out.push('X-Forwarded-Proto', options.protocol, 'X-Forwarded-Port', portString(options.listenerPort));
  if (options.tlsHeaders && client.tls !== undefined) {
    const names = options.tlsHeaderNames;
    out.push(names?.version ?? 'X-Amzn-Tls-Version', client.tls.protocol, names?.cipher ?? 'X-Amzn-Tls-Cipher-Suite', client.tls.cipher);
  }
  const certificate = client.tls?.clientCertificate;
  if (certificate !== undefined) {
    const names = options.mtlsHeaderNames ?? DEFAULT_MTLS_HEADER_NAMES;
    if (certificate.mode === 'passthrough') out.push(names.clientCert, certificate.chainHeader);
    else {
      const { info } = certificate;
      out.push(names.serialNumber, info.serialNumber, names.issuer, info.issuer, names.subject, info.subject, names.validity, info.validity, names.leaf, certificate.leafHeader);
    }
  }
  const traceId = headerBytes > TRACE_ROOT_ONLY_HEADER_BYTES ? rootOnlyTraceHeader(trace, nowMs) : traceHeader(trace, nowMs);
  out.push('X-Amzn-Trace-Id', traceId);
  if (upgrade !== undefined) out.push('Connection', 'Upgrade', 'Upgrade', upgrade);
  return { headers: out, traceId };
}

/** How many addresses the client's `X-Forwarded-For` headers hold together (more than 30 is 463, spec 5.3). */
export function forwardedForCount(rawHeaders: readonly string[]): number {
  let n = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name.length !== 15 || lowerName(name) !== 'x-forwarded-for') continue;
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
    const lower = lowerName(name);
    if (HOP_BY_HOP.has(lower) || dropped?.has(lower)) continue;
    if (lower === 'content-length') contentLength = Number(raw[i + 1]);
    else if (lower === 'date') hasDate = true;
    headers.push(name, raw[i + 1]!);
  }
  return { headers, contentLength, hasDate };
}

/** The request's cookies by name (the first of a name wins), from every `Cookie` header (HTTP/2 may split them). */
export function requestCookies(rawHeaders: readonly string[]): Map<string, string> {
  const cookies = new Map<string, string>();
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.length !== 6 || lowerName(rawHeaders[i]!) !== 'cookie') continue;
    for (const pair of rawHeaders[i + 1]!.split(';')) {
      const eq = pair.indexOf('=');
      if (eq < 0) continue;
      const name = pair.slice(0, eq).trim();
      if (name !== '' && !cookies.has(name)) cookies.set(name, pair.slice(eq + 1).trim());
    }
  }
  return cookies;
}
