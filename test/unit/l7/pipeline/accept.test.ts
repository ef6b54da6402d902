/**
 * The accept stage (spec 7.1, 6.4, 5.3, 5.4): what it refuses, and the path and host it reads
 * from the request-target and headers for the rules.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { accept, MAX_HEADER_LINE_BYTES, MAX_REQUEST_LINE_BYTES } from '../../../../src/l7/pipeline/accept.ts';
import { pipelineFixture, type Fixture, type RequestInit } from '../../../support/pipeline.ts';

let fixture: Fixture;
afterEach(() => fixture.close());

function run(init: RequestInit) {
  fixture = pipelineFixture();
  const { ctx } = fixture.request(init);
  return { refusal: accept(ctx), ctx };
}

describe('accept: refusals', () => {
  it.each([
    ['an HTTP/0.9 request line', { version: [0, 9] as [number, number] }, 'BadHttpVersion'],
    ['HTTP/2.0 on an HTTP/1 connection', { version: [2, 0] as [number, number] }, 'UnsupportedHttpVersion'],
    ['a request line over 16 KiB', { url: `/${'a'.repeat(MAX_REQUEST_LINE_BYTES)}` }, 'UriTooLong'],
    ['CONNECT', { method: 'CONNECT', url: 'example.com:443' }, 'ConnectMethod'],
    ['TRACE', { method: 'TRACE' }, 'TraceMethod'],
    ['a request-target that is not origin-form or absolute-form', { url: 'example.com/a' }, 'BadUri'],
    ['* for a method other than OPTIONS', { method: 'GET', url: '*' }, 'BadUri'],
    ['an absolute-form URI that does not parse', { url: 'http://[::1/' }, 'BadUri'],
    ['one header line over 16 KiB', { headers: ['Host', 'x', 'X-Big', 'b'.repeat(MAX_HEADER_LINE_BYTES)] }, 'HeaderTooLong'],
    ['Transfer-Encoding: gzip', { headers: ['Host', 'x', 'Transfer-Encoding', 'gzip'] }, 'UnsupportedTransferEncoding'],
    ['Transfer-Encoding: gzip, chunked', { headers: ['Host', 'x', 'Transfer-Encoding', 'gzip, chunked'] }, 'UnsupportedTransferEncoding'],
    ['31 addresses in X-Forwarded-For', { headers: ['Host', 'x', 'X-Forwarded-For', Array.from({ length: 31 }, (_, i) => `10.0.0.${i}`).join(', ')] }, 'TooManyForwardedFor'],
  ])('refuses %s as %s', (_name, init, refusal) => {
    expect(run(init).refusal).toBe(refusal);
  });

  it.each([
    ['a request line of exactly 16 KiB', { url: `/${'a'.repeat(MAX_REQUEST_LINE_BYTES - 'GET / HTTP/1.1\r\n'.length)}` }],
    ['one header line just under 16 KiB', { headers: ['Host', 'x', 'X-Big', 'b'.repeat(MAX_HEADER_LINE_BYTES - 'X-Big: \r\n'.length)] }],
    ['Transfer-Encoding: chunked', { headers: ['Host', 'x', 'Transfer-Encoding', 'Chunked'] }],
    ['30 addresses in X-Forwarded-For', { headers: ['Host', 'x', 'X-Forwarded-For', Array.from({ length: 30 }, (_, i) => `10.0.0.${i}`).join(', ')] }],
    ['HTTP/1.0', { version: [1, 0] as [number, number] }],
  ])('accepts %s', (_name, init) => {
    expect(run(init).refusal).toBeUndefined();
  });
});

describe('accept: the path and host the rules see (spec 5.4)', () => {
  it('takes origin-form as the path and the first Host header as the host', () => {
    const { ctx } = run({ url: '/a/b?x=1', headers: ['Host', 'first.example.com:8080', 'Host', 'second.example.com'] });
    expect([ctx.path, ctx.host, ctx.hostOverride]).toEqual(['/a/b?x=1', 'first.example.com:8080', undefined]);
  });

  it('takes the authority of an absolute-form URI as the host, over the Host header', () => {
    const { ctx } = run({ url: 'http://dns.example.com:81/p?q=1', headers: ['Host', 'ignored.example.com'] });
    expect([ctx.path, ctx.host, ctx.hostOverride]).toEqual(['/p?q=1', 'dns.example.com:81', 'dns.example.com:81']);
  });

  it('gives OPTIONS * the path *', () => {
    expect(run({ method: 'OPTIONS', url: '*' }).ctx.path).toBe('*');
  });

  it('has an empty host when the client sent no Host', () => {
    expect(run({ headers: [] }).ctx.host).toBe('');
  });
});
