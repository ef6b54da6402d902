/**
 * L7 bench child: N small HTTP targets in one process (`node child-targets.ts 3`). Every path
 * answers 200 with a short body and keeps the connection alive, so `/healthz` works as a
 * health-check path too. Reports its ports over IPC.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exitWithParent, reportReady, TARGET_BODY } from './child.ts';

const count = Number(process.argv[2] ?? 3);
if (!Number.isInteger(count) || count < 1) throw new Error(`target count must be a positive integer: got ${process.argv[2]}`);

const servers: http.Server[] = [];
for (let i = 0; i < count; i++) {
  const server = http.createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': TARGET_BODY.length });
    res.end(TARGET_BODY);
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
}

exitWithParent(() => {
  for (const s of servers) s.closeAllConnections();
});
reportReady(servers.map((s) => (s.address() as AddressInfo).port));
