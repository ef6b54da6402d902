/**
 * The Gateway API CRDs (gateway.networking.k8s.io: v1 GatewayClass, Gateway, HTTPRoute,
 * GRPCRoute, ReferenceGrant; v1alpha2 TCPRoute, UDPRoute, TLSRoute, as the experimental channel
 * serves them) and the AWS Load Balancer Controller's LoadBalancerConfiguration and
 * TargetGroupConfiguration (gateway.k8s.aws/v1), for the fake API server: list/watch, status
 * subresources, short names, and the defaults their structural schemas apply on every write
 * (what a real cluster's objects look like when a controller reads them: parentRefs and
 * backendRefs with group and kind, weight 1, a rule's default match, a listener's default
 * allowedRoutes, and the Pending conditions a new GatewayClass and Gateway start with).
 */
import type { KubeObject, ResourceTypeSpec } from './fake-kube-apiserver.ts';

const GROUP = 'gateway.networking.k8s.io';
const PENDING = { status: 'Unknown', reason: 'Pending', message: 'Waiting for controller', lastTransitionTime: '1970-01-01T00:00:00Z' };

function parentRefDefaults(spec: KubeObject | undefined): void {
  for (const ref of (spec?.parentRefs ?? []) as KubeObject[]) {
    ref.group ??= GROUP;
    ref.kind ??= 'Gateway';
  }
}

function backendRefDefaults(rules: KubeObject[] | undefined): void {
  for (const rule of rules ?? []) {
    for (const ref of (rule.backendRefs ?? []) as KubeObject[]) {
      ref.group ??= '';
      ref.kind ??= 'Service';
      ref.weight ??= 1;
    }
  }
}

function routeDefaults(o: KubeObject): void {
  parentRefDefaults(o.spec);
  backendRefDefaults(o.spec?.rules);
}

export const GATEWAY_API_RESOURCES: ResourceTypeSpec[] = [
  {
    group: GROUP,
    version: 'v1',
    plural: 'gatewayclasses',
    kind: 'GatewayClass',
    namespaced: false,
    subresources: ['status'],
    shortNames: ['gc'],
    categories: ['gateway-api'],
    defaults: (o) => {
      o.status ??= { conditions: [{ type: 'Accepted', ...PENDING }] };
    },
  },
  {
    group: GROUP,
    version: 'v1',
    plural: 'gateways',
    kind: 'Gateway',
    namespaced: true,
    subresources: ['status'],
    shortNames: ['gtw'],
    categories: ['gateway-api'],
    defaults: (o) => {
      for (const l of (o.spec?.listeners ?? []) as KubeObject[]) {
        l.allowedRoutes ??= { namespaces: { from: 'Same' } };
        if (l.allowedRoutes.namespaces !== undefined) l.allowedRoutes.namespaces.from ??= 'Same';
        if ((l.protocol === 'HTTPS' || l.protocol === 'TLS') && l.tls !== undefined) l.tls.mode ??= 'Terminate';
      }
      o.status ??= { conditions: [{ type: 'Accepted', ...PENDING }, { type: 'Programmed', ...PENDING }] };
    },
  },
  {
    group: GROUP,
    version: 'v1',
    plural: 'httproutes',
    kind: 'HTTPRoute',
    namespaced: true,
    subresources: ['status'],
    categories: ['gateway-api'],
    defaults: (o) => {
      routeDefaults(o);
      for (const rule of (o.spec?.rules ?? []) as KubeObject[]) {
        rule.matches ??= [{ path: { type: 'PathPrefix', value: '/' } }];
        for (const m of rule.matches as KubeObject[]) {
          if (m.path !== undefined) {
            m.path.type ??= 'PathPrefix';
            m.path.value ??= '/';
          }
          for (const h of (m.headers ?? []) as KubeObject[]) h.type ??= 'Exact';
          for (const q of (m.queryParams ?? []) as KubeObject[]) q.type ??= 'Exact';
        }
        for (const f of (rule.filters ?? []) as KubeObject[]) if (f.type === 'RequestRedirect' && f.requestRedirect !== undefined) f.requestRedirect.statusCode ??= 302;
      }
    },
  },
  { group: GROUP, version: 'v1', plural: 'grpcroutes', kind: 'GRPCRoute', namespaced: true, subresources: ['status'], categories: ['gateway-api'], defaults: routeDefaults },
  { group: GROUP, version: 'v1', plural: 'referencegrants', kind: 'ReferenceGrant', namespaced: true, shortNames: ['refgrant'], categories: ['gateway-api'] },
  { group: GROUP, version: 'v1alpha2', plural: 'tcproutes', kind: 'TCPRoute', namespaced: true, subresources: ['status'], categories: ['gateway-api'], defaults: routeDefaults },
  { group: GROUP, version: 'v1alpha2', plural: 'udproutes', kind: 'UDPRoute', namespaced: true, subresources: ['status'], categories: ['gateway-api'], defaults: routeDefaults },
  { group: GROUP, version: 'v1alpha2', plural: 'tlsroutes', kind: 'TLSRoute', namespaced: true, subresources: ['status'], categories: ['gateway-api'], defaults: routeDefaults },
  { group: 'gateway.k8s.aws', version: 'v1', plural: 'loadbalancerconfigurations', kind: 'LoadBalancerConfiguration', namespaced: true, subresources: ['status'] },
  { group: 'gateway.k8s.aws', version: 'v1', plural: 'targetgroupconfigurations', kind: 'TargetGroupConfiguration', namespaced: true, subresources: ['status'] },
];
