/**
 * What the processes of a real lab run say to each other: the headers a request carries, the
 * paths that bypass the model, and the IPC messages (plain JSON) between the run and its
 * children. The messages are types, not interfaces, so that they are `Message`s (an index
 * signature) as they are.
 */
import type { AlgorithmName } from '../../algorithms/index.ts';
import type { ConfigInput } from '../../config/schema.ts';
import type { ServiceModel } from '../../lab/scenario.ts';
import type { TargetModelSpec } from '../../lab/target-model.ts';

/** The request's service-time draw (mean 1) and error draw, from the load generator's seeded streams. */
export const HEADER_UNIT = 'x-lab-unit';
export const HEADER_ERROR_DRAW = 'x-lab-error-draw';
/** The target (or pod) that answered. */
export const HEADER_TARGET = 'x-lab-target';
/** Model targets' health check; answered at once, never queued. */
export const HEALTH_PATH = '/lab/health';
/** Answered at once by model targets: the load generator warms its connections and the proxy on it before the run. */
export const WARMUP_PATH = '/lab/warmup';
/** A warm-up request: the ALB sends it to its node's `warmup-<node>` target group, not to the lab's `lab-<node>`. */
export const HEADER_WARMUP = 'x-lab-warmup';
export const WARMUP_GROUP = 'warmup';

/** `Root=1-<8 hex run tag>-<8 hex run tag><16 hex request index>`: how the ALB's request records are matched to the load generator's requests. */
export function traceRoot(runTag: string, index: number): string {
  return `1-${runTag}-${runTag}${index.toString(16).padStart(16, '0')}`;
}

/** The request index of a trace id header of this run, or -1. */
export function traceIndex(header: string | undefined, runTag: string): number {
  if (header === undefined) return -1;
  const m = /Root=1-([0-9a-f]{8})-([0-9a-f]{8})([0-9a-f]{16})/.exec(header);
  if (m === null || m[1] !== runTag || m[2] !== runTag) return -1;
  return parseInt(m[3]!, 16);
}

export type TargetInit = {
  readonly type: 'init';
  readonly spec: TargetModelSpec;
  /** For requests that bring no draws: the target's own `service/<name>` stream of this seed. */
  readonly seed: number;
  /** 0: any port the OS gives (the first start); a restart listens on the port it had. */
  readonly port: number;
  /** False for a process that starts later in the scenario (`start`): it refuses connections until then. */
  readonly listen: boolean;
};

export type KubeProxyInit = {
  readonly type: 'init';
  readonly node: number;
  readonly seed: number;
  readonly policy: 'Cluster' | 'Local';
  readonly hopLatencyMs: number;
  /** Every pod with its node; Local uses only the ones on `node`. */
  readonly pods: readonly { readonly name: string; readonly port: number; readonly node: number }[];
};

export type AlbInit = {
  readonly type: 'init';
  readonly config: ConfigInput;
  /** Every lab group's picker, seeded from `picker/<node>` as the simulator's are (lab-only ones too). */
  readonly algorithm: AlgorithmName;
  readonly seed: number;
  /** Matches the ALB's request records to the load generator's requests (traceRoot). */
  readonly runTag: string;
};

export type LoadInit = {
  readonly type: 'init';
  /** One listener URL per load balancer node; each request picks a node as the simulator does. */
  readonly urls: readonly string[];
  readonly path: string;
  readonly seed: number;
  readonly ratePerSecond: number;
  readonly durationMs: number;
  readonly service: ServiceModel;
  /** Client-side give-up for one request: longer than the ALB's idle timeout, so the ALB's 504 comes first. */
  readonly timeoutMs: number;
  /** Keep-alive connections idle longer than this are closed by the client (under the ALB's idle timeout). */
  readonly keepAliveMs: number;
  readonly runTag: string;
};

/** Every request of a run, by index (arrival order); parallel arrays so they cross IPC as plain JSON. */
export type LoadResult = {
  readonly type: 'done';
  readonly requests: number;
  /** When it was due, ms after the run's start (the Poisson schedule). */
  readonly dueMs: readonly number[];
  /** How late it went out (ms; timer resolution, a busy generator). */
  readonly sendLagMs: readonly number[];
  /** From the due time to the end of the answer (or the failure): the latency clients saw. */
  readonly latencyMs: readonly number[];
  /** HTTP status; 0 when there was no answer. */
  readonly status: readonly number[];
  /** The client-side error (`ECONNRESET`, `ECONNREFUSED`, `closed`, `timeout`, …) or null. */
  readonly errorCode: readonly (string | null)[];
  /** `x-lab-target` of the answer, or null. */
  readonly target: readonly (string | null)[];
  /** Which load balancer node it went to. */
  readonly node: readonly number[];
  /** The most keep-alive connections open at once (open loop: one per request in flight, up to the cap). */
  readonly peakConnections: number;
  /** Requests that waited in the generator for a connection (every one open was busy): their send lag says how long. */
  readonly waitedForConnection: number;
  /** The generator's own CPU time (user + system, µs) and wall time over the run. */
  readonly cpuUs: number;
  readonly wallMs: number;
};

/** What the ALB process recorded: per request index, the target key it chose and why it answered itself. */
export type AlbReport = {
  readonly type: 'report';
  readonly records: readonly (readonly [index: number, target: string | null, elbStatus: number, producedBy: 'elb' | 'target', errorCode: string | null])[];
  readonly cpuUs: number;
  readonly wallMs: number;
};
