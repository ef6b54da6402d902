/**
 * L7 bench child: the bare undici proxy, the baseline the ALB data path is measured against
 * (`node child-undici.ts 4001,4002,4003`). `http.createServer` plus one undici `Pool` per
 * target with `dispatch` and the handler API, round robin, hop-by-hop headers dropped, bodies
 * streamed both ways with back-pressure. Nothing else: no rules, no X-Forwarded-*, no trace
 * id, no metrics, no health checks.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool, type Dispatcher } from 'undici';
import { exitWithParent, portsArg, reportReady } from './child.ts';

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);
const pools = portsArg(process.argv[2]).map((port) => new Pool(`http://127.0.0.1:${port}`, { pipelining: 1, keepAliveTimeout: 60_000 }));
let next = 0;

const server = http.createServer((req, res) => {
  const pool = pools[next]!;
  next = (next + 1) % pools.length;
  const headers: string[] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if (!HOP_BY_HOP.has(req.rawHeaders[i]!.toLowerCase())) headers.push(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
  }
  const hasBody = req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] ?? '0') !== '0';
  const handler: Dispatcher.DispatchHandler = {
    onRequestStart() {},
    onResponseStart(_c, status, resHeaders) {
      const out: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(resHeaders)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
      res.writeHead(status, out);
    },
    onResponseData(c, chunk) {
      if (!res.write(chunk)) {
        c.pause();
        res.once('drain', () => c.resume());
      }
    },
    onResponseEnd() {
      res.end();
    },
    onResponseError() {
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    },
  };
  pool.dispatch({ path: req.url ?? '/', method: req.method ?? 'GET', headers, body: hasBody ? req : null }, handler);
});
server.keepAliveTimeout = 65_000;
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

exitWithParent(async () => {
  server.closeAllConnections();
  await Promise.all(pools.map((p) => p.destroy()));
});
reportReady([(server.address() as AddressInfo).port]);
