/**
 * L7 bench child: the Node baseline proxy, http-proxy 1.18 with a keep-alive agent,
 * round robin over the given targets (`node child-http-proxy.ts 4001,4002,4003`).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import httpProxy from 'http-proxy';
import { exitWithParent, portsArg, reportReady } from './child.ts';

const targets = portsArg(process.argv[2]).map((port) => `http://127.0.0.1:${port}`);
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 256 });
const proxy = httpProxy.createProxyServer({ agent });
let next = 0;

const server = http.createServer((req, res) => {
  const target = targets[next]!;
  next = (next + 1) % targets.length;
  proxy.web(req, res, { target }, (err) => {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
    res.end(`bad gateway: ${err.message}`);
  });
});
server.keepAliveTimeout = 65_000;
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

exitWithParent(() => {
  server.closeAllConnections();
  agent.destroy();
});
reportReady([(server.address() as AddressInfo).port]);
