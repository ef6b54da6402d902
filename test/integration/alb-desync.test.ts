/**
 * Desync mitigation on real sockets (spec 13.1, 7.3, 8.1 fields 28–29): raw requests of every
 * class, one per reason a client can send, in each `routing.http.desync_mitigation_mode`. Each
 * row asserts the status, whether the client and target connections live on, what the target
 * received, the access log's classification fields and DesyncMitigationMode_NonCompliant_Request_Count.
 * The table below is AWS's (http_desync_guardian's tiers, spec 13.1.4) and the mode table of
 * 13.1.1; the emulator's own choices are the rows marked `always`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalElb, type LocalElb } from '../../src/local-elb.ts';
import { accessLogLine } from '../../src/l7/access-log.ts';
import { desyncAction, type DesyncMitigationMode, type DesyncTier } from '../../src/l7/desync.ts';
import type { RequestRecord } from '../../src/l7/request-record.ts';
import { checkAccessLogEntry, parseAccessLogLine, type AccessLogEntry } from '../support/access-log.ts';
import { metricSum } from '../support/metrics.ts';
import { openRawConnection, type RawConnection } from '../support/raw-connection.ts';
import { startRecordingTarget, type RecordingTarget } from '../support/recording-target.ts';
import { waitFor } from '../support/wait.ts';

interface Row {
  readonly title: string;
  /** The raw request; `{path}` is replaced by a path unique to the row and mode. */
  readonly bytes: string;
  readonly tier: DesyncTier;
  readonly reason: string;
  /** What the target gets when the request is forwarded: its request-target and body. */
  readonly forwarded?: { readonly target: string; readonly body?: string; readonly method?: string };
  /**
   * The emulator's answer in every mode, whatever the mode table says: a request it cannot
   * frame or write as received is 400 (spec 13.1.7); an HTTP/0.9 request has no HTTP/1 response.
   */
  readonly always?: 400;
  /** monitor forwards a Severe request, and then the load balancer's own checks apply (spec 13.1.7: 501). */
  readonly monitor?: 501;
}

const rows: readonly Row[] = [
  // Compliant: llhttp used to refuse some of these (a method it does not know, raw UTF-8 in the URI).
  { title: 'a plain GET', bytes: 'GET {path} HTTP/1.1\r\nHost: x\r\n\r\n', tier: 'Compliant', reason: '-', forwarded: { target: '{path}' } },
  { title: 'a method llhttp does not know', bytes: 'FOO {path} HTTP/1.1\r\nHost: x\r\n\r\n', tier: 'Compliant', reason: '-', forwarded: { target: '{path}', method: 'FOO' } },
  { title: 'raw UTF-8 in the URI', bytes: 'GET {path}/\xc3\xa9 HTTP/1.1\r\nHost: x\r\n\r\n', tier: 'Compliant', reason: '-', forwarded: { target: '{path}/\xc3\xa9' } },
  { title: 'an underscore in a header name', bytes: 'GET {path} HTTP/1.1\r\nHost: x\r\nX_Custom: 1\r\n\r\n', tier: 'Compliant', reason: '-', forwarded: { target: '{path}' } },
  { title: 'a POST with a Content-Length body', bytes: 'POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc', tier: 'Compliant', reason: '-', forwarded: { target: '{path}', body: 'abc', method: 'POST' } },
  // Acceptable
  { title: 'a space in a header name', bytes: 'GET {path} HTTP/1.1\r\nHost: x\r\nX Y: 1\r\n\r\n', tier: 'Acceptable', reason: 'NonCompliantHeader', forwarded: { target: '{path}' } },
  { title: 'a control byte in a header value', bytes: 'GET {path} HTTP/1.1\r\nHost: x\r\nX-Y: a\x01b\r\n\r\n', tier: 'Acceptable', reason: 'NonCompliantHeader', forwarded: { target: '{path}' } },
  { title: 'an unescaped space in the URI', bytes: 'GET {path}/a b HTTP/1.1\r\nHost: x\r\n\r\n', tier: 'Acceptable', reason: 'SpaceInUri', forwarded: { target: '{path}/a%20b' } },
  { title: 'HTTP/1.2', bytes: 'GET {path} HTTP/1.2\r\nHost: x\r\n\r\n', tier: 'Acceptable', reason: 'NonCompliantVersion', forwarded: { target: '{path}' } },
  { title: 'a space after the version', bytes: 'GET {path} HTTP/1.1 \r\nHost: x\r\n\r\n', tier: 'Acceptable', reason: 'NonCompliantVersion', forwarded: { target: '{path}' } },
  { title: 'GET with Content-Length: 0', bytes: 'GET {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n', tier: 'Acceptable', reason: 'GetHeadZeroContentLength', forwarded: { target: '{path}' } },
  { title: 'HTTP/0.9 (no version)', bytes: 'GET {path}\r\n\r\n', tier: 'Acceptable', reason: 'NonCompliantVersion', always: 400 },
  // Ambiguous
  { title: 'an empty header name', bytes: 'GET {path} HTTP/1.1\r\nHost: x\r\n: v\r\n\r\n', tier: 'Ambiguous', reason: 'EmptyHeader', forwarded: { target: '{path}' } },
  { title: 'a tab in the URI', bytes: 'GET {path}/a\tb HTTP/1.1\r\nHost: x\r\n\r\n', tier: 'Ambiguous', reason: 'AmbiguousUri', forwarded: { target: '{path}/a%09b' } },
  { title: 'GET with a body', bytes: 'GET {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc', tier: 'Ambiguous', reason: 'UndefinedContentLengthSemantics', forwarded: { target: '{path}', body: 'abc' } },
  { title: 'GET with Transfer-Encoding', bytes: 'GET {path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n', tier: 'Ambiguous', reason: 'UndefinedTransferEncodingSemantics', forwarded: { target: '{path}', body: 'abc' } },
  { title: 'Transfer-Encoding on HTTP/1.0', bytes: 'POST {path} HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n', tier: 'Ambiguous', reason: 'UndefinedTransferEncodingSemantics', forwarded: { target: '{path}', body: 'abc', method: 'POST' } },
  { title: 'two equal Content-Lengths', bytes: 'POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc', tier: 'Ambiguous', reason: 'DuplicateContentLength', forwarded: { target: '{path}', body: 'abc', method: 'POST' } },
  { title: 'Transfer-Encoding and Content-Length', bytes: 'POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 30\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n', tier: 'Ambiguous', reason: 'BothTeClPresent', forwarded: { target: '{path}', body: 'abc', method: 'POST' } },
  { title: 'Transfer_Encoding (a look-alike) with a Content-Length', bytes: 'POST {path} HTTP/1.1\r\nHost: x\r\nTransfer_Encoding: chunked\r\nContent-Length: 3\r\n\r\nabc', tier: 'Ambiguous', reason: 'SuspiciousHeader', forwarded: { target: '{path}', body: 'abc', method: 'POST' } },
  { title: '"Content-Length : 3" (a space before the colon)', bytes: 'POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length : 3\r\n\r\n', tier: 'Ambiguous', reason: 'SuspiciousHeader', forwarded: { target: '{path}', method: 'POST' } },
  // Severe
  { title: 'a NUL in a header value', bytes: 'GET {path} HTTP/1.1\r\nHost: x\r\nX-Y: a\x00b\r\n\r\n', tier: 'Severe', reason: 'BadHeader', forwarded: { target: '{path}' } },
  { title: 'a lone CR in a header value', bytes: 'GET {path} HTTP/1.1\r\nHost: x\r\nX-Y: a\rb\r\n\r\n', tier: 'Severe', reason: 'BadHeader', always: 400 },
  { title: 'a NUL in the URI', bytes: 'GET {path}/\x00 HTTP/1.1\r\nHost: x\r\n\r\n', tier: 'Severe', reason: 'BadUri', always: 400 },
  { title: 'a method that is not a token', bytes: 'G(T {path} HTTP/1.1\r\nHost: x\r\n\r\n', tier: 'Severe', reason: 'BadMethod', forwarded: { target: '{path}', method: 'G(T' } },
  { title: 'HTTP/1.x', bytes: 'GET {path} HTTP/1.x\r\nHost: x\r\n\r\n', tier: 'Severe', reason: 'BadVersion', always: 400 },
  { title: 'two different Content-Lengths', bytes: 'POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd', tier: 'Severe', reason: 'MultipleContentLength', always: 400 },
  { title: 'Content-Length: +3', bytes: 'POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: +3\r\n\r\nabc', tier: 'Severe', reason: 'BadContentLength', always: 400 },
  { title: 'chunked, chunked', bytes: 'POST {path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n', tier: 'Severe', reason: 'MultipleTransferEncodingChunked', forwarded: { target: '{path}', body: 'abc', method: 'POST' } },
  { title: 'Transfer-Encoding: xchunked', bytes: 'POST {path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n', tier: 'Severe', reason: 'BadTransferEncoding', monitor: 501 },
];

/** What happens to a row's request in a mode. */
type Fate = 'forward' | 'forward-then-close' | 'block' | 400 | 501;

function fate(row: Row, mode: DesyncMitigationMode): Fate {
  const action = desyncAction(mode, row.tier);
  if (action === 'block') return 'block';
  if (row.always !== undefined) return row.always;
  if (mode === 'monitor' && row.monitor !== undefined) return row.monitor;
  return action;
}

const modes: readonly DesyncMitigationMode[] = ['monitor', 'defensive', 'strictest'];

describe.each(modes)('routing.http.desync_mitigation_mode %s', (mode) => {
  let target: RecordingTarget;
  let elb: LocalElb;
  let url: string;
  const records: RequestRecord[] = [];

  beforeAll(async () => {
    target = await startRecordingTarget();
    elb = await startLocalElb({
      config: {
        targetGroups: [
          {
            name: 'web',
            protocol: 'HTTP',
            port: 80,
            healthCheckPath: '/healthz',
            healthCheckIntervalSeconds: 5,
            healthCheckTimeoutSeconds: 2,
            targets: [{ id: '127.0.0.1', port: target.port }],
          },
        ],
        loadBalancers: [{ name: 'app', attributes: { 'routing.http.desync_mitigation_mode': mode }, listeners: [{ port: 0, defaultActions: [{ type: 'forward', targetGroupName: 'web' }] }] }],
      },
    });
    elb.applicationLoadBalancer('app').onRequest((r) => records.push(r));
    url = elb.url('app');
    await waitFor(() => elb.targetGroup('web').healthyHostCount === 1, { what: 'a healthy target' });
  });

  afterAll(async () => {
    await elb?.close();
    await target?.close();
  });

  /** The access-log line of the request at `path` (or of the one blocked request), parsed back and checked against spec 8.1. */
  async function logEntry(path: string, before: number): Promise<AccessLogEntry> {
    const record = await waitFor(() => records.slice(before).find((r) => r.url.includes(path)), { what: `the record of ${path}`, timeoutMs: 3_000 });
    const entry = parseAccessLogLine(accessLogLine(record));
    expect(checkAccessLogEntry(entry)).toEqual([]);
    return entry;
  }

  let n = 0;
  it.each(rows.map((row) => [`${row.title}: ${row.tier}/${row.reason} → ${String(fate(row, mode))}`, row] as const))('%s', async (_title, row) => {
    const path = `/${mode}-${++n}`;
    const fill = (s: string) => s.replaceAll('{path}', path);
    const expected = fate(row, mode);
    const seenBefore = target.requests.length;
    const recordsBefore = records.length;
    const countBefore = await metricSum(elb, 'DesyncMitigationMode_NonCompliant_Request_Count', { load_balancer: 'app' });
    const conn: RawConnection = await openRawConnection(url);
    try {
      conn.write(Buffer.from(fill(row.bytes), 'latin1'));
      const res = await conn.readResponse({ timeoutMs: 3_000 });
      const log = await logEntry(path, recordsBefore);
      expect([log.classification, log.classification_reason]).toEqual(row.tier === 'Compliant' ? ['-', '-'] : [row.tier, row.reason]);
      expect(await metricSum(elb, 'DesyncMitigationMode_NonCompliant_Request_Count', { load_balancer: 'app' })).toBe(countBefore + (row.tier === 'Compliant' ? 0 : 1));

      if (expected === 'forward' || expected === 'forward-then-close') {
        const forwarded = row.forwarded!;
        expect(res.status).toBe(200);
        const seen = target.requests.slice(seenBefore);
        expect(seen.map((r) => [r.method, r.target, r.body])).toEqual([[forwarded.method ?? 'GET', fill(forwarded.target), forwarded.body ?? '']]);
        expect(res.body).toBe(`seen ${forwarded.method ?? 'GET'} ${fill(forwarded.target)}`);
        expect([log.elb_status_code, log.target_status_code, log.actions_executed, log.matched_rule_priority]).toEqual(['200', '200', 'forward', '0']);
        // The load balancer's framing only: one Content-Length, or chunked, never both.
        const lengths = seen[0]!.headers.filter((_h, i) => i % 2 === 0 && seen[0]!.headers[i]!.toLowerCase() === 'content-length');
        expect(lengths.length + (target.header(seen[0]!, 'transfer-encoding') !== undefined ? 1 : 0)).toBeLessThanOrEqual(1);
        if (expected === 'forward') {
          expect(res.headers.connection).toBe('keep-alive');
          // The same client connection serves the next request, on the same target connection.
          conn.write(`GET ${path}/next HTTP/1.1\r\nHost: x\r\n\r\n`);
          expect(await conn.readResponse({ timeoutMs: 3_000 })).toMatchObject({ status: 200, body: `seen GET ${path}/next` });
          const next = target.requests.at(-1)!;
          expect(next.connection).toBe(seen[0]!.connection);
          expect(target.closedConnections.has(next.connection)).toBe(false);
        } else {
          // Defensive mode after an Ambiguous request: both connections close (spec 13.1.1).
          expect(res.headers.connection).toBe('close');
          await conn.closed({ timeoutMs: 3_000 });
          await waitFor(() => target.closedConnections.has(seen[0]!.connection), { what: 'the target connection to close', timeoutMs: 3_000 });
        }
      } else {
        // Blocked (400 and close, spec 13.1.1), refused by the load balancer's own rules: never sent to a target.
        const status = expected === 'block' ? 400 : expected;
        expect(res.status).toBe(status);
        expect(res.headers.server).toBe('awselb/2.0');
        expect(res.headers.connection).toBe('close');
        await conn.closed({ timeoutMs: 3_000 });
        expect(target.requests.slice(seenBefore)).toEqual([]);
        expect([log.elb_status_code, log['target:port'], log.target_status_code, log.request_processing_time, log.target_processing_time, log.response_processing_time]).toEqual([String(status), '-', '-', '-1', '-1', '-1']);
      }
    } finally {
      conn.destroy();
    }
  });
});

describe('defensive mode after an Ambiguous request', () => {
  let target: RecordingTarget;
  let elb: LocalElb;

  beforeAll(async () => {
    target = await startRecordingTarget();
    elb = await startLocalElb({
      config: {
        targetGroups: [{ name: 'web', protocol: 'HTTP', port: 80, healthCheckPath: '/healthz', healthCheckIntervalSeconds: 5, targets: [{ id: '127.0.0.1', port: target.port }] }],
        loadBalancers: [{ name: 'app', listeners: [{ port: 0, defaultActions: [{ type: 'forward', targetGroupName: 'web' }] }] }],
      },
    });
    await waitFor(() => elb.targetGroup('web').healthyHostCount === 1, { what: 'a healthy target' });
  });

  afterAll(async () => {
    await elb?.close();
    await target?.close();
  });

  it('answers it, never reads the request pipelined behind it, and the next client gets a new target connection', async () => {
    const conn = await openRawConnection(elb.url('app'));
    try {
      // A CL.TE smuggling attempt: the TE body ends at 0, the Content-Length would reach into the next request.
      const next = 'GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n';
      conn.write(`POST /first HTTP/1.1\r\nHost: x\r\nContent-Length: ${5 + next.length}\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${next}`);
      const res = await conn.readResponse({ timeoutMs: 3_000 });
      expect(res).toMatchObject({ status: 200, body: 'seen POST /first', headers: { connection: 'close' } });
      await conn.closed({ timeoutMs: 3_000 });
      expect(target.requests.map((r) => r.target)).toEqual(['/first']);
      const first = target.requests[0]!;
      // What the target got says so too: chunked, no Content-Length, Connection: close.
      expect([target.header(first, 'content-length'), target.header(first, 'transfer-encoding'), target.header(first, 'connection')]).toEqual([undefined, 'chunked', 'close']);
      await waitFor(() => target.closedConnections.has(first.connection), { what: 'the target connection to close' });
    } finally {
      conn.destroy();
    }
    const again = await openRawConnection(elb.url('app'));
    try {
      again.write('GET /after HTTP/1.1\r\nHost: x\r\n\r\n');
      expect(await again.readResponse({ timeoutMs: 3_000 })).toMatchObject({ status: 200, body: 'seen GET /after' });
      expect(target.requests.at(-1)!.connection).not.toBe(target.requests[0]!.connection);
    } finally {
      again.destroy();
    }
  });

  it('a mode change applies to the next request (spec 13.1.1)', async () => {
    const alb = elb.applicationLoadBalancer('app');
    const ask = async () => {
      const conn = await openRawConnection(elb.url('app'));
      try {
        conn.write('GET /zero HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n');
        return (await conn.readResponse({ timeoutMs: 3_000 })).status;
      } finally {
        conn.destroy();
      }
    };
    expect(await ask()).toBe(200);
    alb.modifyAttributes({ 'routing.http.desync_mitigation_mode': 'strictest' });
    expect(await ask()).toBe(400);
    alb.modifyAttributes({ 'routing.http.desync_mitigation_mode': 'defensive' });
    expect(await ask()).toBe(200);
  });
});

describe('routing.http.drop_invalid_header_fields.enabled (spec 13.1.8)', () => {
  let target: RecordingTarget;
  let elb: LocalElb;

  beforeAll(async () => {
    target = await startRecordingTarget();
    elb = await startLocalElb({
      config: {
        targetGroups: [{ name: 'web', protocol: 'HTTP', port: 80, healthCheckPath: '/healthz', healthCheckIntervalSeconds: 5, targets: [{ id: '127.0.0.1', port: target.port }] }],
        loadBalancers: [{ name: 'app', listeners: [{ port: 0, defaultActions: [{ type: 'forward', targetGroupName: 'web' }] }] }],
      },
    });
    await waitFor(() => elb.targetGroup('web').healthyHostCount === 1, { what: 'a healthy target' });
  });

  afterAll(async () => {
    await elb?.close();
    await target?.close();
  });

  const send = async (path: string) => {
    const conn = await openRawConnection(elb.url('app'));
    try {
      conn.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nX_Custom: 1\r\nX.Dotted: 2\r\nX-Ok: 3\r\n\r\n`);
      expect((await conn.readResponse({ timeoutMs: 3_000 })).status).toBe(200);
    } finally {
      conn.destroy();
    }
    const seen = target.requests.find((r) => r.target === path)!;
    return seen.headers.filter((_h, i) => i % 2 === 0 && seen.headers[i]!.startsWith('X'));
  };
  const counts = async () => [await metricSum(elb, 'ForwardedInvalidHeaderRequestCount'), await metricSum(elb, 'DroppedInvalidHeaderRequestCount')];

  it.each([
    ['false (the default): forwarded as they came, ForwardedInvalidHeaderRequestCount', 'false', ['X_Custom', 'X.Dotted', 'X-Ok', 'X-Forwarded-For', 'X-Forwarded-Proto', 'X-Forwarded-Port', 'X-Amzn-Trace-Id'], [1, 0]],
    ['true: names outside [-A-Za-z0-9]+ dropped, DroppedInvalidHeaderRequestCount', 'true', ['X-Ok', 'X-Forwarded-For', 'X-Forwarded-Proto', 'X-Forwarded-Port', 'X-Amzn-Trace-Id'], [0, 1]],
  ])('%s', async (_title, enabled, names, added) => {
    elb.applicationLoadBalancer('app').modifyAttributes({ 'routing.http.drop_invalid_header_fields.enabled': enabled });
    const before = await counts();
    expect(await send(`/drop-${enabled}`)).toEqual(names);
    expect(await counts()).toEqual([before[0]! + added[0]!, before[1]! + added[1]!]);
  });
});
