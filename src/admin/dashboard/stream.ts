/**
 * The dashboard's event stream: a snapshot, then deltas. State changes (a target's health,
 * a drain, a pod's phase) mark the view dirty; a flush, at most one per `minIntervalMs` (10 a
 * second by default, however busy the load balancer is), diffs the entities against the last
 * ones sent and publishes what changed, with the events that happened since (every state
 * change in order, even two inside one flush). A sample of the time series is taken every
 * `sampleIntervalMs` and rides on the next delta. Deltas carry a sequence number; the last
 * `keepDeltas` are kept so a client that reconnects with the last number it saw resumes
 * without losing one, and one that is too far behind gets a fresh snapshot. All timing is on
 * the injected clock; nothing here touches a socket (./sse.ts writes to the browser).
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../../core/clock.ts';
import type { Entity } from './entities.ts';
import type { Sample } from './series.ts';

/** What happened, in the timeline's shape (`{ timeMs, kind, pod?, detail? }`) with structured target fields. */
export interface DashboardEvent {
  readonly timeMs: number;
  readonly kind: string;
  readonly pod?: string;
  readonly detail?: string;
  readonly targetGroup?: string;
  readonly target?: string;
  readonly from?: string;
  readonly to?: string;
  readonly reason?: string;
}

export interface Snapshot {
  readonly type: 'snapshot';
  readonly seq: number;
  readonly nowMs: number;
  readonly entities: Readonly<Record<string, Entity>>;
  readonly samples: readonly Sample[];
  readonly events: readonly DashboardEvent[];
}

export interface Delta {
  readonly type: 'delta';
  readonly seq: number;
  readonly nowMs: number;
  readonly set: Readonly<Record<string, Entity>>;
  readonly del: readonly string[];
  readonly events: readonly DashboardEvent[];
  readonly sample?: Sample;
}

export interface DashboardStreamOptions {
  readonly clock: Clock;
  /** Every entity now (./entities.ts). */
  readonly read: () => Map<string, Entity>;
  /** One sample of the time series now (./series.ts). */
  readonly sample: () => Sample;
  /** At most one delta per this many ms (default 100: 10 updates a second). */
  readonly minIntervalMs?: number;
  /** A sample every this many ms (default 1000). */
  readonly sampleIntervalMs?: number;
  /** Samples a snapshot carries (default 300: five minutes of sparklines and charts). */
  readonly keepSamples?: number;
  /** Deltas kept for clients that reconnect (default 2000). */
  readonly keepDeltas?: number;
  /** Events a snapshot carries (default 1000). */
  readonly keepEvents?: number;
}

export class DashboardStream {
  /** Random per stream: an event id from another stream (a restarted process) is never resumed from. */
  readonly id = randomBytes(6).toString('base64url');
  readonly #o: Required<DashboardStreamOptions>;
  #entities = new Map<string, Entity>();
  /** Each entity as JSON, as last published: what the next flush compares against. */
  #published = new Map<string, string>();
  #seq = 0;
  readonly #deltas: Delta[] = [];
  readonly #samples: Sample[] = [];
  readonly #events: DashboardEvent[] = [];
  #pendingEvents: DashboardEvent[] = [];
  #pendingSample: Sample | undefined;
  readonly #subscribers = new Set<(delta: Delta) => void>();
  #lastFlushMs = -Infinity;
  #cancelFlush: (() => void) | undefined;
  #cancelSample: () => void = () => {};
  #closed = false;

  constructor(options: DashboardStreamOptions) {
    this.#o = { minIntervalMs: 100, sampleIntervalMs: 1000, keepSamples: 300, keepDeltas: 2000, keepEvents: 1000, ...options };
    this.#entities = this.#o.read();
    this.#published = new Map([...this.#entities].map(([k, v]) => [k, JSON.stringify(v)]));
    this.#scheduleSample();
  }

  /** The sequence number of the last delta (0 before the first). */
  get seq(): number {
    return this.#seq;
  }

  /** Something changed: a delta follows within `minIntervalMs`. */
  markDirty(): void {
    if (this.#closed || this.#cancelFlush !== undefined) return;
    const waitMs = Math.max(0, this.#lastFlushMs + this.#o.minIntervalMs - this.#o.clock.now());
    this.#cancelFlush = this.#o.clock.setTimer(waitMs, () => {
      this.#cancelFlush = undefined;
      this.#flush();
    });
  }

  /** Records an event for the next delta (and the snapshot's history); marks the view dirty. */
  pushEvent(event: DashboardEvent): void {
    if (this.#closed) return;
    this.#pendingEvents.push(event);
    this.markDirty();
  }

  /** Events from before the stream started (a snapshot's history; no delta carries them). */
  seed(events: readonly DashboardEvent[]): void {
    this.#events.unshift(...events);
    if (this.#events.length > this.#o.keepEvents) this.#events.splice(0, this.#events.length - this.#o.keepEvents);
  }

  /** The whole view as of the last delta: what a new client starts from. */
  snapshot(): Snapshot {
    return {
      type: 'snapshot',
      seq: this.#seq,
      nowMs: this.#o.clock.now(),
      entities: Object.fromEntries(this.#entities),
      samples: [...this.#samples],
      events: [...this.#events],
    };
  }

  /**
   * The deltas after `seq`, for a client that saw up to `seq`; undefined when they are no
   * longer all kept (or `seq` is from another run): that client needs a snapshot.
   */
  since(seq: number): Delta[] | undefined {
    if (!Number.isInteger(seq) || seq < 0 || seq > this.#seq) return undefined;
    if (seq === this.#seq) return [];
    const first = this.#deltas[0];
    if (first === undefined || first.seq > seq + 1) return undefined;
    return this.#deltas.slice(seq + 1 - first.seq);
  }

  /** Calls `fn` with each delta from now on; returns the unsubscribe function. */
  subscribe(fn: (delta: Delta) => void): () => void {
    this.#subscribers.add(fn);
    return () => this.#subscribers.delete(fn);
  }

  get subscribers(): number {
    return this.#subscribers.size;
  }

  close(): void {
    this.#closed = true;
    this.#cancelFlush?.();
    this.#cancelFlush = undefined;
    this.#cancelSample();
    this.#subscribers.clear();
  }

  #scheduleSample(): void {
    this.#cancelSample = this.#o.clock.setTimer(this.#o.sampleIntervalMs, () => {
      if (this.#closed) return;
      this.#pendingSample = this.#o.sample();
      this.#samples.push(this.#pendingSample);
      if (this.#samples.length > this.#o.keepSamples) this.#samples.splice(0, this.#samples.length - this.#o.keepSamples);
      this.#scheduleSample();
      // In-flight counts and request totals move without an event: the sample's flush carries them.
      this.markDirty();
    });
  }

  #flush(): void {
    if (this.#closed) return;
    this.#lastFlushMs = this.#o.clock.now();
    const next = this.#o.read();
    const set: Record<string, Entity> = {};
    const json = new Map<string, string>();
    for (const [key, entity] of next) {
      const text = JSON.stringify(entity);
      json.set(key, text);
      if (this.#published.get(key) !== text) set[key] = entity;
    }
    const del = [...this.#published.keys()].filter((key) => !next.has(key));
    const events = this.#pendingEvents;
    const sample = this.#pendingSample;
    this.#pendingEvents = [];
    this.#pendingSample = undefined;
    this.#entities = next;
    this.#published = json;
    if (Object.keys(set).length === 0 && del.length === 0 && events.length === 0 && sample === undefined) return;
    const delta: Delta = { type: 'delta', seq: ++this.#seq, nowMs: this.#lastFlushMs, set, del, events, ...(sample !== undefined ? { sample } : {}) };
    this.#deltas.push(delta);
    if (this.#deltas.length > this.#o.keepDeltas) this.#deltas.splice(0, this.#deltas.length - this.#o.keepDeltas);
    this.#events.push(...events);
    if (this.#events.length > this.#o.keepEvents) this.#events.splice(0, this.#events.length - this.#o.keepEvents);
    for (const fn of this.#subscribers) fn(delta);
  }
}
