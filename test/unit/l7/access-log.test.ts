import { describe, expect, it } from 'vitest';
import { accessLogLine } from '../../../src/l7/access-log.ts';
import type { RequestRecord } from '../../../src/l7/request-record.ts';
import { checkAccessLogEntry, parseAccessLogLine, SPEC_8_1_FIELDS, type AccessLogEntry } from '../../support/access-log.ts';

const ARRIVED = Date.UTC(2018, 6, 2, 22, 22, 48, 364);
const DONE = Date.UTC(2018, 6, 2, 22, 23, 0, 186);

const forwarded: RequestRecord = {
  loadBalancer: 'my-loadbalancer',
  listenerPort: 80,
  client: { ip: '192.168.131.39', port: 2817 },
  target: { id: '10.0.0.1', port: 80 },
  targetGroup: 'my-targets',
  requestProcessingMs: 0,
  targetProcessingMs: 1,
  responseProcessingMs: 0,
  elbStatusCode: 200,
  targetStatusCode: 200,
  producedBy: 'target',
  receivedBytes: 34,
  sentBytes: 366,
  method: 'GET',
  url: 'http://www.example.com:80/',
  httpVersion: '1.1',
  userAgent: 'curl/7.46.0',
  traceId: 'Root=1-58337262-36d228ad5d99923122bbe354',
  matchedRulePriority: 0,
  actionsExecuted: ['forward'],
  requestCreationTimeMs: ARRIVED,
  timeMs: DONE,
};

/** Splits a log line into fields the way an ALB log parser does: spaces outside double quotes. */
function fields(line: string): string[] {
  return line.match(/"(?:[^"\\]|\\.)*"|\S+/g) ?? [];
}

describe('accessLogLine (spec 8.1)', () => {
  it('writes the fields of the AWS example in AWS order', () => {
    expect(accessLogLine(forwarded)).toBe(
      'http 2018-07-02T22:23:00.186000Z app/my-loadbalancer/local 192.168.131.39:2817 10.0.0.1:80 0.000 0.001 0.000 200 200 34 366 ' +
        '"GET http://www.example.com:80/ HTTP/1.1" "curl/7.46.0" - - arn:aws:elasticloadbalancing:local:000000000000:targetgroup/my-targets/local ' +
        '"Root=1-58337262-36d228ad5d99923122bbe354" "-" "-" 0 2018-07-02T22:22:48.364000Z "forward" "-" "-" "10.0.0.1:80" "200" "-" "-" - "-" "-" "-"',
    );
  });

  it('has 33 fields, with the numbered ones where spec 8.1 puts them', () => {
    const f = fields(accessLogLine(forwarded));
    expect(f).toHaveLength(33);
    expect(f[0]).toBe('http');
    expect(f[2]).toBe('app/my-loadbalancer/local');
    expect(f[3]).toBe('192.168.131.39:2817');
    expect(f[4]).toBe('10.0.0.1:80');
    expect(f[8]).toBe('200');
    expect(f[12]).toBe('"GET http://www.example.com:80/ HTTP/1.1"');
    expect(f[16]).toMatch(/targetgroup\/my-targets\//);
    expect(f[17]).toBe('"Root=1-58337262-36d228ad5d99923122bbe354"');
    expect(f[20]).toBe('0');
    expect(f[22]).toBe('"forward"');
    expect(f[25]).toBe('"10.0.0.1:80"');
    expect(f[26]).toBe('"200"');
  });

  it('writes -1 times and - placeholders for a request never dispatched to a target', () => {
    const f = fields(
      accessLogLine({
        ...forwarded,
        target: undefined,
        targetGroup: 'my-targets',
        targetStatusCode: undefined,
        requestProcessingMs: -1,
        targetProcessingMs: -1,
        responseProcessingMs: -1,
        elbStatusCode: 503,
        producedBy: 'elb',
      }),
    );
    expect(f.slice(4, 10)).toEqual(['-', '-1', '-1', '-1', '503', '-']);
    expect(f[25]).toBe('"-"');
    expect(f[26]).toBe('"-"');
  });

  it('writes -1 only for the target time when the target sent no response', () => {
    const f = fields(accessLogLine({ ...forwarded, targetProcessingMs: -1, targetStatusCode: undefined, elbStatusCode: 502 }));
    expect(f.slice(4, 10)).toEqual(['10.0.0.1:80', '0.000', '-1', '0.000', '502', '-']);
  });

  it('writes times in seconds with millisecond precision', () => {
    const f = fields(accessLogLine({ ...forwarded, requestProcessingMs: 1.2, targetProcessingMs: 1234, responseProcessingMs: 0.4 }));
    expect(f.slice(5, 8)).toEqual(['0.001', '1.234', '0.000']);
  });

  it.each([
    [undefined, '-'],
    [0, '0'],
    [7, '7'],
    [50000, '50000'],
  ])('writes matched_rule_priority %j as %s', (priority, expected) => {
    expect(fields(accessLogLine({ ...forwarded, matchedRulePriority: priority }))[20]).toBe(expected);
  });

  it('writes "-" for a missing user agent, trace id, actions and target group', () => {
    const f = fields(accessLogLine({ ...forwarded, userAgent: undefined, traceId: undefined, actionsExecuted: [], targetGroup: undefined }));
    expect(f[13]).toBe('"-"');
    expect(f[16]).toBe('-');
    expect(f[17]).toBe('"-"');
    expect(f[22]).toBe('"-"');
  });

  it('escapes double quotes inside quoted fields and truncates the user agent at 8 KB', () => {
    const f = fields(accessLogLine({ ...forwarded, userAgent: 'say "hi"', url: 'http://h:80/"x"' }));
    expect(f[13]).toBe('"say \\"hi\\""');
    expect(f[12]).toBe('"GET http://h:80/\\"x\\" HTTP/1.1"');
    const long = fields(accessLogLine({ ...forwarded, userAgent: 'a'.repeat(9000) }))[13]!;
    expect(long).toHaveLength(8192 + 2);
  });

  it('lists every executed action and the redirect URL', () => {
    const f = fields(accessLogLine({ ...forwarded, actionsExecuted: ['redirect'], redirectUrl: 'https://www.example.com:443/' }));
    expect(f[22]).toBe('"redirect"');
    expect(f[23]).toBe('"https://www.example.com:443/"');
    expect(fields(accessLogLine({ ...forwarded, actionsExecuted: ['waf', 'forward'] }))[22]).toBe('"waf,forward"');
  });

  it.each([
    ['a rule with both rewrites matched', { transformedHost: 'shop.internal', transformedUri: '/users?page=2', transformStatus: 'TransformSucceeded' }, ['"shop.internal"', '"/users?page=2"', '"TransformSucceeded"']],
    ['a rule whose transforms did not match', { transformStatus: 'TransformNoMatch' }, ['"-"', '"-"', '"TransformNoMatch"']],
    ['a failed rewrite (the 500)', { transformStatus: 'TransformFailed', elbStatusCode: 500 }, ['"-"', '"-"', '"TransformFailed"']],
    ['a rule without transforms', {}, ['"-"', '"-"', '"-"']],
  ] as const)('writes fields 31–33 for %s (spec 8.1)', (_name, extra, want) => {
    expect(fields(accessLogLine({ ...forwarded, ...extra } as RequestRecord)).slice(30)).toEqual(want);
  });

  it('uses the given load balancer id in the elb field', () => {
    expect(fields(accessLogLine(forwarded, 'other/abc'))[2]).toBe('app/other/abc/local');
  });
});

describe('accessLogLine parsed back field by field against spec 8.1', () => {
  const tls = { protocol: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256', serverName: 'www.example.com', certificateArn: 'arn:aws:acm:us-east-1:000000000000:certificate/web' };
  const notDispatched = { target: undefined, targetStatusCode: undefined, requestProcessingMs: -1, targetProcessingMs: -1, responseProcessingMs: -1, producedBy: 'elb' as const };
  const records: ReadonlyArray<readonly [string, RequestRecord]> = [
    ['forwarded over HTTP', forwarded],
    ['forwarded over HTTPS', { ...forwarded, tls, url: 'https://www.example.com:443/' }],
    ['HTTP/2 over TLS', { ...forwarded, tls, url: 'https://www.example.com:443/', httpVersion: '2.0' }],
    ['gRPC', { ...forwarded, tls, grpc: true, url: 'https://www.example.com:443/pkg.Svc/Call', method: 'POST', httpVersion: '2.0' }],
    ['a WebSocket', { ...forwarded, upgraded: true, elbStatusCode: 101, targetStatusCode: 101 }],
    ['a WebSocket over TLS', { ...forwarded, tls, upgraded: true, elbStatusCode: 101, targetStatusCode: 101, url: 'https://www.example.com:443/chat' }],
    ['a rule with priority 10', { ...forwarded, matchedRulePriority: 10 }],
    ['a redirect', { ...forwarded, ...notDispatched, targetGroup: undefined, elbStatusCode: 301, actionsExecuted: ['redirect'], redirectUrl: 'https://www.example.com:443/', matchedRulePriority: 20 }],
    ['a fixed response', { ...forwarded, ...notDispatched, targetGroup: undefined, elbStatusCode: 503, actionsExecuted: ['fixed-response'], matchedRulePriority: 30 }],
    ['an authentication error', { ...forwarded, ...notDispatched, targetGroup: undefined, elbStatusCode: 401, actionsExecuted: ['authenticate'], errorReason: 'AuthInvalidCookie' }],
    ['503 with no registered targets', { ...forwarded, ...notDispatched, elbStatusCode: 503 }],
    ['502: the target closed without answering', { ...forwarded, targetStatusCode: undefined, targetProcessingMs: -1, responseProcessingMs: -1, elbStatusCode: 502, producedBy: 'elb' }],
    ['blocked by desync mitigation', { ...forwarded, ...notDispatched, targetGroup: undefined, matchedRulePriority: undefined, actionsExecuted: [], elbStatusCode: 400, classification: 'Severe', classificationReason: 'BadHeader' }],
    ['forwarded, Ambiguous', { ...forwarded, classification: 'Ambiguous', classificationReason: 'BothTeClPresent' }],
    ['a request the load balancer could not read (408)', { ...forwarded, ...notDispatched, targetGroup: undefined, matchedRulePriority: undefined, actionsExecuted: [], elbStatusCode: 408, method: '-', url: 'http://10.0.0.5:80-', httpVersion: '', userAgent: undefined, traceId: undefined }],
    ['control bytes and quotes as received', { ...forwarded, url: 'http://www.example.com:80/a\tb"c', userAgent: 'say "hi"\x01', classification: 'Ambiguous', classificationReason: 'AmbiguousUri' }],
  ];

  /** What each of spec 8.1's fields must hold for `r`, by the spec's conventions. */
  function expected(r: RequestRecord): Partial<AccessLogEntry> {
    const target = r.target !== undefined ? `${r.target.id}:${r.target.port}` : '-';
    const targetStatus = r.targetStatusCode !== undefined ? String(r.targetStatusCode) : '-';
    const secure = r.tls !== undefined;
    return {
      type: r.upgraded ? (secure ? 'wss' : 'ws') : r.grpc ? 'grpcs' : r.httpVersion === '2.0' ? 'h2' : secure ? 'https' : 'http',
      'client:port': `${r.client.ip}:${r.client.port}`,
      'target:port': target,
      elb_status_code: String(r.elbStatusCode),
      target_status_code: targetStatus,
      request: `${r.method} ${r.url} ${r.httpVersion === '' ? '-' : `HTTP/${r.httpVersion}`}`,
      user_agent: r.userAgent ?? '-',
      ssl_cipher: r.tls?.cipher ?? '-',
      ssl_protocol: r.tls?.protocol ?? '-',
      trace_id: r.traceId ?? '-',
      domain_name: r.tls?.serverName ?? '-',
      chosen_cert_arn: r.tls?.certificateArn ?? '-',
      matched_rule_priority: r.matchedRulePriority === undefined ? '-' : String(r.matchedRulePriority),
      actions_executed: r.actionsExecuted.length === 0 ? '-' : r.actionsExecuted.join(','),
      redirect_url: r.redirectUrl ?? '-',
      error_reason: r.errorReason ?? '-',
      'target:port_list': target,
      target_status_code_list: targetStatus,
      classification: r.classification ?? '-',
      classification_reason: r.classificationReason ?? '-',
      conn_trace_id: '-',
      transformed_host: '-',
      transformed_uri: '-',
      request_transform_status: '-',
    };
  }

  it.each(records)('%s', (_title, record) => {
    const line = accessLogLine(record);
    const entry = parseAccessLogLine(line);
    expect(Object.keys(entry)).toEqual(SPEC_8_1_FIELDS.map((f) => f.name));
    expect(checkAccessLogEntry(entry)).toEqual([]);
    expect(entry).toMatchObject(expected(record));
    expect(entry.target_group_arn).toBe(record.targetGroup === undefined ? '-' : `arn:aws:elasticloadbalancing:local:000000000000:targetgroup/${record.targetGroup}/local`);
  });

  it('ignores fields appended after the 33 of spec 8.1', () => {
    expect(parseAccessLogLine(`${accessLogLine(forwarded)} "new" 42`).request_transform_status).toBe('-');
  });

  it('refuses a line whose quoting does not follow the spec', () => {
    expect(() => parseAccessLogLine(accessLogLine(forwarded).replace('"curl/7.46.0"', 'curl/7.46.0'))).toThrow(/field 14 \(user_agent\) should be quoted/);
  });
});
