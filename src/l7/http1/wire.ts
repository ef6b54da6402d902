/**
 * HTTP/1.1 message heads and chunked framing as bytes go on the wire (RFC 9112): status and
 * request lines, header blocks, chunk sizes, and the cached `Date` value. Pure functions and
 * a per-second cache; no sockets.
 */
import { STATUS_CODES } from 'node:http';

/** The reason phrase local-elb writes for `status` (ALB's own statuses have none: 460, 463, 464). */
export function reasonPhrase(status: number): string {
  return STATUS_CODES[status] ?? '';
}

/** `name: value\r\n` for each pair of a flat `[name, value, …]` list. */
export function headerLines(headers: readonly string[]): string {
  let out = '';
  for (let i = 0; i < headers.length; i += 2) out += `${headers[i]}: ${headers[i + 1]}\r\n`;
  return out;
}

/** The size line in front of one chunk of a chunked body. */
export function chunkSizeLine(bytes: number): string {
  return `${bytes.toString(16)}\r\n`;
}

/** The last chunk and the end of a chunked body (no trailers). */
export const LAST_CHUNK = '0\r\n\r\n';

let dateSecond = -1;
let dateValue = '';

/** The `Date` header value for `nowMs` (epoch ms), computed once per second. */
export function httpDate(nowMs: number): string {
  const second = Math.floor(nowMs / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateValue = new Date(second * 1000).toUTCString();
  }
  return dateValue;
}
