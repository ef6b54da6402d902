/**
 * One registered target (an address and port) in one target group. Health (from checks) and
 * registration (from the operator or a source) are two separate fields, as in HAProxy; each
 * fact has one owner: the tracker holds health, the drain record (the Registry's) makes a
 * target `draining`, the lease counts what is in flight.
 */
import type { ElbError } from '../core/errors.ts';
import type { Outcome } from '../algorithms/picker.ts';
import { HealthTracker, type HealthThresholds, type TargetHealth } from './health.ts';

export type Registration = 'registered' | 'draining';

/** How a user names a target: `{ id: "127.0.0.1", port: 3001 }` (the ELBv2 `TargetDescription`). */
export interface TargetSpec {
  readonly id: string;
  readonly port?: number;
}

export function targetKey(id: string, port: number): string {
  return `${id}:${port}`;
}

/** How a deregistration ended. */
export interface DrainOutcome {
  readonly target: { readonly id: string; readonly port: number };
  /**
   * `drained`: the delay ended and nothing was cut (an NLB without connection termination may
   * leave connections open: see `remaining`); `cut`: requests still in flight were cut
   * (ALB answers them 502); `reregistered`: registered again while draining; `not-registered`:
   * there was nothing to deregister (AWS succeeds silently); `closed`: the group was closed.
   */
  readonly result: 'drained' | 'cut' | 'reregistered' | 'not-registered' | 'closed';
  readonly cutRequests: number;
  /** NLB without connection termination: connections still open when the target was removed. */
  readonly remaining?: number;
}

/** A deregistration in progress: its timer and who waits for it. Kept on the target by the Registry. */
export interface DrainRecord {
  /** When the drain started and when the deregistration delay ends it (group clock): the dashboard's countdown. */
  readonly startedAtMs: number;
  readonly endsAtMs: number;
  readonly cancel: () => void;
  readonly done: Promise<DrainOutcome>;
  readonly resolve: (outcome: DrainOutcome) => void;
}

/** A request or connection in flight on a target. Release it exactly once when done. */
export interface Lease {
  readonly target: Target;
  /**
   * Ends the lease; safe to call more than once (only the first call counts). `outcome` says
   * how the request ended (`error`: a 5XX or a connection error) for the group's outcome
   * statistics (weighted_random's anomaly detection, spec 3.1); without it nothing is counted.
   */
  release(outcome?: Outcome): void;
  /**
   * Called when the target group must cut the work in flight (the deregistration delay ended,
   * an NLB target turned unhealthy). The holder aborts its request and releases the lease with
   * the outcome it counts (`error` for a request the ALB answers 502).
   */
  onCut(fn: (reason: ElbError) => void): void;
}

export class Target {
  readonly id: string;
  readonly port: number;
  readonly key: string;
  readonly tracker: HealthTracker;
  /** Set while the target drains; `registration` is derived from it. */
  drain: DrainRecord | undefined;
  /** Requests in flight: least outstanding requests and draining read the same counter. */
  outstanding = 0;
  /** Requests forwarded to this target since it was registered. */
  requestCount = 0;
  /** Slow start (spec 3.2): the share of a full target's traffic it takes, rising to 1; set by SlowStart, 1 outside it. */
  weight = 1;
  /** When the target last became healthy; undefined while it is not healthy. */
  healthySinceMs: number | undefined;
  /** When it was registered (group clock). */
  registeredAtMs = 0;
  /** When it was registered or last stopped being healthy (slow start's entry rule compares the two). */
  notHealthySinceMs = 0;
  readonly leases = new Set<TargetLease>();

  constructor(id: string, port: number, thresholds: HealthThresholds) {
    this.id = id;
    this.port = port;
    this.key = targetKey(id, port);
    this.tracker = new HealthTracker(thresholds);
  }

  get registration(): Registration {
    return this.drain === undefined ? 'registered' : 'draining';
  }

  get health(): TargetHealth {
    return this.tracker.health;
  }
}

export class TargetLease implements Lease {
  readonly target: Target;
  #released = false;
  #onCut: ((reason: ElbError) => void) | undefined;
  readonly #onOutcome: ((target: Target, outcome: Outcome) => void) | undefined;

  /** `onOutcome` receives the outcome a holder reports on release (the group's outcome statistics). */
  constructor(target: Target, onOutcome?: (target: Target, outcome: Outcome) => void) {
    this.target = target;
    this.#onOutcome = onOutcome;
    target.outstanding++;
    target.requestCount++;
    target.leases.add(this);
  }

  release(outcome?: Outcome): void {
    if (this.#released) return;
    this.#released = true;
    this.target.outstanding--;
    this.target.leases.delete(this);
    if (outcome !== undefined) this.#onOutcome?.(this.target, outcome);
  }

  onCut(fn: (reason: ElbError) => void): void {
    this.#onCut = fn;
  }

  /** Cuts the work in flight: the holder releases with its outcome; a lease nobody holds any more is released as an error. */
  cut(reason: ElbError): void {
    if (this.#released) return;
    const fn = this.#onCut;
    this.#onCut = undefined;
    fn?.(reason);
    this.release('error');
  }
}
