import { describe, expect, it } from 'vitest';
import { downstreamHeaders, forwardedForCount, MAX_XFF_ADDRESSES, plainIp, rewriteHost, upstreamHeaders, type ForwardHeaderOptions } from '../../../src/l7/headers.ts';

const NOW_MS = 0x63441c4a * 1000;
const CLIENT = { ip: '127.0.0.1', port: 54321 };
const defaults: ForwardHeaderOptions = { xffMode: 'append', xffClientPort: false, preserveHost: false, listenerPort: 8080, protocol: 'http', tlsHeaders: false };

/** Runs upstreamHeaders and returns the outgoing headers as [name, value] pairs. */
function forward(raw: string[], options: Partial<ForwardHeaderOptions> = {}, client = CLIENT, hostOverride?: string) {
  const result = upstreamHeaders(raw, client, { ...defaults, ...options }, NOW_MS, hostOverride);
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i < result.headers.length; i += 2) pairs.push([result.headers[i]!, result.headers[i + 1]!]);
  const all = (name: string) => pairs.filter(([n]) => n.toLowerCase() === name.toLowerCase()).map(([, v]) => v);
  return { result, pairs, all, one: (name: string) => all(name)[0] };
}

describe('upstreamHeaders: X-Forwarded-For (spec 5.3)', () => {
  it.each([
    // [incoming XFF headers, mode, expected XFF values]
    [[], 'append', ['127.0.0.1']],
    [[], 'preserve', []],
    [[], 'remove', []],
    [['127.0.0.4'], 'append', ['127.0.0.4, 127.0.0.1']],
    [['127.0.0.4'], 'preserve', ['127.0.0.4']],
    [['127.0.0.4'], 'remove', []],
    [['127.0.0.4, 127.0.0.8'], 'append', ['127.0.0.4, 127.0.0.8, 127.0.0.1']],
    [['127.0.0.4, 127.0.0.8'], 'preserve', ['127.0.0.4, 127.0.0.8']],
    [['127.0.0.4, 127.0.0.8'], 'remove', []],
  ] as const)('with incoming %j in %s mode sends %j', (incoming, xffMode, expected) => {
    const raw = ['Host', 'example.com', ...incoming.flatMap((v) => ['X-Forwarded-For', v])];
    expect(forward(raw, { xffMode }).all('x-forwarded-for')).toEqual(expected);
  });

  it('joins several incoming X-Forwarded-For headers into one before appending', () => {
    const { all } = forward(['X-Forwarded-For', '10.0.0.1', 'x-forwarded-for', '10.0.0.2']);
    expect(all('x-forwarded-for')).toEqual(['10.0.0.1, 10.0.0.2, 127.0.0.1']);
  });

  it('treats an empty incoming X-Forwarded-For as absent when appending', () => {
    expect(forward(['X-Forwarded-For', '']).all('x-forwarded-for')).toEqual(['127.0.0.1']);
  });

  it.each([
    [{ ip: '192.0.2.10', port: 2817 }, '192.0.2.10:2817'],
    [{ ip: '2001:db8::21f:5bff:febf:ce22', port: 8080 }, '[2001:db8::21f:5bff:febf:ce22]:8080'],
  ])('appends the client port when xff_client_port is on: %j → %s', (client, item) => {
    expect(forward([], { xffClientPort: true }, client).one('x-forwarded-for')).toBe(item);
    expect(forward(['X-Forwarded-For', '203.0.113.1'], { xffClientPort: true }, client).one('x-forwarded-for')).toBe(`203.0.113.1, ${item}`);
  });

  it('appends an IPv6 client without brackets when xff_client_port is off', () => {
    expect(forward([], {}, { ip: '2001:db8::1', port: 1 }).one('x-forwarded-for')).toBe('2001:db8::1');
  });

  it.each(['preserve', 'remove'] as const)('ignores xff_client_port in %s mode', (xffMode) => {
    expect(forward(['X-Forwarded-For', '203.0.113.1'], { xffMode, xffClientPort: true }).all('x-forwarded-for')).toEqual(xffMode === 'preserve' ? ['203.0.113.1'] : []);
  });

  it.each([
    [MAX_XFF_ADDRESSES, true],
    [MAX_XFF_ADDRESSES + 1, false],
    [50, false],
  ])('counts %i addresses in the incoming X-Forwarded-For (within the 463 limit: %s)', (n, within) => {
    const list = Array.from({ length: n }, (_, i) => `10.0.0.${i}`).join(', ');
    expect(forwardedForCount(['X-Forwarded-For', list])).toBe(n);
    expect(forwardedForCount(['X-Forwarded-For', list]) <= MAX_XFF_ADDRESSES).toBe(within);
  });

  it('counts addresses across several X-Forwarded-For headers for the 463 limit, ignoring empty items', () => {
    const half = Array.from({ length: 16 }, (_, i) => `10.0.0.${i}`).join(',');
    expect(forwardedForCount(['X-Forwarded-For', half, 'x-forwarded-for', `${half}, ,`])).toBe(32);
  });

  it('is 30 in MAX_XFF_ADDRESSES', () => {
    expect(MAX_XFF_ADDRESSES).toBe(30);
  });
});

describe('upstreamHeaders: hop-by-hop headers (RFC 9110 7.6.1)', () => {
  it.each(['Connection', 'Keep-Alive', 'Proxy-Connection', 'TE', 'Trailer', 'Transfer-Encoding', 'Upgrade', 'HTTP2-Settings'])('drops %s', (name) => {
    const { all, one } = forward([name, 'x', 'X-Kept', 'yes']);
    expect(all(name)).toEqual([]);
    expect(one('x-kept')).toBe('yes');
  });

  it('drops the headers the Connection header names, across several Connection headers', () => {
    const { all, one } = forward(['Connection', 'close, X-Secret', 'connection', 'x-other', 'X-Secret', 's', 'X-Other', 'o', 'X-Kept', 'k']);
    expect(all('x-secret')).toEqual([]);
    expect(all('x-other')).toEqual([]);
    expect(one('x-kept')).toBe('k');
  });

  it('keeps end-to-end headers in their original order and spelling', () => {
    const { pairs } = forward(['Accept', 'a', 'x-Custom', 'c', 'Cookie', 'k=1', 'Cookie', 'k=2']);
    expect(pairs.slice(0, 4)).toEqual([
      ['Accept', 'a'],
      ['x-Custom', 'c'],
      ['Cookie', 'k=1'],
      ['Cookie', 'k=2'],
    ]);
  });
});

describe('upstreamHeaders: X-Forwarded-Proto and X-Forwarded-Port (spec 5.4)', () => {
  it('sets the listener protocol and port', () => {
    const { one } = forward(['Host', 'example.com'], { listenerPort: 8443, protocol: 'https' });
    expect(one('x-forwarded-proto')).toBe('https');
    expect(one('x-forwarded-port')).toBe('8443');
  });

  it('overwrites values the client sent, leaving one of each', () => {
    const { all } = forward(['X-Forwarded-Proto', 'https', 'X-Forwarded-Port', '443', 'x-forwarded-proto', 'ftp']);
    expect(all('x-forwarded-proto')).toEqual(['http']);
    expect(all('x-forwarded-port')).toEqual(['8080']);
  });
});

describe('Host (spec 5.4)', () => {
  it.each([
    // [incoming Host, listener port, sent Host]
    ['example.com', 80, 'example.com'],
    ['example.com:80', 80, 'example.com'],
    ['example.com:8080', 80, 'example.com'],
    ['example.com:8443', 443, 'example.com'],
    ['example.com', 443, 'example.com'],
    ['example.com', 8080, 'example.com:8080'],
    ['example.com:9000', 8080, 'example.com:9000'],
    ['example.com:8080', 8080, 'example.com:8080'],
    ['example.com:', 8080, 'example.com:8080'],
    ['[::1]', 8080, '[::1]:8080'],
    ['[::1]:9000', 8080, '[::1]:9000'],
    ['[::1]:80', 80, '[::1]'],
    ['10.0.0.1', 3000, '10.0.0.1:3000'],
  ])('rewrites Host %j on listener port %i to %j', (host, port, expected) => {
    expect(rewriteHost(host, port)).toBe(expected);
    expect(forward(['Host', host], { listenerPort: port }).all('host')).toEqual([expected]);
  });

  it('sends every Host header unchanged when preserve_host_header is on', () => {
    const { all } = forward(['Host', 'a.example.com', 'Host', 'b.example.com:1'], { preserveHost: true, listenerPort: 80 });
    expect(all('host')).toEqual(['a.example.com', 'b.example.com:1']);
  });

  it('sends one rewritten Host (the first) when preservation is off', () => {
    const { all } = forward(['Host', 'a.example.com', 'Host', 'b.example.com'], { listenerPort: 8080 });
    expect(all('host')).toEqual(['a.example.com:8080']);
  });

  it.each([
    [false, 80, 'dns.example.com'],
    [false, 8080, 'dns.example.com:8080'],
    [true, 8080, 'dns.example.com'],
  ])('uses the absolute-form URI host instead of the Host header (preserve %s, port %i → %s)', (preserveHost, listenerPort, expected) => {
    const { all } = forward(['Host', 'ignored.example.com'], { preserveHost, listenerPort }, CLIENT, 'dns.example.com');
    expect(all('host')).toEqual([expected]);
  });

  it('sends no Host when the client sent none', () => {
    const { all } = forward([]);
    expect(all('host')).toEqual([]);
  });
});

describe('upstreamHeaders: X-Amzn-Trace-Id (spec 5.5)', () => {
  it('adds a Root trace id from the request time and returns it', () => {
    const { result, all } = forward([]);
    expect(all('x-amzn-trace-id')).toHaveLength(1);
    expect(all('x-amzn-trace-id')[0]).toMatch(/^Root=1-63441c4a-[0-9a-f]{24}$/);
    expect(result.traceId).toBe(all('x-amzn-trace-id')[0]);
  });

  it('inserts Self before the Root the client sent, and keeps only one header', () => {
    const { all } = forward(['X-Amzn-Trace-Id', 'Root=1-67891233-abcdef012345678912345678']);
    expect(all('x-amzn-trace-id')).toHaveLength(1);
    expect(all('x-amzn-trace-id')[0]).toMatch(/^Self=1-63441c4a-[0-9a-f]{24};Root=1-67891233-abcdef012345678912345678$/);
  });

  const client = 'Self=1-67891233-111111111111111111111111;Root=1-67891233-abcdef012345678912345678;CalledFrom=app';
  /** Pads the client's headers to `bytes` in all, counting each as `name: value` and its CRLF. */
  const padded = (trace: string, bytes: number) => {
    const base = 'X-Amzn-Trace-Id'.length + trace.length + 4 + 'X-Pad'.length + 4;
    return ['X-Amzn-Trace-Id', trace, 'X-Pad', 'p'.repeat(bytes - base)];
  };

  it.each([
    ['7 KiB exactly: Self, Root and the custom field', 7 * 1024, /^Self=1-63441c4a-[0-9a-f]{24};Root=1-67891233-abcdef012345678912345678;CalledFrom=app$/],
    ['over 7 KiB: the client Root alone', 7 * 1024 + 1, /^Root=1-67891233-abcdef012345678912345678$/],
  ])('with request headers of %s', (_title, bytes, expected) => {
    const { result, all } = forward(padded(client, bytes));
    expect(all('x-amzn-trace-id')).toEqual([result.traceId]);
    expect(result.traceId).toMatch(expected);
  });

  it('a trace header over 7 KiB by itself becomes only a Root field (spec 5.5)', () => {
    const { result } = forward(['X-Amzn-Trace-Id', `Root=1-67891233-abcdef012345678912345678;Big=${'b'.repeat(8 * 1024)}`]);
    expect(result.traceId).toBe('Root=1-67891233-abcdef012345678912345678');
  });

  it('over 7 KiB of headers and no Root from the client: a new Root', () => {
    expect(forward(padded('Self=1-67891233-111111111111111111111111', 8 * 1024)).result.traceId).toMatch(/^Root=1-63441c4a-[0-9a-f]{24}$/);
  });
});

describe('upstreamHeaders: framing and header names (spec 13.1.7, 13.1.8)', () => {
  it('sends one Content-Length when the client sent the same one twice', () => {
    expect(forward(['Content-Length', '3', 'content-length', '3']).all('content-length')).toEqual(['3']);
  });

  it('sends no Content-Length beside a Transfer-Encoding (RFC 9112 6.3: chunked wins)', () => {
    const { all } = forward(['Content-Length', '30', 'Transfer-Encoding', 'chunked']);
    expect([all('content-length'), all('transfer-encoding')]).toEqual([[], []]);
  });

  it('keeps the Content-Length even when Connection names it', () => {
    expect(forward(['Connection', 'content-length', 'Content-Length', '3']).all('content-length')).toEqual(['3']);
  });

  it('never writes a name that is not a token (spaces, separators, an empty name)', () => {
    const { pairs } = forward(['X Y', '1', 'Content-Length ', '3', '', 'v', 'X@Y', '2', 'X-Ok', '3']);
    expect(pairs.filter(([n]) => !['Host', 'X-Forwarded-For', 'X-Forwarded-Proto', 'X-Forwarded-Port', 'X-Amzn-Trace-Id'].includes(n))).toEqual([['X-Ok', '3']]);
  });

  it.each([
    [false, ['X_Custom', 'X.Dotted', "X!'#", 'X-Ok', 'x-lower-9']],
    [true, ['X-Ok', 'x-lower-9']],
  ])('drop_invalid_header_fields %j forwards %j', (dropInvalidHeaderFields, kept) => {
    const raw = ['X_Custom', '1', 'X.Dotted', '2', "X!'#", '3', 'X-Ok', '4', 'x-lower-9', '5'];
    const names = forward(raw, { dropInvalidHeaderFields }).pairs.map(([n]) => n);
    expect(names.filter((n) => !['X-Forwarded-For', 'X-Forwarded-Proto', 'X-Forwarded-Port', 'X-Amzn-Trace-Id'].includes(n))).toEqual(kept);
  });
});

describe('downstreamHeaders', () => {
  it('drops hop-by-hop headers and those named by Connection, keeping the rest in order', () => {
    expect(
      downstreamHeaders([
        'Connection', 'keep-alive, X-Internal',
        'Keep-Alive', 'timeout=5',
        'Transfer-Encoding', 'chunked',
        'Upgrade', 'h2c',
        'X-Internal', 'secret',
        'Content-Type', 'text/plain',
        'Set-Cookie', 'a=1',
        'Set-Cookie', 'b=2',
        'X-Target', 'a',
      ]),
    ).toEqual({ headers: ['Content-Type', 'text/plain', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2', 'X-Target', 'a'], contentLength: undefined, hasDate: false });
  });

  it('reports the Content-Length and whether the target sent a Date, and keeps both', () => {
    expect(downstreamHeaders(['content-length', '2', 'Date', 'Tue, 01 Dec 2026 08:00:00 GMT'])).toEqual({
      headers: ['content-length', '2', 'Date', 'Tue, 01 Dec 2026 08:00:00 GMT'],
      contentLength: 2,
      hasDate: true,
    });
  });
});

describe('plainIp', () => {
  it.each([
    ['::ffff:127.0.0.1', '127.0.0.1'],
    ['127.0.0.1', '127.0.0.1'],
    ['::1', '::1'],
    ['::ffff:abcd', '::ffff:abcd'],
    [undefined, ''],
  ])('turns %j into %j', (input, expected) => {
    expect(plainIp(input)).toBe(expected);
  });
});
