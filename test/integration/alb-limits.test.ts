/**
 * The ALB's size limits on both sides of each (spec 6.4, 7.1), on real sockets: request heads
 * up to 64 KiB go to the target and larger ones are 400 without reaching it; response heads up
 * to 32 KiB come back and larger ones are 502 (an invalid response: HPE_HEADER_OVERFLOW).
 */
import net, { type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { RequestRecord } from '../../src/l7/request-record.ts';
import { deferCleanups, startAlb, waitHealthy } from '../support/alb.ts';
import { openRawConnection } from '../support/raw-connection.ts';
import { startTarget } from '../support/targets.ts';

const defer = deferCleanups();
const KiB = 1024;

/** A target on node:net that takes request heads of any size: it records each head's byte length and answers 200. */
async function headRecorder(): Promise<{ port: number; heads: number[] }> {
  const heads: number[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buffered = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      for (let end = buffered.indexOf('\r\n\r\n'); end >= 0; end = buffered.indexOf('\r\n\r\n')) {
        const head = buffered.slice(0, end + 4);
        buffered = buffered.slice(end + 4);
        if (!head.startsWith('GET /healthz ')) heads.push(head.length);
        socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok');
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  defer(() => new Promise<void>((r) => (sockets.forEach((s) => s.destroy()), server.close(() => r()))));
  return { port: (server.address() as AddressInfo).port, heads };
}

/** `count` headers of 8 KiB each (every one under the 16 KiB line limit). */
const bigHeaders = (count: number) => Array.from({ length: count }, (_, i) => `X-H${i}: ${'h'.repeat(8 * KiB - 8)}\r\n`).join('');

describe('request head limit: 64 KiB of headers (spec 6.4)', () => {
  it.each([
    ['forwards a request with 7 headers of 8 KiB (56 KiB, under the limit)', 7, 200],
    ['answers 400 to one with 9 headers of 8 KiB (72 KiB, over it), without reaching the target', 9, 400],
  ] as const)('%s', async (_name, count, status) => {
    const t = await headRecorder();
    const alb = await startAlb({ targetPorts: [t.port] });
    defer(() => alb.elb.close());
    await waitHealthy(alb.group, 1);
    const conn = await openRawConnection(alb.url);
    defer(() => conn.destroy());
    conn.write(`GET /big HTTP/1.1\r\nHost: x\r\n${bigHeaders(count)}\r\n`);
    const res = await conn.readResponse();
    expect(res.status).toBe(status);
    if (status === 200) {
      expect(res.body).toBe('ok');
      expect(t.heads).toHaveLength(1);
      expect(t.heads[0]!).toBeGreaterThan(count * 8 * KiB - count * 16);
    } else {
      expect(res.headers.server).toBe('awselb/2.0');
      expect(t.heads).toEqual([]);
    }
  });
});

describe('response head limit: 32 KiB (spec 7.1)', () => {
  it.each([
    ['passes on a response whose head is 30 KiB', 30, 200],
    ['answers 502 for a response whose head is 40 KiB (HPE_HEADER_OVERFLOW from the parser)', 40, 502],
  ] as const)('%s', async (_name, kib, status) => {
    const a = await startTarget('a');
    defer(() => a.close());
    a.handler = (_req, res) => {
      res.setHeader('x-big', 'b'.repeat(kib * KiB));
      res.end('big head');
    };
    const alb = await startAlb({ targetPorts: [a.port] });
    defer(() => alb.elb.close());
    await waitHealthy(alb.group, 1);
    const records: RequestRecord[] = [];
    alb.elb.applicationLoadBalancer('app').onRequest((r) => records.push(r));
    const conn = await openRawConnection(alb.url);
    defer(() => conn.destroy());
    conn.write('GET /big HTTP/1.1\r\nHost: x\r\n\r\n');
    const res = await conn.readResponse();
    expect(res.status).toBe(status);
    if (status === 200) {
      expect(res.body).toBe('big head');
      expect(res.headers['x-big']).toHaveLength(kib * KiB);
    } else {
      expect(res.headers.server).toBe('awselb/2.0');
      expect(res.body).toContain('<title>502 Bad Gateway</title>');
      expect(records.map((r) => [r.elbStatusCode, r.errorCode])).toEqual([[502, 'HPE_HEADER_OVERFLOW']]);
    }
  });
});
