/**
 * Bench child for the L7 and L4 benchmarks, when nginx is not installed: N HTTP targets in one
 * process (`node child-targets.ts 3 67108864`). `/bulk` answers a body of the given size, every
 * other path (`/healthz` too) the short target body, all with keep-alive. Reports its ports
 * over IPC.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exitWithParent, reportReady, TARGET_BODY } from '../l7/child.ts';

const count = Number(process.argv[2] ?? 3);
const bulkBytes = Number(process.argv[3] ?? 64 * 2 ** 20);
if (!Number.isInteger(count) || count < 1) throw new Error(`target count must be a positive integer: got ${process.argv[2]}`);
if (!Number.isInteger(bulkBytes) || bulkBytes < 1) throw new Error(`bulk size must be a positive integer: got ${process.argv[3]}`);

const chunk = Buffer.alloc(Math.min(bulkBytes, 1 << 20), 'x');

function sendBulk(res: http.ServerResponse): void {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bulkBytes });
  let left = bulkBytes;
  const more = () => {
    while (left > 0) {
      const n = Math.min(left, chunk.length);
      left -= n;
      if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void res.once('drain', more);
    }
    res.end();
  };
  more();
}

const servers: http.Server[] = [];
for (let i = 0; i < count; i++) {
  const server = http.createServer((req, res) => {
    req.resume();
    if (req.url === '/bulk') return sendBulk(res);
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
