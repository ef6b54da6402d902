/**
 * Forwarding one request to one target over HTTP/1.1 keep-alive (spec 5, 7.1, 7.2), on undici:
 * one Pool per target, `dispatch` with a raw handler so bodies stream both ways with
 * back-pressure and nothing is buffered whole. Errors become statuses in error-responses.ts.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PassThrough } from 'node:stream';
import { Pool, type Dispatcher } from 'undici';
import { hostForUrl } from '../core/addresses.ts';
import { ElbError, ErrorCodes } from '../core/errors.ts';
import type { Lease, Target } from '../targets/target.ts';
import { downstreamHeaders } from './headers.ts';

/** ALB's connect timeout to targets (spec 7.1: 504 after 10 s). */
export const CONNECT_TIMEOUT_MS = 10_000;
/** Largest response header block a target may send (spec 6.4: 32K; larger is 502). */
export const MAX_RESPONSE_HEADER_BYTES = 32 * 1024;

/** Keeps one undici Pool per target; pools go when their target leaves the group. */
export class TargetPools {
  readonly #pools = new Map<string, Pool>();
  #idleTimeoutMs: number;

  constructor(idleTimeoutMs: number) {
    this.#idleTimeoutMs = idleTimeoutMs;
  }

  set idleTimeoutMs(ms: number) {
    this.#idleTimeoutMs = ms;
  }

  get(target: Target): Pool {
    let pool = this.#pools.get(target.key);
    if (pool === undefined) {
      pool = new Pool(`http://${hostForUrl(target.id)}:${target.port}`, {
        pipelining: 1,
        connect: { timeout: CONNECT_TIMEOUT_MS },
        maxHeaderSize: MAX_RESPONSE_HEADER_BYTES,
        keepAliveTimeout: this.#idleTimeoutMs,
        keepAliveMaxTimeout: this.#idleTimeoutMs,
        headersTimeout: this.#idleTimeoutMs,
        bodyTimeout: this.#idleTimeoutMs,
        strictContentLength: true,
      });
      this.#pools.set(target.key, pool);
    }
    return pool;
  }

  /** Closes the target's connections at once (it has been deregistered and drained). */
  drop(key: string): void {
    const pool = this.#pools.get(key);
    if (pool === undefined) return;
    this.#pools.delete(key);
    pool.destroy().catch(() => {});
  }

  async close(): Promise<void> {
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    await Promise.all(pools.map((p) => p.destroy().catch(() => {})));
  }
}

export interface ForwardRequest {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly lease: Lease;
  readonly pool: Pool;
  readonly path: string;
  readonly headers: string[];
  readonly idleTimeoutMs: number;
}

/** How forwarding ended; `error` is set when the response did not come whole from the target. */
export interface ForwardResult {
  readonly targetStatus?: number;
  /** ms from dispatch to the target's response headers (TargetResponseTime); -1 if none. */
  readonly targetProcessingMs: number;
  /** Set when the load balancer had to answer (or cut) instead of the target. */
  readonly error?: unknown;
  /** True when the response headers had already gone to the client when it failed. */
  readonly headersSent: boolean;
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * Sends the request to the lease's target and streams the answer back. Resolves when the
 * exchange is over (never rejects); the caller turns `error` into a status if headers were
 * not sent yet, and releases the lease.
 */
export function forward(request: ForwardRequest): Promise<ForwardResult> {
  const { req, res, lease } = request;
  return new Promise<ForwardResult>((resolve) => {
    let controller: Dispatcher.DispatchController | undefined;
    let pendingAbort: Error | undefined;
    let settled = false;
    const dispatchedAt = performance.now();
    let targetProcessingMs = -1;
    let targetStatus: number | undefined;
    // undici destroys the body it was given when the exchange fails; handing it `req` itself
    // would leave the client socket paused with body bytes unread and the connection stuck.
    const body = hasBody(req) ? req.pipe(new PassThrough()) : null;

    const abort = (reason: Error) => {
      if (settled) return;
      if (controller === undefined) pendingAbort = reason;
      else controller.abort(reason);
    };
    const settle = (error?: unknown) => {
      if (settled) return;
      settled = true;
      res.off('close', onClientClose);
      if (body !== null && !req.complete) {
        // The target answered (or failed) before the whole body arrived: read and discard the
        // rest so the client's keep-alive connection can carry its next request.
        req.unpipe(body);
        body.destroy();
        if (!req.destroyed) req.resume();
      }
      resolve({ targetStatus, targetProcessingMs, error, headersSent: res.headersSent });
    };
    const onClientClose = () => {
      if (!res.writableFinished) abort(new ElbError(ErrorCodes.CLIENT_CLOSED, 'the client closed the connection before the response was complete'));
    };
    res.on('close', onClientClose);
    lease.onCut((reason) => abort(reason));

    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(c) {
        controller = c;
        if (pendingAbort !== undefined) c.abort(pendingAbort);
      },
      onResponseStart(c, statusCode, headers, statusMessage) {
        targetProcessingMs = performance.now() - dispatchedAt;
        targetStatus = statusCode;
        if (res.destroyed) return;
        res.writeHead(statusCode, statusMessage || undefined, downstreamHeaders(headers));
      },
      onResponseData(c, chunk) {
        if (res.destroyed) return;
        if (!res.write(chunk)) {
          c.pause();
          res.once('drain', () => c.resume());
        }
      },
      onResponseEnd() {
        if (!res.destroyed) res.end();
        settle();
      },
      onResponseError(_c, err) {
        settle(err);
      },
    };

    try {
      request.pool.dispatch(
        {
          path: request.path,
          method: req.method ?? 'GET',
          headers: request.headers,
          body,
          headersTimeout: request.idleTimeoutMs,
          bodyTimeout: request.idleTimeoutMs,
        },
        handler,
      );
    } catch (err) {
      settle(new ElbError(ErrorCodes.TARGET_INVALID_RESPONSE, `could not send the request to the target: ${(err as Error).message}`, { cause: err }));
    }
  });
}
