/**
 * An ALB listener's sockets (spec 7.2): the TCP (or, for HTTPS, TLS) server, its client
 * connections, the idle sweep, and shutdown with a grace period. It owns sockets and nothing
 * else: each connection hands its requests to the pipeline with the listener's runtime.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { TlsFrontEnd, TlsSession } from '../tls/front-end.ts';
import { hostForUrl } from '../core/addresses.ts';
import { bindListener } from '../core/listen.ts';
import { ClientConnection, type ConnectionEvents } from './http1/client-connection.ts';
import { rawErrorResponse, statusForRejection } from './pipeline/answer.ts';
import type { ListenerRuntime } from './pipeline/context.ts';
import { handleRequest } from './pipeline/pipeline.ts';
import { finishRejected } from './pipeline/record.ts';
import { Http2FrontEnd } from './http2/front-end.ts';
import { newConnTraceId, type ConnectionRecord } from './connection-log.ts';
import { plainIp } from '../core/addresses.ts';
import type { ClientCertificateInfo } from '../tls/client-certificate.ts';

/** Request line plus headers (spec 6.4). */
export const MAX_REQUEST_HEAD_BYTES = 64 * 1024;

export class Listener {
  readonly runtime: ListenerRuntime;
  readonly #configuredPort: number;
  #server: net.Server | undefined;
  #tls: TlsFrontEnd | undefined;
  /** HTTPS: the connections that chose HTTP/2. */
  #h2: Http2FrontEnd | undefined;
  readonly #connections = new Set<ClientConnection>();
  /** Every TCP connection, from accept to close (TLS ones before their handshake too). */
  readonly #sockets = new Set<net.Socket>();
  /** HTTPS: TCP connections whose TLS handshake is not done, by `address:port`, with when they came. */
  readonly #handshaking = new Map<string, { readonly socket: net.Socket; readonly sinceMs: number }>();
  readonly #events: ConnectionEvents;
  #cancelSweep: (() => void) | undefined;
  #closing = false;

  constructor(runtime: ListenerRuntime, configuredPort: number) {
    this.runtime = runtime;
    this.#configuredPort = configuredPort;
    this.#events = {
      request: (head, response, body, client) => handleRequest(runtime, head, response, body, client),
      reject: (rejection, request) => {
        const status = statusForRejection(rejection);
        runtime.counters.elbStatus[status]!++;
        const response = rawErrorResponse(status);
        if (request !== undefined) finishRejected(runtime, status, request, Buffer.byteLength(response, 'latin1'));
        return response;
      },
    };
  }

  /** Makes this an HTTPS listener (before `listen`). */
  useTls(frontEnd: TlsFrontEnd): void {
    this.#tls = frontEnd;
  }

  get port(): number {
    return this.runtime.port;
  }

  get url(): string {
    return `${this.runtime.protocol}://${hostForUrl(this.runtime.address)}:${this.runtime.port}`;
  }

  /**
   * Binds the listener (on `port`, by default the configured one); rejects with
   * `ELB_ERR_LISTEN_FAILED` naming the address, and may then be asked again on another port.
   */
  async listen(port = this.#configuredPort): Promise<void> {
    const { address, loadBalancer, log } = this.runtime;
    const server = this.#createServer();
    this.#server = server;
    const where = `load balancer ${loadBalancer} on ${address}:${port}`;
    await bindListener(server, (done) => server.listen(port, address, done), where, log);
    this.runtime.port = (server.address() as net.AddressInfo).port;
    this.runtime.headerOptions = { ...this.runtime.headerOptions, listenerPort: this.runtime.port };
    this.#scheduleSweep();
    log.info({ event: 'listener.started', port: this.runtime.port, address }, `listener on ${this.url}`);
  }

  /**
   * Stops accepting connections and closes idle ones; requests in flight get up to `graceMs`
   * to finish (their connections close after their response), then every connection is cut.
   */
  async close(graceMs: number): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    const { clock } = this.runtime;
    const server = this.#server;
    const closed = new Promise<void>((resolve) => (server?.listening ? server.close(() => resolve()) : resolve()));
    for (const c of this.#connections) c.close();
    this.#h2?.close(false);
    // Connections still in their TLS handshake have no requests to finish.
    for (const { socket } of this.#handshaking.values()) socket.destroy();
    const deadline = clock.now() + graceMs;
    while ((this.#connections.size > 0 || this.#h2?.openStreams === true) && clock.now() < deadline) {
      await new Promise<void>((resolve) => clock.setTimer(Math.min(20, deadline - clock.now()), resolve));
    }
    for (const c of this.#connections) c.close(true);
    this.#h2?.close(true);
    for (const tunnel of [...this.runtime.tunnels]) tunnel.close();
    for (const socket of this.#sockets) socket.destroy();
    this.#cancelSweep?.();
    await closed;
  }

  /** A TCP server, or for HTTPS a TLS one with the front end's policy and certificates. */
  #createServer(): net.Server {
    const frontEnd = this.#tls;
    const server =
      frontEnd === undefined
        ? net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => this.#accept(socket))
        : tls.createServer(
            {
              ...frontEnd.serverOptions(),
              allowHalfOpen: true,
              noDelay: true,
              // No documented client handshake timeout (spec 12.1.11): the idle timeout.
              handshakeTimeout: this.runtime.settings.idleTimeoutMs,
              // h2 while routing.http2.enabled (read per handshake), else HTTP/1.1 (spec 12.3).
              ALPNCallback: ({ protocols }) =>
                this.runtime.settings.http2 && protocols.includes('h2') ? 'h2' : protocols.includes('http/1.1') ? 'http/1.1' : undefined,
            },
            (socket) => this.#secured(socket, frontEnd),
          );
    // Counted per TCP connection (NewConnectionCount, ActiveConnectionCount), handshake or not.
    server.on('connection', (socket: net.Socket) => {
      if (this.#closing) {
        socket.destroy();
        return;
      }
      const counters = this.runtime.counters;
      counters.newConnections++;
      counters.activeConnections++;
      this.#sockets.add(socket);
      const key = `${socket.remoteAddress}:${socket.remotePort}`;
      if (frontEnd !== undefined) this.#handshaking.set(key, { socket, sinceMs: this.runtime.clock.now() });
      socket.once('close', () => {
        this.#sockets.delete(socket);
        if (this.#handshaking.get(key)?.socket === socket) this.#handshaking.delete(key);
        counters.activeConnections--;
      });
    });
    if (frontEnd !== undefined) {
      server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: tls.TLSSocket) => {
        this.#handshakeFailed(socket, err.code ?? err.message);
        // A plain handshake failure (no shared version or cipher, the client hanging up): UNCONFIRMED code (spec 12.1.8).
        this.#logConnection(socket, { tlsVerifyStatus: 'Failed:UnmappedConnectionError' });
        socket.destroy();
      });
    }
    return server;
  }

  /** ClientTLSNegotiationErrorCount, and the log line, for a handshake that never became a session. */
  #handshakeFailed(socket: net.Socket, why: string): void {
    this.runtime.counters.clientTlsErrors++;
    this.runtime.log.info(
      { event: 'listener.tls_failed', client: `${socket.remoteAddress}:${socket.remotePort}`, code: why },
      `TLS handshake with ${socket.remoteAddress}:${socket.remotePort} failed: ${why}`,
    );
  }

  /**
   * A finished handshake: with mutual TLS the client's certificate decides (spec 12.1.7, 12.1.11);
   * a refused one closes the connection before any request is read (no HTTP response, no access
   * log line), counts as a failed negotiation and logs `Failed:<code>`.
   */
  #secured(socket: tls.TLSSocket, frontEnd: TlsFrontEnd): void {
    const key = `${socket.remoteAddress}:${socket.remotePort}`;
    const started = this.#handshaking.get(key);
    this.#handshaking.delete(key);
    const { clock } = this.runtime;
    const outcome = frontEnd.clientCertificate(socket, clock.now());
    const handshake = { tlsProtocol: socket.getProtocol() ?? '-', tlsCipher: socket.getCipher()?.name ?? '-' };
    if (!outcome.ok) {
      this.#handshakeFailed(socket, outcome.failure);
      this.#logConnection(socket, { ...handshake, ...leafFields(outcome.info), tlsVerifyStatus: `Failed:${outcome.failure}` });
      socket.destroy();
      return;
    }
    const connTraceId = newConnTraceId();
    const latency = started === undefined ? {} : { tlsHandshakeLatencyMs: clock.now() - started.sinceMs };
    this.#logConnection(socket, { ...handshake, ...latency, ...leafFields(outcome.certificate?.info), tlsVerifyStatus: 'Success', connTraceId });
    const session = frontEnd.session(socket, outcome.certificate);
    if (socket.alpnProtocol === 'h2') this.#http2().adopt(socket, session, connTraceId);
    else this.#accept(socket, session, connTraceId);
  }

  /** A connection-log record (spec 12.1.8), while the load balancer's connection_logs.s3.enabled is "true" and someone listens. */
  #logConnection(socket: net.Socket, fields: Partial<Omit<ConnectionRecord, 'client' | 'loadBalancer' | 'listenerPort' | 'timeMs' | 'nodeAddress'>>): void {
    const observer = this.runtime.connectionObserver;
    if (observer === undefined || !this.runtime.settings.connectionLogs) return;
    observer({
      loadBalancer: this.runtime.loadBalancer,
      timeMs: this.runtime.clock.now(),
      client: { ip: plainIp(socket.remoteAddress), port: socket.remotePort ?? 0 },
      listenerPort: this.runtime.port,
      nodeAddress: plainIp(socket.localAddress),
      connTraceId: fields.connTraceId ?? newConnTraceId(),
      ...fields,
    });
  }

  #http2(): Http2FrontEnd {
    this.#h2 ??= new Http2FrontEnd(this.runtime);
    return this.#h2;
  }

  #accept(socket: net.Socket, session?: TlsSession, connTraceId?: string): void {
    if (this.#closing) {
      socket.destroy();
      return;
    }
    if (connTraceId === undefined) {
      connTraceId = newConnTraceId();
      this.#logConnection(socket, { connTraceId });
    }
    const connection = new ClientConnection(socket, {
      connTraceId,
      clock: this.runtime.clock,
      maxHeaderBytes: MAX_REQUEST_HEAD_BYTES,
      timeouts: () => this.runtime.settings,
      events: this.#events,
      ...(session !== undefined ? { tls: session } : {}),
      onClose: (c) => this.#connections.delete(c),
    });
    this.#connections.add(connection);
  }

  /** The idle timeout of client connections, every tenth of it (at most a second, at least 10 ms). */
  #scheduleSweep(): void {
    if (this.#closing) return;
    const { clock, settings } = this.runtime;
    const periodMs = Math.min(1000, Math.max(10, Math.floor(settings.idleTimeoutMs / 10)));
    this.#cancelSweep = clock.setTimer(periodMs, () => {
      const now = clock.now();
      for (const c of this.#connections) c.checkIdle(now);
      this.#h2?.checkIdle(now);
      for (const tunnel of [...this.runtime.tunnels]) tunnel.checkIdle(now, this.runtime.settings.idleTimeoutMs);
      this.#scheduleSweep();
    });
  }
}

/** The connection log's leaf fields (8–10) of a certificate the load balancer could read. */
function leafFields(info: ClientCertificateInfo | undefined): Pick<ConnectionRecord, 'leaf'> {
  return info === undefined ? {} : { leaf: { subject: info.subject, validity: info.validity, serialNumber: info.serialNumber } };
}
