/**
 * The parts of a cluster that the fake API server does not run, for local pods: a kubelet that
 * writes each pod's object (podIP, ContainersReady, Ready; deletionTimestamp while it
 * terminates, held by a finalizer until its process has exited) and follows the readiness-gate
 * condition the controller patches in (`pod.setGate`); and an EndpointSlice controller that
 * publishes each pod's endpoint after `endpointsDelayMs`, as `PodTargetSource` does for local
 * pods. With these, a Deployment of real local pods runs against `KubernetesController`.
 */
import type { Deployment } from '../../src/pods/deployment.ts';
import type { Pod } from '../../src/pods/pod.ts';
import type { FakeKubeApiServer } from './fake-kube-apiserver.ts';

export interface KubeletOptions {
  readonly namespace: string;
  /** The Service whose EndpointSlice lists the pods (port name `http`). */
  readonly service: string;
  readonly node: string;
  /** The pods' container port. */
  readonly port: number;
  /** The readiness gate each pod carries (`target-health.elbv2.k8s.aws/…`), if any. */
  readonly readinessGate?: string;
  /** Pod state → EndpointSlice (the EndpointSlice controller's lag). */
  readonly endpointsDelayMs: number;
}

interface EndpointSnapshot {
  readonly ip: string;
  readonly pod: string;
  readonly ready: boolean;
  readonly serving: boolean;
  readonly terminating: boolean;
}

const FINALIZER = 'local-elb.test/kubelet';

export class FakeKubelet {
  readonly #api: FakeKubeApiServer;
  readonly #o: KubeletOptions;
  readonly #published = new Map<string, EndpointSnapshot>();
  readonly #pods = new Map<string, Pod>();
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #off: () => void;
  readonly #gatePoll: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(api: FakeKubeApiServer, deployment: Deployment, options: KubeletOptions) {
    this.#api = api;
    this.#o = options;
    api.create({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      addressType: 'IPv4',
      metadata: { name: `${options.service}-local`, namespace: options.namespace, labels: { 'kubernetes.io/service-name': options.service } },
      ports: [{ name: 'http', port: options.port, protocol: 'TCP' }],
      endpoints: [],
    });
    this.#off = deployment.onPodChange((pod) => this.#changed(pod));
    for (const pod of deployment.pods()) this.#changed(pod);
    // The gate condition is the controller's to write; the kubelet reads it back (here by polling
    // the in-process store, which costs nothing).
    if (options.readinessGate !== undefined) this.#gatePoll = setInterval(() => this.#readGates(), 10);
  }

  close(): void {
    this.#closed = true;
    this.#off();
    if (this.#gatePoll) clearInterval(this.#gatePoll);
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }

  #changed(pod: Pod): void {
    if (this.#closed) return;
    const { namespace } = this.#o;
    this.#pods.set(pod.name, pod);
    const existing = this.#api.get('v1', 'Pod', namespace, pod.name);
    if (pod.phase === 'Terminated') {
      this.#pods.delete(pod.name);
      if (existing) this.#api.patch('v1', 'Pod', namespace, pod.name, { metadata: { finalizers: null } });
    } else if (existing === undefined) {
      this.#api.create(this.#object(pod), { keepStatus: true });
    } else {
      this.#api.patch('v1', 'Pod', namespace, pod.name, { status: { conditions: this.#conditions(pod) } }, { type: 'strategic', subresource: 'status' });
      if (pod.terminating && !(existing as { metadata?: { deletionTimestamp?: string } }).metadata?.deletionTimestamp) {
        this.#api.delete('v1', 'Pod', namespace, pod.name);
      }
    }
    const endpoint: EndpointSnapshot | undefined =
      pod.phase === 'Terminated'
        ? undefined
        : { ip: pod.ip, pod: pod.name, ready: pod.ready, serving: pod.containersReady && !pod.terminating, terminating: pod.terminating };
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      if (endpoint === undefined) this.#published.delete(pod.name);
      else this.#published.set(pod.name, endpoint);
      this.#writeSlice();
    }, this.#o.endpointsDelayMs);
    this.#timers.add(timer);
  }

  #writeSlice(): void {
    if (this.#closed) return;
    const { namespace, service, node } = this.#o;
    const endpoints = [...this.#published.values()].map((e) => ({
      addresses: [e.ip],
      conditions: { ready: e.ready, serving: e.serving, terminating: e.terminating },
      nodeName: node,
      targetRef: { kind: 'Pod', name: e.pod, namespace },
    }));
    this.#api.patch('discovery.k8s.io/v1', 'EndpointSlice', namespace, `${service}-local`, { endpoints });
  }

  #readGates(): void {
    const gate = this.#o.readinessGate!;
    for (const pod of this.#pods.values()) {
      const object = this.#api.get('v1', 'Pod', this.#o.namespace, pod.name) as { status?: { conditions?: Array<{ type: string; status: string }> } } | undefined;
      const condition = object?.status?.conditions?.find((c) => c.type === gate);
      if (condition !== undefined) pod.setGate(condition.status === 'True');
    }
  }

  #conditions(pod: Pod): Array<{ type: string; status: string }> {
    return [
      { type: 'ContainersReady', status: pod.containersReady ? 'True' : 'False' },
      { type: 'Ready', status: pod.ready ? 'True' : 'False' },
    ];
  }

  #object(pod: Pod): object {
    const { namespace, node, readinessGate } = this.#o;
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: pod.name, namespace, labels: { app: this.#o.service }, finalizers: [FINALIZER] },
      spec: {
        nodeName: node,
        containers: [{ name: 'app', image: 'local', ports: [{ containerPort: pod.port }] }],
        ...(readinessGate !== undefined ? { readinessGates: [{ conditionType: readinessGate }] } : {}),
      },
      status: { podIP: pod.ip, conditions: this.#conditions(pod) },
    };
  }
}
