/**
 * `local-elb bench algorithms`: reads a scenario (a built-in name or a file), runs the lab and
 * writes what was asked for (the table on stdout, progress on stderr, HTML, SVG, JSON).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ElbError, ErrorCodes } from '../core/errors.ts';
import { formatLabReport, runLab } from '../lab/lab.ts';
import { readYamlFile } from './config-file.ts';
import { builtinScenarioNames, builtinScenarioUrl, parseScenario, type Scenario } from '../lab/scenario.ts';

/** A built-in scenario by name, or a YAML/JSON file by path; errors name the file, line or field. */
export async function loadScenario(nameOrPath: string): Promise<Scenario> {
  const builtin = (builtinScenarioNames as readonly string[]).includes(nameOrPath);
  const path = builtin ? fileURLToPath(builtinScenarioUrl(nameOrPath)) : nameOrPath;
  const hint = builtin ? '' : `; built-in scenarios: ${builtinScenarioNames.join(', ')}`;
  return parseScenario(await readYamlFile(path, 'the scenario', hint), path);
}

export interface BenchAlgorithmsOptions {
  readonly scenario?: string;
  readonly list?: boolean;
  readonly requests?: number;
  readonly seed?: number;
  readonly rate?: number;
  readonly algorithms?: string[];
  readonly html?: string;
  readonly svgDir?: string;
  readonly json?: string;
  /** Run the scenario on real sockets (processes, local-elb, a load generator) beside the simulator's prediction. */
  readonly real?: boolean;
  /** `--real`: how long clients arrive per run (`10s`, `500ms`, `2m`, or seconds). */
  readonly duration?: string;
  /** `--real`: the user's own running instances instead of model targets. */
  readonly targets?: string[];
  /** `--real`: the algorithms at the same time rather than one after another. */
  readonly together?: boolean;
}

/** `30s`, `500ms`, `2m` or a number of seconds, in ms. */
export function parseDuration(value: string, option = '--duration'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$/.exec(value);
  const ms = m === null ? NaN : Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 'm' ? 60_000 : 1000);
  if (!(ms > 0 && ms <= 3_600_000)) throw new ElbError(ErrorCodes.INVALID_ARGUMENT, `${option} must be a duration above 0 and up to 1 hour, such as 30s, 500ms or 2m: got ${JSON.stringify(value)}`);
  return ms;
}

export async function benchAlgorithms(opts: BenchAlgorithmsOptions, out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<void> {
  if (opts.list || opts.scenario === undefined) {
    const rows = await Promise.all(builtinScenarioNames.map(async (name) => [name, (await loadScenario(name)).description] as const));
    const width = Math.max(...rows.map(([n]) => n.length));
    out.write(`built-in scenarios (copy one from ${fileURLToPath(new URL('.', builtinScenarioUrl('x')))} to edit it):\n`);
    for (const [name, description] of rows) out.write(`  ${name.padEnd(width)}  ${description}\n`);
    if (!opts.list) out.write('\nrun one with: local-elb bench algorithms --scenario NAME_OR_FILE [--requests N] [--seed N]\n');
    return;
  }
  const scenario = await loadScenario(opts.scenario);
  if (opts.real) return benchAlgorithmsReal(scenario, opts, out, err);
  for (const [given, name] of [[opts.duration, '--duration'], [opts.targets, '--targets'], [opts.together, '--together']] as const) {
    if (given !== undefined) throw new ElbError(ErrorCodes.INVALID_ARGUMENT, `${name} applies to a run on real sockets: add --real`);
  }
  const report = runLab(scenario, {
    ...(opts.requests !== undefined ? { requests: opts.requests } : {}),
    ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
    ...(opts.rate !== undefined ? { ratePerSecond: opts.rate } : {}),
    ...(opts.algorithms !== undefined ? { only: opts.algorithms } : {}),
    onRun: ({ variant, result, wallMs }) => {
      if (result === undefined) err.write(`${variant.label} … `);
      else err.write(`${(wallMs! / 1000).toFixed(2)} s\n`);
    },
  });
  const text = formatLabReport(report, { wall: true });
  out.write(`${text}\n`);
  if (opts.html !== undefined || opts.svgDir !== undefined) {
    const { htmlReport, labCharts } = await import('../lab/charts.ts'); // vega: loaded only for charts
    const charts = await labCharts(report);
    if (opts.svgDir !== undefined) {
      await mkdir(opts.svgDir, { recursive: true });
      for (const c of charts) await writeFile(join(opts.svgDir, c.file), c.svg);
      err.write(`wrote ${charts.map((c) => join(opts.svgDir!, c.file)).join(', ')}\n`);
    }
    if (opts.html !== undefined) {
      await writeFile(opts.html, htmlReport(report, formatLabReport(report), charts));
      err.write(`wrote ${opts.html}\n`);
    }
  }
  if (opts.json !== undefined) {
    await writeFile(opts.json, `${JSON.stringify({ scenario: report.scenario, requests: report.requests, seed: report.seed, runs: report.runs }, null, 2)}\n`);
    err.write(`wrote ${opts.json}\n`);
  }
}


/**
 * `bench algorithms --real`: the scenario on real sockets, the simulator's prediction beside
 * it. Ctrl-C (SIGINT) or SIGTERM stops every process the run started and exits 130 / 143.
 */
async function benchAlgorithmsReal(scenario: Scenario, opts: BenchAlgorithmsOptions, out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<void> {
  if (opts.requests !== undefined) throw new ElbError(ErrorCodes.INVALID_ARGUMENT, '--requests is for the simulation; a run on real sockets lasts --duration (default 10s) at the scenario\'s rate');
  const [{ runRealLab, DEFAULT_REAL_DURATION_MS }, { formatRealLabReport, realRunJson }] = await Promise.all([import('../harness/lab-real/run.ts'), import('../harness/lab-real/report.ts')]);
  const controller = new AbortController();
  let signalled: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled !== undefined) return;
    signalled = signal;
    err.write(`\n${signal}: stopping the run's processes\n`);
    controller.abort(new Error(`interrupted by ${signal}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let report;
  try {
    report = await runRealLab(scenario, {
      durationMs: opts.duration === undefined ? DEFAULT_REAL_DURATION_MS : parseDuration(opts.duration),
      ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
      ...(opts.rate !== undefined ? { ratePerSecond: opts.rate } : {}),
      ...(opts.algorithms !== undefined ? { only: opts.algorithms } : {}),
      ...(opts.targets !== undefined ? { targets: opts.targets } : {}),
      together: opts.together === true,
      keepFates: opts.json !== undefined,
      signal: controller.signal,
      onProgress: (line) => err.write(`${line}\n`),
    });
  } catch (e) {
    if (signalled === undefined) throw e;
    process.exitCode = signalled === 'SIGINT' ? 130 : 143;
    return;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  const text = formatRealLabReport(report);
  out.write(`${text}\n`);
  if (opts.html !== undefined || opts.svgDir !== undefined) {
    const { realLabCharts, realLabHtml } = await import('../harness/lab-real/charts.ts'); // vega: loaded only for charts
    const charts = await realLabCharts(report);
    if (opts.svgDir !== undefined) {
      await mkdir(opts.svgDir, { recursive: true });
      for (const c of charts) await writeFile(join(opts.svgDir, c.file), c.svg);
      err.write(`wrote ${charts.map((c) => join(opts.svgDir!, c.file)).join(', ')}\n`);
    }
    if (opts.html !== undefined) {
      await writeFile(opts.html, realLabHtml(report, text, charts));
      err.write(`wrote ${opts.html}\n`);
    }
  }
  if (opts.json !== undefined) {
    const { runs, ...rest } = report;
    await writeFile(opts.json, `${JSON.stringify({ ...rest, runs: runs.map(realRunJson) }, null, 2)}\n`);
    err.write(`wrote ${opts.json}\n`);
  }
}
