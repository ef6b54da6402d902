/**
 * A set of timers on one clock that can all be cancelled at once (an owner's `close()`).
 * A timer that fires or is cancelled leaves the set.
 */
import type { Clock } from './clock.ts';

export class TimerSet {
  readonly #clock: Clock;
  readonly #cancels = new Set<() => void>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Calls `fn` after `ms`; returns the cancel function. */
  set(ms: number, fn: () => void): () => void {
    const cancel = this.#clock.setTimer(ms, () => {
      this.#cancels.delete(cancel);
      fn();
    });
    this.#cancels.add(cancel);
    return () => {
      this.#cancels.delete(cancel);
      cancel();
    };
  }

  cancelAll(): void {
    for (const cancel of this.#cancels) cancel();
    this.#cancels.clear();
  }
}
