/**
 * The real lab run's load-generator client against real servers on 127.0.0.1:0: it never waits
 * for an answer before sending (a new connection per request in flight, up to its cap), reads
 * Content-Length, chunked and read-to-close answers, and says why a request got none.
 */
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { getRequest, OpenLoopClient, type Answer } from '../../src/harness/lab-real/open-loop-client.ts';
import { refusedPort } from '../support/tcp.ts';
import { waitFor } from '../support/wait.ts';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as http.Server).closeAllConnections?.();
      }),
  );
  return (server.address() as AddressInfo).port;
}

function client(port: number, over: Partial<ConstructorParameters<typeof OpenLoopClient>[0]> = {}): OpenLoopClient {
  const c = new OpenLoopClient({ host: '127.0.0.1', port, timeoutMs: 10_000, keepAliveMs: 4000, recordHeader: 'x-lab-target', ...over });
  closers.push(async () => c.close());
  return c;
}

const get = (c: OpenLoopClient, port: number, path = '/') => new Promise<Answer>((resolve) => c.send(getRequest(new URL(`http://127.0.0.1:${port}${path}`), {}), resolve));

describe('OpenLoopClient', () => {
  it('sends every request at once on a connection of its own while earlier ones are unanswered', async () => {
    const held: http.ServerResponse[] = [];
    const sockets = new Set<net.Socket>();
    const server = http.createServer((_req, res) => held.push(res));
    server.on('connection', (s) => sockets.add(s));
    const port = await listen(server);
    const c = client(port);
    const answers = Array.from({ length: 5 }, () => get(c, port));
    await waitFor(() => held.length === 5, { what: 'five requests at the server before any answer' });
    expect(sockets.size).toBe(5);
    for (const res of held) res.writeHead(200, { 'x-lab-target': 't1', 'content-length': '2' }).end('ok');
    for (const a of await Promise.all(answers)) expect(a).toMatchObject({ status: 200, errorCode: null, header: 't1' });
    expect(c.peakConnections).toBe(5);
  });

  it('keeps a request waiting for a connection past maxConnections (2), sending it as soon as one is free', async () => {
    const held: http.ServerResponse[] = [];
    const sockets = new Set<net.Socket>();
    const server = http.createServer((_req, res) => held.push(res));
    server.on('connection', (s) => sockets.add(s));
    const port = await listen(server);
    let now = 0;
    const c = client(port, { maxConnections: 2, now: () => now });
    const answers = Array.from({ length: 3 }, () => get(c, port));
    await waitFor(() => held.length === 2, { what: 'two requests at the server' });
    expect(c.waited).toBe(1);
    now = 50;
    held[0]!.writeHead(200, { 'content-length': '0' }).end();
    await waitFor(() => held.length === 3, { what: 'the waiting request on the freed connection' });
    held[1]!.writeHead(200, { 'content-length': '0' }).end();
    held[2]!.writeHead(200, { 'content-length': '0' }).end();
    const [a, b, third] = await Promise.all(answers);
    expect([a!.writtenMs, b!.writtenMs, third!.writtenMs]).toEqual([0, 0, 50]);
    expect(sockets.size).toBe(2);
  });

  it.each([
    ['chunked', 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nx-lab-target: t2\r\n\r\n3\r\nabc\r\n0\r\n\r\n', 200, 't2'],
    ['read to close (no length)', 'HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\n\r\nbusy', 503, null],
  ])('reads a %s answer', async (_name, raw, status, header) => {
    const server = net.createServer((socket) => socket.once('data', () => socket.end(raw)));
    const port = await listen(server);
    expect(await get(client(port), port)).toMatchObject({ status, errorCode: null, header });
  });

  it.each([
    ['ECONNREFUSED when nothing listens', 'refused'],
    ['closed when the peer hangs up before answering', 'hangup'],
    ['timeout when no answer comes in time', 'silent'],
  ])('reports %s', async (_name, kind) => {
    let port: number;
    if (kind === 'refused') {
      // Held, not listened on and closed (which any process may take again): it refuses.
      const held = await refusedPort();
      closers.push(() => held.close());
      port = held.port;
    } else {
      const server = net.createServer((socket) => socket.once('data', () => (kind === 'hangup' ? socket.destroy() : undefined)));
      port = await listen(server);
    }
    const answer = await get(client(port, { timeoutMs: 300 }), port);
    expect(answer.status).toBe(0);
    expect(answer.errorCode).toBe(kind === 'refused' ? 'ECONNREFUSED' : kind === 'hangup' ? 'closed' : 'timeout');
  });
});
