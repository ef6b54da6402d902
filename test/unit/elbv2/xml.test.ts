/**
 * The response side of the Query protocol (spec 14.2): each response shape as XML, read back
 * with an independent parser. A runtime that is built but never started (no sockets) on a
 * virtual clock, with passing scripted health checks, holds what is described.
 */
import { XMLParser } from 'fast-xml-parser';
import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/core/clock.ts';
import { ApiError } from '../../../src/elbv2/errors.ts';
import { decodeForm, Members } from '../../../src/elbv2/query.ts';
import { elbv2Api } from '../../../src/elbv2/server.ts';
import { NAMESPACE, xmlError, xmlResponse } from '../../../src/elbv2/xml.ts';
import { ElbRuntime } from '../../../src/runtime/runtime.ts';

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_', parseTagValue: false, isArray: (name) => name === 'member' });
const caller = { account: '123456789012', region: 'us-west-2' };
const runtimes: ElbRuntime[] = [];
afterEach(async () => {
  for (const r of runtimes.splice(0)) await r.close();
});

function setup() {
  const runtime = new ElbRuntime({
    clock: new VirtualClock(),
    probe: () => ({ ok: true, statusCode: 200 }),
    config: {
      targetGroups: [
        { name: 'web', protocol: 'HTTP', port: 8080, healthCheckPath: '/healthz', targets: [{ id: '10.0.0.1' }, { id: '10.0.0.2', port: 9090 }] },
        { name: 'tcp', protocol: 'TCP', port: 7000 },
      ],
      loadBalancers: [
        {
          name: 'app',
          listeners: [
            {
              port: 443,
              protocol: 'HTTPS',
              certificates: [{ certificateArn: 'arn:aws:acm:us-west-2:123456789012:certificate/default' }, { certificateArn: 'arn:aws:acm:us-west-2:123456789012:certificate/sni' }],
              defaultActions: [{ type: 'forward', targetGroupName: 'web' }],
              rules: [
                { priority: 10, conditions: [{ field: 'path-pattern', values: ['/api/*'] }], actions: [{ type: 'fixed-response', fixedResponseConfig: { statusCode: '418', messageBody: 'a & <b>' } }] },
              ],
            },
          ],
        },
        { name: 'edge', type: 'network', listeners: [{ port: 8443, protocol: 'TLS', alpnPolicy: 'HTTP2Preferred', defaultActions: [{ type: 'forward', targetGroupName: 'tcp' }] }] },
      ],
    },
  });
  runtimes.push(runtime);
  const api = elbv2Api(runtime, { defaults: caller });
  const call = async (action: string, body = '') => {
    const result = await api.call(action, new Members(decodeForm(body)), caller);
    const xml = xmlResponse(action, result, 'request-1');
    const doc = parser.parse(xml) as Record<string, Record<string, unknown>>;
    const root = doc[`${action}Response`]!;
    expect(root['@_xmlns']).toBe(NAMESPACE);
    expect(root['ResponseMetadata']).toEqual({ RequestId: 'request-1' });
    return { xml, result: root[`${action}Result`] as Record<string, any> };
  };
  return { api, call };
}

describe('the Query protocol: XML responses (spec 14.2)', () => {
  it('DescribeLoadBalancers: a LoadBalancer with its state, zones and, on an ALB only, security groups', async () => {
    const { call } = setup();
    const { result } = await call('DescribeLoadBalancers');
    const [app, edge] = result['LoadBalancers'].member;
    expect(app.LoadBalancerArn).toMatch(/^arn:aws:elasticloadbalancing:us-west-2:123456789012:loadbalancer\/app\/app\/[0-9a-f]{16}$/);
    expect(app).toMatchObject({ LoadBalancerName: 'app', DNSName: '127.0.0.1', CanonicalHostedZoneId: 'Z1H1FL5HABSF5', State: { Code: 'active' }, Type: 'application', Scheme: 'internet-facing', IpAddressType: 'ipv4' });
    expect(app.CreatedTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    // Lists that exist but are empty are empty elements; absent ones are left out.
    expect(app.AvailabilityZones).toBe('');
    expect(edge.LoadBalancerArn).toContain(':loadbalancer/net/edge/');
    expect(edge.CanonicalHostedZoneId).toBe('Z18D5FSROUN65G');
    expect(edge.SecurityGroups).toBeUndefined();
  });

  it('DescribeTargetGroups: every health-check field with its default, numbers and booleans as text', async () => {
    const { call } = setup();
    const { result } = await call('DescribeTargetGroups', 'Names.member.1=web&Names.member.2=tcp');
    const [web, tcp] = result['TargetGroups'].member;
    expect(web).toMatchObject({
      TargetGroupName: 'web',
      Protocol: 'HTTP',
      ProtocolVersion: 'HTTP1',
      Port: '8080',
      HealthCheckProtocol: 'HTTP',
      HealthCheckPort: 'traffic-port',
      HealthCheckEnabled: 'true',
      HealthCheckIntervalSeconds: '30',
      HealthCheckTimeoutSeconds: '5',
      HealthyThresholdCount: '5',
      UnhealthyThresholdCount: '2',
      HealthCheckPath: '/healthz',
      Matcher: { HttpCode: '200' },
      TargetType: 'instance',
    });
    expect(web.LoadBalancerArns.member[0]).toContain(':loadbalancer/app/app/');
    expect(tcp).toMatchObject({ HealthCheckProtocol: 'TCP', HealthCheckTimeoutSeconds: '10' });
    expect(tcp.Matcher).toBeUndefined();
    expect(tcp.HealthCheckPath).toBeUndefined();
  });

  it('DescribeListeners: the default certificate only, the policy, and the ALPN policy as a list', async () => {
    const { api, call } = setup();
    const arn = (await api.call('DescribeLoadBalancers', new Members(decodeForm('Names.member.1=app')), caller)).LoadBalancers as Array<{ LoadBalancerArn: string }>;
    const { result } = await call('DescribeListeners', `LoadBalancerArn=${encodeURIComponent(arn[0]!.LoadBalancerArn)}`);
    const [https] = result['Listeners'].member;
    expect(https).toMatchObject({ Port: '443', Protocol: 'HTTPS', SslPolicy: 'ELBSecurityPolicy-2016-08', Certificates: { member: [{ CertificateArn: 'arn:aws:acm:us-west-2:123456789012:certificate/default' }] } });
    expect(https.ListenerArn).toMatch(/:listener\/app\/app\/[0-9a-f]{16}\/[0-9a-f]{16}$/);
    expect(https.DefaultActions.member[0]).toMatchObject({ Type: 'forward', ForwardConfig: { TargetGroups: { member: [{ Weight: '1' }] }, TargetGroupStickinessConfig: { Enabled: 'false' } } });
    const edge = (await api.call('DescribeLoadBalancers', new Members(decodeForm('Names.member.1=edge')), caller)).LoadBalancers as Array<{ LoadBalancerArn: string }>;
    const tls = (await call('DescribeListeners', `LoadBalancerArn=${encodeURIComponent(edge[0]!.LoadBalancerArn)}`)).result['Listeners'].member[0];
    expect(tls.AlpnPolicy).toEqual({ member: ['HTTP2Preferred'] });
  });

  it('DescribeRules: Priority as a string, the default rule last with empty Conditions, and escaped text', async () => {
    const { api, call } = setup();
    const listener = (api.listeners().find((l) => l.lb.name === 'app')!).record.arn;
    const { xml, result } = await call('DescribeRules', `ListenerArn=${encodeURIComponent(listener)}`);
    const [rule, byDefault] = result['Rules'].member;
    expect(rule).toMatchObject({ Priority: '10', IsDefault: 'false', Conditions: { member: [{ Field: 'path-pattern', Values: { member: ['/api/*'] }, PathPatternConfig: { Values: { member: ['/api/*'] } } }] } });
    expect(rule.Actions.member[0]).toEqual({ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '418', MessageBody: 'a & <b>' } });
    expect(xml).toContain('<MessageBody>a &amp; &lt;b&gt;</MessageBody>');
    expect(byDefault).toMatchObject({ Priority: 'default', IsDefault: 'true', Conditions: '' });
  });

  it('DescribeTargetHealth: Target, HealthCheckPort on checked targets, TargetHealth without Reason when healthy', async () => {
    const { api, call } = setup();
    const group = api.targetGroups().find((g) => g.group.name === 'web')!;
    const { result } = await call('DescribeTargetHealth', `TargetGroupArn=${encodeURIComponent(group.arn)}&Targets.member.1.Id=10.0.0.9&Targets.member.1.Port=80&Include.member.1=AnomalyDetection`);
    expect(result['TargetHealthDescriptions'].member).toEqual([
      { Target: { Id: '10.0.0.9', Port: '80' }, TargetHealth: { State: 'unused', Reason: 'Target.NotRegistered', Description: 'Target is not registered to the target group' } },
    ]);
    const all = (await call('DescribeTargetHealth', `TargetGroupArn=${encodeURIComponent(group.arn)}`)).result['TargetHealthDescriptions'].member;
    expect(all.map((d: any) => [d.Target.Id, d.Target.Port])).toEqual([['10.0.0.1', '8080'], ['10.0.0.2', '9090']]);
    expect(all[0].TargetHealth.State).toMatch(/^(initial|healthy)$/);
  });

  it('Describe…Attributes, DescribeTags, DescribeListenerCertificates, DescribeAccountLimits and DescribeSSLPolicies', async () => {
    const { api, call } = setup();
    const lb = api.loadBalancers().find((e) => e.lb.name === 'app')!;
    const listener = api.listeners().find((l) => l.lb.name === 'app')!.record.arn;
    const attributes = (await call('DescribeLoadBalancerAttributes', `LoadBalancerArn=${encodeURIComponent(lb.record.arn)}`)).result['Attributes'].member;
    expect(attributes).toContainEqual({ Key: 'idle_timeout.timeout_seconds', Value: '60' });
    const tags = (await call('DescribeTags', `ResourceArns.member.1=${encodeURIComponent(lb.record.arn)}`)).result['TagDescriptions'].member;
    expect(tags).toEqual([{ ResourceArn: lb.record.arn, Tags: { member: [{ Key: 'local-elb:address', Value: '127.0.0.1' }] } }]);
    const certificates = (await call('DescribeListenerCertificates', `ListenerArn=${encodeURIComponent(listener)}`)).result['Certificates'].member;
    expect(certificates).toEqual([
      { CertificateArn: 'arn:aws:acm:us-west-2:123456789012:certificate/default', IsDefault: 'true' },
      { CertificateArn: 'arn:aws:acm:us-west-2:123456789012:certificate/sni', IsDefault: 'false' },
    ]);
    const limits = await call('DescribeAccountLimits', 'PageSize=2');
    expect(limits.result['Limits'].member).toEqual([{ Name: 'application-load-balancers', Max: '50' }, { Name: 'network-load-balancers', Max: '50' }]);
    expect(limits.result['NextMarker']).toEqual(expect.any(String));
    const next = await call('DescribeAccountLimits', `PageSize=400&Marker=${limits.result['NextMarker']}`);
    expect(next.result['Limits'].member[0].Name).toBe('target-groups');
    expect(next.result['NextMarker']).toBeUndefined();
    const policy = (await call('DescribeSSLPolicies', 'Names.member.1=ELBSecurityPolicy-TLS13-1-2-2021-06')).result['SslPolicies'].member[0];
    expect(policy.SslProtocols).toEqual({ member: ['TLSv1.2', 'TLSv1.3'] });
    expect(policy.Ciphers.member[0]).toEqual({ Name: 'TLS_AES_128_GCM_SHA256', Priority: '1' });
    expect(policy.SupportedLoadBalancerTypes).toEqual({ member: ['application', 'network'] });
  });

  it('wraps an empty result as an empty {Action}Result element', () => {
    expect(xmlResponse('DeleteRule', {}, 'r-1')).toBe(`<DeleteRuleResponse xmlns="${NAMESPACE}"><DeleteRuleResult/><ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></DeleteRuleResponse>`);
  });
});

describe('the Query protocol: error XML (spec 14.2.3)', () => {
  it('is ErrorResponse with Type, Code and Message, and RequestId beside Error', () => {
    const xml = xmlError(new ApiError('LoadBalancerNotFound', "Load balancers '[web & <co>]' not found"), 'r-2');
    expect(xml).toBe(
      `<ErrorResponse xmlns="${NAMESPACE}"><Error><Type>Sender</Type><Code>LoadBalancerNotFound</Code><Message>Load balancers &apos;[web &amp; &lt;co&gt;]&apos; not found</Message></Error><RequestId>r-2</RequestId></ErrorResponse>`,
    );
  });

  it.each([
    ['ValidationError', 400, 'Sender'],
    ['PriorityInUse', 400, 'Sender'],
    ['MalformedQueryString', 404, 'Sender'],
    ['InternalFailure', 500, 'Receiver'],
  ] as const)('%s is HTTP %d from the %s', (code, status, fault) => {
    const error = new ApiError(code, 'x');
    expect([error.status, error.fault]).toEqual([status, fault]);
    expect(parser.parse(xmlError(error, 'r')).ErrorResponse.Error.Type).toBe(fault);
  });

  it('refuses an unknown action as InvalidAction, naming the ones it answers', async () => {
    const { api } = setup();
    await expect(api.call('DescribeNothing', new Members({}), caller)).rejects.toMatchObject({ code: 'InvalidAction' });
  });
});
