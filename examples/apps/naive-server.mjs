// An app that does shutdown wrong: on SIGTERM it exits at once, cutting the requests it is
// serving and the load balancer's keep-alive connections. The graceful-shutdown harness must
// catch its failures. Listens on $HOST:$PORT (a local pod's POD_IP and port).
import http from 'node:http';

const workMs = Number(process.env.WORK_MS ?? 20);
const server = http.createServer((req, res) => {
  if (req.url === '/ready' || req.url === '/healthz') return res.end('ok\n');
  setTimeout(() => res.end(`${process.env.POD_NAME ?? 'naive'}\n`), workMs);
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.PORT ?? 8080), process.env.HOST ?? '127.0.0.1', () => {
  console.log(`naive server listening on ${process.env.HOST ?? '127.0.0.1'}:${process.env.PORT ?? 8080}`);
});
process.on('SIGTERM', () => {
  console.log('SIGTERM: exiting now');
  process.exit(0);
});
