/**
 * Raw HTTP/1.1 over node:net, for requests a well-behaved client refuses to send (malformed
 * request lines, odd transfer codings, hop-by-hop headers) and for reading exactly what the
 * load balancer wrote back.
 */
import net from 'node:net';

export interface RawResponse {
  readonly status: number;
  readonly statusLine: string;
  /** Header names in lower case; repeated headers joined with ", ". */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly raw: string;
}

/**
 * Writes `bytes` to the listener at `url` and resolves with everything read until the server
 * closes the connection (send `Connection: close`, or a request it must reject).
 */
export function rawExchange(url: string, bytes: string | Buffer, { timeoutMs = 5_000 } = {}): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = net.connect({ host: hostname, port: Number(port) }, () => socket.write(bytes));
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no end of response within ${timeoutMs} ms; read so far: ${JSON.stringify(Buffer.concat(chunks).toString('latin1'))}`));
    }, timeoutMs);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
  });
}

/** Splits one raw response (no chunked decoding; ELB pages carry Content-Length). */
export function parseRawResponse(raw: string): RawResponse {
  const end = raw.indexOf('\r\n\r\n');
  const head = end < 0 ? raw : raw.slice(0, end);
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? NaN);
  return { status, statusLine, headers, body: end < 0 ? '' : raw.slice(end + 4), raw };
}
