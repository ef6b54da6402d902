/**
 * Rule transforms and regexValues conditions (spec 6.1, 6.2) on real sockets: curl, undici,
 * node:http (a WebSocket upgrade), node:http2 and grpc-js as clients, a recording target that shows the request-target and Host the load
 * balancer wrote, the 500 of a rewrite whose result cannot be sent, and access log fields 31–33.
 * The listener's rules are the README's example ("Listener rules: transforms and regexValues").
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import http2 from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { request } from 'undici';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../src/config/schema.ts';
import { accessLogLine } from '../../src/l7/access-log.ts';
import type { RequestRecord } from '../../src/l7/request-record.ts';
import { startLocalElb, type LocalElb } from '../../src/local-elb.ts';
import { openLocalCa, type LocalCertificateAuthority } from '../../src/tls/ca.ts';
import { checkAccessLogEntry, parseAccessLogLine, type AccessLogEntry } from '../support/access-log.ts';
import { waitHealthy } from '../support/alb.ts';
import { startRecordingTarget, type RecordedRequest, type RecordingTarget } from '../support/recording-target.ts';
import { loadEcho, startGrpcTarget, type EchoResponse } from '../support/grpc.ts';
import { REPO } from '../support/machine-node.ts';
import { waitFor } from '../support/wait.ts';

const run = promisify(execFile);

/** The README's example rules, read from README.md so the docs cannot drift. */
async function readmeRules(): Promise<unknown[]> {
  const readme = await readFile(join(REPO, 'README.md'), 'utf8');
  const at = readme.indexOf('#### Listener rules: transforms and regexValues');
  const open = readme.indexOf('\n```yaml\n', at);
  const close = readme.indexOf('\n```\n', open + 1);
  if (at < 0 || open < 0 || close < 0) throw new Error('README.md has no transforms example');
  return (parse(readme.slice(open + 9, close)) as { rules: unknown[] }).rules;
}

let stateDir: string;
let ca: LocalCertificateAuthority;
let target: RecordingTarget;
let elb: LocalElb;
let httpUrl: string;
let httpsUrl: string;
const records: RequestRecord[] = [];

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'local-elb-transforms-'));
  ca = await openLocalCa(stateDir);
  target = await startRecordingTarget();
  const RULES = await readmeRules();
  const config: ConfigInput = {
    targetGroups: [{ name: 'web', protocol: 'HTTP', healthCheckPath: '/healthz', targets: [{ id: '127.0.0.1', port: target.port }] }],
    loadBalancers: [
      {
        name: 'app',
        listeners: [
          { port: 0, protocol: 'HTTP', defaultActions: [{ type: 'forward', targetGroupName: 'web' }], rules: RULES as never },
          { port: 0, protocol: 'HTTPS', defaultActions: [{ type: 'forward', targetGroupName: 'web' }], rules: RULES as never },
        ],
      },
    ],
  };
  elb = await startLocalElb({ config, stateDir });
  elb.applicationLoadBalancer('app').onRequest((r) => records.push(r));
  httpUrl = elb.url('app', 0);
  httpsUrl = elb.url('app', 1).replace('127.0.0.1', 'localhost');
  await waitHealthy(elb.targetGroup('web'), 1);
});

afterAll(async () => {
  await elb?.close();
  await target?.close();
  await rm(stateDir, { recursive: true, force: true });
});

/** The next request the target records after `since`. */
function seenAfter(since: number): Promise<RecordedRequest> {
  return waitFor(() => target.requests[since], { what: 'the request at the target', timeoutMs: 5_000 });
}

/** The access-log line of the first record after `since` whose URL holds `path`, checked against spec 8.1. */
async function logged(path: string, since: number): Promise<AccessLogEntry> {
  const record = await waitFor(() => records.slice(since).find((r) => r.url.includes(path)), { what: `the record of ${path}`, timeoutMs: 5_000 });
  const entry = parseAccessLogLine(accessLogLine(record));
  expect(checkAccessLogEntry(entry), accessLogLine(record)).toEqual([]);
  return entry;
}

describe('url-rewrite and host-header-rewrite (spec 6.1)', () => {
  it('rewrites the path and the Host a target sees, from undici; X-Forwarded-* and routing unchanged', async () => {
    const since = target.requests.length;
    const logSince = records.length;
    const res = await request(`${httpUrl}/api/users?page=2`, { headers: { host: 'shop.example.com' } });
    expect(res.statusCode).toBe(200);
    expect(await res.body.text()).toBe('seen GET /users?page=2');
    const seen = await seenAfter(since);
    expect(seen.target).toBe('/users?page=2');
    // The listener's port is not 80, so the Host carries it as ALB's Host rewrite does (spec 5.4).
    expect(target.header(seen, 'host')).toBe(`shop.internal:${new URL(httpUrl).port}`);
    expect(target.header(seen, 'x-forwarded-proto')).toBe('http');
    expect(target.header(seen, 'x-forwarded-port')).toBe(new URL(httpUrl).port);
    expect(target.header(seen, 'x-forwarded-for')).toBe('127.0.0.1');
    const entry = await logged('/api/users', logSince);
    // Field 13 keeps the request as received; 31–33 show what went on.
    expect(entry.request).toBe(`GET http://shop.example.com:${new URL(httpUrl).port}/api/users?page=2 HTTP/1.1`);
    expect(entry.matched_rule_priority).toBe('10');
    expect(entry.transformed_host).toBe('shop.internal');
    expect(entry.transformed_uri).toBe('/users?page=2');
    expect(entry.request_transform_status).toBe('TransformSucceeded');
  });

  it('rewrites for curl too, and keeps a Host the regex does not match', async () => {
    const since = target.requests.length;
    const logSince = records.length;
    const { stdout } = await run('curl', ['-sS', '-H', 'Host: localhost', '-A', 'test-agent', `${httpUrl}/api/a/b`], { encoding: 'utf8' });
    expect(stdout).toBe('seen GET /a/b');
    const seen = await seenAfter(since);
    expect(target.header(seen, 'host')).toBe(`localhost:${new URL(httpUrl).port}`);
    const entry = await logged('/api/a/b', logSince);
    expect(entry.transformed_host).toBe('-');
    expect(entry.transformed_uri).toBe('/a/b');
    expect(entry.request_transform_status).toBe('TransformSucceeded');
  });

  it('routes on a path regexValues rule and rewrites with two groups', async () => {
    const since = target.requests.length;
    const res = await request(`${httpUrl}/v3/orders`);
    expect(await res.body.text()).toBe('seen GET /orders?version=3');
    expect((await seenAfter(since)).target).toBe('/orders?version=3');
    // Search, not full match: the regex is anchored with ^, so /x/v3/ is not this rule's (default action, unchanged).
    const other = await request(`${httpUrl}/x/v3/orders`);
    expect(await other.body.text()).toBe('seen GET /x/v3/orders');
  });

  it('answers 500 when the rewrite matches but its result is no request-target; the target sees nothing', async () => {
    const since = target.requests.length;
    const logSince = records.length;
    const res = await request(`${httpUrl}/broken/x`);
    expect(res.statusCode).toBe(500);
    expect(res.headers.server).toBe('awselb/2.0');
    await res.body.text();
    const entry = await logged('/broken/x', logSince);
    expect(entry.elb_status_code).toBe('500');
    expect(entry['target:port']).toBe('-');
    expect(entry.transformed_uri).toBe('-');
    expect(entry.request_transform_status).toBe('TransformFailed');
    // The connection stays usable, and the next request is forwarded.
    const next = await request(`${httpUrl}/plain`);
    expect(await next.body.text()).toBe('seen GET /plain');
    expect(target.requests.slice(since).map((r) => r.target)).toEqual(['/plain']);
  });

  it('logs "-" in fields 31–33 for the default rule, which has no transforms', async () => {
    const logSince = records.length;
    await (await request(`${httpUrl}/untouched`)).body.text();
    const entry = await logged('/untouched', logSince);
    expect([entry.transformed_host, entry.transformed_uri, entry.request_transform_status]).toEqual(['-', '-', '-']);
  });

  it('routes curl by an http-header regexValues condition (User-Agent ^curl/)', async () => {
    const { stdout } = await run('curl', ['-sS', `${httpUrl}/anything`], { encoding: 'utf8' });
    expect(stdout).toBe('hello curl');
  });

  it('rewrites a WebSocket upgrade request before it goes to the target, its upgrade headers kept', async () => {
    const since = target.requests.length;
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(`${httpUrl}/api/socket`, { headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' }, agent: false });
      // The recording target answers 200, not 101: the upgrade is refused and the answer comes back as a response.
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('upgrade', (res, socket) => {
        socket.destroy();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(200);
    const seen = await seenAfter(since);
    expect(seen.target).toBe('/socket');
    expect(target.header(seen, 'upgrade')).toBe('websocket');
  });

  it('rewrites HTTP/2 requests on the HTTPS listener the same way', async () => {
    const since = target.requests.length;
    const client = http2.connect(httpsUrl, { ca: readFileSync(ca.certPath) });
    try {
      const body = await new Promise<string>((resolve, reject) => {
        const stream = client.request({ ':path': '/api/h2?x=1', ':authority': 'docs.example.com' });
        let text = '';
        stream.setEncoding('utf8');
        stream.on('data', (c: string) => (text += c));
        stream.on('end', () => resolve(text));
        stream.on('error', reject);
        stream.end();
      });
      expect(body).toBe('seen GET /h2?x=1');
    } finally {
      client.close();
    }
    const seen = await seenAfter(since);
    expect(target.header(seen, 'host')).toBe(`docs.internal:${new URL(httpsUrl).port}`);
  });
});

describe('rule transforms on gRPC (spec 6.1, 12.4)', () => {
  it('rewrites a gRPC method path chosen by a regexValues rule: a Fail call reaches Say and succeeds, logged grpcs with the new URI', async () => {
    const { Echo } = loadEcho();
    const g = await startGrpcTarget();
    const grpcElb = await startLocalElb({
      stateDir,
      config: {
        targetGroups: [{ name: 'grpc', protocol: 'HTTP', protocolVersion: 'GRPC', targets: [{ id: '127.0.0.1', port: g.port }] }],
        loadBalancers: [
          {
            name: 'rpc',
            listeners: [
              {
                port: 0,
                protocol: 'HTTPS',
                defaultActions: [{ type: 'forward', targetGroupName: 'grpc' }],
                rules: [
                  {
                    priority: 1,
                    conditions: [{ field: 'path-pattern', pathPatternConfig: { regexValues: ['^/localelb\\.test\\.Echo/Fail$'] } }],
                    actions: [{ type: 'forward', targetGroupName: 'grpc' }],
                    transforms: [{ type: 'url-rewrite', urlRewriteConfig: { rewrites: [{ regex: '/Fail$', replace: '/Say' }] } }],
                  },
                ],
              },
            ],
          },
        ],
      },
    });
    const grpcRecords: RequestRecord[] = [];
    grpcElb.applicationLoadBalancer('rpc').onRequest((r) => grpcRecords.push(r));
    const client = new Echo(new URL(grpcElb.url('rpc').replace('127.0.0.1', 'localhost')).host, grpc.credentials.createSsl(readFileSync(ca.certPath)));
    try {
      await waitHealthy(grpcElb.targetGroup('grpc'), 1);
      const answer = await new Promise<EchoResponse>((resolve, reject) =>
        (client['Fail'] as (r: object, cb: (e: grpc.ServiceError | null, r: EchoResponse) => void) => void)({ code: grpc.status.NOT_FOUND, text: 'rewritten' }, (err, res) => (err ? reject(err) : resolve(res))),
      );
      expect(answer).toEqual({ text: 'rewritten' });
      const record = await waitFor(() => grpcRecords.find((r) => r.grpc), { what: 'the gRPC record' });
      const entry = parseAccessLogLine(accessLogLine(record));
      expect([entry.type, entry.transformed_uri, entry.request_transform_status]).toEqual(['grpcs', '/localelb.test.Echo/Say', 'TransformSucceeded']);
    } finally {
      client.close();
      await grpcElb.close();
      await g.close();
    }
  });
});
