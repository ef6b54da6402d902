/**
 * The protocols bench's WebSocket load client, in its own process: `sockets` `ws` clients, each
 * keeping `window` small messages in flight (a new one sent as each echo arrives), for
 * `warmup` seconds unrecorded, then `duration` seconds counted. Each echo's round trip is
 * timed from its own send. Over IPC it sends `{ type: 'measuring' }` when counting starts and
 * `{ type: 'result', … }` when it ends (run by hand, it prints the result as JSON).
 *
 *   node ws-client.ts '{"url":"wss://127.0.0.1:8443/","sockets":50,"window":8,"bytes":32,
 *     "warmupSeconds":1,"durationSeconds":3,"caPath":"/tmp/state/ca/ca.pem"}'
 */
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { finish, type ClientResult, LatencyRecorder, measuringWindow } from './client.ts';

export interface WsClientOptions {
  readonly url: string;
  readonly sockets: number;
  readonly window: number;
  readonly bytes: number;
  readonly warmupSeconds: number;
  readonly durationSeconds: number;
  /** PEM file of the CA that signed the server's certificate (wss://). */
  readonly caPath?: string;
}

const options = JSON.parse(process.argv[2] ?? '{}') as WsClientOptions;
const ca = options.caPath === undefined ? undefined : readFileSync(options.caPath);
const payload = Buffer.alloc(options.bytes, 'm');
const latency = new LatencyRecorder();
const window = measuringWindow(options.warmupSeconds, options.durationSeconds);
let errors = 0;
let sending = true;

function open(): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(options.url, { perMessageDeflate: false, ...(ca ? { ca } : {}) });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

const sockets = await Promise.all(Array.from({ length: options.sockets }, open));
for (const ws of sockets) {
  // Echoes come back in order: the oldest send time is the one this echo answers.
  const sentAt: number[] = [];
  let head = 0;
  const send = () => {
    sentAt.push(performance.now());
    ws.send(payload, { binary: true });
  };
  ws.on('message', () => {
    const now = performance.now();
    const sent = sentAt[head++]!;
    if (head > 1024) {
      sentAt.splice(0, head);
      head = 0;
    }
    if (window.counting()) latency.record(now - sent);
    if (sending) send();
  });
  // A socket lost before the end counts once ('close' follows every 'error').
  ws.on('error', () => {});
  ws.on('close', () => sending && errors++);
  for (let i = 0; i < options.window; i++) send();
}

await window.done;
sending = false;
const result: ClientResult = { operations: latency.count, seconds: window.seconds(), errors, ...latency.percentiles() };
for (const ws of sockets) ws.terminate();
await finish(result);
