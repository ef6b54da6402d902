/**
 * The AWS CLI v2 (Debian's `awscli`) against `local-elb serve` with no config (issue #15):
 * `aws elbv2 … --endpoint-url`, the JSON it prints checked, traffic through what it built, and
 * `local-elb export` printing that state as a config file. Skipped, saying why, when `aws`
 * is not installed (`apt-get install awscli`). botocore's waiters (`aws elbv2 wait …`) sleep
 * 15 s between polls; here each one's first poll already succeeds.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import http from 'node:http';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseConfig } from '../../src/config/schema.ts';
import { deferCleanups } from '../support/alb.ts';
import { runCli, startCli } from '../support/cli.ts';
import { startTarget } from '../support/targets.ts';

const run = promisify(execFile);
const defer = deferCleanups();

/** Debian's aws first (a pyenv shim on PATH may point nowhere). */
function findAws(): string | undefined {
  for (const candidate of ['/usr/bin/aws', 'aws']) {
    if (candidate.startsWith('/') && !existsSync(candidate)) continue;
    const probe = spawnSync(candidate, ['--version'], { encoding: 'utf8' });
    if (probe.status === 0 && /aws-cli\/2\./.test(`${probe.stdout}${probe.stderr}`)) return candidate;
  }
  return undefined;
}

const AWS = findAws();
if (AWS === undefined) console.warn('elbv2-cli.test.ts: skipped: the AWS CLI v2 is not installed (Debian: apt-get install awscli)');

describe.skipIf(AWS === undefined)('ELBv2 API with the AWS CLI v2', () => {
  it('builds a target group, an ALB and a listener with aws elbv2 --endpoint-url, reaches the target through it, and exports the state', async () => {
    const target = await startTarget('cli-target');
    defer(() => target.close());
    const serve = startCli(['serve', '--elbv2-endpoint', '127.0.0.1:0', '--admin', '127.0.0.1:0', '--log-level', 'warn']);
    defer(() => serve.stop());
    const endpoint = (await serve.waitForStdout(/ELBv2 API on (http:\/\/127\.0\.0\.1:\d+)/))[1]!;
    const admin = (await serve.waitForStdout(/admin API on (http:\/\/127\.0\.0\.1:\d+)/))[1]!;
    const env = { ...process.env, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_DEFAULT_REGION: 'eu-central-1', AWS_PAGER: '', AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null', AWS_EC2_METADATA_DISABLED: 'true' };
    const aws = async (...args: string[]) => {
      const { stdout } = await run(AWS!, ['elbv2', ...args, '--endpoint-url', endpoint, '--output', 'json'], { env, timeout: 60_000 });
      return stdout.trim() === '' ? {} : (JSON.parse(stdout) as Record<string, any>);
    };

    const tg = (await aws('create-target-group', '--name', 'cli-tg', '--protocol', 'HTTP', '--port', String(target.port), '--vpc-id', 'vpc-0a1b2c3d', '--health-check-interval-seconds', '5', '--health-check-path', '/healthz')).TargetGroups[0];
    expect(tg).toMatchObject({ TargetGroupName: 'cli-tg', Protocol: 'HTTP', Port: target.port, VpcId: 'vpc-0a1b2c3d', HealthCheckPath: '/healthz', HealthCheckIntervalSeconds: 5, Matcher: { HttpCode: '200' }, LoadBalancerArns: [] });
    expect(tg.TargetGroupArn).toMatch(/^arn:aws:elasticloadbalancing:eu-central-1:000000000000:targetgroup\/cli-tg\/[0-9a-f]{16}$/);
    const lb = (await aws('create-load-balancer', '--name', 'cli-lb', '--subnets', 'subnet-0aaa', 'subnet-0bbb')).LoadBalancers[0];
    expect(lb).toMatchObject({ LoadBalancerName: 'cli-lb', Type: 'application', Scheme: 'internet-facing', State: { Code: 'provisioning' } });
    await run(AWS!, ['elbv2', 'wait', 'load-balancer-available', '--load-balancer-arns', lb.LoadBalancerArn, '--endpoint-url', endpoint], { env, timeout: 60_000 });
    const listener = (await aws('create-listener', '--load-balancer-arn', lb.LoadBalancerArn, '--protocol', 'HTTP', '--port', '8000', '--default-actions', `Type=forward,TargetGroupArn=${tg.TargetGroupArn}`)).Listeners[0];
    expect(listener).toMatchObject({ Port: 8000, Protocol: 'HTTP', DefaultActions: [{ Type: 'forward', TargetGroupArn: tg.TargetGroupArn }] });
    expect(await aws('register-targets', '--target-group-arn', tg.TargetGroupArn, '--targets', 'Id=127.0.0.1')).toEqual({});
    await run(AWS!, ['elbv2', 'wait', 'target-in-service', '--target-group-arn', tg.TargetGroupArn, '--endpoint-url', endpoint], { env, timeout: 60_000 });
    const health = await aws('describe-target-health', '--target-group-arn', tg.TargetGroupArn);
    expect(health.TargetHealthDescriptions).toEqual([{ Target: { Id: '127.0.0.1', Port: target.port }, HealthCheckPort: String(target.port), TargetHealth: { State: 'healthy' } }]);

    const tags = await aws('describe-tags', '--resource-arns', listener.ListenerArn);
    const url = new URL(tags.TagDescriptions[0].Tags.find((t: { Key: string }) => t.Key === 'local-elb:url').Value);
    expect(url.hostname).toBe(lb.DNSName);
    const body = await new Promise<string>((resolve, reject) => {
      http.get({ host: url.hostname, port: url.port, path: '/', agent: false }, (res) => {
        let b = '';
        res.on('data', (c: Buffer) => (b += c.toString()));
        res.on('end', () => resolve(b));
      }).on('error', reject);
    });
    expect(body).toBe('cli-target');

    // An error: the CLI prints AWS's sentence and exits 254.
    const refused = await run(AWS!, ['elbv2', 'describe-target-groups', '--names', 'nope', '--endpoint-url', endpoint], { env }).catch((e: { code: number; stderr: string }) => e);
    expect(refused).toMatchObject({ code: 254 });
    expect((refused as { stderr: string }).stderr).toContain('An error occurred (TargetGroupNotFound) when calling the DescribeTargetGroups operation: One or more target groups not found');

    // The same state through local-elb's own verbs and its export.
    const verbs = await runCli(['describe-target-health', '--target-group-name', 'cli-tg', '--admin', admin]);
    expect(JSON.parse(verbs.stdout).TargetHealthDescriptions[0].TargetHealth.State).toBe('healthy');
    const exported = await runCli(['export', '--admin', admin]);
    expect(exported.code).toBe(0);
    const config = parseConfig(parse(exported.stdout), 'the export');
    expect(config.targetGroups.map((g) => [g.name, g.port, g.healthCheckPath, g.targets])).toEqual([['cli-tg', target.port, '/healthz', [{ id: '127.0.0.1', port: target.port }]]]);
    expect(config.loadBalancers.map((l) => [l.name, l.listeners.map((x) => [x.port, x.address, x.defaultActions])])).toEqual([['cli-lb', [[8000, lb.DNSName, [{ type: 'forward', targetGroupName: 'cli-tg' }]]]]]);

    // Deleting the load balancer deletes its listener.
    await aws('delete-load-balancer', '--load-balancer-arn', lb.LoadBalancerArn);
    await aws('delete-target-group', '--target-group-arn', tg.TargetGroupArn);
    expect((await aws('describe-load-balancers')).LoadBalancers).toEqual([]);
    // Each aws process takes seconds to start on a busy 2-core machine (Python): a generous deadline.
  }, 300_000);
});
