/**
 * One HTTP/1.1 connection from the ALB to a target (spec 7.1, 7.2): the request head is one
 * write, the body streams with back-pressure (chunked when the client's was), llhttp parses
 * the response, and the connection goes back to its pool when both messages ended cleanly
 * and the target keeps it alive. As on AWS, a keep-alive connection that the target closes
 * just as a request goes out gives that request a 502: there is no retry, and the target's
 * `Keep-Alive: timeout=` hint is not read.
 */
import net, { type Socket } from 'node:net';
import tls from 'node:tls';
import type { BackendTlsOptions } from '../../tls/provider.ts';
import { ElbError, ErrorCodes, type ErrorCode } from '../../core/errors.ts';
import { Http1Parser, type MessageHead, type ParseError } from '../http1/llhttp.ts';
import { chunkSizeLine, headerLines, LAST_CHUNK } from '../http1/wire.ts';

/** ALB's connect timeout to targets (spec 7.1: 504 after 10 s). */
export const CONNECT_TIMEOUT_MS = 10_000;
/** ALB's TLS handshake timeout to HTTPS targets, from the TCP connection (spec 12.1.11: 504 after 10 s). */
export const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

/**
 * TLS to an HTTPS target (spec 12.2): the back-end policy's versions and ciphers, no
 * certificate checks, no SNI. `key` names the policy, so pools never mix two.
 */
export type BackendTls = BackendTlsOptions;
/** Largest response header block a target may send (spec 6.4: 32K; larger is 502). */
export const MAX_RESPONSE_HEADER_BYTES = 32 * 1024;

export interface UpstreamRequest {
  readonly method: string;
  readonly path: string;
  /** `[name, value, …]` to send; hop-by-hop headers already removed, `Content-Length` kept. */
  readonly headers: readonly string[];
  /** The body's framing: none, the client's `Content-Length` (among `headers`), or chunked. */
  readonly body: 'none' | 'length' | 'chunked';
  /** A WebSocket upgrade: a 101 answer hands the connection over (`onUpgrade`). */
  readonly upgrade?: boolean;
  /** Sent with `Connection: close`, and the connection is closed after the response instead of pooled (desync mitigation, spec 13.1.1). */
  readonly close?: boolean;
}

/** What the holder of an upstream request hears, in order; after `onError` nothing more. */
export interface UpstreamHandler {
  /** The target's final response head (1xx interim responses are not passed on). */
  onHead(head: MessageHead): void;
  /** A body chunk; return false to stop reading from the target until `resume()`. */
  onData(chunk: Buffer): boolean;
  onEnd(): void;
  /** One read from the target has been handled: what it produced may go to the client now. */
  onFlush(): void;
  /** The exchange failed: no response, or the response was cut short (`afterHead`). */
  onError(error: ElbError, afterHead: boolean): void;
  /**
   * The target switched protocols (101) on an upgrade request: the socket is the holder's from
   * now on (the pool has forgotten it), with the bytes that followed the 101 head.
   */
  onUpgrade?(head: MessageHead, socket: Socket, buffered: Buffer): void;
  /** HTTP/2 targets: the response's trailers (`[name, value, …]`), before `onEnd`. */
  onTrailers?(trailers: string[]): void;
}

/** The holder's handle on its request in flight. */
export interface UpstreamExchange {
  /** Writes request body bytes; false when the target is slow: wait for `onBodyDrain`. */
  writeBody(chunk: Buffer): boolean;
  onBodyDrain(fn: () => void): void;
  endBody(): void;
  /** Response back-pressure: stop and restart reading from the target. */
  pause(): void;
  resume(): void;
  /** Ends the exchange at once (client gone, lease cut); the connection is closed, no callback follows. */
  abort(): void;
}

/** The socket error code behind an upstream failure (`ECONNREFUSED`, `HPE_INVALID_CONSTANT`, …), for logs. */
export function upstreamCause(error: ElbError): string | undefined {
  const cause = error.cause as { code?: unknown } | undefined;
  return typeof cause?.code === 'string' ? cause.code : undefined;
}

const BREAKS_REQUEST_LINE = /[\x00-\x20\x7f]/;

/**
 * The request-target as written to a target: a space or control byte that desync mitigation
 * let through (SpaceInUri, AmbiguousUri, spec 13.1.4) is percent-encoded, so the request line
 * the target reads has the same three parts (how AWS writes them is UNCONFIRMED).
 */
function requestTarget(path: string): string {
  if (!BREAKS_REQUEST_LINE.test(path)) return path;
  return path.replace(/[\x00-\x20\x7f]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

function failure(code: ErrorCode, message: string, cause?: unknown): ElbError {
  return new ElbError(code, message, cause === undefined ? undefined : { cause });
}

export interface UpstreamConnectionOwner {
  readonly host: string;
  readonly port: number;
  /** Set for an HTTPS target group. */
  readonly tls: BackendTls | undefined;
  now(): number;
  /** The connection may serve another request. */
  released(connection: UpstreamConnection): void;
  closed(connection: UpstreamConnection): void;
}

type State = 'connecting' | 'busy' | 'idle' | 'closed';

export class UpstreamConnection implements UpstreamExchange {
  readonly socket: Socket;
  readonly #owner: UpstreamConnectionOwner;
  readonly #parser: Http1Parser;
  #state: State = 'connecting';
  readonly #connectStartedMs: number;
  /** TLS only: when the TCP connection was up (the handshake timeout counts from here); -1 before. */
  #tcpConnectedMs = -1;
  /** Last byte either way (the idle timeout), and when the connection last went idle. */
  lastActivityMs: number;
  idleSinceMs = 0;
  #handler: UpstreamHandler | undefined;
  #chunked = false;
  #headRequest = false;
  #gotHead = false;
  #responseDone = false;
  #requestDone = false;
  #keepAlive = false;
  #paused = false;
  #upgradeAsked = false;
  #closeAfter = false;
  /** The 101 head of an upgrade, waiting for the rest of its chunk. */
  #switched: MessageHead | undefined;
  readonly #listeners: Array<[string, (...args: any[]) => void]> = [];

  constructor(owner: UpstreamConnectionOwner) {
    this.#owner = owner;
    const now = owner.now();
    this.#connectStartedMs = now;
    this.lastActivityMs = now;
    const backend = owner.tls;
    this.socket =
      backend === undefined
        ? net.connect({ host: owner.host, port: owner.port, noDelay: true })
        : tls.connect({ ...backend.options, host: owner.host, port: owner.port, rejectUnauthorized: false, servername: '' });
    if (backend !== undefined) this.socket.setNoDelay(true);
    this.#parser = new Http1Parser(
      'response',
      { onHead: (head) => this.#onHead(head), onBody: (chunk) => this.#onBody(chunk), onComplete: () => this.#onComplete() },
      { maxHeaderBytes: MAX_RESPONSE_HEADER_BYTES },
    );
    const socket = this.socket;
    const ready = () => {
      if (this.#state === 'connecting') this.#state = this.#handler === undefined ? 'idle' : 'busy';
    };
    if (backend === undefined) socket.once('connect', ready);
    else {
      socket.once('connect', () => (this.#tcpConnectedMs = this.#owner.now()));
      socket.once('secureConnect', ready);
    }
    const on = (event: string, fn: (...args: any[]) => void) => {
      socket.on(event, fn);
      this.#listeners.push([event, fn]);
    };
    on('data', (data: Buffer) => this.#onData(data));
    on('end', () => this.#onEnd());
    on('error', (err: NodeJS.ErrnoException) => this.#fail(this.#socketError(err)));
    on('close', () => this.#onClose());
  }

  get state(): State {
    return this.#state;
  }

  /** Sends one request; `handler` hears how it went. The connection must be idle or connecting. */
  send(request: UpstreamRequest, handler: UpstreamHandler): UpstreamExchange {
    this.#handler = handler;
    this.#chunked = request.body === 'chunked';
    this.#headRequest = request.method === 'HEAD';
    this.#gotHead = false;
    this.#responseDone = false;
    this.#requestDone = request.body === 'none';
    this.#keepAlive = false;
    this.#paused = false;
    this.#upgradeAsked = request.upgrade === true && handler.onUpgrade !== undefined;
    this.#closeAfter = request.close === true;
    if (this.#state === 'idle') this.#state = 'busy';
    this.lastActivityMs = this.#owner.now();
    let head = `${request.method} ${requestTarget(request.path)} HTTP/1.1\r\n${headerLines(request.headers)}`;
    if (this.#chunked) head += 'Transfer-Encoding: chunked\r\n';
    if (this.#closeAfter) head += 'Connection: close\r\n';
    this.socket.write(`${head}\r\n`, 'latin1');
    return this;
  }

  // UpstreamExchange (one at a time on this connection)

  writeBody(chunk: Buffer): boolean {
    if (this.#handler === undefined || chunk.length === 0) return true;
    this.lastActivityMs = this.#owner.now();
    if (!this.#chunked) return this.socket.write(chunk);
    this.socket.write(chunkSizeLine(chunk.length), 'latin1');
    this.socket.write(chunk);
    return this.socket.write('\r\n', 'latin1');
  }

  onBodyDrain(fn: () => void): void {
    this.socket.once('drain', fn);
  }

  endBody(): void {
    if (this.#handler === undefined || this.#requestDone) return;
    this.#requestDone = true;
    if (this.#chunked) this.socket.write(LAST_CHUNK, 'latin1');
    if (this.#responseDone) this.#finish();
  }

  pause(): void {
    this.#paused = true;
    this.socket.pause();
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.lastActivityMs = this.#owner.now();
    this.socket.resume();
  }

  abort(): void {
    this.#handler = undefined;
    this.socket.destroy();
  }

  /** The idle and connect timeouts (spec 7.1, 7.2), checked by the pools' sweep. */
  checkTimeouts(now: number, idleTimeoutMs: number): void {
    switch (this.#state) {
      case 'connecting':
        if (this.#tcpConnectedMs >= 0) {
          if (now - this.#tcpConnectedMs >= TLS_HANDSHAKE_TIMEOUT_MS) {
            this.#fail(failure(ErrorCodes.TARGET_TLS_TIMEOUT, `no TLS handshake with target ${this.#owner.host}:${this.#owner.port} within ${TLS_HANDSHAKE_TIMEOUT_MS / 1000} s`));
          }
        } else if (now - this.#connectStartedMs >= CONNECT_TIMEOUT_MS) {
          this.#fail(failure(ErrorCodes.TARGET_CONNECT_TIMEOUT, `no connection to target ${this.#owner.host}:${this.#owner.port} within ${CONNECT_TIMEOUT_MS / 1000} s`));
        }
        return;
      case 'busy':
        if (!this.#paused && this.#handler !== undefined && now - this.lastActivityMs >= idleTimeoutMs) {
          this.#fail(failure(ErrorCodes.TARGET_TIMEOUT, `target ${this.#owner.host}:${this.#owner.port} sent nothing for the idle timeout (${idleTimeoutMs / 1000} s)`));
        }
        return;
      case 'idle':
        if (now - this.idleSinceMs >= idleTimeoutMs) this.socket.destroy();
        return;
      case 'closed':
        return;
    }
  }

  #onData(data: Buffer): void {
    this.lastActivityMs = this.#owner.now();
    if (this.#handler === undefined) {
      // Bytes from a target with no request outstanding: it is not speaking HTTP to us.
      this.socket.destroy();
      return;
    }
    const handler = this.#handler;
    const result = this.#parser.execute(data);
    if (typeof result !== 'number') this.#fail(this.#parseError(result));
    else if (this.#switched !== undefined) return this.#handOver(this.#switched, data.subarray(result));
    else if (result < data.length) this.#fail(failure(ErrorCodes.TARGET_INVALID_RESPONSE, `target ${this.#owner.host}:${this.#owner.port} switched protocols without being asked`));
    handler.onFlush();
  }

  #onHead(head: MessageHead): boolean {
    if (this.#handler === undefined) {
      // A second response to one request: the target is not speaking HTTP/1.1 properly.
      this.socket.destroy();
      return true;
    }
    // Interim responses (100 Continue, 103 Early Hints) are not passed on.
    if (head.statusCode >= 100 && head.statusCode < 200 && head.statusCode !== 101) return false;
    if (head.statusCode === 101) {
      if (this.#upgradeAsked) {
        this.#switched = head;
        return true;
      }
      // llhttp stops after the head; the caller sees the unparsed rest and fails the exchange.
      return true;
    }
    this.#gotHead = true;
    this.#keepAlive = head.keepAlive;
    this.#handler?.onHead(head);
    // A HEAD response announces a body that never comes.
    return this.#headRequest;
  }

  #onBody(chunk: Buffer): void {
    const handler = this.#handler;
    if (handler !== undefined && !handler.onData(chunk)) this.pause();
  }

  #onComplete(): void {
    if (!this.#gotHead) return;
    const handler = this.#handler;
    this.#responseDone = true;
    if (this.#requestDone) {
      this.#finish();
      handler?.onEnd();
      return;
    }
    // The target answered before the whole request body was sent: this connection cannot carry
    // another request, and the rest of the body is not sent.
    this.#handler = undefined;
    this.socket.destroy();
    handler?.onEnd();
  }

  /** The socket leaves this connection (and its pool) for the tunnel the handler makes. */
  #handOver(head: MessageHead, buffered: Buffer): void {
    const handler = this.#handler!;
    this.#handler = undefined;
    for (const [event, fn] of this.#listeners.splice(0)) this.socket.off(event, fn);
    this.socket.pause();
    this.#state = 'closed';
    this.#parser.close();
    this.#owner.closed(this);
    handler.onUpgrade!(head, this.socket, Buffer.from(buffered));
  }

  /** Both messages are over: back to the pool, or closed. */
  #finish(): void {
    this.#handler = undefined;
    if (this.#keepAlive && !this.#closeAfter && this.#state === 'busy') {
      this.#state = 'idle';
      this.idleSinceMs = this.#owner.now();
      this.#owner.released(this);
    } else this.socket.destroy();
  }

  #onEnd(): void {
    if (this.#handler !== undefined) {
      // A close-delimited body ends here; anything else was cut short.
      const error = this.#parser.finish();
      if (this.#handler !== undefined && !this.#responseDone) {
        this.#fail(
          failure(
            ErrorCodes.TARGET_CONNECTION_FAILED,
            this.#gotHead
              ? `target ${this.#owner.host}:${this.#owner.port} closed the connection before the response was complete`
              : `target ${this.#owner.host}:${this.#owner.port} closed the connection with the request outstanding`,
            error === undefined ? undefined : { code: error.code },
          ),
        );
      }
    }
    this.socket.destroy();
  }

  #onClose(): void {
    if (this.#handler !== undefined && !this.#responseDone) {
      this.#fail(failure(ErrorCodes.TARGET_CONNECTION_FAILED, `the connection to target ${this.#owner.host}:${this.#owner.port} closed with the request outstanding`));
    }
    this.#state = 'closed';
    this.#parser.close();
    this.#owner.closed(this);
  }

  #fail(error: ElbError): void {
    const handler = this.#handler;
    this.#handler = undefined;
    this.socket.destroy();
    if (handler !== undefined && !this.#responseDone) handler.onError(error, this.#gotHead);
  }

  #socketError(err: NodeJS.ErrnoException): ElbError {
    const where = `target ${this.#owner.host}:${this.#owner.port}`;
    if (this.#state === 'connecting' && this.#tcpConnectedMs >= 0) {
      return failure(ErrorCodes.TARGET_TLS_FAILED, `the TLS handshake with ${where} failed: ${err.code ?? err.message}`, err);
    }
    if (this.#state === 'connecting') return failure(ErrorCodes.TARGET_CONNECTION_FAILED, `cannot connect to ${where}: ${err.code ?? err.message}`, err);
    return failure(ErrorCodes.TARGET_CONNECTION_FAILED, `the connection to ${where} failed: ${err.code ?? err.message}`, err);
  }

  #parseError(error: ParseError): ElbError {
    const where = `target ${this.#owner.host}:${this.#owner.port}`;
    const what = error.code === 'HPE_HEADER_OVERFLOW' ? `response headers over ${MAX_RESPONSE_HEADER_BYTES / 1024} KiB` : `an invalid response (${error.reason})`;
    return failure(ErrorCodes.TARGET_INVALID_RESPONSE, `${where} sent ${what}`, { code: error.code });
  }
}
