/**
 * Keep-alive connections to targets, one pool per target (spec 7.2): a request takes the most
 * recently used idle connection (the one least likely to have been closed by the target) or
 * opens a new one; there is no limit per target, as on AWS. One sweep on the injected clock
 * checks every connection's connect and idle timeouts, so no timer is set per request.
 */
import type { Clock } from '../../core/clock.ts';
import { UpstreamConnection, type BackendTls, type UpstreamConnectionOwner, type UpstreamExchange, type UpstreamHandler, type UpstreamRequest } from './connection.ts';

/** Where a target listens. */
export interface UpstreamTarget {
  readonly key: string;
  readonly id: string;
  readonly port: number;
}

export interface TargetPoolsOptions {
  readonly clock: Clock;
  /** The idle timeout, read at every sweep (it follows `idle_timeout.timeout_seconds`). */
  readonly idleTimeoutMs: () => number;
}

class TargetPool implements UpstreamConnectionOwner {
  readonly host: string;
  readonly port: number;
  readonly tls: BackendTls | undefined;
  readonly #clock: Clock;
  readonly #idle: UpstreamConnection[] = [];
  readonly open = new Set<UpstreamConnection>();

  constructor(target: UpstreamTarget, clock: Clock, backend: BackendTls | undefined) {
    this.host = target.id;
    this.port = target.port;
    this.tls = backend;
    this.#clock = clock;
  }

  now(): number {
    return this.#clock.now();
  }

  request(request: UpstreamRequest, handler: UpstreamHandler): UpstreamExchange {
    let connection = this.#idle.pop();
    if (connection === undefined) {
      connection = new UpstreamConnection(this);
      this.open.add(connection);
    }
    return connection.send(request, handler);
  }

  released(connection: UpstreamConnection): void {
    this.#idle.push(connection);
  }

  closed(connection: UpstreamConnection): void {
    this.open.delete(connection);
    const i = this.#idle.lastIndexOf(connection);
    if (i >= 0) this.#idle.splice(i, 1);
  }

  destroy(): void {
    for (const c of [...this.open]) c.abort();
  }
}

/** The pools of every target a load balancer forwards to. */
export class TargetPools {
  readonly #pools = new Map<string, TargetPool>();
  readonly #o: TargetPoolsOptions;
  #cancelSweep: (() => void) | undefined;
  #closed = false;

  constructor(options: TargetPoolsOptions) {
    this.#o = options;
  }

  /** Sends a request to `target` on a pooled connection (TLS ones apart, per back-end policy). */
  request(target: UpstreamTarget, request: UpstreamRequest, handler: UpstreamHandler, backend?: BackendTls): UpstreamExchange {
    const key = backend === undefined ? target.key : `${target.key} ${backend.key}`;
    let pool = this.#pools.get(key);
    if (pool === undefined) {
      pool = new TargetPool(target, this.#o.clock, backend);
      this.#pools.set(key, pool);
      this.#scheduleSweep();
    }
    return pool.request(request, handler);
  }

  /** Open connections to target `key` (tests and tools), plaintext and TLS together. */
  openConnections(key: string): number {
    let n = 0;
    for (const [poolKey, pool] of this.#pools) if (poolKey === key || poolKey.startsWith(`${key} `)) n += pool.open.size;
    return n;
  }

  /** Closes the target's connections at once (it has been deregistered and drained). */
  drop(key: string): void {
    for (const [poolKey, pool] of [...this.#pools]) {
      if (poolKey !== key && !poolKey.startsWith(`${key} `)) continue;
      this.#pools.delete(poolKey);
      pool.destroy();
    }
  }

  close(): void {
    this.#closed = true;
    this.#cancelSweep?.();
    this.#cancelSweep = undefined;
    for (const pool of this.#pools.values()) pool.destroy();
    this.#pools.clear();
  }

  /** Every tenth of the idle timeout (at most a second, at least 10 ms). */
  #scheduleSweep(): void {
    if (this.#cancelSweep !== undefined || this.#closed) return;
    const idle = this.#o.idleTimeoutMs();
    const periodMs = Math.min(1000, Math.max(10, Math.floor(idle / 10)));
    this.#cancelSweep = this.#o.clock.setTimer(periodMs, () => {
      this.#cancelSweep = undefined;
      const now = this.#o.clock.now();
      const idleMs = this.#o.idleTimeoutMs();
      for (const pool of this.#pools.values()) for (const c of [...pool.open]) c.checkTimeouts(now, idleMs);
      if (this.#pools.size > 0) this.#scheduleSweep();
    });
  }
}
