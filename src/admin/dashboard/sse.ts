/**
 * `GET /v1/events`: the dashboard stream as Server-Sent Events. The first message is a
 * `snapshot`, then one `delta` per flush; each event id is `<stream id>.<sequence number>`. A
 * client that reconnects sends the last id it saw (`Last-Event-ID`, which EventSource does by
 * itself, or `?since=`) and gets the deltas it missed, or a snapshot when they are no longer
 * kept or the id is another stream's (a restarted `serve` on the same port starts over at 0). A
 * client that cannot keep up (over `maxBufferedBytes` unsent) is disconnected rather than
 * buffered without end; it reconnects and resumes. The load balancer never waits for a browser.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../../core/clock.ts';
import type { Delta, DashboardStream, Snapshot } from './stream.ts';

export interface SseOptions {
  readonly clock: Clock;
  /** A comment line this often keeps proxies and the browser from timing the stream out (default 15 s). */
  readonly heartbeatMs?: number;
  readonly maxBufferedBytes?: number;
}

/** Each delta is serialised once, however many clients it goes to. */
const frames = new WeakMap<Snapshot | Delta, string>();

function frame(streamId: string, message: Snapshot | Delta): string {
  let text = frames.get(message);
  if (text === undefined) {
    text = `id: ${streamId}.${message.seq}\nevent: ${message.type}\ndata: ${JSON.stringify(message)}\n\n`;
    frames.set(message, text);
  }
  return text;
}

/** Serves one SSE client until it goes away; returns the function that ends it. */
export function serveEvents(req: IncomingMessage, res: ServerResponse, url: URL, stream: DashboardStream, options: SseOptions): () => void {
  const maxBuffered = options.maxBufferedBytes ?? 4 * 1024 * 1024;
  res.writeHead(200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-cache, no-store',
    Connection: 'keep-alive',
    'X-Accel-Buffering': 'no',
  });
  res.flushHeaders();
  const resumeFrom = /^([\w-]+)\.(\d+)$/.exec(String(req.headers['last-event-id'] ?? url.searchParams.get('since') ?? ''));
  const missed = resumeFrom !== null && resumeFrom[1] === stream.id ? stream.since(Number(resumeFrom[2])) : undefined;
  res.write('retry: 1000\n\n');
  if (missed !== undefined) for (const delta of missed) res.write(frame(stream.id, delta));
  else res.write(frame(stream.id, stream.snapshot()));
  let ended = false;
  let cancelHeartbeat: () => void = () => {};
  const heartbeat = () => {
    cancelHeartbeat = options.clock.setTimer(options.heartbeatMs ?? 15_000, () => {
      if (ended) return;
      res.write(': keep-alive\n\n');
      heartbeat();
    });
  };
  const end = () => {
    if (ended) return;
    ended = true;
    unsubscribe();
    cancelHeartbeat();
    if (!res.writableEnded) res.end();
  };
  const unsubscribe = stream.subscribe((delta) => {
    if (ended) return;
    if (res.writableLength > maxBuffered) {
      // Too far behind: cut it; EventSource reconnects with its last id and resumes.
      res.destroy();
      end();
      return;
    }
    res.write(frame(stream.id, delta));
  });
  heartbeat();
  req.on('close', end);
  res.on('close', end);
  return end;
}
