/**
 * What a front end (the HTTP/1.1 connection today; HTTP/2 streams and TLS listeners later)
 * hands the request pipeline: the request as received, its body, and where the response goes.
 * The pipeline never sees sockets; a front end never decides a status.
 */
import type { TlsSession } from '../tls/front-end.ts';
import type { TunnelEnd } from './tunnel.ts';

/** Writes one response to the client. Created by the front end for each request. */
export interface ResponseSink {
  /** True for a stream of an HTTP/2 connection. */
  readonly http2?: boolean;
  /** True once `writeHead` has run. */
  readonly headersSent: boolean;
  /** True once `end` or `abort` has run, or the client has gone. */
  readonly finished: boolean;
  /** Bytes the client sent for this request (head and body) and bytes written back so far. */
  readonly receivedBytes: number;
  readonly sentBytes: number;
  /**
   * Sends the status line and headers. `headers` is `[name, value, …]` without hop-by-hop
   * headers; the sink adds `Connection`, the body framing (`Content-Length` when given,
   * else chunked, or close-delimited for HTTP/1.0 clients) and `Date` when `hasDate` is false.
   * `close` ends the client connection after this response.
   */
  writeHead(status: number, reason: string, headers: readonly string[], options: ResponseHeadOptions): void;
  /** Writes body bytes; false when the client is slow: wait for `onDrain` before writing more. */
  write(chunk: Buffer): boolean;
  /** Calls `fn` once when the client has taken what was written. */
  onDrain(fn: () => void): void;
  /** Sends what was written so far (writes are held to go out together; `end` flushes too). */
  flush(): void;
  /** Ends the response; the connection then serves the next request or closes. */
  end(): void;
  /** Cuts the client connection at once (a response that cannot be completed). */
  abort(): void;
  /**
   * Calls `fn` once if the client goes away before the response ended: it closed, or it
   * stopped sending its body or reading the response for the idle timeout (`timeout`).
   */
  onClientGone(fn: (why: 'closed' | 'timeout') => void): void;
  /** `100 Continue`, for a request that asked for it, before its body is read. */
  sendContinue(): void;
  /**
   * An HTTP/1.1 upgrade request only: sends `101 Switching Protocols` with `headers` (the
   * target's, `Upgrade` and `Connection` included) and gives up the client connection for a
   * tunnel, with the bytes the client sent after its request. Undefined when the request was
   * not an upgrade or a response has started; absent on front ends that have no upgrades.
   */
  switchProtocols?(headers: readonly string[]): TunnelEnd | undefined;
  /** HTTP/2 only: trailers to send when the response ends (a gRPC status from the target). */
  trailers?(headers: readonly string[]): void;
  /**
   * HTTP/1 only: the client connection closes after this response, whatever the request asked
   * (desync mitigation's defensive mode after an Ambiguous request, spec 13.1.1). Before `writeHead`.
   */
  closeAfter?(): void;
}

export interface ResponseHeadOptions {
  /** The body length when known (`Content-Length` is then among `headers`). */
  readonly contentLength?: number;
  /** No body follows (HEAD request, 204, 304): no framing header is added. */
  readonly noBody?: boolean;
  readonly hasDate?: boolean;
  readonly close?: boolean;
}

/** The body of a request, read once by whoever forwards it. */
export interface RequestBody {
  /** `Content-Length`, or undefined for a chunked body. */
  readonly contentLength: number | undefined;
  /** True once every body byte has arrived. */
  readonly complete: boolean;
  /**
   * Starts delivery: buffered chunks first, then live ones. `data` returning false pauses the
   * client until `resume()`. `end` runs once the body is complete; `aborted` if the client
   * went away first.
   */
  start(consumer: BodyConsumer): void;
  resume(): void;
  /** Nobody will read the rest: it is read and dropped so the connection can go on. */
  discard(): void;
}

export interface BodyConsumer {
  data(chunk: Buffer): boolean;
  end(): void;
  aborted(): void;
}

/** The client end of the TCP connection (and its TLS session on an HTTPS listener). */
export interface ClientAddress {
  readonly ip: string;
  readonly port: number;
  readonly tls?: TlsSession;
  /** The connection's `conn_trace_id` (access log field 30, connection log field 12). */
  readonly connTraceId?: string;
}
