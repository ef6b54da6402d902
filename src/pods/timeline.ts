/**
 * One timeline for everything that happens in a rollout: pod lifecycle events, endpoint and
 * target changes, and (from the harness) request failures. Times come from the injected clock.
 */
import type { Clock } from '../core/clock.ts';

export type TimelineKind =
  | 'pod.created'
  | 'pod.started'
  | 'pod.containers_ready'
  | 'pod.ready'
  | 'pod.not_ready'
  | 'pod.restarted'
  | 'pod.exited'
  | 'pod.deleting'
  | 'pod.prestop_started'
  | 'pod.prestop_finished'
  | 'pod.sigterm'
  | 'pod.sigkill'
  | 'pod.terminated'
  | 'endpoint.ready'
  | 'endpoint.not_ready'
  | 'endpoint.terminating'
  | 'target.register'
  | 'target.deregister'
  | 'target.state_changed'
  | 'rollout.started'
  | 'rollout.finished'
  | 'request.failed';

export interface TimelineEvent {
  readonly timeMs: number;
  readonly kind: TimelineKind;
  /** The pod the event is about, when there is one. */
  readonly pod?: string;
  readonly detail?: string;
}

/** Events kept by default: hours of a busy rollout loop, a few MiB at most. */
export const DEFAULT_TIMELINE_CAPACITY = 50_000;

export class Timeline {
  readonly #clock: Clock;
  readonly #capacity: number;
  #events: TimelineEvent[] = [];
  readonly #listeners = new Set<(event: TimelineEvent) => void>();

  /** Keeps the last `capacity` events (a long-running `serve` must not grow without end). */
  constructor(clock: Clock, capacity = DEFAULT_TIMELINE_CAPACITY) {
    this.#clock = clock;
    this.#capacity = capacity;
  }

  record(kind: TimelineKind, fields: { pod?: string; detail?: string; timeMs?: number } = {}): TimelineEvent {
    const event: TimelineEvent = { timeMs: fields.timeMs ?? this.#clock.now(), kind, ...(fields.pod ? { pod: fields.pod } : {}), ...(fields.detail ? { detail: fields.detail } : {}) };
    this.#events.push(event);
    // Drop the oldest in batches, so each record stays O(1) amortised.
    if (this.#events.length > this.#capacity * 1.25) this.#events = this.#events.slice(-this.#capacity);
    for (const l of this.#listeners) l(event);
    return event;
  }

  on(listener: (event: TimelineEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Events in time order (stable for equal times); at least the last `capacity` recorded. */
  events(fromMs = -Infinity, toMs = Infinity): TimelineEvent[] {
    return this.#events.filter((e) => e.timeMs >= fromMs && e.timeMs <= toMs).sort((a, b) => a.timeMs - b.timeMs);
  }
}
