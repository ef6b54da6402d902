// Node flags for the commands that carry traffic (serve, demo, kind). A young generation of
// 2 MiB keeps each minor GC pause near 0.4 ms instead of 1.5–2 ms at V8's default size, which
// is what sets the ALB's p99 (README, "Tail latency"); it costs no measurable throughput.
// LOCAL_ELB_NODE_FLAGS replaces them ("" for none). V8 reads heap sizes only at start-up.
export const TRAFFIC_COMMANDS = new Set(['serve', 'demo', 'kind']);

export const DEFAULT_TRAFFIC_NODE_FLAGS = ['--max-semi-space-size=2'];

/** The flags a traffic-carrying local-elb process should run with. */
export function trafficNodeFlags(env = process.env) {
  const override = env.LOCAL_ELB_NODE_FLAGS;
  if (override !== undefined) return override.split(/\s+/).filter((f) => f !== '');
  return DEFAULT_TRAFFIC_NODE_FLAGS;
}
