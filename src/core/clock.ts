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

/**
 * The real clock: epoch milliseconds with sub-millisecond resolution (`performance.timeOrigin +
 * performance.now()`: monotonic, within a few ms of `Date.now()`), so one clock serves a
 * request's timestamps and its durations alike. Timers use `setTimeout` and do not keep the
 * process alive.
 */
const timeOrigin = performance.timeOrigin;

export const realClock: Clock = {
  now: () => timeOrigin + performance.now(),
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
  /** Cancelled or fired: skipped when it reaches the top of the queue, not counted as pending. */
  done: boolean;
}

/** Earlier due time first; equal due times in the order they were set. */
function before(a: PendingTimer, b: PendingTimer): boolean {
  return a.dueMs < b.dueMs || (a.dueMs === b.dueMs && a.seq < b.seq);
}

/**
 * A virtual clock for tests and simulations. Timers fire in due-time order (ties in the order
 * they were set) only when `advance` or `runAll` moves time; time never goes backwards. The
 * queue is a binary heap ordered by (due time, set order), so a simulation with a million
 * timers pending pays O(log n) per timer; cancelled timers leave the heap when they surface.
 */
export class VirtualClock implements Clock {
  #nowMs: number;
  #seq = 0;
  #pending = 0;
  readonly #heap: PendingTimer[] = [];

  constructor(startMs = 0) {
    this.#nowMs = startMs;
  }

  now(): number {
    return this.#nowMs;
  }

  setTimer(ms: number, fn: () => void): () => void {
    const timer: PendingTimer = { dueMs: this.#nowMs + Math.max(0, ms), seq: this.#seq++, fn, done: false };
    this.#push(timer);
    this.#pending++;
    return () => {
      if (timer.done) return;
      timer.done = true;
      this.#pending--;
    };
  }

  /** How many timers are still waiting to fire. */
  get pendingTimers(): number {
    return this.#pending;
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
      const next = this.#takeDue(targetMs);
      if (next === undefined) break;
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
      const next = this.#takeDue(targetMs);
      if (next === undefined) break;
      this.#nowMs = next.dueMs;
      next.fn();
    }
    this.#nowMs = targetMs;
  }

  /** Removes and returns the next live timer due by `targetMs`, dropping cancelled ones on the way. */
  #takeDue(targetMs: number): PendingTimer | undefined {
    for (;;) {
      const top = this.#heap[0];
      if (top === undefined || top.dueMs > targetMs) return undefined;
      this.#pop();
      if (top.done) continue;
      top.done = true;
      this.#pending--;
      return top;
    }
  }

  #push(timer: PendingTimer): void {
    const heap = this.#heap;
    let i = heap.length;
    heap.push(timer);
    while (i > 0) {
      const parent = (i - 1) >>> 1;
      const p = heap[parent]!;
      if (!before(timer, p)) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = timer;
  }

  #pop(): void {
    const heap = this.#heap;
    const last = heap.pop()!;
    const n = heap.length;
    if (n === 0) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && before(heap[right]!, heap[left]!) ? right : left;
      if (!before(heap[child]!, last)) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = last;
  }
}

async function flushPromises(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
