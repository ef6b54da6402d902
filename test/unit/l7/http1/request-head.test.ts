import { describe, expect, it } from 'vitest';
import { hopelessHead, keepsAlive, readRequestHead, requestFraming, standInHead, unforwardable, versionNumbers } from '../../../../src/l7/http1/request-head.ts';

const bytes = (s: string) => Buffer.from(s, 'latin1');

describe('readRequestHead: a head llhttp refused, read as the desync classifier reads it (spec 13.1)', () => {
  it.each([
    ['a space in the URI: the URI runs from the first to the last space', 'GET /a b HTTP/1.1\r\nHost: x\r\n\r\n', { method: 'GET', uri: '/a b', version: 'HTTP/1.1', headers: ['Host', 'x'] }],
    ['a method llhttp does not know', 'FOO / HTTP/1.1\r\n\r\n', { method: 'FOO', uri: '/', version: 'HTTP/1.1', headers: [] }],
    ['a space before the colon stays in the name', 'POST / HTTP/1.1\r\nContent-Length : 5\r\n\r\n', { method: 'POST', uri: '/', version: 'HTTP/1.1', headers: ['Content-Length ', '5'] }],
    ['a leading space stays in the name', 'GET / HTTP/1.1\r\n Transfer-Encoding: chunked\r\n\r\n', { method: 'GET', uri: '/', version: 'HTTP/1.1', headers: [' Transfer-Encoding', 'chunked'] }],
    ['an empty name', 'GET / HTTP/1.1\r\n: v\r\n\r\n', { method: 'GET', uri: '/', version: 'HTTP/1.1', headers: ['', 'v'] }],
    ['values lose SP and HTAB around them, control bytes stay', 'GET / HTTP/1.1\r\nX:\t a\x01b \t\r\n\r\n', { method: 'GET', uri: '/', version: 'HTTP/1.1', headers: ['X', 'a\x01b'] }],
    ['a trailing space stays with the version', 'GET / HTTP/1.1 \r\n\r\n', { method: 'GET', uri: '/', version: 'HTTP/1.1 ', headers: [] }],
    ['no version: HTTP/0.9', 'GET /\r\n\r\n', { method: 'GET', uri: '/', version: '', headers: [] }],
    ['a lone LF stays inside its line', 'GET /a\nb HTTP/1.1\r\n\r\n', { method: 'GET', uri: '/a\nb', version: 'HTTP/1.1', headers: [] }],
    ['empty lines in front are skipped', '\r\n\r\nGET / HTTP/1.2\r\n\r\n', { method: 'GET', uri: '/', version: 'HTTP/1.2', headers: [] }],
  ])('%s', (_title, raw, head) => {
    expect(readRequestHead(bytes(raw))).toEqual({ head, end: raw.length });
  });

  it('ends at the empty line: what follows is the body or the next request', () => {
    const raw = 'POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcGET';
    expect(readRequestHead(bytes(raw))).toMatchObject({ end: raw.indexOf('abc') });
  });

  it('is undefined until the empty line arrives', () => {
    expect(readRequestHead(bytes('GET /a b HTTP/1.1\r\nHost: x\r\n'))).toBeUndefined();
  });

  it.each([
    ['a header line without a colon', 'GET / HTTP/1.1\r\nno colon\r\n\r\n'],
    ['an obs-fold continuation', 'GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n'],
    ['no request-target', 'GET HTTP/1.1\r\n\r\n'],
    ['two spaces and no request-target', 'GET  HTTP/1.1\r\n\r\n'],
    ['no space at all', 'garbage\r\n\r\n'],
  ])('says a head is malformed for %s', (_title, raw) => {
    expect(readRequestHead(bytes(raw))).toHaveProperty('malformed');
  });
});

describe('hopelessHead: bytes that can never become a request worth waiting for', () => {
  it.each([
    ['a TLS ClientHello', Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00]), true],
    ['bare LF line ends', bytes('GET / HTTP/1.1\nHost: x\n'), true],
    ['a lone CR', bytes('GET /\rx'), true],
    ['a NUL in the request line', bytes('GET /\x00'), true],
    ['the start of a request line', bytes('GET /a b HT'), false],
    ['a head still arriving', bytes('GET / HTTP/1.1\r\nX-Y: a\x00'), false],
    ['a CR at the end, its LF not here yet', bytes('GET / HTTP/1.1\r'), false],
  ])('%s: %s', (_title, b, hopeless) => {
    expect(hopelessHead(b)).toBe(hopeless);
  });
});

describe('requestFraming (RFC 9112 6.3)', () => {
  it.each([
    ['no framing header', [], { framing: 'none' }],
    ['a Content-Length', ['Content-Length', '5'], { framing: 5 }],
    ['two equal Content-Lengths', ['Content-Length', '5', 'content-length', '05'], { framing: 5 }],
    ['chunked', ['Transfer-Encoding', 'chunked'], { framing: 'chunked' }],
    ['chunked wins over a Content-Length', ['Content-Length', '5', 'Transfer-Encoding', 'gzip, Chunked'], { framing: 'chunked' }],
    ['identity alone is no coding', ['Transfer-Encoding', 'identity', 'Content-Length', '2'], { framing: 2 }],
    ['a look-alike is not a framing header', ['Transfer_Encoding', 'chunked', 'Content-Length', '3'], { framing: 3 }],
  ])('%s', (_title, headers, framing) => {
    expect(requestFraming(headers)).toEqual(framing);
  });

  it.each([
    ['chunked is not the last coding', ['Transfer-Encoding', 'chunked', 'Transfer-Encoding', 'identity']],
    ['gzip alone', ['Transfer-Encoding', 'gzip']],
    ['two different Content-Lengths', ['Content-Length', '5', 'Content-Length', '6']],
    ['a Content-Length that is not a number', ['Content-Length', '+5']],
    ['an empty Content-Length', ['Content-Length', '']],
  ])('cannot frame a body with %s', (_title, headers) => {
    expect(requestFraming(headers)).toHaveProperty('unreadable');
  });
});

describe('versionNumbers and unforwardable', () => {
  it.each([
    ['HTTP/1.1', { major: 1, minor: 1 }],
    ['HTTP/1.2', { major: 1, minor: 2 }],
    ['HTTP/1.0 ', { major: 1, minor: 0 }],
    ['', { major: 0, minor: 9 }],
    ['HTTP/2', { major: 2, minor: 0 }],
    ['HTTP/1.10', undefined],
    ['http/1.1', undefined],
    ['HTTP/1.x', undefined],
  ])('%j is %j', (version, numbers) => {
    expect(versionNumbers(version)).toEqual(numbers);
  });

  it.each([
    ['a lone LF in the URI', { method: 'GET', uri: '/a\nb', version: 'HTTP/1.1', headers: [] }, true],
    ['a NUL in the URI', { method: 'GET', uri: '/a\x00', version: 'HTTP/1.1', headers: [] }, true],
    ['a CR in a header value', { method: 'GET', uri: '/', version: 'HTTP/1.1', headers: ['X', 'a\rb'] }, true],
    ['a NUL in a header value (forwarded in monitor mode)', { method: 'GET', uri: '/', version: 'HTTP/1.1', headers: ['X', 'a\x00b'] }, false],
    ['an unreadable version', { method: 'GET', uri: '/', version: 'HTTP/1.x', headers: [] }, true],
    ['a space in the URI', { method: 'GET', uri: '/a b', version: 'HTTP/1.1', headers: [] }, false],
  ])('%s', (_title, head, expected) => {
    expect(unforwardable(head) !== undefined).toBe(expected);
  });
});

describe('standInHead and keepsAlive', () => {
  it.each([
    ['none', true, false, 'POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n'],
    [12, true, false, 'POST / HTTP/1.1\r\nContent-Length: 12\r\n\r\n'],
    ['chunked', false, false, 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n'],
    ['none', true, true, 'POST / HTTP/1.0\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n'],
    ['none', false, true, 'POST / HTTP/1.0\r\nContent-Length: 0\r\n\r\n'],
  ] as const)('frames %j (keep-alive %j, HTTP/1.0 %j)', (framing, keepAlive, http10, head) => {
    expect(standInHead(framing, keepAlive, http10).toString('latin1')).toBe(head);
  });

  it.each([
    [[], 1, true],
    [['Connection', 'close'], 1, false],
    [['Connection', 'Keep-Alive, Upgrade'], 0, true],
    [[], 0, false],
  ])('keepsAlive(%j, minor %i) is %j', (headers, minor, expected) => {
    expect(keepsAlive(headers, minor)).toBe(expected);
  });
});
