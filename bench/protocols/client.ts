/**
 * What the protocols bench's Node load clients (ws-client.ts, grpc-client.ts) share: the
 * warm-up-then-count window, round-trip percentiles, and how the result reaches the parent.
 */

export interface ClientResult {
  /** Echoes or calls completed inside the counted window. */
  readonly operations: number;
  readonly seconds: number;
  readonly errors: number;
  readonly p50Ms?: number;
  readonly p99Ms?: number;
}

/** Round trips in ms, kept whole: a few hundred thousand numbers for a few seconds' run. */
export class LatencyRecorder {
  readonly #ms: number[] = [];

  get count(): number {
    return this.#ms.length;
  }

  record(ms: number): void {
    this.#ms.push(ms);
  }

  percentiles(): { p50Ms?: number; p99Ms?: number } {
    if (this.#ms.length === 0) return {};
    const sorted = Float64Array.from(this.#ms).sort();
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
    return { p50Ms: at(0.5), p99Ms: at(0.99) };
  }
}

/**
 * `warmupSeconds` unrecorded, then `durationSeconds` counted, the window's ends taken when its
 * timers fire. Tells the parent over IPC when counting starts (it reads the proxy's CPU time
 * then); `done` resolves when counting ends.
 */
export function measuringWindow(warmupSeconds: number, durationSeconds: number) {
  let startedMs: number | undefined;
  let endedMs: number | undefined;
  const done = new Promise<void>((resolve) => {
    setTimeout(() => {
      startedMs = performance.now();
      process.send?.({ type: 'measuring' });
      setTimeout(() => {
        endedMs = performance.now();
        resolve();
      }, durationSeconds * 1000);
    }, warmupSeconds * 1000);
  });
  return {
    done,
    /** Whether an operation ending now falls in the counted window. */
    counting: () => startedMs !== undefined && endedMs === undefined,
    seconds: () => ((endedMs ?? performance.now()) - (startedMs ?? 0)) / 1000,
  };
}

/** Sends the result to the parent (or prints it when run by hand) and exits. */
export async function finish(result: ClientResult): Promise<never> {
  if (process.send === undefined) console.log(JSON.stringify(result));
  else await new Promise<void>((resolve) => process.send!({ type: 'result', ...result }, () => resolve()));
  process.exit(0);
}
