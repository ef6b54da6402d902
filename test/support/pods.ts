/**
 * Fixture builders for the local-pods unit tests: a pods spec from config input (every default
 * filled by the real schema), and a world of virtual clock, fake runtime, scripted prober and
 * timeline in which pods and deployments are built.
 */
import { VirtualClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { parseConfig, type ConfigInput, type PodsConfig, type TargetGroupConfig } from '../../src/config/schema.ts';
import { Deployment } from '../../src/pods/deployment.ts';
import { PodIpAllocator } from '../../src/pods/ip-allocator.ts';
import { Pod } from '../../src/pods/pod.ts';
import { Timeline, type TimelineEvent, type TimelineKind } from '../../src/pods/timeline.ts';
import { FakeRuntime, ScriptedProber, type FakeRuntimeOptions } from './fake-runtime.ts';

type TargetGroupInput = NonNullable<ConfigInput['targetGroups']>[number];
export type PodsInput = Partial<NonNullable<TargetGroupInput['pods']>>;
export type PropagationInput = TargetGroupInput['propagation'];

/**
 * A target group `web` (HTTP, port 80) with local pods running `app`, through the real schema,
 * with a listener that forwards to it (a group no listener uses is not health-checked, and a
 * readiness gate on one is a config error).
 */
export function podTargetGroupConfig(pods: PodsInput = {}, extra: Partial<TargetGroupInput> = {}): TargetGroupConfig {
  const network = extra.protocol !== undefined && extra.protocol !== 'HTTP' && extra.protocol !== 'HTTPS';
  return parseConfig({
    targetGroups: [{ name: 'web', protocol: 'HTTP', port: 80, ...extra, pods: { command: ['app'], ...pods } }],
    loadBalancers: [
      {
        name: 'lb',
        type: network ? 'network' : 'application',
        listeners: [{ port: 0, protocol: network ? 'TCP' : 'HTTP', defaultActions: [{ type: 'forward', targetGroupName: 'web' }] }],
      },
    ],
  }).targetGroups[0]!;
}

export function podsSpec(pods: PodsInput = {}): PodsConfig {
  return podTargetGroupConfig(pods).pods!;
}

export interface PodWorld {
  readonly clock: VirtualClock;
  readonly runtime: FakeRuntime;
  readonly prober: ScriptedProber;
  readonly timeline: Timeline;
  readonly ips: PodIpAllocator;
  readonly output: Array<{ pod: string; stream: string; line: string }>;
  /** A pod named `name` (not started). */
  pod(spec: PodsConfig, name?: string): Pod;
  /** A Deployment named `web` (not started). */
  deployment(spec: PodsConfig, name?: string): Deployment;
  /** The timeline's events, optionally of one pod, as `[kind, seconds]` pairs. */
  events(pod?: string, kinds?: readonly TimelineKind[]): Array<[TimelineKind, number]>;
  /** The first event of `kind` (for `pod`), or undefined. */
  first(kind: TimelineKind, pod?: string): TimelineEvent | undefined;
}

export function podWorld(runtimeOptions: FakeRuntimeOptions = {}): PodWorld {
  const clock = new VirtualClock();
  const runtime = new FakeRuntime(clock, runtimeOptions);
  const prober = new ScriptedProber(clock);
  const timeline = new Timeline(clock);
  const ips = new PodIpAllocator(30);
  const output: Array<{ pod: string; stream: string; line: string }> = [];
  const common = { clock, runtime, prober: prober.prober, timeline, logger: silentLogger(), output: (pod: string, stream: string, line: string) => void output.push({ pod, stream, line }) };
  let n = 0;
  return {
    clock,
    runtime,
    prober,
    timeline,
    ips,
    output,
    pod: (spec, name = `web-r1-pod${n++}`) => new Pod({ ...common, name, ip: ips.allocate(), revision: 1, spec }),
    deployment: (spec, name = 'web') => new Deployment({ ...common, name, spec, ips }),
    events: (pod, kinds) =>
      timeline
        .events()
        .filter((e) => (pod === undefined || e.pod === pod) && (kinds === undefined || kinds.includes(e.kind)))
        .map((e) => [e.kind, e.timeMs / 1000]),
    first: (kind, pod) => timeline.events().find((e) => e.kind === kind && (pod === undefined || e.pod === pod)),
  };
}

/** The termination-sequence kinds, for filtering a pod's events down to the sequence. */
export const TERMINATION_KINDS: readonly TimelineKind[] = ['pod.deleting', 'pod.prestop_started', 'pod.prestop_finished', 'pod.sigterm', 'pod.sigkill', 'pod.terminated'];
