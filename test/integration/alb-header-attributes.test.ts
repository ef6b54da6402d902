/**
 * Listener header modification (spec 13.3) and the attributes accepted with no local effect
 * (spec 4.6, 13.4), on real sockets: curl and undici as clients, Node HTTP(S) targets.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Writable } from 'node:stream';
import pino from 'pino';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../src/config/schema.ts';
import { ConfigError } from '../../src/core/errors.ts';
import type { Logger } from '../../src/core/logger.ts';
import { startLocalElb, type LocalElb } from '../../src/local-elb.ts';
import { openLocalCa } from '../../src/tls/ca.ts';
import { deferCleanups, waitHealthy } from '../support/alb.ts';
import { startTarget, type TestTarget } from '../support/targets.ts';

const run = promisify(execFile);
const defer = deferCleanups();
let stateDir: string;
let caPath: string;
beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'local-elb-hdr-'));
  caPath = (await openLocalCa(stateDir)).certPath;
});
afterAll(() => rm(stateDir, { recursive: true, force: true }));

function config(target: number, listener: Record<string, unknown>, lb: Record<string, unknown> = {}): ConfigInput {
  return {
    targetGroups: [{ name: 'web', protocol: 'HTTP', healthCheckPath: '/healthz', targets: [{ id: '127.0.0.1', port: target }] }],
    loadBalancers: [
      {
        name: 'alb',
        ...lb,
        listeners: [
          {
            port: 0,
            protocol: 'HTTP',
            defaultActions: [{ type: 'forward', targetGroupName: 'web' }],
            rules: [
              { priority: 1, conditions: [{ field: 'path-pattern', values: ['/fixed'] }], actions: [{ type: 'fixed-response', fixedResponseConfig: { statusCode: '200', messageBody: 'fixed' } }] },
            ],
            ...listener,
          },
        ],
      },
    ],
  } as ConfigInput;
}

async function startElb(input: ConfigInput, logger?: Logger): Promise<LocalElb> {
  const elb = await startLocalElb({ config: input, stateDir, ...(logger ? { logger } : {}) });
  defer(() => elb.close());
  for (const g of elb.targetGroups()) await waitHealthy(g, g.config.targets.length);
  return elb;
}

async function target(name: string): Promise<TestTarget> {
  const t = await startTarget(name);
  defer(() => t.close());
  return t;
}

/** curl -si: the status and the response headers, lower-cased names, in order. */
async function curlHead(url: string, extra: string[] = []): Promise<{ status: number; headers: Array<[string, string]> }> {
  const { stdout } = await run('curl', ['-sS', '-D', '-', '-o', '/dev/null', ...extra, url], { encoding: 'utf8' });
  const lines = stdout.split('\r\n');
  const status = Number(lines[0]!.split(' ')[1]);
  const headers = lines.slice(1).filter((l) => l.includes(':')).map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()] as [string, string]);
  return { status, headers };
}

const values = (headers: Array<[string, string]>, name: string) => headers.filter(([n]) => n === name).map(([, v]) => v);

describe('listener response header attributes (spec 13.3.1)', () => {
  it("replace the target's header and add the missing ones on every response, the load balancer's own too", async () => {
    const a = await target('a');
    a.handler = (_req, res) => {
      res.setHeader('Strict-Transport-Security', 'max-age=1');
      res.setHeader('x-frame-options', 'ALLOWALL');
      res.setHeader('Server', 'app/1.0');
      res.end('from a');
    };
    const elb = await startElb(
      config(a.port, {
        attributes: {
          'routing.http.response.strict_transport_security.header_value': 'max-age=31536000; includeSubDomains; preload',
          'routing.http.response.x_frame_options.header_value': 'DENY',
          'routing.http.response.access_control_allow_origin.header_value': 'https://app.example.com',
          'routing.http.response.access_control_allow_methods.header_value': 'GET,POST,OPTIONS',
          'routing.http.response.x_content_type_options.header_value': 'nosniff',
          'routing.http.response.content_security_policy.header_value': "default-src 'self'",
        },
      }),
    );
    const url = elb.url('alb');
    const fromTarget = await curlHead(`${url}/page`);
    expect(fromTarget.status).toBe(200);
    expect(values(fromTarget.headers, 'strict-transport-security')).toEqual(['max-age=31536000; includeSubDomains; preload']);
    expect(values(fromTarget.headers, 'x-frame-options')).toEqual(['DENY']);
    expect(values(fromTarget.headers, 'access-control-allow-origin')).toEqual(['https://app.example.com']);
    expect(values(fromTarget.headers, 'access-control-allow-methods')).toEqual(['GET,POST,OPTIONS']);
    expect(values(fromTarget.headers, 'x-content-type-options')).toEqual(['nosniff']);
    expect(values(fromTarget.headers, 'content-security-policy')).toEqual(["default-src 'self'"]);
    expect(values(fromTarget.headers, 'server')).toEqual(['app/1.0']); // the target's own Server passes
    const fixed = await curlHead(`${url}/fixed`);
    expect(values(fixed.headers, 'x-frame-options')).toEqual(['DENY']);
    expect(values(fixed.headers, 'server')).toEqual(['awselb/2.0']);
    // An error page the load balancer makes: a target gone is 502.
    a.handler = (req) => req.socket.destroy();
    const failed = await curlHead(`${url}/gone`);
    expect(failed.status).toBe(502);
    expect(values(failed.headers, 'strict-transport-security')).toEqual(['max-age=31536000; includeSubDomains; preload']);
  });

  it("remove the load balancer's Server: awselb/2.0 with routing.http.response.server.enabled false, and leave its own responses alone with emulator.modifyLoadBalancerResponses false", async () => {
    const a = await target('a');
    const elb = await startElb(config(a.port, { attributes: { 'routing.http.response.server.enabled': 'false', 'routing.http.response.x_frame_options.header_value': 'SAMEORIGIN' } }));
    const fixed = await curlHead(`${elb.url('alb')}/fixed`);
    expect(values(fixed.headers, 'server')).toEqual([]);
    expect(values(fixed.headers, 'x-frame-options')).toEqual(['SAMEORIGIN']);
    await elb.close();
    const b = await target('b');
    const untouched = await startElb(
      config(b.port, { attributes: { 'routing.http.response.server.enabled': 'false', 'routing.http.response.x_frame_options.header_value': 'SAMEORIGIN' } }, { emulator: { modifyLoadBalancerResponses: false } }),
    );
    const own = await curlHead(`${untouched.url('alb')}/fixed`);
    expect(values(own.headers, 'server')).toEqual(['awselb/2.0']);
    expect(values(own.headers, 'x-frame-options')).toEqual([]);
    expect(values((await curlHead(`${untouched.url('alb')}/page`)).headers, 'x-frame-options')).toEqual(['SAMEORIGIN']);
  });

  it('refuse values outside the allowed characters or over 1 KB, naming the field', async () => {
    for (const [value, what] of [
      ['say "hi"', /must be ASCII letters, digits, spaces and/],
      ['x'.repeat(1025), /got 1025 characters/],
    ] as const) {
      const attempt = startLocalElb({ config: config(1, { attributes: { 'routing.http.response.content_security_policy.header_value': value } }), stateDir });
      await expect(attempt).rejects.toBeInstanceOf(ConfigError);
      await expect(attempt).rejects.toMatchObject({
        issues: [{ path: 'loadBalancers[0].listeners[0].attributes["routing.http.response.content_security_policy.header_value"]', message: expect.stringMatching(what) }],
      });
    }
  });
});

describe('request header renames on HTTPS listeners (spec 13.3.2)', () => {
  it('send X-Amzn-Tls-Version and -Cipher-Suite under the configured names, and drop client copies of those names', async () => {
    const a = await target('a');
    const input = config(a.port, {
      protocol: 'HTTPS',
      attributes: { 'routing.http.request.x_amzn_tls_version.header_name': 'X-TLS-Version', 'routing.http.request.x_amzn_tls_cipher_suite.header_name': 'X-TLS-Cipher' },
    }, { attributes: { 'routing.http.x_amzn_tls_version_and_cipher_suite.enabled': 'true' } });
    const elb = await startElb(input);
    const url = elb.url('alb').replace('127.0.0.1', 'localhost');
    const dispatcher = new Agent({ allowH2: false, connect: { ca: await import('node:fs').then((fs) => fs.readFileSync(caPath)) } });
    defer(() => dispatcher.close());
    const res = await request(`${url}/tls`, { dispatcher, headers: { 'x-tls-version': 'forged', 'x-amzn-tls-version': 'forged too' } });
    await res.body.text();
    const seen = a.seen.find((s) => s.url === '/tls')!;
    expect(seen.headers['x-tls-version']).toMatch(/^TLSv1\.[23]$/);
    expect(seen.headers['x-tls-cipher']).toMatch(/^(TLS_|ECDHE-)/);
    expect(seen.headers['x-amzn-tls-version']).toBeUndefined();
    expect(seen.headers['x-amzn-tls-cipher-suite']).toBeUndefined();
  });

  it('are refused on HTTP listeners with AWS InvalidConfigurationRequest wording, and a name the load balancer sets is refused', async () => {
    const onHttp = startLocalElb({ config: config(1, { attributes: { 'routing.http.request.x_amzn_tls_version.header_name': 'X-TLS' } }), stateDir });
    await expect(onHttp).rejects.toMatchObject({
      issues: [{ message: expect.stringMatching(/^not supported here \(InvalidConfigurationRequest: Listener attribute key 'routing\.http\.request\.x_amzn_tls_version\.header_name' is not supported on HTTP listeners\)/) }],
    });
    const taken = startLocalElb({ config: config(1, { protocol: 'HTTPS', attributes: { 'routing.http.request.x_amzn_tls_version.header_name': 'X-Forwarded-For' } }), stateDir });
    await expect(taken).rejects.toMatchObject({ issues: [{ message: 'must not be a header the load balancer sets itself: got "X-Forwarded-For"' }] });
  });
});

describe('attributes accepted with no local effect (spec 4.6, 13.4)', () => {
  it('are stored and described back, and each one set is logged once at startup with why', async () => {
    const a = await target('a');
    const lines: Array<{ event?: string; path?: string; msg: string }> = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l));
        done();
      },
    });
    const logger = pino({ level: 'info' }, sink) as unknown as Logger;
    const elb = await startElb(
      config(a.port, {}, {
        attributes: {
          'deletion_protection.enabled': 'true',
          'access_logs.s3.enabled': 'true',
          'access_logs.s3.bucket': 'my-logs',
          'waf.fail_open.enabled': 'true',
        },
      }),
      logger,
    );
    const notes = lines.filter((l) => l.event === 'config.attribute_without_local_effect');
    expect(notes.map((l) => l.path)).toEqual([
      'loadBalancers[0].attributes["waf.fail_open.enabled"]',
      'loadBalancers[0].attributes["deletion_protection.enabled"]',
      'loadBalancers[0].attributes["access_logs.s3.enabled"]',
      'loadBalancers[0].attributes["access_logs.s3.bucket"]',
    ]);
    expect(notes[1]!.msg).toBe('loadBalancers[0].attributes["deletion_protection.enabled"] = "true" is accepted and described back, with no local effect: a local load balancer is deleted with its process');
    expect(elb.applicationLoadBalancer('alb').attributes()).toMatchObject({ 'deletion_protection.enabled': 'true', 'access_logs.s3.bucket': 'my-logs', 'zonal_shift.config.enabled': 'false' });
    // Still working, of course.
    expect((await curlHead(`${elb.url('alb')}/x`)).status).toBe(200);
  });

  it('keep AWS validation: S3 logs need their bucket, ALB cross-zone is always on, an NLB has its own keys', async () => {
    const noBucket = startLocalElb({ config: config(1, {}, { attributes: { 'access_logs.s3.enabled': 'true' } }), stateDir });
    await expect(noBucket).rejects.toMatchObject({ issues: [{ path: 'loadBalancers[0].attributes["access_logs.s3.bucket"]', message: 'is required when access_logs.s3.enabled is "true" (spec 13.4.1)' }] });
    const crossZone = startLocalElb({ config: config(1, {}, { attributes: { 'load_balancing.cross_zone.enabled': 'false' } }), stateDir });
    await expect(crossZone).rejects.toMatchObject({ issues: [{ message: expect.stringMatching(/cross-zone routing is always on for application load balancers/) }] });
    const nlbKeyOnAlb = startLocalElb({ config: config(1, {}, { attributes: { 'dns_record.client_routing_policy': 'any_availability_zone' } }), stateDir });
    await expect(nlbKeyOnAlb).rejects.toMatchObject({
      issues: [{ message: expect.stringMatching(/InvalidConfigurationRequest: Load balancer attribute key 'dns_record\.client_routing_policy' is not supported on load balancers with type 'application'/) }],
    });
    const nlb = await startLocalElb({
      config: {
        targetGroups: [{ name: 't', protocol: 'TCP', attributes: { 'load_balancing.cross_zone.enabled': 'true' } }],
        loadBalancers: [{ name: 'n', type: 'network', attributes: { 'load_balancing.cross_zone.enabled': 'true', 'dns_record.client_routing_policy': 'availability_zone_affinity' }, listeners: [{ port: 0, protocol: 'TCP', defaultActions: [{ type: 'forward', targetGroupName: 't' }] }] }],
      },
      stateDir,
    });
    defer(() => nlb.close());
    expect(nlb.config.loadBalancers[0]!.attributes).toMatchObject({ 'load_balancing.cross_zone.enabled': 'true', 'dns_record.client_routing_policy': 'availability_zone_affinity', 'secondary_ips.auto_assigned.per_subnet': '0' });
  });
});
