/**
 * The targets a request may go to (spec 2.6, 2.7): the healthy registered ones; when fewer are
 * healthy than the routing-failover threshold (`target_group_health.unhealthy_state_routing.
 * minimum_healthy_targets.*`, by default: none healthy) the unhealthy ones join them
 * (fail-open). `initial` and `draining` targets never take new requests. Worked out once per
 * change and kept until the group says something changed.
 */
import type { Target } from './target.ts';

export interface CandidateRules {
  readonly minimumHealthyTargetCount: number;
  readonly minimumHealthyTargetPercent: number | undefined;
}

export class CandidateSet {
  #candidates: Target[] | undefined;
  #failingOpen = false;
  /** The candidates as a set, built on the first `includes` after a change. */
  #members: Set<Target> | undefined;

  /** Something that decides the candidates changed (a state, a registration, an attribute). */
  invalidate(): void {
    this.#candidates = undefined;
    this.#members = undefined;
  }

  /** The candidates; the same array until `invalidate()` (pickers rely on that). */
  get(targets: Iterable<Target>, inUse: boolean, rules: CandidateRules): Target[] {
    return this.#candidates ?? this.#compute(targets, inUse, rules);
  }

  /** True when `target` is a candidate (sticky sessions ask before they bypass the picker, spec 3.3). */
  includes(target: Target, targets: Iterable<Target>, inUse: boolean, rules: CandidateRules): boolean {
    if (this.#candidates === undefined) this.#compute(targets, inUse, rules);
    this.#members ??= new Set(this.#candidates);
    return this.#members.has(target);
  }

  /** True while requests are spread over unhealthy targets too. */
  failingOpen(targets: Iterable<Target>, inUse: boolean, rules: CandidateRules): boolean {
    if (this.#candidates === undefined) this.#compute(targets, inUse, rules);
    return this.#failingOpen;
  }

  #compute(targets: Iterable<Target>, inUse: boolean, rules: CandidateRules): Target[] {
    const healthy: Target[] = [];
    const unhealthy: Target[] = [];
    let registered = 0;
    if (inUse) {
      for (const t of targets) {
        if (t.registration !== 'registered') continue;
        registered++;
        if (t.health.state === 'healthy') healthy.push(t);
        else if (t.health.state === 'unhealthy') unhealthy.push(t);
      }
    }
    const minPercent = rules.minimumHealthyTargetPercent;
    const below = healthy.length < rules.minimumHealthyTargetCount || (minPercent !== undefined && healthy.length * 100 < minPercent * registered);
    this.#failingOpen = below && unhealthy.length > 0;
    this.#candidates = this.#failingOpen ? [...healthy, ...unhealthy] : healthy;
    return this.#candidates;
  }
}
