/**
 * The load generator's HTTP/1.1 client: raw keep-alive sockets and a small response parser
 * (Content-Length or chunked), about a third of undici's CPU per request on the 2-core box the
 * lab is measured on, so the generator takes less of the machine it shares with the proxy.
 *
 * Open loop: `send` never waits for an answer. It takes the most recently idle connection, or
 * opens a new one when every connection is busy, so a slow answer holds back no other request;
 * only past `maxConnections` does a request wait in the client for a connection to come free
 * (as with wrk2's fixed connections: its `writtenMs` says how late it went out, and the caller
 * counts its latency from when it was due). The cap keeps a system that has fallen behind from
 * being buried under new connections as well. A connection idle longer than `keepAliveMs` is
 * closed rather than reused (before the ALB's idle timeout closes it under a request).
 */
import net from 'node:net';

/** How one request ended: an HTTP status, or no answer and why. */
export interface Answer {
  /** 0 when there was no answer. */
  readonly status: number;
  /** `ECONNREFUSED`, `ECONNRESET`, `closed` (the peer closed mid-answer), `timeout`, `connect-timeout`. */
  readonly errorCode: string | null;
  /** The value of the header `recordHeader` asked for, if the answer had it. */
  readonly header: string | null;
  /** When the request was written to a connection (`now()`); a request that waited for a connection went out late. */
  readonly writtenMs: number;
}

export interface OpenLoopClientOptions {
  readonly host: string;
  readonly port: number;
  /** A request with no complete answer after this is abandoned (`timeout`) and its connection closed. */
  readonly timeoutMs: number;
  readonly keepAliveMs: number;
  readonly connectTimeoutMs?: number;
  /** Lower-case name of a response header to report (`x-lab-target`). */
  readonly recordHeader?: string;
  /** Connections open at once, at most (default 256). */
  readonly maxConnections?: number;
  /** The clock of `writtenMs` (default `performance.now`). */
  readonly now?: () => number;
}

const CRLF2 = Buffer.from('\r\n\r\n');

/** Where the response that starts `buf` ends (-1: incomplete), with its status, its recorded header, and whether the peer will close. */
function parseResponse(buf: Buffer, recordHeader: string | undefined): { end: number; status: number; header: string | null; close: boolean } | undefined {
  const head = buf.indexOf(CRLF2);
  if (head < 0) return undefined;
  const text = buf.toString('latin1', 0, head);
  const status = Number(text.slice(9, 12));
  let length = -1;
  let chunked = false;
  let close = text.startsWith('HTTP/1.0');
  let header: string | null = null;
  for (const line of text.split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'content-length') length = Number(value);
    else if (name === 'transfer-encoding') chunked = /chunked/i.test(value);
    else if (name === 'connection') close = /close/i.test(value);
    if (name === recordHeader) header = value;
  }
  const bodyStart = head + 4;
  if (!chunked) {
    const noBody = status === 204 || status === 304 || (status >= 100 && status < 200);
    const end = bodyStart + (noBody ? 0 : Math.max(0, length));
    if (length < 0 && !noBody) return { end: -2, status, header, close: true }; // read to close
    return buf.length >= end ? { end, status, header, close } : { end: -1, status, header, close };
  }
  let at = bodyStart;
  for (;;) {
    const lineEnd = buf.indexOf('\r\n', at);
    if (lineEnd < 0) return { end: -1, status, header, close };
    const size = parseInt(buf.toString('latin1', at, lineEnd), 16);
    if (Number.isNaN(size)) throw new Error(`bad chunk size line: ${JSON.stringify(buf.toString('latin1', at, lineEnd))}`);
    if (size === 0) {
      const trailerEnd = buf.indexOf(CRLF2, lineEnd);
      return trailerEnd < 0 ? { end: -1, status, header, close } : { end: trailerEnd + 4, status, header, close };
    }
    at = lineEnd + 2 + size + 2;
    if (buf.length < at) return { end: -1, status, header, close };
  }
}

class Connection {
  readonly socket: net.Socket;
  idleSinceMs = 0;
  #received: Buffer = Buffer.alloc(0);
  #pending: ((answer: Answer) => void) | undefined;
  #writtenMs = 0;
  #timer: NodeJS.Timeout | undefined;
  #connected = false;
  #closed = false;
  readonly #client: OpenLoopClient;

  constructor(client: OpenLoopClient, o: OpenLoopClientOptions) {
    this.#client = client;
    this.socket = net.connect({ host: o.host, port: o.port, noDelay: true });
    const connectTimer = setTimeout(() => this.#fail('connect-timeout'), o.connectTimeoutMs ?? 10_000);
    this.socket.once('connect', () => {
      this.#connected = true;
      clearTimeout(connectTimer);
    });
    this.socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    this.socket.on('error', (err: NodeJS.ErrnoException) => this.#fail(err.code ?? 'error'));
    this.socket.on('close', () => {
      clearTimeout(connectTimer);
      this.#fail(this.#connected ? 'closed' : 'ECONNREFUSED');
    });
  }

  get busy(): boolean {
    return this.#pending !== undefined;
  }

  get closed(): boolean {
    return this.#closed;
  }

  send(request: Buffer, timeoutMs: number, writtenMs: number, done: (answer: Answer) => void): void {
    this.#pending = done;
    this.#writtenMs = writtenMs;
    this.#timer = setTimeout(() => this.#fail('timeout'), timeoutMs);
    this.socket.write(request);
  }

  close(): void {
    this.#closed = true;
    this.socket.destroy();
  }

  #onData(chunk: Buffer): void {
    this.#received = this.#received.length === 0 ? chunk : Buffer.concat([this.#received, chunk]);
    if (this.#pending === undefined) return;
    const r = parseResponse(this.#received, this.#client.recordHeader);
    if (r === undefined || r.end === -1) return;
    if (r.end === -2) return; // no length: the answer ends when the peer closes (handled in #fail)
    this.#received = r.end === this.#received.length ? Buffer.alloc(0) : this.#received.subarray(r.end);
    this.#answer({ status: r.status, errorCode: null, header: r.header, writtenMs: this.#writtenMs });
    if (r.close) this.close();
    else this.#client.release(this);
  }

  #answer(answer: Answer): void {
    const done = this.#pending;
    this.#pending = undefined;
    clearTimeout(this.#timer);
    done?.(answer);
  }

  #fail(code: string): void {
    if (this.#pending !== undefined) {
      // An answer without a length ends at the close.
      const r = code === 'closed' ? parseResponse(this.#received, this.#client.recordHeader) : undefined;
      if (r !== undefined && r.end === -2) this.#answer({ status: r.status, errorCode: null, header: r.header, writtenMs: this.#writtenMs });
      else this.#answer({ status: 0, errorCode: code, header: null, writtenMs: this.#writtenMs });
    }
    if (!this.#closed) this.close();
  }
}

export class OpenLoopClient {
  readonly recordHeader: string | undefined;
  readonly #o: OpenLoopClientOptions;
  readonly #max: number;
  readonly #now: () => number;
  readonly #idle: Connection[] = [];
  readonly #all = new Set<Connection>();
  /** Requests waiting for a connection (only past maxConnections), in order. */
  readonly #waiting: { readonly request: Buffer; readonly done: (answer: Answer) => void }[] = [];
  #peak = 0;
  #waited = 0;
  #closed = false;

  constructor(options: OpenLoopClientOptions) {
    this.#o = options;
    this.#max = options.maxConnections ?? 256;
    this.#now = options.now ?? (() => performance.now());
    this.recordHeader = options.recordHeader;
  }

  /** The most connections open at once. */
  get peakConnections(): number {
    return this.#peak;
  }

  /** Requests that had to wait for a connection (all were open and busy). */
  get waited(): number {
    return this.#waited;
  }

  /** Sends `request` (a whole HTTP/1.1 request) now, on an idle connection or a new one. */
  send(request: Buffer, done: (answer: Answer) => void): void {
    const conn = this.#idleConnection() ?? (this.#all.size < this.#max ? this.#open() : undefined);
    if (conn === undefined) {
      this.#waited++;
      this.#waiting.push({ request, done });
      return;
    }
    conn.send(request, this.#o.timeoutMs, this.#now(), done);
  }

  /** A connection whose answer is complete takes the next waiting request, or goes back to the idle stack. */
  release(conn: Connection): void {
    const next = this.#waiting.shift();
    if (next !== undefined) return conn.send(next.request, this.#o.timeoutMs, this.#now(), next.done);
    conn.idleSinceMs = performance.now();
    this.#idle.push(conn);
  }

  close(): void {
    this.#closed = true;
    for (const c of this.#all) c.close();
    this.#idle.length = 0;
  }

  #idleConnection(): Connection | undefined {
    const now = performance.now();
    let conn: Connection | undefined;
    while ((conn = this.#idle.pop()) !== undefined) {
      if (!conn.closed && now - conn.idleSinceMs <= this.#o.keepAliveMs) return conn;
      conn.close();
    }
    return undefined;
  }

  #open(): Connection {
    const conn = new Connection(this, this.#o);
    this.#all.add(conn);
    conn.socket.once('close', () => {
      this.#all.delete(conn);
      // A closed connection makes room for a waiting request.
      const next = this.#closed ? undefined : this.#waiting.shift();
      if (next !== undefined) this.send(next.request, next.done);
    });
    if (this.#all.size > this.#peak) this.#peak = this.#all.size;
    return conn;
  }
}

/** A GET request with these headers, as bytes. */
export function getRequest(url: URL, headers: Readonly<Record<string, string>>): Buffer {
  const lines = [`GET ${url.pathname}${url.search} HTTP/1.1`, `Host: ${url.host}`, 'User-Agent: local-elb-lab', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
}
