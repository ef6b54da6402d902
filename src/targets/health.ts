/**
 * Target health as AWS reports it (spec 1.2, 1.3, 2.5): the states, reason codes and
 * descriptions of DescribeTargetHealth, and the pure threshold logic that moves a target
 * between them. No timers and no sockets here: the health checker feeds results in.
 */

/** `TargetHealthStateEnum` (spec 1.2). */
export type TargetHealthState = 'initial' | 'healthy' | 'unhealthy' | 'unhealthy.draining' | 'unused' | 'draining' | 'unavailable';

/** `TargetHealthReasonEnum` (spec 1.2). */
export type TargetHealthReason =
  | 'Elb.RegistrationInProgress'
  | 'Elb.InitialHealthChecking'
  | 'Target.ResponseCodeMismatch'
  | 'Target.Timeout'
  | 'Target.FailedHealthChecks'
  | 'Target.NotRegistered'
  | 'Target.NotInUse'
  | 'Target.DeregistrationInProgress'
  | 'Target.InvalidState'
  | 'Target.IpUnusable'
  | 'Target.HealthCheckDisabled'
  | 'Elb.InternalError';

/** `TargetHealth`: reason and description are absent when the state is `healthy`. */
export interface TargetHealth {
  readonly state: TargetHealthState;
  readonly reason?: TargetHealthReason;
  readonly description?: string;
}

/**
 * What one health check saw. `statusCode` is the HTTP status, or the `grpc-status` of a gRPC
 * check (spec 12.4.4), so a mismatch reads "Health checks failed with these codes: [14]".
 */
export type ProbeResult =
  | { readonly ok: true; readonly statusCode?: number }
  | { readonly ok: false; readonly failure: 'code'; readonly statusCode: number }
  | { readonly ok: false; readonly failure: 'timeout' | 'failed' | 'internal'; readonly detail?: string };

export const Descriptions = {
  'Elb.RegistrationInProgress': 'Target registration is in progress',
  'Elb.InitialHealthChecking': 'Initial health checks in progress',
  'Target.Timeout': 'Request timed out',
  'Target.FailedHealthChecks': 'Health checks failed',
  'Elb.InternalError': 'Health checks failed due to an internal error',
  'Target.NotRegistered': 'Target is not registered to the target group',
  'Target.NotInUse': 'Target group is not configured to receive traffic from the load balancer',
  'Target.DeregistrationInProgress': 'Target deregistration is in progress',
} as const satisfies Partial<Record<TargetHealthReason, string>>;

export function healthFromReason(state: TargetHealthState, reason: keyof typeof Descriptions): TargetHealth {
  return { state, reason, description: Descriptions[reason] };
}

/** The health a failed probe reports (spec 2.4 failure classification). */
export function unhealthyFrom(result: Exclude<ProbeResult, { ok: true }>): TargetHealth {
  switch (result.failure) {
    case 'code':
      return { state: 'unhealthy', reason: 'Target.ResponseCodeMismatch', description: `Health checks failed with these codes: [${result.statusCode}]` };
    case 'timeout':
      return healthFromReason('unhealthy', 'Target.Timeout');
    case 'failed':
      return healthFromReason('unhealthy', 'Target.FailedHealthChecks');
    case 'internal':
      return healthFromReason('unhealthy', 'Elb.InternalError');
  }
}

export interface HealthThresholds {
  /** Consecutive passes that take an `unhealthy` target to `healthy` (2–10). */
  readonly healthyThresholdCount: number;
  /** Consecutive failures that take a target to `unhealthy` (2–10). */
  readonly unhealthyThresholdCount: number;
  /** Passes that take an `initial` target to `healthy` (AWS: one; UNCONFIRMED, spec 1.3). */
  readonly initialHealthyThresholdCount: number;
}

/**
 * The per-target counters of spec 2.5. `record` applies one probe result and returns the new
 * health when the reported health changed (state, reason or description), else undefined.
 */
export class HealthTracker {
  #health: TargetHealth = healthFromReason('initial', 'Elb.RegistrationInProgress');
  #successes = 0;
  #failures = 0;

  readonly thresholds: HealthThresholds;

  constructor(thresholds: HealthThresholds) {
    this.thresholds = thresholds;
  }

  get health(): TargetHealth {
    return this.#health;
  }

  /** Registration finished; checks start (`initial`/`Elb.InitialHealthChecking`). */
  startChecking(): TargetHealth {
    this.#successes = 0;
    this.#failures = 0;
    this.#health = healthFromReason('initial', 'Elb.InitialHealthChecking');
    return this.#health;
  }

  record(result: ProbeResult): TargetHealth | undefined {
    const before = this.#health;
    if (result.ok) {
      this.#successes++;
      this.#failures = 0;
      const needed = before.state === 'initial' ? this.thresholds.initialHealthyThresholdCount : this.thresholds.healthyThresholdCount;
      if (before.state !== 'healthy' && this.#successes >= needed) this.#health = { state: 'healthy' };
    } else {
      this.#failures++;
      this.#successes = 0;
      if (before.state === 'unhealthy') this.#health = unhealthyFrom(result);
      else if (this.#failures >= this.thresholds.unhealthyThresholdCount) this.#health = unhealthyFrom(result);
    }
    const after = this.#health;
    const changed = after.state !== before.state || after.reason !== before.reason || after.description !== before.description;
    return changed ? after : undefined;
  }
}
