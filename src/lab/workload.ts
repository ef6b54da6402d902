/**
 * The lab's sources of work: seeded random streams, service-time draws and stop-the-world
 * pauses. Pure functions of their inputs, so a seed gives the same numbers bit for bit.
 */
import { seededRandom, type Random } from '../core/random.ts';
import type { ServiceModel } from './scenario.ts';

/**
 * An independent stream per purpose (`arrivals`, `service`, `picker/0`, …), so changing how
 * one is used (an algorithm that draws more) never shifts another: every algorithm sees the
 * same arrivals and the same service-time draws for its k-th request.
 */
export function stream(seed: number, purpose: string): Random {
  let h = 0x811c9dc5 ^ (seed >>> 0);
  for (let i = 0; i < purpose.length; i++) h = Math.imul(h ^ purpose.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return seededRandom((h ^ (h >>> 16)) >>> 0);
}

/** An exponential draw with mean 1 (inter-arrival times of a Poisson process, exponential service). */
export function exponential(random: Random): number {
  return -Math.log(1 - random.next());
}

/**
 * The simulator's arrival times (ms from the start) of the Poisson process at `ratePerSecond`
 * from the seed's `arrivals` stream, summed in the same order as its clock does, until
 * `durationMs`: what the real run's load generator sends.
 */
export function arrivalTimes(seed: number, ratePerSecond: number, durationMs: number): number[] {
  const arrivals = stream(seed, 'arrivals');
  const ratePerMs = ratePerSecond / 1000;
  const out: number[] = [];
  for (let t = exponential(arrivals) / ratePerMs; t < durationMs; t += exponential(arrivals) / ratePerMs) out.push(t);
  return out;
}

/**
 * One service time with mean 1, to be multiplied by the target's mean and multipliers:
 * exponential, lognormal (σ as given, μ = −σ²/2 so the mean stays 1) or constant.
 */
export function unitServiceTime(model: ServiceModel, random: Random): number {
  switch (model.distribution) {
    case 'exponential':
      return exponential(random);
    case 'lognormal': {
      // Box–Muller; both uniforms are drawn every time so the stream stays aligned.
      const u1 = 1 - random.next();
      const u2 = random.next();
      const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
      return Math.exp(model.sigma * z - (model.sigma * model.sigma) / 2);
    }
    case 'constant':
      return 1;
  }
}

/** Stop-the-world pauses: no progress during the last `pauseMs` of every `everyMs` cycle, shifted by `offsetMs`. */
export interface PauseCycle {
  readonly everyMs: number;
  readonly pauseMs: number;
  readonly offsetMs: number;
}

/**
 * When work of `serviceMs` that starts at `startMs` finishes on a target that pauses: the
 * clock runs through the pauses, the work does not (a request arriving in a pause waits for
 * its end; one running when a pause starts stalls until it ends).
 */
export function finishWithPauses(startMs: number, serviceMs: number, pauses: PauseCycle | undefined): number {
  if (pauses === undefined) return startMs + serviceMs;
  const { everyMs, pauseMs, offsetMs } = pauses;
  const runMs = everyMs - pauseMs;
  let t = startMs;
  let remaining = serviceMs;
  for (;;) {
    const phase = (((t - offsetMs) % everyMs) + everyMs) % everyMs;
    // (a nanosecond's slack, so rounding at a pause's edge cannot stall the loop)
    if (phase >= runMs - 1e-6) {
      t += everyMs - phase;
      continue;
    }
    const runnable = runMs - phase;
    if (remaining <= runnable) return t + remaining;
    remaining -= runnable;
    t += runnable;
  }
}
