/**
 * L7 bench child: the open-loop (fixed-rate) load generator, in its own process
 * (`node open-loop.ts http://127.0.0.1:8080/ 50 4000 1 5`: url, connections, total req/s,
 * warm-up seconds, measured seconds). wrk2 is not packaged on Debian; this is its idea in
 * Node. All connections share one timetable: request n is due at start + n / rate and goes on
 * connection n mod connections, so sends are spread evenly. A connection sends when its
 * request is due, or, if the previous response on it has not ended by then (HTTP/1.1, no
 * pipelining), the moment it ends. Latency runs from the due time, so a stall is counted
 * against every request it delays (no coordinated omission). Node timers are only good to
 * about a millisecond and fire up to a millisecond early or late (libuv's loop time is
 * cached); an early send is measured from when it really went out, so latency is never
 * understated, and the schedule itself does not drift. The warm-up is sent but not recorded.
 * Raw keep-alive sockets and a minimal response parser (Content-Length or chunked) keep the
 * generator's own cost per request small. Prints one JSON line, an OpenLoopResult.
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import hdr from 'hdr-histogram-js';
import type { OpenLoopResult } from './load-generator.ts';

/** A send later than this after its due time is reported as late. */
const LATE_SEND_MS = 1;
/** How long responses still in flight at the end are waited for before they count as errors. */
const DRAIN_MS = 2000;

const [urlArg, connectionsArg, rateArg, warmupArg, durationArg] = process.argv.slice(2);
const url = new URL(urlArg ?? '');
const connections = Number(connectionsArg);
const rate = Number(rateArg);
const warmupSeconds = Number(warmupArg);
const durationSeconds = Number(durationArg);
for (const [name, value, min] of [['connections', connections, 1], ['rate', rate, 1], ['warmup', warmupSeconds, 0], ['duration', durationSeconds, 1]] as const) {
  if (!Number.isFinite(value) || value < min) throw new RangeError(`${name} must be a number >= ${min}: got ${JSON.stringify(value)}`);
}
const request = Buffer.from(`GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nUser-Agent: local-elb-open-loop\r\n\r\n`, 'latin1');
const intervalMs = 1000 / rate;

/** Microseconds; autoResize grows it past an hour if it has to. */
const histogram = () => hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });
const latencyUs = histogram();
const sendLagUs = histogram();
let sends = 0;
let lateSends = 0;
let errors = 0;
/** When the last recorded response ended: past the window's end when the system fell behind. */
let lastEndedMs = 0;

/** Where the first response in `buf` ends, or -1 while it is incomplete. */
function responseEnd(buf: Buffer): number {
  const head = buf.indexOf('\r\n\r\n');
  if (head < 0) return -1;
  const headers = buf.toString('latin1', 0, head);
  const length = /\r\ncontent-length:[ \t]*(\d+)/i.exec(headers);
  if (length !== null) {
    const end = head + 4 + Number(length[1]);
    return buf.length >= end ? end : -1;
  }
  if (!/\r\ntransfer-encoding:[^\r]*chunked/i.test(headers)) return head + 4;
  let at = head + 4;
  for (;;) {
    const lineEnd = buf.indexOf('\r\n', at);
    if (lineEnd < 0) return -1;
    const size = parseInt(buf.toString('latin1', at, lineEnd), 16);
    if (Number.isNaN(size)) throw new Error(`bad chunk size line: ${JSON.stringify(buf.toString('latin1', at, lineEnd))}`);
    if (size === 0) {
      const end = buf.indexOf('\r\n\r\n', lineEnd);
      return end < 0 ? -1 : end + 4;
    }
    at = lineEnd + 2 + size + 2;
    if (buf.length < at) return -1;
  }
}

/** One keep-alive connection: requests index, index + connections, index + 2 × connections, … */
class Connection {
  #socket!: net.Socket;
  #received: Buffer = Buffer.alloc(0);
  /** The request whose due time a timer waits for, or the one in flight. */
  #request: number;
  #dueMs = 0;
  #sentMs = 0;
  #inFlight = false;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  readonly #fire = () => {
    this.#timer = undefined;
    this.#send();
  };

  constructor(index: number) {
    this.#request = index;
  }

  /** Nothing in flight and nothing left to send before the end of the timetable. */
  get done(): boolean {
    return !this.#inFlight && this.#request >= timetable.requests;
  }

  connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: url.hostname, port: Number(url.port || 80), noDelay: true });
      this.#socket = socket;
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve();
      });
      socket.once('error', reject);
      socket.on('data', (chunk: Buffer) => this.#onData(chunk));
      socket.on('error', () => {});
      socket.on('close', () => this.#onClose());
    });
  }

  /** Sends on the timetable; calls `onDone` once `done`. */
  start(onDone: () => void): void {
    this.#onDone = onDone;
    this.#schedule();
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#socket.destroy();
  }

  #onDone: () => void = () => {};

  #schedule(): void {
    if (this.#request >= timetable.requests) return this.#onDone();
    this.#dueMs = timetable.startMs + this.#request * intervalMs;
    const waitMs = this.#dueMs - performance.now();
    if (waitMs <= 0) this.#send();
    else this.#timer = setTimeout(this.#fire, waitMs);
  }

  #send(): void {
    this.#sentMs = performance.now();
    this.#inFlight = true;
    if (this.#request >= timetable.warmupRequests) {
      sends++;
      const lagMs = this.#sentMs - this.#dueMs;
      if (lagMs > LATE_SEND_MS) lateSends++;
      sendLagUs.recordValue(Math.max(0, Math.round(lagMs * 1000)));
    }
    this.#socket.write(request);
  }

  #onData(chunk: Buffer): void {
    this.#received = this.#received.length === 0 ? chunk : Buffer.concat([this.#received, chunk]);
    const end = responseEnd(this.#received);
    if (end < 0 || !this.#inFlight) return;
    const endedMs = performance.now();
    const status = Number(this.#received.toString('latin1', 9, 12));
    this.#received = end === this.#received.length ? Buffer.alloc(0) : this.#received.subarray(end);
    this.#inFlight = false;
    if (this.#request >= timetable.warmupRequests) {
      if (status < 200 || status >= 400) errors++;
      else latencyUs.recordValue(Math.max(1, Math.round((endedMs - Math.min(this.#dueMs, this.#sentMs)) * 1000)));
      lastEndedMs = endedMs;
    }
    this.#request += connections;
    this.#schedule();
  }

  #onClose(): void {
    if (this.#closed) return;
    if (this.#inFlight) {
      if (this.#request >= timetable.warmupRequests) errors++;
      this.#inFlight = false;
      this.#request += connections;
    }
    this.#received = Buffer.alloc(0);
    this.connect().then(
      () => this.#schedule(),
      () => {
        errors++;
        setTimeout(() => this.#onClose(), 100);
      },
    );
  }
}

const all = Array.from({ length: connections }, (_, i) => new Connection(i));
await Promise.all(all.map((c) => c.connect()));

/** Request n is due at startMs + n × intervalMs; those below warmupRequests are not recorded. */
const timetable = {
  startMs: performance.now() + 20,
  warmupRequests: Math.round(warmupSeconds * rate),
  requests: Math.round((warmupSeconds + durationSeconds) * rate),
};
const windowStartMs = timetable.startMs + timetable.warmupRequests * intervalMs;
const endMs = timetable.startMs + timetable.requests * intervalMs;

await new Promise<void>((resolve) => {
  const drainTimer = setTimeout(resolve, endMs - performance.now() + DRAIN_MS);
  const onDone = () => {
    if (all.every((c) => c.done)) {
      clearTimeout(drainTimer);
      resolve();
    }
  };
  for (const c of all) c.start(onDone);
});
const inFlightAtEnd = all.filter((c) => !c.done).length;
for (const c of all) c.close();

const ms = (us: number) => us / 1000;
const result: OpenLoopResult = {
  rate,
  achievedRate: (latencyUs.totalCount * 1000) / (Math.max(lastEndedMs, endMs) - windowStartMs),
  completed: latencyUs.totalCount,
  p50Ms: ms(latencyUs.getValueAtPercentile(50)),
  p99Ms: ms(latencyUs.getValueAtPercentile(99)),
  p999Ms: ms(latencyUs.getValueAtPercentile(99.9)),
  maxMs: ms(latencyUs.maxValue),
  sends,
  lateSends,
  sendLagP99Ms: ms(sendLagUs.getValueAtPercentile(99)),
  unsent: timetable.requests - timetable.warmupRequests - sends,
  errors: errors + inFlightAtEnd,
};
process.stdout.write(`${JSON.stringify(result)}\n`);
