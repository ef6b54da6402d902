/** What the ELBv2 API tests share when they drive local-elb with the AWS SDK v3. */

/** Waiters poll every 0.2–0.5 s instead of the SDK's 15–120 s, up to a deadline. */
export const FAST_WAITER = { maxWaitTime: 30, minDelay: 0.2, maxDelay: 0.5 } as const;

/** The AWS error a call failed with, as the SDK surfaces it: its code, message and HTTP status. */
export async function awsError(promise: Promise<unknown>): Promise<{ name: string; message: string; status: number | undefined }> {
  try {
    await promise;
  } catch (err) {
    const e = err as Error & { $metadata?: { httpStatusCode?: number } };
    return { name: e.name, message: e.message, status: e.$metadata?.httpStatusCode };
  }
  throw new Error('expected the call to fail');
}
