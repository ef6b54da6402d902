/**
 * What happens during a scenario, and how its load balancer is set, for both ways of running
 * it: the simulator sets a virtual-clock timer per action, the real run (src/harness/lab-real/)
 * does the same thing to real processes and to local-elb at the same offsets.
 */
import { awsAlgorithms } from '../algorithms/index.ts';
import type { ConfigInput } from '../config/schema.ts';
import type { Scenario, ScenarioEvent, Variant } from './scenario.ts';
import type { TargetModelSpec } from './target-model.ts';

export type ScenarioAction = ScenarioEvent['action'];
/** One entry of a config's `targetGroups`, before validation. */
export type TargetGroupInput = NonNullable<ConfigInput['targetGroups']>[number];

/** One thing to do to some targets at a time into the run. */
export interface ScheduledAction {
  readonly atMs: number;
  readonly action: ScenarioAction;
  /** Target indices. */
  readonly targets: readonly number[];
  /** Where it comes from: `registerAtSeconds`, `events[2]`, `churn`. */
  readonly source: string;
}

/**
 * Every action of a scenario in the order the simulator sets its timers (equal times keep this
 * order): late targets starting and registering, then `events`, then the churn (one target
 * after another while clients still arrive, `horizonMs` being when the last one does).
 */
export function scenarioActions(scenario: Scenario, targets: readonly TargetModelSpec[], horizonMs: number): ScheduledAction[] {
  const out: ScheduledAction[] = [];
  for (const t of targets) {
    if (t.registerAtMs > 0) {
      out.push({ atMs: t.registerAtMs, action: 'start', targets: [t.index], source: 'registerAtSeconds' });
      out.push({ atMs: t.registerAtMs, action: 'register', targets: [t.index], source: 'registerAtSeconds' });
    }
  }
  scenario.events.forEach((e, i) => out.push({ atMs: e.atSeconds * 1000, action: e.action, targets: e.targets, source: `events[${i}]` }));
  const churn = scenario.churn;
  if (churn !== undefined) {
    const n = targets.length;
    for (let k = 0; churn.startSeconds * 1000 + k * churn.everySeconds * 1000 < horizonMs; k++) {
      const at = churn.startSeconds * 1000 + k * churn.everySeconds * 1000;
      const which = [k % n];
      const restart = churn.kind === 'rolling-restart';
      if (restart) out.push({ atMs: at, action: 'deregister', targets: which, source: 'churn' });
      out.push({ atMs: at + churn.stopAfterSeconds * 1000, action: 'stop', targets: which, source: 'churn' });
      const back = at + (churn.stopAfterSeconds + churn.downSeconds) * 1000;
      out.push({ atMs: back, action: 'start', targets: which, source: 'churn' });
      if (restart) out.push({ atMs: back, action: 'register', targets: which, source: 'churn' });
    }
  }
  return out;
}

/**
 * The target group a run of `variant` uses, as config input (no targets, no health-check path:
 * the caller adds those): the algorithm, health checks, slow start, deregistration delay and
 * automatic target weights of the scenario. The lab-only pickers run in a round_robin group.
 */
export function labTargetGroupInput(scenario: Scenario, variant: Variant, name: string): TargetGroupInput {
  const lb = scenario.loadBalancer;
  return {
    name,
    protocol: 'HTTP',
    healthCheckIntervalSeconds: lb.healthCheck.intervalSeconds,
    healthCheckTimeoutSeconds: lb.healthCheck.timeoutSeconds,
    healthyThresholdCount: lb.healthCheck.healthyThresholdCount,
    unhealthyThresholdCount: lb.healthCheck.unhealthyThresholdCount,
    attributes: {
      'load_balancing.algorithm.type': (awsAlgorithms as readonly string[]).includes(variant.algorithm) ? variant.algorithm : 'round_robin',
      'load_balancing.algorithm.anomaly_mitigation': variant.algorithm === 'weighted_random' ? variant.anomalyMitigation : 'off',
      'slow_start.duration_seconds': String(variant.slowStartSeconds),
      'deregistration_delay.timeout_seconds': String(lb.deregistrationDelaySeconds),
    },
    emulator: { slowStartInitialWeight: lb.slowStartInitialWeight, automaticTargetWeights: lb.automaticTargetWeights },
  };
}
