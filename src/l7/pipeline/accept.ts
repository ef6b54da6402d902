/**
 * The accept stage: what the ALB checks in a request the parser took before any rule sees it
 * (spec 7.1, 6.4, 5.3, 5.4): the HTTP version, the request-target's form and length, TRACE and
 * CONNECT, one header over 16 KiB, transfer codings, and the X-Forwarded-For limit. It also
 * reads the request-target into a path and the host the rules match. Decides nothing about
 * statuses: a refusal names its reason, and the answer stage maps it.
 */
import { forwardedForCount, MAX_XFF_ADDRESSES } from '../headers.ts';
import { MAX_REQUEST_LINE_BYTES, type Refusal } from './answer.ts';
import type { RequestContext } from './context.ts';

/** Single header line limit (spec 6.4); the request line's is in the answer stage. */
export const MAX_HEADER_LINE_BYTES = 16 * 1024;
export { MAX_REQUEST_LINE_BYTES };

/** Transfer codings ALB accepts (spec 7.1: others are 501). */
const ACCEPTED_TRANSFER_CODINGS = new Set(['chunked', 'identity']);

const ABSOLUTE_FORM = /^https?:\/\//i;
const HTTP2_HEADER_NAME = /^[a-z0-9-]+$/;

/** Fills `path`, `host` and `hostOverride`, or names why the request is refused. */
export function accept(ctx: RequestContext): Refusal | undefined {
  if (ctx.versionMajor === 0) return 'BadHttpVersion';
  // HTTP/2 comes only from the HTTP/2 front end; an HTTP/2 preface on an HTTP/1 connection is 505.
  if (ctx.versionMajor !== (ctx.response.http2 === true ? 2 : 1)) return 'UnsupportedHttpVersion';
  const method = ctx.method;
  const target = ctx.target;
  if (method.length + target.length + 10 > MAX_REQUEST_LINE_BYTES) return 'UriTooLong';
  if (method === 'CONNECT') return 'ConnectMethod';
  if (target.startsWith('/')) ctx.path = target;
  else if (ABSOLUTE_FORM.test(target)) {
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      return 'BadUri';
    }
    ctx.hostOverride = url.host;
    ctx.path = `${url.pathname}${url.search}`;
  } else if (method === 'OPTIONS' && target === '*') ctx.path = '*';
  else return 'BadUri';
  if (method === 'TRACE') return 'TraceMethod';

  const raw = ctx.rawHeaders;
  const http2 = ctx.versionMajor === 2;
  let host: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    // HTTP/2's stricter validation (spec 7.3): header names of letters, digits and hyphens only.
    if (http2 && !HTTP2_HEADER_NAME.test(name)) return 'InvalidHeaderName';
    if (name.length + value.length + 4 > MAX_HEADER_LINE_BYTES) return 'HeaderTooLong';
    if (name.length === 4 && host === undefined && name.toLowerCase() === 'host') host = value;
    else if (name.length === 17 && name.toLowerCase() === 'transfer-encoding') {
      for (const coding of value.split(',')) if (!ACCEPTED_TRANSFER_CODINGS.has(coding.trim().toLowerCase())) return 'UnsupportedTransferEncoding';
    }
  }
  if (forwardedForCount(raw) > MAX_XFF_ADDRESSES) return 'TooManyForwardedFor';
  ctx.host = ctx.hostOverride ?? host ?? '';
  return undefined;
}
