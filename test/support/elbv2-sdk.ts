/** What the ELBv2 API tests share when they drive local-elb with the AWS SDK v3. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { startElbv2Endpoint, type Elbv2EndpointOptions } from '../../src/elbv2/server.ts';
import { startLocalElb } from '../../src/local-elb.ts';

/** Waiters poll every 0.2–0.5 s instead of the SDK's 15–120 s, up to a deadline. */
export const FAST_WAITER = { maxWaitTime: 30, minDelay: 0.2, maxDelay: 0.5 } as const;

/**
 * The AWS error a call failed with, as the SDK surfaces it: `name` is AWS's error shape
 * (`…Exception`, or the common code itself), with its message and HTTP status.
 */
export async function awsError(promise: Promise<unknown>): Promise<{ name: string; message: string; status: number | undefined }> {
  try {
    await promise;
  } catch (err) {
    const e = err as Error & { $metadata?: { httpStatusCode?: number } };
    return { name: e.name, message: e.message, status: e.$metadata?.httpStatusCode };
  }
  throw new Error('expected the call to fail');
}

/**
 * local-elb with the ELBv2 API in front of it and an SDK client for account 111122223333 in
 * eu-west-1 (one attempt, no retries), in a state directory of its own (the local CA's: HTTPS
 * listeners' certificates), each closed or removed through `defer`.
 */
export async function startSdkStack(
  defer: (fn: () => unknown) => void,
  { config = {}, stateDirPrefix = 'local-elb-elbv2-', endpoint: endpointOptions = {} }: { config?: Parameters<typeof startLocalElb>[0]['config']; stateDirPrefix?: string; endpoint?: Elbv2EndpointOptions } = {},
) {
  const stateDir = await mkdtemp(join(tmpdir(), stateDirPrefix));
  defer(() => rm(stateDir, { recursive: true, force: true }));
  const elb = await startLocalElb({ config, waitForPodsMs: 0, stateDir });
  defer(() => elb.close());
  const endpoint = await startElbv2Endpoint(elb.runtime, { port: 0, ...endpointOptions });
  defer(() => endpoint.close());
  const client = new ElasticLoadBalancingV2Client({ endpoint: endpoint.url, region: 'eu-west-1', credentials: { accessKeyId: '111122223333', secretAccessKey: 'not-checked' }, maxAttempts: 1 });
  defer(() => client.destroy());
  return { elb, endpoint, client, stateDir };
}
