/**
 * Runs active health checks on a fixed cadence (spec 2.4: "the time that it takes for the
 * target to respond does not affect the interval for the next health check request"). It
 * never talks to a picker: it reports each result, and the target group sets target health.
 */
import type { Clock } from '../core/clock.ts';
import type { ProbeResult } from './health.ts';

/** The address a probe connects to: the target's id and its health-check port. */
export interface ProbeTarget {
  readonly id: string;
  readonly port: number;
}

/**
 * Performs one check. Called by the HealthChecker once per interval per target; it must
 * settle when `signal` aborts (the timeout) and must never throw. A probe may also answer at
 * once with a plain result (a scripted probe in a simulation): it then applies synchronously,
 * so a simulation on `VirtualClock.advanceSync` sees it at the check's own time.
 */
export type Probe = (target: ProbeTarget, signal: AbortSignal) => Promise<ProbeResult> | ProbeResult;

export interface HealthCheckerOptions {
  readonly clock: Clock;
  readonly probe: Probe;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** Receives each result; never called after `unwatch` for that key. */
  readonly onResult: (key: string, result: ProbeResult) => void;
}

interface Watched {
  readonly target: ProbeTarget;
  cancelTick: () => void;
  inFlight: Set<() => void>;
}

export class HealthChecker {
  readonly #options: HealthCheckerOptions;
  readonly #watched = new Map<string, Watched>();

  constructor(options: HealthCheckerOptions) {
    this.#options = options;
  }

  /** Starts checking `target` now (or after `initialDelayMs`), then every interval, until `unwatch(key)`. */
  watch(key: string, target: ProbeTarget, options: { readonly initialDelayMs?: number } = {}): void {
    this.unwatch(key);
    const entry: Watched = { target, cancelTick: () => {}, inFlight: new Set() };
    this.#watched.set(key, entry);
    const tick = () => {
      if (this.#watched.get(key) !== entry) return;
      entry.cancelTick = this.#options.clock.setTimer(this.#options.intervalMs, tick);
      this.#check(key, entry);
    };
    const delayMs = options.initialDelayMs ?? 0;
    if (delayMs > 0) entry.cancelTick = this.#options.clock.setTimer(delayMs, tick);
    else tick();
  }

  unwatch(key: string): void {
    const entry = this.#watched.get(key);
    if (entry === undefined) return;
    this.#watched.delete(key);
    entry.cancelTick();
    for (const abort of entry.inFlight) abort();
  }

  close(): void {
    for (const key of [...this.#watched.keys()]) this.unwatch(key);
  }

  #check(key: string, entry: Watched): void {
    const { clock, probe, timeoutMs, onResult } = this.#options;
    const controller = new AbortController();
    let settled = false;
    const finish = (result: ProbeResult | undefined) => {
      if (settled) return;
      settled = true;
      cancelTimeout();
      entry.inFlight.delete(abort);
      if (!controller.signal.aborted) controller.abort();
      if (result !== undefined && this.#watched.get(key) === entry) onResult(key, result);
    };
    const abort = () => finish(undefined);
    entry.inFlight.add(abort);
    const cancelTimeout = clock.setTimer(timeoutMs, () => finish({ ok: false, failure: 'timeout' }));
    const answer = probe(entry.target, controller.signal);
    if (typeof (answer as Partial<PromiseLike<ProbeResult>>).then !== 'function') return finish(answer as ProbeResult);
    Promise.resolve(answer).then(
      (result) => finish(result),
      (err: unknown) => finish({ ok: false, failure: 'internal', detail: String(err) }),
    );
  }
}
