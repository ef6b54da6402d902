/**
 * The request-head reader for heads llhttp refuses (spec 13.1). llhttp is strict: it answers 400
 * to requests that AWS's desync mitigation classifies Acceptable or Ambiguous and routes (a space
 * or a tab in the URI, `HTTP/1.2`, a method it does not know, a header name with a space,
 * duplicate or competing framing headers…). The client connection hands such a head to this
 * reader, which reads it the way the desync classifier expects (request line split at its first
 * and last space, each header line at its first colon) and says how its body is framed; the
 * connection then lets llhttp frame the body from a stand-in head. Pure functions, no sockets.
 */

/** One request head as received: every string holds bytes as latin1 characters. */
export interface RequestHeadTokens {
  readonly method: string;
  /** The request-target as received (between the first and the last space). */
  readonly uri: string;
  /** The version as received, with any space or tab after it; `''` when there is none (HTTP/0.9). */
  readonly version: string;
  /** `[name, value, …]`: names as received up to the colon, values without surrounding SP/HTAB. */
  readonly headers: string[];
}

/** How a request's body is delimited: no body, a length, or chunked. */
export type BodyFraming = 'none' | 'chunked' | number;

export type HeadRead =
  /** `end`: the offset just after the head's empty line. */
  | { readonly head: RequestHeadTokens; readonly end: number }
  /** Not an HTTP/1 request head at all (a line without a colon, a folded header, no request-target). */
  | { readonly malformed: string };

const CRLF_CRLF = Buffer.from('\r\n\r\n', 'latin1');

/** Where the head starts: after any empty lines in front of it (RFC 9112 2.2, as llhttp does). */
export function headStart(bytes: Buffer, from = 0): number {
  let i = from;
  while (i + 1 < bytes.length && bytes[i] === 0x0d && bytes[i + 1] === 0x0a) i += 2;
  return i;
}

/**
 * Reads the request head at the start of `bytes`; undefined while its empty line has not
 * arrived. Lines end in CRLF only: a lone CR or LF stays inside its line (where the classifier
 * sees it: BadUri, BadHeader).
 */
export function readRequestHead(bytes: Buffer): HeadRead | undefined {
  const start = headStart(bytes);
  const blank = bytes.indexOf(CRLF_CRLF, start);
  if (blank < 0) return undefined;
  const lines = bytes.toString('latin1', start, blank).split('\r\n');
  const requestLine = lines[0]!;
  const firstSpace = requestLine.indexOf(' ');
  if (firstSpace <= 0) return { malformed: 'a request line without a request-target' };
  const method = requestLine.slice(0, firstSpace);
  const rest = requestLine.slice(firstSpace + 1);
  let restEnd = rest.length;
  while (restEnd > 0 && (rest.charCodeAt(restEnd - 1) === 0x20 || rest.charCodeAt(restEnd - 1) === 0x09)) restEnd--;
  const lastSpace = rest.lastIndexOf(' ', restEnd - 1);
  let uri: string;
  let version: string;
  if (lastSpace < 0) {
    uri = rest.slice(0, restEnd);
    version = '';
    if (uri.startsWith('HTTP/')) return { malformed: 'a request line without a request-target' };
  } else {
    uri = rest.slice(0, lastSpace);
    version = rest.slice(lastSpace + 1);
  }
  if (uri === '') return { malformed: 'a request line without a request-target' };
  const headers: string[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    // A line without a colon: garbage, or an obs-fold continuation (spec 7.3: not supported).
    if (colon < 0) return { malformed: 'a header line without a colon' };
    headers.push(line.slice(0, colon), trimOws(line.slice(colon + 1)));
  }
  return { head: { method, uri, version, headers }, end: blank + 4 };
}

function trimOws(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && (s.charCodeAt(a) === 0x20 || s.charCodeAt(a) === 0x09)) a++;
  while (b > a && (s.charCodeAt(b - 1) === 0x20 || s.charCodeAt(b - 1) === 0x09)) b--;
  return s.slice(a, b);
}

/**
 * Whether bytes that have not yet made a whole head can never be a request the load balancer
 * forwards (see `unforwardable`), so waiting for the rest is pointless: a lone CR or LF (binary
 * garbage, bare-LF line ends), or a NUL in the request line (a TLS ClientHello).
 */
export function hopelessHead(bytes: Buffer): boolean {
  const start = headStart(bytes);
  let inRequestLine = true;
  for (let i = start; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (c === 0x00 && inRequestLine) return true;
    if (c === 0x0d && i + 1 < bytes.length && bytes[i + 1] !== 0x0a) return true;
    if (c === 0x0a) {
      if (i === start || bytes[i - 1] !== 0x0d) return true;
      inRequestLine = false;
    }
  }
  return false;
}

const DIGITS = /^[0-9]+$/;

/**
 * How the body of a head the reader read is framed (RFC 9112 6.3), or why it cannot be:
 * Transfer-Encoding wins over Content-Length (whose headers are then not forwarded); the
 * codings must end in `chunked`, or be `identity` alone; every Content-Length must carry one
 * readable number. Look-alike names (`Transfer_Encoding`) are not framing headers.
 */
export function requestFraming(headers: readonly string[]): { readonly framing: BodyFraming } | { readonly unreadable: string } {
  let lastCoding: string | undefined;
  let onlyIdentity = true;
  let length: string | undefined;
  let badLength = false;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    if (name.length === 17 && name.toLowerCase() === 'transfer-encoding') {
      for (const item of headers[i + 1]!.split(',')) {
        const semicolon = item.indexOf(';');
        const coding = trimOws(semicolon < 0 ? item : item.slice(0, semicolon)).toLowerCase();
        if (coding === '') continue;
        lastCoding = coding;
        if (coding !== 'identity') onlyIdentity = false;
      }
    } else if (name.length === 14 && name.toLowerCase() === 'content-length') {
      const value = headers[i + 1]!;
      if (!DIGITS.test(value) || (length !== undefined && Number(length) !== Number(value))) badLength = true;
      length ??= value;
    }
  }
  if (lastCoding !== undefined && !onlyIdentity) {
    return lastCoding === 'chunked' ? { framing: 'chunked' } : { unreadable: 'the last transfer coding is not chunked' };
  }
  if (badLength) return { unreadable: 'a Content-Length that cannot be read' };
  if (length === undefined) return { framing: 'none' };
  const n = Number(length);
  return Number.isSafeInteger(n) ? { framing: n } : { unreadable: 'a Content-Length that cannot be read' };
}

/**
 * The HTTP version numbers of a version token the load balancer can act on (`HTTP/1.0`–`HTTP/1.9`
 * and HTTP/2 or later, surrounding SP/HTAB aside; `''` is HTTP/0.9), or undefined.
 */
export function versionNumbers(version: string): { readonly major: number; readonly minor: number } | undefined {
  const trimmed = trimOws(version);
  if (trimmed === '') return { major: 0, minor: 9 };
  const m = /^HTTP\/([0-9])(?:\.([0-9]))?$/.exec(trimmed);
  if (m === null) return undefined;
  const major = Number(m[1]);
  if (m[2] === undefined) return major >= 2 ? { major, minor: 0 } : undefined;
  return { major, minor: Number(m[2]) };
}

/**
 * Why a head the reader read cannot be forwarded as received, in any desync mode: a CR, LF or
 * NUL inside its request line, a CR or LF inside a header line, or an unreadable version.
 */
export function unforwardable(head: RequestHeadTokens): string | undefined {
  if (/[\r\n\0]/.test(head.method) || /[\r\n\0]/.test(head.uri)) return 'a CR, LF or NUL inside the request line';
  for (const h of head.headers) if (/[\r\n]/.test(h)) return 'a CR or LF inside a header line';
  if (versionNumbers(head.version) === undefined) return 'an HTTP version the load balancer cannot read';
  return undefined;
}

/**
 * The head llhttp parses in place of a head the reader read, so it frames the body (and
 * keeps or ends the connection) as decided: no URI, method or header of the client's in it.
 */
export function standInHead(framing: BodyFraming, keepAlive: boolean, http10: boolean): Buffer {
  let head = `POST / HTTP/1.${http10 ? 0 : 1}\r\n`;
  if (framing === 'chunked') head += 'Transfer-Encoding: chunked\r\n';
  else if (typeof framing === 'number') head += `Content-Length: ${framing}\r\n`;
  else head += 'Content-Length: 0\r\n';
  if (keepAlive !== !http10) head += keepAlive ? 'Connection: keep-alive\r\n' : 'Connection: close\r\n';
  return Buffer.from(`${head}\r\n`, 'latin1');
}

/** HTTP/1.1 keeps the connection unless `Connection: close`; HTTP/1.0 closes it unless `Connection: keep-alive`. */
export function keepsAlive(headers: readonly string[], minor: number): boolean {
  let close = false;
  let keepAlive = false;
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i]!.length !== 10 || headers[i]!.toLowerCase() !== 'connection') continue;
    for (const t of headers[i + 1]!.split(',')) {
      const token = trimOws(t).toLowerCase();
      if (token === 'close') close = true;
      else if (token === 'keep-alive') keepAlive = true;
    }
  }
  return minor >= 1 ? !close : keepAlive && !close;
}
