/**
 * What every benchmark prints first: the machine and the runtime, so numbers from different
 * runs are never compared without knowing where they came from.
 */
import os from 'node:os';

export function machineLine(): string {
  const cpus = os.cpus();
  const model = cpus[0]?.model.trim() ?? 'unknown cpu';
  return `machine: ${model}, ${os.availableParallelism()} cores (${os.platform()} ${os.arch()}, ${Math.round(os.totalmem() / 2 ** 30)} GiB), Node ${process.version}`;
}

/** Right-aligns numbers and left-aligns the first column of a plain-text table. */
export function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
