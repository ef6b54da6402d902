/**
 * Runs a scenario's algorithms one after another on the same workload (the same seed, so the
 * same arrivals and service-time draws) and formats the comparison as text tables.
 */
import { ElbError, ErrorCodes } from '../core/errors.ts';
import type { Scenario, Variant } from './scenario.ts';
import { errorKinds, runSimulation, type ErrorKind, type RunResult } from './simulator.ts';

export interface LabOptions {
  /** Overrides the scenario's `requests`. */
  readonly requests?: number;
  /** Overrides the scenario's `seed`. */
  readonly seed?: number;
  /** Overrides the scenario's `clients.ratePerSecond`. */
  readonly ratePerSecond?: number;
  /** Only these runs: labels or algorithm names from the scenario. */
  readonly only?: readonly string[];
  /** Told before each run starts and after it ends (the CLI prints progress on stderr). */
  readonly onRun?: (event: { readonly variant: Variant; readonly result?: RunResult; readonly wallMs?: number }) => void;
}

export interface LabRun {
  readonly result: RunResult;
  /** Wall-clock time of the run on this machine (not part of the deterministic result). */
  readonly wallMs: number;
}

export interface LabReport {
  readonly scenario: Scenario;
  readonly requests: number;
  readonly seed: number;
  readonly runs: readonly LabRun[];
}

/**
 * Picks the runs `only` names: a run's label selects that run; a name that is no run's label
 * but an algorithm's selects every run of that algorithm. Throws on a name the scenario lacks.
 */
export function selectVariants(scenario: Scenario, only?: readonly string[]): Variant[] {
  if (only === undefined || only.length === 0) return [...scenario.variants];
  const matches = (name: string, v: Variant) => v.label === name || (v.algorithm === name && !scenario.variants.some((w) => w.label === name));
  const unknown = only.filter((name) => !scenario.variants.some((v) => matches(name, v)));
  if (unknown.length > 0) {
    throw new ElbError(
      ErrorCodes.INVALID_ARGUMENT,
      `scenario ${scenario.name} has no run named ${unknown.map((u) => JSON.stringify(u)).join(', ')}; its runs: ${scenario.variants.map((v) => v.label).join(', ')}`,
    );
  }
  return scenario.variants.filter((v) => only.some((name) => matches(name, v)));
}

export function runLab(input: Scenario, options: LabOptions = {}): LabReport {
  const scenario: Scenario = options.ratePerSecond === undefined ? input : { ...input, clients: { ...input.clients, ratePerSecond: options.ratePerSecond } };
  const requests = options.requests ?? scenario.requests;
  const seed = options.seed ?? scenario.seed;
  const runs: LabRun[] = [];
  for (const variant of selectVariants(scenario, options.only)) {
    options.onRun?.({ variant });
    const started = performance.now();
    const result = runSimulation(scenario, variant, { requests, seed });
    const wallMs = performance.now() - started;
    options.onRun?.({ variant, result, wallMs });
    runs.push({ result, wallMs });
  }
  return { scenario, requests, seed, runs };
}

const statusOf: Record<ErrorKind, string> = {
  target_5xx: 'target 5XX',
  refused: '502 refused',
  reset: '502 reset',
  cut: '502 deregistration delay',
  timeout: '504 idle timeout',
  no_target: '503 no target',
  dropped: '504 dropped by kube-proxy',
};

/** A plain-text table: the first column left-aligned, the rest right-aligned. */
export function textTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

const ms = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const count = (n: number) => n.toLocaleString('en-US');

/**
 * The report as text: what ran, then per algorithm the latency percentiles (every request,
 * errors included, as clients saw them), errors, imbalance and the busiest target; then each
 * target's share of the requests with its peak in flight; then what the errors were.
 */
export function formatLabReport(report: LabReport, options: { readonly wall?: boolean } = {}): string {
  const { scenario, runs } = report;
  const out: string[] = [];
  const simulated = Math.max(0, ...runs.map((r) => r.result.simulatedSeconds));
  out.push(`scenario ${scenario.name}${scenario.description ? `: ${scenario.description}` : ''}`);
  out.push(
    `${count(report.requests)} requests at ${count(scenario.clients.ratePerSecond)}/s${scenario.clients.connections ? ` over ${scenario.clients.connections} long-lived connections` : ''}, ` +
      `seed ${report.seed}, ${simulated.toFixed(0)} s simulated`,
  );
  out.push('');
  const header = ['algorithm', 'p50 ms', 'p90 ms', 'p99 ms', 'p99.9 ms', 'errors', 'imbalance', 'busiest target', ...(options.wall ? ['wall s'] : [])];
  out.push(
    textTable(
      header,
      runs.map(({ result: r, wallMs }) => {
        const busiest = r.targets.reduce((a, b) => (b.share > a.share ? b : a), r.targets[0]!);
        return [
          r.label,
          ms(r.latencyMs.p50),
          ms(r.latencyMs.p90),
          ms(r.latencyMs.p99),
          ms(r.latencyMs.p999),
          `${count(r.errors)} (${((100 * r.errors) / r.requests).toFixed(2)}%)`,
          r.imbalance.toFixed(2),
          `${busiest.name} ${(100 * busiest.share).toFixed(1)}%`,
          ...(options.wall ? [(wallMs / 1000).toFixed(2)] : []),
        ];
      }),
    ),
  );
  out.push('');
  out.push('share of requests per target (peak requests in flight)');
  const names = runs[0]?.result.targets.map((t) => t.name) ?? [];
  out.push(
    textTable(
      ['target', ...runs.map((r) => r.result.label)],
      names.map((name, i) => [name, ...runs.map(({ result }) => `${(100 * result.targets[i]!.share).toFixed(1)}% (${result.targets[i]!.peakInFlight})`)]),
    ),
  );
  const withErrors = runs.filter((r) => r.result.errors > 0);
  if (withErrors.length > 0) {
    out.push('');
    out.push('errors');
    for (const { result } of withErrors) {
      const kinds = errorKinds.filter((k) => result.errorsByKind[k] > 0).map((k) => `${count(result.errorsByKind[k])} ${statusOf[k]}`);
      out.push(`  ${result.label}: ${kinds.join(', ')}`);
    }
  }
  return out.join('\n');
}
