/** Reading local-elb's Prometheus registry in tests. */
import type { LocalElb } from '../../src/local-elb.ts';

/**
 * The sum of metric `name` over its series whose labels include every `labels` pair
 * (`{}`: all series); 0 when none exists.
 */
export async function metricSum(elb: LocalElb, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await elb.metrics.registry.metrics();
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (wanted.some((pair) => !line.includes(pair))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}
