/**
 * ALB slow start (spec 3.2): which targets are in it and since when, and their weights. A
 * target that becomes healthy enters slow start when another healthy target is not in slow
 * start and was healthy before this one was registered (or last stopped being healthy), so
 * targets registered together into an empty group do not. Its weight rises as
 * `ε + (1 − ε) · elapsed / duration` on the group's clock, then it leaves slow start at 1.
 */
import type { Clock } from '../core/clock.ts';
import type { Target } from './target.ts';

export interface SlowStartOptions {
  readonly clock: Clock;
  /** `slow_start.duration_seconds` in ms (0: off), read at each step. */
  readonly durationMs: () => number;
  /** ε, the weight a target starts at (`emulator.slowStartInitialWeight`). */
  readonly initialWeight: number;
  /** A weight went to or from 1: the candidates must be handed to the picker anew. */
  readonly changed: () => void;
}

export class SlowStart {
  readonly #o: SlowStartOptions;
  /** Targets in slow start, and when each entered it (group clock). */
  readonly #since = new Map<Target, number>();

  constructor(options: SlowStartOptions) {
    this.#o = options;
  }

  get active(): boolean {
    return this.#since.size > 0;
  }

  /** When `target` entered slow start, if it is in it. */
  since(target: Target): number | undefined {
    return this.#since.get(target);
  }

  /** `target` just became healthy; `others` are the group's registered targets. */
  becameHealthy(target: Target, others: Iterable<Target>): void {
    if (this.#o.durationMs() === 0) return;
    for (const other of others) {
      if (other === target || other.registration !== 'registered' || other.health.state !== 'healthy') continue;
      if (!this.#since.has(other) && other.healthySinceMs !== undefined && other.healthySinceMs < target.notHealthySinceMs) {
        this.#since.set(target, this.#o.clock.now());
        target.weight = this.#o.initialWeight;
        return;
      }
    }
  }

  /** Ends a target's slow start (it stopped being healthy, or is draining). */
  end(target: Target): void {
    if (!this.#since.delete(target)) return;
    target.weight = 1;
    this.#o.changed();
  }

  /** Slow start was turned off: every target is at full weight now. */
  endAll(): void {
    for (const target of [...this.#since.keys()]) this.end(target);
  }

  /** Brings every weight up to the clock's now (called on each acquire while any target is in slow start). */
  advance(): void {
    const durationMs = this.#o.durationMs();
    const epsilon = this.#o.initialWeight;
    const now = this.#o.clock.now();
    for (const [target, since] of this.#since) {
      const elapsed = now - since;
      if (elapsed >= durationMs) this.end(target);
      else target.weight = epsilon + (1 - epsilon) * (elapsed / durationMs);
    }
  }
}
