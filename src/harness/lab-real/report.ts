/**
 * A real lab run as text: the simulation's table with the measured figure, the simulator's
 * prediction and their ratio side by side for each, then each target's share both ways, the
 * errors, and what the run cost (the load generator's schedule, CPU shares, the machine).
 */
import { errorKinds, type ErrorKind } from '../../lab/simulator.ts';
import { LATE_SEND_MS, type RealLabReport, type RealRun } from './run.ts';

const ms = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const count = (n: number) => n.toLocaleString('en-US');
const percent = (share: number) => `${(100 * share).toFixed(1)}%`;
/** measured / predicted; `-` when the prediction is 0. */
const ratio = (measured: number, predicted: number) => (predicted === 0 ? '-' : (measured / predicted).toFixed(2));

/** The simulator's error kinds as the real run names them. */
const predictedKind: Record<ErrorKind, string> = {
  target_5xx: 'target 5XX',
  refused: '502 refused',
  reset: '502 reset',
  cut: '502 deregistration delay',
  timeout: '504 idle timeout',
  no_target: '503 no target',
  dropped: '504 dropped by kube-proxy',
};

interface Group {
  readonly title: string;
  readonly columns: readonly string[];
}

/**
 * A table whose header has two rows: group titles over their columns, then the column names.
 * The first column is left-aligned, the rest right-aligned; groups are set apart by three spaces.
 */
export function groupedTable(first: string, groups: readonly Group[], rows: readonly (readonly string[])[]): string {
  const names = [first, ...groups.flatMap((g) => g.columns)];
  const widths = names.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const starts: number[] = [];
  let at = 1;
  for (const g of groups) {
    starts.push(at);
    at += g.columns.length;
  }
  const span = (g: number) => groups[g]!.columns.reduce((sum, _, j) => sum + widths[starts[g]! + j]!, 2 * (groups[g]!.columns.length - 1));
  // A title longer than its columns widens the group's last column.
  groups.forEach((g, i) => {
    const extra = g.title.length - span(i);
    if (extra > 0) widths[starts[i]! + g.columns.length - 1]! += extra;
  });
  const groupStart = new Set(starts);
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[0]!) : `${groupStart.has(i) ? '   ' : '  '}${c.padStart(widths[i]!)}`)).join('').trimEnd();
  const titles = [''.padEnd(widths[0]!), ...groups.map((g, i) => `   ${g.title.padEnd(span(i))}`)].join('').trimEnd();
  return [titles, line(names), ...rows.map(line)].join('\n');
}

function busiest(targets: readonly { readonly name: string; readonly share: number }[]): string {
  const b = targets.reduce((a, t) => (t.share > a.share ? t : a), targets[0] ?? { name: '-', share: 0 });
  return `${b.name} ${percent(b.share)}`;
}

export function formatRealLabReport(report: RealLabReport): string {
  const { scenario, runs, machine } = report;
  const out: string[] = [];
  out.push(`scenario ${scenario.name}${scenario.description ? `: ${scenario.description}` : ''}`);
  const targetsWhat =
    report.targets === 'yours'
      ? `your targets (${report.targetUrls.join(', ')})`
      : `${scenario.targets.count} model target processes${scenario.kubernetes ? ` behind ${scenario.kubernetes.podsPerNode.length} kube-proxy stand-ins` : ''}`;
  out.push(
    `on real sockets: ${count(report.requests)} requests at ${count(report.ratePerSecond)}/s over ${(report.durationMs / 1000).toFixed(1)} s per run, seed ${report.seed}; ` +
      `${targetsWhat}, local-elb and an open-loop load generator, each in processes of their own${report.together ? '; the runs at the same time' : ''}`,
  );
  out.push(
    `machine: ${machine.cpus} CPUs (${machine.cpuModel}), Node ${machine.node}, load average ${machine.loadAverageBefore.toFixed(2)} before and ${machine.loadAverageAfter.toFixed(2)} after: ` +
      'a shared machine, so other work on it moves these figures from run to run',
  );
  if (machine.loadAverageBefore > machine.cpus || machine.loadAverageAfter > machine.cpus) {
    out.push(
      `the machine was busy (more runnable processes than CPUs): every process here waited for a CPU, so expect measured figures above the prediction, the tail most`,
    );
  }
  out.push(
    `real: measured here (every request, errors included, from when it was due); sim: the simulator's prediction for the same requests${report.targets === 'yours' ? ' to the scenario’s model targets' : ''}; ×: real / sim`,
  );
  out.push('');
  const trio = ['real', 'sim', '×'];
  const groups: Group[] = [
    { title: 'p50 ms', columns: trio },
    { title: 'p90 ms', columns: trio },
    { title: 'p99 ms', columns: trio },
    { title: 'p99.9 ms', columns: trio },
    { title: 'errors', columns: trio },
    { title: 'imbalance', columns: trio },
    { title: 'busiest target', columns: ['real', 'sim'] },
  ];
  const rows = runs.map((r) => {
    const m = r.measured;
    const p = r.predicted;
    const latency = (['p50', 'p90', 'p99', 'p999'] as const).flatMap((k) => [ms(m.latencyMs[k]), ms(p.latencyMs[k]), ratio(m.latencyMs[k], p.latencyMs[k])]);
    return [
      r.label,
      ...latency,
      count(m.errors),
      count(p.errors),
      ratio(m.errors, p.errors),
      m.imbalance.toFixed(2),
      p.imbalance.toFixed(2),
      ratio(m.imbalance, p.imbalance),
      busiest(m.targets),
      busiest(p.targets),
    ];
  });
  out.push(groupedTable('algorithm', groups, rows));

  out.push('');
  out.push('share of requests per target (real / sim)');
  const names = runs[0]?.measured.targets.map((t) => t.name) ?? [];
  const shareRows = names.map((name, i) => [name, ...runs.map((r) => `${percent(r.measured.targets[i]!.share)} / ${percent(r.predicted.targets[i]?.share ?? 0)}`)]);
  out.push(groupedTable('target', runs.map((r) => ({ title: '', columns: [r.label] })), shareRows).split('\n').slice(1).join('\n'));

  out.push('');
  out.push('every request accounted for');
  for (const r of runs) {
    const m = r.measured;
    const kinds = Object.entries(m.errorsBy)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${count(v)} ${k}`);
    const predictedKinds = errorKinds.filter((k) => r.predicted.errorsByKind[k] > 0).map((k) => `${count(r.predicted.errorsByKind[k])} ${predictedKind[k]}`);
    out.push(
      `  ${r.label}: ${count(m.requests)} sent, ${count(m.ok)} ok, ${count(m.errors)} failed${kinds.length ? ` (${kinds.join(', ')})` : ''}` +
        `${m.unrouted > 0 ? `, ${count(m.unrouted)} reached no target` : ''}; predicted ${count(r.predicted.errors)} failed${predictedKinds.length ? ` (${predictedKinds.join(', ')})` : ''}`,
    );
  }

  out.push('');
  out.push('what the run cost (CPU as a share of one core over the run)');
  out.push(
    groupedTable(
      'algorithm',
      [
        { title: 'requests/s', columns: ['offered', 'answered'] },
        { title: 'connections', columns: ['peak'] },
        { title: 'send lag ms', columns: ['p50', 'p99', 'max', `>${LATE_SEND_MS} ms`] },
        { title: 'CPU', columns: ['generator', 'local-elb', 'targets'] },
        { title: '', columns: ['wall s'] },
      ],
      runs.map((r) => [
        r.label,
        r.generator.offeredPerSecond.toFixed(1),
        r.generator.answeredPerSecond.toFixed(1),
        count(r.generator.peakConnections),
        ms(r.generator.sendLagMs.p50),
        ms(r.generator.sendLagMs.p99),
        ms(r.generator.sendLagMs.max),
        count(r.generator.lateSends),
        percent(r.generator.cpuShare),
        percent(r.proxyCpuShare),
        r.targetsCpuShare === undefined ? '-' : percent(r.targetsCpuShare),
        (r.wallMs / 1000).toFixed(1),
      ]),
    ),
  );
  const behind = runs.filter((r) => r.generator.lateSends > 0);
  for (const r of behind) {
    out.push(
      `the load generator fell behind its schedule in ${r.label}: ${count(r.generator.lateSends)} of ${count(r.measured.requests)} requests went out more than ${LATE_SEND_MS} ms late ` +
        `(the latest by ${ms(r.generator.sendLagMs.max)} ms${r.generator.waitedForConnection > 0 ? `; ${count(r.generator.waitedForConnection)} waited for one of its ${count(r.generator.peakConnections)} connections` : ''}); their latency counts from when they were due`,
    );
  }
  if (behind.length === 0) out.push(`the load generator kept its schedule: no request went out more than ${LATE_SEND_MS} ms late`);
  out.push(
    'what the simulator leaves out and this measures: loopback and proxy latency, timer resolution (about 1 ms in the targets and the generator), the OS scheduling every process on these CPUs',
  );
  return out.join('\n');
}

/** One run's measured and predicted summary, for JSON. */
export function realRunJson(run: RealRun) {
  const { predicted, ...rest } = run;
  const { timeline: _timeline, ...prediction } = predicted;
  return { ...rest, predicted: prediction };
}
