/**
 * The accept stage: what the ALB checks in a request the parser took before any rule sees it
 * (spec 7.1, 6.4, 5.3, 5.4, 13.1): the request line and header sizes, desync mitigation's
 * classification and what the mode does with it, the HTTP version, the request-target's form,
 * TRACE and CONNECT, transfer codings, and the X-Forwarded-For limit. It also reads the
 * request-target into a path and the host the rules match. Decides nothing about statuses: a
 * refusal names its reason, and the answer stage maps it.
 */
import { classifyParsedRequest, classifyRequest, COMPLIANT, desyncAction } from '../desync.ts';
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
/** Header names `routing.http.drop_invalid_header_fields.enabled` keeps (spec 13.1.8). */
const VALID_HEADER_NAME = /^[-A-Za-z0-9]+$/;

/** Fills `path`, `host` and `hostOverride`, or names why the request is refused. */
export function accept(ctx: RequestContext): Refusal | undefined {
  const method = ctx.method;
  const target = ctx.target;
  const raw = ctx.rawHeaders;
  const http2 = ctx.response.http2 === true;
  // The size limits come first, and such a request is not classified (spec 13.1.7).
  if (method.length + target.length + 10 > MAX_REQUEST_LINE_BYTES) return 'UriTooLong';
  let host: string | undefined;
  let codings: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    if (name.length + value.length + 4 > MAX_HEADER_LINE_BYTES) return 'HeaderTooLong';
    // HTTP/2's stricter validation (spec 7.3): header names of letters, digits and hyphens only.
    if (http2 && !HTTP2_HEADER_NAME.test(name)) return 'InvalidHeaderName';
    if (!ctx.invalidHeaderNames && !VALID_HEADER_NAME.test(name)) ctx.invalidHeaderNames = true;
    if (name.length === 4 && host === undefined && name.toLowerCase() === 'host') host = value;
    else if (name.length === 17 && name.toLowerCase() === 'transfer-encoding') codings = codings === undefined ? value : `${codings},${value}`;
  }
  if (!http2) {
    const refusal = desyncMitigation(ctx);
    if (refusal !== undefined) return refusal;
  }
  if (ctx.versionMajor === 0) return 'BadHttpVersion';
  // HTTP/2 comes only from the HTTP/2 front end; an HTTP/2 preface on an HTTP/1 connection is 505.
  if (ctx.versionMajor !== (http2 ? 2 : 1)) return 'UnsupportedHttpVersion';
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
  if (codings !== undefined) {
    for (const coding of codings.split(',')) if (!ACCEPTED_TRANSFER_CODINGS.has(coding.trim().toLowerCase())) return 'UnsupportedTransferEncoding';
  }
  // Whatever the mode, a request the load balancer cannot frame or write as it came is not forwarded.
  if (ctx.reread?.unforwardable !== undefined) return 'MalformedRequest';
  if (forwardedForCount(raw) > MAX_XFF_ADDRESSES) return 'TooManyForwardedFor';
  ctx.host = ctx.hostOverride ?? host ?? '';
  return undefined;
}

/** The version token llhttp read, as the classifier wants it (the head reader keeps the one received). */
function versionToken(ctx: RequestContext): string {
  if (ctx.reread !== undefined) return ctx.reread.version;
  if (ctx.versionMajor === 1) return ctx.versionMinor === 1 ? 'HTTP/1.1' : ctx.versionMinor === 0 ? 'HTTP/1.0' : `HTTP/1.${ctx.versionMinor}`;
  return `HTTP/${ctx.versionMajor}.${ctx.versionMinor}`;
}

/**
 * Desync mitigation (spec 13.1.1): classifies the request, counts one that is not Compliant
 * (DesyncMitigationMode_NonCompliant_Request_Count, in every mode), and applies the mode: a
 * refusal for a blocked request; after an Ambiguous one in defensive mode, both connections
 * close once it is answered.
 */
function desyncMitigation(ctx: RequestContext): Refusal | undefined {
  // A head llhttp took has no character the classifier would flag: only the other checks run.
  const classify = ctx.reread === undefined ? classifyParsedRequest : classifyRequest;
  const classification = classify(ctx.method, ctx.target, versionToken(ctx), ctx.rawHeaders);
  if (classification === COMPLIANT) return undefined;
  ctx.classification = classification;
  ctx.listener.counters.desyncNonCompliantRequests++;
  switch (desyncAction(ctx.listener.settings.desyncMitigationMode, classification.tier)) {
    case 'block':
      return classification.tier === 'Severe' ? 'DesyncSevere' : 'DesyncNotCompliant';
    case 'forward-then-close':
      ctx.closeTargetAfter = true;
      ctx.response.closeAfter?.();
      return undefined;
    case 'forward':
      return undefined;
  }
}
