/**
 * The public library API of local-elb, and nothing else re-exports.
 */
export { LocalElb, startLocalElb, type LocalElbOptions, type LoadBalancer } from './local-elb.ts';
export { parseConfig, type Config, type ConfigInput, type TargetGroupConfig, type LoadBalancerConfig } from './config/schema.ts';
export { realClock, VirtualClock, type Clock } from './core/clock.ts';
export { mathRandom, seededRandom, type Random } from './core/random.ts';
export { ElbError, ConfigError, ErrorCodes, isElbError, type ErrorCode } from './core/errors.ts';
export { ElbMetrics } from './core/metrics.ts';
export { startElbv2Endpoint, elbv2Api, DEFAULT_ELBV2_PORT, type Elbv2Endpoint, type Elbv2EndpointOptions } from './elbv2/server.ts';
export { ElbRuntime, type ElbRuntimeOptions } from './runtime/runtime.ts';
export { TargetGroup, type DrainOutcome, type TargetHealthDescription, type TargetGroupEvent } from './targets/target-group.ts';
export type { TargetHealth, TargetHealthState, TargetHealthReason, ProbeResult } from './targets/health.ts';
export type { Probe, ProbeTarget } from './targets/health-checker.ts';
export type { Lease, Target, TargetSpec } from './targets/target.ts';
export {
  algorithms,
  awsAlgorithms,
  createPicker,
  WeightedRandomPicker,
  type Picker,
  type PickerOptions,
  type PickContext,
  type Outcome,
  type AlgorithmName,
} from './algorithms/index.ts';
export { parseScenario, type Scenario, type ScenarioInput, type Variant } from './lab/scenario.ts';
export { runSimulation, type RunResult } from './lab/simulator.ts';
export { runLab, formatLabReport, type LabReport, type LabOptions } from './lab/lab.ts';
export { ApplicationLoadBalancer } from './l7/application-load-balancer.ts';
export { NetworkLoadBalancer } from './l4/network-load-balancer.ts';
export { proxyHeader, localProxyHeader, awsVpceTlv } from './l4/proxy-protocol.ts';
export type { RequestRecord } from './l7/request-record.ts';
export { accessLogLine } from './l7/access-log.ts';
export { connectionLogLine, type ConnectionRecord } from './l7/connection-log.ts';
export { nlbAccessLogLine, type TlsConnectionRecord } from './l4/access-log.ts';
export { startLoad, describeFate, type LoadOptions, type LoadRun } from './harness/load.ts';
export { LoadReport, reportPage, type RequestFate } from './harness/report.ts';
export { startAdminServer, type AdminServer, type AdminServerOptions } from './admin/server.ts';
export { runRolloutScenario, scenarioConfig, formatSweep, sweepHtml, type RolloutScenario, type ScenarioResult } from './harness/scenario.ts';
export { Deployment } from './pods/deployment.ts';
export type { PodStatus, PodPhase } from './pods/pod.ts';
export { Timeline, type TimelineEvent, type TimelineKind } from './pods/timeline.ts';
export type { PodRuntime, ProcessHandle } from './pods/runtime.ts';
export { openLocalCa, defaultStateDir, type LocalCertificateAuthority, type IssuedCertificate, type KeyType } from './tls/ca.ts';
export { SECURITY_POLICIES, DEFAULT_SSL_POLICY, describeSslPolicies, sslPolicy, type SecurityPolicy } from './tls/policies.ts';
export type { CertificateIssuer } from './tls/certificates.ts';
export type { TlsSession } from './tls/front-end.ts';
