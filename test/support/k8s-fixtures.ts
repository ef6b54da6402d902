/**
 * Fixture builders for Kubernetes objects: the smallest objects the translation reads, with
 * overrides. Used by the pure translation tests and to seed the fake API server.
 */
import type { V1EndpointSlice, V1Ingress, V1IngressClass, V1Namespace, V1Node, V1Pod, V1Service } from '@kubernetes/client-node';
import type { ClusterSnapshot } from '../../src/k8s/translate.ts';

export function snapshot(parts: Partial<ClusterSnapshot>): ClusterSnapshot {
  return { services: [], endpointSlices: [], pods: [], nodes: [], namespaces: [], ingresses: [], ingressClasses: [], ...parts };
}

export function namespace(name: string, labels: Record<string, string> = {}): V1Namespace {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } };
}

export function node(name: string, ip: string, options: { ready?: 'True' | 'False' | 'Unknown'; labels?: Record<string, string> } = {}): V1Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: options.labels ?? {} },
    status: { addresses: [{ type: 'InternalIP', address: ip }], conditions: [{ type: 'Ready', status: options.ready ?? 'True' }] },
  };
}

export function lbService(
  name: string,
  options: {
    namespace?: string;
    ports?: Array<{ name?: string; port: number; targetPort?: number; nodePort?: number; protocol?: 'TCP' | 'UDP' }>;
    annotations?: Record<string, string>;
    loadBalancerClass?: string | null;
    type?: string;
    externalTrafficPolicy?: 'Cluster' | 'Local';
    healthCheckNodePort?: number;
    selector?: Record<string, string>;
  } = {},
): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: options.namespace ?? 'default', annotations: options.annotations ?? {} },
    spec: {
      type: options.type ?? 'LoadBalancer',
      ...(options.loadBalancerClass === null ? {} : { loadBalancerClass: options.loadBalancerClass ?? 'service.k8s.aws/nlb' }),
      selector: options.selector ?? { app: name },
      ports: (options.ports ?? [{ name: 'http', port: 80, targetPort: 8080, nodePort: 30080 }]).map((p) => ({ protocol: 'TCP', ...p })),
      ...(options.externalTrafficPolicy ? { externalTrafficPolicy: options.externalTrafficPolicy } : {}),
      ...(options.healthCheckNodePort ? { healthCheckNodePort: options.healthCheckNodePort } : {}),
    },
  };
}

export interface EndpointFixture {
  ip: string;
  pod?: string;
  node?: string;
  ready?: boolean | null;
  serving?: boolean;
  terminating?: boolean;
}

export function endpointSlice(service: string, endpoints: EndpointFixture[], options: { namespace?: string; portName?: string; port?: number; name?: string } = {}): V1EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    addressType: 'IPv4',
    metadata: { name: options.name ?? `${service}-abc12`, namespace: options.namespace ?? 'default', labels: { 'kubernetes.io/service-name': service } },
    ports: [{ name: options.portName ?? 'http', port: options.port ?? 8080, protocol: 'TCP' }],
    endpoints: endpoints.map((e) => ({
      addresses: [e.ip],
      conditions: {
        ...(e.ready === null ? {} : { ready: e.ready ?? true }),
        serving: e.serving ?? e.ready ?? true,
        terminating: e.terminating ?? false,
      },
      ...(e.node ? { nodeName: e.node } : {}),
      ...(e.pod ? { targetRef: { kind: 'Pod', name: e.pod, namespace: options.namespace ?? 'default' } } : {}),
    })),
  };
}

export function pod(name: string, ip: string, options: { namespace?: string; node?: string; containersReady?: boolean; ready?: boolean; gates?: string[]; labels?: Record<string, string> } = {}): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: options.namespace ?? 'default', labels: options.labels ?? {} },
    spec: { containers: [{ name: 'app', image: 'app' }], nodeName: options.node ?? 'worker', ...(options.gates ? { readinessGates: options.gates.map((conditionType) => ({ conditionType })) } : {}) },
    status: {
      podIP: ip,
      conditions: [
        { type: 'ContainersReady', status: options.containersReady === false ? 'False' : 'True' },
        { type: 'Ready', status: options.ready === false ? 'False' : 'True' },
      ],
    },
  };
}

export const albClass: V1IngressClass = { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'alb' }, spec: { controller: 'ingress.k8s.aws/alb' } };

export function ingress(
  name: string,
  rules: Array<{ host?: string; paths: Array<{ path?: string; pathType?: 'Exact' | 'Prefix' | 'ImplementationSpecific'; service: string; port: number | string }> }>,
  options: { namespace?: string; annotations?: Record<string, string>; className?: string | null; defaultBackend?: { service: string; port: number }; tls?: Array<{ hosts: string[]; secretName?: string }> } = {},
): V1Ingress {
  const backend = (service: string, port: number | string) => ({ service: { name: service, port: typeof port === 'number' ? { number: port } : { name: port } } });
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: options.namespace ?? 'default', annotations: options.annotations ?? {} },
    spec: {
      ...(options.className === null ? {} : { ingressClassName: options.className ?? 'alb' }),
      ...(options.defaultBackend ? { defaultBackend: backend(options.defaultBackend.service, options.defaultBackend.port) } : {}),
      rules: rules.map((r) => ({
        ...(r.host ? { host: r.host } : {}),
        http: { paths: r.paths.map((p) => ({ ...(p.path !== undefined ? { path: p.path } : {}), pathType: p.pathType ?? 'Prefix', backend: backend(p.service, p.port) })) },
      })),
      ...(options.tls ? { tls: options.tls } : {}),
    },
  };
}
