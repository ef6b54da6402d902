/**
 * What happened to one request, from arrival to the last byte: the facts the ALB access log
 * (spec 8.1), the metrics and the graceful-shutdown harness all read. Made once per request.
 */
import type { TlsSession } from '../tls/front-end.ts';
import type { DesyncReason, DesyncTier } from './desync.ts';
import type { TransformStatus } from './transforms.ts';

export interface RequestRecord {
  readonly loadBalancer: string;
  readonly listenerPort: number;
  /** `connTraceId`: the connection's (access log field 30, spec 12.1.8). */
  readonly client: { readonly ip: string; readonly port: number; readonly connTraceId?: string };
  /** The TLS session of an HTTPS listener's connection (access log fields 15, 16, 19, 20). */
  readonly tls?: TlsSession;
  /** A WebSocket: the target answered 101 and the record is the whole connection's, made when it closed. */
  readonly upgraded?: true;
  /** A gRPC request (HTTP/2, `content-type: application/grpc…`): access log type `grpcs`. */
  readonly grpc?: true;
  /** The target chosen, if any (access log `target:port`). */
  readonly target?: { readonly id: string; readonly port: number };
  readonly targetGroup?: string;
  /** ms: arrival → sent to the target; -1 when not dispatched (spec 8.1 field 6). */
  readonly requestProcessingMs: number;
  /** ms: sent → target's response headers; -1 when there were none (field 7). */
  readonly targetProcessingMs: number;
  /** ms: target's headers → start of the response to the client; -1 when not dispatched (field 8). */
  readonly responseProcessingMs: number;
  /** Status the client got; 460 when the client left first (then nothing was sent). */
  readonly elbStatusCode: number;
  /** The target's status, if it answered. */
  readonly targetStatusCode?: number;
  /** Who made the response: the load balancer itself or the target. */
  readonly producedBy: 'elb' | 'target';
  readonly receivedBytes: number;
  readonly sentBytes: number;
  /** `-` for a request the load balancer could not read (then `url` is the listener's, ending in `-`, and `httpVersion` is ''). */
  readonly method: string;
  /** `http://host:port/uri` as AWS writes it (spec 8.1). */
  readonly url: string;
  readonly httpVersion: string;
  readonly userAgent?: string;
  readonly traceId?: string;
  /** 1–50000 for a rule, 0 for the default rule, undefined when no rule was evaluated. */
  readonly matchedRulePriority?: number;
  readonly actionsExecuted: readonly string[];
  readonly redirectUrl?: string;
  /** Stable code of the failure, when there was one (`ELB_ERR_…`, or the socket/undici code). */
  readonly errorCode?: string;
  /** Access log `error_reason` (spec 8.1 field 25): `AuthInvalidCookie`, … (spec 13.2.8). */
  readonly errorReason?: string;
  /** Desync mitigation's tier and reason (spec 13.1, access log fields 28–29); absent for a Compliant request. */
  readonly classification?: DesyncTier;
  readonly classificationReason?: DesyncReason;
  /** The Host sent on after a host-header-rewrite transform matched (access log field 31). */
  readonly transformedHost?: string;
  /** The request-target sent on after a url-rewrite transform matched (field 32). */
  readonly transformedUri?: string;
  /** What the matched rule's transforms did (field 33); absent when it has none. */
  readonly transformStatus?: TransformStatus;
  /** Wall-clock ms when the request arrived and when the response was done. */
  readonly requestCreationTimeMs: number;
  readonly timeMs: number;
}
