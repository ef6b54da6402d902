/**
 * One raw HTTP/1.1 client connection over node:net that reads responses one at a time, for
 * tests that must see what came back on a connection and whether the server then closed it:
 * keep-alive after a refused request, a response cut after its head, smuggling attempts
 * followed by a second request on the same connection. See raw-http.ts for one-shot exchanges.
 */
import net from 'node:net';
import { parseRawResponse, type RawResponse } from './raw-http.ts';

/** How the connection ended, as the client saw it. */
export interface RawClose {
  /** The server sent FIN (a clean close) rather than a reset. */
  readonly endedByServer: boolean;
  /** The socket error code, e.g. `ECONNRESET`. */
  readonly error: string | undefined;
}

/** A response whose body was cut: its head, and the body bytes that came before the close. */
export interface CutResponse {
  readonly head: RawResponse;
  readonly bodyBytes: number;
}

export interface RawConnection {
  write(bytes: string | Buffer): void;
  /** The next complete response (Content-Length or chunked, decoded); rejects if the connection closes first. */
  readResponse(options?: { timeoutMs?: number }): Promise<RawResponse>;
  /** The next response head, and the body bytes read until the server closed the connection. */
  readUntilClose(options?: { timeoutMs?: number }): Promise<CutResponse>;
  /** Resolves once the connection has closed; rejects after `timeoutMs` if it stays open. */
  closed(options?: { timeoutMs?: number }): Promise<RawClose>;
  readonly isClosed: boolean;
  /** Bytes received and not yet taken by `readResponse`. */
  readonly unread: string;
  destroy(): void;
}

/** Where one response ends in `data` (latin1), or undefined while incomplete. */
function responseEnd(data: string): { headEnd: number; end: number | 'close' } | undefined {
  const headEnd = data.indexOf('\r\n\r\n');
  if (headEnd < 0) return undefined;
  const head = parseRawResponse(data.slice(0, headEnd + 4));
  const bodyStart = headEnd + 4;
  if (head.status === 204 || head.status === 304 || (head.status >= 100 && head.status < 200)) return { headEnd, end: bodyStart };
  if (/chunked/i.test(head.headers['transfer-encoding'] ?? '')) {
    let at = bodyStart;
    for (;;) {
      const lineEnd = data.indexOf('\r\n', at);
      if (lineEnd < 0) return undefined;
      const size = parseInt(data.slice(at, lineEnd), 16);
      if (Number.isNaN(size)) throw new Error(`bad chunk size line ${JSON.stringify(data.slice(at, lineEnd))}`);
      if (size === 0) {
        const trailerEnd = data.indexOf('\r\n\r\n', lineEnd);
        if (trailerEnd >= 0) return { headEnd, end: trailerEnd + 4 };
        return data.startsWith('\r\n', lineEnd + 2) ? { headEnd, end: lineEnd + 4 } : undefined;
      }
      at = lineEnd + 2 + size + 2;
      if (at > data.length) return undefined;
    }
  }
  const length = head.headers['content-length'];
  if (length !== undefined) {
    const end = bodyStart + Number(length);
    return end <= data.length ? { headEnd, end } : undefined;
  }
  return { headEnd, end: 'close' };
}

/** The data of a complete chunked body (extensions and trailers dropped). */
function dechunk(body: string): string {
  let out = '';
  for (let at = 0; ; ) {
    const lineEnd = body.indexOf('\r\n', at);
    const size = parseInt(body.slice(at, lineEnd), 16);
    if (!(size > 0)) return out;
    out += body.slice(lineEnd + 2, lineEnd + 2 + size);
    at = lineEnd + 2 + size + 2;
  }
}

/** Connects to the listener at `url` (http://127.0.0.1:port) and resolves once connected. */
export function openRawConnection(url: string): Promise<RawConnection> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: hostname, port: Number(port) });
    let data = '';
    let closed = false;
    let ended = false;
    let error: string | undefined;
    const listeners = new Set<() => void>();
    const notify = () => {
      for (const fn of [...listeners]) fn();
    };
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      data += chunk;
      notify();
    });
    socket.on('end', () => (ended = true));
    socket.on('error', (err: NodeJS.ErrnoException) => (error = err.code ?? err.message));
    socket.on('close', () => {
      closed = true;
      notify();
    });

    /** Calls `check` on every event until it returns a value, or rejects after `timeoutMs`. */
    const until = <T>(what: string, timeoutMs: number, check: () => T | undefined): Promise<T> =>
      new Promise((res, rej) => {
        const tryNow = () => {
          let value: T | undefined;
          try {
            value = check();
          } catch (err) {
            done();
            rej(err);
            return;
          }
          if (value === undefined) return;
          done();
          res(value);
        };
        const timer = setTimeout(() => {
          done();
          rej(new Error(`${what} within ${timeoutMs} ms; connection ${closed ? 'closed' : 'open'}, unread: ${JSON.stringify(data.slice(0, 300))}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          listeners.delete(tryNow);
        };
        listeners.add(tryNow);
        tryNow();
      });

    const connection: RawConnection = {
      write: (bytes) => void (typeof bytes === 'string' ? socket.write(bytes, 'latin1') : socket.write(bytes)),
      readResponse: ({ timeoutMs = 5_000 } = {}) =>
        until('no complete response', timeoutMs, () => {
          const at = responseEnd(data);
          if (at === undefined || (at.end === 'close' && !closed)) {
            if (closed) throw new Error(`connection closed before a complete response; received ${JSON.stringify(data.slice(0, 300))}`);
            return undefined;
          }
          const end = at.end === 'close' ? data.length : at.end;
          const response = parseRawResponse(data.slice(0, end));
          data = data.slice(end);
          return /chunked/i.test(response.headers['transfer-encoding'] ?? '') ? { ...response, body: dechunk(response.body) } : response;
        }),
      readUntilClose: ({ timeoutMs = 5_000 } = {}) =>
        until('no close after a response head', timeoutMs, () => {
          if (!closed) return undefined;
          const headEnd = data.indexOf('\r\n\r\n');
          if (headEnd < 0) throw new Error(`connection closed before a response head; received ${JSON.stringify(data.slice(0, 300))}`);
          const cut = { head: parseRawResponse(data.slice(0, headEnd + 4)), bodyBytes: data.length - headEnd - 4 };
          data = '';
          return cut;
        }),
      closed: ({ timeoutMs = 5_000 } = {}) => until('the connection did not close', timeoutMs, () => (closed ? { endedByServer: ended, error } : undefined)),
      get isClosed() {
        return closed;
      },
      get unread() {
        return data;
      },
      destroy: () => socket.destroy(),
    };
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(connection);
    });
  });
}
