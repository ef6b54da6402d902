/**
 * Builds and starts one ALB (`app`, one listener on 127.0.0.1:0) forwarding to one target
 * group (`web`) with short health-check settings, for integration tests. The first check runs
 * at registration, and `initialHealthyThresholdCount` is 1, so a target that answers its
 * health path is healthy at once.
 */
import { afterEach } from 'vitest';
import type { ConfigInput } from '../../src/config/schema.ts';
import type { Clock } from '../../src/core/clock.ts';
import type { Probe } from '../../src/targets/health-checker.ts';
import { startLocalElb, type LocalElb } from '../../src/local-elb.ts';
import type { TargetGroup } from '../../src/targets/target-group.ts';
import { waitFor } from './wait.ts';

type TargetGroupInput = NonNullable<ConfigInput['targetGroups']>[number];
type LoadBalancerInput = NonNullable<ConfigInput['loadBalancers']>[number];
type ListenerInput = LoadBalancerInput['listeners'][number];
export type RuleInput = NonNullable<ListenerInput['rules']>[number];
export type ActionInput = ListenerInput['defaultActions'][number];

export interface AlbOptions {
  /** Ports of targets on 127.0.0.1 registered from the start. */
  readonly targetPorts?: readonly number[];
  readonly targetGroupAttributes?: Readonly<Record<string, string>>;
  readonly loadBalancerAttributes?: Readonly<Record<string, string>>;
  readonly rules?: readonly RuleInput[];
  readonly defaultActions?: readonly ActionInput[];
  readonly emulator?: TargetGroupInput['emulator'];
  readonly healthCheckPath?: string;
  /** A VirtualClock for timeout tests: the listener's and the upstream's timers move only when it does. */
  readonly clock?: Clock;
  /** Replaces the health checks (a target that cannot be reached but must be routable). */
  readonly probe?: Probe;
}

export function albConfig(options: AlbOptions = {}): ConfigInput {
  return {
    targetGroups: [
      {
        name: 'web',
        protocol: 'HTTP',
        port: 80,
        healthCheckPath: options.healthCheckPath ?? '/healthz',
        healthCheckIntervalSeconds: 5,
        healthCheckTimeoutSeconds: 2,
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 2,
        attributes: { ...options.targetGroupAttributes },
        targets: (options.targetPorts ?? []).map((port) => ({ id: '127.0.0.1', port })),
        ...(options.emulator ? { emulator: options.emulator } : {}),
      },
    ],
    loadBalancers: [
      {
        name: 'app',
        attributes: { ...options.loadBalancerAttributes },
        listeners: [
          {
            port: 0,
            defaultActions: [...(options.defaultActions ?? [{ type: 'forward', targetGroupName: 'web' }])],
            rules: [...(options.rules ?? [])],
          },
        ],
      },
    ],
  };
}

export interface TestAlb {
  readonly elb: LocalElb;
  readonly url: string;
  readonly port: number;
  readonly group: TargetGroup;
}

/** Starts the ALB; the caller registers `elb.close` for cleanup. */
export async function startAlb(options: AlbOptions = {}): Promise<TestAlb> {
  const elb = await startLocalElb({
    config: albConfig(options),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.probe ? { probe: options.probe } : {}),
  });
  const url = elb.url('app');
  return { elb, url, port: Number(new URL(url).port), group: elb.targetGroup('web') };
}

/** Waits until `count` targets of the group are healthy. */
export function waitHealthy(group: TargetGroup, count: number): Promise<true> {
  return waitFor(() => group.healthyHostCount === count || undefined, { what: `${count} healthy targets in ${group.name}`, timeoutMs: 5_000 });
}

/**
 * Returns `defer(fn)`: every function deferred during a test runs after it, last first, even
 * when the test failed.
 */
export function deferCleanups(): (fn: () => unknown) => void {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    const errors: unknown[] = [];
    for (const c of cleanups.splice(0).reverse()) {
      try {
        await c();
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length > 0) throw errors[0];
  });
  return (fn) => void cleanups.push(fn);
}
