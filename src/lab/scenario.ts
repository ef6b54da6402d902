/**
 * Routing-algorithm lab scenarios: small declarative files (YAML or JSON) that say what the
 * targets are like, how clients arrive, what the load balancer is set to, and which algorithms
 * to compare. One schema, every default beside its field, unknown keys rejected; a bad file
 * gives one ConfigError listing every problem with its path.
 */
import { z } from 'zod';
import { ConfigError, type ConfigIssue } from '../core/errors.ts';
import { formatPath, intIn, numberIn, oneOf, show, strict } from '../config/fields.ts';
import { automaticTargetWeightsSchema, slowStartInitialWeightDefault } from '../config/schema.ts';
import { algorithms, type AlgorithmName } from '../algorithms/index.ts';






/** `slow_start.duration_seconds` as AWS allows it (spec 3.2): 0 (off) or 30–900. */
const slowStartSeconds = () => {
  const error = (iss: { input?: unknown }) => `must be 0 or an integer 30–900 (spec 3.2): got ${show(iss.input)}`;
  return z.number({ error }).refine((v) => Number.isInteger(v) && (v === 0 || (v >= 30 && v <= 900)), { error });
};

const algorithmNames = Object.keys(algorithms) as [AlgorithmName, ...AlgorithmName[]];
const algorithmName = oneOf(algorithmNames);

/** Service time of one request, before the target's multiplier: a distribution with a mean. */
const serviceSchema = z.discriminatedUnion(
  'distribution',
  [
    strict({ distribution: z.literal('exponential'), meanMs: numberIn(0, 3_600_000, { above: true }) }),
    strict({ distribution: z.literal('lognormal'), meanMs: numberIn(0, 3_600_000, { above: true }), sigma: numberIn(0, 4).default(1) }),
    strict({ distribution: z.literal('constant'), meanMs: numberIn(0, 3_600_000, { above: true }) }),
  ],
  { error: (iss) => `needs distribution exponential | lognormal | constant: got ${show((iss.input as { distribution?: unknown } | undefined)?.distribution)}` },
);

/** How some targets differ from the rest. */
const overrideSchema = strict({
  /** Which targets (0-based indices). */
  targets: z.array(intIn(0, 99_999)).min(1),
  /** Service time × this (10: ten times slower). */
  latencyMultiplier: numberIn(0, 1_000_000, { above: true }).optional(),
  /** Requests served at once (the rest wait in FIFO order). */
  concurrency: intIn(1, 1_000_000).optional(),
  /** Share of requests answered with a 5XX. */
  errorRatio: numberIn(0, 1).optional(),
  /** How long an error answer takes (fast failure: "sinkholing"); default: a normal service time. */
  errorLatencyMs: numberIn(0, 3_600_000).optional(),
  /** Stop-the-world pauses: the target makes no progress for `pauseMs` every `everyMs`. */
  gcPause: strict({
    everyMs: numberIn(0, 3_600_000, { above: true }),
    pauseMs: numberIn(0, 3_600_000, { above: true }),
    /** Where in the cycle the first pause falls; default: a seeded random phase per target. */
    offsetMs: numberIn(0, 3_600_000).optional(),
  }).optional(),
  /** The target starts (and is registered) this late instead of at 0. */
  registerAtSeconds: numberIn(0, 10_000_000).optional(),
  /**
   * Cold start: service times start `multiplier` times slower and fall linearly to normal over
   * `seconds` after the process starts during the run (registerAtSeconds, a `start` event or
   * churn); targets running from the start are warm.
   */
  warmup: strict({ multiplier: numberIn(1, 1000), seconds: numberIn(0, 10_000_000, { above: true }) }).optional(),
});

const eventSchema = strict({
  atSeconds: numberIn(0, 10_000_000),
  /**
   * `deregister`/`register`: DeregisterTargets/RegisterTargets on every load balancer node;
   * `stop`: the process dies (requests in it fail, connections are refused, checks fail);
   * `start`: it comes back (cold, if it has a warmup); `fail-health-checks`/`pass-health-checks`:
   * only the health-check answer changes.
   */
  action: oneOf(['deregister', 'register', 'stop', 'start', 'fail-health-checks', 'pass-health-checks']),
  targets: z.array(intIn(0, 99_999)).min(1),
});

/** One algorithm to run, with the load balancer settings that differ for it. */
const variantSchema = strict({
  algorithm: algorithmName,
  /** The name in the tables and charts; default: the algorithm, what differs from the scenario, and the traffic policy. */
  label: z.string().min(1).max(60).optional(),
  slowStartSeconds: slowStartSeconds().optional(),
  anomalyMitigation: oneOf(['on', 'off']).optional(),
  nodes: intIn(1, 100).optional(),
  externalTrafficPolicy: oneOf(['Cluster', 'Local']).optional(),
});

const loadBalancerSchema = strict({
  /** Independent load balancer nodes, each with its own target group, counters and health checks; clients spread over them at random. */
  nodes: intIn(1, 100).default(1),
  /** ALB health checks (spec 2.2 defaults). */
  healthCheck: strict({
    intervalSeconds: intIn(5, 300).default(30),
    timeoutSeconds: intIn(2, 120).default(5),
    healthyThresholdCount: intIn(2, 10).default(5),
    unhealthyThresholdCount: intIn(2, 10).default(2),
  }).default({ intervalSeconds: 30, timeoutSeconds: 5, healthyThresholdCount: 5, unhealthyThresholdCount: 2 }),
  deregistrationDelaySeconds: intIn(0, 3600).default(300),
  slowStartSeconds: slowStartSeconds().default(0),
  slowStartInitialWeight: numberIn(0, 1, { above: true }).default(slowStartInitialWeightDefault),
  anomalyMitigation: oneOf(['on', 'off']).default('off'),
  automaticTargetWeights: automaticTargetWeightsSchema.partial().default({}),
  /** The ALB's idle timeout: a request with no answer by then is a 504 (the target may still be working on it). */
  idleTimeoutSeconds: numberIn(0, 4000, { above: true }).default(60),
}).default({
  nodes: 1,
  healthCheck: { intervalSeconds: 30, timeoutSeconds: 5, healthyThresholdCount: 5, unhealthyThresholdCount: 2 },
  deregistrationDelaySeconds: 300,
  slowStartSeconds: 0,
  slowStartInitialWeight: slowStartInitialWeightDefault,
  anomalyMitigation: 'off',
  automaticTargetWeights: {},
  idleTimeoutSeconds: 60,
});

export const scenarioSchema = strict({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, { error: (iss) => `must be lower-case letters, digits and hyphens: got ${show(iss.input)}` }),
  description: z.string().default(''),
  /** Requests to simulate (the CLI's --requests overrides it). */
  requests: intIn(1, 100_000_000).default(100_000),
  /** The seed of every random stream (the CLI's --seed overrides it). */
  seed: intIn(0, 0xffffffff).default(42),
  clients: strict({
    /** Open loop: requests arrive as a Poisson process at this rate, whatever the latency. */
    ratePerSecond: numberIn(0, 100_000_000, { above: true }),
    /**
     * Long-lived connections: the load balancer picks a target per connection (NLB, kube-proxy,
     * gRPC), and each request goes down one of them at random. Absent: a pick per request (ALB).
     */
    connections: intIn(1, 1_000_000).optional(),
  }),
  targets: strict({
    count: intIn(1, 100_000),
    /** Requests a target serves at once; the rest queue (FIFO). */
    concurrency: intIn(1, 1_000_000).default(1),
    service: serviceSchema,
    overrides: z.array(overrideSchema).default([]),
  }),
  loadBalancer: loadBalancerSchema,
  algorithms: z.array(z.union([algorithmName, variantSchema], { error: (iss) => `must be an algorithm (${algorithmNames.join(' | ')}) or { algorithm, label?, … }: got ${show(iss.input)}` })).min(1),
  events: z.array(eventSchema).default([]),
  /**
   * Targets going away and coming back, one after another every `everySeconds` while clients
   * arrive. `rolling-restart`: deregister (the delay runs), stop `stopAfterSeconds` later, start
   * and register again after `downSeconds`. `crash`: the process stops with no deregistration
   * (health checks must find it) and starts again after `downSeconds`.
   */
  churn: strict({
    kind: oneOf(['rolling-restart', 'crash']).default('rolling-restart'),
    startSeconds: numberIn(0, 10_000_000).default(10),
    everySeconds: numberIn(0, 10_000_000, { above: true }),
    stopAfterSeconds: numberIn(0, 10_000_000).default(0),
    downSeconds: numberIn(0, 10_000_000).default(5),
  }).optional(),
  /** The EKS double hop: ELB → node (instance target, NodePort) → kube-proxy random → pod. `targets` are the pods. */
  kubernetes: strict({
    podsPerNode: z.array(intIn(0, 10_000)).min(1),
    externalTrafficPolicy: oneOf(['Cluster', 'Local']).default('Cluster'),
    /** Latency of the extra hop when kube-proxy sends a request to a pod on another node. */
    hopLatencyMs: numberIn(0, 60_000).default(0.5),
  }).optional(),
});

export type ScenarioInput = z.input<typeof scenarioSchema>;
type ParsedScenario = z.output<typeof scenarioSchema>;
export type TargetOverride = ParsedScenario['targets']['overrides'][number];
export type ScenarioEvent = ParsedScenario['events'][number];
export type ServiceModel = ParsedScenario['targets']['service'];

/** One algorithm run with its settings resolved. */
export interface Variant {
  readonly label: string;
  readonly algorithm: AlgorithmName;
  readonly slowStartSeconds: number;
  readonly anomalyMitigation: 'on' | 'off';
  readonly nodes: number;
  readonly externalTrafficPolicy: 'Cluster' | 'Local' | undefined;
}

export interface Scenario extends Omit<ParsedScenario, 'algorithms'> {
  readonly variants: readonly Variant[];
}


function labelOf(v: Omit<Variant, 'label'>, base: { slowStartSeconds: number; anomalyMitigation: string; nodes: number }): string {
  const parts: string[] = [v.algorithm];
  if (v.slowStartSeconds !== base.slowStartSeconds) parts.push(`slow_start=${v.slowStartSeconds}s`);
  if (v.anomalyMitigation !== base.anomalyMitigation) parts.push(`anomaly_mitigation=${v.anomalyMitigation}`);
  if (v.nodes !== base.nodes) parts.push(`nodes=${v.nodes}`);
  if (v.externalTrafficPolicy !== undefined) parts.push(v.externalTrafficPolicy);
  return parts.join(' ');
}

/** Validates a scenario (already read from YAML or JSON) and fills every default. Throws one ConfigError listing every problem. */
export function parseScenario(input: unknown, source = 'scenario'): Scenario {
  const result = scenarioSchema.safeParse(input ?? {});
  if (!result.success) throw new ConfigError(source, result.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message })));
  const s = result.data;
  const issues: ConfigIssue[] = [];
  const n = s.targets.count;
  s.targets.overrides.forEach((o, i) =>
    o.targets.forEach((t, j) => {
      if (t >= n) issues.push({ path: `targets.overrides[${i}].targets[${j}]`, message: `must be a target index 0–${n - 1} (targets.count is ${n}): got ${t}` });
    }),
  );
  s.targets.overrides.forEach((o, i) => {
    if (o.gcPause && o.gcPause.pauseMs >= o.gcPause.everyMs) {
      issues.push({ path: `targets.overrides[${i}].gcPause.pauseMs`, message: `must be less than everyMs (${o.gcPause.everyMs}): got ${o.gcPause.pauseMs}` });
    }
  });
  s.events.forEach((e, i) =>
    e.targets.forEach((t, j) => {
      if (t >= n) issues.push({ path: `events[${i}].targets[${j}]`, message: `must be a target index 0–${n - 1} (targets.count is ${n}): got ${t}` });
    }),
  );
  if (s.loadBalancer.healthCheck.timeoutSeconds >= s.loadBalancer.healthCheck.intervalSeconds) {
    issues.push({
      path: 'loadBalancer.healthCheck.timeoutSeconds',
      message: `must be less than intervalSeconds (${s.loadBalancer.healthCheck.intervalSeconds}): got ${s.loadBalancer.healthCheck.timeoutSeconds}`,
    });
  }
  if (s.kubernetes) {
    const pods = s.kubernetes.podsPerNode.reduce((a, b) => a + b, 0);
    if (pods !== n) issues.push({ path: 'kubernetes.podsPerNode', message: `must add up to targets.count (${n}), since the targets are the pods: got ${pods}` });
    if (s.events.length > 0 || s.churn) issues.push({ path: s.churn ? 'churn' : 'events', message: 'events and churn are not modelled with kubernetes (the double hop) yet' });
    if (s.clients.connections !== undefined) issues.push({ path: 'clients.connections', message: 'long-lived connections are not modelled with kubernetes (the double hop) yet' });
    if (s.targets.overrides.some((o) => o.registerAtSeconds !== undefined)) issues.push({ path: 'targets.overrides', message: 'registerAtSeconds is not modelled with kubernetes yet' });
  }
  const lb = s.loadBalancer;
  const base = { slowStartSeconds: lb.slowStartSeconds, anomalyMitigation: lb.anomalyMitigation, nodes: lb.nodes };
  const variants: Variant[] = [];
  const labels = new Set<string>();
  s.algorithms.forEach((entry, i) => {
    const e = typeof entry === 'string' ? { algorithm: entry } : entry;
    const at = `algorithms[${i}]`;
    if (e.externalTrafficPolicy !== undefined && !s.kubernetes) issues.push({ path: `${at}.externalTrafficPolicy`, message: 'applies only with kubernetes (the double hop)' });
    const v = {
      algorithm: e.algorithm,
      slowStartSeconds: e.slowStartSeconds ?? lb.slowStartSeconds,
      anomalyMitigation: e.anomalyMitigation ?? lb.anomalyMitigation,
      nodes: e.nodes ?? lb.nodes,
      externalTrafficPolicy: s.kubernetes ? (e.externalTrafficPolicy ?? s.kubernetes.externalTrafficPolicy) : undefined,
    };
    if (v.slowStartSeconds > 0 && v.algorithm !== 'round_robin') {
      issues.push({ path: `${at}.slowStartSeconds`, message: `slow start works with round_robin only (AWS: not with least_outstanding_requests or weighted_random; the lab-only pickers ignore weights): the algorithm is ${v.algorithm}` });
    }
    if (v.anomalyMitigation === 'on' && v.algorithm !== 'weighted_random') {
      issues.push({ path: `${at}.anomalyMitigation`, message: `can be "on" only with weighted_random (spec 3.1): the algorithm is ${v.algorithm}` });
    }
    const label = e.label ?? labelOf(v, base);
    if (labels.has(label)) issues.push({ path: `${at}.label`, message: `${JSON.stringify(label)} is used twice; give each run its own label` });
    labels.add(label);
    variants.push({ label, ...v });
  });
  if (issues.length > 0) throw new ConfigError(source, issues);
  const { algorithms: _algorithms, ...rest } = s;
  return { ...rest, variants };
}

/** The built-in scenarios, by name (files in src/lab/scenarios/). */
export const builtinScenarioNames = [
  'homogeneous',
  'slow-target',
  'fast-failing',
  'cold-target',
  'gc-pause',
  'heterogeneous',
  'churn',
  'double-hop',
  'herding',
  'erroring-target',
  'long-lived-connections',
] as const;

/** Where a built-in scenario's file is. */
export function builtinScenarioUrl(name: string): URL {
  return new URL(`./scenarios/${name}.yaml`, import.meta.url);
}
