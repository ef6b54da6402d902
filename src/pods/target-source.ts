/**
 * Local pods as the targets of a target group, the way Kubernetes and the AWS Load Balancer
 * Controller make them (spec 9.5, 9.6, 10.1): a pod's state reaches its endpoint after
 * `endpointsDelaySeconds`; a ready endpoint is registered after `registrationDelaySeconds`;
 * an endpoint that is not ready or is terminating is deregistered after
 * `deregistrationLagSeconds` (and then drains). With a readiness gate, a pod whose containers
 * are ready is registered anyway, and it turns Ready only when its target is `healthy`.
 */
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import type { PropagationConfig } from '../config/schema.ts';
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

type EndpointState = 'ready' | 'not_ready' | 'terminating';

export class PodTargetSource {
  readonly #o: PodTargetSourceOptions;
  /** What each pod's endpoint was last seen as, before the lag. */
  readonly #seen = new Map<string, EndpointState>();
  /** Pods whose targets this source registered (and has not deregistered). */
  readonly #registered = new Set<string>();
  /** What each pod's endpoint is now, after the lag (what the controller acts on). */
  readonly #endpoints = new Map<string, EndpointState>();
  readonly #byTarget = new Map<string, Pod>();
  readonly #timers = new Set<() => void>();
  readonly #unsubscribe: Array<() => void> = [];

  constructor(options: PodTargetSourceOptions) {
    this.#o = options;
    const { deployment, group, timeline } = options;
    this.#unsubscribe.push(deployment.onPodChange((pod) => this.#onPod(pod)));
    this.#unsubscribe.push(
      group.on((event) => {
        const pod = this.#byTarget.get(event.target.key);
        if (event.type === 'target.removed') {
          if (pod && !this.#registered.has(pod.name)) this.#byTarget.delete(event.target.key);
          return;
        }
        if (event.from.state === event.to.state) return;
        timeline.record('target.state_changed', {
          ...(pod ? { pod: pod.name } : {}),
          detail: `${event.target.key} ${event.from.state} -> ${event.to.state}${event.to.reason ? ` (${event.to.reason})` : ''}`,
        });
        if (pod !== undefined && options.readinessGate) pod.setGate(event.to.state === 'healthy');
      }),
    );
  }

  /** The pod behind a target (`ip:port`), if it is one of ours. */
  podFor(key: string): Pod | undefined {
    return this.#byTarget.get(key);
  }

  close(): void {
    for (const u of this.#unsubscribe.splice(0)) u();
    for (const cancel of this.#timers) cancel();
    this.#timers.clear();
  }

  #onPod(pod: Pod): void {
    this.#byTarget.set(targetKey(pod.ip, pod.port), pod);
    const registrable = pod.ready || (this.#o.readinessGate && pod.containersReady);
    const state: EndpointState = pod.terminating ? 'terminating' : registrable ? 'ready' : 'not_ready';
    const before = this.#seen.get(pod.name) ?? (pod.phase === 'Terminated' ? 'terminating' : 'not_ready');
    if (pod.phase === 'Terminated') this.#seen.delete(pod.name);
    else this.#seen.set(pod.name, state);
    if (state === before) return;
    const { propagation, timeline, group } = this.#o;
    const target = { id: pod.ip, port: pod.port };
    this.#after(propagation.endpointsDelaySeconds, () => {
      timeline.record(`endpoint.${state}`, { pod: pod.name });
      this.#endpoints.set(pod.name, state);
      if (state === 'ready') {
        this.#after(propagation.registrationDelaySeconds, () => {
          // A registration that arrives after the endpoint went away must not resurrect it.
          if (this.#endpoints.get(pod.name) !== 'ready') return;
          timeline.record('target.register', { pod: pod.name, detail: `${pod.ip}:${pod.port}` });
          this.#registered.add(pod.name);
          group.register([target]);
        });
      } else if (before === 'ready') {
        this.#after(propagation.deregistrationLagSeconds, () => {
          // Nothing to do when the registration never landed (the pod went away first).
          if (!this.#registered.delete(pod.name)) return;
          timeline.record('target.deregister', { pod: pod.name, detail: `${pod.ip}:${pod.port}` });
          void group.deregister([target]);
        });
      }
    });
  }

  /** Runs `fn` after `seconds` on the clock (at once for 0, keeping order). */
  #after(seconds: number, fn: () => void): void {
    if (seconds <= 0) return fn();
    const cancel = this.#o.clock.setTimer(seconds * 1000, () => {
      this.#timers.delete(cancel);
      fn();
    });
    this.#timers.add(cancel);
  }
}
