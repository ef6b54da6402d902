/**
 * Property tests for the request headers sent to a target (spec 5.3–5.5, RFC 9110 7.6.1):
 * X-Forwarded-For in each mode and with the client port, the 463 address count, hop-by-hop
 * headers never forwarded, end-to-end headers kept in order, one X-Forwarded-Proto/-Port.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { forwardedForCount, upstreamHeaders, type ClientAddress, type ForwardHeaderOptions } from '../../../src/l7/headers.ts';

const NOW_MS = 0x63441c4a * 1000;

/** The hop-by-hop headers of RFC 9110 7.6.1 and the ones proxies also drop. */
const HOP_BY_HOP = ['connection', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'proxy-connection'];
/** Headers the load balancer sets itself (spec 5.3–5.5). */
const SET_BY_ALB = ['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-port', 'x-amzn-trace-id', 'host'];

type Pair = readonly [name: string, value: string];

/** A header name in the spellings clients send: as registered, lower case, upper case. */
const spelled = (...names: string[]) => fc.constantFrom(...names.flatMap((n) => [n, n.toLowerCase(), n.toUpperCase()]));

const addressItem = fc.oneof(fc.ipV4(), fc.ipV6(), fc.constantFrom('', ' ', 'unknown', '_hidden', '203.0.113.7:443', '[2001:db8::1]:80'));
const separator = fc.constantFrom(',', ', ', ' , ', ',,', ',\t');
/** An incoming X-Forwarded-For value: addresses, junk and empty items with assorted separators and spaces. */
const xffValue = fc.oneof(
  fc.array(fc.tuple(addressItem, separator), { maxLength: 5 }).map((items) => items.map(([a, s], i) => (i === items.length - 1 ? a : a + s)).join('')),
  fc.string({ unit: fc.constantFrom('1', '0', '.', ':', 'a', ',', ' ', '\t'), maxLength: 12 }),
);
const xffHeader = fc.tuple(spelled('X-Forwarded-For'), xffValue);

/** End-to-end headers, some of which a Connection header may name. */
const NAMEABLE = ['X-Named-One', 'X-Named-Two'];
const endToEnd = fc.tuple(spelled('Accept', 'Cookie', 'X-Custom', 'User-Agent', ...NAMEABLE), fc.string({ maxLength: 8 }));
const connectionToken = fc.constantFrom('close', 'keep-alive', 'upgrade', 'TE', 'trailer', ...NAMEABLE, ...NAMEABLE.map((n) => n.toLowerCase()));
const connectionHeader = fc.tuple(
  spelled('Connection'),
  fc.array(fc.tuple(connectionToken, fc.constantFrom(',', ', ', ' ,')), { minLength: 1, maxLength: 3 }).map((ts) => ts.map(([t, s]) => t + s).join('').replace(/[ ,]+$/, '')),
);
const hopByHop = fc.tuple(spelled('Keep-Alive', 'TE', 'Trailer', 'Transfer-Encoding', 'Upgrade', 'Proxy-Connection'), fc.constantFrom('timeout=5', 'chunked', 'trailers', 'websocket', 'x'));
const setByAlb = fc.tuple(spelled('X-Forwarded-Proto', 'X-Forwarded-Port', 'Host', 'X-Amzn-Trace-Id'), fc.constantFrom('https', '443', 'example.com', 'Root=1-67891233-abcdef012345678912345678', ''));

const rawHeaders = fc
  .array(fc.oneof({ weight: 3, arbitrary: xffHeader }, { weight: 3, arbitrary: endToEnd }, connectionHeader, hopByHop, setByAlb), { maxLength: 12 })
  .map((pairs): Pair[] => pairs);

const client: fc.Arbitrary<ClientAddress> = fc.record({ ip: fc.oneof(fc.ipV4(), fc.ipV6()), port: fc.integer({ min: 1, max: 65535 }) });
const options: fc.Arbitrary<ForwardHeaderOptions> = fc.record({
  xffMode: fc.constantFrom('append', 'preserve', 'remove'),
  xffClientPort: fc.boolean(),
  preserveHost: fc.boolean(),
  listenerPort: fc.integer({ min: 1, max: 65535 }),
  protocol: fc.constantFrom('http', 'https'),
  tlsHeaders: fc.boolean(),
});

function pairsOf(flat: readonly string[]): Pair[] {
  const out: Pair[] = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  return out;
}

function valuesOf(pairs: readonly Pair[], name: string): string[] {
  return pairs.filter(([n]) => n.toLowerCase() === name).map(([, v]) => v);
}

/** The item ALB appends (spec 5.3): `ip`, or `ip:port` / `[ipv6]:port` with xff_client_port. */
function clientItem(c: ClientAddress, withPort: boolean): string {
  if (!withPort) return c.ip;
  return c.ip.includes(':') ? `[${c.ip}]:${c.port}` : `${c.ip}:${c.port}`;
}

function countItems(values: readonly string[]): number {
  return values.flatMap((v) => v.split(',')).filter((item) => item.trim() !== '').length;
}

const RUNS = 2000;

describe('upstreamHeaders: X-Forwarded-For by mode (spec 5.3)', () => {
  it('append: sends one header, the incoming non-empty values joined with ", " then ", <client>" (the client alone when there were none)', () => {
    fc.assert(
      fc.property(rawHeaders, client, options, (raw, c, o) => {
        const opts = { ...o, xffMode: 'append' } as const;
        const out = pairsOf(upstreamHeaders(raw.flat(), c, opts, NOW_MS).headers);
        const incoming = valuesOf(raw, 'x-forwarded-for');
        const me = clientItem(c, opts.xffClientPort);
        // An empty header line counts as no header: it adds nothing, not an empty item.
        const given = incoming.filter((v) => v.trim() !== '');
        expect(valuesOf(out, 'x-forwarded-for')).toEqual([given.length === 0 ? me : `${given.join(', ')}, ${me}`]);
        expect(forwardedForCount(out.flat())).toBe(countItems(incoming) + 1);
      }),
      {
        numRuns: RUNS,
        // Two empty header lines hold no more addresses than one empty line, which counts as absent.
        examples: [[[['X-Forwarded-For', ''], ['X-Forwarded-For', '']], { ip: '127.0.0.1', port: 54321 }, { xffMode: 'append', xffClientPort: false, preserveHost: false, listenerPort: 80, protocol: 'http', tlsHeaders: false }]],
      },
    );
  });

  it('preserve: sends the incoming list unchanged (absent stays absent), whatever xff_client_port says', () => {
    fc.assert(
      fc.property(rawHeaders, client, options, (raw, c, o) => {
        const out = pairsOf(upstreamHeaders(raw.flat(), c, { ...o, xffMode: 'preserve' }, NOW_MS).headers);
        const incoming = valuesOf(raw, 'x-forwarded-for');
        const sent = valuesOf(out, 'x-forwarded-for');
        if (incoming.length === 0) expect(sent).toEqual([]);
        else if (incoming.length === 1) expect(sent).toEqual(incoming);
        else expect(sent.join(', ')).toBe(incoming.join(', '));
      }),
      { numRuns: RUNS },
    );
  });

  it('remove: sends no X-Forwarded-For, whatever xff_client_port says', () => {
    fc.assert(
      fc.property(rawHeaders, client, options, (raw, c, o) => {
        const out = pairsOf(upstreamHeaders(raw.flat(), c, { ...o, xffMode: 'remove' }, NOW_MS).headers);
        expect(valuesOf(out, 'x-forwarded-for')).toEqual([]);
      }),
      { numRuns: RUNS },
    );
  });
});

describe('forwardedForCount (spec 5.3, the 463 limit)', () => {
  it('counts the non-empty comma-separated items of every X-Forwarded-For header, and nothing else', () => {
    fc.assert(
      fc.property(rawHeaders, (raw) => {
        expect(forwardedForCount(raw.flat())).toBe(countItems(valuesOf(raw, 'x-forwarded-for')));
      }),
      { numRuns: RUNS },
    );
  });
});

describe('upstreamHeaders: what else reaches the target (spec 5.4, 5.5; RFC 9110 7.6.1)', () => {
  it('never forwards hop-by-hop headers or the headers Connection names; keeps every other end-to-end header in order', () => {
    fc.assert(
      fc.property(rawHeaders, client, options, (raw, c, o) => {
        const out = pairsOf(upstreamHeaders(raw.flat(), c, o, NOW_MS).headers);
        const named = new Set(valuesOf(raw, 'connection').flatMap((v) => v.split(',').map((t) => t.trim().toLowerCase())));
        const outNames = out.map(([n]) => n.toLowerCase());
        for (const name of [...HOP_BY_HOP, ...named]) expect(outNames).not.toContain(name);
        const kept = raw.filter(([n]) => !HOP_BY_HOP.includes(n.toLowerCase()) && !named.has(n.toLowerCase()) && !SET_BY_ALB.includes(n.toLowerCase()));
        expect(out.filter(([n]) => !SET_BY_ALB.includes(n.toLowerCase()))).toEqual(kept);
      }),
      { numRuns: RUNS },
    );
  });

  it('sends exactly one X-Forwarded-Proto (the listener protocol), X-Forwarded-Port (the listener port) and X-Amzn-Trace-Id', () => {
    fc.assert(
      fc.property(rawHeaders, client, options, (raw, c, o) => {
        const result = upstreamHeaders(raw.flat(), c, o, NOW_MS);
        const out = pairsOf(result.headers);
        expect(valuesOf(out, 'x-forwarded-proto')).toEqual([o.protocol]);
        expect(valuesOf(out, 'x-forwarded-port')).toEqual([String(o.listenerPort)]);
        expect(valuesOf(out, 'x-amzn-trace-id')).toEqual([result.traceId]);
      }),
      { numRuns: RUNS },
    );
  });
});
