/**
 * Trust stores and listener mutual TLS through the ELBv2 API, driven by the AWS SDK for
 * JavaScript v3 (spec 12.1.7, 14): CreateTrustStore from a bundle in the local S3 directory
 * (`<s3Dir>/<bucket>/<key>`), CREATING then ACTIVE, AWS's error codes, revocations with IDs that
 * only increase, DescribeTrustStoreAssociations, TrustStoreInUse, and a verify-mode listener
 * that a client certificate then gets through (and a revoked one does not).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AddTagsCommand,
  AddTrustStoreRevocationsCommand,
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  CreateTrustStoreCommand,
  DeleteListenerCommand,
  DeleteTrustStoreCommand,
  DescribeListenersCommand,
  DescribeTagsCommand,
  DescribeTrustStoreAssociationsCommand,
  DescribeTrustStoreRevocationsCommand,
  DescribeTrustStoresCommand,
  GetTrustStoreCaCertificatesBundleCommand,
  ModifyListenerCommand,
  ModifyTrustStoreCommand,
  RegisterTargetsCommand,
  RemoveTrustStoreRevocationsCommand,
  waitUntilTargetInService,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { describe, expect, it } from 'vitest';
import { deferCleanups } from '../support/alb.ts';
import { awsError, FAST_WAITER as fast, startSdkStack } from '../support/elbv2-sdk.ts';
import { issue, makeCa, makeCrl, type TestCert } from '../support/mtls-certs.ts';
import { startTarget } from '../support/targets.ts';

const defer = deferCleanups();

async function startStack() {
  const s3Dir = await mkdtemp(join(tmpdir(), 'local-elb-elbv2-ts-s3-'));
  defer(() => rm(s3Dir, { recursive: true, force: true }));
  await mkdir(join(s3Dir, 'pki'), { recursive: true });
  const { elb, client } = await startSdkStack(defer, { stateDirPrefix: 'local-elb-elbv2-ts-', endpoint: { s3Dir } });
  const put = (key: string, text: string) => writeFile(join(s3Dir, 'pki', key), text);
  return { elb, client, put, s3Dir };
}

/** GET with a client certificate: the status, or the error code when the connection was refused. */
function get(url: string, client: TestCert): Promise<number | string> {
  return new Promise((resolve) => {
    const req = https.get(url, { rejectUnauthorized: false, agent: false, cert: client.pem, key: client.keyPem }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

describe('ELBv2 API: trust stores (AWS SDK v3)', () => {
  it('creates a trust store from s3://bucket/key with tags (AddTags, DescribeTags), describes it CREATING then ACTIVE, refuses a duplicate name, a missing object and a broken bundle with AWS’s codes', async () => {
    const { client, put, s3Dir } = await startStack();
    const ca = await makeCa('CN=Client Root');
    await put('ca.pem', ca.pem);
    const created = (await client.send(new CreateTrustStoreCommand({ Name: 'clients', CaCertificatesBundleS3Bucket: 'pki', CaCertificatesBundleS3Key: 'ca.pem', Tags: [{ Key: 'team', Value: 'shop' }] }))).TrustStores![0]!;
    expect(created).toMatchObject({ Name: 'clients', Status: 'CREATING', NumberOfCaCertificates: 1, TotalRevokedEntries: 0 });
    expect(created.TrustStoreArn).toMatch(/^arn:aws:elasticloadbalancing:eu-west-1:111122223333:truststore\/clients\/[0-9a-f]{16}$/);
    const described = await client.send(new DescribeTrustStoresCommand({ Names: ['clients'] }));
    expect(described.TrustStores!.map((t) => t.Status)).toEqual(['CREATING']);
    expect((await client.send(new DescribeTrustStoresCommand({ TrustStoreArns: [created.TrustStoreArn!] }))).TrustStores![0]!.Status).toBe('ACTIVE');
    await client.send(new AddTagsCommand({ ResourceArns: [created.TrustStoreArn!], Tags: [{ Key: 'env', Value: 'dev' }] }));
    expect((await client.send(new DescribeTagsCommand({ ResourceArns: [created.TrustStoreArn!] }))).TagDescriptions![0]!.Tags).toEqual([
      { Key: 'team', Value: 'shop' },
      { Key: 'env', Value: 'dev' },
    ]);
    expect((await client.send(new GetTrustStoreCaCertificatesBundleCommand({ TrustStoreArn: created.TrustStoreArn! }))).Location).toBe(`file://${join(s3Dir, 'pki', 'ca.pem')}`);

    expect((await awsError(client.send(new CreateTrustStoreCommand({ Name: 'clients', CaCertificatesBundleS3Bucket: 'pki', CaCertificatesBundleS3Key: 'ca.pem' })))).name).toBe('DuplicateTrustStoreNameException');
    const missing = await awsError(client.send(new CreateTrustStoreCommand({ Name: 'other', CaCertificatesBundleS3Bucket: 'pki', CaCertificatesBundleS3Key: 'nope.pem' })));
    expect(missing.name).toBe('CaCertificatesBundleNotFoundException');
    expect(missing.message).toContain(join(s3Dir, 'pki', 'nope.pem'));
    await put('blank.pem', `${ca.pem}\n`);
    const broken = await awsError(client.send(new CreateTrustStoreCommand({ Name: 'other', CaCertificatesBundleS3Bucket: 'pki', CaCertificatesBundleS3Key: 'blank.pem' })));
    expect(broken).toMatchObject({ name: 'InvalidCaCertificatesBundleException' });
    expect(broken.message).toMatch(/s3:\/\/pki\/blank\.pem: line \d+ is blank/);
    expect((await awsError(client.send(new DescribeTrustStoresCommand({ TrustStoreArns: ['arn:aws:elasticloadbalancing:eu-west-1:111122223333:truststore/x/0000000000000000'] })))).name).toBe('TrustStoreNotFoundException');
  });

  it('puts a verify-mode listener on it (MutualAuthentication in CreateListener and DescribeListeners): a good client certificate gets through, a revoked one (AddTrustStoreRevocations) is refused; revocation IDs only increase; TrustStoreInUse until the listener is gone', async () => {
    const { client, put } = await startStack();
    const ca = await makeCa('CN=Client Root');
    const good = await issue(ca, 'CN=good');
    const bad = await issue(ca, 'CN=bad', { serialNumber: '0badbad0' });
    await put('ca.pem', ca.pem);
    await put('revoked.crl', await makeCrl(ca, ['0badbad0']));
    const store = (await client.send(new CreateTrustStoreCommand({ Name: 'clients', CaCertificatesBundleS3Bucket: 'pki', CaCertificatesBundleS3Key: 'ca.pem' }))).TrustStores![0]!;
    const target = await startTarget('t');
    defer(() => target.close());
    const lb = (await client.send(new CreateLoadBalancerCommand({ Name: 'web', Subnets: ['subnet-a', 'subnet-b'] }))).LoadBalancers![0]!;
    const tg = (await client.send(new CreateTargetGroupCommand({ Name: 'web', Protocol: 'HTTP', Port: 80, VpcId: 'vpc-1', HealthCheckPath: '/healthz', HealthCheckIntervalSeconds: 5 }))).TargetGroups![0]!;
    await client.send(new RegisterTargetsCommand({ TargetGroupArn: tg.TargetGroupArn!, Targets: [{ Id: '127.0.0.1', Port: target.port }] }));
    const cert = 'arn:aws:acm:eu-west-1:111122223333:certificate/local';
    const create = () =>
      client.send(
        new CreateListenerCommand({
          LoadBalancerArn: lb.LoadBalancerArn!,
          Protocol: 'HTTPS',
          Port: 8443,
          Certificates: [{ CertificateArn: cert }],
          MutualAuthentication: { Mode: 'verify', TrustStoreArn: store.TrustStoreArn! },
          DefaultActions: [{ Type: 'forward', TargetGroupArn: tg.TargetGroupArn! }],
        }),
      );
    // Not described since its creation: still CREATING.
    expect((await awsError(create())).name).toBe('TrustStoreNotReadyException');
    await client.send(new DescribeTrustStoresCommand({}));
    const listener = (await create()).Listeners![0]!;
    expect(listener.MutualAuthentication).toEqual({ Mode: 'verify', TrustStoreArn: store.TrustStoreArn, IgnoreClientCertificateExpiry: false, AdvertiseTrustStoreCaNames: 'off' });
    expect((await client.send(new DescribeListenersCommand({ ListenerArns: [listener.ListenerArn!] }))).Listeners![0]!.MutualAuthentication?.Mode).toBe('verify');
    await waitUntilTargetInService({ client, ...fast }, { TargetGroupArn: tg.TargetGroupArn!, Targets: [{ Id: '127.0.0.1', Port: target.port }] });
    const url = (await client.send(new DescribeTagsCommand({ ResourceArns: [listener.ListenerArn!] }))).TagDescriptions![0]!.Tags!.find((t) => t.Key === 'local-elb:url')!.Value!;

    expect(await get(url, good)).toBe(200);
    expect(await get(url, bad)).toBe(200);
    const added = (await client.send(new AddTrustStoreRevocationsCommand({ TrustStoreArn: store.TrustStoreArn!, RevocationContents: [{ S3Bucket: 'pki', S3Key: 'revoked.crl', RevocationType: 'CRL' }] }))).TrustStoreRevocations!;
    expect(added).toEqual([{ TrustStoreArn: store.TrustStoreArn, RevocationId: 1, RevocationType: 'CRL', NumberOfRevokedEntries: 1 }]);
    // The open listener checks against the store as it is now.
    expect(await get(url, bad)).not.toBe(200);
    expect(await get(url, good)).toBe(200);
    expect((await client.send(new DescribeTrustStoresCommand({ Names: ['clients'] }))).TrustStores![0]!.TotalRevokedEntries).toBe(1);

    await client.send(new RemoveTrustStoreRevocationsCommand({ TrustStoreArn: store.TrustStoreArn!, RevocationIds: [1] }));
    expect(await get(url, bad)).toBe(200);
    const again = (await client.send(new AddTrustStoreRevocationsCommand({ TrustStoreArn: store.TrustStoreArn!, RevocationContents: [{ S3Bucket: 'pki', S3Key: 'revoked.crl' }] }))).TrustStoreRevocations!;
    expect(again.map((r) => r.RevocationId)).toEqual([2]);
    expect((await client.send(new DescribeTrustStoreRevocationsCommand({ TrustStoreArn: store.TrustStoreArn! }))).TrustStoreRevocations!.map((r) => r.RevocationId)).toEqual([2]);
    expect((await awsError(client.send(new DescribeTrustStoreRevocationsCommand({ TrustStoreArn: store.TrustStoreArn!, RevocationIds: [1] })))).name).toBe('RevocationIdNotFoundException');
    await put('not-a-crl', 'hello');
    expect((await awsError(client.send(new AddTrustStoreRevocationsCommand({ TrustStoreArn: store.TrustStoreArn!, RevocationContents: [{ S3Bucket: 'pki', S3Key: 'not-a-crl' }] })))).name).toBe('InvalidRevocationContentException');

    // ModifyTrustStore replaces the bundle: another CA's clients only, and the old CRL no longer fits it.
    const other = await makeCa('CN=Other Root');
    await put('other.pem', other.pem);
    expect((await awsError(client.send(new ModifyTrustStoreCommand({ TrustStoreArn: store.TrustStoreArn!, CaCertificatesBundleS3Bucket: 'pki', CaCertificatesBundleS3Key: 'other.pem' })))).name).toBe('InvalidRevocationContentException');
    await client.send(new RemoveTrustStoreRevocationsCommand({ TrustStoreArn: store.TrustStoreArn!, RevocationIds: [2] }));
    await client.send(new ModifyTrustStoreCommand({ TrustStoreArn: store.TrustStoreArn!, CaCertificatesBundleS3Bucket: 'pki', CaCertificatesBundleS3Key: 'other.pem' }));
    expect(await get(url, good)).not.toBe(200);
    expect(await get(url, await issue(other, 'CN=new'))).toBe(200);

    expect((await client.send(new DescribeTrustStoreAssociationsCommand({ TrustStoreArn: store.TrustStoreArn! }))).TrustStoreAssociations).toEqual([{ ResourceArn: listener.ListenerArn }]);
    expect((await awsError(client.send(new DeleteTrustStoreCommand({ TrustStoreArn: store.TrustStoreArn! })))).name).toBe('TrustStoreInUseException');
    // ModifyListener to passthrough: the store is free.
    const modified = (await client.send(new ModifyListenerCommand({ ListenerArn: listener.ListenerArn!, MutualAuthentication: { Mode: 'passthrough' } }))).Listeners![0]!;
    expect(modified.MutualAuthentication).toEqual({ Mode: 'passthrough', IgnoreClientCertificateExpiry: false });
    expect(await get(url, good)).toBe(200);
    await client.send(new DeleteListenerCommand({ ListenerArn: listener.ListenerArn! }));
    await client.send(new DeleteTrustStoreCommand({ TrustStoreArn: store.TrustStoreArn! }));
    expect((await client.send(new DescribeTrustStoresCommand({}))).TrustStores).toEqual([]);
  });

  it('refuses MutualAuthentication on an HTTP listener and verify without a trust store', async () => {
    const { client } = await startStack();
    const lb = (await client.send(new CreateLoadBalancerCommand({ Name: 'web', Subnets: ['subnet-a', 'subnet-b'] }))).LoadBalancers![0]!;
    const tg = (await client.send(new CreateTargetGroupCommand({ Name: 'web', Protocol: 'HTTP', Port: 80, VpcId: 'vpc-1' }))).TargetGroups![0]!;
    const base = { LoadBalancerArn: lb.LoadBalancerArn!, DefaultActions: [{ Type: 'forward' as const, TargetGroupArn: tg.TargetGroupArn! }] };
    expect((await awsError(client.send(new CreateListenerCommand({ ...base, Protocol: 'HTTP', Port: 8080, MutualAuthentication: { Mode: 'passthrough' } })))).name).toBe('InvalidConfigurationRequestException');
    const https = { ...base, Protocol: 'HTTPS' as const, Port: 8443, Certificates: [{ CertificateArn: 'arn:aws:acm:eu-west-1:111122223333:certificate/x' }] };
    expect((await awsError(client.send(new CreateListenerCommand({ ...https, MutualAuthentication: { Mode: 'verify' } })))).name).toBe('ValidationError');
    expect((await awsError(client.send(new CreateListenerCommand({ ...https, MutualAuthentication: { Mode: 'verify', TrustStoreArn: 'arn:aws:elasticloadbalancing:eu-west-1:111122223333:truststore/none/0000000000000000' } })))).name).toBe('TrustStoreNotFoundException');
  });
});
