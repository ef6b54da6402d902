/**
 * The client connection's second reading of a head llhttp refused (spec 13.1): on a scripted
 * socket, so each TCP read is exactly the bytes a case gives. A refused head is read whole
 * however it arrives, after bodyless and Content-Length requests in the same read, and its body
 * is framed as its own headers say; after a chunked body llhttp's verdict stands.
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../../src/core/clock.ts';
import { ClientConnection, type Rejection } from '../../../../src/l7/http1/client-connection.ts';
import type { MessageHead } from '../../../../src/l7/http1/llhttp.ts';

/** Enough of a net.Socket for ClientConnection: reads are `feed`, writes are collected. */
class ScriptedSocket extends EventEmitter {
  readonly remoteAddress = '127.0.0.1';
  readonly remotePort = 40000;
  writable = true;
  writableLength = 0;
  bytesRead = 0;
  bytesWritten = 0;
  written = '';
  destroyed = false;
  feed(data: string): void {
    const bytes = Buffer.from(data, 'latin1');
    this.bytesRead += bytes.length;
    this.emit('data', bytes);
  }
  write(data: string | Buffer): boolean {
    this.written += typeof data === 'string' ? data : data.toString('latin1');
    return true;
  }
  end(data?: string): void {
    if (data !== undefined) this.write(data);
    this.writable = false;
  }
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.writable = false;
    // As a net.Socket does: 'close' comes later, never inside the call that destroyed it.
    setImmediate(() => this.emit('close'));
  }
  destroySoon(): void {
    this.destroy();
  }
  pause(): void {}
  resume(): void {}
  cork(): void {}
  uncork(): void {}
}

interface Seen {
  readonly head: MessageHead;
  body: string;
}

function connection() {
  const socket = new ScriptedSocket();
  const requests: Seen[] = [];
  const rejections: Rejection[] = [];
  new ClientConnection(socket as unknown as Socket, {
    clock: new VirtualClock(0),
    maxHeaderBytes: 64 * 1024,
    timeouts: () => ({ idleTimeoutMs: 60_000, clientKeepAliveMs: 3_600_000 }),
    events: {
      request: (head, response, body) => {
        const seen: Seen = { head, body: '' };
        requests.push(seen);
        const answer = () => {
          response.writeHead(200, 'OK', ['Content-Length', '0'], { contentLength: 0 });
          response.end();
        };
        if (body === undefined) return answer();
        body.start({ data: (c) => ((seen.body += c.toString('latin1')), true), end: answer, aborted: () => {} });
      },
      reject: (rejection) => {
        rejections.push(rejection);
        return 'HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n';
      },
    },
    onClose: () => {},
  });
  const line = (r: Seen) => `${r.head.method} ${r.head.url} ${r.head.reread?.version ?? `HTTP/${r.head.versionMajor}.${r.head.versionMinor}`}`;
  return { socket, requests, rejections, line };
}

/** Lets queued pipelined requests start (the connection starts the next one on a later tick). */
const ticks = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

describe('ClientConnection: a head llhttp refuses is read again (spec 13.1)', () => {
  it('however it arrives: in three reads, the refusal coming in the first', async () => {
    const c = connection();
    c.socket.feed('FOO /a b HT');
    c.socket.feed('TP/1.2\r\nHost: x\r\nX Y: 1');
    expect(c.requests).toEqual([]);
    c.socket.feed('\r\n\r\n');
    expect(c.requests.map(c.line)).toEqual(['FOO /a b HTTP/1.2']);
    expect(c.requests[0]!.head.headers).toEqual(['Host', 'x', 'X Y', '1']);
    expect(c.requests[0]!.head.reread).toEqual({ version: 'HTTP/1.2', framing: 'none' });
    expect(c.rejections).toEqual([]);
  });

  it('behind a bodyless request in the same read, and again behind that one', async () => {
    const c = connection();
    c.socket.feed('GET /ok HTTP/1.1\r\nHost: x\r\n\r\nFOO /one HTTP/1.1\r\nHost: x\r\n\r\nGET /a\tb HTTP/1.1\r\nHost: x\r\n\r\n');
    await ticks();
    expect(c.requests.map(c.line)).toEqual(['GET /ok HTTP/1.1', 'FOO /one HTTP/1.1', 'GET /a\tb HTTP/1.1']);
    expect(c.socket.written.match(/HTTP\/1\.1 200 OK/g)).toHaveLength(3);
  });

  it('behind a Content-Length body in the same read', async () => {
    const c = connection();
    c.socket.feed('POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcFOO /b HTTP/1.1\r\nHost: x\r\n\r\n');
    await ticks();
    expect(c.requests.map((r) => [c.line(r), r.body])).toEqual([
      ['POST /a HTTP/1.1', 'abc'],
      ['FOO /b HTTP/1.1', ''],
    ]);
  });

  it('frames its body by its own headers: two equal Content-Lengths, the body over two reads', async () => {
    const c = connection();
    c.socket.feed('POST /d HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nab');
    c.socket.feed('cdeGET /next HTTP/1.1\r\n\r\n');
    await ticks();
    expect(c.requests.map((r) => [c.line(r), r.body])).toEqual([
      ['POST /d HTTP/1.1', 'abcde'],
      ['GET /next HTTP/1.1', ''],
    ]);
  });

  it('frames Transfer-Encoding with Content-Length as chunked', async () => {
    const c = connection();
    c.socket.feed('POST /tc HTTP/1.1\r\nContent-Length: 99\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n');
    await ticks();
    expect(c.requests.map((r) => [c.line(r), r.body, r.head.reread?.framing])).toEqual([['POST /tc HTTP/1.1', 'abc', 'chunked']]);
  });

  it('a head that cannot be forwarded as received reaches the pipeline bodyless, and nothing after it is read', async () => {
    const c = connection();
    c.socket.feed('POST /m HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcdGET /smuggled HTTP/1.1\r\n\r\n');
    await ticks();
    expect(c.requests.map((r) => [c.line(r), r.head.reread?.unforwardable])).toEqual([['POST /m HTTP/1.1', 'a Content-Length that cannot be read']]);
    expect(c.socket.written).toMatch(/Connection: close/);
  });

  it('after a chunked body in the same read, where the next head starts is llhttp\'s: its refusal stands', async () => {
    const c = connection();
    c.socket.feed('POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nFOO /b HTTP/1.1\r\n\r\n');
    await ticks();
    expect(c.requests.map(c.line)).toEqual(['POST /a HTTP/1.1']);
    expect(c.rejections.map((r) => r.kind === 'parse' && r.error.code)).toEqual(['HPE_INVALID_METHOD']);
  });

  it.each([
    ['a TLS ClientHello', '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03'],
    ['bare-LF line ends', 'GET / HTTP/1.1\nHost: x\n'],
    ['a header line without a colon', 'GET /a b HTTP/1.1\r\nno colon\r\n\r\n'],
  ])('refuses %s at once, as llhttp did', (_title, bytes) => {
    const c = connection();
    c.socket.feed(bytes);
    expect(c.requests).toEqual([]);
    expect(c.rejections).toHaveLength(1);
  });

  it('refuses a head still being read when the client ends its side', () => {
    const c = connection();
    c.socket.feed('FOO / HTTP/1.1\r\nHost: x\r\n');
    expect(c.rejections).toEqual([]);
    c.socket.emit('end');
    expect(c.rejections.map((r) => r.kind === 'parse' && r.error.code)).toEqual(['HPE_INVALID_METHOD']);
  });

  it('refuses a refused head that grows over 64 KiB without ending', () => {
    const c = connection();
    c.socket.feed('FOO / HTTP/1.1\r\n');
    for (let i = 0; i < 9; i++) c.socket.feed(`X-H${i}: ${'h'.repeat(8 * 1024)}\r\n`);
    expect(c.rejections.map((r) => r.kind === 'parse' && r.error.code)).toEqual(['HPE_HEADER_OVERFLOW']);
  });
});
