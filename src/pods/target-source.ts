/**
 * Local pods as the targets of a target group, on the same control path as `local-elb kind`
 * (spec 9.5, 9.6, 10.1): each pod's state becomes an EndpointSlice-style endpoint after
 * `endpointsDelaySeconds` (the EndpointSlice controller's lag); the published endpoints go
 * through the one rule that turns endpoints into desired targets (`desiredTargets`) and the
 * registrar that applies them with `registrationDelaySeconds` and `deregistrationLagSeconds`
 * (`TargetRegistrar`); a readiness gate follows the target's health through `gateCondition`.
 * Only the endpoint lag and the pods are local; the rest is what kind runs.
 */
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import { TimerSet } from '../core/timers.ts';
import type { PropagationConfig } from '../config/schema.ts';
import { desiredTargets, type Endpoint } from '../runtime/endpoints.ts';
import { gateCondition } from '../runtime/reconcile.ts';
import { TargetRegistrar } from '../runtime/registrar.ts';
import type { TargetGroup } from '../targets/target-group.ts';
import { targetKey } from '../targets/target.ts';
import type { Deployment } from './deployment.ts';
import type { Pod } from './pod.ts';
import type { Timeline } from './timeline.ts';

export interface PodTargetSourceOptions {
  readonly deployment: Deployment;
  readonly group: TargetGroup;
  readonly propagation: PropagationConfig;
  readonly readinessGate: boolean;
  readonly clock: Clock;
  readonly timeline: Timeline;
  readonly logger: Logger;
}

/** An endpoint's state as the timeline names it (`endpoint.ready`, …). */
type EndpointState = 'ready' | 'not_ready' | 'terminating';

export class PodTargetSource {
  readonly #o: PodTargetSourceOptions;
  readonly #timers: TimerSet;
  readonly #registrar: TargetRegistrar;
  /** Each pod's endpoint state as last seen, before the lag. */
  readonly #seen = new Map<string, EndpointState>();
  /** The EndpointSlice as published, after the lag (what the controller acts on), by pod name. */
  readonly #published = new Map<string, { address: string; port: number; ready: boolean; terminating: boolean; pod: string }>();
  /** The pods as they are now (the controller's pod informer), by name. */
  readonly #live = new Map<string, Pod>();
  readonly #byTarget = new Map<string, Pod>();
  readonly #unsubscribe: Array<() => void> = [];

  constructor(options: PodTargetSourceOptions) {
    this.#o = options;
    const { deployment, group, timeline, clock, propagation } = options;
    this.#timers = new TimerSet(clock);
    this.#registrar = new TargetRegistrar({
      group,
      clock,
      registrationDelayMs: propagation.registrationDelaySeconds * 1000,
      deregistrationLagMs: propagation.deregistrationLagSeconds * 1000,
      applied: (action, target) => timeline.record(`target.${action}`, { ...(target.pod ? { pod: target.pod } : {}), detail: `${target.id}:${target.port}` }),
    });
    this.#unsubscribe.push(deployment.onPodChange((pod) => this.#onPod(pod)));
    this.#unsubscribe.push(
      group.on((event) => {
        const key = event.target.key;
        const pod = this.#byTarget.get(key);
        if (event.type === 'target.removed') {
          if (pod && !this.#registrar.wants(key)) this.#byTarget.delete(key);
          return;
        }
        if (event.from.state === event.to.state) return;
        timeline.record('target.state_changed', {
          ...(pod ? { pod: pod.name } : {}),
          detail: `${key} ${event.from.state} -> ${event.to.state}${event.to.reason ? ` (${event.to.reason})` : ''}`,
        });
        if (pod !== undefined && options.readinessGate) pod.setGate(gateCondition(event.to).status === 'True');
      }),
    );
  }

  /** The pod behind a target (`ip:port`), if it is one of ours. */
  podFor(key: string): Pod | undefined {
    return this.#byTarget.get(key);
  }

  close(): void {
    for (const u of this.#unsubscribe.splice(0)) u();
    this.#timers.cancelAll();
    this.#registrar.close();
  }

  #onPod(pod: Pod): void {
    this.#byTarget.set(targetKey(pod.ip, pod.port), pod);
    const terminated = pod.phase === 'Terminated';
    if (terminated) this.#live.delete(pod.name);
    else this.#live.set(pod.name, pod);
    // What the pod's EndpointSlice entry says now: it is there from the pod's creation, not
    // ready until the pod is Ready (with a readiness gate, until the gate is True too).
    const state: EndpointState = pod.terminating ? 'terminating' : pod.ready ? 'ready' : 'not_ready';
    const before = this.#seen.get(pod.name);
    if (terminated) this.#seen.delete(pod.name);
    else this.#seen.set(pod.name, state);
    // The controller watches pods that carry its readiness gate and reads their containers'
    // readiness from the pod itself (spec 9.6), so for those a change counts at once; the
    // EndpointSlice follows after its lag.
    if (this.#o.readinessGate && before !== undefined) this.#apply();
    if (state === before && !terminated) return;
    this.#after(this.#o.propagation.endpointsDelaySeconds, () => {
      if (terminated) this.#published.delete(pod.name);
      else {
        if (state !== (before ?? 'not_ready')) this.#o.timeline.record(`endpoint.${state}`, { pod: pod.name });
        this.#published.set(pod.name, { address: pod.ip, port: pod.port, ready: state === 'ready', terminating: state === 'terminating', pod: pod.name });
      }
      this.#apply();
    });
  }

  /** The published endpoints, with each pod's containers' readiness as it is now, → the registrar. */
  #apply(): void {
    const endpoints = [...this.#published.values()].map(
      (ep): Endpoint => ({ ...ep, containersReady: this.#live.get(ep.pod)?.containersReady ?? false, nodeReady: 'True' }),
    );
    this.#registrar.update(desiredTargets(endpoints));
  }

  /** Runs `fn` after `seconds` on the clock (at once for 0, keeping order). */
  #after(seconds: number, fn: () => void): void {
    if (seconds <= 0) return fn();
    this.#timers.set(seconds * 1000, fn);
  }
}
