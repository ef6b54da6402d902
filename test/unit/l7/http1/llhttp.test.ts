/**
 * The adapter over Node's llhttp binding: what the engine relies on, pinned so a Node upgrade
 * that changes the binding fails here first.
 */
import { describe, expect, it } from 'vitest';
import { Http1Parser, type MessageHead } from '../../../../src/l7/http1/llhttp.ts';
import { chunkSizeLine, headerLines, httpDate } from '../../../../src/l7/http1/wire.ts';

function parse(kind: 'request' | 'response', chunks: string[], options: { skipBody?: boolean; maxHeaderBytes?: number } = {}) {
  const events: Array<[string, unknown]> = [];
  const parser = new Http1Parser(
    kind,
    {
      onBegin: () => void events.push(['begin', null]),
      onHead: (head: MessageHead) => {
        events.push(['head', head]);
        return options.skipBody;
      },
      onBody: (chunk) => void events.push(['body', chunk.toString()]),
      onComplete: (trailers) => void events.push(['complete', trailers]),
    },
    { maxHeaderBytes: options.maxHeaderBytes ?? 65536 },
  );
  const results = chunks.map((c) => parser.execute(Buffer.from(c, 'latin1')));
  parser.close();
  return { events, results };
}

describe('Http1Parser (llhttp through _http_common)', () => {
  it('parses pipelined requests in one buffer, with methods, targets, versions and keep-alive', () => {
    const { events, results } = parse('request', ['GET /a?b HTTP/1.1\r\nHost: x\r\n\r\nPOST /p HTTP/1.0\r\nContent-Length: 2\r\n\r\nhi']);
    expect(results).toEqual([71]);
    expect(events.map(([e]) => e)).toEqual(['begin', 'head', 'complete', 'begin', 'head', 'body', 'complete']);
    expect(events[1]![1]).toMatchObject({ method: 'GET', url: '/a?b', versionMajor: 1, versionMinor: 1, headers: ['Host', 'x'], keepAlive: true, upgrade: false });
    expect(events[4]![1]).toMatchObject({ method: 'POST', url: '/p', versionMinor: 0, keepAlive: false });
  });

  it('gathers a head split across reads and over 32 header fields (llhttp flushes them in pieces)', () => {
    const many = Array.from({ length: 40 }, (_, i) => `X-H${i}: ${i}\r\n`).join('');
    const { events } = parse('request', ['GET /sp', `lit HTTP/1.1\r\n${many.slice(0, 100)}`, `${many.slice(100)}\r\n`]);
    const head = events.find(([e]) => e === 'head')![1] as MessageHead;
    expect(head.url).toBe('/split');
    expect(head.headers).toHaveLength(80);
    expect(head.headers.slice(-2)).toEqual(['X-H39', '39']);
  });

  it('stops at the end of an Upgrade request head: the rest is the other protocol', () => {
    const { events, results } = parse('request', ['GET / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nFRAME']);
    expect(results).toEqual([59]);
    expect((events.find(([e]) => e === 'head')![1] as MessageHead).upgrade).toBe(true);
  });

  it.each([
    ['a bad request line', 'this is not http\r\n\r\n', 'HPE_INVALID_METHOD'],
    ['a header without a colon', 'GET / HTTP/1.1\r\nHost: x\r\nnope\r\n\r\n', 'HPE_INVALID_HEADER_TOKEN'],
    ['two Content-Lengths', 'POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n', 'HPE_UNEXPECTED_CONTENT_LENGTH'],
    ['Content-Length with Transfer-Encoding', 'POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n', 'HPE_INVALID_TRANSFER_ENCODING'],
    ['an HTTP/2 preface', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'HPE_PAUSED_H2_UPGRADE'],
    ['obs-fold', 'GET / HTTP/1.1\r\nX-A: a\r\n b\r\n\r\n', 'HPE_INVALID_HEADER_TOKEN'],
  ])('reports %s as %s', (_name, bytes, code) => {
    const { results } = parse('request', [bytes]);
    expect(results[0]).toMatchObject({ code });
  });

  it('reports a head over the limit as HPE_HEADER_OVERFLOW', () => {
    expect(parse('request', [`GET /${'a'.repeat(2000)} HTTP/1.1\r\n\r\n`], { maxHeaderBytes: 1000 }).results[0]).toMatchObject({ code: 'HPE_HEADER_OVERFLOW' });
  });

  it('parses responses: an interim 100 then the final one, a chunked body with trailers', () => {
    const { events } = parse('response', ['HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-T: 1\r\n\r\n']);
    const heads = events.filter(([e]) => e === 'head').map(([, h]) => (h as MessageHead).statusCode);
    expect(heads).toEqual([100, 200]);
    expect(events.filter(([e]) => e === 'body')).toEqual([['body', 'abc']]);
    expect(events.at(-1)).toEqual(['complete', ['X-T', '1']]);
  });

  it('skips the body the head of a HEAD response announces', () => {
    const { events } = parse('response', ['HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n'], { skipBody: true });
    expect(events.map(([e]) => e)).toEqual(['begin', 'head', 'complete', 'begin', 'head', 'complete']);
  });
});

describe('what llhttp refuses, so the desync classifier need not look (classifyParsedRequest, spec 13.1.3)', () => {
  const refused = (head: string) => typeof parse('request', [head]).results[0] !== 'number';
  it.each([
    ['a header name with a space', 'GET / HTTP/1.1\r\nX Y: 1\r\n\r\n'],
    ['a header name with a separator', 'GET / HTTP/1.1\r\nX@Y: 1\r\n\r\n'],
    ['a header name with a raw byte >= 0x80', 'GET / HTTP/1.1\r\nX\xc3\xa9: 1\r\n\r\n'],
    ['an empty header name', 'GET / HTTP/1.1\r\n: v\r\n\r\n'],
    ['a control byte in a header value', 'GET / HTTP/1.1\r\nX-Y: a\x01b\r\n\r\n'],
    ['DEL in a header value', 'GET / HTTP/1.1\r\nX-Y: a\x7fb\r\n\r\n'],
    ['NUL in a header value', 'GET / HTTP/1.1\r\nX-Y: a\x00b\r\n\r\n'],
    ['a lone CR in a header value', 'GET / HTTP/1.1\r\nX-Y: a\rb\r\n\r\n'],
    ['a method it does not know', 'FOO / HTTP/1.1\r\n\r\n'],
    ['a method that is not a token', 'G(T / HTTP/1.1\r\n\r\n'],
    ['a space in the URI', 'GET /a b HTTP/1.1\r\n\r\n'],
    ['a tab in the URI', 'GET /a\tb HTTP/1.1\r\n\r\n'],
    ['a control byte in the URI', 'GET /a\x01b HTTP/1.1\r\n\r\n'],
    ['a raw byte >= 0x80 in the URI', 'GET /\xc3\xa9 HTTP/1.1\r\n\r\n'],
    ['HTTP/1.2', 'GET / HTTP/1.2\r\n\r\n'],
    ['a space after the version', 'GET / HTTP/1.1 \r\n\r\n'],
    ['two Content-Lengths', 'POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx'],
    ['Transfer-Encoding with Content-Length', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n0\r\n\r\n'],
  ])('%s', (_title, head) => {
    expect(refused(head)).toBe(true);
  });

  it.each([
    ['Transfer_Encoding (a look-alike the classifier reads)', 'POST / HTTP/1.1\r\nTransfer_Encoding: chunked\r\n\r\n'],
    ['UTF-8 in a header value', 'GET / HTTP/1.1\r\nX-Y: Jos\xc3\xa9\r\n\r\n'],
    ['GET with Transfer-Encoding', 'GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
  ])('but takes %s', (_title, head) => {
    expect(refused(head)).toBe(false);
  });
});

describe('wire', () => {
  it('writes header lines and chunk sizes', () => {
    expect(headerLines(['A', '1', 'b', 'two'])).toBe('A: 1\r\nb: two\r\n');
    expect([chunkSizeLine(0), chunkSizeLine(255), chunkSizeLine(65536)]).toEqual(['0\r\n', 'ff\r\n', '10000\r\n']);
  });

  it('formats the Date header once per second', () => {
    expect(httpDate(Date.UTC(2026, 11, 1, 8, 0, 0, 100))).toBe('Tue, 01 Dec 2026 08:00:00 GMT');
    expect(httpDate(Date.UTC(2026, 11, 1, 8, 0, 0, 999))).toBe('Tue, 01 Dec 2026 08:00:00 GMT');
    expect(httpDate(Date.UTC(2026, 11, 1, 8, 0, 1, 0))).toBe('Tue, 01 Dec 2026 08:00:01 GMT');
  });
});
