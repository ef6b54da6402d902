/**
 * A target on 127.0.0.1:0 written on node:net that records each request exactly as the load
 * balancer wrote it (request line, headers in order, body), on which connection it came and
 * whether the load balancer closed that connection, and answers `200` with `seen <method>
 * <target>`. For what node:http would refuse before a test sees it (methods llhttp does not
 * know, odd header names), and for desync mitigation's connection fates (spec 13.1.1). It reads
 * what the load balancer sends: a Content-Length or chunked body, or none.
 */
import net, { type AddressInfo, type Socket } from 'node:net';

export interface RecordedRequest {
  readonly method: string;
  readonly target: string;
  readonly version: string;
  /** `[name, value, …]` in order, as written. */
  readonly headers: readonly string[];
  readonly body: string;
  /** Which connection it came on: 1 for the first the target accepted, then 2, … */
  readonly connection: number;
}

export interface RecordingTarget {
  readonly port: number;
  /** Requests other than health checks, in arrival order. */
  readonly requests: RecordedRequest[];
  /** Connections (by number) that the load balancer has closed. */
  readonly closedConnections: ReadonlySet<number>;
  /** The first value of header `name` (any case) of a recorded request. */
  header(request: RecordedRequest, name: string): string | undefined;
  close(): Promise<void>;
}

export async function startRecordingTarget(options: { healthPath?: string } = {}): Promise<RecordingTarget> {
  const healthPath = options.healthPath ?? '/healthz';
  const sockets = new Set<Socket>();
  const requests: RecordedRequest[] = [];
  const closedConnections = new Set<number>();
  let connections = 0;
  const server = net.createServer((socket) => {
    const connection = ++connections;
    sockets.add(socket);
    socket.on('close', () => {
      sockets.delete(socket);
      closedConnections.add(connection);
    });
    socket.on('error', () => {});
    socket.setEncoding('latin1');
    let buffered = '';
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      for (;;) {
        const parsed = takeRequest(buffered);
        if (parsed === undefined) return;
        buffered = buffered.slice(parsed.length);
        const { request, close } = parsed;
        const answer = request.target === healthPath ? 'ok' : `seen ${request.method} ${request.target}`;
        if (request.target !== healthPath) requests.push({ ...request, connection });
        socket.write(`HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(answer, 'latin1')}\r\n${close ? 'Connection: close\r\n' : ''}\r\n${answer}`, 'latin1');
        if (close) {
          socket.end();
          return;
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    closedConnections,
    header: (request, name) => {
      for (let i = 0; i < request.headers.length; i += 2) if (request.headers[i]!.toLowerCase() === name.toLowerCase()) return request.headers[i + 1];
      return undefined;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** One whole request at the start of `data`, or undefined while it is incomplete. */
function takeRequest(data: string): { request: Omit<RecordedRequest, 'connection'>; close: boolean; length: number } | undefined {
  const headEnd = data.indexOf('\r\n\r\n');
  if (headEnd < 0) return undefined;
  const [line = '', ...lines] = data.slice(0, headEnd).split('\r\n');
  const first = line.indexOf(' ');
  const last = line.lastIndexOf(' ');
  const headers: string[] = [];
  for (const l of lines) {
    const colon = l.indexOf(':');
    headers.push(l.slice(0, colon), l.slice(colon + 1).trim());
  }
  const value = (name: string) => {
    for (let i = 0; i < headers.length; i += 2) if (headers[i]!.toLowerCase() === name) return headers[i + 1];
    return undefined;
  };
  let at = headEnd + 4;
  let body = '';
  if (/chunked/i.test(value('transfer-encoding') ?? '')) {
    for (;;) {
      const sizeEnd = data.indexOf('\r\n', at);
      if (sizeEnd < 0) return undefined;
      const size = parseInt(data.slice(at, sizeEnd), 16);
      if (size === 0) {
        if (data.length < sizeEnd + 4) return undefined;
        at = sizeEnd + 4;
        break;
      }
      if (data.length < sizeEnd + 2 + size + 2) return undefined;
      body += data.slice(sizeEnd + 2, sizeEnd + 2 + size);
      at = sizeEnd + 2 + size + 2;
    }
  } else {
    const length = Number(value('content-length') ?? 0);
    if (data.length < at + length) return undefined;
    body = data.slice(at, at + length);
    at += length;
  }
  return {
    request: { method: line.slice(0, first), target: line.slice(first + 1, last), version: line.slice(last + 1), headers, body },
    close: /close/i.test(value('connection') ?? ''),
    length: at,
  };
}
