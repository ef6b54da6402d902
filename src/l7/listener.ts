/**
 * An ALB listener's sockets (spec 7.2): the TCP server, its client connections, the idle
 * sweep, and shutdown with a grace period. It owns sockets and nothing else: each connection
 * hands its requests to the pipeline with the listener's runtime.
 */
import net from 'node:net';
import { hostForUrl } from '../core/addresses.ts';
import { bindListener } from '../core/listen.ts';
import { ClientConnection, type ConnectionEvents } from './http1/client-connection.ts';
import { rawErrorResponse, statusForRejection } from './pipeline/answer.ts';
import type { ListenerRuntime } from './pipeline/context.ts';
import { handleRequest } from './pipeline/pipeline.ts';

/** Request line plus headers (spec 6.4). */
export const MAX_REQUEST_HEAD_BYTES = 64 * 1024;

export class Listener {
  readonly runtime: ListenerRuntime;
  readonly #configuredPort: number;
  readonly #server: net.Server;
  readonly #connections = new Set<ClientConnection>();
  readonly #events: ConnectionEvents;
  #cancelSweep: (() => void) | undefined;
  #closing = false;

  constructor(runtime: ListenerRuntime, configuredPort: number) {
    this.runtime = runtime;
    this.#configuredPort = configuredPort;
    this.#events = {
      request: (head, response, body, client) => handleRequest(runtime, head, response, body, client),
      reject: (rejection) => {
        const status = statusForRejection(rejection);
        runtime.counters.elbStatus[status]!++;
        return rawErrorResponse(status);
      },
    };
    this.#server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => this.#accept(socket));
  }

  get port(): number {
    return this.runtime.port;
  }

  get url(): string {
    return `${this.runtime.protocol}://${hostForUrl(this.runtime.address)}:${this.runtime.port}`;
  }

  /** Binds the listener; rejects with `ELB_ERR_LISTEN_FAILED` naming the address. */
  async listen(): Promise<void> {
    const { address, loadBalancer, log } = this.runtime;
    const where = `load balancer ${loadBalancer} on ${address}:${this.#configuredPort}`;
    await bindListener(this.#server, (done) => this.#server.listen(this.#configuredPort, address, done), where, log);
    this.runtime.port = (this.#server.address() as net.AddressInfo).port;
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
    const closed = new Promise<void>((resolve) => (this.#server.listening ? this.#server.close(() => resolve()) : resolve()));
    for (const c of this.#connections) c.close();
    const deadline = clock.now() + graceMs;
    while (this.#connections.size > 0 && clock.now() < deadline) {
      await new Promise<void>((resolve) => clock.setTimer(Math.min(20, deadline - clock.now()), resolve));
    }
    for (const c of this.#connections) c.close(true);
    this.#cancelSweep?.();
    await closed;
  }

  #accept(socket: net.Socket): void {
    if (this.#closing) {
      socket.destroy();
      return;
    }
    const counters = this.runtime.counters;
    counters.newConnections++;
    counters.activeConnections++;
    const connection = new ClientConnection(socket, {
      clock: this.runtime.clock,
      maxHeaderBytes: MAX_REQUEST_HEAD_BYTES,
      timeouts: () => this.runtime.settings,
      events: this.#events,
      onClose: (c) => {
        this.#connections.delete(c);
        counters.activeConnections--;
      },
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
      this.#scheduleSweep();
    });
  }
}
