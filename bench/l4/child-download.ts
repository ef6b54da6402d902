/**
 * The L4 bench's bulk client when wrk is missing: `connections` keep-alive connections each
 * downloading `url` back to back for `durationSeconds`, bytes counted as they arrive. Prints
 * one JSON line: `{ downloads, bytes, seconds, errors }`.
 *
 *   node child-download.ts http://127.0.0.1:8080/bulk 2 3
 */
import http from 'node:http';

const [url, connectionsArg = '2', durationArg = '3'] = process.argv.slice(2);
if (url === undefined) throw new Error('usage: child-download.ts URL [connections] [durationSeconds]');
const connections = Number(connectionsArg);
const durationMs = Number(durationArg) * 1000;

const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
const started = performance.now();
const deadline = started + durationMs;
let downloads = 0;
let bytes = 0;
let errors = 0;

function download(): Promise<void> {
  return new Promise((resolve) => {
    const req = http.get(url!, { agent }, (res) => {
      res.on('data', (chunk: Buffer) => (bytes += chunk.length));
      res.on('end', () => {
        if (res.statusCode === 200) downloads++;
        else errors++;
        resolve();
      });
      res.on('error', () => {
        errors++;
        resolve();
      });
    });
    req.on('error', () => {
      errors++;
      resolve();
    });
  });
}

async function loop(): Promise<void> {
  while (performance.now() < deadline) await download();
}

await Promise.all(Array.from({ length: connections }, loop));
const seconds = (performance.now() - started) / 1000;
agent.destroy();
console.log(JSON.stringify({ downloads, bytes, seconds, errors }));
