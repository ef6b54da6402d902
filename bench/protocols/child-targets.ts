/**
 * Bench child: every target of the protocols bench in one process
 * (`node child-targets.ts <stateDir>`), in the order of TARGET_SERVERS: `ws` echo servers on
 * HTTP and HTTPS, grpc-js Echo servers insecure and TLS, node:http2 servers over TLS and
 * cleartext, and a node:http HTTP/1.1 server. The HTTP/2 and HTTP/1.1 servers answer every
 * path with the L7 bench's 100-byte body. TLS servers use a certificate from the local CA in
 * `stateDir` (the parent has created it). Reports its ports over IPC.
 */
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { openLocalCa } from '../../src/tls/ca.ts';
import { startGrpcTarget, type GrpcTarget } from '../../test/support/grpc.ts';
import { exitWithParent, reportReady, TARGET_BODY } from '../l7/child.ts';
import { TARGET_CERTIFICATE_NAMES, TARGET_SERVERS, type TargetServer } from './targets.ts';

const stateDir = process.argv[2];
if (stateDir === undefined) throw new Error('usage: child-targets.ts <stateDir>');
const issued = await openLocalCa(stateDir).then((ca) => ca.issue(TARGET_CERTIFICATE_NAMES));
const tls = { cert: issued.certPem, key: issued.keyPem };

const listen = async (server: http.Server | https.Server | http2.Http2Server | http2.Http2SecureServer) => {
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
};

const closers: (() => void)[] = [];

/** A `ws` echo server on `server`; GET /healthz answers 200 for the ALB's health check. */
async function wsEcho(server: http.Server | https.Server): Promise<number> {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  server.on('request', (req, res) => res.writeHead(req.url === '/healthz' ? 200 : 426, { 'content-type': 'text/plain' }).end(req.url === '/healthz' ? 'ok' : 'upgrade required'));
  server.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => ws.on('message', (data, binary) => ws.send(data, { binary }))));
  closers.push(() => {
    for (const c of wss.clients) c.terminate();
    server.closeAllConnections();
  });
  return listen(server);
}

/** Answers every stream with TARGET_BODY (GET /healthz included). */
function h2Answer(stream: http2.ServerHttp2Stream): void {
  stream.respond({ ':status': 200, 'content-type': 'text/plain', 'content-length': TARGET_BODY.length });
  stream.end(TARGET_BODY);
}

async function h2Server(server: http2.Http2Server | http2.Http2SecureServer): Promise<number> {
  server.on('stream', h2Answer);
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.once('close', () => sessions.delete(s));
  });
  closers.push(() => {
    for (const s of sessions) s.destroy();
  });
  return listen(server);
}

const grpcTargets: GrpcTarget[] = [];
async function grpcEcho(secure: boolean): Promise<number> {
  const target = await startGrpcTarget(secure ? { tls: { cert: Buffer.from(tls.cert), key: Buffer.from(tls.key) } } : {});
  grpcTargets.push(target);
  return target.port;
}

const http1 = http.createServer((req, res) => {
  req.resume();
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': TARGET_BODY.length }).end(TARGET_BODY);
});
http1.keepAliveTimeout = 65_000;
closers.push(() => http1.closeAllConnections());

const start: Record<TargetServer, () => Promise<number>> = {
  ws: () => wsEcho(http.createServer()),
  wss: () => wsEcho(https.createServer(tls)),
  grpc: () => grpcEcho(false),
  grpcs: () => grpcEcho(true),
  h2: () => h2Server(http2.createSecureServer({ ...tls, settings: { maxConcurrentStreams: 128 } })),
  h2c: () => h2Server(http2.createServer({ settings: { maxConcurrentStreams: 128 } })),
  http1: () => listen(http1),
};
const ports: number[] = [];
for (const name of TARGET_SERVERS) ports.push(await start[name]());

exitWithParent(async () => {
  for (const close of closers) close();
  await Promise.all(grpcTargets.map((t) => t.close()));
});
reportReady(ports);
