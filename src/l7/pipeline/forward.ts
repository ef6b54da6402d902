/**
 * The forward stage (spec 2.6, 4.1, 7.1, 7.2): takes a lease on a target of the chosen group,
 * sends the request on a pooled connection, streams both bodies with back-pressure, and ends
 * the request exactly once whichever way it goes: the target's response, a failure (the answer
 * stage picks 502/503/504), the client leaving (460) or stalling (408), or the lease being cut
 * when the deregistration delay ends. The outcome goes back to the lease explicitly, so
 * anomaly detection (spec 3.1) counts 5XX answers, connection failures and cut requests.
 */
import type { Socket } from 'node:net';
import { ElbError, ErrorCodes, isElbError } from '../../core/errors.ts';
import type { Lease } from '../../targets/target.ts';
import type { BodyConsumer } from '../exchange.ts';
import { downstreamHeaders } from '../headers.ts';
import type { GoneReason } from '../http1/client-connection.ts';
import type { MessageHead } from '../http1/llhttp.ts';
import { reasonPhrase } from '../http1/wire.ts';
import { upstreamCause, type UpstreamExchange, type UpstreamHandler, type UpstreamRequest } from '../upstream/connection.ts';
import { answerFailure, isTargetConnectionError, refuse } from './answer.ts';
import type { RequestContext } from './context.ts';
import { finish } from './record.ts';
import { Tunnel } from '../tunnel.ts';
import { StickyRequest, stickyCookies, stickyLease } from '../sticky.ts';
import { applyResponseHeaders } from '../response-headers.ts';

function headerValue(headers: readonly string[], lower: string): string | undefined {
  for (let i = 0; i < headers.length; i += 2) if (headers[i]!.toLowerCase() === lower) return headers[i + 1];
  return undefined;
}

/** Sends `request` to a target of `ctx.forward`'s group, or answers 503 when it has none to offer. */
export function forwardToTarget(ctx: RequestContext, request: UpstreamRequest): void {
  let lease: Lease;
  try {
    lease = acquireLease(ctx);
  } catch (err) {
    answerFailure(ctx, err, isElbError(err) ? err.code : ErrorCodes.NO_ROUTABLE_TARGETS);
    return;
  }
  new Forwarding(ctx, lease, request);
}

/**
 * A lease on a target of the chosen group: under sticky sessions the one the client is bound
 * to while it can take the request (spec 3.3; the algorithm only makes the first choice), else
 * the algorithm's choice.
 */
function acquireLease(ctx: RequestContext): Lease {
  const group = ctx.forward!.group;
  const stickiness = group.settings.stickiness;
  if (stickiness === undefined) return group.acquire();
  return stickyLease((ctx.sticky ??= new StickyRequest(ctx.rawHeaders)), group, stickiness, ctx.listener.clock.now());
}

/** The load balancer's sticky-session cookies for the target's response (spec 3.3, 3.4), added after the target's headers. */
function addStickyCookies(ctx: RequestContext, target: string, targetHeaders: readonly string[], headers: string[], nowMs: number): void {
  if (ctx.sticky !== undefined) headers.push(...stickyCookies(ctx.sticky, target, targetHeaders, ctx.rawHeaders, nowMs));
}

/** One request in flight to one target: the upstream's handler and the client body's consumer. */
class Forwarding implements UpstreamHandler, BodyConsumer {
  readonly #ctx: RequestContext;
  readonly #lease: Lease;
  readonly #exchange: UpstreamExchange;
  #settled = false;
  #tunnel: Tunnel | undefined;

  constructor(ctx: RequestContext, lease: Lease, request: UpstreamRequest) {
    this.#ctx = ctx;
    this.#lease = lease;
    ctx.lease = lease;
    const forward = ctx.forward!;
    forward.counters.requests++;
    if (forward.group.failingOpen) forward.counters.unhealthyRouting++;
    ctx.response.onClientGone((why) => this.#clientGone(why));
    lease.onCut((reason) => this.#cut(reason));
    ctx.dispatchedMs = ctx.listener.clock.now();
    const upstream = forward.protocolVersion === 'HTTP1' ? ctx.listener.upstream : ctx.listener.upstreamHttp2;
    // After an Ambiguous request in defensive mode the target connection is not reused (spec 13.1.1).
    this.#exchange = upstream.request(lease.target, ctx.closeTargetAfter ? { ...request, close: true } : request, this, forward.tls ? ctx.listener.backendTls : undefined);
    const body = ctx.body;
    if (body !== undefined && !this.#settled) {
      ctx.response.sendContinue();
      body.start(this);
    }
  }

  // UpstreamHandler: the target's response.

  onHead(head: MessageHead): void {
    const ctx = this.#ctx;
    const now = ctx.listener.clock.now();
    ctx.targetHeadMs = now;
    ctx.targetStatus = head.statusCode;
    ctx.forward!.counters.observeResponseTime((now - ctx.dispatchedMs) / 1000);
    const down = downstreamHeaders(head.headers);
    addStickyCookies(ctx, this.#lease.target.key, head.headers, down.headers, now);
    // A session an authenticate action refreshed (spec 13.2.7).
    if (ctx.setCookies !== undefined) for (const c of ctx.setCookies) down.headers.push('Set-Cookie', c);
    ctx.responseStartMs = now;
    ctx.response.writeHead(head.statusCode, head.statusMessage || reasonPhrase(head.statusCode), applyResponseHeaders(ctx.listener.responseHeaders, down.headers, 'target'), {
      ...(down.contentLength !== undefined ? { contentLength: down.contentLength } : {}),
      hasDate: down.hasDate,
      // An HTTP/2 target's headers that end the stream (gRPC trailers-only) end the client's too.
      ...(head.endStream === true ? { noBody: true } : {}),
    });
  }

  /**
   * The target answered the WebSocket upgrade with 101 (spec 7.3, 12.5): both connections
   * become a tunnel; the request ends (and is logged, `ws`/`wss`) when the tunnel closes. The
   * lease is held until then, so a draining target's tunnel is closed when its delay ends.
   */
  onUpgrade(head: MessageHead, socket: Socket, buffered: Buffer): void {
    const ctx = this.#ctx;
    const listener = ctx.listener;
    const now = listener.clock.now();
    ctx.targetHeadMs = now;
    ctx.responseStartMs = now;
    ctx.targetStatus = 101;
    ctx.forward!.counters.observeResponseTime((now - ctx.dispatchedMs) / 1000);
    const upgrade = headerValue(head.headers, 'upgrade') ?? ctx.websocket!;
    const upgradeHeaders = downstreamHeaders(head.headers).headers;
    // The upgrade's response carries the cookies; after it the tunnel is sticky by itself (spec 3.3).
    addStickyCookies(ctx, this.#lease.target.key, head.headers, upgradeHeaders, now);
    const client = ctx.response.switchProtocols?.([...upgradeHeaders, 'Connection', 'Upgrade', 'Upgrade', upgrade]);
    if (client === undefined) {
      socket.destroy();
      return this.onError(new ElbError(ErrorCodes.TARGET_INVALID_RESPONSE, 'the target switched protocols on a connection that cannot'), false);
    }
    ctx.upgraded = true;
    const tunnel = new Tunnel({
      client,
      target: { socket, buffered },
      now: () => listener.clock.now(),
      onClose: (closed) => {
        listener.tunnels.delete(tunnel);
        if (this.#settled) return;
        this.#settled = true;
        listener.log.debug({ event: 'tunnel.closed', target: this.#lease.target.key, why: closed.why, fromClient: closed.fromClientBytes, toClient: closed.toClientBytes }, `WebSocket to ${this.#lease.target.key} closed (${closed.why})`);
        this.#lease.release('ok');
        ctx.producedBy = 'target';
        ctx.status = 101;
        finish(ctx);
      },
    });
    this.#tunnel = tunnel;
    listener.tunnels.add(tunnel);
  }

  onTrailers(trailers: string[]): void {
    this.#ctx.response.trailers?.(trailers);
  }

  onData(chunk: Buffer): boolean {
    const response = this.#ctx.response;
    if (response.write(chunk)) return true;
    response.onDrain(() => this.#exchange.resume());
    return false;
  }

  onFlush(): void {
    this.#ctx.response.flush();
  }

  onEnd(): void {
    if (this.#settled) return;
    this.#settled = true;
    const ctx = this.#ctx;
    ctx.response.end();
    this.#lease.release(ctx.targetStatus! >= 500 ? 'error' : 'ok');
    ctx.producedBy = 'target';
    ctx.status = ctx.targetStatus!;
    finish(ctx);
  }

  onError(error: ElbError, afterHead: boolean): void {
    if (this.#settled) return;
    this.#settled = true;
    const ctx = this.#ctx;
    if (isTargetConnectionError(error)) ctx.forward!.counters.connectionErrors++;
    else if (isElbError(error, ErrorCodes.TARGET_TLS_FAILED) || isElbError(error, ErrorCodes.TARGET_TLS_TIMEOUT)) ctx.forward!.counters.tlsErrors++;
    this.#lease.release('error');
    const code = upstreamCause(error) ?? error.code;
    ctx.listener.log.debug({ event: 'request.failed', target: this.#lease.target.key, code, afterHead }, error.message);
    if (afterHead) {
      // The response had started: the client connection is cut, and the target's status stays.
      ctx.response.abort();
      ctx.producedBy = 'target';
      ctx.status = ctx.targetStatus!;
      ctx.errorCode = code;
      finish(ctx);
      return;
    }
    answerFailure(ctx, error, code);
  }

  // BodyConsumer: the client's request body.

  data(chunk: Buffer): boolean {
    if (this.#exchange.writeBody(chunk)) return true;
    this.#exchange.onBodyDrain(() => this.#ctx.body!.resume());
    return false;
  }

  end(): void {
    this.#exchange.endBody();
  }

  /** The client's body ended early or was malformed: the target gets nothing more, the client 400. */
  aborted(): void {
    if (this.#settled) return;
    this.#settled = true;
    const ctx = this.#ctx;
    this.#exchange.abort();
    this.#lease.release();
    if (!ctx.response.headersSent) return refuse(ctx, 'IncompleteBody');
    ctx.response.abort();
    ctx.producedBy = 'target';
    ctx.status = ctx.targetStatus!;
    ctx.errorCode = 'IncompleteBody';
    finish(ctx);
  }

  // The two other ways a request ends.

  /** The client closed (460, not counted against the target) or stopped sending or reading (408). */
  #clientGone(why: GoneReason): void {
    if (this.#settled) return;
    this.#settled = true;
    const ctx = this.#ctx;
    this.#exchange.abort();
    this.#lease.release();
    ctx.producedBy = 'elb';
    ctx.status = why === 'timeout' ? 408 : 460;
    ctx.errorCode = ErrorCodes.CLIENT_CLOSED;
    finish(ctx);
  }

  /** The deregistration delay ended with the request in flight (spec 4.1): 502, or the connection cut. */
  #cut(reason: ElbError): void {
    // An open WebSocket of a draining target lives until the delay ends, then is closed.
    if (this.#tunnel !== undefined) return this.#tunnel.close();
    if (this.#settled) return;
    this.#settled = true;
    const ctx = this.#ctx;
    this.#exchange.abort();
    this.#lease.release('error');
    if (ctx.response.headersSent) {
      ctx.response.abort();
      ctx.producedBy = 'target';
      ctx.status = ctx.targetStatus!;
      ctx.errorCode = reason.code;
      finish(ctx);
      return;
    }
    answerFailure(ctx, reason, reason.code);
  }
}
