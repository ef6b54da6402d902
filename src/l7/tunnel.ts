/**
 * A WebSocket after its upgrade (spec 7.3, 12.5): the client and target connections joined as
 * one byte stream each way, with back-pressure (a slow reader pauses the other side), the idle
 * timeout on bytes either way (frames are not parsed, so ping/pong keep it alive), half-close
 * passed on, and one report when it is over. Listener rules no longer apply to it.
 */
import type { Socket } from 'node:net';

export interface TunnelEnd {
  readonly socket: Socket;
  /** Bytes that arrived after the HTTP head, before the tunnel took the socket over. */
  readonly buffered: Buffer;
}

/** How the tunnel ended, with the bytes that went through it. */
export interface TunnelClosed {
  /** `closed`: either side closed; `timeout`: nothing for the idle timeout; `cut`: the load balancer closed it (draining, shutdown). */
  readonly why: 'closed' | 'timeout' | 'cut';
  readonly fromClientBytes: number;
  readonly toClientBytes: number;
}

export interface TunnelOptions {
  readonly client: TunnelEnd;
  readonly target: TunnelEnd;
  readonly now: () => number;
  readonly onClose: (closed: TunnelClosed) => void;
}

export class Tunnel {
  readonly #o: TunnelOptions;
  #lastActivityMs: number;
  #fromClient = 0;
  #toClient = 0;
  #done = false;
  #ended = 0;

  constructor(options: TunnelOptions) {
    this.#o = options;
    this.#lastActivityMs = options.now();
    const { client, target } = options;
    this.#pump(client.socket, target.socket, (n) => (this.#fromClient += n));
    this.#pump(target.socket, client.socket, (n) => (this.#toClient += n));
    if (client.buffered.length > 0) this.#forward(client.buffered, target.socket, client.socket, (n) => (this.#fromClient += n));
    if (target.buffered.length > 0) this.#forward(target.buffered, client.socket, target.socket, (n) => (this.#toClient += n));
    client.socket.resume();
    target.socket.resume();
  }

  get closed(): boolean {
    return this.#done;
  }

  /** The idle timeout: no byte either way for `idleTimeoutMs` closes both sides. */
  checkIdle(now: number, idleTimeoutMs: number): void {
    if (!this.#done && now - this.#lastActivityMs >= idleTimeoutMs) this.#finish('timeout');
  }

  /** Closes both sides now (the target's deregistration delay ended; the listener is shutting down). */
  close(): void {
    this.#finish('cut');
  }

  #pump(from: Socket, to: Socket, count: (n: number) => void): void {
    from.on('data', (chunk: Buffer) => this.#forward(chunk, to, from, count));
    from.on('end', () => {
      // Half-close passes on; when both halves have ended the tunnel is over.
      if (++this.#ended === 2) this.#finish('closed');
      else if (!to.destroyed) to.end();
    });
    from.on('error', () => this.#finish('closed'));
    from.on('close', () => this.#finish('closed'));
  }

  #forward(chunk: Buffer, to: Socket, from: Socket, count: (n: number) => void): void {
    if (this.#done) return;
    this.#lastActivityMs = this.#o.now();
    count(chunk.length);
    if (!to.write(chunk)) {
      from.pause();
      to.once('drain', () => {
        this.#lastActivityMs = this.#o.now();
        if (!this.#done) from.resume();
      });
    }
  }

  #finish(why: TunnelClosed['why']): void {
    if (this.#done) return;
    this.#done = true;
    const { client, target } = this.#o;
    if (why === 'closed') {
      // Let what was written reach the other side before the sockets go.
      client.socket.end();
      target.socket.end();
      client.socket.destroySoon();
      target.socket.destroySoon();
    } else {
      client.socket.destroy();
      target.socket.destroy();
    }
    this.#o.onClose({ why, fromClientBytes: this.#fromClient, toClientBytes: this.#toClient });
  }
}
