/**
 * Which HTTP/2 client the ALB uses towards HTTP2 and GRPC target groups (issue #12: "measure and
 * say which"): undici 8's h2 (Pool, allowH2, one connection) against node:http2 (one session),
 * 50 requests in flight, 100-byte bodies, a node:http2 TLS target; three interleaved 3 s rounds.
 * Run: scripts/node24 node bench/h2-client.bench.ts
 */
import http2 from 'node:http2';
import { execFileSync } from 'node:child_process';
import { readFileSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { Pool } from 'undici';
const dir = mkdtempSync(join(tmpdir(), 'h2c-'));
execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-days', '1', '-subj', '/CN=t'], { stdio: 'ignore' });
const server = http2.createSecureServer({ key: readFileSync(join(dir, 'k.pem')), cert: readFileSync(join(dir, 'c.pem')) });
server.on('stream', (s) => { s.respond({ ':status': 200, 'content-type': 'text/plain' }); s.end('x'.repeat(100)); });
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const port = (server.address() as any).port;
const C = 50, MS = 3000;
async function run(one: () => Promise<void>) { let n = 0; const end = Date.now() + MS; await Promise.all(Array.from({ length: C }, async () => { while (Date.now() < end) { await one(); n++; } })); return n / (MS / 1000); }
const pool = new Pool(`https://127.0.0.1:${port}`, { allowH2: true, connections: 1, pipelining: 128, connect: { rejectUnauthorized: false } });
const undiciOne = async () => { const r = await pool.request({ path: '/', method: 'GET' }); await r.body.text(); };
const session = http2.connect(`https://127.0.0.1:${port}`, { rejectUnauthorized: false });
const nodeOne = () => new Promise<void>((res, rej) => { const s = session.request({ ':path': '/' }); s.on('data', () => {}); s.on('end', res); s.on('error', rej); s.end(); });
await undiciOne(); await nodeOne();
for (let round = 0; round < 3; round++) {
  const u = await run(undiciOne); const n = await run(nodeOne);
  console.log(`round ${round + 1}: undici h2 ${u.toFixed(0)} req/s, node:http2 ${n.toFixed(0)} req/s, node/undici ${(n / u).toFixed(2)}x`);
}
await pool.close(); session.close(); server.close();
