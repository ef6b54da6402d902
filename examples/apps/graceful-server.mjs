// An app that does shutdown right: on SIGTERM it fails its readiness check, stops accepting
// connections, answers the requests in flight with `Connection: close`, closes idle keep-alive
// connections, and exits once the last request is done. Combined with a preStop sleep longer
// than the time the load balancer needs to stop sending (endpoint propagation + deregistration
// lag), a rollout loses no request. Listens on $HOST:$PORT.
import http from 'node:http';

const workMs = Number(process.env.WORK_MS ?? 20);
let shuttingDown = false;
let inFlight = 0;
const server = http.createServer((req, res) => {
  if (req.url === '/ready') {
    res.statusCode = shuttingDown ? 503 : 200;
    return res.end(shuttingDown ? 'shutting down\n' : 'ok\n');
  }
  if (req.url === '/healthz') return res.end('ok\n');
  inFlight++;
  setTimeout(() => {
    if (shuttingDown) res.setHeader('Connection', 'close');
    res.end(`${process.env.POD_NAME ?? 'graceful'}\n`);
    inFlight--;
  }, workMs);
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.PORT ?? 8080), process.env.HOST ?? '127.0.0.1', () => {
  console.log(`graceful server listening on ${process.env.HOST ?? '127.0.0.1'}:${process.env.PORT ?? 8080}`);
});
process.on('SIGTERM', () => {
  console.log(`SIGTERM: draining ${inFlight} requests in flight`);
  shuttingDown = true;
  server.close(() => {
    console.log('all connections closed: exiting');
    process.exit(0);
  });
  server.closeIdleConnections();
});
