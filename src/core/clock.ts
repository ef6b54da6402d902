/**
 * Time, injected. Every class that waits (health checks, thresholds, draining, slow start)
 * takes a Clock, so the same code runs on the real clock in the proxy and on a virtual clock
 * in unit tests and simulations.
 */
export interface Clock {
  /** Milliseconds since an arbitrary epoch; never goes backwards. */
  now(): number;
  /** Calls `fn` once after `ms`; returns a function that cancels the timer. */
  setTimer(ms: number, fn: () => void): () => void;
}

/** The wall clock: `Date.now()` and `setTimeout`, with timers that do not keep the process alive. */
export const realClock: Clock = {
  now: () => Date.now(),
  setTimer(ms, fn) {
    const handle = setTimeout(fn, Math.max(0, ms));
    handle.unref();
    return () => clearTimeout(handle);
  },
};

interface PendingTimer {
  readonly dueMs: number;
  readonly seq: number;
  readonly fn: () => void;
  cancelled: boolean;
}

/**
 * A virtual clock for tests and simulations. Timers fire in due-time order (ties in the order
 * they were set) only when `advance` or `runAll` moves time; time never goes backwards.
 */
export class VirtualClock implements Clock {
  #nowMs: number;
  #seq = 0;
  #timers: PendingTimer[] = [];

  constructor(startMs = 0) {
    this.#nowMs = startMs;
  }

  now(): number {
    return this.#nowMs;
  }

  setTimer(ms: number, fn: () => void): () => void {
    const timer: PendingTimer = { dueMs: this.#nowMs + Math.max(0, ms), seq: this.#seq++, fn, cancelled: false };
    this.#insert(timer);
    return () => {
      timer.cancelled = true;
    };
  }

  /** How many timers are still waiting to fire. */
  get pendingTimers(): number {
    return this.#timers.filter((t) => !t.cancelled).length;
  }

  /**
   * Moves time forward by `ms`, firing every timer that falls due, in order, with pending
   * promise callbacks flushed after each one (so async work a timer starts can settle).
   */
  async advance(ms: number): Promise<void> {
    if (!(ms >= 0)) throw new RangeError(`VirtualClock.advance: ms must be >= 0: got ${ms}`);
    const targetMs = this.#nowMs + ms;
    await flushPromises();
    for (;;) {
      const next = this.#timers[0];
      if (next === undefined || next.dueMs > targetMs) break;
      this.#timers.shift();
      if (next.cancelled) continue;
      this.#nowMs = next.dueMs;
      next.fn();
      await flushPromises();
    }
    this.#nowMs = targetMs;
  }

  /**
   * Synchronous variant for simulations that have no promises in flight: fires due timers in
   * order without yielding to the microtask queue.
   */
  advanceSync(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`VirtualClock.advanceSync: ms must be >= 0: got ${ms}`);
    const targetMs = this.#nowMs + ms;
    for (;;) {
      const next = this.#timers[0];
      if (next === undefined || next.dueMs > targetMs) break;
      this.#timers.shift();
      if (next.cancelled) continue;
      this.#nowMs = next.dueMs;
      next.fn();
    }
    this.#nowMs = targetMs;
  }

  #insert(timer: PendingTimer): void {
    // Binary search for the first timer due strictly later; equal due times keep set order.
    let lo = 0;
    let hi = this.#timers.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const other = this.#timers[mid]!;
      if (other.dueMs <= timer.dueMs) lo = mid + 1;
      else hi = mid;
    }
    this.#timers.splice(lo, 0, timer);
  }
}

async function flushPromises(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
