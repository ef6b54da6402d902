import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { classifyParsedRequest, classifyRequest, desyncAction, type DesyncMitigationMode, type DesyncTier, type HeaderTier } from '../../../src/l7/desync.ts';
import { Http1Parser, type MessageHead } from '../../../src/l7/http1/llhttp.ts';

interface LibraryCase {
  readonly file: string;
  readonly name: string;
  readonly method: string;
  readonly uri: string;
  readonly version: string;
  readonly headers: ReadonlyArray<readonly [string, string, HeaderTier]>;
  readonly tier: DesyncTier;
  readonly reason: string;
}

/** AWS's http_desync_guardian test suite (tests/*.yaml), one case per entry: the table is the test (spec 13.1.4). */
const library = JSON.parse(readFileSync(new URL('../../fixtures/http-desync-guardian-cases.json', import.meta.url), 'utf8')) as { cases: LibraryCase[] };

const printable = (s: string) => JSON.stringify(s);

describe('classifyRequest: the cases of AWS http_desync_guardian (spec 13.1.2–13.1.5)', () => {
  it('has the whole suite', () => {
    expect(library.cases.length).toBe(158);
  });

  it.each(library.cases.map((c) => [`${c.file}: ${c.name} → ${c.tier}/${c.reason}`, c] as const))('%s', (_title, c) => {
    const headers = c.headers.flatMap(([name, value]) => [name, value]);
    const tiers: HeaderTier[] = [];
    const verdict = classifyRequest(c.method, c.uri, c.version, headers, tiers);
    expect(verdict, `${printable(c.method)} ${printable(c.uri)} ${printable(c.version)}`).toEqual({ tier: c.tier, reason: c.reason });
    // Each header's own tier, as the library marks it (Bad ones must not be forwarded as they are).
    expect(tiers).toEqual(c.headers.map(([, , tier]) => tier));
  });
});

describe('classifyRequest: the spec 13.1 examples', () => {
  it.each([
    ['a plain GET', 'GET', '/', 'HTTP/1.1', ['Host', 'example.com'], 'Compliant', 'Compliant'],
    ['underscores and dots in a name', 'GET', '/', 'HTTP/1.1', ['X_Custom.Header', '1'], 'Compliant', 'Compliant'],
    ['UTF-8 in a header value', 'GET', '/', 'HTTP/1.1', ['X-Name', 'Jos\xc3\xa9'], 'Compliant', 'Compliant'],
    ['percent-escapes and raw UTF-8 in the URI', 'GET', '/a%00%0d%20/\xc3\xa9', 'HTTP/1.1', [], 'Compliant', 'Compliant'],
    ['a space in a header name', 'GET', '/', 'HTTP/1.1', ['X Y', '1'], 'Acceptable', 'NonCompliantHeader'],
    ['a control byte in a header value', 'GET', '/', 'HTTP/1.1', ['X-Y', 'a\x01b'], 'Acceptable', 'NonCompliantHeader'],
    ['GET with Content-Length: 0', 'GET', '/', 'HTTP/1.1', ['Content-Length', '0'], 'Acceptable', 'GetHeadZeroContentLength'],
    ['HTTP/1.2', 'GET', '/', 'HTTP/1.2', [], 'Acceptable', 'NonCompliantVersion'],
    ['a version with a trailing space', 'GET', '/', 'HTTP/1.1 ', [], 'Acceptable', 'NonCompliantVersion'],
    ['no version (HTTP/0.9)', 'GET', '/', '', [], 'Acceptable', 'NonCompliantVersion'],
    ['an unescaped space in the URI', 'GET', '/a b', 'HTTP/1.1', [], 'Acceptable', 'SpaceInUri'],
    ['a tab in the URI', 'GET', '/a\tb', 'HTTP/1.1', [], 'Ambiguous', 'AmbiguousUri'],
    ['an empty header name', 'GET', '/', 'HTTP/1.1', ['', 'v'], 'Ambiguous', 'EmptyHeader'],
    ['a name of spaces only', 'GET', '/', 'HTTP/1.1', ['  ', 'v'], 'Ambiguous', 'EmptyHeader'],
    ['Transfer_Encoding', 'POST', '/', 'HTTP/1.1', ['Transfer_Encoding', 'chunked'], 'Ambiguous', 'SuspiciousHeader'],
    ['"Content-Length " (a space before the colon)', 'POST', '/', 'HTTP/1.1', ['Content-Length ', '5'], 'Ambiguous', 'SuspiciousHeader'],
    ['Transfer–Encoding with an en dash', 'POST', '/', 'HTTP/1.1', ['Transfer\xe2\x80\x93Encoding', 'chunked'], 'Ambiguous', 'SuspiciousHeader'],
    ['Tranſfer-Encoding (U+017F)', 'POST', '/', 'HTTP/1.1', ['Tran\xc5\xbffer-Encoding', 'chunked'], 'Ambiguous', 'SuspiciousHeader'],
    ['x_transfer_encoding is another header', 'POST', '/', 'HTTP/1.1', ['x_transfer_encoding', 'chunked'], 'Compliant', 'Compliant'],
    ['transfer-encoding1 is another header', 'POST', '/', 'HTTP/1.1', ['transfer-encoding1', 'chunked'], 'Compliant', 'Compliant'],
    ['GET with a body length', 'GET', '/', 'HTTP/1.1', ['Content-Length', '5'], 'Ambiguous', 'UndefinedContentLengthSemantics'],
    ['GET with Transfer-Encoding', 'GET', '/', 'HTTP/1.1', ['Transfer-Encoding', 'chunked'], 'Ambiguous', 'UndefinedTransferEncodingSemantics'],
    ['Transfer-Encoding on HTTP/1.0', 'POST', '/', 'HTTP/1.0', ['Transfer-Encoding', 'chunked'], 'Ambiguous', 'UndefinedTransferEncodingSemantics'],
    ['two equal Content-Lengths', 'POST', '/', 'HTTP/1.1', ['Content-Length', '5', 'Content-Length', '5'], 'Ambiguous', 'DuplicateContentLength'],
    ['Transfer-Encoding and Content-Length', 'POST', '/', 'HTTP/1.1', ['Transfer-Encoding', 'chunked', 'Content-Length', '5'], 'Ambiguous', 'BothTeClPresent'],
    ['a CR in a header value', 'GET', '/', 'HTTP/1.1', ['X-Y', 'a\rb'], 'Severe', 'BadHeader'],
    ['a NUL in a header name', 'GET', '/', 'HTTP/1.1', ['X\x00Y', 'v'], 'Severe', 'BadHeader'],
    ['a NUL in the URI', 'GET', '/a\x00', 'HTTP/1.1', [], 'Severe', 'BadUri'],
    ['HTTP/1.10', 'GET', '/', 'HTTP/1.10', [], 'Severe', 'BadVersion'],
    ['lower-case http/1.1 (the library would skip it as HTTP/2+: spec 13.1.4 says BadVersion)', 'GET', '/', 'http/1.1', [], 'Severe', 'BadVersion'],
    ['a method with a parenthesis', 'G(T', '/', 'HTTP/1.1', [], 'Severe', 'BadMethod'],
    ['two different Content-Lengths', 'POST', '/', 'HTTP/1.1', ['Content-Length', '5', 'Content-Length', '6'], 'Severe', 'MultipleContentLength'],
    ['Content-Length: 1000,1000', 'POST', '/', 'HTTP/1.1', ['Content-Length', '1000,1000'], 'Severe', 'BadContentLength'],
    ['Content-Length over 2^64-1', 'POST', '/', 'HTTP/1.1', ['Content-Length', '18446744073709551616'], 'Severe', 'BadContentLength'],
    ['Content-Length 2^64-1 with leading zeros', 'POST', '/', 'HTTP/1.1', ['Content-Length', '00018446744073709551615'], 'Compliant', 'Compliant'],
    ['chunked, chunked', 'POST', '/', 'HTTP/1.1', ['Transfer-Encoding', 'chunked, chunked'], 'Severe', 'MultipleTransferEncodingChunked'],
    ['chunked across two headers', 'POST', '/', 'HTTP/1.1', ['Transfer-Encoding', 'chunked', 'Transfer-Encoding', 'chunked'], 'Severe', 'MultipleTransferEncodingChunked'],
    ['chunked, gzip, chunked (not adjacent)', 'POST', '/', 'HTTP/1.1', ['Transfer-Encoding', 'chunked, gzip, chunked'], 'Compliant', 'Compliant'],
    ['an empty Transfer-Encoding item', 'POST', '/', 'HTTP/1.1', ['Transfer-Encoding', 'chunked,'], 'Severe', 'BadTransferEncoding'],
    ['xchunked', 'POST', '/', 'HTTP/1.1', ['Transfer-Encoding', 'xchunked'], 'Severe', 'BadTransferEncoding'],
    ['a non-compliant header and a bad Content-Length: the higher tier wins', 'POST', '/', 'HTTP/1.1', ['X Y', '1', 'Content-Length', '1,1'], 'Severe', 'BadContentLength'],
    ['a tab in the URI and a GET body: headers are checked first', 'GET', '/a\tb', 'HTTP/1.1', ['Content-Length', '5'], 'Ambiguous', 'UndefinedContentLengthSemantics'],
    ['"Content-Length : 10" beside "Content-Length: 20" is two lengths', 'POST', '/', 'HTTP/1.1', ['Content-Length ', '10', 'Content-Length', '20'], 'Severe', 'MultipleContentLength'],
    ['HTTP/2 is not classified', 'GET', '/a\x00', 'HTTP/2.0', ['X\x00', 'v'], 'Compliant', 'Compliant'],
  ] as const)('%s: %s %s %s → %s/%s', (_title, method, uri, version, headers, tier, reason) => {
    expect(classifyRequest(method, uri, version, headers)).toEqual({ tier, reason });
  });
});

describe('classifyParsedRequest: the same verdict for what llhttp takes', () => {
  /** The request llhttp parses from the case's raw bytes, or undefined when it refuses them. */
  function llhttp(c: LibraryCase): MessageHead | undefined {
    let head: MessageHead | undefined;
    const parser = new Http1Parser('request', { onHead: (h) => void (head = h), onBody: () => {}, onComplete: () => {} }, { maxHeaderBytes: 65536 });
    const raw = `${c.method} ${c.uri}${c.version === '' ? '' : ` ${c.version}`}\r\n${c.headers.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`;
    const result = parser.execute(Buffer.from(raw, 'latin1'));
    parser.close();
    return typeof result === 'number' ? head : undefined;
  }
  const taken = library.cases.flatMap((c) => {
    const head = llhttp(c);
    return head === undefined ? [] : [[`${c.file}: ${c.name}`, c, head] as const];
  });

  it('has cases llhttp takes', () => {
    expect(taken.length).toBeGreaterThan(20);
  });

  it.each(taken)('%s', (_title, c, head) => {
    const version = head.versionMajor === 0 ? '' : `HTTP/${head.versionMajor}.${head.versionMinor}`;
    expect(classifyParsedRequest(head.method, head.url, version, head.headers)).toEqual(classifyRequest(c.method, c.uri, c.version, c.headers.flatMap(([n, v]) => [n, v])));
  });
});

describe('desyncAction: the mode table (spec 13.1.1)', () => {
  const table: ReadonlyArray<readonly [DesyncTier, Record<DesyncMitigationMode, string>]> = [
    ['Compliant', { monitor: 'forward', defensive: 'forward', strictest: 'forward' }],
    ['Acceptable', { monitor: 'forward', defensive: 'forward', strictest: 'block' }],
    ['Ambiguous', { monitor: 'forward', defensive: 'forward-then-close', strictest: 'block' }],
    ['Severe', { monitor: 'forward', defensive: 'block', strictest: 'block' }],
  ];
  it.each(table.flatMap(([tier, modes]) => Object.entries(modes).map(([mode, action]) => [tier, mode, action] as const)))('%s in %s: %s', (tier, mode, action) => {
    expect(desyncAction(mode as DesyncMitigationMode, tier)).toBe(action);
  });
});
