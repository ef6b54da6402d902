/**
 * Rule transforms and regexValues through the ELBv2 API (spec 14.6.5, 6.1, 6.2), driven by the
 * real AWS SDK for JavaScript v3: CreateRule and ModifyRule with `Transforms` and
 * `ResetTransforms`, DescribeRules echoing them and `RegexValues`, AWS's error codes for what
 * is refused, and a real target seeing the rewritten request. (The AWS CLI installed here,
 * 2.9.19, predates transforms and regexValues: its model has neither member.)
 */
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateRuleCommand,
  CreateTargetGroupCommand,
  DescribeRulesCommand,
  DescribeTagsCommand,
  ModifyRuleCommand,
  RegisterTargetsCommand,
  type RuleTransform,
  waitUntilLoadBalancerAvailable,
  waitUntilTargetInService,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { deferCleanups } from '../support/alb.ts';
import { awsError, FAST_WAITER as fast, startSdkStack } from '../support/elbv2-sdk.ts';
import { startRecordingTarget } from '../support/recording-target.ts';
import { waitFor } from '../support/wait.ts';

const defer = deferCleanups();


const urlRewrite = (regex: string, replace: string): RuleTransform => ({ Type: 'url-rewrite', UrlRewriteConfig: { Rewrites: [{ Regex: regex, Replace: replace }] } });
const hostRewrite = (regex: string, replace: string): RuleTransform => ({ Type: 'host-header-rewrite', HostHeaderRewriteConfig: { Rewrites: [{ Regex: regex, Replace: replace }] } });

describe('ELBv2 API: rule transforms and regexValues with the AWS SDK', () => {
  it('creates, describes, modifies and resets transforms; regexValues both ways; a target sees the rewrite; bad input gets AWS codes', async () => {
    const { elb, client } = await startSdkStack(defer, { stateDirPrefix: 'local-elb-elbv2-transforms-' });
    const target = await startRecordingTarget();
    defer(() => target.close());

    const lb = (await client.send(new CreateLoadBalancerCommand({ Name: 'rw', Subnets: ['subnet-1', 'subnet-2'] }))).LoadBalancers![0]!;
    await waitUntilLoadBalancerAvailable({ client, ...fast }, { Names: ['rw'] });
    const tg = (await client.send(new CreateTargetGroupCommand({ Name: 'rw-tg', Protocol: 'HTTP', Port: target.port, VpcId: 'vpc-1', HealthCheckIntervalSeconds: 5, HealthCheckPath: '/healthz' }))).TargetGroups![0]!;
    await client.send(new RegisterTargetsCommand({ TargetGroupArn: tg.TargetGroupArn, Targets: [{ Id: '127.0.0.1' }] }));
    const listener = (
      await client.send(new CreateListenerCommand({ LoadBalancerArn: lb.LoadBalancerArn, Protocol: 'HTTP', Port: 8091, DefaultActions: [{ Type: 'forward', TargetGroupArn: tg.TargetGroupArn }] }))
    ).Listeners![0]!;
    await waitUntilTargetInService({ client, ...fast }, { TargetGroupArn: tg.TargetGroupArn });
    const tags = await client.send(new DescribeTagsCommand({ ResourceArns: [listener.ListenerArn!] }));
    const url = tags.TagDescriptions![0]!.Tags!.find((t) => t.Key === 'local-elb:url')!.Value!;

    const created = (
      await client.send(
        new CreateRuleCommand({
          ListenerArn: listener.ListenerArn,
          Priority: 5,
          Conditions: [
            { Field: 'path-pattern', PathPatternConfig: { RegexValues: ['^/api/'] } },
            { Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: 'X-Env', RegexValues: ['^(dev|qa)$'] } },
          ],
          Actions: [{ Type: 'forward', TargetGroupArn: tg.TargetGroupArn }],
          Transforms: [urlRewrite('^/api/(.*)$', '/$1'), hostRewrite('.*', 'backend.internal')],
        }),
      )
    ).Rules![0]!;
    expect(created.Transforms).toEqual([urlRewrite('^/api/(.*)$', '/$1'), hostRewrite('.*', 'backend.internal')]);
    expect(created.Conditions).toEqual([
      { Field: 'path-pattern', PathPatternConfig: { RegexValues: ['^/api/'] } },
      { Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: 'X-Env', RegexValues: ['^(dev|qa)$'] } },
    ]);
    const described = (await client.send(new DescribeRulesCommand({ RuleArns: [created.RuleArn!] }))).Rules![0]!;
    expect(described.Transforms).toEqual(created.Transforms);

    const since = target.requests.length;
    const res = await request(`${url}/api/orders?id=1`, { headers: { 'x-env': 'QA' } });
    expect(await res.body.text()).toBe('seen GET /orders?id=1');
    const seen = await waitFor(() => target.requests[since], { what: 'the rewritten request' });
    expect(target.header(seen, 'host')).toBe('backend.internal:8091');
    // The header regex does not match: the default rule, nothing rewritten.
    expect(await (await request(`${url}/api/orders`, { headers: { 'x-env': 'prod' } })).body.text()).toBe('seen GET /api/orders');

    // ModifyRule: new transforms replace the old; ResetTransforms removes them; the conditions stay.
    const modified = (await client.send(new ModifyRuleCommand({ RuleArn: created.RuleArn, Transforms: [urlRewrite('^/api/', '/v2/')] }))).Rules![0]!;
    expect(modified.Transforms).toEqual([urlRewrite('^/api/', '/v2/')]);
    expect(modified.Conditions).toEqual(created.Conditions);
    expect(await (await request(`${url}/api/x`, { headers: { 'x-env': 'dev' } })).body.text()).toBe('seen GET /v2/x');
    const reset = (await client.send(new ModifyRuleCommand({ RuleArn: created.RuleArn, ResetTransforms: true }))).Rules![0]!;
    expect(reset.Transforms ?? []).toEqual([]);
    expect(await (await request(`${url}/api/x`, { headers: { 'x-env': 'dev' } })).body.text()).toBe('seen GET /api/x');

    // What AWS refuses, with its codes.
    const base = { ListenerArn: listener.ListenerArn, Conditions: [{ Field: 'path-pattern', Values: ['/z'] }], Actions: [{ Type: 'forward' as const, TargetGroupArn: tg.TargetGroupArn }] };
    const two = await awsError(client.send(new CreateRuleCommand({ ...base, Priority: 6, Transforms: [urlRewrite('a', 'b'), urlRewrite('c', 'd')] })));
    expect(two).toMatchObject({ name: 'ValidationError', status: 400 });
    expect(two.message).toContain("at most one 'url-rewrite' transform");
    const lookahead = await awsError(client.send(new CreateRuleCommand({ ...base, Priority: 7, Transforms: [urlRewrite('^/z(?=x)', '/y')] })));
    expect(lookahead).toMatchObject({ name: 'ValidationError', status: 400 });
    expect(lookahead.message).toContain('lookaheads ((?=) are not supported: got "^/z(?=x)"');
    const unicode = await awsError(client.send(new CreateRuleCommand({ ...base, Priority: 8, Conditions: [{ Field: 'host-header', HostHeaderConfig: { RegexValues: ['^\\p{L}+$'] } }] })));
    expect(unicode).toMatchObject({ name: 'ValidationError', status: 400 });
    expect(unicode.message).toContain('Unicode character classes');
    const both = await awsError(client.send(new ModifyRuleCommand({ RuleArn: created.RuleArn, Transforms: [urlRewrite('a', 'b')], ResetTransforms: true })));
    expect(both).toMatchObject({ name: 'ValidationError', message: 'You cannot specify both Transforms and ResetTransforms' });
    const rules = (await client.send(new DescribeRulesCommand({ ListenerArn: listener.ListenerArn }))).Rules!;
    const defaultRule = rules.find((r) => r.IsDefault)!;
    expect(await awsError(client.send(new ModifyRuleCommand({ RuleArn: defaultRule.RuleArn, Transforms: [urlRewrite('a', '/b')] })))).toMatchObject({ name: 'OperationNotPermittedException', status: 400 });
    // Nothing refused was kept: one rule and the default.
    expect(rules.map((r) => r.Priority)).toEqual(['5', 'default']);
  }, 60_000);
});
