/**
 * A target on 127.0.0.1:0 written on node:net, for targets that break HTTP in ways node:http
 * will not: it answers its health path and `/ok` like a well-behaved keep-alive server, and
 * hands every other request to a script that may reset, hang, send garbage or a short body.
 * Requests are read head-only (GET without a body is all the load balancer sends here).
 */
import net, { type AddressInfo, type Socket } from 'node:net';

export interface RawRequest {
  readonly method: string;
  readonly path: string;
}

/** What to do with a request that is not a health check or `/ok`; the socket is the script's from then on. */
export type Misbehaviour = (socket: Socket, request: RawRequest) => void;

export interface RawTarget {
  readonly port: number;
  /** Request lines seen, health checks left out, e.g. `GET /fault`. */
  readonly requests: string[];
  /** Sockets handed to the script, in order. */
  readonly scripted: Socket[];
  /** Connections not closed yet (health checks included). */
  readonly open: number;
  close(): Promise<void>;
}

/** A complete keep-alive response with a Content-Length body. */
export function okResponse(body: string): string {
  return `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

export async function startRawTarget(misbehave: Misbehaviour, options: { healthPath?: string } = {}): Promise<RawTarget> {
  const healthPath = options.healthPath ?? '/healthz';
  const sockets = new Set<Socket>();
  const requests: string[] = [];
  const scripted: Socket[] = [];
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buffered = '';
    let handedOver = false;
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      if (handedOver) return;
      buffered += chunk;
      for (let end = buffered.indexOf('\r\n\r\n'); end >= 0 && !handedOver; end = buffered.indexOf('\r\n\r\n')) {
        const [method = '', path = ''] = buffered.slice(0, buffered.indexOf('\r\n')).split(' ');
        buffered = buffered.slice(end + 4);
        if (path === healthPath) {
          socket.write(okResponse('ok'));
          continue;
        }
        requests.push(`${method} ${path}`);
        if (path === '/ok' || path.startsWith('/ok/')) {
          socket.write(okResponse(`ok ${path}`));
          continue;
        }
        handedOver = true;
        scripted.push(socket);
        misbehave(socket, { method, path });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    scripted,
    get open() {
      return sockets.size;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
