/**
 * A Network Load Balancer (spec 3.5, 4.2, 4.3, 5.1, 5.2, 12.6): TCP, TLS and UDP listeners on
 * this machine; each new flow picks a target by a hash of its tuple (or, with source_ip
 * stickiness, the target its client's address is bound to: TargetGroup.acquireFlow) and keeps it for life; the
 * client's address is preserved by binding the outbound socket to it (every 127.0.0.0/8
 * address is local), or announced with a Proxy Protocol v2 header. A TLS listener is a TCP
 * listener with TLS terminated in front (tls-listener.ts) and plaintext, or TLS again, towards
 * the target. An NLB never answers on its own: it resets.
 */
import dgram from 'node:dgram';
import net, { type AddressInfo, type Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import tls from 'node:tls';
import { hostForUrl, plainIp } from '../core/addresses.ts';
import { realClock, type Clock } from '../core/clock.ts';
import { mathRandom, type Random } from '../core/random.ts';
import { bindFallback, bindListener } from '../core/listen.ts';
import { ElbError, ErrorCodes } from '../core/errors.ts';
import { silentLogger, type Logger } from '../core/logger.ts';
import type { ElbMetrics } from '../core/metrics.ts';
import type { ListenerConfig, LoadBalancerConfig } from '../config/schema.ts';
import type { ListenerChange } from '../config/changes.ts';
import { networkLoadBalancerAttributes, resolveAttributes } from '../config/attributes.ts';
import { flowHash } from '../algorithms/index.ts';
import { tcpListenerSettings } from '../config/settings.ts';
import type { TargetGroup } from '../targets/target-group.ts';
import type { Lease } from '../targets/target.ts';
import type { AlpnPolicy } from '../tls/alpn.ts';
import { localCaIssuer, TlsProvider, type BackendTlsOptions } from '../tls/provider.ts';
import type { TlsConnectionRecord } from './access-log.ts';
import { localProxyHeader, proxyHeader } from './proxy-protocol.ts';
import { TARGET_TLS_HANDSHAKE_TIMEOUT_MS, TLS_IDLE_TIMEOUT_MS, TlsConnection, TlsTermination, type Endpoint, type TlsConnectionEvents } from './tls-listener.ts';

/** UDP flows end after 120 s without a packet (spec 3.5; fixed in AWS). */
export const UDP_IDLE_TIMEOUT_MS = 120_000;

export interface NetworkLoadBalancerOptions {
  readonly config: LoadBalancerConfig;
  readonly targetGroups: ReadonlyMap<string, TargetGroup>;
  readonly clock?: Clock;
  /**
   * Seeds each TCP listener's stand-in for TCP initial sequence numbers in the flow hash
   * (default `Math.random`); tests pass a seeded one so the per-connection values repeat.
   */
  readonly random?: Random;
  readonly logger?: Logger;
  readonly metrics?: ElbMetrics;
  /** Certificates and policies for TLS listeners and TLS target groups (default: the local CA in `~/.local-elb`). */
  readonly tls?: TlsProvider;
}

/** Addresses this machine can bind: every loopback address and those of its interfaces. */
function isLocalAddress(ip: string): boolean {
  if (/^127\./.test(ip) || ip === '::1') return true;
  for (const list of Object.values(networkInterfaces())) for (const i of list ?? []) if (i.address === ip) return true;
  return false;
}

export class NetworkLoadBalancer {
  readonly name: string;
  #config: LoadBalancerConfig;
  readonly #groups: ReadonlyMap<string, TargetGroup>;
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #log: Logger;
  readonly #metrics: ElbMetrics | undefined;
  #listeners: Array<TcpListener | UdpListener | TcpUdpListener>;
  /** Access-log listener IDs (`listener-N`), never reused while the load balancer lives. */
  #nextListenerId = 0;
  #attributes: Record<string, string>;
  readonly #warned = new Set<string>();
  readonly #tls: TlsProvider;
  readonly #connectionObservers = new Set<(record: TlsConnectionRecord) => void>();

  constructor(options: NetworkLoadBalancerOptions) {
    this.name = options.config.name;
    this.#config = options.config;
    this.#attributes = { ...options.config.attributes };
    this.#groups = options.targetGroups;
    this.#clock = options.clock ?? realClock;
    this.#random = options.random ?? mathRandom;
    this.#log = (options.logger ?? silentLogger()).child({ loadBalancer: this.name });
    this.#metrics = options.metrics;
    this.#tls = options.tls ?? new TlsProvider({ certificates: [], issuer: localCaIssuer(), clock: this.#clock });
    this.#listeners = options.config.listeners.map((l) => this.#buildListener(l));
  }

  /** The load balancer's config: its listeners as asked for (a fallback listener's bound address is in `url`). */
  get config(): LoadBalancerConfig {
    return this.#config;
  }

  /** One listener (not yet bound); its group learns the Host header and PPv2 header of its checks. */
  #buildListener(l: ListenerConfig): TcpListener | UdpListener | TcpUdpListener {
    const group = this.#group(l);
    const id = `listener-${this.#nextListenerId++}`;
    const listener = l.protocol === 'UDP' ? new UdpListener(this, l, group) : l.protocol === 'TCP_UDP' ? new TcpUdpListener(this, l, group, id) : new TcpListener(this, l, group, id);
    group.setHealthCheckEnvironment({
      // Before the listener is bound (the first check runs at registration) the configured
      // port is the best answer; only port 0 (ask the OS) is unknown until then.
      hostHeader: () => `${hostForUrl(listener.config.address)}:${listener.port || listener.config.port}`,
      proxyProtocolHeader: localProxyHeader(),
    });
    return listener;
  }

  targetGroupNames(): string[] {
    return [...new Set(this.config.listeners.map((l) => this.#groupName(l)))];
  }

  /**
   * Binds every listener (a TLS one once its certificates are read or issued); rejects with
   * `ELB_ERR_LISTEN_FAILED` naming the address, or the certificate error.
   */
  async start(): Promise<void> {
    try {
      for (const l of this.#listeners) {
        await this.#useTls(l);
        await l.listen();
      }
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  async #useTls(l: TcpListener | UdpListener | TcpUdpListener): Promise<void> {
    if (!(l instanceof TcpListener) || l.config.protocol !== 'TLS') return;
    const frontEnd = await this.#tls.frontEnd({
      loadBalancer: this.name,
      loadBalancerType: 'network',
      sslPolicy: l.config.sslPolicy,
      certificateArns: (l.config.certificates ?? []).map((c) => c.certificateArn),
      address: l.config.address,
      hosts: [],
    });
    l.useTls(new TlsTermination(frontEnd, (l.config.alpnPolicy ?? 'None') as AlpnPolicy, () => this.#clock.now()));
  }

  /** Builds and binds a listener; with `fallback`, on a free port or 127.0.0.1 when its own cannot be bound. */
  async #startListener(config: ListenerConfig, fallback: boolean): Promise<TcpListener | UdpListener | TcpUdpListener> {
    const listener = this.#buildListener(config);
    await this.#useTls(listener);
    try {
      await listener.listen();
      return listener;
    } catch (err) {
      const next = fallback ? bindFallback(err) : undefined;
      if (next === undefined) throw err;
      await listener.close(0);
      this.#log.info({ event: 'listener.fallback', address: config.address, port: config.port, why: next }, `cannot bind ${config.address}:${config.port}; listening on ${next === 'loopback' ? '127.0.0.1' : config.address}, a free port`);
      // The listener object binds its config's address: a fallback one binds another (its URL says where).
      const other = this.#buildListener({ ...config, address: next === 'loopback' ? '127.0.0.1' : config.address, port: 0 });
      await this.#useTls(other);
      await other.listen();
      return other;
    }
  }

  /**
   * Runtime listener changes (the ELBv2 API, through ElbRuntime.apply): listeners not in
   * `changes` close, changed ones close and bind again (an NLB listener's flows are bound to
   * its target group and settings), new ones bind; kept ones are untouched. `config` is the load
   * balancer's config afterwards. A listener that fails to bind is left out of it, and the first
   * such error is thrown once the rest is done.
   */
  async applyListeners(changes: readonly ListenerChange[], config: LoadBalancerConfig): Promise<void> {
    const kept = new Set(changes.filter((c) => c.from !== undefined && !c.rebind).map((c) => c.from!));
    const old = this.#listeners;
    await Promise.all(old.map((l, i) => (kept.has(i) ? undefined : l.close(0))));
    const listeners: Array<TcpListener | UdpListener | TcpUdpListener> = [];
    const configs: ListenerConfig[] = [];
    let failure: unknown;
    for (const change of changes) {
      if (change.from !== undefined && !change.rebind) {
        listeners.push(old[change.from]!);
        configs.push(change.config);
        continue;
      }
      try {
        listeners.push(await this.#startListener(change.config, change.fallback === true));
        configs.push(change.config);
      } catch (err) {
        failure ??= err;
      }
    }
    this.#listeners = listeners;
    this.#config = { ...config, listeners: configs };
    if (failure !== undefined) throw failure;
  }

  /** `tcp://address:port` (or `tls://`, `udp://`) of listener `index`, after start. */
  url(index = 0): string {
    const l = this.#listeners[index];
    if (l === undefined) throw new ElbError(ErrorCodes.NOT_FOUND, `load balancer ${this.name} has no listener ${index}`);
    const scheme = l.config.protocol === 'UDP' ? 'udp' : l.config.protocol === 'TLS' ? 'tls' : 'tcp';
    return `${scheme}://${hostForUrl(l.config.address)}:${l.port}`;
  }

  /**
   * Calls `observer` with the access-log record of every connection on a TLS listener when it
   * ends, failed handshakes included (spec 8.2; TCP and UDP listeners have no access log).
   * Records are built only while someone observes. Returns the unsubscribe function.
   */
  onTlsConnection(observer: (record: TlsConnectionRecord) => void): () => void {
    this.#connectionObservers.add(observer);
    return () => this.#connectionObservers.delete(observer);
  }

  get ports(): number[] {
    return this.#listeners.map((l) => l.port);
  }

  attributes(): Readonly<Record<string, string>> {
    return { ...this.#attributes };
  }

  /**
   * ModifyLoadBalancerAttributes (spec 4.6): validated against the NLB's catalogue and stored;
   * none of them changes the data path here (access logs, deletion protection, cross-zone, DNS
   * routing: accepted with no local effect, src/config/attributes.ts).
   */
  modifyAttributes(changes: Readonly<Record<string, string>>): Readonly<Record<string, string>> {
    const resolved = resolveAttributes(networkLoadBalancerAttributes, changes, 'attributes', this.#attributes);
    if (!resolved.ok) throw new ElbError(ErrorCodes.INVALID_ARGUMENT, resolved.issues.map((i) => `${i.path}: ${i.message}`).join('; '));
    this.#attributes = resolved.attributes;
    this.#config = { ...this.#config, attributes: this.#attributes };
    return this.attributes();
  }

  /** Stops accepting; open flows get `graceMs` to end by themselves, then are closed. */
  async close(graceMs = 0): Promise<void> {
    await Promise.all(this.#listeners.map((l) => l.close(graceMs)));
  }

  // Shared with the listeners of this module.
  get clock(): Clock {
    return this.#clock;
  }
  get random(): Random {
    return this.#random;
  }
  get log(): Logger {
    return this.#log;
  }
  get metrics(): ElbMetrics | undefined {
    return this.#metrics;
  }
  get tlsProvider(): TlsProvider {
    return this.#tls;
  }

  /** Hands a closed TLS connection's record to the observers, if there are any. */
  recordTlsConnection(build: () => TlsConnectionRecord): void {
    if (this.#connectionObservers.size === 0) return;
    const record = build();
    for (const observer of this.#connectionObservers) {
      try {
        observer(record);
      } catch (err) {
        this.#log.warn({ err }, 'a TLS connection observer threw');
      }
    }
  }

  /** Logs once per address that client IP preservation could not bind it. */
  warnOnce(key: string, message: string): void {
    if (this.#warned.has(key)) return;
    this.#warned.add(key);
    this.#log.warn({ event: 'nlb.client_ip_not_preserved', address: key }, message);
  }

  #groupName(l: ListenerConfig): string {
    const action = l.defaultActions[0]!;
    if (action.type !== 'forward' || action.targetGroupName === undefined) {
      throw new ElbError(ErrorCodes.INVALID_ARGUMENT, `network load balancer ${this.name}: a listener needs a forward action to one target group`);
    }
    return action.targetGroupName;
  }

  #group(l: ListenerConfig): TargetGroup {
    const name = this.#groupName(l);
    const group = this.#groups.get(name);
    if (group === undefined) throw new ElbError(ErrorCodes.NOT_FOUND, `target group ${name} is not defined`);
    return group;
  }
}

/** Read buffers for the target→client direction, reused across flows (see TcpFlow). */
const READ_BUFFER_BYTES = 64 * 1024;
const MAX_POOLED_BUFFERS = 256;

class BufferPool {
  readonly #free: Buffer[] = [];

  take(): Buffer {
    return this.#free.pop() ?? Buffer.allocUnsafe(READ_BUFFER_BYTES);
  }

  give(buffer: Buffer): void {
    if (this.#free.length < MAX_POOLED_BUFFERS) this.#free.push(buffer);
  }
}

/** Metric children bound once per listener: no label hashing per flow. */
interface FlowMetrics {
  readonly newFlows?: { inc(): void };
  readonly activeFlows?: { inc(): void; dec(): void };
  readonly processedBytes?: { inc(n: number): void };
  readonly clientResets?: { inc(): void };
  readonly targetResets?: { inc(): void };
  readonly elbResets?: { inc(n?: number): void };
  readonly unhealthyRouting?: { inc(): void };
  /** ClientTLSNegotiationErrorCount (TLS listeners). */
  readonly clientTlsErrors?: { inc(): void };
  /** TargetTLSNegotiationErrorCount (TLS target groups). */
  readonly targetTlsErrors?: { inc(): void };
}

/** The NLB metrics of one listener's flows, over counters bound once per load balancer and target group. */
function flowMetrics(nlb: NetworkLoadBalancer, protocol: 'TCP' | 'UDP' | 'TLS', group: TargetGroup): FlowMetrics {
  const m = nlb.metrics;
  if (m === undefined) return {};
  const lb = m.loadBalancerCounters(nlb.name, 'network');
  const tg = m.targetGroupCounters(nlb.name, group.name);
  return {
    newFlows: { inc: () => void lb.newFlows[protocol]++ },
    activeFlows: { inc: () => void lb.activeFlows[protocol]++, dec: () => void lb.activeFlows[protocol]-- },
    processedBytes: { inc: (n) => void (lb.processedBytesByProtocol[protocol] += n) },
    clientResets: { inc: () => void lb.clientResets++ },
    targetResets: { inc: () => void lb.targetResets++ },
    elbResets: { inc: (n = 1) => void (lb.elbResets += n) },
    unhealthyRouting: { inc: () => void tg.unhealthyRouting++ },
    clientTlsErrors: { inc: () => void lb.clientTlsErrors++ },
    targetTlsErrors: { inc: () => void tg.tlsErrors++ },
  };
}

/** TLS towards a TLS target group (spec 12.6.4): the back-end policy, no certificate checks, no SNI. */
interface TargetTls {
  readonly backend: BackendTlsOptions;
  /** Offered to the target: what the client negotiated (spec 12.6.3: UNCONFIRMED; none when the client got none). */
  readonly alpn: string | undefined;
  readonly clock: Clock;
}

/**
 * One TCP connection through the NLB: the client side, the target side, and its lease.
 * Client→target bytes go through `pipe()`; target→client bytes are read straight into a pooled
 * buffer (`onread`) and written on, so the busy direction allocates nothing per read: a new
 * 64 KiB buffer per read costs a garbage collection every few dozen milliseconds at 1 GB/s.
 *
 * On a TLS listener the client side is the TLS socket (plaintext) over the client's TCP socket,
 * which resets go to; towards a TLS target group the target side is a TLS socket too (data
 * events instead of `onread`), and a failed or slow handshake with the target resets the client.
 */
class TcpFlow {
  readonly #client: Socket;
  readonly #clientTcp: Socket;
  readonly #upstream: Socket;
  readonly #upstreamTcp: Socket;
  readonly #lease: Lease;
  readonly #metrics: FlowMetrics;
  readonly #pool: BufferPool;
  #buffer: Buffer | undefined;
  /** Bytes written to the client (plaintext), for the TLS access log. */
  sentBytes = 0;
  /** Idle tracking, read by the listener's sweep. */
  lastBytes = -1;
  lastActiveAt: number;
  #closed = 0;
  #done = false;
  readonly #onDone: (flow: TcpFlow) => void;

  constructor(o: {
    /** What carries the client's bytes: its TCP socket, or on a TLS listener its TLS socket. */
    client: Socket;
    /** The client's TCP socket (resets go to it); `client` itself on TCP listeners. */
    clientTcp: Socket;
    target: { id: string; port: number };
    localAddress: string | undefined;
    lease: Lease;
    header: Buffer | undefined;
    targetTls: TargetTls | undefined;
    /** The TLS listener's connection, told of the target's ALPN and of failures. */
    connection: TlsConnection | undefined;
    now: number;
    metrics: FlowMetrics;
    pool: BufferPool;
    log: Logger;
    onDone: (flow: TcpFlow) => void;
  }) {
    const { client, clientTcp, lease, metrics, targetTls, connection } = o;
    this.#client = client;
    this.#clientTcp = clientTcp;
    this.#lease = lease;
    this.#metrics = metrics;
    this.#pool = o.pool;
    this.#onDone = o.onDone;
    this.lastActiveAt = o.now;
    this.#buffer = targetTls === undefined ? o.pool.take() : undefined;
    const tcp = net.connect({
      host: o.target.id,
      port: o.target.port,
      allowHalfOpen: true,
      noDelay: true,
      ...(o.localAddress ? { localAddress: o.localAddress } : {}),
      ...(targetTls === undefined ? { onread: { buffer: () => this.#buffer!, callback: (n: number, buf: Uint8Array) => this.#fromTarget(n, buf) } } : {}),
    });
    this.#upstreamTcp = tcp;
    // The PPv2 header goes first, before the TLS handshake with a TLS target (spec 5.2).
    if (o.header !== undefined) tcp.write(o.header);
    let secured = targetTls === undefined;
    let tcpConnected = false;
    let upstream: Socket = tcp;
    let upstreamFailed = false;
    if (targetTls !== undefined) {
      // A connection that never came up may be reported here only, not on the TLS socket over it.
      tcp.on('error', (err: NodeJS.ErrnoException) => {
        if (!tcpConnected) onUpstreamError(err);
      });
      const secure = tls.connect({ ...targetTls.backend.options, socket: tcp, ...(targetTls.alpn !== undefined ? { ALPNProtocols: [targetTls.alpn] } : {}) });
      upstream = secure;
      let cancelTimeout = () => {};
      tcp.once('connect', () => {
        tcpConnected = true;
        cancelTimeout = targetTls.clock.setTimer(TARGET_TLS_HANDSHAKE_TIMEOUT_MS, () => {
          if (secured || this.#done) return;
          o.log.debug({ event: 'flow.target_tls_timeout' }, `no TLS handshake with target ${o.target.id}:${o.target.port} within ${TARGET_TLS_HANDSHAKE_TIMEOUT_MS / 1000} s: reset`);
          metrics.targetTlsErrors?.inc();
          if (connection !== undefined) connection.failure ??= 'target_tls_error';
          this.reset();
        });
      });
      secure.once('secureConnect', () => {
        secured = true;
        cancelTimeout();
        if (connection !== undefined) connection.alpnBackEnd = typeof secure.alpnProtocol === 'string' ? secure.alpnProtocol : undefined;
      });
      secure.on('data', (chunk: Buffer) => {
        this.sentBytes += chunk.length;
        if (!client.write(chunk)) secure.pause();
      });
      secure.once('close', () => {
        cancelTimeout();
        tcp.destroy();
      });
    }
    this.#upstream = upstream;
    if (connection !== undefined) connection.sentBytes = () => this.sentBytes;
    if (clientTcp !== client) client.once('close', () => clientTcp.destroy());
    metrics.newFlows?.inc();
    metrics.activeFlows?.inc();

    lease.onCut((reason) => {
      o.log.debug({ event: 'flow.reset', reason: reason.code }, 'resetting a flow');
      this.reset();
    });
    client.pipe(upstream);
    upstream.on('end', () => client.end());
    client.on('drain', () => upstream.resume());
    client.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNRESET') {
        metrics.clientResets?.inc();
        tcp.resetAndDestroy();
      } else upstream.destroy();
    });
    const onUpstreamError = (err: NodeJS.ErrnoException) => {
      if (upstreamFailed) return;
      upstreamFailed = true;
      if (targetTls !== undefined && tcpConnected && !secured) {
        // The target took the connection but not the handshake (no shared version or cipher,
        // not TLS at all, closed or reset): the client's connection is reset by the NLB.
        o.log.debug({ event: 'flow.target_tls_failed', code: err.code }, `TLS handshake with target ${o.target.id}:${o.target.port} failed: ${err.code ?? err.message}`);
        metrics.targetTlsErrors?.inc();
        metrics.elbResets?.inc();
        if (connection !== undefined) connection.failure ??= 'target_tls_error';
        clientTcp.resetAndDestroy();
        tcp.destroy();
        return;
      }
      if (err.code === 'ECONNRESET' || err.code === 'ECONNREFUSED') metrics.targetResets?.inc();
      // A reset from the target, or no connection to it at all (refused, unreachable, timed
      // out): the client's connection is reset. Other failures close it.
      const noConnection = targetTls === undefined ? tcp.connecting || tcp.bytesWritten === 0 : !tcpConnected;
      if (noConnection && connection !== undefined) connection.failure ??= 'target_unreachable';
      if (err.code === 'ECONNRESET' || noConnection) clientTcp.resetAndDestroy();
      else client.destroy();
    };
    upstream.on('error', onUpstreamError);
    const onClose = () => {
      if (++this.#closed === 2) this.#finish();
    };
    client.once('close', onClose);
    tcp.once('close', onClose);
    client.resume();
  }

  /** Bytes moved either way so far (plaintext on TLS sockets). */
  get bytes(): number {
    return this.#client.bytesRead + this.#upstream.bytesRead;
  }

  #fromTarget(n: number, buf: Uint8Array): boolean {
    const client = this.#client;
    if (client.destroyed) return false;
    this.sentBytes += n;
    const more = client.write(buf.subarray(0, n));
    // A write the kernel did not take at once still holds the buffer: read into another one.
    if (client.writableLength > 0) this.#buffer = this.#pool.take();
    return more;
  }

  /** Resets both sides (the ELB's own RST: idle timeout, termination, unhealthy target). */
  reset(): void {
    if (this.#done) return;
    this.#metrics.elbResets?.inc(2);
    this.#clientTcp.resetAndDestroy();
    this.#upstreamTcp.resetAndDestroy();
  }

  /** Ends the flow now (listener shutdown). */
  destroy(): void {
    this.#client.destroy();
    this.#upstream.destroy();
  }

  #finish(): void {
    if (this.#done) return;
    this.#done = true;
    this.#lease.release();
    if (this.#buffer !== undefined && this.#client.writableLength === 0) this.#pool.give(this.#buffer);
    this.#metrics.activeFlows?.dec();
    this.#metrics.processedBytes?.inc(this.bytes);
    this.#onDone(this);
  }
}

/**
 * A cheap xorshift stream standing in for TCP initial sequence numbers in the flow tuple,
 * started from `random` (so a seeded Random gives the same stream).
 */
function sequenceNumbers(random: Random): () => number {
  let x = 1 + Math.floor(random.next() * 0x7ffffffe);
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

/**
 * A TCP listener, or a TLS one (spec 12.6): the same flows, after a TLS handshake with the
 * client (tls-listener.ts). On TLS listeners a flow counts (`NewFlowCount_TLS`,
 * `ActiveFlowCount_TLS`) from the TCP accept, failed handshakes included, as one TCP connection
 * is one flow; the target is chosen once the handshake is done.
 */
class TcpListener {
  readonly nlb: NetworkLoadBalancer;
  readonly config: ListenerConfig;
  readonly group: TargetGroup;
  /** The listener's resource ID in the access log. */
  readonly id: string;
  readonly #server: net.Server;
  readonly #flows = new Set<TcpFlow>();
  readonly #pool = new BufferPool();
  readonly #nextSequence: () => number;
  readonly #idleMs: number;
  readonly #metrics: FlowMetrics;
  /** TLS listeners: the flows' metrics without the flow counts, which the accept made. */
  readonly #tlsFlowMetrics: FlowMetrics;
  #termination: TlsTermination | undefined;
  readonly #tlsEvents: TlsConnectionEvents;
  /** TLS listeners: connections whose client handshake is not done. */
  readonly #handshakes = new Set<TlsConnection>();
  #cancelSweep: () => void = () => {};
  #port = 0;

  constructor(nlb: NetworkLoadBalancer, config: ListenerConfig, group: TargetGroup, id: string) {
    this.nlb = nlb;
    this.config = config;
    this.group = group;
    this.id = id;
    this.#nextSequence = sequenceNumbers(nlb.random);
    const secure = config.protocol === 'TLS';
    this.#idleMs = secure ? TLS_IDLE_TIMEOUT_MS : tcpListenerSettings(config.attributes).idleTimeoutMs;
    this.#server = net.createServer({ pauseOnConnect: true, allowHalfOpen: true, noDelay: true }, (client) => this.#onConnection(client));
    this.#metrics = flowMetrics(nlb, secure ? 'TLS' : 'TCP', group);
    const { newFlows: _newFlows, activeFlows: _activeFlows, ...afterAccept } = this.#metrics;
    this.#tlsFlowMetrics = afterAccept;
    this.#tlsEvents = {
      established: (connection) => {
        this.#handshakes.delete(connection);
        this.#route(connection.tcp, connection.socket!, connection);
      },
      failed: (connection, err) => {
        this.#handshakes.delete(connection);
        this.#metrics.clientTlsErrors?.inc();
        const client = `${connection.client.ip}:${connection.client.port}`;
        const why = (err as NodeJS.ErrnoException | undefined)?.code ?? err?.message ?? connection.failure;
        nlb.log.info({ event: 'listener.tls_failed', client, code: why }, `TLS handshake with ${client} failed: ${why}`);
      },
      closed: (connection) => {
        this.#handshakes.delete(connection);
        this.#metrics.activeFlows?.dec();
        const termination = this.#termination!;
        nlb.recordTlsConnection(() => termination.record(connection, nlb.name, this.id, nlb.clock.now()));
      },
    };
  }

  get port(): number {
    return this.#port;
  }

  /** Makes this a TLS listener (before `listen`). */
  useTls(termination: TlsTermination): void {
    this.#termination = termination;
  }

  async listen(port = this.config.port): Promise<void> {
    const protocol = this.config.protocol === 'TLS' ? 'TLS' : 'TCP';
    const where = `load balancer ${this.nlb.name} on ${protocol} ${this.config.address}:${port}`;
    await bindListener(this.#server, (done) => this.#server.listen(port, this.config.address, done), where, this.nlb.log);
    this.#port = (this.#server.address() as AddressInfo).port;
    this.nlb.log.info({ event: 'listener.started', protocol, port: this.#port }, `${protocol} listener on ${this.config.address}:${this.#port}`);
    this.#scheduleSweep();
  }

  async close(graceMs: number): Promise<void> {
    this.#cancelSweep();
    if (!this.#server.listening) return;
    const closed = new Promise<void>((r) => this.#server.close(() => r()));
    // Connections still in their TLS handshake have no flow to finish.
    for (const c of this.#handshakes) c.tcp.destroy();
    const deadline = Date.now() + graceMs;
    while (this.#flows.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const f of this.#flows) f.destroy();
    await closed;
  }

  /**
   * The idle timeout (spec 3.5, 12.6.5) on the injected clock: every tenth of the timeout one
   * sweep looks at every flow; a flow that moved no byte either way for the whole timeout is
   * reset. A TLS handshake not done within the timeout is reset too (UNCONFIRMED: AWS documents
   * no handshake timeout; the ALB emulation uses its idle timeout the same way, spec 12.1.11).
   */
  #scheduleSweep(): void {
    const periodMs = Math.max(10, Math.floor(this.#idleMs / 10));
    this.#cancelSweep = this.nlb.clock.setTimer(periodMs, () => {
      const now = this.nlb.clock.now();
      for (const flow of this.#flows) {
        const bytes = flow.bytes;
        if (bytes !== flow.lastBytes) {
          flow.lastBytes = bytes;
          flow.lastActiveAt = now;
        } else if (now - flow.lastActiveAt >= this.#idleMs) {
          this.nlb.log.debug({ event: 'flow.idle_timeout' }, 'flow idle: reset');
          flow.reset();
        }
      }
      for (const connection of this.#handshakes) {
        if (now - connection.startedAtMs < this.#idleMs) continue;
        this.nlb.log.debug({ event: 'flow.handshake_timeout' }, 'TLS handshake not done within the idle timeout: reset');
        this.#metrics.elbResets?.inc();
        connection.reset('handshake_timeout');
      }
      this.#scheduleSweep();
    });
  }

  #onConnection(client: Socket): void {
    client.on('error', () => {});
    const termination = this.#termination;
    if (termination === undefined) {
      this.#route(client, client, undefined);
      return;
    }
    this.#metrics.newFlows?.inc();
    this.#metrics.activeFlows?.inc();
    this.#handshakes.add(termination.accept(client, this.#addresses(client), this.#tlsEvents));
  }

  /** The client and the listener address of an accepted connection. */
  #addresses(client: Socket): { client: Endpoint; destination: Endpoint } {
    // The listener's own address when it is bound to one (no getsockname per connection).
    const wildcard = this.config.address === '0.0.0.0' || this.config.address === '::';
    return {
      client: { ip: plainIp(client.remoteAddress), port: client.remotePort ?? 0 },
      destination: { ip: wildcard ? plainIp(client.localAddress) : this.config.address, port: this.#port },
    };
  }

  /** Picks a target for a new flow and starts it; on TLS listeners `client` is the TLS socket over `clientTcp`. */
  #route(clientTcp: Socket, client: Socket, connection: TlsConnection | undefined): void {
    const nlb = this.nlb;
    const addresses = connection ?? this.#addresses(clientTcp);
    const clientIp = addresses.client.ip;
    const clientPort = addresses.client.port;
    const localIp = addresses.destination.ip;
    const localPort = addresses.destination.port;
    // A per-connection value stands in for the TCP sequence number in the tuple.
    const hash = flowHash([connection ? 'TLS' : 'TCP', clientIp, clientPort, localIp, localPort, this.#nextSequence()]);
    let lease: Lease;
    try {
      lease = this.group.acquireFlow(clientIp, { flowHash: hash });
    } catch (err) {
      nlb.log.debug({ event: 'flow.refused', code: (err as ElbError).code }, 'no target for a new flow: reset');
      this.#metrics.elbResets?.inc();
      if (connection !== undefined) connection.failure = 'no_target';
      clientTcp.resetAndDestroy();
      return;
    }
    if (this.group.failingOpen) this.#metrics.unhealthyRouting?.inc();
    const target = lease.target;
    if (connection !== undefined) connection.target = { id: target.id, port: target.port };
    let localAddress: string | undefined;
    // Across address families the target sees the load balancer's address (spec 5.1 table:
    // an IPv6 client reaching an IPv4 target, and the reverse); binding would fail anyway.
    const settings = this.group.settings;
    if (settings.preserveClientIp && net.isIPv6(clientIp) === net.isIPv6(target.id)) {
      if (isLocalAddress(clientIp)) localAddress = clientIp;
      else nlb.warnOnce(clientIp, `client IP preservation: ${clientIp} is not an address of this machine, so targets see the load balancer's address instead (use proxy_protocol_v2.enabled to pass it)`);
    }
    const header = settings.proxyProtocolV2
        ? proxyHeader({ sourceAddress: clientIp, sourcePort: clientPort, destinationAddress: localIp, destinationPort: localPort })
        : undefined;
    const targetTls: TargetTls | undefined =
      this.group.config.protocol === 'TLS'
        ? { backend: nlb.tlsProvider.backend(this.config.sslPolicy, 'network'), alpn: connection?.alpnFrontEnd, clock: nlb.clock }
        : undefined;
    const flow = new TcpFlow({
      client,
      clientTcp,
      target,
      localAddress,
      lease,
      header,
      targetTls,
      connection,
      now: nlb.clock.now(),
      metrics: connection ? this.#tlsFlowMetrics : this.#metrics,
      pool: this.#pool,
      log: nlb.log,
      onDone: (f) => this.#flows.delete(f),
    });
    this.#flows.add(flow);
  }
}

interface UdpFlow {
  readonly key: string;
  readonly socket: dgram.Socket;
  readonly lease: Lease;
  readonly queue: Buffer[];
  bound: boolean;
  lastActiveAt: number;
  cancelIdle: () => void;
}

class UdpListener {
  readonly nlb: NetworkLoadBalancer;
  readonly config: ListenerConfig;
  readonly group: TargetGroup;
  #socket: dgram.Socket | undefined;
  readonly #flows = new Map<string, UdpFlow>();
  readonly #metrics: FlowMetrics;
  #port = 0;

  constructor(nlb: NetworkLoadBalancer, config: ListenerConfig, group: TargetGroup) {
    this.nlb = nlb;
    this.config = config;
    this.group = group;
    this.#metrics = flowMetrics(nlb, 'UDP', group);
  }

  get port(): number {
    return this.#port;
  }

  async listen(port = this.config.port): Promise<void> {
    const type = net.isIPv6(this.config.address) ? 'udp6' : 'udp4';
    const socket = dgram.createSocket({ type });
    this.#socket = socket;
    socket.on('message', (msg, rinfo) => this.#onMessage(msg, rinfo));
    const where = `load balancer ${this.nlb.name} on UDP ${this.config.address}:${port}`;
    await bindListener(socket, (done) => socket.bind(port, this.config.address, done), where, this.nlb.log);
    this.#port = socket.address().port;
    this.nlb.log.info({ event: 'listener.started', protocol: 'UDP', port: this.#port }, `UDP listener on ${this.config.address}:${this.#port}`);
  }

  async close(): Promise<void> {
    for (const flow of [...this.#flows.values()]) this.#end(flow);
    const socket = this.#socket;
    this.#socket = undefined;
    if (socket) await new Promise<void>((r) => socket.close(() => r()));
  }

  #onMessage(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const nlb = this.nlb;
    const key = `${rinfo.address}:${rinfo.port}`;
    let flow = this.#flows.get(key);
    if (flow === undefined) {
      const hash = flowHash(['UDP', rinfo.address, rinfo.port, this.config.address, this.#port]);
      let lease: Lease;
      try {
        lease = this.group.acquireFlow(plainIp(rinfo.address), { flowHash: hash });
      } catch {
        return; // no target: the datagram is dropped
      }
      const target = lease.target;
      const socket = dgram.createSocket({ type: net.isIPv6(target.id) ? 'udp6' : 'udp4' });
      const created: UdpFlow = { key, socket, lease, queue: [msg], bound: false, lastActiveAt: nlb.clock.now(), cancelIdle: () => {} };
      flow = created;
      this.#flows.set(key, created);
      this.#metrics.newFlows?.inc();
      this.#metrics.activeFlows?.inc();
      if (this.group.failingOpen) this.#metrics.unhealthyRouting?.inc();
      lease.onCut(() => this.#end(created));
      socket.on('message', (reply, from) => {
        if (from.port !== target.port || plainIp(from.address) !== target.id) return; // only the target answers this flow
        created.lastActiveAt = nlb.clock.now();
        this.#metrics.processedBytes?.inc(reply.length);
        this.#socket?.send(reply, rinfo.port, rinfo.address);
      });
      socket.on('error', (err) => nlb.log.debug({ err }, 'UDP flow error'));
      // UDP target groups always preserve the client's address (spec 4.5): bind to it when it
      // is an address of this machine.
      const preserve = isLocalAddress(rinfo.address) && net.isIPv6(rinfo.address) === net.isIPv6(target.id);
      if (!preserve) nlb.warnOnce(rinfo.address, `client IP preservation: ${rinfo.address} is not an address of this machine; targets see the load balancer's address`);
      socket.bind({ port: 0, ...(preserve ? { address: rinfo.address } : {}) }, () => {
        created.bound = true;
        for (const m of created.queue.splice(0)) socket.send(m, target.port, target.id);
      });
      this.#scheduleIdle(created);
    } else {
      flow.lastActiveAt = nlb.clock.now();
      if (flow.bound) flow.socket.send(msg, flow.lease.target.port, flow.lease.target.id);
      else flow.queue.push(msg);
    }
    this.#metrics.processedBytes?.inc(msg.length);
  }

  #scheduleIdle(flow: UdpFlow): void {
    const periodMs = UDP_IDLE_TIMEOUT_MS / 10;
    flow.cancelIdle = this.nlb.clock.setTimer(periodMs, () => {
      if (this.#flows.get(flow.key) !== flow) return;
      if (this.nlb.clock.now() - flow.lastActiveAt >= UDP_IDLE_TIMEOUT_MS) this.#end(flow);
      else this.#scheduleIdle(flow);
    });
  }

  #end(flow: UdpFlow): void {
    if (this.#flows.get(flow.key) !== flow) return;
    this.#flows.delete(flow.key);
    flow.cancelIdle();
    flow.lease.release();
    this.#metrics.activeFlows?.dec();
    try {
      flow.socket.close();
    } catch {
      // already closed
    }
  }
}

/** A `TCP_UDP` listener: TCP and UDP on the same port. */
class TcpUdpListener {
  readonly config: ListenerConfig;
  readonly group: TargetGroup;
  readonly #tcp: TcpListener;
  readonly #udp: UdpListener;

  constructor(nlb: NetworkLoadBalancer, config: ListenerConfig, group: TargetGroup, id: string) {
    this.config = config;
    this.group = group;
    this.#tcp = new TcpListener(nlb, config, group, id);
    this.#udp = new UdpListener(nlb, config, group);
  }

  get port(): number {
    return this.#tcp.port;
  }

  async listen(port = this.config.port): Promise<void> {
    await this.#tcp.listen(port);
    await this.#udp.listen(this.#tcp.port);
  }

  async close(graceMs: number): Promise<void> {
    await Promise.all([this.#tcp.close(graceMs), this.#udp.close()]);
  }
}
