/**
 * `local-elb scenario rollout`: roll an app out under load for each preStop × propagation
 * combination and print which lose requests (exit 3 when any did). Loaded only when it runs.
 */
import { writeFile } from 'node:fs/promises';
import { formatSweep, runRolloutScenario, sweepHtml, type ScenarioResult } from '../harness/scenario.ts';
import { cliLogger, type LogFormat } from './log.ts';

export interface ScenarioRolloutOptions {
  readonly app: string;
  readonly replicas: number;
  readonly rps: number;
  readonly prestop: number[];
  readonly propagation: number[];
  readonly grace: number;
  readonly deregistrationLag: number;
  readonly readinessPath: string;
  readonly report?: boolean;
  readonly json?: string;
  readonly html?: string;
  /** Serve the dashboard of each run here while it runs (`--dashboard 127.0.0.1:9090`). */
  readonly dashboard?: { address: string; port: number };
  readonly logLevel: string;
  readonly logFormat: LogFormat;
}

export async function scenarioRollout(opts: ScenarioRolloutOptions): Promise<void> {
  const logger = cliLogger(opts.logLevel === 'info' ? 'warn' : opts.logLevel, opts.logFormat);
  const command = opts.app.split(/\s+/).filter((x) => x !== '');
  const results: ScenarioResult[] = [];
  let stopping = false;
  process.once('SIGINT', () => {
    stopping = true;
    process.stderr.write('SIGINT: finishing the current run, then stopping\n');
  });
  for (const preStopSeconds of opts.prestop) {
    for (const propagationSeconds of opts.propagation) {
      if (stopping) break;
      process.stderr.write(`run: preStop ${preStopSeconds}s, propagation ${propagationSeconds}s …\n`);
      const r = await runRolloutScenario(
        {
          command,
          replicas: opts.replicas,
          rps: opts.rps,
          preStopSeconds,
          propagationSeconds,
          gracePeriodSeconds: opts.grace,
          deregistrationLagSeconds: opts.deregistrationLag,
          readinessPath: opts.readinessPath,
        },
        {
          logger,
          ...(opts.dashboard !== undefined
            ? {
                watch: async (elb) => {
                  const { startAdminServer } = await import('../admin/server.ts');
                  const admin = await startAdminServer(elb, { ...opts.dashboard!, logger });
                  process.stderr.write(`dashboard on ${admin.dashboardUrl} (this run; it reconnects to the next)\n`);
                  return () => admin.close();
                },
              }
            : {}),
        },
      );
      results.push(r);
      if (opts.report) process.stdout.write(`\n${r.report.format()}\n\n`);
    }
  }
  process.stdout.write(`${formatSweep(results)}\n`);
  if (opts.json) {
    await writeFile(opts.json, JSON.stringify(results.map((r) => ({ scenario: r.scenario, rolloutSeconds: r.rolloutSeconds, report: r.report })), null, 2));
  }
  if (opts.html) {
    await writeFile(opts.html, sweepHtml(results));
    process.stderr.write(`wrote ${opts.html}\n`);
  }
  process.exitCode = results.some((r) => r.report.failed.length > 0) ? 3 : 0;
}
