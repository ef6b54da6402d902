/**
 * One HTTP/2 stream from a client as the pipeline sees it: a ResponseSink for its response and a
 * RequestBody for its request body (spec 7.3, 12.3). HTTP/2 has no connection-level framing to
 * choose: `Content-Length`, chunking and `Connection` do not apply; trailers do.
 */
import http2 from 'node:http2';
import type { BodyConsumer, RequestBody, ResponseHeadOptions, ResponseSink } from '../exchange.ts';

/** Headers HTTP/2 forbids in a message (RFC 9113 8.2.2): they never go to a client stream. */
const CONNECTION_SPECIFIC = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te']);

/** `[name, value, …]` → an HTTP/2 header object (lower-case names; repeated names as arrays). */
export function toHttp2Headers(flat: readonly string[], into: http2.OutgoingHttpHeaders = {}): http2.OutgoingHttpHeaders {
  for (let i = 0; i < flat.length; i += 2) {
    const name = flat[i]!.toLowerCase();
    if (CONNECTION_SPECIFIC.has(name)) continue;
    const value = flat[i + 1]!;
    const existing = into[name];
    if (existing === undefined) into[name] = value;
    else into[name] = Array.isArray(existing) ? [...existing, value] : [String(existing), value];
  }
  return into;
}

export interface StreamExchangeEvents {
  /** The response is over (ended, aborted or the client gone). */
  finished(exchange: StreamExchange): void;
  /** Any byte either way (the connection's idle timeout). */
  activity(): void;
}

export class StreamExchange implements ResponseSink, RequestBody {
  readonly http2 = true;
  readonly stream: http2.ServerHttp2Stream;
  readonly contentLength: number | undefined;
  readonly #events: StreamExchangeEvents;
  readonly #headerBytes: number;
  headersSent = false;
  finished = false;
  #complete: boolean;
  #consumer: BodyConsumer | undefined;
  #failed = false;
  #settled = false;
  #received: number;
  #sent = 0;
  #trailers: http2.OutgoingHttpHeaders | undefined;
  #wantTrailers = false;
  readonly #gone: Array<(why: 'closed' | 'timeout') => void> = [];

  constructor(stream: http2.ServerHttp2Stream, headerBytes: number, endStream: boolean, contentLength: number | undefined, events: StreamExchangeEvents) {
    this.stream = stream;
    this.#events = events;
    this.#headerBytes = headerBytes;
    this.#received = headerBytes;
    this.#complete = endStream;
    this.contentLength = contentLength;
    stream.on('data', (chunk: Buffer) => {
      this.#received += chunk.length;
      events.activity();
      if (this.#consumer !== undefined && !this.#consumer.data(chunk)) stream.pause();
    });
    stream.on('end', () => {
      this.#complete = true;
      this.#settle();
    });
    // Reading starts when a consumer does (or never, for a request without a body).
    stream.pause();
    stream.on('error', () => {});
    stream.once('close', () => {
      if (!this.#complete) {
        this.#failed = true;
        this.#settle();
      }
      if (!this.finished) {
        this.finished = true;
        for (const fn of this.#gone.splice(0)) fn('closed');
        events.finished(this);
      }
    });
  }

  // RequestBody

  get complete(): boolean {
    return this.#complete;
  }

  start(consumer: BodyConsumer): void {
    this.#consumer = consumer;
    if (this.#complete || this.#failed) return this.#settle();
    this.stream.resume();
  }

  resume(): void {
    this.stream.resume();
  }

  discard(): void {
    this.#consumer = undefined;
    if (!this.#complete) this.stream.resume();
  }

  #settle(): void {
    const consumer = this.#consumer;
    if (consumer === undefined || this.#settled) return;
    if (this.#complete) {
      this.#settled = true;
      consumer.end();
    } else if (this.#failed) {
      this.#settled = true;
      consumer.aborted();
    }
  }

  // ResponseSink

  get receivedBytes(): number {
    return this.#received;
  }

  get sentBytes(): number {
    return this.#sent;
  }

  writeHead(status: number, _reason: string, headers: readonly string[], options: ResponseHeadOptions): void {
    // `stream.headersSent` too: Node answers a stream by itself when it is ended unanswered.
    if (this.headersSent || this.finished || this.stream.destroyed || this.stream.headersSent) return;
    this.headersSent = true;
    const out = toHttp2Headers(headers, { ':status': status });
    // Any response with a body may end with trailers (the target's `Trailer` header is
    // hop-by-hop and gone by now): wait for them; without any, Node ends the stream with an
    // empty DATA frame. A trailers-only gRPC response carries its status in these headers.
    delete out.trailer;
    const noBody = options.noBody === true || status === 204 || status === 304;
    this.#wantTrailers = !noBody;
    this.#sent += estimateHeaderBytes(out);
    try {
      this.stream.respond(out, { endStream: noBody, waitForTrailers: this.#wantTrailers });
    } catch (err) {
      // A stream the client reset between the checks above and here: nothing to answer.
      this.stream.destroy(err as Error);
      this.#finish();
      return;
    }
    if (this.#wantTrailers) this.stream.once('wantTrailers', () => this.stream.sendTrailers(this.#trailers ?? {}));
    if (noBody) this.#finish();
  }

  write(chunk: Buffer): boolean {
    if (this.finished || chunk.length === 0) return !this.finished;
    this.#sent += chunk.length;
    this.#events.activity();
    return this.stream.write(chunk);
  }

  onDrain(fn: () => void): void {
    this.stream.once('drain', fn);
  }

  flush(): void {}

  /** Trailers to send when the response ends (a gRPC status); ignored when none were announced. */
  trailers(headers: readonly string[]): void {
    this.#trailers = toHttp2Headers(headers);
  }

  end(): void {
    if (this.finished) return;
    // Ending a stream that has no response would make Node answer 200 by itself: reset it instead.
    if (!this.headersSent && !this.stream.destroyed) this.stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    else if (!this.stream.destroyed) this.stream.end();
    this.#finish();
  }

  abort(): void {
    if (this.finished) return;
    this.stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    this.#finish();
  }

  onClientGone(fn: (why: 'closed' | 'timeout') => void): void {
    this.#gone.push(fn);
  }

  /** The connection's idle timeout ended the stream with its request still open. */
  timedOut(): void {
    if (this.finished) return;
    this.finished = true;
    for (const fn of this.#gone.splice(0)) fn('timeout');
    this.stream.close(http2.constants.NGHTTP2_CANCEL);
    this.#events.finished(this);
  }

  sendContinue(): void {}

  #finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.#gone.length = 0;
    this.#events.finished(this);
  }

  get headerBytes(): number {
    return this.#headerBytes;
  }
}

/** The size of a header block before HPACK, for the access log's byte counts (HPACK makes it smaller on the wire). */
export function estimateHeaderBytes(headers: http2.OutgoingHttpHeaders | http2.IncomingHttpHeaders): number {
  let n = 0;
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) n += name.length + String(v).length + 4;
  }
  return n;
}
