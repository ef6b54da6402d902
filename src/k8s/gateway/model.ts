/**
 * Gateway API objects (gateway.networking.k8s.io) and the AWS Load Balancer Controller's own
 * Gateway CRDs (gateway.k8s.aws), as local-elb reads them (spec 15): only the fields the
 * controller reads, as the API server serves them (plain JSON; timestamps are strings). The
 * informers in `watcher.ts` fill a `GatewayApiSnapshot`; `translate.ts` reads it and nothing else.
 */

export const ALB_GATEWAY_CONTROLLER = 'gateway.k8s.aws/alb';
export const NLB_GATEWAY_CONTROLLER = 'gateway.k8s.aws/nlb';
export type GatewayControllerName = typeof ALB_GATEWAY_CONTROLLER | typeof NLB_GATEWAY_CONTROLLER;
export const GATEWAY_API_GROUP = 'gateway.networking.k8s.io';
export const LBC_GATEWAY_GROUP = 'gateway.k8s.aws';

export const L7_ROUTE_KINDS = ['HTTPRoute', 'GRPCRoute'] as const;
export const L4_ROUTE_KINDS = ['TCPRoute', 'UDPRoute', 'TLSRoute'] as const;
export type L7RouteKind = (typeof L7_ROUTE_KINDS)[number];
export type L4RouteKind = (typeof L4_ROUTE_KINDS)[number];
export type RouteKind = L7RouteKind | L4RouteKind;

/** The route kinds each controller loads (spec 15.1.1): the other layer's routes are never read. */
export function routeKindsOf(controller: GatewayControllerName): readonly RouteKind[] {
  return controller === ALB_GATEWAY_CONTROLLER ? L7_ROUTE_KINDS : L4_ROUTE_KINDS;
}

export interface ObjectMeta {
  readonly name?: string;
  readonly namespace?: string;
  readonly uid?: string;
  readonly generation?: number;
  readonly resourceVersion?: string;
  /** RFC 3339 from the API server (client-node leaves custom objects as JSON). */
  readonly creationTimestamp?: string | Date;
  readonly deletionTimestamp?: string | Date;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface GatewayObject {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata?: ObjectMeta;
}

export interface Condition {
  readonly type: string;
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason: string;
  readonly message: string;
  readonly lastTransitionTime?: string;
  readonly observedGeneration?: number;
}

export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: ReadonlyArray<{ readonly key: string; readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; readonly values?: readonly string[] }>;
}

// ---------------------------------------------------------------------------------------------
// gateway.networking.k8s.io

export interface ParametersReference {
  readonly group?: string;
  readonly kind?: string;
  readonly name: string;
  readonly namespace?: string;
}

export interface GatewayClass extends GatewayObject {
  readonly spec?: { readonly controllerName?: string; readonly parametersRef?: ParametersReference; readonly description?: string };
  readonly status?: { readonly conditions?: readonly Condition[] };
}

export interface RouteGroupKind {
  readonly group?: string;
  readonly kind: string;
}

export interface GatewayListener {
  readonly name: string;
  readonly hostname?: string;
  readonly port: number;
  readonly protocol: string;
  readonly tls?: { readonly mode?: 'Terminate' | 'Passthrough'; readonly certificateRefs?: ReadonlyArray<{ readonly name: string; readonly namespace?: string }> };
  readonly allowedRoutes?: {
    readonly namespaces?: { readonly from?: 'All' | 'Same' | 'Selector' | 'None'; readonly selector?: LabelSelector };
    readonly kinds?: readonly RouteGroupKind[];
  };
}

export interface ListenerStatus {
  readonly name: string;
  readonly supportedKinds: readonly RouteGroupKind[];
  readonly attachedRoutes: number;
  readonly conditions: readonly Condition[];
}

export interface GatewayAddress {
  readonly type?: string;
  readonly value: string;
}

export interface Gateway extends GatewayObject {
  readonly spec?: {
    readonly gatewayClassName?: string;
    readonly listeners?: readonly GatewayListener[];
    readonly infrastructure?: { readonly parametersRef?: { readonly group?: string; readonly kind?: string; readonly name: string } };
  };
  readonly status?: { readonly addresses?: readonly GatewayAddress[]; readonly conditions?: readonly Condition[]; readonly listeners?: readonly ListenerStatus[] };
}

export interface ParentReference {
  readonly group?: string;
  readonly kind?: string;
  readonly namespace?: string;
  readonly name: string;
  readonly sectionName?: string;
  readonly port?: number;
}

export interface BackendRef {
  readonly group?: string;
  readonly kind?: string;
  readonly name: string;
  readonly namespace?: string;
  readonly port?: number;
  readonly weight?: number;
}

export interface RouteParentStatus {
  readonly parentRef: ParentReference;
  readonly controllerName: string;
  readonly conditions: readonly Condition[];
}

export interface RouteStatus {
  readonly parents?: readonly RouteParentStatus[];
}

export interface HTTPPathMatch {
  readonly type?: 'Exact' | 'PathPrefix' | 'RegularExpression';
  readonly value?: string;
}

export interface HTTPHeaderMatch {
  readonly type?: 'Exact' | 'RegularExpression';
  readonly name: string;
  readonly value: string;
}

export interface HTTPRouteMatch {
  readonly path?: HTTPPathMatch;
  readonly headers?: readonly HTTPHeaderMatch[];
  readonly queryParams?: readonly HTTPHeaderMatch[];
  readonly method?: string;
}

export interface HTTPPathModifier {
  readonly type: 'ReplaceFullPath' | 'ReplacePrefixMatch';
  readonly replaceFullPath?: string;
  readonly replacePrefixMatch?: string;
}

export interface HTTPRouteFilter {
  readonly type: string;
  readonly requestRedirect?: {
    readonly scheme?: string;
    readonly hostname?: string;
    readonly path?: HTTPPathModifier;
    readonly port?: number;
    readonly statusCode?: number;
  };
  readonly urlRewrite?: { readonly hostname?: string; readonly path?: HTTPPathModifier };
  readonly extensionRef?: { readonly group: string; readonly kind: string; readonly name: string };
}

export interface HTTPRouteRule {
  readonly name?: string;
  readonly matches?: readonly HTTPRouteMatch[];
  readonly filters?: readonly HTTPRouteFilter[];
  readonly backendRefs?: readonly BackendRef[];
}

export interface HTTPRoute extends GatewayObject {
  readonly spec?: { readonly parentRefs?: readonly ParentReference[]; readonly hostnames?: readonly string[]; readonly rules?: readonly HTTPRouteRule[] };
  readonly status?: RouteStatus;
}

export interface GRPCRouteMatch {
  readonly method?: { readonly type?: 'Exact' | 'RegularExpression'; readonly service?: string; readonly method?: string };
  readonly headers?: readonly HTTPHeaderMatch[];
}

export interface GRPCRouteRule {
  readonly name?: string;
  readonly matches?: readonly GRPCRouteMatch[];
  readonly filters?: readonly HTTPRouteFilter[];
  readonly backendRefs?: readonly BackendRef[];
}

export interface GRPCRoute extends GatewayObject {
  readonly spec?: { readonly parentRefs?: readonly ParentReference[]; readonly hostnames?: readonly string[]; readonly rules?: readonly GRPCRouteRule[] };
  readonly status?: RouteStatus;
}

/** TCPRoute, UDPRoute and TLSRoute share this shape; only TLSRoute has hostnames. */
export interface L4Route extends GatewayObject {
  readonly spec?: {
    readonly parentRefs?: readonly ParentReference[];
    readonly hostnames?: readonly string[];
    readonly rules?: ReadonlyArray<{ readonly name?: string; readonly backendRefs?: readonly BackendRef[] }>;
  };
  readonly status?: RouteStatus;
}

export interface ReferenceGrant extends GatewayObject {
  readonly spec?: {
    readonly from?: ReadonlyArray<{ readonly group: string; readonly kind: string; readonly namespace: string }>;
    readonly to?: ReadonlyArray<{ readonly group: string; readonly kind: string; readonly name?: string }>;
  };
}

// ---------------------------------------------------------------------------------------------
// gateway.k8s.aws (spec 15.2)

export interface KeyValue {
  readonly key: string;
  readonly value: string;
}

export interface ListenerConfiguration {
  readonly protocolPort: string;
  readonly defaultCertificate?: string;
  readonly certificates?: readonly string[];
  readonly sslPolicy?: string;
  readonly alpnPolicy?: string;
  readonly targetGroupStickiness?: boolean;
  /** ALB HTTPS listeners (spec 15: the controller's MutualAuthenticationAttributes): the trust store by name or ARN. */
  readonly mutualAuthentication?: { readonly mode?: string; readonly trustStore?: string; readonly ignoreClientCertificateExpiry?: boolean; readonly advertiseTrustStoreCaNames?: string };
  readonly listenerAttributes?: readonly KeyValue[];
  readonly quicEnabled?: boolean;
}

export interface LoadBalancerConfigurationSpec {
  readonly mergingMode?: 'prefer-gateway-class' | 'prefer-gateway';
  readonly loadBalancerName?: string;
  readonly scheme?: 'internal' | 'internet-facing';
  readonly ipAddressType?: string;
  readonly listenerConfigurations?: readonly ListenerConfiguration[];
  readonly loadBalancerAttributes?: readonly KeyValue[];
  readonly tags?: Readonly<Record<string, string>>;
  readonly defaultTargetGroupConfiguration?: { readonly name: string };
  readonly [field: string]: unknown;
}

export interface LoadBalancerConfiguration extends GatewayObject {
  readonly spec?: LoadBalancerConfigurationSpec;
}

export interface HealthCheckConfiguration {
  readonly healthyThresholdCount?: number;
  readonly healthCheckInterval?: number;
  readonly healthCheckPath?: string;
  readonly healthCheckPort?: string;
  readonly healthCheckProtocol?: 'HTTP' | 'HTTPS' | 'TCP';
  readonly healthCheckTimeout?: number;
  readonly unhealthyThresholdCount?: number;
  readonly matcher?: { readonly httpCode?: string; readonly grpcCode?: string };
}

export interface TargetGroupProps {
  readonly targetGroupName?: string;
  readonly ipAddressType?: 'ipv4' | 'ipv6';
  readonly healthCheckConfig?: HealthCheckConfiguration;
  readonly nodeSelector?: LabelSelector;
  readonly targetGroupAttributes?: readonly KeyValue[];
  readonly targetType?: 'instance' | 'ip';
  readonly protocol?: string;
  readonly protocolVersion?: string;
  readonly targetControlPort?: number;
  readonly enableMultiCluster?: boolean;
  readonly tags?: Readonly<Record<string, string>>;
}

export interface TargetGroupConfiguration extends GatewayObject {
  readonly spec?: {
    readonly targetReference?: { readonly group?: string; readonly kind?: string; readonly name: string };
    readonly defaultConfiguration?: TargetGroupProps;
    readonly routeConfigurations?: ReadonlyArray<{
      readonly routeIdentifier: { readonly kind?: string; readonly namespace?: string; readonly name?: string };
      readonly targetGroupProps: TargetGroupProps;
    }>;
  };
}

/** Every Gateway API and LBC Gateway object the controller reads, from its informers. */
export interface GatewayApiSnapshot {
  readonly gatewayClasses: readonly GatewayClass[];
  readonly gateways: readonly Gateway[];
  readonly httpRoutes: readonly HTTPRoute[];
  readonly grpcRoutes: readonly GRPCRoute[];
  readonly tcpRoutes: readonly L4Route[];
  readonly udpRoutes: readonly L4Route[];
  readonly tlsRoutes: readonly L4Route[];
  readonly referenceGrants: readonly ReferenceGrant[];
  readonly loadBalancerConfigurations: readonly LoadBalancerConfiguration[];
  readonly targetGroupConfigurations: readonly TargetGroupConfiguration[];
}

export const EMPTY_GATEWAY_API: GatewayApiSnapshot = {
  gatewayClasses: [],
  gateways: [],
  httpRoutes: [],
  grpcRoutes: [],
  tcpRoutes: [],
  udpRoutes: [],
  tlsRoutes: [],
  referenceGrants: [],
  loadBalancerConfigurations: [],
  targetGroupConfigurations: [],
};

/** `namespace/name` of an object (namespace `default` when absent, as the API server defaults it). */
export function keyOf(obj: GatewayObject): string {
  return `${obj.metadata?.namespace ?? 'default'}/${obj.metadata?.name ?? ''}`;
}

export function namespaceOf(obj: GatewayObject): string {
  return obj.metadata?.namespace ?? 'default';
}

export function nameOf(obj: GatewayObject): string {
  return obj.metadata?.name ?? '';
}

/** Creation time in ms (0 when unknown): the controller's tie-breaker between routes. */
export function createdMs(obj: GatewayObject): number {
  const t = obj.metadata?.creationTimestamp;
  if (t === undefined) return 0;
  const ms = t instanceof Date ? t.getTime() : Date.parse(t);
  return Number.isFinite(ms) ? ms : 0;
}

/** Whether `labels` satisfy a Kubernetes LabelSelector (an empty selector matches everything). */
export function selectorMatches(selector: LabelSelector, labels: Readonly<Record<string, string>> | undefined): boolean {
  const l = labels ?? {};
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (l[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(l, e.key);
    const values = e.values ?? [];
    if (e.operator === 'In' && !(has && values.includes(l[e.key]!))) return false;
    if (e.operator === 'NotIn' && has && values.includes(l[e.key]!)) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}
