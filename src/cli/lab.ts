/**
 * `local-elb bench algorithms`: reads a scenario (a built-in name or a file), runs the lab and
 * writes what was asked for (the table on stdout, progress on stderr, HTML, SVG, JSON).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { htmlReport, labCharts } from '../lab/charts.ts';
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

