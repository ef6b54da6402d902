/**
 * A Server-Sent Events client for tests, over a real HTTP connection: keeps every message it
 * received (event, id, parsed JSON data) and waits for one that matches, with a deadline.
 * Sends `Last-Event-ID` when asked, as EventSource does when it reconnects.
 */
import http from 'node:http';
import { waitFor } from './wait.ts';

export interface SseMessage {
  readonly event: string;
  readonly id: string | undefined;
  readonly data: any;
}

export interface SseClient {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly messages: SseMessage[];
  /** The id of the last message received. */
  readonly lastId: string | undefined;
  /** Resolves with the first message (from index `from` on) that satisfies `match`. */
  next(match: (m: SseMessage) => boolean, what: string, options?: { from?: number; timeoutMs?: number }): Promise<SseMessage>;
  close(): void;
}

export function openSse(url: string, headers: http.OutgoingHttpHeaders = {}): Promise<SseClient> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { Accept: 'text/event-stream', ...headers } }, (res) => {
      const messages: SseMessage[] = [];
      let lastId: string | undefined;
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let event = 'message';
          let id: string | undefined;
          const data: string[] = [];
          for (const line of frame.split('\n')) {
            if (line.startsWith(':') || line === '') continue;
            const colon = line.indexOf(':');
            const field = colon < 0 ? line : line.slice(0, colon);
            const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
            if (field === 'event') event = value;
            else if (field === 'id') id = value;
            else if (field === 'data') data.push(value);
          }
          if (data.length === 0) continue;
          if (id !== undefined) lastId = id;
          messages.push({ event, id, data: JSON.parse(data.join('\n')) });
        }
      });
      res.on('error', () => {});
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        messages,
        get lastId() {
          return lastId;
        },
        next: (match, what, options = {}) =>
          waitFor(() => messages.slice(options.from ?? 0).find(match), { what, timeoutMs: options.timeoutMs ?? 10_000 }),
        close: () => {
          req.destroy();
          res.destroy();
        },
      });
    });
    req.on('error', reject);
  });
}
