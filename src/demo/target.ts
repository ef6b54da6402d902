/**
 * A small demo target: answers every request with its own name so the balancing is visible,
 * `/healthz` with 200, and `/slow?ms=N` after N ms. Listens on 127.0.0.1, port $PORT (0 by
 * default), reports its port to the parent over IPC, and exits when the parent goes away.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const name = process.env.TARGET_NAME ?? `target-${process.pid}`;
let served = 0;

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://target');
  if (url.pathname === '/healthz') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok\n');
    return;
  }
  served++;
  const delayMs = url.pathname === '/slow' ? Math.min(Number(url.searchParams.get('ms') ?? 1000), 600_000) : 0;
  setTimeout(() => {
    res.writeHead(200, { 'content-type': 'text/plain', 'x-target': name });
    res.end(`Hello from ${name} (pid ${process.pid}, port ${(server.address() as AddressInfo).port}), request #${served}\n`);
  }, delayMs);
});
server.keepAliveTimeout = 65_000;

server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  if (process.send) process.send({ type: 'listening', port });
  else console.log(`${name} listening on 127.0.0.1:${port}`);
});

const stop = () => {
  server.close(() => process.exit(0));
  server.closeIdleConnections();
  setTimeout(() => process.exit(0), 1000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('disconnect', stop);
