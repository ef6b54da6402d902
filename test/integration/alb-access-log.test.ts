/**
 * The ALB access log through real requests (spec 8.1): each line a request made on real
 * sockets is parsed back field by field against the spec's field list (test/support/access-log.ts)
 * and checked against what happened: `type` by protocol (http, https, h2, ws), the request's URL
 * with the listener port as AWS writes it, matched_rule_priority, actions_executed, redirect_url,
 * error_reason, the target lists, desync classification, the trace id (Root only over 7 KiB of
 * headers, spec 5.5), and the lines of requests the load balancer could not read (408, 400).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http, { type IncomingMessage } from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { accessLogLine } from '../../src/l7/access-log.ts';
import type { RequestRecord } from '../../src/l7/request-record.ts';
import { startLocalElb, type LocalElb } from '../../src/local-elb.ts';
import { openLocalCa } from '../../src/tls/ca.ts';
import { checkAccessLogEntry, parseAccessLogLine, type AccessLogEntry } from '../support/access-log.ts';
import type { RuleInput } from '../support/alb.ts';
import { openRawConnection } from '../support/raw-connection.ts';
import { startRawTarget, type RawTarget } from '../support/raw-target.ts';
import { waitFor } from '../support/wait.ts';

let stateDir: string;
let caPem: Buffer;
let elb: LocalElb;
let httpPort: number;
let httpsPort: number;
let webPort: number;
let resetter: RawTarget;
let web: http.Server;
let wss: WebSocketServer;
/** What the web target saw of each request, by path. */
const seen = new Map<string, IncomingMessage['headers']>();
const records: RequestRecord[] = [];

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'local-elb-access-log-'));
  caPem = await readFile((await openLocalCa(stateDir)).certPath);
  web = http.createServer((req, res) => {
    seen.set(req.url!.split('?')[0]!, req.headers);
    res.writeHead(200, { 'content-type': 'text/plain' }).end('web');
  });
  wss = new WebSocketServer({ noServer: true });
  web.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => ws.on('message', (m) => ws.send(String(m)))));
  await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
  webPort = (web.address() as AddressInfo).port;
  resetter = await startRawTarget((socket) => socket.resetAndDestroy());
  const group = (name: string, port?: number) => ({ name, protocol: 'HTTP' as const, healthCheckPath: '/healthz', healthCheckIntervalSeconds: 5, targets: port === undefined ? [] : [{ id: '127.0.0.1', port }] });
  const rules: RuleInput[] = [
    { priority: 10, conditions: [{ field: 'path-pattern', values: ['/rule/*'] }], actions: [{ type: 'forward', targetGroupName: 'web' }] },
    { priority: 20, conditions: [{ field: 'path-pattern', values: ['/fixed'] }], actions: [{ type: 'fixed-response', fixedResponseConfig: { statusCode: '418', contentType: 'text/plain', messageBody: 'teapot' } }] },
    { priority: 30, conditions: [{ field: 'path-pattern', values: ['/redirect'] }], actions: [{ type: 'redirect', redirectConfig: { protocol: 'HTTPS', host: 'new.example.com', port: '443', statusCode: 'HTTP_301' } }] },
    { priority: 40, conditions: [{ field: 'path-pattern', values: ['/empty'] }], actions: [{ type: 'forward', targetGroupName: 'empty' }] },
    { priority: 50, conditions: [{ field: 'path-pattern', values: ['/reset'] }], actions: [{ type: 'forward', targetGroupName: 'reset' }] },
  ];
  elb = await startLocalElb({
    stateDir,
    config: {
      targetGroups: [group('web', webPort), group('empty'), group('reset', resetter.port)],
      loadBalancers: [
        {
          name: 'app',
          attributes: { 'idle_timeout.timeout_seconds': '1' },
          listeners: [
            { port: 0, protocol: 'HTTP', defaultActions: [{ type: 'forward', targetGroupName: 'web' }], rules },
            { port: 0, protocol: 'HTTPS', defaultActions: [{ type: 'forward', targetGroupName: 'web' }] },
          ],
        },
      ],
    },
  });
  elb.applicationLoadBalancer('app').onRequest((r) => records.push(r));
  httpPort = Number(new URL(elb.url('app', 0)).port);
  httpsPort = Number(new URL(elb.url('app', 1)).port);
  await waitFor(() => elb.targetGroup('web').healthyHostCount === 1 && elb.targetGroup('reset').healthyHostCount === 1, { what: 'healthy targets' });
});

afterAll(async () => {
  await elb?.close();
  for (const c of wss?.clients ?? []) c.terminate();
  web?.closeAllConnections();
  await new Promise<void>((r) => (web ? web.close(() => r()) : r()));
  await resetter?.close();
  await rm(stateDir, { recursive: true, force: true });
});

/** The parsed line of the first new record that `match` picks, checked against spec 8.1's forms. */
async function line(match: (r: RequestRecord) => boolean, since: number): Promise<AccessLogEntry> {
  const record = await waitFor(() => records.slice(since).find(match), { what: 'the request record', timeoutMs: 5_000 });
  const entry = parseAccessLogLine(accessLogLine(record));
  expect(checkAccessLogEntry(entry), accessLogLine(record)).toEqual([]);
  return entry;
}

const byPath = (path: string) => (r: RequestRecord) => r.url.includes(path);

/** Sends raw bytes on a new connection; resolves with the status of the first response. */
async function raw(bytes: string): Promise<number> {
  const conn = await openRawConnection(`http://127.0.0.1:${httpPort}`);
  try {
    conn.write(Buffer.from(bytes, 'latin1'));
    return (await conn.readResponse({ timeoutMs: 5_000 })).status;
  } finally {
    conn.destroy();
  }
}

const webTarget = () => `127.0.0.1:${webPort}`;
const webArn = /^arn:aws:elasticloadbalancing:local:000000000000:targetgroup\/web\/local$/;

describe('the request field: protocol://host:port/uri as AWS writes it (spec 8.1)', () => {
  it.each([
    ['a Host with its port', 'GET /plain?x=1 HTTP/1.1\r\nHost: localhost:{port}\r\n\r\n', 'GET http://localhost:{port}/plain?x=1 HTTP/1.1'],
    ['a Host without a port: the listener port is added', 'GET /bare HTTP/1.1\r\nHost: example.com\r\n\r\n', 'GET http://example.com:{port}/bare HTTP/1.1'],
    ['a Host naming another port: the listener port', 'GET /other HTTP/1.1\r\nHost: example.com:8081\r\n\r\n', 'GET http://example.com:{port}/other HTTP/1.1'],
    ['an absolute-form request-target', 'GET http://abs.example.com:9999/abs?q=1 HTTP/1.1\r\nHost: other\r\n\r\n', 'GET http://abs.example.com:{port}/abs?q=1 HTTP/1.1'],
  ])('%s', async (_title, bytes, requestField) => {
    const since = records.length;
    const fill = (s: string) => s.replaceAll('{port}', String(httpPort));
    expect(await raw(fill(bytes))).toBe(200);
    const path = fill(requestField).split(' ')[1]!.replace(/^http:\/\/[^/]*/, '').split('?')[0]!;
    const e = await line(byPath(path), since);
    expect(e.request).toBe(fill(requestField));
    expect([e.type, e['target:port'], e.elb_status_code, e.target_status_code, e.matched_rule_priority, e.actions_executed]).toEqual(['http', webTarget(), '200', '200', '0', 'forward']);
    expect([e['target:port_list'], e.target_status_code_list, e.redirect_url, e.error_reason, e.classification]).toEqual([webTarget(), '200', '-', '-', '-']);
    expect(e.target_group_arn).toMatch(webArn);
    expect(e.trace_id).toMatch(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$/);
  });

  it('HTTP/1.0 without a Host: the listener address', async () => {
    const since = records.length;
    expect(await raw('GET /fixed HTTP/1.0\r\n\r\n')).toBe(418);
    expect((await line(byPath('/fixed'), since)).request).toBe(`GET http://127.0.0.1:${httpPort}/fixed HTTP/1.0`);
  });
});

describe('rules, actions and the load balancer\'s own answers', () => {
  it.each([
    ['a rule that forwards', '/rule/x', 200, { 'target:port': 'web', target_status_code: '200', matched_rule_priority: '10', actions_executed: 'forward', redirect_url: '-', target_group_arn: 'web' }],
    ['a fixed response', '/fixed', 418, { 'target:port': '-', target_status_code: '-', matched_rule_priority: '20', actions_executed: 'fixed-response', redirect_url: '-', target_group_arn: '-', request_processing_time: '-1' }],
    ['a redirect', '/redirect', 301, { 'target:port': '-', target_status_code: '-', matched_rule_priority: '30', actions_executed: 'redirect', redirect_url: 'https://new.example.com/redirect', target_group_arn: '-' }],
    ['503: a target group without targets', '/empty', 503, { 'target:port': '-', target_status_code: '-', matched_rule_priority: '40', actions_executed: 'forward', redirect_url: '-', target_group_arn: 'empty', target_processing_time: '-1' }],
    ['502: the target resets the connection', '/reset', 502, { 'target:port': 'reset', target_status_code: '-', matched_rule_priority: '50', actions_executed: 'forward', redirect_url: '-', target_group_arn: 'reset', target_processing_time: '-1' }],
  ] as const)('%s', async (_title, path, status, fields) => {
    const since = records.length;
    const res = await request(`http://127.0.0.1:${httpPort}${path}`, { signal: AbortSignal.timeout(5_000) });
    await res.body.text();
    expect(res.statusCode).toBe(status);
    const e = await line(byPath(path), since);
    const { 'target:port': target, target_group_arn: group, ...rest } = fields;
    expect(e).toMatchObject({ type: 'http', elb_status_code: String(status), error_reason: '-', ...rest, target_status_code_list: fields.target_status_code });
    expect(e['target:port']).toBe(target === 'web' ? webTarget() : target === 'reset' ? `127.0.0.1:${resetter.port}` : '-');
    expect(e['target:port_list']).toBe(e['target:port']);
    expect(e.target_group_arn).toBe(group === '-' ? '-' : `arn:aws:elasticloadbalancing:local:000000000000:targetgroup/${group}/local`);
    if (status === 301) expect(res.headers.location).toBe(e.redirect_url);
  });

  it('a request desync mitigation blocks: classification and reason, no action, no rule', async () => {
    const since = records.length;
    expect(await raw('GET /blocked HTTP/1.1\r\nHost: x\r\nX-Nul: a\x00b\r\n\r\n')).toBe(400);
    const e = await line(byPath('/blocked'), since);
    expect([e.elb_status_code, e.classification, e.classification_reason, e.actions_executed, e.matched_rule_priority, e['target:port'], e.target_group_arn]).toEqual(['400', 'Severe', 'BadHeader', '-', '-', '-', '-']);
  });

  it('a request desync mitigation forwards: classified Acceptable', async () => {
    const since = records.length;
    expect(await raw('GET /zero HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n')).toBe(200);
    const e = await line(byPath('/zero'), since);
    expect([e.elb_status_code, e.classification, e.classification_reason, e.actions_executed]).toEqual(['200', 'Acceptable', 'GetHeadZeroContentLength', 'forward']);
  });
});

describe('trace_id (spec 5.5)', () => {
  const root = 'Root=1-67891233-abcdef012345678912345678';
  it('a Self field in front of the client Root, and custom fields kept', async () => {
    const since = records.length;
    await raw(`GET /traced HTTP/1.1\r\nHost: x\r\nX-Amzn-Trace-Id: ${root};CalledFrom=app\r\n\r\n`);
    const e = await line(byPath('/traced'), since);
    expect(e.trace_id).toMatch(/^Self=1-[0-9a-f]{8}-[0-9a-f]{24};Root=1-67891233-abcdef012345678912345678;CalledFrom=app$/);
    expect(seen.get('/traced')!['x-amzn-trace-id']).toBe(e.trace_id);
  });

  it('over 7 KiB of request headers: the Root alone, in the log and to the target', async () => {
    const since = records.length;
    await raw(`GET /big-trace HTTP/1.1\r\nHost: x\r\nX-Amzn-Trace-Id: ${root};CalledFrom=app\r\nX-Pad: ${'p'.repeat(7 * 1024)}\r\n\r\n`);
    const e = await line(byPath('/big-trace'), since);
    expect(e.trace_id).toBe(root);
    expect(seen.get('/big-trace')!['x-amzn-trace-id']).toBe(root);
  });
});

describe('type follows the protocol', () => {
  it('https, with the TLS fields', async () => {
    const since = records.length;
    const dispatcher = new Agent({ allowH2: false, connect: { ca: caPem } });
    try {
      const res = await request(`https://localhost:${httpsPort}/secure`, { dispatcher, signal: AbortSignal.timeout(5_000) });
      expect([res.statusCode, await res.body.text()]).toEqual([200, 'web']);
    } finally {
      await dispatcher.close();
    }
    const e = await line(byPath('/secure'), since);
    expect([e.type, e.request, e.domain_name]).toEqual(['https', `GET https://localhost:${httpsPort}/secure HTTP/1.1`, 'localhost']);
    expect(e.ssl_protocol).toMatch(/^TLSv1\.[23]$/);
    expect(e.ssl_cipher).not.toBe('-');
    expect(e.chosen_cert_arn).toMatch(/^arn:aws:acm:|^session-reused$/);
  });

  it('h2', async () => {
    const since = records.length;
    const client = http2.connect(`https://localhost:${httpsPort}`, { ca: caPem });
    try {
      const status = await new Promise<number>((resolve, reject) => {
        const req = client.request({ ':path': '/over-h2' });
        let s = 0;
        req.on('response', (h) => (s = Number(h[':status'])));
        req.on('end', () => resolve(s));
        req.on('error', reject);
        req.resume();
        req.end();
      });
      expect(status).toBe(200);
    } finally {
      client.close();
    }
    const e = await line(byPath('/over-h2'), since);
    expect([e.type, e.request, e.classification]).toEqual(['h2', `GET https://localhost:${httpsPort}/over-h2 HTTP/2.0`, '-']);
  });

  it('ws, one line when the WebSocket closes', async () => {
    const since = records.length;
    const ws = new WebSocket(`ws://127.0.0.1:${httpPort}/socket`);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => ws.send('hello'));
      ws.once('message', () => {
        ws.close();
        resolve();
      });
      ws.once('error', reject);
    });
    const e = await line(byPath('/socket'), since);
    expect([e.type, e.elb_status_code, e.target_status_code, e.request, e.actions_executed]).toEqual(['ws', '101', '101', `GET http://127.0.0.1:${httpPort}/socket HTTP/1.1`, 'forward']);
  });
});

describe('requests the load balancer could not read are logged as "- http://host:port- -"', () => {
  it('408: no complete request head within the idle timeout (1 s)', async () => {
    const since = records.length;
    const conn = await openRawConnection(`http://127.0.0.1:${httpPort}`);
    try {
      conn.write('GET /never-finished HTTP/1.1\r\nHost: x\r\n');
      expect((await conn.readResponse({ timeoutMs: 5_000 })).status).toBe(408);
    } finally {
      conn.destroy();
    }
    const e = await line((r) => r.elbStatusCode === 408, since);
    expect([e.request, e['target:port'], e.request_processing_time, e.actions_executed, e.matched_rule_priority, e.target_group_arn]).toEqual([`- http://127.0.0.1:${httpPort}- -`, '-', '-1', '-', '-', '-']);
    expect(Number(e.received_bytes)).toBe('GET /never-finished HTTP/1.1\r\nHost: x\r\n'.length);
  });

  it('400: a request head over 64 KiB', async () => {
    const since = records.length;
    expect(await raw(`GET /huge HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 9 }, (_, i) => `X-H${i}: ${'h'.repeat(8 * 1024)}\r\n`).join('')}\r\n`)).toBe(400);
    const e = await line((r) => r.elbStatusCode === 400 && r.method === '-', since);
    expect([e.request, e.elb_status_code, e.classification]).toEqual([`- http://127.0.0.1:${httpPort}- -`, '400', '-']);
  });
});
