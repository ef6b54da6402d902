/**
 * The ELBv2 API with boto3 (issue #15's third client, with issue #14's transforms and
 * regexValues): test/support/elbv2-boto3.py builds an ALB through local-elb's endpoint with
 * botocore's own model, signing and waiters, and this test checks what it got back and sends
 * real requests through the listener it made: a target sees the rule's rewrite.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { startElbv2Endpoint } from '../../src/elbv2/server.ts';
import { startLocalElb } from '../../src/local-elb.ts';
import { deferCleanups } from '../support/alb.ts';
import { requirePeer } from '../support/peers.ts';
import { startRecordingTarget } from '../support/recording-target.ts';

const python = requirePeer('boto3');
const SCRIPT = fileURLToPath(new URL('../support/elbv2-boto3.py', import.meta.url));
const defer = deferCleanups();

describe.skipIf(python === undefined)('ELBv2 API with boto3', () => {
  it('builds an ALB with a transforming rule through botocore, its waiters and AWS error codes, and serves it', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'local-elb-elbv2-boto3-'));
    defer(() => rm(stateDir, { recursive: true, force: true }));
    const elb = await startLocalElb({ config: {}, waitForPodsMs: 0, stateDir });
    defer(() => elb.close());
    const endpoint = await startElbv2Endpoint(elb.runtime, { port: 0 });
    defer(() => endpoint.close());
    const target = await startRecordingTarget();
    defer(() => target.close());

    const { stdout } = await promisify(execFile)(python!, [SCRIPT, endpoint.url, String(target.port)], { timeout: 60_000 });
    const out = JSON.parse(stdout) as {
      loadBalancerArn: string;
      targetGroupArn: string;
      health: string[];
      url: string;
      rule: { priority: string; conditions: unknown[]; transforms: unknown[] };
      errors: Record<string, { code: string; status: number } | null>;
    };
    expect(out.loadBalancerArn).toMatch(/^arn:aws:elasticloadbalancing:eu-west-1:111122223333:loadbalancer\/app\/py-alb\/[0-9a-f]{16}$/);
    expect(out.targetGroupArn).toMatch(/^arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup\/py-tg\/[0-9a-f]{16}$/);
    expect(out.health).toEqual(['healthy']);
    expect(out.rule).toEqual({
      priority: '7',
      conditions: [{ Field: 'path-pattern', PathPatternConfig: { RegexValues: ['^/v1/'] } }],
      transforms: [{ Type: 'url-rewrite', UrlRewriteConfig: { Rewrites: [{ Regex: '^/v1/(.*)$', Replace: '/api/$1' }] } }],
    });
    expect(out.errors).toEqual({
      duplicateTargetGroup: { code: 'DuplicateTargetGroupName', status: 400 },
      unknownTargetGroup: { code: 'TargetGroupNotFound', status: 400 },
      badTransformRegex: { code: 'ValidationError', status: 400 },
    });

    const res = await request(`${out.url}/v1/orders?id=7`);
    expect(res.statusCode).toBe(200);
    await res.body.dump();
    expect(target.requests.at(-1)?.target).toBe('/api/orders?id=7');
    const plain = await request(`${out.url}/v2/orders`);
    await plain.body.dump();
    expect(target.requests.at(-1)?.target).toBe('/v2/orders');
  });
});
