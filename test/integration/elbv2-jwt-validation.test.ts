/**
 * The jwt-validation action through the ELBv2 API, driven by the real AWS SDK for JavaScript
 * v3: CreateListener and ModifyListener default actions, CreateRule, ModifyRule and
 * DescribeRules with `JwtValidationConfig` (echoed in AWS's shape), AWS's error codes for what
 * is refused, and requests through the HTTPS listener with tokens jose signs, checked against
 * an https JWKS endpoint whose certificate the local CA issued.
 */
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import {
  type Action,
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateRuleCommand,
  CreateTargetGroupCommand,
  DescribeListenersCommand,
  DescribeRulesCommand,
  DescribeTagsCommand,
  ModifyListenerCommand,
  ModifyRuleCommand,
  RegisterTargetsCommand,
  waitUntilLoadBalancerAvailable,
  waitUntilTargetInService,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import { Agent, request } from 'undici';
import { describe, expect, it } from 'vitest';
import { openLocalCa } from '../../src/tls/ca.ts';
import { deferCleanups } from '../support/alb.ts';
import { awsError, FAST_WAITER as fast, startSdkStack } from '../support/elbv2-sdk.ts';
import { startTarget } from '../support/targets.ts';

const defer = deferCleanups();
const ISSUER = 'https://idp.example.test';

describe('ELBv2 API: the jwt-validation action with the AWS SDK', () => {
  it('creates, describes and modifies it on listeners and rules; requests are checked through it; bad input gets AWS codes', async () => {
    const { elb, client, stateDir } = await startSdkStack(defer, { stateDirPrefix: 'local-elb-elbv2-jwt-' });
    const ca = await openLocalCa(stateDir);
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    const cert = await ca.issue(['127.0.0.1']);
    const jwks = https.createServer({ cert: cert.certPem, key: cert.keyPem }, (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', r));
    defer(() => new Promise<void>((r) => jwks.close(() => r())));
    const jwksEndpoint = `https://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks.json`;

    const target = await startTarget('app');
    defer(() => target.close());
    const agent = new Agent({ connect: { ca: ca.certPem } });
    defer(() => agent.close());

    const lb = (await client.send(new CreateLoadBalancerCommand({ Name: 'jwt', Subnets: ['subnet-1', 'subnet-2'] }))).LoadBalancers![0]!;
    await waitUntilLoadBalancerAvailable({ client, ...fast }, { Names: ['jwt'] });
    const tg = (await client.send(new CreateTargetGroupCommand({ Name: 'jwt-tg', Protocol: 'HTTP', Port: target.port, VpcId: 'vpc-1', HealthCheckIntervalSeconds: 5, HealthCheckPath: '/healthz' }))).TargetGroups![0]!;
    await client.send(new RegisterTargetsCommand({ TargetGroupArn: tg.TargetGroupArn, Targets: [{ Id: '127.0.0.1' }] }));
    const forward: Action = { Type: 'forward', Order: 2, TargetGroupArn: tg.TargetGroupArn };
    const jwtAction = (config: Partial<NonNullable<Action['JwtValidationConfig']>> = {}): Action => ({ Type: 'jwt-validation', Order: 1, JwtValidationConfig: { JwksEndpoint: jwksEndpoint, Issuer: ISSUER, ...config } });

    const listener = (
      await client.send(
        new CreateListenerCommand({
          LoadBalancerArn: lb.LoadBalancerArn,
          Protocol: 'HTTPS',
          Port: 8443,
          Certificates: [{ CertificateArn: 'arn:aws:acm:eu-west-1:111122223333:certificate/jwt' }],
          DefaultActions: [jwtAction(), forward],
        }),
      )
    ).Listeners![0]!;
    expect(listener.DefaultActions![0]).toEqual({ Type: 'jwt-validation', Order: 1, JwtValidationConfig: { JwksEndpoint: jwksEndpoint, Issuer: ISSUER } });
    await waitUntilTargetInService({ client, ...fast }, { TargetGroupArn: tg.TargetGroupArn });
    const tags = await client.send(new DescribeTagsCommand({ ResourceArns: [listener.ListenerArn!] }));
    const url = tags.TagDescriptions![0]!.Tags!.find((t) => t.Key === 'local-elb:url')!.Value!;

    const token = (claims: JWTPayload = {}) => {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ iss: ISSUER, exp: now + 600, ...claims }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).sign(privateKey);
    };
    const status = async (path: string, bearer?: string) => (await request(`${url}${path}`, { dispatcher: agent, headers: bearer ? { authorization: `Bearer ${bearer}` } : {} })).statusCode;
    expect(await status('/x')).toBe(401);
    expect(await status('/x', await token())).toBe(200);
    expect(target.seen.at(-1)!.url).toBe('/x');

    // A rule with additional claims; DescribeRules gives them back as they were sent.
    const claims = [
      { Format: 'single-string' as const, Name: 'admin', Values: ['true'] },
      { Format: 'space-separated-values' as const, Name: 'scope', Values: ['read:api', 'write'] },
    ];
    const rule = (
      await client.send(new CreateRuleCommand({ ListenerArn: listener.ListenerArn, Priority: 10, Conditions: [{ Field: 'path-pattern', Values: ['/admin/*'] }], Actions: [jwtAction({ AdditionalClaims: claims }), forward] }))
    ).Rules![0]!;
    const described = (await client.send(new DescribeRulesCommand({ RuleArns: [rule.RuleArn!] }))).Rules![0]!;
    expect(described.Actions![0]).toEqual({ Type: 'jwt-validation', Order: 1, JwtValidationConfig: { JwksEndpoint: jwksEndpoint, Issuer: ISSUER, AdditionalClaims: claims } });
    expect(await status('/admin/a', await token({ admin: 'true', scope: 'openid write' }))).toBe(200);
    expect(await status('/admin/a', await token({ admin: 'false', scope: 'write' }))).toBe(401);

    // ModifyRule: another issuer; the old tokens no longer pass.
    await client.send(new ModifyRuleCommand({ RuleArn: rule.RuleArn, Actions: [jwtAction({ Issuer: 'https://other.example.test', AdditionalClaims: claims }), forward] }));
    expect(await status('/admin/a', await token({ admin: 'true', scope: 'write' }))).toBe(401);
    expect(await status('/admin/a', await token({ iss: 'https://other.example.test', admin: 'true', scope: 'write' }))).toBe(200);

    // ModifyListener: the default action without validation; no token needed.
    await client.send(new ModifyListenerCommand({ ListenerArn: listener.ListenerArn, DefaultActions: [{ Type: 'forward', TargetGroupArn: tg.TargetGroupArn }] }));
    const after = (await client.send(new DescribeListenersCommand({ ListenerArns: [listener.ListenerArn!] }))).Listeners![0]!;
    expect(after.DefaultActions!.map((a) => a.Type)).toEqual(['forward']);
    expect(await status('/y')).toBe(200);

    // What AWS refuses, with its codes.
    const http = (await client.send(new CreateListenerCommand({ LoadBalancerArn: lb.LoadBalancerArn, Protocol: 'HTTP', Port: 8090, DefaultActions: [{ Type: 'forward', TargetGroupArn: tg.TargetGroupArn }] }))).Listeners![0]!;
    const onHttp = { ListenerArn: http.ListenerArn, Priority: 1, Conditions: [{ Field: 'path-pattern', Values: ['/z'] }] };
    expect(await awsError(client.send(new CreateRuleCommand({ ...onHttp, Actions: [jwtAction(), forward] })))).toMatchObject({ name: 'InvalidLoadBalancerActionException', status: 400 });
    expect(await awsError(client.send(new ModifyListenerCommand({ ListenerArn: http.ListenerArn, DefaultActions: [jwtAction(), forward] })))).toMatchObject({ name: 'InvalidLoadBalancerActionException', status: 400 });
    const base = { ListenerArn: listener.ListenerArn, Conditions: [{ Field: 'path-pattern', Values: ['/z'] }] };
    const plain = await awsError(client.send(new CreateRuleCommand({ ...base, Priority: 20, Actions: [jwtAction({ JwksEndpoint: 'http://127.0.0.1:1/jwks' }), forward] })));
    expect(plain).toMatchObject({ name: 'ValidationError', status: 400 });
    expect(plain.message).toContain('jwtValidationConfig.jwksEndpoint: must be an https:// URL');
    const exp = await awsError(client.send(new CreateRuleCommand({ ...base, Priority: 21, Actions: [jwtAction({ AdditionalClaims: [{ Format: 'single-string', Name: 'exp', Values: ['1'] }] }), forward] })));
    expect(exp).toMatchObject({ name: 'ValidationError', status: 400 });
    expect(exp.message).toContain('may not be exp, iss, nbf, iat');
    const long = await awsError(client.send(new CreateRuleCommand({ ...base, Priority: 22, Actions: [jwtAction({ Issuer: 'i'.repeat(257) }), forward] })));
    expect(long).toMatchObject({ name: 'ValidationError', status: 400 });
    expect(long.message).toContain('at most 256 characters: got 257');
    const bare = await awsError(client.send(new CreateRuleCommand({ ...base, Priority: 23, Actions: [{ Type: 'jwt-validation', Order: 1 }, forward] })));
    expect(bare).toMatchObject({ name: 'ValidationError', message: 'A jwt-validation action needs a JwtValidationConfig' });
    // Nothing refused was kept.
    expect((await client.send(new DescribeRulesCommand({ ListenerArn: listener.ListenerArn }))).Rules!.map((r) => r.Priority)).toEqual(['10', 'default']);
  }, 60_000);
});
