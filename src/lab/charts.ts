/**
 * The lab's charts, drawn with Vega-Lite and rendered to SVG in Node (no browser, no canvas):
 * latency CDFs, the latency tail on a "nines" scale, and per-target load and requests in
 * flight over time, one panel per algorithm. `htmlReport` puts the table and the charts in one
 * self-contained page.
 */
import { parse as parseVega, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { LabReport } from './lab.ts';
import { webAsset } from '../web/assets.ts';

export interface Chart {
  /** File name for --svg-dir. */
  readonly file: string;
  readonly title: string;
  readonly svg: string;
}

const FONT = 'Helvetica, Arial, sans-serif';
/** More targets than this: their lines carry no legend entry each. */
const LEGEND_LIMIT = 20;

/** Renders a Vega-Lite spec to SVG in Node. */
export async function render(spec: TopLevelSpec): Promise<string> {
  const view = new View(parseVega(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** What every lab chart shares: the schema, a title, the fonts. */
export const base = (title: string) =>
  ({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    config: { font: FONT, view: { stroke: '#ddd' }, axis: { labelFontSize: 11, titleFontSize: 12 }, legend: { labelFontSize: 11, labelLimit: 400 } },
  }) as const;

/** Every chart of a report, in the order the HTML page shows them. */
export async function labCharts(report: LabReport): Promise<Chart[]> {
  const runs = report.runs.map((r) => r.result);
  const algorithmColor = { field: 'algorithm', type: 'nominal', title: 'algorithm', sort: runs.map((r) => r.label) } as const;

  const cdf = runs.flatMap((r) => r.cdf.filter((p) => p.latencyMs > 0).map((p) => ({ algorithm: r.label, latencyMs: p.latencyMs, fraction: p.fraction })));
  const cdfSpec: TopLevelSpec = {
    ...base(`${report.scenario.name}: latency CDF (every request, errors included)`),
    width: 640,
    height: 320,
    data: { values: cdf },
    mark: { type: 'line', interpolate: 'step-after', strokeWidth: 1.5 },
    encoding: {
      x: { field: 'latencyMs', type: 'quantitative', scale: { type: 'log' }, title: 'latency (ms, log scale)' },
      y: { field: 'fraction', type: 'quantitative', title: 'fraction of requests', scale: { domain: [0, 1] } },
      color: algorithmColor,
    },
  };

  const tail = runs.flatMap((r) =>
    r.cdf.filter((p) => p.fraction >= 0.5 && p.fraction < 1 && p.latencyMs > 0).map((p) => ({ algorithm: r.label, latencyMs: p.latencyMs, nines: 1 / (1 - p.fraction) })),
  );
  const tailSpec: TopLevelSpec = {
    ...base(`${report.scenario.name}: latency by percentile (the tail)`),
    width: 640,
    height: 320,
    data: { values: tail },
    mark: { type: 'line', strokeWidth: 1.5 },
    encoding: {
      x: {
        field: 'nines',
        type: 'quantitative',
        scale: { type: 'log', nice: false },
        title: 'percentile',
        axis: { values: [2, 10, 100, 1000, 10000, 100000], labelExpr: "datum.value == 2 ? 'p50' : datum.value == 10 ? 'p90' : datum.value == 100 ? 'p99' : datum.value == 1000 ? 'p99.9' : datum.value == 10000 ? 'p99.99' : 'p99.999'" },
      },
      y: { field: 'latencyMs', type: 'quantitative', scale: { type: 'log' }, title: 'latency (ms, log scale)' },
      color: algorithmColor,
    },
  };

  const manyTargets = (runs[0]?.targets.length ?? 0) > LEGEND_LIMIT;
  const over = (pick: (r: (typeof runs)[number]) => readonly (readonly number[])[], perSecond: boolean) =>
    runs.flatMap((r) => {
      const bucketSeconds = r.timeline.bucketMs / 1000;
      // The last bucket is cut short by the end of the run: leave it out rather than show a fall.
      const whole = Math.floor(r.simulatedSeconds / bucketSeconds);
      return pick(r).flatMap((series, t) =>
        series
          .slice(0, whole)
          .map((v, b) => ({ algorithm: r.label, target: r.targets[t]!.name, seconds: Math.round(b * bucketSeconds * 1000) / 1000, value: perSecond ? v / bucketSeconds : v })),
      );
    });
  const panel = (title: string, values: unknown[], yTitle: string): TopLevelSpec => ({
    ...base(title),
    data: { values },
    facet: { row: { field: 'algorithm', type: 'nominal', title: null, sort: runs.map((r) => r.label), header: { labelAngle: 0, labelOrient: 'top', labelAnchor: 'start', labelFontSize: 12, labelFontWeight: 'bold' } } },
    spec: {
      width: 640,
      height: 110,
      mark: { type: 'line', strokeWidth: 1, interpolate: 'step-after' },
      encoding: {
        x: { field: 'seconds', type: 'quantitative', title: 'simulated time (s)' },
        y: { field: 'value', type: 'quantitative', title: yTitle },
        color: { field: 'target', type: 'nominal', title: 'target', sort: runs[0]?.targets.map((t) => t.name) ?? [], ...(manyTargets ? { legend: null } : {}) },
      },
    },
    resolve: { scale: { y: 'independent' } },
  });

  return [
    { file: 'latency-cdf.svg', title: 'Latency CDF', svg: await render(cdfSpec) },
    { file: 'latency-tail.svg', title: 'Latency by percentile', svg: await render(tailSpec) },
    { file: 'load-over-time.svg', title: 'Requests per second to each target', svg: await render(panel(`${report.scenario.name}: requests/s routed to each target`, over((r) => r.timeline.routed, true), 'requests/s')) },
    { file: 'in-flight-over-time.svg', title: 'Requests in flight at each target', svg: await render(panel(`${report.scenario.name}: peak requests in flight at each target`, over((r) => r.timeline.inFlight, false), 'in flight')) },
  ];
}

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** One self-contained HTML page: the text report and every chart inline. */
export function htmlReport(report: LabReport, text: string, charts: readonly Chart[]): string {
  return htmlPage(`local-elb routing-algorithm lab: ${report.scenario.name}`, text, charts);
}

/** A self-contained HTML page with a title, a text report and charts inline. */
export function htmlPage(title: string, text: string, charts: readonly Chart[]): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)}</title>
<style>
${webAsset('look.css')}
body { margin: 2rem; max-width: 1100px; }
</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<pre>${escapeHtml(text)}</pre>
${charts.map((c) => `<figure>\n<figcaption>${escapeHtml(c.title)}</figcaption>\n${c.svg}\n</figure>`).join('\n')}
</body>
</html>
`;
}
