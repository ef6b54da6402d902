/**
 * DescribeAccountLimits (spec 14.10: the quotas this endpoint also enforces) and
 * DescribeSSLPolicies (spec 14.6.7: the policy catalogue of src/tls/policies.ts, the same one
 * the listeners enforce).
 */
import { describeSslPolicies, SslPolicyNotFoundError } from '../tls/policies.ts';
import { LIMITS, page, type Call, type Handler, type Result } from './api.ts';
import { ApiError } from './errors.ts';

export const accountHandlers: Record<string, Handler> = {
  DescribeAccountLimits({ params }: Call): Result {
    const { items, nextMarker } = page(Object.entries(LIMITS), params);
    return { Limits: items.map(([Name, max]) => ({ Name, Max: String(max) })), NextMarker: nextMarker };
  },

  DescribeSSLPolicies({ params }: Call): Result {
    const names = params.strings('Names');
    const type = params.choice('LoadBalancerType', ['application', 'network', 'gateway']);
    let policies;
    try {
      policies = describeSslPolicies(names, type);
    } catch (err) {
      if (err instanceof SslPolicyNotFoundError) throw new ApiError('SSLPolicyNotFound', `One or more SSL policies not found: ${err.policyName}`, { cause: err });
      throw err;
    }
    const { items, nextMarker } = page(policies, params);
    return { SslPolicies: items.map((p) => ({ ...p })), NextMarker: nextMarker };
  },
};
