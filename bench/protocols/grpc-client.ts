/**
 * The protocols bench's gRPC load client, in its own process: `connections` grpc-js clients
 * (each its own channel and HTTP/2 connection: a local subchannel pool), each keeping
 * `concurrency` unary `Echo.Say` calls in flight (closed loop), `warmupSeconds` unrecorded,
 * then `durationSeconds` counted. Reports over IPC as ws-client.ts does.
 *
 *   node grpc-client.ts '{"target":"127.0.0.1:8443","connections":4,"concurrency":16,
 *     "warmupSeconds":1,"durationSeconds":3,"caPath":"/tmp/state/ca/ca.pem"}'
 */
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { loadEcho, type EchoRequest, type EchoResponse } from '../../test/support/grpc.ts';
import { finish, type ClientResult, LatencyRecorder, measuringWindow } from './client.ts';

export interface GrpcClientOptions {
  /** `host:port`. */
  readonly target: string;
  readonly connections: number;
  readonly concurrency: number;
  readonly warmupSeconds: number;
  readonly durationSeconds: number;
  /** TLS, trusting this CA's PEM file; insecure without it. */
  readonly caPath?: string;
}

type SayClient = grpc.Client & { Say(req: EchoRequest, callback: (err: grpc.ServiceError | null, res: EchoResponse) => void): void };

const options = JSON.parse(process.argv[2] ?? '{}') as GrpcClientOptions;
const { Echo } = loadEcho();
const credentials = options.caPath === undefined ? grpc.credentials.createInsecure() : grpc.credentials.createSsl(readFileSync(options.caPath));
// Over TLS the name checked (and sent as SNI) is localhost, which the certificates cover: grpc-js
// would otherwise send the IP address as SNI, which RFC 6066 does not allow.
const channelOptions = { 'grpc.use_local_subchannel_pool': 1, ...(options.caPath === undefined ? {} : { 'grpc.ssl_target_name_override': 'localhost' }) };
const clients = Array.from({ length: options.connections }, () => new Echo(options.target, credentials, channelOptions) as unknown as SayClient);
await Promise.all(clients.map((c) => new Promise<void>((resolve, reject) => c.waitForReady(Date.now() + 10_000, (err) => (err ? reject(err) : resolve())))));

const latency = new LatencyRecorder();
const window = measuringWindow(options.warmupSeconds, options.durationSeconds);
const request: EchoRequest = { text: 'hello' };
let errors = 0;
let calling = true;

function call(client: SayClient): void {
  const sent = performance.now();
  client.Say(request, (err) => {
    if (err) errors++;
    else if (window.counting()) {
      latency.record(performance.now() - sent);
    }
    if (calling) call(client);
  });
}
for (const client of clients) for (let i = 0; i < options.concurrency; i++) call(client);

await window.done;
calling = false;
const result: ClientResult = { operations: latency.count, seconds: window.seconds(), errors, ...latency.percentiles() };
for (const client of clients) client.close();
await finish(result);
