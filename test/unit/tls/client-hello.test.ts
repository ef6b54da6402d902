/**
 * The ClientHello reader (spec 12.6.3, 8.2) against ClientHellos Node's own TLS client writes
 * (captured from an in-memory stream: no sockets), cut at every byte and re-framed into many
 * records, hand-built TLS 1.0 hellos, and garbage of every kind; random bytes never throw.
 */
import { Duplex } from 'node:stream';
import tls from 'node:tls';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_CLIENT_HELLO_BYTES, peekClientHello } from '../../../src/tls/client-hello.ts';

/** The first flight a Node TLS client sends with these options. */
function nodeClientHello(options: tls.ConnectionOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let settled = false;
    const wire = new Duplex({
      read() {},
      write(chunk: Buffer, _encoding, done) {
        chunks.push(chunk);
        done();
        if (!settled) {
          settled = true;
          // The whole first flight is written at once; end the client without answering.
          setImmediate(() => {
            socket.destroy();
            resolve(Buffer.concat(chunks));
          });
        }
      },
    });
    const socket = tls.connect({ socket: wire, rejectUnauthorized: false, ...options });
    socket.on('error', (err) => {
      if (!settled) reject(err);
    });
  });
}

/** Record header + handshake header + body, for hand-built hellos. */
function record(handshake: Buffer, version = 0x0301): Buffer {
  const header = Buffer.from([22, version >> 8, version & 0xff, handshake.length >> 8, handshake.length & 0xff]);
  return Buffer.concat([header, handshake]);
}

function handshakeMessage(type: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([type, body.length >> 16, (body.length >> 8) & 0xff, body.length & 0xff]), body]);
}

const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);

function extension(type: number, data: Buffer): Buffer {
  return Buffer.concat([u16(type), u16(data.length), data]);
}

function alpnExtension(names: readonly string[]): Buffer {
  const list = Buffer.concat(names.map((n) => Buffer.concat([Buffer.from([n.length]), Buffer.from(n, 'latin1')])));
  return extension(16, Buffer.concat([u16(list.length), list]));
}

function sniExtension(name: string): Buffer {
  const entry = Buffer.concat([Buffer.from([0]), u16(name.length), Buffer.from(name)]);
  return extension(0, Buffer.concat([u16(entry.length), entry]));
}

/** A TLS 1.0-style ClientHello body; `extensions` undefined leaves the extensions block out. */
function helloBody(extensions: readonly Buffer[] | undefined, sessionId = Buffer.alloc(0)): Buffer {
  const parts = [Buffer.from([3, 1]), Buffer.alloc(32, 7), Buffer.from([sessionId.length]), sessionId, u16(4), Buffer.from([0x00, 0x2f, 0x00, 0x35]), Buffer.from([1, 0])];
  if (extensions !== undefined) {
    const block = Buffer.concat(extensions);
    parts.push(u16(block.length), block);
  }
  return Buffer.concat(parts);
}

/** Re-frames a flight's first handshake message into records of at most `size` bytes each. */
function reframe(flight: Buffer, size: number): Buffer {
  const length = flight.readUInt16BE(3);
  const message = flight.subarray(5, 5 + length);
  const records: Buffer[] = [];
  for (let at = 0; at < message.length; at += size) records.push(record(message.subarray(at, at + size), 0x0303));
  return Buffer.concat(records);
}

describe('peekClientHello on Node TLS client hellos', () => {
  it.each([
    [{ servername: 'a.example.test', ALPNProtocols: ['h2', 'http/1.1'] }, 'a.example.test', ['h2', 'http/1.1']],
    [{ servername: 'b.example.test', ALPNProtocols: ['http/1.1'] }, 'b.example.test', ['http/1.1']],
    [{ servername: '', ALPNProtocols: ['h2'] }, undefined, ['h2']],
    [{ servername: 'no-alpn.example.test' }, 'no-alpn.example.test', undefined],
    [{ servername: '' }, undefined, undefined],
    [{ servername: 'x.example.test', ALPNProtocols: ['spdy/3', 'grpc-exp', 'h2'], maxVersion: 'TLSv1.2' as const }, 'x.example.test', ['spdy/3', 'grpc-exp', 'h2']],
  ])('reads SNI and ALPN from %j', async (options, serverName, alpn) => {
    const flight = await nodeClientHello(options);
    expect(peekClientHello(flight)).toEqual({ status: 'complete', hello: { serverName, alpnProtocols: alpn } });
  });

  it('says incomplete for every prefix of a ClientHello cut at any byte, and complete for the whole one', async () => {
    const flight = await nodeClientHello({ servername: 'cut.example.test', ALPNProtocols: ['h2', 'http/1.1'] });
    const total = 5 + flight.readUInt16BE(3);
    for (let n = 0; n < total; n++) expect(peekClientHello(flight.subarray(0, n)).status, `after ${n} of ${total} bytes`).toBe('incomplete');
    expect(peekClientHello(flight.subarray(0, total))).toMatchObject({ status: 'complete', hello: { serverName: 'cut.example.test' } });
  });

  it.each([1, 7, 100, 512])('reassembles a ClientHello spread over records of %i bytes, cut at every record boundary', async (size) => {
    const flight = await nodeClientHello({ servername: 'records.example.test', ALPNProtocols: ['http/1.1', 'h2'] });
    const framed = reframe(flight, size);
    expect(peekClientHello(framed)).toEqual({ status: 'complete', hello: { serverName: 'records.example.test', alpnProtocols: ['http/1.1', 'h2'] } });
    let at = 0;
    while (at < framed.length) {
      const next = at + 5 + framed.readUInt16BE(at + 3);
      if (next < framed.length) expect(peekClientHello(framed.subarray(0, next)).status).toBe('incomplete');
      at = next;
    }
  });

  it('ignores what follows the ClientHello (more records in the same read)', async () => {
    const flight = await nodeClientHello({ servername: 'more.example.test', ALPNProtocols: ['h2'] });
    const withMore = Buffer.concat([flight, Buffer.from([23, 3, 3, 0, 2, 1, 2]), Buffer.from('garbage')]);
    expect(peekClientHello(withMore)).toMatchObject({ status: 'complete', hello: { alpnProtocols: ['h2'] } });
  });
});

describe('peekClientHello on hand-built hellos', () => {
  it('reads a ClientHello without extensions (TLS 1.0 allows it)', () => {
    expect(peekClientHello(record(handshakeMessage(1, helloBody(undefined))))).toEqual({ status: 'complete', hello: { serverName: undefined, alpnProtocols: undefined } });
  });

  it('reads ALPN names byte for byte and takes the first host_name', () => {
    const body = helloBody([sniExtension('first.example.test'), alpnExtension(['h2', 'x"y,z', 'http/1.0'])], Buffer.alloc(32, 1));
    expect(peekClientHello(record(handshakeMessage(1, body)))).toEqual({ status: 'complete', hello: { serverName: 'first.example.test', alpnProtocols: ['h2', 'x"y,z', 'http/1.0'] } });
  });

  it.each([
    ['an HTTP request', Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), /first byte 0x47/],
    ['an SSLv2-style hello', Buffer.from([0x80, 0x2e, 0x01, 0x03, 0x01]), /first byte 0x80/],
    ['a record of another major version', Buffer.from([22, 4, 1, 0, 10]), /major 4/],
    ['a record longer than 2^14', Buffer.from([22, 3, 1, 0x40, 0x01]), /record length 16385/],
    ['an empty record', Buffer.from([22, 3, 1, 0, 0]), /record length 0/],
    ['a ServerHello', record(handshakeMessage(2, helloBody(undefined))), /handshake type 2/],
    ['a ServerHello cut short (refused before the rest arrives)', record(handshakeMessage(2, helloBody(undefined))).subarray(0, 8), /handshake type 2/],
    ['a session id over 32 bytes', record(handshakeMessage(1, helloBody(undefined, Buffer.alloc(33)))), /legacy_session_id/],
    ['an empty ALPN name', record(handshakeMessage(1, helloBody([alpnExtension(['h2', ''])]))), /application_layer_protocol_negotiation/],
    ['an empty ALPN list', record(handshakeMessage(1, helloBody([extension(16, u16(0))]))), /application_layer_protocol_negotiation/],
    ['ALPN twice', record(handshakeMessage(1, helloBody([alpnExtension(['h2']), alpnExtension(['h2'])]))), /appears twice/],
    ['an extension past the end', record(handshakeMessage(1, Buffer.concat([helloBody([]).subarray(0, -2), u16(4), u16(16), u16(10)]))), /past the end|do not match/],
    ['a handshake message longer than the limit', record(Buffer.from([1, 0x02, 0x00, 0x00, 0, 0])), /over 65536/],
  ])('refuses %s', (_name, bytes, reason) => {
    const peek = peekClientHello(bytes);
    expect(peek.status).toBe('invalid');
    expect(peek.status === 'invalid' && peek.reason).toMatch(reason);
  });

  it('refuses an alert record between the records of a ClientHello', async () => {
    const flight = await nodeClientHello({ servername: 'split.example.test' });
    const framed = reframe(flight, 200);
    const first = 5 + framed.readUInt16BE(3);
    const spliced = Buffer.concat([framed.subarray(0, first), Buffer.from([21, 3, 3, 0, 2, 2, 40]), framed.subarray(first)]);
    expect(peekClientHello(spliced)).toMatchObject({ status: 'invalid', reason: /non-handshake record/ });
  });

  it(`stops at ${MAX_CLIENT_HELLO_BYTES} bytes: a ClientHello whose records add up to more is invalid, not awaited`, () => {
    // 65,000 bytes of handshake fit the limit; in 100-byte records (5 bytes of header each) they do not.
    const message = handshakeMessage(1, Buffer.alloc(65_000));
    const records: Buffer[] = [];
    for (let at = 0; at < message.length; at += 100) records.push(record(message.subarray(at, at + 100), 0x0303));
    const chain = Buffer.concat(records);
    expect(chain.length).toBeGreaterThan(MAX_CLIENT_HELLO_BYTES);
    expect(peekClientHello(chain)).toMatchObject({ status: 'invalid', reason: /over 65536/ });
    expect(peekClientHello(chain.subarray(0, 30_000)).status).toBe('incomplete');
  });
});

describe('peekClientHello on random input', () => {
  it('never throws and always answers one of the three statuses', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.boolean(), (bytes, asRecord) => {
        const input = asRecord ? Buffer.concat([Buffer.from([22, 3, 1, bytes.length >> 8, bytes.length & 0xff, 1]), bytes]) : bytes;
        expect(['incomplete', 'complete', 'invalid']).toContain(peekClientHello(input).status);
      }),
      { numRuns: 2_000 },
    );
  });
});
