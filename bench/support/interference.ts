/**
 * What else the machine did during one measurement, in % of one core: CPU used by processes
 * this bench did not start (other people's jobs on a shared VM, kernel threads), and time the
 * hypervisor stole. A disturbed round shows here. Used by bench/l7.bench.ts and bench/protocols.bench.ts.
 */
import { cpuTimeMs, machineCpuMs } from './processes.ts';

export interface Interference {
  readonly otherPercent: number;
  readonly stealPercent: number;
}

/** Call when a measurement starts; call what it returns when it ends (undefined off Linux). */
export function watchInterference(): () => Interference | undefined {
  const startedMs = performance.now();
  const machineBefore = machineCpuMs();
  const oursBefore = cpuTimeMs(process.pid, { reaped: true });
  return () => {
    const elapsedMs = performance.now() - startedMs;
    const machineAfter = machineCpuMs();
    const oursAfter = cpuTimeMs(process.pid, { reaped: true });
    if (machineBefore === undefined || machineAfter === undefined || oursBefore === undefined || oursAfter === undefined) return undefined;
    const otherMs = machineAfter.busyMs - machineBefore.busyMs - (oursAfter - oursBefore);
    return {
      otherPercent: Math.max(0, (otherMs / elapsedMs) * 100),
      stealPercent: ((machineAfter.stealMs - machineBefore.stealMs) / elapsedMs) * 100,
    };
  };
}

/** The most any of `runs` was disturbed, as `12%` or `12% +3% steal`; `-` when unknown. */
export function worstInterference(runs: readonly (Interference | undefined)[]): string {
  const seen = runs.filter((i): i is Interference => i !== undefined);
  if (seen.length === 0) return '-';
  const other = Math.max(...seen.map((i) => i.otherPercent));
  const steal = Math.max(...seen.map((i) => i.stealPercent));
  return `${other.toFixed(0)}%${steal >= 0.5 ? ` +${steal.toFixed(0)}% steal` : ''}`;
}
