/**
 * A Network Load Balancer (spec 3.5, 4.2, 4.3, 5.1, 5.2): TCP and UDP listeners on this
 * machine; each new flow picks a target by a hash of its tuple and keeps it for life; the
 * client's address is preserved by binding the outbound socket to it (every 127.0.0.0/8
 * address is local), or announced with a Proxy Protocol v2 header. An NLB never answers on
 * its own: it resets.
 */
import dgram from 'node:dgram';
import net, { type AddressInfo, type Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import { randomInt } from 'node:crypto';
import { hostForUrl, plainIp } from '../core/addresses.ts';
import { realClock, type Clock } from '../core/clock.ts';
import { bindListener } from '../core/listen.ts';
import { ElbError, ErrorCodes } from '../core/errors.ts';
import { silentLogger, type Logger } from '../core/logger.ts';
import type { ElbMetrics } from '../core/metrics.ts';
import type { ListenerConfig, LoadBalancerConfig } from '../config/schema.ts';
import { flowHash } from '../algorithms/index.ts';
import { tcpListenerSettings } from '../config/settings.ts';
import type { TargetGroup } from '../targets/target-group.ts';
import type { Lease } from '../targets/target.ts';
import { localProxyHeader, proxyHeader } from './proxy-protocol.ts';

/** UDP flows end after 120 s without a packet (spec 3.5; fixed in AWS). */
export const UDP_IDLE_TIMEOUT_MS = 120_000;

export interface NetworkLoadBalancerOptions {
  readonly config: LoadBalancerConfig;
  readonly targetGroups: ReadonlyMap<string, TargetGroup>;
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly metrics?: ElbMetrics;
}

/** Addresses this machine can bind: every loopback address and those of its interfaces. */
function isLocalAddress(ip: string): boolean {
  if (/^127\./.test(ip) || ip === '::1') return true;
  for (const list of Object.values(networkInterfaces())) for (const i of list ?? []) if (i.address === ip) return true;
  return false;
}

export class NetworkLoadBalancer {
  readonly name: string;
  readonly config: LoadBalancerConfig;
  readonly #groups: ReadonlyMap<string, TargetGroup>;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #metrics: ElbMetrics | undefined;
  readonly #listeners: Array<TcpListener | UdpListener | TcpUdpListener>;
  readonly #warned = new Set<string>();

  constructor(options: NetworkLoadBalancerOptions) {
    this.name = options.config.name;
    this.config = options.config;
    this.#groups = options.targetGroups;
    this.#clock = options.clock ?? realClock;
    this.#log = (options.logger ?? silentLogger()).child({ loadBalancer: this.name });
    this.#metrics = options.metrics;
    this.#listeners = options.config.listeners.map((l) => {
      const group = this.#group(l);
      if (l.protocol === 'UDP') return new UdpListener(this, l, group);
      if (l.protocol === 'TCP_UDP') return new TcpUdpListener(this, l, group);
      return new TcpListener(this, l, group);
    });
    for (const l of this.#listeners) {
      l.group.setHealthCheckEnvironment({
        // Before the listener is bound (the first check runs at registration) the configured
        // port is the best answer; only port 0 (ask the OS) is unknown until then.
        hostHeader: () => `${hostForUrl(l.config.address)}:${l.port || l.config.port}`,
        proxyProtocolHeader: localProxyHeader(),
      });
    }
  }

  targetGroupNames(): string[] {
    return [...new Set(this.config.listeners.map((l) => this.#groupName(l)))];
  }

  async start(): Promise<void> {
    try {
      for (const l of this.#listeners) await l.listen();
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  /** `tcp://address:port` (or `udp://`) of listener `index`, after start. */
  url(index = 0): string {
    const l = this.#listeners[index];
    if (l === undefined) throw new ElbError(ErrorCodes.NOT_FOUND, `load balancer ${this.name} has no listener ${index}`);
    return `${l.config.protocol === 'UDP' ? 'udp' : 'tcp'}://${hostForUrl(l.config.address)}:${l.port}`;
  }

  get ports(): number[] {
    return this.#listeners.map((l) => l.port);
  }

  attributes(): Readonly<Record<string, string>> {
    return { ...this.config.attributes };
  }

  modifyAttributes(changes: Readonly<Record<string, string>>): Readonly<Record<string, string>> {
    const keys = Object.keys(changes);
    if (keys.length > 0) {
      throw new ElbError(ErrorCodes.INVALID_ARGUMENT, `network load balancer attributes are not emulated yet: ${keys.join(', ')} (listener attributes such as tcp.idle_timeout.seconds go in the config)`);
    }
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
  get log(): Logger {
    return this.#log;
  }
  get metrics(): ElbMetrics | undefined {
    return this.#metrics;
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
}

/** The NLB metrics of one listener's flows, over counters bound once per load balancer and target group. */
function flowMetrics(nlb: NetworkLoadBalancer, protocol: 'TCP' | 'UDP', group: TargetGroup): FlowMetrics {
  const m = nlb.metrics;
  if (m === undefined) return {};
  const lb = m.loadBalancerCounters(nlb.name, 'network');
  const tg = m.targetGroupCounters(nlb.name, group.name);
  return {
    newFlows: { inc: () => void lb.newFlows[protocol]++ },
    activeFlows: { inc: () => void lb.activeFlows[protocol]++, dec: () => void lb.activeFlows[protocol]-- },
    processedBytes: { inc: (n) => void (lb.processedBytes += n) },
    clientResets: { inc: () => void lb.clientResets++ },
    targetResets: { inc: () => void lb.targetResets++ },
    elbResets: { inc: (n = 1) => void (lb.elbResets += n) },
    unhealthyRouting: { inc: () => void tg.unhealthyRouting++ },
  };
}

/**
 * One TCP connection through the NLB: the client side, the target side, and its lease.
 * Client→target bytes go through `pipe()`; target→client bytes are read straight into a pooled
 * buffer (`onread`) and written on, so the busy direction allocates nothing per read: a new
 * 64 KiB buffer per read costs a garbage collection every few dozen milliseconds at 1 GB/s.
 */
class TcpFlow {
  readonly #client: Socket;
  readonly #upstream: Socket;
  readonly #lease: Lease;
  readonly #metrics: FlowMetrics;
  readonly #pool: BufferPool;
  #buffer: Buffer;
  /** Idle tracking, read by the listener's sweep. */
  lastBytes = -1;
  lastActiveAt: number;
  #closed = 0;
  #done = false;
  readonly #onDone: (flow: TcpFlow) => void;

  constructor(o: {
    client: Socket;
    target: { id: string; port: number };
    localAddress: string | undefined;
    lease: Lease;
    header: Buffer | undefined;
    now: number;
    metrics: FlowMetrics;
    pool: BufferPool;
    log: Logger;
    onDone: (flow: TcpFlow) => void;
  }) {
    const { client, lease, metrics } = o;
    this.#client = client;
    this.#lease = lease;
    this.#metrics = metrics;
    this.#pool = o.pool;
    this.#onDone = o.onDone;
    this.#buffer = o.pool.take();
    this.lastActiveAt = o.now;
    const upstream = net.connect({
      host: o.target.id,
      port: o.target.port,
      allowHalfOpen: true,
      noDelay: true,
      ...(o.localAddress ? { localAddress: o.localAddress } : {}),
      onread: { buffer: () => this.#buffer, callback: (n: number, buf: Uint8Array) => this.#fromTarget(n, buf) },
    });
    this.#upstream = upstream;
    metrics.newFlows?.inc();
    metrics.activeFlows?.inc();

    lease.onCut((reason) => {
      o.log.debug({ event: 'flow.reset', reason: reason.code }, 'resetting a flow');
      this.reset();
    });
    if (o.header !== undefined) upstream.write(o.header);
    client.pipe(upstream);
    upstream.on('end', () => client.end());
    client.on('drain', () => upstream.resume());
    client.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNRESET') {
        metrics.clientResets?.inc();
        upstream.resetAndDestroy();
      } else upstream.destroy();
    });
    upstream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNRESET' || err.code === 'ECONNREFUSED') metrics.targetResets?.inc();
      // A reset from the target, or no connection to it at all (refused, unreachable, timed
      // out): the client's connection is reset. Other failures close it.
      if (err.code === 'ECONNRESET' || upstream.connecting || upstream.bytesWritten === 0) client.resetAndDestroy();
      else client.destroy();
    });
    const onClose = () => {
      if (++this.#closed === 2) this.#finish();
    };
    client.once('close', onClose);
    upstream.once('close', onClose);
    client.resume();
  }

  /** Bytes moved either way so far. */
  get bytes(): number {
    return this.#client.bytesRead + this.#upstream.bytesRead;
  }

  #fromTarget(n: number, buf: Uint8Array): boolean {
    const client = this.#client;
    if (client.destroyed) return false;
    const more = client.write(buf.subarray(0, n));
    // A write the kernel did not take at once still holds the buffer: read into another one.
    if (client.writableLength > 0) this.#buffer = this.#pool.take();
    return more;
  }

  /** Resets both sides (the ELB's own RST: idle timeout, termination, unhealthy target). */
  reset(): void {
    if (this.#done) return;
    this.#metrics.elbResets?.inc(2);
    this.#client.resetAndDestroy();
    this.#upstream.resetAndDestroy();
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
    if (this.#client.writableLength === 0) this.#pool.give(this.#buffer);
    this.#metrics.activeFlows?.dec();
    this.#metrics.processedBytes?.inc(this.bytes);
    this.#onDone(this);
  }
}

/** A cheap xorshift stream standing in for TCP initial sequence numbers in the flow tuple. */
function sequenceNumbers(): () => number {
  let x = randomInt(1, 0x7fffffff);
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

class TcpListener {
  readonly nlb: NetworkLoadBalancer;
  readonly config: ListenerConfig;
  readonly group: TargetGroup;
  readonly #server: net.Server;
  readonly #flows = new Set<TcpFlow>();
  readonly #pool = new BufferPool();
  readonly #nextSequence = sequenceNumbers();
  readonly #idleMs: number;
  readonly #metrics: FlowMetrics;
  #cancelSweep: () => void = () => {};
  #port = 0;

  constructor(nlb: NetworkLoadBalancer, config: ListenerConfig, group: TargetGroup) {
    this.nlb = nlb;
    this.config = config;
    this.group = group;
    this.#idleMs = tcpListenerSettings(config.attributes).idleTimeoutMs;
    this.#server = net.createServer({ pauseOnConnect: true, allowHalfOpen: true, noDelay: true }, (client) => this.#onConnection(client));
    this.#metrics = flowMetrics(nlb, 'TCP', group);
  }

  get port(): number {
    return this.#port;
  }

  async listen(port = this.config.port): Promise<void> {
    const where = `load balancer ${this.nlb.name} on TCP ${this.config.address}:${port}`;
    await bindListener(this.#server, (done) => this.#server.listen(port, this.config.address, done), where, this.nlb.log);
    this.#port = (this.#server.address() as AddressInfo).port;
    this.nlb.log.info({ event: 'listener.started', protocol: 'TCP', port: this.#port }, `TCP listener on ${this.config.address}:${this.#port}`);
    this.#scheduleSweep();
  }

  async close(graceMs: number): Promise<void> {
    this.#cancelSweep();
    if (!this.#server.listening) return;
    const closed = new Promise<void>((r) => this.#server.close(() => r()));
    const deadline = Date.now() + graceMs;
    while (this.#flows.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const f of this.#flows) f.destroy();
    await closed;
  }

  /**
   * The idle timeout (spec 3.5) on the injected clock: every tenth of the timeout one sweep
   * looks at every flow; a flow that moved no byte either way for the whole timeout is reset.
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
      this.#scheduleSweep();
    });
  }

  #onConnection(client: Socket): void {
    const nlb = this.nlb;
    client.on('error', () => {});
    const clientIp = plainIp(client.remoteAddress);
    const clientPort = client.remotePort ?? 0;
    // The listener's own address when it is bound to one (no getsockname per connection).
    const wildcard = this.config.address === '0.0.0.0' || this.config.address === '::';
    const localIp = wildcard ? plainIp(client.localAddress) : this.config.address;
    const localPort = this.#port;
    // A per-connection value stands in for the TCP sequence number in the tuple.
    const hash = flowHash(['TCP', clientIp, clientPort, localIp, localPort, this.#nextSequence()]);
    let lease: Lease;
    try {
      lease = this.group.acquire({ flowHash: hash });
    } catch (err) {
      nlb.log.debug({ event: 'flow.refused', code: (err as ElbError).code }, 'no target for a new flow: reset');
      this.#metrics.elbResets?.inc();
      client.resetAndDestroy();
      return;
    }
    if (this.group.failingOpen) this.#metrics.unhealthyRouting?.inc();
    const target = lease.target;
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
    const flow = new TcpFlow({
      client,
      target,
      localAddress,
      lease,
      header,
      now: nlb.clock.now(),
      metrics: this.#metrics,
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
        lease = this.group.acquire({ flowHash: hash });
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

  constructor(nlb: NetworkLoadBalancer, config: ListenerConfig, group: TargetGroup) {
    this.config = config;
    this.group = group;
    this.#tcp = new TcpListener(nlb, config, group);
    this.#udp = new UdpListener(nlb, config, group);
  }

  get port(): number {
    return this.#tcp.port;
  }

  async listen(): Promise<void> {
    await this.#tcp.listen();
    await this.#udp.listen(this.#tcp.port);
  }

  async close(graceMs: number): Promise<void> {
    await Promise.all([this.#tcp.close(graceMs), this.#udp.close()]);
  }
}
