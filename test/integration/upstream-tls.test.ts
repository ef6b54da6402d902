/**
 * TLS from the ALB to HTTPS targets at the connection level (spec 12.1.11, 12.2): real sockets
 * on 127.0.0.1, the timeouts on a virtual clock, so the 10 s handshake limit takes no 10 s.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/clock.ts';
import { ErrorCodes, type ElbError } from '../../src/core/errors.ts';
import { statusForError } from '../../src/l7/pipeline/answer.ts';
import type { UpstreamHandler } from '../../src/l7/upstream/connection.ts';
import { TargetPools } from '../../src/l7/upstream/pools.ts';
import { TlsProvider } from '../../src/tls/provider.ts';
import { waitFor } from '../support/wait.ts';

const closers: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

/** A TCP server that accepts and then does what `onSocket` says (nothing: a TLS handshake never ends). */
async function rawServer(onSocket: (s: net.Socket) => void = () => {}): Promise<{ port: number; accepted: () => number }> {
  let accepted = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    accepted++;
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
    onSocket(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((r) => server.close(() => r()));
  });
  return { port: (server.address() as net.AddressInfo).port, accepted: () => accepted };
}

function recorder(): UpstreamHandler & { errors: ElbError[] } {
  const errors: ElbError[] = [];
  return { errors, onHead: () => {}, onData: () => true, onEnd: () => {}, onFlush: () => {}, onError: (e) => void errors.push(e) };
}

const backend = new TlsProvider({ certificates: [], issuer: () => Promise.reject(new Error('no certificates here')), clock: new VirtualClock() }).backend(undefined, 'application');
const GET = { method: 'GET', path: '/', headers: ['Host', 'x'], body: 'none' as const };

describe('TLS to targets', () => {
  it('gives up a handshake that has not finished 10 s after the TCP connection, as 504 (ELB_ERR_TARGET_TLS_TIMEOUT)', async () => {
    const clock = new VirtualClock();
    const pools = new TargetPools({ clock, idleTimeoutMs: () => 60_000 });
    closers.push(() => pools.close());
    const silent = await rawServer();
    const handler = recorder();
    pools.request({ key: `127.0.0.1:${silent.port}`, id: '127.0.0.1', port: silent.port }, GET, handler, backend);
    await waitFor(() => silent.accepted() === 1, { what: 'the TCP connection' });
    // Let the client see its connect event before time moves.
    await waitFor(() => pools.openConnections(`127.0.0.1:${silent.port}`) === 1, { what: 'an open connection' });
    await new Promise((r) => setImmediate(r));
    await clock.advance(9_000);
    expect(handler.errors).toEqual([]);
    await clock.advance(1_500);
    await waitFor(() => handler.errors.length === 1, { what: 'the handshake timeout' });
    expect(handler.errors[0]!.code).toBe(ErrorCodes.TARGET_TLS_TIMEOUT);
    expect(statusForError(handler.errors[0])).toBe(504);
  });

  it('fails a handshake with a target that speaks plain HTTP as 502 (ELB_ERR_TARGET_TLS_NEGOTIATION_FAILED), and a refused connection as a connection error', async () => {
    const clock = new VirtualClock();
    const pools = new TargetPools({ clock, idleTimeoutMs: () => 60_000 });
    closers.push(() => pools.close());
    const plain = await rawServer((s) => s.once('data', () => s.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n')));
    const handler = recorder();
    pools.request({ key: `127.0.0.1:${plain.port}`, id: '127.0.0.1', port: plain.port }, GET, handler, backend);
    await waitFor(() => handler.errors.length === 1, { what: 'the handshake failure' });
    expect(handler.errors[0]!.code).toBe(ErrorCodes.TARGET_TLS_FAILED);
    expect(statusForError(handler.errors[0])).toBe(502);

    const closed = await rawServer();
    const port = closed.port;
    await closers.pop()!();
    const refused = recorder();
    pools.request({ key: `127.0.0.1:${port}`, id: '127.0.0.1', port }, GET, refused, backend);
    await waitFor(() => refused.errors.length === 1, { what: 'the refused connection' });
    expect(refused.errors[0]!.code).toBe(ErrorCodes.TARGET_CONNECTION_FAILED);
  });
});
