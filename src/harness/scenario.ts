/**
 * `local-elb scenario rollout`: the preStop / grace period / propagation tuning that teams do in
 * production, on one machine. For each combination, start the app as local pods behind an ALB,
 * put a steady load on it, roll the pods out, and count the requests lost.
 */
import type { Logger } from '../core/logger.ts';
import type { ConfigInput } from '../config/schema.ts';
import { realClock } from '../core/clock.ts';
import { startLocalElb, type LocalElb } from '../local-elb.ts';
import { waitForHealthyTargets } from '../targets/target-group.ts';
import { startLoad } from './load.ts';
import { escapeHtml } from '../web/assets.ts';
import { reportPage, type LoadReport } from './report.ts';

export interface RolloutScenario {
  /** The app's command line, e.g. `["node", "server.js"]`; it listens on $HOST:$PORT. */
  readonly command: readonly string[];
  readonly replicas: number;
  readonly rps: number;
  readonly preStopSeconds: number;
  /** `endpointsDelaySeconds`: pod state → the load balancer controller sees it. */
  readonly propagationSeconds: number;
  readonly deregistrationLagSeconds?: number;
  readonly gracePeriodSeconds?: number;
  /** The app's readiness path (HTTP GET, 200–399); also its health-check path. */
  readonly readinessPath?: string;
  readonly maxSurge?: number;
  readonly maxUnavailable?: number;
  /** Load before the rollout starts and after it ends, to catch late failures (default 1 s). */
  readonly settleSeconds?: number;
  readonly cwd?: string;
  readonly env?: Readonly<Record<string, string>>;
}

export interface ScenarioResult {
  readonly scenario: RolloutScenario;
  readonly report: LoadReport;
  readonly rolloutSeconds: number;
}

export function scenarioConfig(s: RolloutScenario): ConfigInput {
  const path = s.readinessPath ?? '/';
  return {
    targetGroups: [
      {
        name: 'app',
        protocol: 'HTTP',
        healthCheckPath: path,
        healthCheckIntervalSeconds: 5,
        healthCheckTimeoutSeconds: 2,
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 2,
        matcher: { httpCode: '200-399' },
        pods: {
          command: [...s.command],
          ...(s.cwd ? { cwd: s.cwd } : {}),
          env: { ...s.env },
          replicas: s.replicas,
          readinessProbe: { httpGet: { path }, periodSeconds: 0.5, failureThreshold: 1 },
          ...(s.preStopSeconds > 0 ? { lifecycle: { preStop: { sleep: { seconds: s.preStopSeconds } } } } : {}),
          terminationGracePeriodSeconds: s.gracePeriodSeconds ?? 30,
          strategy: { rollingUpdate: { maxSurge: s.maxSurge ?? 1, maxUnavailable: s.maxUnavailable ?? 0 } },
        },
        propagation: {
          endpointsDelaySeconds: s.propagationSeconds,
          registrationDelaySeconds: 0,
          deregistrationLagSeconds: s.deregistrationLagSeconds ?? 0,
        },
      },
    ],
    loadBalancers: [{ name: 'alb', type: 'application', listeners: [{ port: 0, protocol: 'HTTP', defaultActions: [{ type: 'forward', targetGroupName: 'app' }] }] }],
  };
}

/**
 * Runs one rollout under load and reports every request's fate. `watch` is called with the
 * running LocalElb before the load starts (the CLI's `--dashboard` serves the dashboard on it,
 * so the rollout can be watched live); what it returns runs when the run ends.
 */
export async function runRolloutScenario(
  s: RolloutScenario,
  options: { logger?: Logger; podOutput?: (pod: string, stream: 'stdout' | 'stderr', line: string) => void; watch?: (elb: LocalElb) => Promise<() => Promise<void>> } = {},
): Promise<ScenarioResult> {
  const elb = await startLocalElb({
    config: scenarioConfig(s),
    ...(options.logger ? { logger: options.logger } : {}),
    podOutput: options.podOutput ?? (() => {}),
  });
  let unwatch: () => Promise<void> = async () => {};
  try {
    if (options.watch) unwatch = await options.watch(elb);
    const settleMs = (s.settleSeconds ?? 1) * 1000;
    const load = startLoad(elb.url('alb'), { rps: s.rps, elb });
    await new Promise((r) => setTimeout(r, settleMs));
    const started = Date.now();
    await elb.rollout('app');
    // New pods are Ready before their targets are registered and healthy: keep the load on
    // until they are (or a minute has passed: the table then shows what went wrong), plus the settle time.
    await waitForHealthyTargets(elb.targetGroup('app'), s.replicas, { clock: realClock, timeoutMs: 60_000, what: 'pod targets' }).catch(() => {});
    const rolloutSeconds = (Date.now() - started) / 1000;
    await new Promise((r) => setTimeout(r, settleMs));
    const report = await load.stop();
    return { scenario: s, report, rolloutSeconds };
  } finally {
    await unwatch();
    await elb.close();
  }
}

/** The sweep's table: one row per combination. */
export function formatSweep(results: readonly ScenarioResult[]): string {
  const header = ['preStop', 'propagation', 'grace', 'requests', 'failed', 'failures', 'rollout'];
  const rows = results.map((r) => [
    `${r.scenario.preStopSeconds}s`,
    `${r.scenario.propagationSeconds}s`,
    `${r.scenario.gracePeriodSeconds ?? 30}s`,
    String(r.report.total),
    String(r.report.failed.length),
    Object.entries(r.report.failureCounts()).map(([k, v]) => `${v}× ${k}`).join(', ') || '-',
    `${r.rolloutSeconds.toFixed(1)}s`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** The sweep as one standalone HTML page: the table, then each run's request-fate lanes (what `--html` writes). */
export function sweepHtml(results: readonly ScenarioResult[]): string {
  const heading = (r: ScenarioResult) =>
    `preStop ${r.scenario.preStopSeconds}s, propagation ${r.scenario.propagationSeconds}s, grace ${r.scenario.gracePeriodSeconds ?? 30}s: ${r.report.failed.length} failed, rollout ${r.rolloutSeconds.toFixed(1)}s`;
  return reportPage(
    'local-elb scenario rollout',
    results.map((r) => ({ heading: heading(r), report: r.report })),
    `<pre>${escapeHtml(formatSweep(results))}</pre>`,
  );
}
