/**
 * Real HTTP targets on 127.0.0.1, port 0, for integration tests. Each answers with its own
 * name, records what it saw, and can be told to fail health checks, hang or reset.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';

export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly rawHeaders: string[];
  readonly remoteAddress: string;
  /** The ELB-side port of the connection it came on: equal ports mean a reused connection. */
  readonly remotePort: number;
  /** An HTTPS target: the TLS version and the SNI name the load balancer sent (false: none). */
  readonly tls?: { readonly protocol: string | null; readonly servername: string | false | null };
}

export interface TestTarget {
  readonly name: string;
  readonly port: number;
  readonly seen: SeenRequest[];
  /** How many times the health path was requested. */
  readonly healthChecks: number;
  /** Status the health path answers (200 by default). */
  healthStatus: number;
  /** Replaces the normal handler for non-health requests. */
  handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  readonly open: number;
  close(): Promise<void>;
}

/** `https`: serve HTTPS with these options (certificate, key, versions) instead of HTTP. */
export async function startTarget(name: string, options: { healthPath?: string; https?: https.ServerOptions } = {}): Promise<TestTarget> {
  const healthPath = options.healthPath ?? '/healthz';
  const sockets = new Set<Socket>();
  const target: TestTarget & { healthStatus: number; healthChecks: number } = {
    name,
    port: 0,
    seen: [],
    healthChecks: 0,
    healthStatus: 200,
    handler: undefined,
    get open() {
      return sockets.size;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    if (req.url === healthPath) {
      target.healthChecks++;
      res.writeHead(target.healthStatus, { 'content-type': 'text/plain' });
      res.end('ok');
      return;
    }
    const secure = options.https !== undefined ? (req.socket as TLSSocket) : undefined;
    target.seen.push({
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      rawHeaders: req.rawHeaders,
      remoteAddress: req.socket.remoteAddress ?? '',
      remotePort: req.socket.remotePort ?? 0,
      ...(secure ? { tls: { protocol: secure.getProtocol(), servername: secure.servername } } : {}),
    });
    if (target.handler) return target.handler(req, res);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain', 'x-target': name });
      res.end(chunks.length > 0 ? `${name}:${Buffer.concat(chunks).toString()}` : name);
    });
  };
  const server = options.https !== undefined ? https.createServer(options.https, handle) : http.createServer(handle);
  server.keepAliveTimeout = 65_000;
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  (target as { port: number }).port = (server.address() as AddressInfo).port;
  return target;
}
