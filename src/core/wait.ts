/**
 * Waiting for a condition on the injected clock: checked now, then whenever the thing it
 * depends on changes (and at a poll interval, for changes nobody announces), until it holds or
 * the deadline passes. The one way library code waits for targets to be healthy or pods to be
 * ready.
 */
import type { Clock } from './clock.ts';

export interface WaitOptions {
  readonly clock: Clock;
  readonly timeoutMs: number;
  /** Subscribes `wake` to the changes that may make the condition hold; returns the unsubscribe function. */
  readonly changes?: (wake: () => void) => () => void;
  /** Also checks this often (default 250 ms). */
  readonly pollMs?: number;
  /** The error for a condition that did not hold in time. */
  readonly timedOut: () => Error;
}

export function waitUntil(condition: () => boolean, options: WaitOptions): Promise<void> {
  if (condition()) return Promise.resolve();
  const { clock, timeoutMs, pollMs = 250 } = options;
  const deadline = clock.now() + timeoutMs;
  return new Promise<void>((resolve, reject) => {
    let done = false;
    let cancelPoll: () => void = () => {};
    let unsubscribe: () => void = () => {};
    const finish = (err?: Error) => {
      if (done) return;
      done = true;
      cancelPoll();
      unsubscribe();
      if (err) reject(err);
      else resolve();
    };
    const check = () => {
      if (done) return;
      if (condition()) finish();
      else if (clock.now() >= deadline) finish(options.timedOut());
    };
    const poll = () => {
      cancelPoll = clock.setTimer(Math.min(pollMs, Math.max(0, deadline - clock.now())), () => {
        check();
        if (!done) poll();
      });
    };
    unsubscribe = options.changes?.(check) ?? (() => {});
    poll();
  });
}
