/**
 * HTTP/2 from clients (spec 7.3, 12.3): an HTTPS listener's connections that chose `h2` by ALPN
 * are HTTP/2 sessions; each stream is an independent request through the same pipeline as an
 * HTTP/1.1 request (its own rules, target, lease), answered on its stream. Up to 128 streams at
 * once per connection; after `requestsPerConnection` requests (AWS: 10,000) or once
 * `client_keep_alive.seconds` has passed, the session answers its last request and sends
 * GOAWAY. The idle timeout closes a session with no stream bytes either way (PING does not count).
 */
import http2 from 'node:http2';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { plainIp } from '../../core/addresses.ts';
import type { TlsSession } from '../../tls/front-end.ts';
import type { ClientAddress } from '../exchange.ts';
import type { MessageHead } from '../http1/llhttp.ts';
import type { ListenerRuntime } from '../pipeline/context.ts';
import { handleRequest } from '../pipeline/pipeline.ts';
import { estimateHeaderBytes, StreamExchange } from './stream-exchange.ts';

/** Streams a client may have open at once on one connection (spec 12.3). */
export const MAX_CONCURRENT_STREAMS = 128;

/** One client HTTP/2 connection. */
class ClientSession {
  readonly session: http2.ServerHttp2Session;
  readonly #runtime: ListenerRuntime;
  readonly #client: ClientAddress;
  readonly #connectedMs: number;
  /** The keep-alive duration in force when the connection was opened (spec 12.3: frozen then). */
  readonly #keepAliveMs: number;
  readonly #open = new Set<StreamExchange>();
  #requests = 0;
  #lastActivityMs: number;
  #goingAway = false;

  constructor(session: http2.ServerHttp2Session, socket: Socket, runtime: ListenerRuntime, tls: TlsSession | undefined, connTraceId?: string) {
    this.session = session;
    this.#runtime = runtime;
    this.#client = { ip: plainIp(socket.remoteAddress), port: socket.remotePort ?? 0, ...(tls !== undefined ? { tls } : {}), ...(connTraceId !== undefined ? { connTraceId } : {}) };
    const now = runtime.clock.now();
    this.#connectedMs = now;
    this.#lastActivityMs = now;
    this.#keepAliveMs = runtime.settings.clientKeepAliveMs;
    session.on('stream', (stream, headers, flags, rawHeaders) => this.#stream(stream, headers, flags, rawHeaders));
    session.on('error', () => {});
  }

  get idle(): boolean {
    return this.#open.size === 0;
  }

  checkIdle(now: number): void {
    if (now - this.#lastActivityMs < this.#runtime.settings.idleTimeoutMs || this.session.destroyed) return;
    for (const exchange of [...this.#open]) exchange.timedOut();
    this.session.close();
    this.session.destroy();
  }

  /** Listener shutdown: no new streams; the open ones may finish. */
  close(now: boolean): void {
    if (now) return this.session.destroy();
    this.#goAway();
  }

  #stream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, flags: number, rawHeaders: string[]): void {
    const runtime = this.#runtime;
    const now = runtime.clock.now();
    this.#lastActivityMs = now;
    this.#requests++;
    const last = this.#requests >= runtime.http2.requestsPerConnection || now - this.#connectedMs >= this.#keepAliveMs;
    const head = requestHead(headers, rawHeaders);
    const endStream = (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0;
    const length = headers['content-length'] !== undefined ? Number(headers['content-length']) : undefined;
    const exchange = new StreamExchange(stream, estimateHeaderBytes(headers), endStream, length, {
      activity: () => (this.#lastActivityMs = runtime.clock.now()),
      finished: (x) => {
        this.#open.delete(x);
        this.#lastActivityMs = runtime.clock.now();
        if (this.#goingAway && this.#open.size === 0) this.session.close();
      },
    });
    this.#open.add(exchange);
    // The last request of a connection is answered, then the connection goes away (GOAWAY, FIN).
    if (last) this.#goAway();
    handleRequest(runtime, head, exchange, endStream ? undefined : exchange, this.#client);
  }

  #goAway(): void {
    if (this.#goingAway) return;
    this.#goingAway = true;
    // A session the client just ended may still be in the set until its 'close' event.
    if (this.session.destroyed || this.session.closed) return;
    this.session.goaway(http2.constants.NGHTTP2_NO_ERROR);
    if (this.#open.size === 0) this.session.close();
  }
}

/**
 * A request head from an HTTP/2 stream, in the HTTP/1.1 shape the pipeline reads: pseudo-headers
 * out, `:authority` as `Host` (when the client sent no `host`), cookie crumbs joined (RFC 9113
 * 8.2.3), version 2.0.
 */
export function requestHead(headers: http2.IncomingHttpHeaders, rawHeaders: readonly string[]): MessageHead {
  const flat: string[] = [];
  let host = false;
  const cookies: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name.startsWith(':')) continue;
    if (name === 'cookie') {
      cookies.push(rawHeaders[i + 1]!);
      continue;
    }
    if (name === 'host') host = true;
    flat.push(name, rawHeaders[i + 1]!);
  }
  if (cookies.length > 0) flat.push('cookie', cookies.join('; '));
  const authority = headers[':authority'];
  if (!host && typeof authority === 'string') flat.unshift('host', authority);
  return {
    versionMajor: 2,
    versionMinor: 0,
    headers: flat,
    method: String(headers[':method'] ?? ''),
    url: String(headers[':path'] ?? ''),
    statusCode: 0,
    statusMessage: '',
    upgrade: false,
    keepAlive: true,
  };
}

/** The HTTP/2 side of one HTTPS listener: adopts TLS connections that chose `h2`. */
export class Http2FrontEnd {
  readonly #runtime: ListenerRuntime;
  readonly #server: http2.Http2Server;
  readonly #sessions = new Set<ClientSession>();

  constructor(runtime: ListenerRuntime) {
    this.#runtime = runtime;
    this.#server = http2.createServer({
      settings: { maxConcurrentStreams: MAX_CONCURRENT_STREAMS },
      // The request head limit of spec 6.4 (64 KiB) as HPACK's decoded list size.
      maxHeaderListPairs: 1000,
      maxSessionMemory: 64,
    });
    this.#server.on('session', () => {});
  }

  get sessions(): number {
    return this.#sessions.size;
  }

  /** Takes over a TLS connection whose ALPN chose `h2`. */
  adopt(socket: TLSSocket, tls: TlsSession, connTraceId?: string): void {
    const server = this.#server;
    // The server makes the session and tells of it inside `emit('connection')`.
    const onSession = (session: http2.ServerHttp2Session) => {
      server.off('session', onSession);
      const client = new ClientSession(session, socket, this.#runtime, tls, connTraceId);
      this.#sessions.add(client);
      session.once('close', () => this.#sessions.delete(client));
    };
    server.on('session', onSession);
    server.emit('connection', socket);
    server.off('session', onSession);
  }

  checkIdle(now: number): void {
    for (const s of [...this.#sessions]) s.checkIdle(now);
  }

  /** Sends GOAWAY to every session (`now`: closes them at once). */
  close(now: boolean): void {
    for (const s of [...this.#sessions]) s.close(now);
  }

  get openStreams(): boolean {
    for (const s of this.#sessions) if (!s.idle) return true;
    return false;
  }
}
