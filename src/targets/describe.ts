/**
 * A target group in the ELBv2 API's shapes (camelCase): DescribeTargetHealth rows (spec 1.2)
 * and DescribeTargetGroups. Pure functions of what the parts of the group know.
 */
import type { MatcherConfig, TargetGroupConfig } from '../config/schema.ts';
import type { TargetGroupSettings } from '../config/settings.ts';
import { healthFromReason, type TargetHealth } from './health.ts';
import type { Target } from './target.ts';

/** One row of DescribeTargetHealth, in the ELBv2 shape (camelCase). */
export interface TargetHealthDescription {
  readonly target: { readonly id: string; readonly port: number };
  readonly healthCheckPort: string;
  readonly targetHealth: TargetHealth;
  /** With `include: ['AnomalyDetection']` (spec 3.1, 1.2). */
  readonly anomalyDetection?: { readonly result: 'normal' | 'anomalous'; readonly mitigationInEffect: 'yes' | 'no' };
}

export type AnomalyVerdict = (target: Target) => { readonly result: 'normal' | 'anomalous'; readonly mitigationInEffect: 'yes' | 'no' };

/** A DescribeTargetHealth row; `target` is undefined for a target that is not registered. */
export function targetHealthRow(
  config: TargetGroupConfig,
  id: string,
  port: number,
  health: TargetHealth | undefined,
  target: Target | undefined,
  anomalies: AnomalyVerdict | undefined,
): TargetHealthDescription {
  const verdict = anomalies !== undefined && target !== undefined ? anomalies(target) : undefined;
  return {
    target: { id, port },
    healthCheckPort: String(config.healthCheckPort === 'traffic-port' ? port : config.healthCheckPort),
    targetHealth: health ?? healthFromReason('unused', 'Target.NotRegistered'),
    ...(verdict !== undefined ? { anomalyDetection: { result: verdict.result, mitigationInEffect: verdict.mitigationInEffect } } : {}),
  };
}

/** `Matcher`: `{ httpCode }`, or `{ grpcCode }` on GRPC groups (spec 14.7). */
function matcherShape(m: MatcherConfig): MatcherConfig {
  return m.grpcCode !== undefined ? { grpcCode: m.grpcCode } : { httpCode: m.httpCode };
}

/** DescribeTargetGroups, in the ELBv2 shape (`protocolVersion` on ALB groups only, spec 14.7). */
export function describeTargetGroup(c: TargetGroupConfig, settings: TargetGroupSettings, loadBalancerNames: readonly string[]) {
  return {
    targetGroupName: c.name,
    protocol: c.protocol,
    ...(c.protocolVersion !== undefined ? { protocolVersion: c.protocolVersion } : {}),
    ...(c.port !== undefined ? { port: c.port } : {}),
    targetType: c.targetType,
    healthCheckProtocol: c.healthCheckProtocol,
    healthCheckPort: String(c.healthCheckPort),
    ...(c.healthCheckProtocol !== 'TCP' ? { healthCheckPath: c.healthCheckPath, matcher: matcherShape(c.matcher) } : {}),
    healthCheckEnabled: c.healthCheckEnabled,
    healthCheckIntervalSeconds: c.healthCheckIntervalSeconds,
    healthCheckTimeoutSeconds: c.healthCheckTimeoutSeconds,
    healthyThresholdCount: c.healthyThresholdCount,
    unhealthyThresholdCount: c.unhealthyThresholdCount,
    loadBalancerNames: [...loadBalancerNames],
    ...(c.kind === 'application' ? { loadBalancingAlgorithmType: settings.algorithm } : {}),
  };
}
