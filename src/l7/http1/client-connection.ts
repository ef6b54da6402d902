/**
 * One client connection to an ALB HTTP listener (spec 7.1, 7.2): llhttp parses the requests,
 * this class keeps the HTTP/1.1 rules around them (keep-alive, one response at a time in
 * request order for pipelined requests, `100 Continue`, the idle timeout and 408, request body
 * back-pressure) and writes responses. Statuses are not decided here: the pipeline answers
 * requests, and `ConnectionEvents.reject` gives the bytes for a request that could not be
 * parsed or did not arrive in time.
 */
import type { Socket } from 'node:net';
import type { Clock } from '../../core/clock.ts';
import { plainIp } from '../../core/addresses.ts';
import type { TlsSession } from '../../tls/front-end.ts';
import type { TunnelEnd } from '../tunnel.ts';
import type { BodyConsumer, ClientAddress, RequestBody, ResponseHeadOptions, ResponseSink } from '../exchange.ts';
import { lowerName } from '../headers.ts';
import { Http1Parser, type MessageHead, type ParseError } from './llhttp.ts';
import { headStart, hopelessHead, keepsAlive, readRequestHead, requestFraming, standInHead, unforwardable, versionNumbers } from './request-head.ts';
import { chunkSizeLine, headerLines, httpDate, LAST_CHUNK } from './wire.ts';

/** Why a connection is answered and closed without a request the pipeline could see. */
export type Rejection =
  /** `requestLineBytes`: the failed head's request line length, undefined if it had not ended. */
  | { readonly kind: 'parse'; readonly error: ParseError; readonly requestLineBytes: number | undefined }
  /** No complete request head (or body) within the idle timeout. */
  | { readonly kind: 'timeout' };

/** What the connection asks of its listener. */
export interface ConnectionEvents {
  /** A request head is complete: answer it through `response`. */
  request(head: MessageHead, response: ResponseSink, body: RequestBody | undefined, client: ClientAddress): void;
  /**
   * The raw response (status line, headers, page) for a rejected request; the connection then
   * closes. `request` is set when no request of the pipeline's is being answered (so the
   * rejection is the only trace of it, for the access log): who sent it, its bytes, since when.
   */
  reject(rejection: Rejection, request: RejectedRequest | undefined): string;
}

/** A request the connection answers itself, for its record. */
export interface RejectedRequest {
  readonly client: ClientAddress;
  readonly receivedBytes: number;
  /** When its first byte came (the connection's start when none came). */
  readonly arrivedMs: number;
}

export interface ClientConnectionOptions {
  readonly clock: Clock;
  /** Request line plus headers (spec 6.4: 64 KiB). */
  readonly maxHeaderBytes: number;
  /** Read at each decision, so attribute changes apply to open connections. */
  readonly timeouts: () => { readonly idleTimeoutMs: number; readonly clientKeepAliveMs: number };
  readonly events: ConnectionEvents;
  /** The TLS session, on an HTTPS listener (it goes with every request's client address). */
  readonly tls?: TlsSession;
  /** The connection's trace ID (access log field 30). */
  readonly connTraceId?: string;
  /** Called once when the socket has closed. */
  readonly onClose: (connection: ClientConnection) => void;
}

/** Why a request's client went away: it closed, or it stopped sending or reading (the idle timeout). */
export type GoneReason = 'closed' | 'timeout';

type Phase =
  /** Connected, nothing received yet (the idle timeout gives 408). */
  | 'fresh'
  /** Between requests (the idle timeout closes the connection quietly). */
  | 'idle'
  /** Part of a request head received (the idle timeout gives 408). */
  | 'head'
  /** A request is being answered. */
  | 'busy';

const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';
const CRLF_CRLF = Buffer.from('\r\n\r\n', 'latin1');

/**
 * llhttp's refusals of a request head that the head reader reads again (spec 13.1: desync
 * mitigation routes much of what llhttp refuses); the others (a head over 64 KiB, the HTTP/2
 * preface, bytes after `Connection: close`) are answered as they are.
 */
const NOT_REREAD = new Set(['HPE_HEADER_OVERFLOW', 'HPE_PAUSED_H2_UPGRADE', 'HPE_CLOSED_CONNECTION', 'HPE_PAUSED', 'HPE_PAUSED_UPGRADE']);

/** How many bytes a connection keeps so that a refused head can be read again (pipelined requests beyond that are answered as llhttp decided). */
const MAX_TRACKED_BYTES = 128 * 1024;

/** Where the head after `bodies.length` complete messages starts in `bytes`, each message a CRLF-ended head and a body of the given length. */
function headAfter(bytes: Buffer, bodies: readonly number[]): number | undefined {
  let at = 0;
  for (const body of bodies) {
    const blank = bytes.indexOf(CRLF_CRLF, headStart(bytes, at));
    if (blank < 0) return undefined;
    at = blank + 4 + body;
    if (at > bytes.length) return undefined;
  }
  return at;
}

export class ClientConnection {
  readonly socket: Socket;
  readonly client: ClientAddress;
  readonly connectedAtMs: number;
  readonly #o: ClientConnectionOptions;
  #parser: Http1Parser;
  /** The exchange being answered; later pipelined requests wait in `#queue`. */
  #current: Exchange | undefined;
  readonly #queue: Exchange[] = [];
  /** The exchange whose request the parser is reading (its body goes there). */
  #parsing: Exchange | undefined;
  #phase: Phase = 'fresh';
  #phaseSinceMs: number;
  /** Between the first byte of a request and the end of its head. */
  #inHead = false;
  #headStartedMs = 0;
  /** The current head's request line: bytes seen without a line feed, then its length. */
  #lineScanned = 0;
  #lineBytes: number | undefined;
  /** Last byte from the client; last time the client took what was written. */
  #lastReadMs: number;
  #lastWriteProgressMs: number;
  /** No more requests: a response said `close`, an upgrade, a parse error, shutdown. */
  #closing = false;
  #clientEnded = false;
  #closed = false;
  /** A malformed pipelined request head, answered once the requests before it are. */
  #pendingRejection: Rejection | undefined;
  #parseFailed = false;
  #bytesReadMark = 0;
  #bytesWrittenMark = 0;
  #corked = false;
  /** After an upgrade request's head: what the client sent next, held for a tunnel. */
  #afterUpgrade: Buffer[] | undefined;
  /** The bytes from the start of the head being read, while that start is known: a head llhttp refuses is read again from them. */
  #tracked: Buffer[] | undefined;
  #trackedBytes = 0;
  /** Body lengths of the messages whose heads lie in `#tracked`, in order. */
  #trackedBodies: number[] = [];
  /** A head llhttp refused, being read whole by the head reader: its bytes so far, and llhttp's verdict on it. */
  #rereading: { bytes: Buffer; readonly error: ParseError } | undefined;
  /** The head the client sent, while llhttp parses the stand-in that frames its body. */
  #standIn: MessageHead | undefined;
  readonly #onSocketData = (data: Buffer) => this.#onData(data);
  readonly #onSocketEnd = () => this.#onEnd();
  readonly #onSocketDrain = () => (this.#lastWriteProgressMs = this.#o.clock.now());
  readonly #onSocketError = () => this.socket.destroy();
  readonly #onSocketClose = () => this.#onClose();

  constructor(socket: Socket, options: ClientConnectionOptions) {
    this.socket = socket;
    this.#o = options;
    this.client = {
      ip: plainIp(socket.remoteAddress),
      port: socket.remotePort ?? 0,
      ...(options.tls !== undefined ? { tls: options.tls } : {}),
      ...(options.connTraceId !== undefined ? { connTraceId: options.connTraceId } : {}),
    };
    const now = options.clock.now();
    this.connectedAtMs = now;
    this.#phaseSinceMs = now;
    this.#lastReadMs = now;
    this.#lastWriteProgressMs = now;
    this.#parser = this.#newParser();
    socket.on('data', this.#onSocketData);
    socket.on('end', this.#onSocketEnd);
    socket.on('drain', this.#onSocketDrain);
    socket.on('error', this.#onSocketError);
    socket.once('close', this.#onSocketClose);
  }

  /** No request is being answered or waiting (listener shutdown closes these at once). */
  get idle(): boolean {
    return this.#current === undefined && this.#queue.length === 0 && !this.#inHead;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * The idle timeout (spec 7.2), checked by the listener's sweep: no complete request head in
   * time gives 408; an idle keep-alive connection is closed; a client that stops sending its
   * body or stops reading the response is cut.
   */
  checkIdle(now: number): void {
    if (this.#closed) return;
    const { idleTimeoutMs } = this.#o.timeouts();
    if (this.#phase === 'busy') {
      const current = this.#current;
      const stalledBody = current !== undefined && current.waitingForClient && now - this.#lastReadMs >= idleTimeoutMs;
      const stalledReader = this.socket.writableLength > 0 && now - this.#lastWriteProgressMs >= idleTimeoutMs;
      if (stalledBody || stalledReader) this.#reject({ kind: 'timeout' }, current);
      return;
    }
    // Idle means no data either way for that long (spec 7.2): a head that is still arriving is not idle.
    const since = this.#phase === 'head' ? Math.max(this.#phaseSinceMs, this.#lastReadMs) : this.#phaseSinceMs;
    if (now - since < idleTimeoutMs) return;
    if (this.#phase === 'idle') this.socket.destroy();
    else this.#reject({ kind: 'timeout' }, undefined);
  }

  /** Stops taking requests: closes now if idle (or when `now`), else after the response in progress. */
  close(now = false): void {
    this.#closing = true;
    if (now || this.idle) this.socket.destroy();
  }

  #newParser(): Http1Parser {
    return new Http1Parser(
      'request',
      {
        onBegin: () => this.#onBegin(),
        onHead: (head) => this.#onHead(head),
        onBody: (chunk) => this.#parsing?.received(chunk),
        onComplete: () => this.#onMessageComplete(),
      },
      { maxHeaderBytes: this.#o.maxHeaderBytes },
    );
  }

  #setPhase(phase: Phase, sinceMs = this.#o.clock.now()): void {
    this.#phase = phase;
    this.#phaseSinceMs = sinceMs;
  }

  #onData(data: Buffer): void {
    this.#lastReadMs = this.#o.clock.now();
    // After a parse error nothing more is read: the connection closes once answered.
    if (this.#parseFailed) return;
    // After an upgrade request nothing more is parsed: it is the new protocol's, held (with
    // the client paused) until the target answers.
    if (this.#afterUpgrade !== undefined) {
      this.#afterUpgrade.push(data);
      this.socket.pause();
      return;
    }
    if (this.#rereading !== undefined) {
      this.#rereading.bytes = Buffer.concat([this.#rereading.bytes, data]);
      return this.#continueReread();
    }
    this.#track(data);
    this.#execute(data);
  }

  /** Keeps the bytes from a head's first byte on, while where it started is known (see `#startReread`). */
  #track(data: Buffer): void {
    if (this.#parsing === undefined && !this.#inHead) {
      this.#tracked = [data];
      this.#trackedBytes = data.length;
      this.#trackedBodies = [];
    } else if (this.#tracked !== undefined) {
      this.#trackedBytes += data.length;
      if (this.#trackedBytes > MAX_TRACKED_BYTES) this.#tracked = undefined;
      else this.#tracked.push(data);
    }
  }

  #execute(data: Buffer): void {
    // Before a head is complete (no body being read), the first line feed ends its request line.
    if (this.#lineBytes === undefined && this.#parsing === undefined) {
      const lf = data.indexOf(10);
      if (lf >= 0) this.#lineBytes = this.#lineScanned + lf + 1;
      else this.#lineScanned += data.length;
    }
    const result = this.#parser.execute(data);
    if (typeof result !== 'number') return this.#onParseError(result);
    // An Upgrade or CONNECT request stops the parser at the end of its head: what follows is
    // another protocol, kept for a WebSocket tunnel. Without one, the request is answered and
    // the connection closes.
    if (result < data.length) {
      this.#closing = true;
      // (#onHead, inside execute, has just set it for an upgrade request.)
      (this.#afterUpgrade as Buffer[] | undefined)?.push(data.subarray(result));
    }
    if (this.#queue.length > 0) this.socket.pause();
  }

  #onBegin(): void {
    this.#inHead = true;
    this.#headStartedMs = this.#o.clock.now();
    if (this.#phase !== 'busy') this.#setPhase('head', this.#headStartedMs);
  }

  #onHead(parsed: MessageHead): boolean {
    this.#inHead = false;
    this.#lineScanned = 0;
    this.#lineBytes = undefined;
    const head = this.#standIn ?? parsed;
    this.#standIn = undefined;
    const exchange = new Exchange(this, head);
    this.#parsing = exchange;
    if (this.#tracked !== undefined) {
      // After a chunked body, where the next head starts is llhttp's to know.
      if (exchange.hasBody && exchange.contentLength === undefined) this.#tracked = undefined;
      else this.#trackedBodies.push(exchange.hasBody ? exchange.contentLength! : 0);
    }
    if (head.upgrade) {
      this.#closing = true;
      this.#afterUpgrade = [];
    }
    if (this.#current === undefined && !this.#closed) this.#start(exchange);
    else this.#queue.push(exchange);
    return false;
  }

  #onMessageComplete(): void {
    const exchange = this.#parsing;
    this.#parsing = undefined;
    if (exchange === undefined) return;
    exchange.bodyComplete();
    if (exchange === this.#current && exchange.responseEnded) this.#next();
  }

  #onParseError(error: ParseError): void {
    const parsing = this.#parsing;
    this.#parsing = undefined;
    if (parsing !== undefined) {
      // The body of a parsed request is malformed (a bad chunk size): the pipeline sees the body
      // fail and answers that request; the connection ends after it.
      this.#parseFailed = true;
      this.#closing = true;
      parsing.bodyFailed();
      if (parsing === this.#current && parsing.responseEnded) this.#endSocket();
      return;
    }
    if (!NOT_REREAD.has(error.code) && this.#startReread(error)) return;
    this.#parseFailed = true;
    this.#rejectHead({ kind: 'parse', error, requestLineBytes: this.#lineBytes });
  }

  /** Answers a head that cannot be taken, after the requests before it. */
  #rejectHead(rejection: Rejection): void {
    if (this.#current === undefined && this.#queue.length === 0) this.#reject(rejection, undefined);
    // Requests before it are answered first, in order.
    else this.#pendingRejection ??= rejection;
  }

  /**
   * A head llhttp refused goes to the head reader, which reads it whole (waiting for the rest
   * if need be) for the desync classifier to judge (spec 13.1): false when where it started is
   * not known (a long pipeline, or right behind a chunked body), and llhttp's verdict stands.
   */
  #startReread(error: ParseError): boolean {
    const tracked = this.#tracked;
    this.#tracked = undefined;
    if (tracked === undefined) return false;
    const bytes = tracked.length === 1 ? tracked[0]! : Buffer.concat(tracked);
    const start = headAfter(bytes, this.#trackedBodies);
    if (start === undefined) return false;
    this.#rereading = { bytes: bytes.subarray(start), error };
    if (!this.#inHead) this.#onBegin();
    this.#continueReread();
    return true;
  }

  #continueReread(): void {
    const rereading = this.#rereading!;
    const bytes = rereading.bytes;
    const read = readRequestHead(bytes);
    if (read === undefined && bytes.length <= this.#o.maxHeaderBytes && !hopelessHead(bytes)) return;
    if (read === undefined || 'malformed' in read || read.end > this.#o.maxHeaderBytes) {
      const overflow = read === undefined ? bytes.length > this.#o.maxHeaderBytes : !('malformed' in read);
      return this.#giveUpReread(overflow ? { code: 'HPE_HEADER_OVERFLOW', reason: 'Header overflow' } : rereading.error);
    }
    this.#rereading = undefined;
    const tokens = read.head;
    const version = versionNumbers(tokens.version) ?? { major: 1, minor: 1 };
    const framed = requestFraming(tokens.headers);
    const why = unforwardable(tokens) ?? ('unreadable' in framed ? framed.unreadable : undefined);
    const framing = why === undefined && 'framing' in framed ? framed.framing : 'none';
    const keepAlive = why === undefined && version.major === 1 && keepsAlive(tokens.headers, version.minor);
    this.#standIn = {
      versionMajor: version.major,
      versionMinor: version.minor,
      headers: tokens.headers,
      method: tokens.method,
      url: tokens.uri,
      statusCode: 0,
      statusMessage: '',
      upgrade: false,
      keepAlive,
      reread: { version: tokens.version, framing, ...(why !== undefined ? { unforwardable: why } : {}) },
    };
    // A fresh llhttp frames the body from a stand-in head; what follows is parsed as usual.
    const standIn = standInHead(framing, keepAlive, version.major === 1 && version.minor === 0);
    const fed = why === undefined ? Buffer.concat([standIn, bytes.subarray(read.end)]) : standIn;
    const refused = this.#parser;
    this.#parser = this.#newParser();
    refused.close();
    this.#tracked = [fed];
    this.#trackedBytes = fed.length;
    this.#trackedBodies = [];
    this.#lineScanned = 0;
    this.#lineBytes = undefined;
    this.#execute(fed);
    // Nothing after a request that cannot be forwarded is read: the connection closes after its answer.
    if (why !== undefined) this.#parseFailed = true;
  }

  #giveUpReread(error: ParseError): void {
    const bytes = this.#rereading!.bytes;
    this.#rereading = undefined;
    this.#parseFailed = true;
    const lf = bytes.indexOf(0x0a, headStart(bytes));
    this.#rejectHead({ kind: 'parse', error, requestLineBytes: lf < 0 ? undefined : lf - headStart(bytes) + 1 });
  }

  #start(exchange: Exchange): void {
    this.#current = exchange;
    this.#setPhase('busy');
    this.#o.events.request(exchange.head, exchange, exchange.hasBody ? exchange : undefined, this.client);
  }

  /** The current exchange's response has ended: serve the next request, or close. */
  exchangeEnded(exchange: Exchange, keepAlive: boolean): void {
    if (exchange !== this.#current) return;
    this.#uncork();
    if (!keepAlive) {
      this.#closing = true;
      this.#endSocket();
      return;
    }
    // The rest of an unread request body must arrive (and be dropped) before the next request.
    if (exchange.waitingForClient) return;
    this.#next();
  }

  #next(): void {
    this.#current = undefined;
    this.#bytesReadMark = this.socket.bytesRead;
    this.#bytesWrittenMark = this.socket.bytesWritten;
    const next = this.#queue.shift();
    if (next === undefined && this.#pendingRejection !== undefined) return this.#reject(this.#pendingRejection, undefined);
    if (next !== undefined) {
      // Not inside the previous response's call stack.
      process.nextTick(() => {
        if (this.#closed) return;
        this.#start(next);
        if (this.#queue.length === 0) this.socket.resume();
      });
      return;
    }
    if (this.#closing || this.#clientEnded) return this.#endSocket();
    if (this.#inHead) this.#setPhase('head', this.#headStartedMs);
    else this.#setPhase('idle');
    this.socket.resume();
  }

  /** Answers with the rejection's bytes (unless a response has started) and closes. */
  #reject(rejection: Rejection, current: Exchange | undefined): void {
    this.#closing = true;
    if (current !== undefined && current.headersSent) {
      current.gone('timeout');
      this.socket.destroy();
      return;
    }
    current?.gone(rejection.kind === 'timeout' ? 'timeout' : 'closed');
    this.#uncork();
    const request = current === undefined ? { client: this.client, receivedBytes: this.bytesRead, arrivedMs: this.#inHead ? this.#headStartedMs : this.#phaseSinceMs } : undefined;
    if (this.socket.writable) this.socket.end(this.#o.events.reject(rejection, request), 'latin1');
    this.socket.destroySoon();
  }

  #endSocket(): void {
    this.#uncork();
    if (this.socket.writable) this.socket.end();
    this.socket.destroySoon();
  }

  #onEnd(): void {
    this.#clientEnded = true;
    // A head being read again will not be completed now.
    if (this.#rereading !== undefined) this.#giveUpReread(this.#rereading.error);
    const parsing = this.#parsing;
    this.#parsing = undefined;
    parsing?.bodyFailed();
    if (this.#current === undefined) this.#endSocket();
  }

  #onClose(): void {
    this.#closed = true;
    const exchanges = [this.#current, ...this.#queue];
    this.#queue.length = 0;
    for (const exchange of exchanges) exchange?.gone('closed');
    this.#parser.close();
    this.#o.onClose(this);
  }

  // For the exchanges.

  /**
   * Writes to the client. Writes are held until `flush()` (or the end of the response), so a
   * head and the body parts that arrived with it go out in one writev.
   */
  write(data: string | Buffer): boolean {
    if (this.#closed) return false;
    const socket = this.socket;
    if (socket.writableLength === 0) this.#lastWriteProgressMs = this.#o.clock.now();
    if (!this.#corked) {
      this.#corked = true;
      socket.cork();
    }
    return typeof data === 'string' ? socket.write(data, 'latin1') : socket.write(data);
  }

  flush(): void {
    this.#uncork();
  }

  #uncork(): void {
    if (!this.#corked) return;
    this.#corked = false;
    this.socket.uncork();
  }

  /** Bytes read and written since the previous exchange ended (access log `received_bytes`, `sent_bytes`). */
  get bytesRead(): number {
    return this.socket.bytesRead - this.#bytesReadMark;
  }

  get bytesWritten(): number {
    return this.socket.bytesWritten - this.#bytesWrittenMark;
  }

  /**
   * Gives the socket up to a tunnel after a 101 (spec 7.3): the connection stops reading and
   * counting it as its own, and the listener forgets it as a connection.
   */
  detachForTunnel(): { socket: Socket; buffered: Buffer } {
    const socket = this.socket;
    this.#uncork();
    socket.off('data', this.#onSocketData);
    socket.off('end', this.#onSocketEnd);
    socket.off('drain', this.#onSocketDrain);
    socket.off('error', this.#onSocketError);
    socket.off('close', this.#onSocketClose);
    const buffered = Buffer.concat(this.#afterUpgrade ?? []);
    this.#afterUpgrade = undefined;
    this.#current = undefined;
    this.#queue.length = 0;
    this.#closed = true;
    this.#parser.close();
    this.#o.onClose(this);
    return { socket, buffered };
  }

  /** May the next response keep the connection open (`client_keep_alive.seconds`, spec 7.2)? */
  keepAliveAllowed(): boolean {
    if (this.#closing || this.#clientEnded) return false;
    return this.#o.clock.now() - this.connectedAtMs < this.#o.timeouts().clientKeepAliveMs;
  }

  now(): number {
    return this.#o.clock.now();
  }

  /** A paused body is the load balancer's doing, not the client's: restart the stall clock. */
  resumed(): void {
    this.#lastReadMs = this.#o.clock.now();
    this.socket.resume();
  }
}

/** One request on a client connection: its body as it arrives, and its response. */
class Exchange implements ResponseSink, RequestBody {
  readonly head: MessageHead;
  readonly hasBody: boolean;
  readonly contentLength: number | undefined;
  readonly #conn: ClientConnection;
  readonly #expectContinue: boolean;
  readonly #headRequest: boolean;
  // request body
  #chunks: Buffer[] = [];
  #consumer: BodyConsumer | undefined;
  #paused = false;
  #discarding = false;
  #complete: boolean;
  #failed = false;
  #settled = false;
  // response
  headersSent = false;
  finished = false;
  responseEnded = false;
  #keepAlive = false;
  #chunked = false;
  #noBody = false;
  #continued = false;
  /** Desync mitigation closes the connection after this response (spec 13.1.1), or the request could not be forwarded as received. */
  #closeAfter: boolean;
  #receivedBytes: number | undefined;
  #sentBytes: number | undefined;
  readonly #goneHandlers: Array<(why: GoneReason) => void> = [];

  constructor(conn: ClientConnection, head: MessageHead) {
    this.#conn = conn;
    this.head = head;
    let contentLength: number | undefined;
    let chunked = false;
    let expect = false;
    const reread = head.reread;
    const h = head.headers;
    for (let i = 0; i < h.length; i += 2) {
      const name = h[i]!;
      if (name.length === 6 && lowerName(name) === 'expect') expect = /100-continue/i.test(h[i + 1]!);
      else if (reread !== undefined) continue;
      else if (name.length === 14 && lowerName(name) === 'content-length') contentLength = Number(h[i + 1]);
      else if (name.length === 17 && lowerName(name) === 'transfer-encoding') chunked = true;
    }
    // A head the head reader read says how its body is framed (llhttp framed it from a stand-in).
    if (reread !== undefined) {
      chunked = reread.framing === 'chunked';
      contentLength = typeof reread.framing === 'number' ? reread.framing : undefined;
    }
    this.#closeAfter = reread?.unforwardable !== undefined;
    this.hasBody = chunked || (contentLength !== undefined && contentLength > 0);
    this.contentLength = chunked ? undefined : contentLength;
    this.#complete = !this.hasBody;
    this.#expectContinue = expect && this.hasBody;
    this.#headRequest = head.method === 'HEAD';
  }

  // RequestBody: chunks are kept until a consumer starts, then delivered; a consumer that
  // returns false pauses the client until resume().

  get complete(): boolean {
    return this.#complete;
  }

  /** Body bytes are still to come from the client, and it is not held back by us. */
  get waitingForClient(): boolean {
    return !this.#complete && !this.#failed && !this.#paused;
  }

  start(consumer: BodyConsumer): void {
    this.#consumer = consumer;
    this.#deliver();
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#deliver();
    if (!this.#paused) this.#conn.resumed();
  }

  discard(): void {
    this.#discarding = true;
    this.#consumer = undefined;
    this.#chunks = [];
    if (this.#paused) {
      this.#paused = false;
      this.#conn.resumed();
    }
  }

  received(chunk: Buffer): void {
    if (this.#discarding) return;
    this.#chunks.push(chunk);
    this.#deliver();
  }

  bodyComplete(): void {
    this.#complete = true;
    this.#deliver();
  }

  bodyFailed(): void {
    if (this.#complete) return;
    this.#failed = true;
    this.#deliver();
  }

  #deliver(): void {
    const consumer = this.#consumer;
    if (consumer === undefined || this.#discarding) return;
    while (this.#chunks.length > 0 && !this.#paused) {
      if (!consumer.data(this.#chunks.shift()!)) {
        this.#paused = true;
        this.#conn.socket.pause();
      }
    }
    if (this.#paused || this.#chunks.length > 0 || this.#settled) return;
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
    return this.#receivedBytes ?? this.#conn.bytesRead;
  }

  get sentBytes(): number {
    return this.#sentBytes ?? this.#conn.bytesWritten;
  }

  /** Byte counts stop at the end of the exchange (the connection's counters go on with the next). */
  #freezeCounts(): void {
    this.#receivedBytes ??= this.#conn.bytesRead;
    this.#sentBytes ??= this.#conn.bytesWritten;
  }

  writeHead(status: number, reason: string, headers: readonly string[], options: ResponseHeadOptions): void {
    if (this.headersSent || this.finished) return;
    this.headersSent = true;
    const conn = this.#conn;
    const http11 = this.head.versionMajor === 1 && this.head.versionMinor >= 1;
    this.#noBody = options.noBody === true || this.#headRequest || status === 204 || status === 304 || (status >= 100 && status < 200);
    this.#chunked = !this.#noBody && options.contentLength === undefined && http11;
    const delimitedByClose = !this.#noBody && options.contentLength === undefined && !http11;
    // A client told to wait for 100 Continue that never came would never send the body.
    const unreadAfterExpect = this.#expectContinue && !this.#continued && !this.#complete;
    this.#keepAlive = !this.#closeAfter && this.head.keepAlive && options.close !== true && !delimitedByClose && !unreadAfterExpect && conn.keepAliveAllowed();
    let text = `HTTP/1.1 ${status} ${reason}\r\n${headerLines(headers)}`;
    if (options.hasDate !== true) text += `Date: ${httpDate(conn.now())}\r\n`;
    text += this.#keepAlive ? 'Connection: keep-alive\r\n' : 'Connection: close\r\n';
    if (this.#chunked) text += 'Transfer-Encoding: chunked\r\n';
    conn.write(`${text}\r\n`);
  }

  write(chunk: Buffer): boolean {
    if (this.finished) return false;
    if (this.#noBody || chunk.length === 0) return true;
    const conn = this.#conn;
    if (!this.#chunked) return conn.write(chunk);
    conn.write(chunkSizeLine(chunk.length));
    conn.write(chunk);
    return conn.write('\r\n');
  }

  onDrain(fn: () => void): void {
    this.#conn.socket.once('drain', fn);
  }

  closeAfter(): void {
    this.#closeAfter = true;
  }

  flush(): void {
    this.#conn.flush();
  }

  end(): void {
    if (this.finished) return;
    this.finished = true;
    this.responseEnded = true;
    if (this.#chunked) this.#conn.write(LAST_CHUNK);
    if (!this.#complete) this.discard();
    this.#freezeCounts();
    this.#conn.exchangeEnded(this, this.#keepAlive);
  }

  abort(): void {
    if (this.finished) return;
    this.finished = true;
    this.#freezeCounts();
    this.#conn.socket.destroy();
  }

  switchProtocols(headers: readonly string[]): TunnelEnd | undefined {
    if (!this.head.upgrade || this.headersSent || this.finished) return undefined;
    this.headersSent = true;
    this.finished = true;
    this.responseEnded = true;
    const conn = this.#conn;
    conn.write(`HTTP/1.1 101 Switching Protocols\r\n${headerLines(headers)}\r\n`);
    return conn.detachForTunnel();
  }

  onClientGone(fn: (why: GoneReason) => void): void {
    this.#goneHandlers.push(fn);
  }

  /** The client went away (or timed out) before the response ended. */
  gone(why: GoneReason): void {
    if (this.finished) return;
    this.finished = true;
    this.#freezeCounts();
    // The request ends as the client's doing first; its body then fails with nobody to tell.
    for (const fn of this.#goneHandlers.splice(0)) fn(why);
    this.bodyFailed();
  }

  sendContinue(): void {
    if (!this.#expectContinue || this.#continued || this.headersSent) return;
    this.#continued = true;
    this.#conn.write(CONTINUE);
    this.#conn.flush();
  }
}
