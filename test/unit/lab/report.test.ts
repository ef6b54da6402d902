import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { benchAlgorithms, loadScenario } from '../../../src/cli/lab.ts';
import { htmlReport, labCharts } from '../../../src/lab/charts.ts';
import { formatLabReport, runLab, textTable } from '../../../src/lab/lab.ts';

function sink(): { stream: Writable; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      text += chunk.toString();
      done();
    },
  });
  return { stream, text: () => text };
}

describe('formatLabReport', () => {
  it('prints the run, a row per algorithm with p50/p90/p99/p99.9, errors, imbalance and the busiest target, then each target\'s share with its peak in flight', async () => {
    const report = runLab(await loadScenario('fast-failing'), { requests: 5_000, only: ['round_robin', 'least_outstanding_requests'] });
    const text = formatLabReport(report);
    const lines = text.split('\n');
    expect(lines[0]).toBe('scenario fast-failing: Ten targets; t0 fails every request in 0.5 ms but passes its health checks. 60% load.');
    expect(lines[1]).toMatch(/^5,000 requests at 2,400\/s, seed 42, \d+ s simulated$/);
    expect(lines[3]).toMatch(/^algorithm\s+p50 ms\s+p90 ms\s+p99 ms\s+p99\.9 ms\s+errors\s+imbalance\s+busiest target$/);
    expect(lines[4]).toMatch(/^round_robin\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+500 \(10\.00%\)\s+1\.00\s+t\d 10\.0%$/);
    expect(lines[5]).toMatch(/^least_outstanding_requests .* t0 \d\d\.\d%$/);
    expect(text).toContain('share of requests per target (peak requests in flight)');
    expect(text).toMatch(/\nt0\s+10\.0% \(\d+\)\s+\d\d\.\d% \(\d+\)\n/);
    expect(text).toMatch(/\nerrors\n  round_robin: 500 target 5XX\n  least_outstanding_requests: [\d,]+ target 5XX$/);
  });

  it('aligns a text table: the first column left, the others right', () => {
    expect(textTable(['a', 'bb'], [['xyz', '1'], ['q', '22']])).toBe('a    bb\nxyz   1\nq    22');
  });
});

describe('charts and the HTML report', () => {
  it('draws the latency CDF, the tail, and per-target load and requests in flight over time as SVG, and puts them in one HTML page', async () => {
    const report = runLab(await loadScenario('slow-target'), { requests: 3_000, only: ['round_robin', 'least_outstanding_requests'] });
    const charts = await labCharts(report);
    expect(charts.map((c) => c.file)).toEqual(['latency-cdf.svg', 'latency-tail.svg', 'load-over-time.svg', 'in-flight-over-time.svg']);
    for (const c of charts) {
      expect(c.svg).toMatch(/^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
      expect(c.svg).toContain('least_outstanding_requests');
    }
    expect(charts[2]!.svg).toContain('t0');
    const html = htmlReport(report, formatLabReport(report), charts);
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<title>local-elb routing-algorithm lab: slow-target</title>');
    expect(html.match(/<svg /g)).toHaveLength(4);
    expect(html).toContain('share of requests per target');
  });
});

describe('local-elb bench algorithms', () => {
  it('prints the table, progress on stderr, and writes the HTML, SVG and JSON it is asked for', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lab-cli-'));
    const out = sink();
    const err = sink();
    await benchAlgorithms(
      { scenario: 'homogeneous', requests: 2_000, seed: 9, algorithms: ['round_robin', 'random'], html: join(dir, 'report.html'), svgDir: join(dir, 'svg'), json: join(dir, 'runs.json') },
      out.stream,
      err.stream,
    );
    expect(out.text()).toMatch(/^scenario homogeneous: .*\n2,000 requests at 2,400\/s, seed 9,/);
    expect(out.text()).toMatch(/\nround_robin .*\nrandom /);
    expect(err.text()).toMatch(/^round_robin … \d+\.\d\d s\nrandom … \d+\.\d\d s\n/);
    expect((await readdir(join(dir, 'svg'))).sort()).toEqual(['in-flight-over-time.svg', 'latency-cdf.svg', 'latency-tail.svg', 'load-over-time.svg']);
    expect(await readFile(join(dir, 'report.html'), 'utf8')).toContain('<svg ');
    const json = JSON.parse(await readFile(join(dir, 'runs.json'), 'utf8')) as { seed: number; runs: { result: { label: string; requests: number } }[] };
    expect(json.seed).toBe(9);
    expect(json.runs.map((r) => [r.result.label, r.result.requests])).toEqual([
      ['round_robin', 2000],
      ['random', 2000],
    ]);
  });

  it('runs a scenario from a file path and lists the built-in ones', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lab-cli-'));
    const file = join(dir, 'mine.yaml');
    await writeFile(file, 'name: mine\nclients: { ratePerSecond: 100 }\ntargets: { count: 2, service: { distribution: constant, meanMs: 5 } }\nalgorithms: [round_robin]\n');
    const out = sink();
    await benchAlgorithms({ scenario: file, requests: 100 }, out.stream, sink().stream);
    expect(out.text()).toMatch(/^scenario mine\n100 requests at 100\/s/);
    const list = sink();
    await benchAlgorithms({ list: true }, list.stream, sink().stream);
    expect(list.text()).toMatch(/^built-in scenarios \(copy one from .*src\/lab\/scenarios\/ to edit it\):\n {2}homogeneous +Ten identical/);
    expect(list.text()).toContain('  double-hop ');
  });
});
