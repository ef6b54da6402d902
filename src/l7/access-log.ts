/**
 * ALB access-log lines (spec 8.1), fields in AWS's order, placeholders as AWS writes them.
 * On HTTPS listeners `type` is `https` and fields 15, 16, 19 and 20 hold the TLS session
 * (spec 12.1.9); fields 28–29 hold desync mitigation's classification (spec 13.1); field 30
 * is the connection's `conn_trace_id`, shared with its connection-log line (spec 12.1.8); fields 31–33 hold what the matched rule's transforms did
 * (spec 6.1): the Host and URI sent on after a rewrite, and `TransformSucceeded`,
 * `TransformNoMatch` or `TransformFailed` (AWS's values UNCONFIRMED), `"-"` when none ran.
 */
import type { RequestRecord } from './request-record.ts';

/** A quoted field: `"-"` when empty; `"` escaped as `\"`, control bytes (a request line as received may hold them) as `\xHH`, so one request stays one line. */
const q = (v: string | undefined) => `"${v === undefined || v === '' ? '-' : v.replace(/"/g, '\\"').replace(CONTROL, controlEscape)}"`;
const CONTROL = /[\x00-\x1f\x7f]/g;
const controlEscape = (c: string) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
const seconds = (ms: number) => (ms < 0 ? '-1' : (ms / 1000).toFixed(3));

function isoMicros(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** Field 1 (spec 8.1): `http`, `https`, `h2` (HTTP/2 over TLS), `grpcs`, `ws`, `wss`. */
function logType(r: RequestRecord): string {
  if (r.upgraded) return r.tls !== undefined ? 'wss' : 'ws';
  if (r.grpc) return 'grpcs';
  if (r.httpVersion === '2.0') return 'h2';
  return r.tls !== undefined ? 'https' : 'http';
}

export function accessLogLine(r: RequestRecord, loadBalancerId = r.loadBalancer): string {
  const target = r.target ? `${r.target.id}:${r.target.port}` : '-';
  const targetStatus = r.targetStatusCode !== undefined ? String(r.targetStatusCode) : '-';
  const tgArn = r.targetGroup ? `arn:aws:elasticloadbalancing:local:000000000000:targetgroup/${r.targetGroup}/local` : '-';
  const tls = r.tls;
  return [
    logType(r),
    isoMicros(r.timeMs),
    `app/${loadBalancerId}/local`,
    `${r.client.ip}:${r.client.port}`,
    target,
    seconds(r.requestProcessingMs),
    seconds(r.targetProcessingMs),
    seconds(r.responseProcessingMs),
    String(r.elbStatusCode),
    targetStatus,
    String(r.receivedBytes),
    String(r.sentBytes),
    q(`${r.method} ${r.url} ${r.httpVersion === '' ? '-' : `HTTP/${r.httpVersion}`}`),
    q(r.userAgent?.slice(0, 8192)),
    tls?.cipher ?? '-',
    tls?.protocol ?? '-',
    tgArn,
    q(r.traceId),
    q(tls?.serverName),
    q(tls?.certificateArn),
    r.matchedRulePriority === undefined ? '-' : String(r.matchedRulePriority),
    isoMicros(r.requestCreationTimeMs),
    q(r.actionsExecuted.join(',')),
    q(r.redirectUrl),
    q(r.errorReason),
    q(r.target ? target : undefined),
    q(r.target ? targetStatus : undefined),
    q(r.classification),
    q(r.classificationReason),
    r.client.connTraceId ?? '-',
    q(r.transformedHost),
    q(r.transformedUri),
    q(r.transformStatus),
  ].join(' ');
}
