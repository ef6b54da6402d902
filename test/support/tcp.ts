/**
 * Raw TCP and UDP peers for NLB integration tests, on real sockets: echo targets that record
 * who connected and what happened to each connection, and clients that can bind a loopback
 * source address (every 127.0.0.0/8 address is local on Linux).
 */
import dgram from 'node:dgram';
import net, { type AddressInfo, type Socket } from 'node:net';

/** One connection a target accepted, or one a client opened. */
export interface TcpPeer {
  readonly socket: Socket;
  /** Address and port of the other end as this side sees it. */
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** Everything received so far. */
  received: string;
  /** The other side half-closed (FIN). */
  ended: boolean;
  closed: boolean;
  /** The socket error code, e.g. `ECONNRESET`. */
  error: string | undefined;
}

function track(socket: Socket): TcpPeer {
  const peer: TcpPeer = {
    socket,
    remoteAddress: (socket.remoteAddress ?? '').replace(/^::ffff:/, ''),
    remotePort: socket.remotePort ?? 0,
    received: '',
    ended: false,
    closed: false,
    error: undefined,
  };
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (peer.received += chunk));
  socket.on('end', () => (peer.ended = true));
  socket.on('error', (err: NodeJS.ErrnoException) => (peer.error = err.code ?? err.message));
  socket.on('close', () => (peer.closed = true));
  return peer;
}

export interface TcpTarget {
  readonly name: string;
  readonly address: string;
  readonly port: number;
  /** Every connection accepted, health checks included. */
  readonly connections: TcpPeer[];
  /** Connections that carried data: the flows, without the TCP health checks. */
  readonly flows: TcpPeer[];
  /** Connections not closed yet. */
  readonly open: number;
  /** Stops accepting (a TCP health check then fails) and keeps the open connections. */
  stopListening(): void;
  close(): Promise<void>;
}

export interface TcpTargetOptions {
  readonly address?: string;
  /**
   * What to do when the client half-closes. Default: end our side too. The half-close test
   * writes a late reply first.
   */
  readonly onEnd?: (peer: TcpPeer) => void;
}

/** A TCP server that answers each chunk `c` with `<name>:<c>`. */
export async function startTcpTarget(name: string, options: TcpTargetOptions = {}): Promise<TcpTarget> {
  const address = options.address ?? '127.0.0.1';
  const connections: TcpPeer[] = [];
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    const peer = track(socket);
    connections.push(peer);
    socket.on('data', (chunk: string) => socket.writable && socket.write(`${name}:${chunk}`));
    socket.on('end', () => (options.onEnd ? options.onEnd(peer) : socket.end()));
  });
  let listening = true;
  await new Promise<void>((resolve) => server.listen(0, address, () => resolve()));
  const port = (server.address() as AddressInfo).port;
  const closed = new Promise<void>((resolve) => server.once('close', () => resolve()));
  const stopListening = () => {
    if (!listening) return;
    listening = false;
    server.close();
  };
  return {
    name,
    address,
    port,
    connections,
    get flows() {
      return connections.filter((c) => c.received.length > 0);
    },
    get open() {
      return connections.filter((c) => !c.closed).length;
    },
    stopListening,
    async close() {
      stopListening();
      for (const c of connections) c.socket.destroy();
      await closed;
    },
  };
}

export interface TcpClient extends TcpPeer {
  /**
   * Writes `message` and waits for its echo; returns what arrived for it (`<target>:<message>`),
   * so `exchange(m).split(':')[0]` names the target.
   */
  exchange(message: string): Promise<string>;
}

/** Connects to `port` on 127.0.0.1 (optionally from `localAddress`) and resolves once connected. */
export function connectClient(port: number, options: { localAddress?: string; allowHalfOpen?: boolean } = {}): Promise<TcpClient> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: options.allowHalfOpen ?? false, ...(options.localAddress ? { localAddress: options.localAddress } : {}) });
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      const peer = track(socket) as TcpClient;
      peer.exchange = (message: string) => waitForData(socket, () => peer.received, message);
      resolve(peer);
    });
  });
}

/**
 * Writes `message` and resolves with what arrived after it once that includes `message`; an
 * event wait (no polling, so hundreds of exchanges stay fast) with a deadline.
 */
function waitForData(socket: Socket, received: () => string, message: string, timeoutMs = 5_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const from = received().length;
    const done = () => {
      clearTimeout(deadline);
      socket.off('data', onData);
      socket.off('close', onClose);
    };
    const onData = () => {
      const got = received().slice(from);
      if (!got.includes(message)) return;
      done();
      resolve(got);
    };
    const onClose = () => {
      done();
      reject(new Error(`connection closed before the echo of ${JSON.stringify(message)}; received ${JSON.stringify(received().slice(from))}`));
    };
    const deadline = setTimeout(() => {
      done();
      reject(new Error(`no echo of ${JSON.stringify(message)} within ${timeoutMs} ms`));
    }, timeoutMs);
    // Registered after track()'s listener, so `received()` already holds the chunk.
    socket.on('data', onData);
    socket.on('close', onClose);
    socket.write(message);
  });
}

/** A plain TCP server for health checks only (e.g. `healthCheckPort` of a UDP target group). */
export async function startHealthPort(address = '127.0.0.1'): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
    s.end();
  });
  await new Promise<void>((resolve) => server.listen(0, address, () => resolve()));
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface UdpDatagram {
  readonly text: string;
  readonly address: string;
  readonly port: number;
}

export interface UdpTarget {
  readonly name: string;
  readonly port: number;
  readonly received: UdpDatagram[];
  close(): Promise<void>;
}

/** A UDP server that answers each datagram `d` with `<name>:<d>` to its sender (on `port`: beside a TCP server's number). */
export async function startUdpTarget(name: string, options: { readonly port?: number } = {}): Promise<UdpTarget> {
  const socket = dgram.createSocket('udp4');
  const received: UdpDatagram[] = [];
  socket.on('message', (msg, rinfo) => {
    received.push({ text: msg.toString(), address: rinfo.address, port: rinfo.port });
    socket.send(`${name}:${msg.toString()}`, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => socket.bind(options.port ?? 0, '127.0.0.1', () => resolve()));
  return {
    name,
    port: socket.address().port,
    received,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

export interface UdpClient {
  readonly port: number;
  readonly received: UdpDatagram[];
  /** Sends `message` and waits for the reply that carries it; returns the reply's text. */
  exchange(message: string): Promise<string>;
  close(): Promise<void>;
}

/** A UDP socket bound to `localAddress` (default 127.0.0.1) talking to 127.0.0.1:`port`. */
export async function startUdpClient(port: number, localAddress = '127.0.0.1'): Promise<UdpClient> {
  const socket = dgram.createSocket('udp4');
  const received: UdpDatagram[] = [];
  socket.on('message', (msg, rinfo) => received.push({ text: msg.toString(), address: rinfo.address, port: rinfo.port }));
  await new Promise<void>((resolve) => socket.bind(0, localAddress, () => resolve()));
  return {
    port: socket.address().port,
    received,
    exchange(message) {
      return new Promise((resolve, reject) => {
        const onMessage = (msg: Buffer) => {
          if (!msg.toString().endsWith(`:${message}`)) return;
          clearTimeout(deadline);
          socket.off('message', onMessage);
          resolve(msg.toString());
        };
        const deadline = setTimeout(() => {
          socket.off('message', onMessage);
          reject(new Error(`no reply to ${JSON.stringify(message)} within 5000 ms`));
        }, 5_000);
        socket.on('message', onMessage);
        socket.send(message, port, '127.0.0.1');
      });
    },
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

/**
 * A port on 127.0.0.1 that refuses connections for as long as it is held: the local port of a
 * connection this opens to a server of its own. While that connection is open the port is bound,
 * so nothing can listen on it (EADDRINUSE) and no `listen(0)` is given it; a port that was
 * listened on and closed, by contrast, is free for any process on the machine to take again.
 */
export async function refusedPort(): Promise<{ port: number; close(): Promise<void> }> {
  const accepted = new Set<Socket>();
  const server = net.createServer((s) => {
    accepted.add(s);
    s.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const holder = net.connect({ host: '127.0.0.1', port: (server.address() as AddressInfo).port });
  holder.on('error', () => {});
  await new Promise<void>((resolve, reject) => holder.once('connect', () => resolve()).once('error', reject));
  return {
    port: holder.localPort!,
    close: async () => {
      holder.destroy();
      for (const s of accepted) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
