/**
 * Fixture builders for Gateway API and LBC Gateway objects: the smallest objects the Gateway
 * translation reads, with overrides. Used by the pure translation tests and to seed the fake API
 * server (which adds the CRD defaults, ./gateway-api-crds.ts).
 */
import { EMPTY_GATEWAY_API, type BackendRef, type GatewayApiSnapshot, type GatewayListener, type HTTPRouteRule, type ParentReference } from '../../src/k8s/gateway/model.ts';

export function gatewayApi(parts: Partial<GatewayApiSnapshot>): GatewayApiSnapshot {
  return { ...EMPTY_GATEWAY_API, ...parts };
}

const meta = (name: string, namespace: string | undefined, extra: { createdAt?: string; generation?: number; uid?: string; labels?: Record<string, string> } = {}) => ({
  name,
  ...(namespace !== undefined ? { namespace } : {}),
  generation: extra.generation ?? 1,
  uid: extra.uid ?? `uid-${namespace ?? ''}-${name}`,
  creationTimestamp: extra.createdAt ?? '2026-01-01T00:00:00Z',
  ...(extra.labels ? { labels: extra.labels } : {}),
});

export function gatewayClass(name: string, controllerName = 'gateway.k8s.aws/alb', parametersRef?: { name: string; namespace?: string }) {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'GatewayClass',
    metadata: meta(name, undefined),
    spec: { controllerName, ...(parametersRef ? { parametersRef: { group: 'gateway.k8s.aws', kind: 'LoadBalancerConfiguration', ...parametersRef } } : {}) },
  };
}

export function gateway(name: string, className: string, listeners: GatewayListener[], options: { namespace?: string; parametersRef?: string; uid?: string; generation?: number } = {}) {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: meta(name, options.namespace ?? 'default', { ...(options.uid ? { uid: options.uid } : {}), ...(options.generation ? { generation: options.generation } : {}) }),
    spec: {
      gatewayClassName: className,
      listeners,
      ...(options.parametersRef ? { infrastructure: { parametersRef: { group: 'gateway.k8s.aws', kind: 'LoadBalancerConfiguration', name: options.parametersRef } } } : {}),
    },
  };
}

export function listener(name: string, protocol: string, port: number, extra: Partial<GatewayListener> = {}): GatewayListener {
  return { name, protocol, port, ...extra };
}

export function backend(name: string, port: number | undefined, extra: Partial<BackendRef> = {}): BackendRef {
  return { name, ...(port !== undefined ? { port } : {}), ...extra };
}

export function httpRoute(
  name: string,
  parentRefs: ParentReference[],
  rules: HTTPRouteRule[],
  options: { namespace?: string; hostnames?: string[]; createdAt?: string; generation?: number } = {},
) {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: meta(name, options.namespace ?? 'default', { ...(options.createdAt ? { createdAt: options.createdAt } : {}), ...(options.generation ? { generation: options.generation } : {}) }),
    spec: { parentRefs, ...(options.hostnames ? { hostnames: options.hostnames } : {}), rules },
  };
}

export function grpcRoute(name: string, parentRefs: ParentReference[], rules: Array<{ matches?: Array<{ method?: { type?: 'Exact' | 'RegularExpression'; service?: string; method?: string } }>; backendRefs?: BackendRef[] }>, options: { namespace?: string; hostnames?: string[] } = {}) {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'GRPCRoute',
    metadata: meta(name, options.namespace ?? 'default'),
    spec: { parentRefs, ...(options.hostnames ? { hostnames: options.hostnames } : {}), rules },
  };
}

export function l4Route(kind: 'TCPRoute' | 'UDPRoute' | 'TLSRoute', name: string, parentRefs: ParentReference[], backendRefs: BackendRef[], options: { namespace?: string; createdAt?: string; hostnames?: string[] } = {}) {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1alpha2',
    kind,
    metadata: meta(name, options.namespace ?? 'default', options.createdAt ? { createdAt: options.createdAt } : {}),
    spec: { parentRefs, ...(options.hostnames ? { hostnames: options.hostnames } : {}), rules: [{ backendRefs }] },
  };
}

export function referenceGrant(name: string, namespace: string, from: { kind: string; namespace: string }, to: { name?: string } = {}) {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'ReferenceGrant',
    metadata: meta(name, namespace),
    spec: { from: [{ group: 'gateway.networking.k8s.io', ...from }], to: [{ group: '', kind: 'Service', ...to }] },
  };
}

export function loadBalancerConfiguration(name: string, spec: Record<string, unknown>, namespace = 'default') {
  return { apiVersion: 'gateway.k8s.aws/v1', kind: 'LoadBalancerConfiguration', metadata: meta(name, namespace), spec };
}

export function targetGroupConfiguration(name: string, spec: Record<string, unknown>, namespace = 'default') {
  return { apiVersion: 'gateway.k8s.aws/v1', kind: 'TargetGroupConfiguration', metadata: meta(name, namespace), spec };
}
