/**
 * The TLS side of an NLB TLS listener (spec 12.6): each accepted TCP connection has its
 * ClientHello read first, on the TCP socket (src/tls/client-hello.ts), then the socket is handed
 * to Node's TLS with the listener's security policy and certificates (SNI by the NLB's rules)
 * and, only when the client's ALPN list and the listener's ALPN policy share a protocol, that
 * protocol (spec 12.6.3: no overlap goes on without ALPN; Node would end such a handshake with a
 * fatal alert). The listener (network-load-balancer.ts) counts, times out and routes; this file
 * owns the handshake and what the access log needs to know of it.
 */
import type { Socket } from 'node:net';
import tls from 'node:tls';
import { selectAlpnProtocol, type AlpnPolicy } from '../tls/alpn.ts';
import { MAX_CLIENT_HELLO_BYTES, peekClientHello, type ClientHello } from '../tls/client-hello.ts';
import type { TlsFrontEnd, TlsSession } from '../tls/front-end.ts';
import type { TlsConnectionRecord } from './access-log.ts';

/** NLB TLS listeners: a fixed idle timeout, not `tcp.idle_timeout.seconds` (spec 12.6.5). */
export const TLS_IDLE_TIMEOUT_MS = 350_000;

/**
 * TLS handshakes with TLS targets must finish within this, from the TCP connection: the ALB's
 * 10 s (spec 12.1.11); the NLB's own limit is UNCONFIRMED.
 */
export const TARGET_TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

/** Why a connection on a TLS listener ended before a flow to a target began. */
export type TlsFailure = 'client_tls_error' | 'client_closed' | 'handshake_timeout' | 'no_target' | 'target_tls_error' | 'target_unreachable';

/** What a TLS connection reports to its listener; each is called at most once, `closed` last. */
export interface TlsConnectionEvents {
  /** The client handshake completed: route the connection (its `socket` carries plaintext). */
  established(connection: TlsConnection): void;
  /** The client handshake failed (ClientTLSNegotiationErrorCount). */
  failed(connection: TlsConnection, error: Error | undefined): void;
  /** The TCP connection closed: the access-log record is final. */
  closed(connection: TlsConnection): void;
}

export interface Endpoint {
  readonly ip: string;
  readonly port: number;
}

/** The alert a client sent, from OpenSSL's "SSL alert number N" (alerts this side sent carry no number). */
function incomingAlert(err: Error): number | undefined {
  const match = /SSL alert number (\d+)/.exec(err.message);
  return match ? Number(match[1]) : undefined;
}

/**
 * One client connection on a TLS listener, from accept to close: the ClientHello, the session,
 * and what the flow adds (target, ALPN towards it, bytes sent to the client).
 */
export class TlsConnection {
  readonly tcp: Socket;
  readonly startedAtMs: number;
  readonly client: Endpoint;
  /** The listener's address and port as the client reached it. */
  readonly destination: Endpoint;
  /** The ClientHello, once one was read whole (undefined: none, or not a valid one). */
  hello: ClientHello | undefined;
  /** The TLS socket, once the ClientHello is read; plaintext after `established`. */
  socket: tls.TLSSocket | undefined;
  session: TlsSession | undefined;
  handshakeMs: number | undefined;
  alpnFrontEnd: string | undefined;
  alpnBackEnd: string | undefined;
  incomingTlsAlert: number | undefined;
  failure: TlsFailure | undefined;
  target: { readonly id: string; readonly port: number } | undefined;
  /** Bytes the flow wrote to the client (plaintext), read when the connection ends. */
  sentBytes: () => number = () => 0;
  #settled = false;

  constructor(tcp: Socket, startedAtMs: number, addresses: { readonly client: Endpoint; readonly destination: Endpoint }) {
    this.tcp = tcp;
    this.startedAtMs = startedAtMs;
    this.client = addresses.client;
    this.destination = addresses.destination;
  }

  get established(): boolean {
    return this.session !== undefined;
  }

  /** Decrypted bytes received from the client so far. */
  get receivedBytes(): number {
    return this.socket?.bytesRead ?? 0;
  }

  /** Settles the handshake once: true for the first caller. */
  settle(): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    return true;
  }

  get settled(): boolean {
    return this.#settled;
  }

  /** Resets the TCP connection (handshake timeout, no target, a failed target handshake). */
  reset(failure: TlsFailure): void {
    this.failure ??= failure;
    if (!this.tcp.destroyed) this.tcp.resetAndDestroy();
  }
}

/** The TLS front end of one NLB listener: a secure context built once, and the ALPN policy. */
export class TlsTermination {
  readonly frontEnd: TlsFrontEnd;
  readonly alpnPolicy: AlpnPolicy;
  readonly #now: () => number;
  readonly #context: tls.SecureContext;
  readonly #sniCallback: tls.TlsOptions['SNICallback'];

  constructor(frontEnd: TlsFrontEnd, alpnPolicy: AlpnPolicy, now: () => number) {
    this.frontEnd = frontEnd;
    this.alpnPolicy = alpnPolicy;
    this.#now = now;
    const { SNICallback, ...contextOptions } = frontEnd.serverOptions();
    this.#context = tls.createSecureContext(contextOptions);
    this.#sniCallback = SNICallback;
  }

  /**
   * Starts the handshake of an accepted TCP connection (created paused): reads its ClientHello,
   * then wraps it in TLS. A client that sends something else, closes or resets is `failed`.
   */
  accept(tcp: Socket, addresses: { readonly client: Endpoint; readonly destination: Endpoint }, events: TlsConnectionEvents): TlsConnection {
    const connection = new TlsConnection(tcp, this.#now(), addresses);
    const fail = (err: Error | undefined) => {
      if (!connection.settle()) return;
      connection.failure ??= connection.hello === undefined && err === undefined ? 'client_closed' : 'client_tls_error';
      if (err !== undefined) connection.incomingTlsAlert ??= incomingAlert(err);
      events.failed(connection, err);
      if (!tcp.destroyed) tcp.destroy();
    };
    tcp.once('close', () => {
      if (!connection.settled) fail(undefined);
      events.closed(connection);
    });
    const chunks: Buffer[] = [];
    let received = 0;
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
      const peek = peekClientHello(chunks.length === 1 ? chunk : Buffer.concat(chunks, received));
      if (peek.status === 'incomplete' && received <= MAX_CLIENT_HELLO_BYTES) return;
      tcp.off('data', onData);
      tcp.off('end', onEnd);
      tcp.pause();
      if (peek.status === 'complete') connection.hello = peek.hello;
      tcp.unshift(Buffer.concat(chunks, received));
      this.#startTls(connection, events, fail);
    };
    const onEnd = () => fail(undefined);
    tcp.on('data', onData);
    tcp.once('end', onEnd);
    tcp.resume();
    return connection;
  }

  #startTls(connection: TlsConnection, events: TlsConnectionEvents, fail: (err: Error | undefined) => void): void {
    const alpn = selectAlpnProtocol(this.alpnPolicy, connection.hello?.alpnProtocols);
    const socket = new tls.TLSSocket(connection.tcp, {
      isServer: true,
      secureContext: this.#context,
      ...(this.#sniCallback !== undefined ? { SNICallback: this.#sniCallback } : {}),
      // Only a protocol both sides have: Node refuses a handshake with no overlap.
      ...(alpn !== undefined ? { ALPNProtocols: [alpn] } : {}),
    });
    connection.socket = socket;
    socket.on('error', (err: Error) => {
      connection.incomingTlsAlert ??= incomingAlert(err);
      if (!connection.established) fail(err);
    });
    // A client that half-closes before its handshake is done will not finish it.
    socket.once('end', () => {
      if (!connection.established) fail(undefined);
    });
    socket.once('secure', () => {
      if (connection.settled) return;
      connection.settle();
      connection.handshakeMs = this.#now() - connection.startedAtMs;
      connection.session = this.frontEnd.session(socket);
      connection.alpnFrontEnd = typeof socket.alpnProtocol === 'string' ? socket.alpnProtocol : undefined;
      socket.pause();
      events.established(connection);
    });
  }

  /** The certificate the connection was (or, for a failed handshake, would have been) served; undefined without a valid ClientHello. */
  chosenCertificateArn(connection: TlsConnection): string | undefined {
    if (connection.session !== undefined) return connection.session.certificateArn;
    return connection.hello !== undefined ? this.frontEnd.certificateArnFor(connection.hello.serverName) : undefined;
  }

  /** The access-log record of a connection that has closed (spec 8.2). */
  record(connection: TlsConnection, loadBalancer: string, listener: string, endedAtMs: number): TlsConnectionRecord {
    const { session, hello } = connection;
    return {
      loadBalancer,
      listener,
      client: connection.client,
      destination: connection.destination,
      target: connection.target,
      startedAtMs: connection.startedAtMs,
      endedAtMs,
      tlsHandshakeMs: connection.handshakeMs,
      receivedBytes: connection.receivedBytes,
      sentBytes: connection.sentBytes(),
      incomingTlsAlert: connection.incomingTlsAlert,
      chosenCertArn: this.chosenCertificateArn(connection),
      tlsCipher: session?.cipher,
      tlsProtocol: session?.protocol,
      domainName: hello?.serverName,
      alpnFrontEnd: connection.alpnFrontEnd,
      alpnBackEnd: connection.alpnBackEnd,
      // Only with an ALPN policy (spec 8.2: "-" when the listener has none).
      alpnClientPreferenceList: this.alpnPolicy === 'None' ? undefined : hello?.alpnProtocols,
      ...(connection.failure !== undefined ? { failure: connection.failure } : {}),
    };
  }
}
