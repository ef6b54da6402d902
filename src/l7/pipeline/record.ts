/**
 * The record stage: when a request is over, its counters (spec 8.3) and, when someone listens
 * (the access log, the graceful-shutdown harness, the library's `onRequest`), its record
 * (spec 8.1). Runs once per request, whichever stage ended it.
 */
import { hostForUrl } from '../../core/addresses.ts';
import { COMPLIANT } from '../desync.ts';
import type { RejectedRequest } from '../http1/client-connection.ts';
import type { RequestRecord } from '../request-record.ts';
import type { ListenerRuntime, RequestContext } from './context.ts';

export function finish(ctx: RequestContext): void {
  if (ctx.finished) return;
  ctx.finished = true;
  const listener = ctx.listener;
  // A WebSocket's counts are the whole connection's, upgrade and tunnel (spec 12.5): the
  // connection's counters run on under the tunnel.
  const receivedBytes = ctx.response.receivedBytes;
  const sentBytes = ctx.response.sentBytes;
  const counters = listener.counters;
  counters.processedBytes += receivedBytes + sentBytes;
  if (ctx.grpc && ctx.versionMajor === 2) counters.grpcRequests++;
  const nonSticky = ctx.sticky?.nonSticky;
  if (nonSticky !== undefined) {
    if (nonSticky === 'lb_cookie') counters.nonStickyRequests++;
    else counters.appCookieNonStickiness++;
  }
  // A forwarded request with a header name outside [-A-Za-z0-9]+ (spec 13.1.8).
  if (ctx.invalidHeaderNames && ctx.dispatchedMs >= 0) {
    if (listener.settings.dropInvalidHeaderFields) counters.droppedInvalidHeaderRequests++;
    else counters.forwardedInvalidHeaderRequests++;
  }
  if (ctx.producedBy === 'elb') {
    if (ctx.status < 600) counters.elbStatus[ctx.status]!++;
  } else if (ctx.targetStatus !== undefined && ctx.targetStatus < 600 && ctx.forward !== undefined) {
    ctx.forward.counters.targetStatus[ctx.targetStatus]!++;
  }
  const observer = listener.observer;
  if (observer !== undefined) observer(requestRecord(ctx, receivedBytes, sentBytes));
}

/**
 * A request the HTTP/1 connection answered itself, without a request the pipeline could read
 * (a head over 64 KiB, nothing complete within the idle timeout, the HTTP/2 preface, bytes
 * that are not HTTP): its counts, and the record AWS logs for it (spec 8.1: requests that
 * never reach a target are logged), with `-` for the method, the URL of the listener and no
 * version, as `"- http://host:80- -"`.
 */
export function finishRejected(listener: ListenerRuntime, status: number, request: RejectedRequest, sentBytes: number): void {
  listener.counters.processedBytes += request.receivedBytes + sentBytes;
  const observer = listener.observer;
  if (observer === undefined) return;
  observer({
    loadBalancer: listener.loadBalancer,
    listenerPort: listener.port,
    client: request.client,
    ...(request.client.tls !== undefined ? { tls: request.client.tls } : {}),
    requestProcessingMs: -1,
    targetProcessingMs: -1,
    responseProcessingMs: -1,
    elbStatusCode: status,
    producedBy: 'elb',
    receivedBytes: request.receivedBytes,
    sentBytes,
    method: '-',
    url: `${listener.protocol}://${hostForUrl(listener.address)}:${listener.port}-`,
    httpVersion: '',
    actionsExecuted: [],
    requestCreationTimeMs: request.arrivedMs,
    timeMs: listener.clock.now(),
  });
}

/** The request's record, in the shape the access log and the harness read. */
export function requestRecord(ctx: RequestContext, receivedBytes: number, sentBytes: number): RequestRecord {
  const listener = ctx.listener;
  const nowMs = listener.clock.now();
  const lease = ctx.lease;
  const dispatched = ctx.dispatchedMs >= 0;
  const agent = userAgent(ctx.rawHeaders);
  return {
    loadBalancer: listener.loadBalancer,
    listenerPort: listener.port,
    client: ctx.client,
    ...(ctx.client.tls !== undefined ? { tls: ctx.client.tls } : {}),
    ...(ctx.upgraded ? { upgraded: true } : {}),
    ...(ctx.grpc && ctx.versionMajor === 2 ? { grpc: true } : {}),
    ...(lease !== undefined ? { target: { id: lease.target.id, port: lease.target.port } } : {}),
    ...(ctx.forward !== undefined ? { targetGroup: ctx.forward.group.name } : {}),
    requestProcessingMs: dispatched ? ctx.dispatchedMs - ctx.arrivedMs : -1,
    targetProcessingMs: dispatched && ctx.targetHeadMs >= 0 ? ctx.targetHeadMs - ctx.dispatchedMs : -1,
    responseProcessingMs: dispatched && ctx.targetHeadMs >= 0 && ctx.responseStartMs >= 0 ? Math.max(0, ctx.responseStartMs - ctx.targetHeadMs) : -1,
    elbStatusCode: ctx.status,
    ...(ctx.targetStatus !== undefined ? { targetStatusCode: ctx.targetStatus } : {}),
    producedBy: ctx.producedBy,
    receivedBytes,
    sentBytes,
    method: ctx.method,
    url: requestUrl(ctx),
    httpVersion: ctx.httpVersion,
    ...(agent !== undefined ? { userAgent: agent } : {}),
    ...(ctx.traceId !== undefined ? { traceId: ctx.traceId } : {}),
    ...(ctx.match !== undefined ? { matchedRulePriority: ctx.match.priority } : {}),
    actionsExecuted: ctx.authenticated ? ['authenticate', ...ctx.actionsExecuted] : ctx.jwtValidated ? ['jwt-validation', ...ctx.actionsExecuted] : ctx.actionsExecuted,
    ...(ctx.redirectUrl !== undefined ? { redirectUrl: ctx.redirectUrl } : {}),
    ...(ctx.errorCode !== undefined ? { errorCode: ctx.errorCode } : {}),
    ...(ctx.errorReason !== undefined ? { errorReason: ctx.errorReason } : {}),
    ...(ctx.classification !== COMPLIANT ? { classification: ctx.classification.tier, classificationReason: ctx.classification.reason } : {}),
    ...(ctx.transformStatus !== undefined ? transformFields(ctx) : {}),
    requestCreationTimeMs: ctx.arrivedMs,
    timeMs: nowMs,
  };
}

/** Access log fields 31–33 of a request whose rule has transforms. */
function transformFields(ctx: RequestContext): Pick<RequestRecord, 'transformedHost' | 'transformedUri' | 'transformStatus'> {
  return {
    transformStatus: ctx.transformStatus!,
    ...(ctx.transformedHost !== undefined ? { transformedHost: ctx.transformedHost } : {}),
    ...(ctx.transformedTarget !== undefined ? { transformedUri: ctx.transformedTarget } : {}),
  };
}

/**
 * The URL of access log field 13 as AWS writes it (spec 8.1, `http://www.example.com:80/`):
 * the host the client named, without a port of its own, then the listener's port, then the
 * request-target as received (absolute-form: its path and query). A request refused before the
 * accept stage read it still shows what came.
 */
function requestUrl(ctx: RequestContext): string {
  const listener = ctx.listener;
  const target = ctx.target;
  const named = ctx.hostOverride ?? (ctx.host !== '' ? ctx.host : hostHeader(ctx.rawHeaders));
  const host = named === undefined || named === '' ? hostForUrl(listener.address) : withoutPort(named);
  const uri = ctx.hostOverride !== undefined ? ctx.path : target;
  return `${listener.protocol}://${host}:${listener.port}${uri}`;
}

function hostHeader(raw: readonly string[]): string | undefined {
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.length === 4 && raw[i]!.toLowerCase() === 'host') return raw[i + 1];
  return undefined;
}

const HOST_AND_PORT = /^(\[[^\]]*\]|[^:]*):\d*$/;

function withoutPort(host: string): string {
  const m = HOST_AND_PORT.exec(host);
  return m === null ? host : m[1]!;
}

function userAgent(raw: readonly string[]): string | undefined {
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.length === 10 && raw[i]!.toLowerCase() === 'user-agent') return raw[i + 1];
  return undefined;
}
