/**
 * Charts of a real lab run: measured and predicted latency on one chart, per algorithm (a
 * colour each), measured solid and predicted dashed. Vega-Lite rendered to SVG in Node, as the
 * simulation's charts are.
 */
import type { TopLevelSpec } from 'vega-lite';
import { base, htmlPage, render, type Chart } from '../../lab/charts.ts';
import type { RealLabReport } from './run.ts';

const SOURCES = ['measured', 'predicted'];

export async function realLabCharts(report: RealLabReport): Promise<Chart[]> {
  const labels = report.runs.map((r) => r.label);
  const points = report.runs.flatMap((r) =>
    (['measured', 'predicted'] as const).flatMap((source) =>
      (source === 'measured' ? r.measured.cdf : r.predicted.cdf).filter((p) => p.latencyMs > 0).map((p) => ({ algorithm: r.label, source, latencyMs: p.latencyMs, fraction: p.fraction })),
    ),
  );
  const encoding = {
    color: { field: 'algorithm', type: 'nominal', title: 'algorithm', sort: labels },
    strokeDash: { field: 'source', type: 'nominal', title: 'latency', sort: SOURCES, scale: { domain: SOURCES, range: [[1, 0], [5, 3]] } },
  } as const;
  const cdf: TopLevelSpec = {
    ...base(`${report.scenario.name} on real sockets: measured and predicted latency CDF`),
    width: 640,
    height: 320,
    data: { values: points },
    mark: { type: 'line', interpolate: 'step-after', strokeWidth: 1.5 },
    encoding: {
      x: { field: 'latencyMs', type: 'quantitative', scale: { type: 'log' }, title: 'latency (ms, log scale)' },
      y: { field: 'fraction', type: 'quantitative', title: 'fraction of requests', scale: { domain: [0, 1] } },
      ...encoding,
    },
  };
  const tail: TopLevelSpec = {
    ...base(`${report.scenario.name} on real sockets: measured and predicted latency by percentile`),
    width: 640,
    height: 320,
    data: { values: points.filter((p) => p.fraction >= 0.5 && p.fraction < 1).map((p) => ({ ...p, nines: 1 / (1 - p.fraction) })) },
    mark: { type: 'line', strokeWidth: 1.5 },
    encoding: {
      x: {
        field: 'nines',
        type: 'quantitative',
        scale: { type: 'log', nice: false },
        title: 'percentile',
        axis: { values: [2, 10, 100, 1000, 10000], labelExpr: "datum.value == 2 ? 'p50' : datum.value == 10 ? 'p90' : datum.value == 100 ? 'p99' : datum.value == 1000 ? 'p99.9' : 'p99.99'" },
      },
      y: { field: 'latencyMs', type: 'quantitative', scale: { type: 'log' }, title: 'latency (ms, log scale)' },
      ...encoding,
    },
  };
  return [
    { file: 'real-latency-cdf.svg', title: 'Latency CDF: measured (solid) and predicted (dashed)', svg: await render(cdf) },
    { file: 'real-latency-tail.svg', title: 'Latency by percentile: measured (solid) and predicted (dashed)', svg: await render(tail) },
  ];
}

export function realLabHtml(report: RealLabReport, text: string, charts: readonly Chart[]): string {
  return htmlPage(`local-elb routing-algorithm lab on real sockets: ${report.scenario.name}`, text, charts);
}
