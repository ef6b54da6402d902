/**
 * Statistical bounds for tests of random choices: instead of a margin picked by eye ("8 of 60
 * is three standard deviations below"), the bound is computed from the binomial distribution
 * with the false-failure probability the test states.
 */

/** P(X ≤ k) for X ~ Binomial(n, p), exactly (summed in log space). */
export function binomialCdf(k: number, n: number, p: number): number {
  if (k < 0) return 0;
  if (k >= n) return 1;
  let logC = 0; // log C(n, 0)
  let sum = 0;
  for (let i = 0; i <= k; i++) {
    if (i > 0) logC += Math.log(n - i + 1) - Math.log(i);
    sum += Math.exp(logC + i * Math.log(p) + (n - i) * Math.log1p(-p));
  }
  return Math.min(1, sum);
}

/**
 * The largest k such that X ~ Binomial(n, p) is below k with probability at most
 * `falseFailure`: a test asserting "X ≥ k" fails by chance in at most that fraction of runs.
 */
export function binomialLowerBound(n: number, p: number, falseFailure: number): number {
  let k = 0;
  while (k < n && binomialCdf(k, n, p) <= falseFailure) k++;
  return k;
}

/**
 * The largest k such that each of `buckets` equally likely buckets, after `n` independent
 * uniform draws, holds fewer than k with probability at most `falseFailure` in all (a union
 * bound over the buckets). A test asserting "every bucket got at least k" then fails by chance
 * in at most that fraction of runs.
 */
export function fairShareLowerBound(n: number, buckets: number, falseFailure: number): number {
  return binomialLowerBound(n, 1 / buckets, falseFailure / buckets);
}

/** P(X ≥ k) for X ~ Binomial(n, p), summed over the upper tail itself (exact for small tails). */
export function binomialUpperTail(k: number, n: number, p: number): number {
  if (k <= 0) return 1;
  if (k > n) return 0;
  let logC = 0;
  for (let i = 1; i <= k; i++) logC += Math.log(n - i + 1) - Math.log(i); // log C(n, k)
  let sum = 0;
  for (let i = k; i <= n; i++) {
    if (i > k) logC += Math.log(n - i + 1) - Math.log(i);
    sum += Math.exp(logC + i * Math.log(p) + (n - i) * Math.log1p(-p));
  }
  return Math.min(1, sum);
}

/**
 * The smallest k such that X ~ Binomial(n, p) reaches k with probability at most
 * `falseFailure`: a test asserting "X < k" fails by chance in at most that fraction of runs.
 */
export function binomialUpperBound(n: number, p: number, falseFailure: number): number {
  let k = n + 1;
  while (k > 0 && binomialUpperTail(k - 1, n, p) <= falseFailure) k--;
  return k;
}
