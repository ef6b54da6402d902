/**
 * The dashboard's time series, one sample a second on the injected clock: requests per
 * second to each target (its request count's rise), and per load balancer requests per
 * second by status class (target 2XX–5XX, ELB 4XX/5XX) and TargetResponseTime p50/p99 of the
 * second (from the histogram's buckets, interpolated as Prometheus' histogram_quantile does).
 * Reads the counters the data path already keeps; adds nothing to it.
 */
import { RESPONSE_TIME_BUCKETS, type ElbMetrics, type LoadBalancerCounters, type TargetGroupCounters } from '../../core/metrics.ts';
import type { TargetGroup } from '../../targets/target-group.ts';
import type { Target } from '../../targets/target.ts';

export interface LoadBalancerSample {
  readonly target2xx: number;
  readonly target3xx: number;
  readonly target4xx: number;
  readonly target5xx: number;
  readonly elb4xx: number;
  readonly elb5xx: number;
  /** TargetResponseTime over the second, ms; absent when no target answered. */
  readonly p50Ms?: number;
  readonly p99Ms?: number;
}

export interface Sample {
  /** Clock time of the sample (ms). */
  readonly t: number;
  /** `group|ip:port` → requests per second sent to the target over the last interval. */
  readonly targets: Readonly<Record<string, number>>;
  readonly loadBalancers: Readonly<Record<string, LoadBalancerSample>>;
}

const classSum = (codes: Float64Array, hundred: number) => {
  let n = 0;
  for (let s = hundred; s < hundred + 100; s++) n += codes[s]!;
  return n;
};

/** The `q` quantile (0–1) of a histogram given as counts per bucket (the last one +Inf), in seconds. */
export function histogramQuantile(q: number, counts: ArrayLike<number>, bounds: readonly number[] = RESPONSE_TIME_BUCKETS): number | undefined {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i]!;
  if (total <= 0) return undefined;
  const rank = q * total;
  let cumulative = 0;
  for (let i = 0; i < counts.length; i++) {
    const before = cumulative;
    cumulative += counts[i]!;
    if (cumulative >= rank && counts[i]! > 0) {
      if (i >= bounds.length) return bounds[bounds.length - 1]; // +Inf: the highest finite bound, as Prometheus does
      const lower = i === 0 ? 0 : bounds[i - 1]!;
      const upper = bounds[i]!;
      return lower + (upper - lower) * ((rank - before) / counts[i]!);
    }
  }
  return bounds[bounds.length - 1];
}

interface LbTotals {
  readonly target: [number, number, number, number];
  readonly elb4xx: number;
  readonly elb5xx: number;
  readonly buckets: Float64Array;
}

const ZERO: LbTotals = { target: [0, 0, 0, 0], elb4xx: 0, elb5xx: 0, buckets: new Float64Array(RESPONSE_TIME_BUCKETS.length + 1) };

export class SeriesSampler {
  readonly #metrics: ElbMetrics;
  readonly #lastCount = new WeakMap<Target, number>();
  readonly #lastLb = new Map<string, LbTotals>();
  #lastT: number | undefined;

  constructor(metrics: ElbMetrics) {
    this.#metrics = metrics;
  }

  /** One sample at clock time `t` over what changed since the previous one. */
  sample(t: number, groups: readonly TargetGroup[]): Sample {
    const seconds = this.#lastT === undefined ? 1 : Math.max(0.001, (t - this.#lastT) / 1000);
    this.#lastT = t;
    const targets: Record<string, number> = {};
    for (const group of groups) {
      for (const target of group.targets()) {
        const before = this.#lastCount.get(target);
        this.#lastCount.set(target, target.requestCount);
        // A target first seen now counts from its registration (its count starts at 0 then).
        targets[`${group.name}|${target.key}`] = round((target.requestCount - (before ?? 0)) / seconds);
      }
    }
    const { loadBalancers, targetGroups } = this.#metrics.counters();
    const byLb = new Map<string, TargetGroupCounters[]>();
    for (const c of targetGroups) byLb.set(c.loadBalancer, [...(byLb.get(c.loadBalancer) ?? []), c]);
    const out: Record<string, LoadBalancerSample> = {};
    for (const lb of loadBalancers) {
      const now = totals(lb, byLb.get(lb.loadBalancer) ?? []);
      // A load balancer first seen now counts from its start.
      const before = this.#lastLb.get(lb.loadBalancer) ?? ZERO;
      this.#lastLb.set(lb.loadBalancer, now);
      const rate = (a: number, b: number) => round((a - b) / seconds);
      const delta = now.buckets.map((n, i) => n - before.buckets[i]!);
      const p50 = histogramQuantile(0.5, delta);
      const p99 = histogramQuantile(0.99, delta);
      out[lb.loadBalancer] = {
        target2xx: rate(now.target[0], before.target[0]),
        target3xx: rate(now.target[1], before.target[1]),
        target4xx: rate(now.target[2], before.target[2]),
        target5xx: rate(now.target[3], before.target[3]),
        elb4xx: rate(now.elb4xx, before.elb4xx),
        elb5xx: rate(now.elb5xx, before.elb5xx),
        ...(p50 !== undefined ? { p50Ms: round(p50 * 1000) } : {}),
        ...(p99 !== undefined ? { p99Ms: round(p99 * 1000) } : {}),
      };
    }
    return { t, targets, loadBalancers: out };
  }
}

function totals(lb: LoadBalancerCounters, groups: readonly TargetGroupCounters[]): LbTotals {
  const target: [number, number, number, number] = [0, 0, 0, 0];
  const buckets = new Float64Array(RESPONSE_TIME_BUCKETS.length + 1);
  for (const g of groups) {
    [200, 300, 400, 500].forEach((hundred, i) => (target[i]! += classSum(g.targetStatus, hundred)));
    for (let i = 0; i < buckets.length; i++) buckets[i]! += g.responseTimeBuckets[i]!;
  }
  return { target, elb4xx: classSum(lb.elbStatus, 400), elb5xx: classSum(lb.elbStatus, 500), buckets };
}

const round = (n: number) => Math.round(n * 100) / 100;
