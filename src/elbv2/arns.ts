/**
 * ELBv2 identifiers (spec 14.4.1): ARNs in AWS's layout with 16-hex IDs, and the caller's
 * account and region read from the SigV4 `Credential=` scope (spec 14.3.1: never verified).
 */
import { randomBytes } from 'node:crypto';

/** The account of unsigned calls and of keys that are not 12 digits (LocalStack's convention, spec 14.3.1). */
export const DEFAULT_ACCOUNT = '000000000000';
export const DEFAULT_REGION = 'us-east-1';

export interface Caller {
  readonly account: string;
  readonly region: string;
}

/** `AWS4-HMAC-SHA256 Credential=AKID/20260101/eu-west-1/elasticloadbalancing/aws4_request, …` → account and region. */
export function callerOf(authorization: string | undefined, defaults: Caller = { account: DEFAULT_ACCOUNT, region: DEFAULT_REGION }): Caller {
  const m = /Credential=([^/,\s]+)\/\d{8}\/([^/,\s]+)\//.exec(authorization ?? '');
  if (m === null) return defaults;
  return { account: /^\d{12}$/.test(m[1]!) ? m[1]! : defaults.account, region: m[2]! };
}

/** 16 lowercase hex characters, as every AWS example ID (spec 14.4.1). */
export function newId(): string {
  return randomBytes(8).toString('hex');
}

export type LoadBalancerTypeSegment = 'app' | 'net';

export const typeSegment = (type: 'application' | 'network'): LoadBalancerTypeSegment => (type === 'network' ? 'net' : 'app');

const prefix = (c: Caller) => `arn:aws:elasticloadbalancing:${c.region}:${c.account}`;

export const loadBalancerArn = (c: Caller, type: LoadBalancerTypeSegment, name: string, id: string) => `${prefix(c)}:loadbalancer/${type}/${name}/${id}`;
export const targetGroupArn = (c: Caller, name: string, id: string) => `${prefix(c)}:targetgroup/${name}/${id}`;
export const trustStoreArn = (c: Caller, name: string, id: string) => `${prefix(c)}:truststore/${name}/${id}`;
/** `lbArn`'s resource part carries over: `listener/app/<lb>/<lb-id>/<listener-id>`. */
export const listenerArn = (lbArn: string, id: string) => `${lbArn.replace(':loadbalancer/', ':listener/')}/${id}`;
export const ruleArn = (listener: string, id: string) => `${listener.replace(':listener/', ':listener-rule/')}/${id}`;

/** Which kind of resource an ARN names (for tags and the matching `*NotFound`), or undefined for one that does not parse. */
export function resourceKind(arn: string): 'loadbalancer' | 'targetgroup' | 'listener' | 'listener-rule' | 'truststore' | undefined {
  const m = /^arn:aws[\w-]*:elasticloadbalancing:[^:]*:[^:]*:(loadbalancer|targetgroup|listener|listener-rule|truststore)\//.exec(arn);
  return m?.[1] as 'loadbalancer' | 'targetgroup' | 'listener' | 'listener-rule' | 'truststore' | undefined;
}
