/**
 * The ELBv2 API driven by the real AWS SDK for JavaScript v3 (issue #15, spec 14): a full ALB
 * and NLB lifecycle against a running local-elb with real local targets (create, register,
 * waitUntilTargetInService, traffic through it, deregister and waitUntilTargetDeregistered,
 * delete), AWS's error codes as the SDK surfaces them (`err.name`), pagination, tags,
 * attributes, certificates and policies, and the one model: the config file, the admin API and
 * the SDK see and change the same runtime, and a change leaves other listeners' connections be.
 * Everything listens on 127.0.0.x with port 0 but the API's listeners, which take their `Port`
 * on the load balancer's own loopback address where it is free, else a free port.
 */
import http from 'node:http';
import net from 'node:net';
import {
  AddListenerCertificatesCommand,
  AddTagsCommand,
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateRuleCommand,
  CreateTargetGroupCommand,
  DeleteListenerCommand,
  DeleteLoadBalancerCommand,
  DeleteRuleCommand,
  DeleteTargetGroupCommand,
  DeregisterTargetsCommand,
  DescribeAccountLimitsCommand,
  DescribeListenerAttributesCommand,
  DescribeListenerCertificatesCommand,
  DescribeListenersCommand,
  DescribeLoadBalancerAttributesCommand,
  DescribeLoadBalancersCommand,
  DescribeRulesCommand,
  DescribeSSLPoliciesCommand,
  DescribeTagsCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  ModifyListenerCommand,
  ModifyLoadBalancerAttributesCommand,
  ModifyRuleCommand,
  ModifyTargetGroupAttributesCommand,
  ModifyTargetGroupCommand,
  RegisterTargetsCommand,
  RemoveTagsCommand,
  SetRulePrioritiesCommand,
  paginateDescribeTargetGroups,
  waitUntilLoadBalancerAvailable,
  waitUntilLoadBalancersDeleted,
  waitUntilTargetDeregistered,
  waitUntilTargetInService,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { describe, expect, it } from 'vitest';
import { startAdminServer } from '../../src/admin/server.ts';
import { parseConfig } from '../../src/config/schema.ts';
import { startElbv2Endpoint } from '../../src/elbv2/server.ts';
import { startLocalElb } from '../../src/local-elb.ts';
import { deferCleanups } from '../support/alb.ts';
import { awsError, FAST_WAITER as fast, startSdkStack } from '../support/elbv2-sdk.ts';
import { startTcpTarget } from '../support/tcp.ts';
import { startTarget } from '../support/targets.ts';
import { waitFor } from '../support/wait.ts';

const defer = deferCleanups();

function startStack(config: Parameters<typeof startLocalElb>[0]['config'] = {}) {
  return startSdkStack(defer, { config });
}

/** Where a listener is bound on this machine, from its `local-elb:url` tag. */
async function listenerUrl(client: ElasticLoadBalancingV2Client, listenerArn: string): Promise<URL> {
  const tags = await client.send(new DescribeTagsCommand({ ResourceArns: [listenerArn] }));
  const url = tags.TagDescriptions![0]!.Tags!.find((t) => t.Key === 'local-elb:url')?.Value;
  expect(url).toBeDefined();
  return new URL(url!);
}

function get(url: URL, path = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: url.hostname, port: url.port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
  });
}

describe('ELBv2 API with the AWS SDK: an application load balancer', () => {
  it('creates an ALB, a target group, a listener and a rule, sends HTTP to two real targets, drains one with waitUntilTargetDeregistered and deletes everything', async () => {
    const { client, elb } = await startStack();
    const [a, b] = [await startTarget('target-a'), await startTarget('target-b')];
    defer(() => a.close());
    defer(() => b.close());

    const lb = (await client.send(new CreateLoadBalancerCommand({ Name: 'web', Subnets: ['subnet-0aaa', 'subnet-0bbb'], Tags: [{ Key: 'team', Value: 'shop' }] }))).LoadBalancers![0]!;
    expect(lb.LoadBalancerArn).toMatch(/^arn:aws:elasticloadbalancing:eu-west-1:111122223333:loadbalancer\/app\/web\/[0-9a-f]{16}$/);
    expect(lb.State?.Code).toBe('provisioning');
    expect(lb.Type).toBe('application');
    expect(lb.AvailabilityZones?.map((z) => z.ZoneName)).toEqual(['eu-west-1a', 'eu-west-1b']);
    expect(lb.DNSName).toMatch(/^127\.\d+\.\d+\.\d+$/);
    await waitUntilLoadBalancerAvailable({ client, ...fast }, { LoadBalancerArns: [lb.LoadBalancerArn!] });

    const tg = (
      await client.send(
        new CreateTargetGroupCommand({ Name: 'web-tg', Protocol: 'HTTP', Port: 80, VpcId: 'vpc-0a1b2c3d', HealthCheckPath: '/healthz', HealthCheckIntervalSeconds: 5, Matcher: { HttpCode: '200-299' } }),
      )
    ).TargetGroups![0]!;
    expect(tg.TargetGroupArn).toMatch(/^arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup\/web-tg\/[0-9a-f]{16}$/);
    // The defaults of spec 14.7 filled in.
    expect(tg).toMatchObject({ HealthCheckProtocol: 'HTTP', HealthCheckPort: 'traffic-port', HealthCheckTimeoutSeconds: 5, HealthyThresholdCount: 5, UnhealthyThresholdCount: 2, TargetType: 'instance', ProtocolVersion: 'HTTP1', LoadBalancerArns: [] });
    await client.send(new ModifyTargetGroupAttributesCommand({ TargetGroupArn: tg.TargetGroupArn, Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '1' }] }));

    const listener = (
      await client.send(new CreateListenerCommand({ LoadBalancerArn: lb.LoadBalancerArn, Protocol: 'HTTP', Port: 80, DefaultActions: [{ Type: 'forward', TargetGroupArn: tg.TargetGroupArn }] }))
    ).Listeners![0]!;
    expect(listener.ListenerArn).toMatch(/^arn:aws:elasticloadbalancing:eu-west-1:111122223333:listener\/app\/web\/[0-9a-f]{16}\/[0-9a-f]{16}$/);
    expect(listener.Port).toBe(80);
    const url = await listenerUrl(client, listener.ListenerArn!);
    // Its Port on the load balancer's own address, or (taken) a free port there.
    expect(url.hostname).toBe(lb.DNSName);

    const rule = (
      await client.send(
        new CreateRuleCommand({
          ListenerArn: listener.ListenerArn,
          Priority: 10,
          Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/maintenance'] } }],
          Actions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '503', ContentType: 'text/plain', MessageBody: 'back soon' } }],
        }),
      )
    ).Rules![0]!;
    expect(rule).toMatchObject({ Priority: '10', IsDefault: false });

    await client.send(new RegisterTargetsCommand({ TargetGroupArn: tg.TargetGroupArn, Targets: [{ Id: '127.0.0.1', Port: a.port }, { Id: '127.0.0.1', Port: b.port }] }));
    const first = await client.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg.TargetGroupArn }));
    expect(first.TargetHealthDescriptions?.map((d) => d.TargetHealth?.State).every((s) => s === 'initial' || s === 'healthy')).toBe(true);
    await waitUntilTargetInService({ client, ...fast }, { TargetGroupArn: tg.TargetGroupArn });

    const served = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const res = await get(url);
      expect(res.status).toBe(200);
      served.add(res.body);
    }
    expect([...served].sort()).toEqual(['target-a', 'target-b']);
    expect(await get(url, '/maintenance')).toEqual({ status: 503, body: 'back soon' });
    // The one model: the SDK's group is the admin view's, health included.
    expect(elb.targetGroup('web-tg').healthyHostCount).toBe(2);

    await client.send(new DeregisterTargetsCommand({ TargetGroupArn: tg.TargetGroupArn, Targets: [{ Id: '127.0.0.1', Port: a.port }] }));
    const draining = await client.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg.TargetGroupArn, Targets: [{ Id: '127.0.0.1', Port: a.port }] }));
    expect(draining.TargetHealthDescriptions![0]!.TargetHealth).toMatchObject({ State: 'draining', Reason: 'Target.DeregistrationInProgress' });
    await waitUntilTargetDeregistered({ client, ...fast }, { TargetGroupArn: tg.TargetGroupArn, Targets: [{ Id: '127.0.0.1', Port: a.port }] });
    const gone = await client.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg.TargetGroupArn, Targets: [{ Id: '127.0.0.1', Port: a.port }] }));
    expect(gone.TargetHealthDescriptions![0]!.TargetHealth).toMatchObject({ State: 'unused', Reason: 'Target.NotRegistered' });
    for (let i = 0; i < 3; i++) expect((await get(url)).body).toBe('target-b');

    await client.send(new DeleteRuleCommand({ RuleArn: rule.RuleArn }));
    await client.send(new DeleteListenerCommand({ ListenerArn: listener.ListenerArn }));
    await client.send(new DeleteTargetGroupCommand({ TargetGroupArn: tg.TargetGroupArn }));
    await client.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: lb.LoadBalancerArn }));
    await waitUntilLoadBalancersDeleted({ client, ...fast }, { LoadBalancerArns: [lb.LoadBalancerArn!] });
    expect(elb.loadBalancers()).toEqual([]);
    expect(elb.targetGroups()).toEqual([]);
    await expect(get(url)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});

describe('ELBv2 API with the AWS SDK: a network load balancer', () => {
  it('creates an NLB with a TCP listener, carries TCP to two real targets, drains one and deletes everything', async () => {
    const { client } = await startStack();
    const [a, b] = [await startTcpTarget('tcp-a'), await startTcpTarget('tcp-b')];
    defer(() => a.close());
    defer(() => b.close());
    const lb = (await client.send(new CreateLoadBalancerCommand({ Name: 'edge', Type: 'network', Subnets: ['subnet-0aaa'] }))).LoadBalancers![0]!;
    expect(lb.LoadBalancerArn).toMatch(/:loadbalancer\/net\/edge\/[0-9a-f]{16}$/);
    expect(lb.SecurityGroups).toBeUndefined();
    const tg = (await client.send(new CreateTargetGroupCommand({ Name: 'edge-tcp', Protocol: 'TCP', Port: 7000, VpcId: 'vpc-1', HealthCheckIntervalSeconds: 10 }))).TargetGroups![0]!;
    // NLB defaults (spec 14.7): TCP checks, timeout 10, no path or matcher.
    expect(tg).toMatchObject({ HealthCheckProtocol: 'TCP', HealthCheckTimeoutSeconds: 10 });
    expect(tg.Matcher).toBeUndefined();
    await client.send(new ModifyTargetGroupAttributesCommand({ TargetGroupArn: tg.TargetGroupArn, Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '0' }] }));
    const listener = (
      await client.send(new CreateListenerCommand({ LoadBalancerArn: lb.LoadBalancerArn, Protocol: 'TCP', Port: 7000, DefaultActions: [{ Type: 'forward', TargetGroupArn: tg.TargetGroupArn }] }))
    ).Listeners![0]!;
    const url = await listenerUrl(client, listener.ListenerArn!);
    expect(url.protocol).toBe('tcp:');
    expect(url.hostname).toBe(lb.DNSName);
    await client.send(new RegisterTargetsCommand({ TargetGroupArn: tg.TargetGroupArn, Targets: [{ Id: '127.0.0.1', Port: a.port }, { Id: '127.0.0.1', Port: b.port }] }));
    await waitUntilTargetInService({ client, ...fast }, { TargetGroupArn: tg.TargetGroupArn });

    const exchange = (message: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = net.connect({ host: url.hostname, port: Number(url.port) });
        let got = '';
        socket.setEncoding('utf8');
        socket.on('connect', () => socket.write(message));
        socket.on('data', (c: string) => {
          got += c;
          if (got.endsWith(message)) {
            socket.end();
            resolve(got);
          }
        });
        socket.on('error', reject);
      });
    const seen = new Set<string>();
    // A new flow's target is a hash with a random part: 40 flows reach both of two targets
    // unless the hash is broken (each flow misses one target with probability 1/2: 2^-39).
    for (let i = 0; i < 40 && seen.size < 2; i++) seen.add((await exchange(`hello-${i}`)).split(':')[0]!);
    expect([...seen].sort()).toEqual(['tcp-a', 'tcp-b']);

    await client.send(new DeregisterTargetsCommand({ TargetGroupArn: tg.TargetGroupArn, Targets: [{ Id: '127.0.0.1', Port: b.port }] }));
    await waitUntilTargetDeregistered({ client, ...fast }, { TargetGroupArn: tg.TargetGroupArn, Targets: [{ Id: '127.0.0.1', Port: b.port }] });
    for (let i = 0; i < 5; i++) expect((await exchange(`after-${i}`)).split(':')[0]).toBe('tcp-a');

    await client.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: lb.LoadBalancerArn }));
    await client.send(new DeleteTargetGroupCommand({ TargetGroupArn: tg.TargetGroupArn }));
    expect((await client.send(new DescribeTargetGroupsCommand({}))).TargetGroups).toEqual([]);
  });
});

describe('ELBv2 API errors as the SDK surfaces them', () => {
  it('answers duplicate names, unknown ARNs, a priority in use and invalid input with AWS codes and statuses', async () => {
    const { client } = await startStack();
    const lb = (await client.send(new CreateLoadBalancerCommand({ Name: 'errs', Subnets: ['subnet-1', 'subnet-2'] }))).LoadBalancers![0]!;
    const tg = (await client.send(new CreateTargetGroupCommand({ Name: 'errs-tg', Protocol: 'HTTP', Port: 80, VpcId: 'vpc-1' }))).TargetGroups![0]!;
    // The same call again is idempotent; other settings under the name are not.
    expect((await client.send(new CreateTargetGroupCommand({ Name: 'errs-tg', Protocol: 'HTTP', Port: 80, VpcId: 'vpc-1' }))).TargetGroups![0]!.TargetGroupArn).toBe(tg.TargetGroupArn);
    expect(await awsError(client.send(new CreateTargetGroupCommand({ Name: 'errs-tg', Protocol: 'HTTP', Port: 8080, VpcId: 'vpc-1' })))).toMatchObject({ name: 'DuplicateTargetGroupNameException', status: 400 });
    expect(await awsError(client.send(new CreateLoadBalancerCommand({ Name: 'errs', Type: 'network', Subnets: ['subnet-1'] })))).toMatchObject({ name: 'DuplicateLoadBalancerNameException', status: 400 });

    const unknownTg = tg.TargetGroupArn!.replace(/[0-9a-f]{16}$/, '0000000000000000');
    expect(await awsError(client.send(new DescribeTargetHealthCommand({ TargetGroupArn: unknownTg })))).toMatchObject({ name: 'TargetGroupNotFoundException', message: `Target groups '${unknownTg}' not found` });
    expect(await awsError(client.send(new DescribeTargetGroupsCommand({ Names: ['nope'] })))).toMatchObject({ name: 'TargetGroupNotFoundException', message: 'One or more target groups not found' });
    expect(await awsError(client.send(new DescribeLoadBalancersCommand({ Names: ['nope'] })))).toMatchObject({ name: 'LoadBalancerNotFoundException', message: "Load balancers '[nope]' not found" });
    const listener = (await client.send(new CreateListenerCommand({ LoadBalancerArn: lb.LoadBalancerArn, Protocol: 'HTTP', Port: 8081, DefaultActions: [{ Type: 'forward', TargetGroupArn: tg.TargetGroupArn }] }))).Listeners![0]!;
    expect(await awsError(client.send(new DescribeListenersCommand({ ListenerArns: [`${listener.ListenerArn!.slice(0, -16)}0000000000000000`] })))).toMatchObject({ name: 'ListenerNotFoundException' });
    expect(await awsError(client.send(new CreateListenerCommand({ LoadBalancerArn: lb.LoadBalancerArn, Protocol: 'HTTP', Port: 8081, DefaultActions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '200' } }] })))).toMatchObject({ name: 'DuplicateListenerException' });
    expect(await awsError(client.send(new CreateListenerCommand({ LoadBalancerArn: lb.LoadBalancerArn, Protocol: 'HTTP', Port: 8082, DefaultActions: [{ Type: 'forward', TargetGroupArn: unknownTg }] })))).toMatchObject({ name: 'TargetGroupNotFoundException' });

    const rule = { ListenerArn: listener.ListenerArn, Conditions: [{ Field: 'host-header', Values: ['a.example.com'] }], Actions: [{ Type: 'forward' as const, TargetGroupArn: tg.TargetGroupArn }] };
    await client.send(new CreateRuleCommand({ ...rule, Priority: 5 }));
    expect(await awsError(client.send(new CreateRuleCommand({ ...rule, Priority: 5 })))).toMatchObject({ name: 'PriorityInUseException', status: 400 });
    expect(await awsError(client.send(new DeleteTargetGroupCommand({ TargetGroupArn: tg.TargetGroupArn })))).toMatchObject({ name: 'ResourceInUseException' });
    // Common errors have no modelled class: the SDK names the error by its code.
    expect(await awsError(client.send(new CreateTargetGroupCommand({ Name: '-bad-', Protocol: 'HTTP', Port: 80 })))).toMatchObject({ name: 'ValidationError', status: 400 });
    expect(await awsError(client.send(new CreateTargetGroupCommand({ Name: 'range', Protocol: 'HTTP', Port: 80, HealthCheckIntervalSeconds: 1 })))).toMatchObject({ name: 'ValidationError' });
    expect(await awsError(client.send(new ModifyLoadBalancerAttributesCommand({ LoadBalancerArn: lb.LoadBalancerArn, Attributes: [{ Key: 'no.such.key', Value: '1' }] })))).toMatchObject({
      name: 'ValidationError',
      message: "Load balancer attribute key 'no.such.key' is not recognized",
    });
    expect(await awsError(client.send(new ModifyLoadBalancerAttributesCommand({ LoadBalancerArn: lb.LoadBalancerArn, Attributes: [{ Key: 'tcp.idle_timeout.seconds', Value: '60' }] })))).toMatchObject({ name: 'ValidationError' });
    expect(await awsError(client.send(new DescribeSSLPoliciesCommand({ Names: ['ELBSecurityPolicy-Nope'] })))).toMatchObject({ name: 'SSLPolicyNotFoundException' });
    // One load balancer per target group (spec 14.6.4).
    const other = (await client.send(new CreateLoadBalancerCommand({ Name: 'other', Subnets: ['subnet-1', 'subnet-2'] }))).LoadBalancers![0]!;
    expect(await awsError(client.send(new CreateListenerCommand({ LoadBalancerArn: other.LoadBalancerArn, Protocol: 'HTTP', Port: 8083, DefaultActions: [{ Type: 'forward', TargetGroupArn: tg.TargetGroupArn }] })))).toMatchObject({
      name: 'TargetGroupAssociationLimitException',
    });
    const tcp = (await client.send(new CreateTargetGroupCommand({ Name: 'errs-tcp', Protocol: 'TCP', Port: 80, VpcId: 'vpc-1' }))).TargetGroups![0]!;
    expect(await awsError(client.send(new CreateListenerCommand({ LoadBalancerArn: other.LoadBalancerArn, Protocol: 'HTTP', Port: 8084, DefaultActions: [{ Type: 'forward', TargetGroupArn: tcp.TargetGroupArn }] })))).toMatchObject({
      name: 'IncompatibleProtocolsException',
    });
  });
});

describe('ELBv2 API: rules, attributes, tags, certificates, pagination and policies', () => {
  it('re-prioritises and modifies rules, changes attributes, tags resources, adds certificates and pages through target groups', async () => {
    const { client } = await startStack();
    const target = await startTarget('only');
    defer(() => target.close());
    const lb = (await client.send(new CreateLoadBalancerCommand({ Name: 'rules', Subnets: ['subnet-1', 'subnet-2'] }))).LoadBalancers![0]!;
    await waitUntilLoadBalancerAvailable({ client, ...fast }, { Names: ['rules'] });
    const tg = (await client.send(new CreateTargetGroupCommand({ Name: 'rules-tg', Protocol: 'HTTP', Port: target.port, VpcId: 'vpc-1', HealthCheckIntervalSeconds: 5 }))).TargetGroups![0]!;
    const listener = (
      await client.send(new CreateListenerCommand({ LoadBalancerArn: lb.LoadBalancerArn, Protocol: 'HTTP', Port: 8090, DefaultActions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '404', MessageBody: 'none' } }] }))
    ).Listeners![0]!;
    const url = await listenerUrl(client, listener.ListenerArn!);
    const fixed = (text: string) => [{ Type: 'fixed-response' as const, FixedResponseConfig: { StatusCode: '200', ContentType: 'text/plain', MessageBody: text } }];
    const r1 = (await client.send(new CreateRuleCommand({ ListenerArn: listener.ListenerArn, Priority: 1, Conditions: [{ Field: 'path-pattern', Values: ['/x*'] }], Actions: fixed('first') }))).Rules![0]!;
    const r2 = (await client.send(new CreateRuleCommand({ ListenerArn: listener.ListenerArn, Priority: 2, Conditions: [{ Field: 'path-pattern', Values: ['/xy'] }], Actions: fixed('second') }))).Rules![0]!;
    expect((await get(url, '/xy')).body).toBe('first');
    const swapped = await client.send(new SetRulePrioritiesCommand({ RulePriorities: [{ RuleArn: r1.RuleArn, Priority: 2 }, { RuleArn: r2.RuleArn, Priority: 1 }] }));
    expect(swapped.Rules?.map((r) => [r.RuleArn, r.Priority])).toEqual([[r1.RuleArn, '2'], [r2.RuleArn, '1']]);
    expect((await get(url, '/xy')).body).toBe('second');
    const rules = await client.send(new DescribeRulesCommand({ ListenerArn: listener.ListenerArn }));
    expect(rules.Rules?.map((r) => r.Priority)).toEqual(['1', '2', 'default']);
    expect(rules.Rules?.at(-1)).toMatchObject({ IsDefault: true, Conditions: [] });

    // Forward from a rule to a group; its targets come into use and get checked.
    await client.send(new ModifyRuleCommand({ RuleArn: r2.RuleArn, Actions: [{ Type: 'forward', TargetGroupArn: tg.TargetGroupArn }] }));
    await client.send(new RegisterTargetsCommand({ TargetGroupArn: tg.TargetGroupArn, Targets: [{ Id: '127.0.0.1' }] }));
    await waitUntilTargetInService({ client, ...fast }, { TargetGroupArn: tg.TargetGroupArn });
    expect((await get(url, '/xy')).body).toBe('only');
    expect((await client.send(new DescribeTargetGroupsCommand({ LoadBalancerArn: lb.LoadBalancerArn }))).TargetGroups?.map((g) => g.TargetGroupName)).toEqual(['rules-tg']);

    const lbAttributes = await client.send(new ModifyLoadBalancerAttributesCommand({ LoadBalancerArn: lb.LoadBalancerArn, Attributes: [{ Key: 'idle_timeout.timeout_seconds', Value: '120' }] }));
    expect(lbAttributes.Attributes?.find((x) => x.Key === 'idle_timeout.timeout_seconds')?.Value).toBe('120');
    expect((await client.send(new DescribeLoadBalancerAttributesCommand({ LoadBalancerArn: lb.LoadBalancerArn }))).Attributes?.length).toBeGreaterThan(10);
    expect((await client.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: tg.TargetGroupArn }))).Attributes).toContainEqual({ Key: 'deregistration_delay.timeout_seconds', Value: '300' });
    const listenerAttributes = await client.send(new DescribeListenerAttributesCommand({ ListenerArn: listener.ListenerArn }));
    expect(listenerAttributes.Attributes).toContainEqual({ Key: 'routing.http.response.server.enabled', Value: 'true' });

    await client.send(new ModifyTargetGroupCommand({ TargetGroupArn: tg.TargetGroupArn, HealthCheckPath: '/healthz', HealthyThresholdCount: 3 }));
    expect((await client.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [tg.TargetGroupArn!] }))).TargetGroups![0]).toMatchObject({ HealthCheckPath: '/healthz', HealthyThresholdCount: 3 });
    await waitUntilTargetInService({ client, ...fast }, { TargetGroupArn: tg.TargetGroupArn });

    await client.send(new AddTagsCommand({ ResourceArns: [lb.LoadBalancerArn!, tg.TargetGroupArn!, r1.RuleArn!], Tags: [{ Key: 'env', Value: 'dev' }, { Key: 'owner', Value: 'me' }] }));
    await client.send(new RemoveTagsCommand({ ResourceArns: [tg.TargetGroupArn!], TagKeys: ['owner'] }));
    const tags = await client.send(new DescribeTagsCommand({ ResourceArns: [lb.LoadBalancerArn!, tg.TargetGroupArn!, r1.RuleArn!] }));
    expect(tags.TagDescriptions?.map((d) => d.Tags)).toEqual([
      [{ Key: 'env', Value: 'dev' }, { Key: 'owner', Value: 'me' }, { Key: 'local-elb:address', Value: lb.DNSName }],
      [{ Key: 'env', Value: 'dev' }],
      [{ Key: 'env', Value: 'dev' }, { Key: 'owner', Value: 'me' }],
    ]);
    expect(await awsError(client.send(new AddTagsCommand({ ResourceArns: [lb.LoadBalancerArn!], Tags: [{ Key: 'k', Value: '1' }, { Key: 'k', Value: '2' }] })))).toMatchObject({ name: 'DuplicateTagKeysException' });

    // HTTPS: a certificate ARN no file maps is issued by the local CA; a second one goes in the SNI list.
    const cert = (name: string) => `arn:aws:acm:eu-west-1:111122223333:certificate/${name}`;
    const https = (
      await client.send(new CreateListenerCommand({ LoadBalancerArn: lb.LoadBalancerArn, Protocol: 'HTTPS', Port: 8443, Certificates: [{ CertificateArn: cert('one') }], DefaultActions: [{ Type: 'forward', TargetGroupArn: tg.TargetGroupArn }] }))
    ).Listeners![0]!;
    expect(https).toMatchObject({ SslPolicy: 'ELBSecurityPolicy-2016-08', Certificates: [{ CertificateArn: cert('one') }] });
    await client.send(new AddListenerCertificatesCommand({ ListenerArn: https.ListenerArn, Certificates: [{ CertificateArn: cert('two') }] }));
    const certificates = await client.send(new DescribeListenerCertificatesCommand({ ListenerArn: https.ListenerArn }));
    expect(certificates.Certificates).toEqual([{ CertificateArn: cert('one'), IsDefault: true }, { CertificateArn: cert('two'), IsDefault: false }]);
    const modified = await client.send(new ModifyListenerCommand({ ListenerArn: https.ListenerArn, SslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06' }));
    expect(modified.Listeners![0]!.SslPolicy).toBe('ELBSecurityPolicy-TLS13-1-2-2021-06');
    expect(await awsError(client.send(new ModifyListenerCommand({ ListenerArn: https.ListenerArn, SslPolicy: 'ELBSecurityPolicy-Nope' })))).toMatchObject({ name: 'SSLPolicyNotFoundException' });

    for (let i = 0; i < 5; i++) await client.send(new CreateTargetGroupCommand({ Name: `page-${i}`, Protocol: 'HTTP', Port: 80, VpcId: 'vpc-1' }));
    const pages: string[][] = [];
    for await (const p of paginateDescribeTargetGroups({ client }, { PageSize: 2 })) pages.push(p.TargetGroups!.map((g) => g.TargetGroupName!));
    expect(pages).toEqual([['rules-tg', 'page-0'], ['page-1', 'page-2'], ['page-3', 'page-4']]);

    const policies = await client.send(new DescribeSSLPoliciesCommand({ Names: ['ELBSecurityPolicy-TLS13-1-2-2021-06'] }));
    expect(policies.SslPolicies![0]).toMatchObject({ Name: 'ELBSecurityPolicy-TLS13-1-2-2021-06', SslProtocols: ['TLSv1.2', 'TLSv1.3'] });
    expect(policies.SslPolicies![0]!.Ciphers![0]).toEqual({ Name: 'TLS_AES_128_GCM_SHA256', Priority: 1 });
    const limits = await client.send(new DescribeAccountLimitsCommand({}));
    expect(limits.Limits).toContainEqual({ Name: 'application-load-balancers', Max: '50' });
  });
});

describe('ELBv2 API: one model with the config file and the admin API', () => {
  it('describes a config-file target group by the SDK, shows an SDK-made one in the admin API, exports both, and leaves other listeners connected', async () => {
    const target = await startTarget('from-file');
    defer(() => target.close());
    const { client, elb } = await startStack({
      targetGroups: [{ name: 'file-tg', protocol: 'HTTP', port: target.port, healthCheckIntervalSeconds: 5, targets: [{ id: '127.0.0.1' }] }],
      loadBalancers: [{ name: 'file-lb', listeners: [{ port: 0, defaultActions: [{ type: 'forward', targetGroupName: 'file-tg' }] }] }],
    });
    const admin = await startAdminServer(elb, { address: '127.0.0.1', port: 0 });
    defer(() => admin.close());

    const fileGroup = (await client.send(new DescribeTargetGroupsCommand({ Names: ['file-tg'] }))).TargetGroups![0]!;
    expect(fileGroup.TargetGroupArn).toMatch(/^arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup\/file-tg\/[0-9a-f]{16}$/);
    const fileLb = (await client.send(new DescribeLoadBalancersCommand({ Names: ['file-lb'] }))).LoadBalancers![0]!;
    expect(fileGroup.LoadBalancerArns).toEqual([fileLb.LoadBalancerArn]);
    await waitUntilTargetInService({ client, ...fast }, { TargetGroupArn: fileGroup.TargetGroupArn });

    // A keep-alive connection on the config file's listener, held across API changes.
    const socket = net.connect({ host: '127.0.0.1', port: elb.loadBalancer('file-lb').ports[0]! });
    defer(() => socket.destroy());
    const ask = (path = '/', body = 'from-file') =>
      new Promise<string>((resolve) => {
        let got = '';
        const onData = (c: Buffer) => {
          got += c.toString('latin1');
          if (got.includes('\r\n\r\n') && got.includes(body)) {
            socket.off('data', onData);
            resolve(got);
          }
        };
        socket.on('data', onData);
        socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
      });
    expect(await ask()).toMatch(/^HTTP\/1\.1 200/);
    const fileGroupObject = elb.targetGroup('file-tg');

    const lb = (await client.send(new CreateLoadBalancerCommand({ Name: 'api-lb', Subnets: ['subnet-1', 'subnet-2'] }))).LoadBalancers![0]!;
    const tg = (await client.send(new CreateTargetGroupCommand({ Name: 'api-tg', Protocol: 'HTTP', Port: target.port, VpcId: 'vpc-1' }))).TargetGroups![0]!;
    const listener = (await client.send(new CreateListenerCommand({ LoadBalancerArn: lb.LoadBalancerArn, Protocol: 'HTTP', Port: 8100, DefaultActions: [{ Type: 'forward', TargetGroupArn: tg.TargetGroupArn }] }))).Listeners![0]!;
    await client.send(new RegisterTargetsCommand({ TargetGroupArn: tg.TargetGroupArn, Targets: [{ Id: '127.0.0.1' }] }));
    const fileListener = (await client.send(new DescribeListenersCommand({ LoadBalancerArn: fileLb.LoadBalancerArn }))).Listeners![0]!;
    await client.send(
      new CreateRuleCommand({ ListenerArn: fileListener.ListenerArn, Priority: 1, Conditions: [{ Field: 'path-pattern', Values: ['/api'] }], Actions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '200', MessageBody: 'rule' } }] }),
    );
    await client.send(new DeleteListenerCommand({ ListenerArn: listener.ListenerArn }));
    // The connection made before the changes still serves, and the new rule is in force on it.
    expect(await ask()).toMatch(/^HTTP\/1\.1 200/);
    expect(await ask('/api', 'rule')).toMatch(/^HTTP\/1\.1 200[\s\S]*\r\n\r\nrule$/);
    // Calls that did not name the config file's group left it alone: the same object, still healthy.
    expect(elb.targetGroup('file-tg')).toBe(fileGroupObject);
    expect(fileGroupObject.healthyHostCount).toBe(1);

    const adminGroups = (await (await fetch(`${admin.url}/v1/target-groups`)).json()) as { targetGroups: Array<{ targetGroupName: string }> };
    expect(adminGroups.targetGroups.map((g) => g.targetGroupName)).toEqual(['file-tg', 'api-tg']);
    const health = (await (await fetch(`${admin.url}/v1/target-groups/api-tg/target-health`)).json()) as { targetHealthDescriptions: Array<{ targetHealth: { state: string } }> };
    // No listener forwards to it any more: unused, as on AWS.
    expect(health.targetHealthDescriptions.map((d) => d.targetHealth.state)).toEqual(['unused']);
    await fetch(`${admin.url}/v1/target-groups/api-tg/attributes`, { method: 'PUT', body: JSON.stringify({ attributes: [{ key: 'deregistration_delay.timeout_seconds', value: '7' }] }) });
    expect((await client.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: tg.TargetGroupArn }))).Attributes).toContainEqual({ Key: 'deregistration_delay.timeout_seconds', Value: '7' });

    const exported = ((await (await fetch(`${admin.url}/v1/config`)).json()) as { config: unknown }).config;
    const replay = parseConfig(exported, 'the export');
    expect(replay.targetGroups.map((g) => [g.name, g.targets.length, g.attributes['deregistration_delay.timeout_seconds']])).toEqual([
      ['file-tg', 1, '300'],
      ['api-tg', 1, '7'],
    ]);
    expect(replay.loadBalancers.map((l) => [l.name, l.listeners.length, l.listeners[0]?.rules.length])).toEqual([
      ['file-lb', 1, 1],
      ['api-lb', 0, undefined],
    ]);
    await waitFor(() => elb.loadBalancer('api-lb').config.listeners.length === 0, { what: 'the deleted listener gone' });
  });
});

describe('ELBv2 API beside resources it does not own (local-elb kind: the controller’s)', () => {
  it('describes the managed load balancers and groups, refuses changes to them with OperationNotPermitted, and creates its own beside them', async () => {
    const managed = await startLocalElb({
      config: { targetGroups: [{ name: 'k8s-default-echo', protocol: 'TCP', port: 7000 }], loadBalancers: [{ name: 'k8s-default-echo', type: 'network', listeners: [{ port: 0, defaultActions: [{ type: 'forward', targetGroupName: 'k8s-default-echo' }] }] }] },
      waitForPodsMs: 0,
    });
    defer(() => managed.close());
    const own = await startLocalElb({ config: {}, waitForPodsMs: 0 });
    defer(() => own.close());
    const endpoint = await startElbv2Endpoint(own.runtime, { port: 0, managed });
    defer(() => endpoint.close());
    const client = new ElasticLoadBalancingV2Client({ endpoint: endpoint.url, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
    defer(() => client.destroy());

    const [lb] = (await client.send(new DescribeLoadBalancersCommand({}))).LoadBalancers!;
    expect(lb).toMatchObject({ LoadBalancerName: 'k8s-default-echo', Type: 'network', State: { Code: 'active' } });
    const [tg] = (await client.send(new DescribeTargetGroupsCommand({}))).TargetGroups!;
    expect(tg!.LoadBalancerArns).toEqual([lb!.LoadBalancerArn]);
    expect(await awsError(client.send(new CreateListenerCommand({ LoadBalancerArn: lb!.LoadBalancerArn, Protocol: 'TCP', Port: 7001, DefaultActions: [{ Type: 'forward', TargetGroupArn: tg!.TargetGroupArn }] })))).toMatchObject({
      name: 'OperationNotPermittedException',
    });
    expect(await awsError(client.send(new RegisterTargetsCommand({ TargetGroupArn: tg!.TargetGroupArn, Targets: [{ Id: '127.0.0.1' }] })))).toMatchObject({ name: 'OperationNotPermittedException' });
    expect(await awsError(client.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: lb!.LoadBalancerArn })))).toMatchObject({ name: 'OperationNotPermittedException' });
    await client.send(new CreateTargetGroupCommand({ Name: 'mine', Protocol: 'HTTP', Port: 80, VpcId: 'vpc-1' }));
    expect((await client.send(new DescribeTargetGroupsCommand({}))).TargetGroups?.map((g) => g.TargetGroupName)).toEqual(['mine', 'k8s-default-echo']);
    expect(own.targetGroups().map((g) => g.name)).toEqual(['mine']);
  });
});
