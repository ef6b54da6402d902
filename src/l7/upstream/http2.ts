/**
 * HTTP/2 to targets of `HTTP2` and `GRPC` target groups (spec 12.4.1): one multiplexed session
 * per target, cleartext with prior knowledge for an HTTP target group, TLS with ALPN `h2` for an
 * HTTPS one (the back-end policy, no certificate checks, no SNI). Each request is a stream;
 * trailers pass through. The timeouts of HTTP/1.1 targets apply: 10 s to connect (and 10 s for
 * the TLS handshake), the idle timeout on a stream with no byte either way, idle sessions
 * closed after it. One sweep on the injected clock checks them all.
 *
 * `node:http2` and not undici: undici speaks HTTP/2 only when TLS ALPN offers it, and HTTP
 * target groups need cleartext HTTP/2 with prior knowledge.
 */
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import type { Clock } from '../../core/clock.ts';
import { ElbError, ErrorCodes, type ErrorCode } from '../../core/errors.ts';
import type { MessageHead } from '../http1/llhttp.ts';
import { CONNECT_TIMEOUT_MS, TLS_HANDSHAKE_TIMEOUT_MS, type BackendTls, type UpstreamExchange, type UpstreamHandler, type UpstreamRequest } from './connection.ts';
import type { UpstreamTarget } from './pools.ts';

/** Headers HTTP/2 forbids (RFC 9113 8.2.2); `te` is allowed only as `trailers`. */
const CONNECTION_SPECIFIC = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'host', 'http2-settings']);

function failure(code: ErrorCode, message: string, cause?: unknown): ElbError {
  return new ElbError(code, message, cause === undefined ? undefined : { cause });
}

/** Incoming HTTP/2 headers → `[name, value, …]` without pseudo-headers. */
function flatHeaders(headers: http2.IncomingHttpHeaders): string[] {
  const flat: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith(':') || value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) flat.push(name, v);
    else flat.push(name, String(value));
  }
  return flat;
}

/** One request on a session: the holder's UpstreamExchange. */
class StreamRequest implements UpstreamExchange {
  readonly stream: http2.ClientHttp2Stream;
  readonly #session: TargetSession;
  #handler: UpstreamHandler | undefined;
  lastActivityMs: number;
  #paused = false;
  #gotHead = false;

  constructor(session: TargetSession, stream: http2.ClientHttp2Stream, handler: UpstreamHandler, now: number) {
    this.#session = session;
    this.stream = stream;
    this.#handler = handler;
    this.lastActivityMs = now;
    const where = session.where;
    stream.on('response', (headers, flags) => {
      this.lastActivityMs = session.now();
      const statusCode = Number(headers[':status'] ?? 0);
      // 1xx responses are interim; nghttp2 delivers them as 'headers' events, not here.
      this.#gotHead = true;
      const endStream = (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0;
      const head: MessageHead = { versionMajor: 2, versionMinor: 0, headers: flatHeaders(headers), method: '', url: '', statusCode, statusMessage: '', upgrade: false, keepAlive: true, endStream };
      try {
        this.#handler?.onHead(head);
        this.#handler?.onFlush();
      } catch (err) {
        // A handler that throws must not take the process down from an event listener.
        const h = this.#handler;
        this.#handler = undefined;
        this.stream.close(http2.constants.NGHTTP2_CANCEL);
        h?.onError(failure(ErrorCodes.TARGET_INVALID_RESPONSE, `answering the response of ${where} failed: ${(err as Error).message}`), true);
      }
    });
    stream.on('data', (chunk: Buffer) => {
      this.lastActivityMs = session.now();
      const h = this.#handler;
      if (h === undefined) return;
      if (!h.onData(chunk)) this.pause();
      h.onFlush();
    });
    stream.on('trailers', (headers) => {
      this.#handler?.onTrailers?.(flatHeaders(headers));
    });
    stream.on('end', () => {
      const h = this.#handler;
      this.#handler = undefined;
      session.done(this);
      if (h === undefined) return;
      if (!this.#gotHead) return h.onError(failure(ErrorCodes.TARGET_INVALID_RESPONSE, `target ${where} ended the stream without a response`), false);
      h.onEnd();
    });
    stream.on('error', (err: NodeJS.ErrnoException) => this.fail(failure(ErrorCodes.TARGET_CONNECTION_FAILED, `the HTTP/2 stream to target ${where} failed: ${err.code ?? err.message}`, err)));
    stream.on('close', () => {
      if (this.#handler === undefined) return;
      this.fail(failure(ErrorCodes.TARGET_CONNECTION_FAILED, `target ${where} reset the stream (${http2RstName(stream.rstCode)}) with the request outstanding`, { code: `RST_${http2RstName(stream.rstCode)}` }));
    });
  }

  get outstanding(): boolean {
    return this.#handler !== undefined;
  }

  get waitingOnTarget(): boolean {
    return this.#handler !== undefined && !this.#paused;
  }

  fail(error: ElbError): void {
    const h = this.#handler;
    this.#handler = undefined;
    this.#session.done(this);
    if (!this.stream.destroyed) this.stream.close(http2.constants.NGHTTP2_CANCEL);
    h?.onError(error, this.#gotHead);
  }

  writeBody(chunk: Buffer): boolean {
    if (this.#handler === undefined || chunk.length === 0) return true;
    this.lastActivityMs = this.#session.now();
    return this.stream.write(chunk);
  }

  onBodyDrain(fn: () => void): void {
    this.stream.once('drain', fn);
  }

  endBody(): void {
    if (!this.stream.writableEnded) this.stream.end();
  }

  pause(): void {
    this.#paused = true;
    this.stream.pause();
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.lastActivityMs = this.#session.now();
    this.stream.resume();
  }

  abort(): void {
    this.#handler = undefined;
    this.#session.done(this);
    if (!this.stream.destroyed) this.stream.close(http2.constants.NGHTTP2_CANCEL);
  }
}

function http2RstName(code: number | undefined): string {
  for (const [name, value] of Object.entries(http2.constants)) if (name.startsWith('NGHTTP2_') && value === code && !name.startsWith('NGHTTP2_FLAG')) return name.slice(8);
  return String(code);
}

/** One HTTP/2 session to one target. */
class TargetSession {
  readonly where: string;
  readonly session: http2.ClientHttp2Session;
  readonly #owner: Http2Upstream;
  readonly #key: string;
  readonly #scheme: 'http' | 'https';
  readonly streams = new Set<StreamRequest>();
  readonly #startedMs: number;
  #tcpConnectedMs = -1;
  connected = false;
  idleSinceMs: number;
  closed = false;

  constructor(owner: Http2Upstream, key: string, target: UpstreamTarget, backend: BackendTls | undefined) {
    this.#owner = owner;
    this.#key = key;
    this.where = `${target.id}:${target.port}`;
    this.#scheme = backend === undefined ? 'http' : 'https';
    const now = owner.now();
    this.#startedMs = now;
    this.idleSinceMs = now;
    const host = target.id;
    const port = target.port;
    this.session = http2.connect(`${this.#scheme}://${net.isIPv6(host) ? `[${host}]` : host}:${port}`, {
      settings: { enablePush: false },
      createConnection: () => {
        const socket =
          backend === undefined
            ? net.connect({ host, port, noDelay: true })
            : tls.connect({ ...backend.options, host, port, ALPNProtocols: ['h2'], rejectUnauthorized: false, servername: '' });
        socket.once('connect', () => (this.#tcpConnectedMs = owner.now()));
        return socket;
      },
    });
    this.session.once('connect', () => (this.connected = true));
    this.session.on('error', (err: NodeJS.ErrnoException) => this.#failAll(err));
    this.session.once('goaway', () => this.#forget());
    this.session.once('close', () => {
      this.#forget();
      this.#failAll(undefined);
    });
  }

  now(): number {
    return this.#owner.now();
  }

  request(request: UpstreamRequest, handler: UpstreamHandler): UpstreamExchange {
    const headers: http2.OutgoingHttpHeaders = { ':method': request.method, ':path': request.path, ':scheme': this.#scheme };
    let grpc = false;
    const h = request.headers;
    for (let i = 0; i < h.length; i += 2) {
      const name = h[i]!.toLowerCase();
      const value = h[i + 1]!;
      if (name === 'host') headers[':authority'] = value;
      if (CONNECTION_SPECIFIC.has(name)) continue;
      if (name === 'content-type' && value.startsWith('application/grpc')) grpc = true;
      const existing = headers[name];
      headers[name] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [String(existing), value];
    }
    // gRPC needs `te: trailers` end to end (it is hop-by-hop, so it was taken off the request).
    if (grpc) headers.te = 'trailers';
    const stream = this.session.request(headers, { endStream: request.body === 'none' });
    const exchange = new StreamRequest(this, stream, handler, this.now());
    this.streams.add(exchange);
    return exchange;
  }

  done(exchange: StreamRequest): void {
    this.streams.delete(exchange);
    if (this.streams.size === 0) this.idleSinceMs = this.now();
  }

  checkTimeouts(now: number, idleTimeoutMs: number): void {
    if (this.closed) return;
    if (!this.connected) {
      if (this.#tcpConnectedMs >= 0 && this.#scheme === 'https') {
        if (now - this.#tcpConnectedMs >= TLS_HANDSHAKE_TIMEOUT_MS) this.#failAll(failure(ErrorCodes.TARGET_TLS_TIMEOUT, `no TLS handshake with target ${this.where} within ${TLS_HANDSHAKE_TIMEOUT_MS / 1000} s`));
      } else if (now - this.#startedMs >= CONNECT_TIMEOUT_MS) {
        this.#failAll(failure(ErrorCodes.TARGET_CONNECT_TIMEOUT, `no connection to target ${this.where} within ${CONNECT_TIMEOUT_MS / 1000} s`));
      }
      return;
    }
    for (const s of [...this.streams]) {
      if (s.waitingOnTarget && now - s.lastActivityMs >= idleTimeoutMs) {
        s.fail(failure(ErrorCodes.TARGET_TIMEOUT, `target ${this.where} sent nothing for the idle timeout (${idleTimeoutMs / 1000} s)`));
      }
    }
    if (this.streams.size === 0 && now - this.idleSinceMs >= idleTimeoutMs) this.destroy();
  }

  destroy(): void {
    this.#forget();
    this.session.destroy();
  }

  #forget(): void {
    if (this.closed) return;
    this.closed = true;
    this.#owner.forget(this.#key, this);
  }

  /** The session failed: every stream on it fails (a connection error while connecting, else the connection's). */
  #failAll(err: NodeJS.ErrnoException | ElbError | undefined): void {
    const error =
      err instanceof ElbError
        ? err
        : !this.connected && this.#tcpConnectedMs >= 0 && this.#scheme === 'https'
          ? failure(ErrorCodes.TARGET_TLS_FAILED, `the TLS handshake with target ${this.where} failed: ${err?.code ?? err?.message ?? 'closed'}`, err)
          : !this.connected
            ? failure(ErrorCodes.TARGET_CONNECTION_FAILED, `cannot connect to target ${this.where}: ${err?.code ?? err?.message ?? 'closed'}`, err)
            : failure(ErrorCodes.TARGET_CONNECTION_FAILED, `the HTTP/2 connection to target ${this.where} failed: ${err?.code ?? err?.message ?? 'closed'}`, err);
    if (err instanceof ElbError) this.destroy();
    for (const s of [...this.streams]) s.fail(error);
  }
}

export interface Http2UpstreamOptions {
  readonly clock: Clock;
  readonly idleTimeoutMs: () => number;
}

/** The HTTP/2 sessions of every target a load balancer forwards to over HTTP/2. */
export class Http2Upstream {
  readonly #o: Http2UpstreamOptions;
  readonly #sessions = new Map<string, TargetSession>();
  #cancelSweep: (() => void) | undefined;
  #closed = false;

  constructor(options: Http2UpstreamOptions) {
    this.#o = options;
  }

  now(): number {
    return this.#o.clock.now();
  }

  request(target: UpstreamTarget, request: UpstreamRequest, handler: UpstreamHandler, backend?: BackendTls): UpstreamExchange {
    const key = backend === undefined ? target.key : `${target.key} ${backend.key}`;
    let session = this.#sessions.get(key);
    if (session === undefined || session.closed) {
      session = new TargetSession(this, key, target, backend);
      this.#sessions.set(key, session);
      this.#scheduleSweep();
    }
    return session.request(request, handler);
  }

  forget(key: string, session: TargetSession): void {
    if (this.#sessions.get(key) === session) this.#sessions.delete(key);
  }

  /** Open sessions to target `key` (tests and tools). */
  openSessions(key: string): number {
    let n = 0;
    for (const [k, s] of this.#sessions) if ((k === key || k.startsWith(`${key} `)) && !s.closed) n++;
    return n;
  }

  /** Closes the target's sessions at once (deregistered and drained). */
  drop(key: string): void {
    for (const [k, s] of [...this.#sessions]) if (k === key || k.startsWith(`${key} `)) s.destroy();
  }

  close(): void {
    this.#closed = true;
    this.#cancelSweep?.();
    this.#cancelSweep = undefined;
    for (const s of [...this.#sessions.values()]) s.destroy();
    this.#sessions.clear();
  }

  #scheduleSweep(): void {
    if (this.#cancelSweep !== undefined || this.#closed) return;
    const idle = this.#o.idleTimeoutMs();
    const periodMs = Math.min(1000, Math.max(10, Math.floor(idle / 10)));
    this.#cancelSweep = this.#o.clock.setTimer(periodMs, () => {
      this.#cancelSweep = undefined;
      const now = this.now();
      for (const s of [...this.#sessions.values()]) s.checkTimeouts(now, this.#o.idleTimeoutMs());
      if (this.#sessions.size > 0) this.#scheduleSweep();
    });
  }
}
