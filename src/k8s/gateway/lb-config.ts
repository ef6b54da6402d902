/**
 * LoadBalancerConfiguration as the AWS Load Balancer Controller reads it (spec 15.2.1–15.2.3):
 * the GatewayClass's (parametersRef, namespace required) and the Gateway's own
 * (infrastructure.parametersRef, in its namespace), merged by the class's mergingMode; the
 * default TargetGroupConfiguration each may name; and the GatewayClass `Accepted` verdict. Pure.
 */
import {
  type Condition,
  type Gateway,
  type GatewayApiSnapshot,
  type GatewayClass,
  type KeyValue,
  type ListenerConfiguration,
  type LoadBalancerConfiguration,
  type LoadBalancerConfigurationSpec,
  type TargetGroupConfiguration,
} from './model.ts';
import { mergeProps } from './backends.ts';

/** The class's `Accepted` condition as the controller sets it (spec 15.1.10). */
export function gatewayClassVerdict(gatewayApi: GatewayApiSnapshot, gatewayClass: GatewayClass): Pick<Condition, 'status' | 'reason' | 'message'> {
  const ref = gatewayClass.spec?.parametersRef;
  if (ref === undefined) return { status: 'True', reason: 'Accepted', message: 'Accepted' };
  if (ref.namespace === undefined || ref.namespace === '') {
    return { status: 'False', reason: 'InvalidParametersRef', message: 'Namespace must be specified in ParametersRef for LoadBalancerConfiguration' };
  }
  if (findLoadBalancerConfiguration(gatewayApi, ref.namespace, ref.name) === undefined) {
    return { status: 'False', reason: 'NotFound', message: `LoadBalancerConfiguration (${ref.name},${ref.namespace}) not found` };
  }
  return { status: 'True', reason: 'Accepted', message: 'Accepted' };
}

function findLoadBalancerConfiguration(gatewayApi: GatewayApiSnapshot, namespace: string, name: string): LoadBalancerConfiguration | undefined {
  return gatewayApi.loadBalancerConfigurations.find((c) => (c.metadata?.namespace ?? 'default') === namespace && c.metadata?.name === name);
}

/** What a Gateway is built with, or the error the controller writes to its Accepted condition. */
export type ResolvedConfig = { readonly spec: LoadBalancerConfigurationSpec; readonly defaultTargetGroupConfiguration: TargetGroupConfiguration | undefined } | { readonly error: string };

const notFound = (name: string) => `loadbalancerconfigurations.gateway.k8s.aws "${name}" not found`;

function mergeKeyValues(high: readonly KeyValue[] | undefined, low: readonly KeyValue[] | undefined): KeyValue[] | undefined {
  if (high === undefined && low === undefined) return undefined;
  const map = new Map<string, string>();
  for (const kv of low ?? []) map.set(kv.key, kv.value);
  for (const kv of high ?? []) map.set(kv.key, kv.value);
  return [...map].map(([key, value]) => ({ key, value }));
}

/** Scalars and lists whole from the higher priority; tags and attributes per key; listener configurations per protocolPort. */
export function mergeLoadBalancerConfigurations(high: LoadBalancerConfigurationSpec, low: LoadBalancerConfigurationSpec): LoadBalancerConfigurationSpec {
  const merged: Record<string, unknown> = { ...low, ...Object.fromEntries(Object.entries(high).filter(([, v]) => v !== undefined)) };
  if (high.tags !== undefined || low.tags !== undefined) merged.tags = { ...low.tags, ...high.tags };
  const attributes = mergeKeyValues(high.loadBalancerAttributes, low.loadBalancerAttributes);
  if (attributes !== undefined) merged.loadBalancerAttributes = attributes;
  if (high.listenerConfigurations !== undefined || low.listenerConfigurations !== undefined) {
    const byPort = new Map<string, ListenerConfiguration>();
    for (const c of low.listenerConfigurations ?? []) byPort.set(c.protocolPort.toLowerCase(), c);
    for (const c of high.listenerConfigurations ?? []) byPort.set(c.protocolPort.toLowerCase(), c);
    merged.listenerConfigurations = [...byPort.values()];
  }
  return merged as LoadBalancerConfigurationSpec;
}

function defaultTgc(gatewayApi: GatewayApiSnapshot, lbc: LoadBalancerConfiguration, owner: string): TargetGroupConfiguration | { error: string } | undefined {
  const name = lbc.spec?.defaultTargetGroupConfiguration?.name;
  if (name === undefined) return undefined;
  const namespace = lbc.metadata?.namespace ?? 'default';
  const tgc = gatewayApi.targetGroupConfigurations.find((c) => (c.metadata?.namespace ?? 'default') === namespace && c.metadata?.name === name);
  const lead = `failed to resolve default TargetGroupConfiguration "${name}" referenced by ${owner} LoadBalancerConfiguration "${lbc.metadata?.name}" in namespace "${namespace}"`;
  if (tgc === undefined) return { error: `${lead}: targetgroupconfigurations.gateway.k8s.aws "${name}" not found` };
  if (tgc.spec?.targetReference !== undefined) {
    return { error: `${lead}: TargetGroupConfiguration "${name}" in namespace "${namespace}" has targetReference set and cannot be used as a defaultTargetGroupConfiguration — a default TGC must not have targetReference` };
  }
  return tgc;
}

/**
 * The configuration a Gateway of `gatewayClass` is built with (spec 15.2.1), given the class's
 * `Accepted` verdict: an unaccepted class, a missing configuration or a bad default TGC is the
 * error text the controller writes to the Gateway's Accepted condition.
 */
export function resolveGatewayConfig(gatewayApi: GatewayApiSnapshot, gatewayClass: GatewayClass, gateway: Gateway, classAccepted: boolean): ResolvedConfig {
  const className = gatewayClass.metadata?.name ?? '';
  if (!classAccepted) return { error: `Unable to materialize gateway when gateway class [${className}] is not accepted` };
  const classRef = gatewayClass.spec?.parametersRef;
  const classLbc = classRef?.namespace ? findLoadBalancerConfiguration(gatewayApi, classRef.namespace, classRef.name) : undefined;
  if (classRef !== undefined && classLbc === undefined) return { error: classRef.namespace ? notFound(classRef.name) : 'Namespace must be specified in ParametersRef' };
  const gwRef = gateway.spec?.infrastructure?.parametersRef;
  const gwNamespace = gateway.metadata?.namespace ?? 'default';
  const gwLbc = gwRef === undefined ? undefined : findLoadBalancerConfiguration(gatewayApi, gwNamespace, gwRef.name);
  if (gwRef !== undefined && gwLbc === undefined) return { error: notFound(gwRef.name) };

  const classDefault = classLbc === undefined ? undefined : defaultTgc(gatewayApi, classLbc, 'GatewayClass');
  if (classDefault !== undefined && 'error' in classDefault) return { error: classDefault.error };
  const gwDefault = gwLbc === undefined ? undefined : defaultTgc(gatewayApi, gwLbc, 'Gateway');
  if (gwDefault !== undefined && 'error' in gwDefault) return { error: gwDefault.error };

  const preferGateway = classLbc?.spec?.mergingMode === 'prefer-gateway';
  let defaultTargetGroupConfiguration: TargetGroupConfiguration | undefined = classDefault ?? gwDefault;
  if (classDefault !== undefined && gwDefault !== undefined) {
    const [high, low] = preferGateway ? [gwDefault, classDefault] : [classDefault, gwDefault];
    defaultTargetGroupConfiguration = { ...high, spec: { ...high.spec, defaultConfiguration: mergeProps(high.spec?.defaultConfiguration ?? {}, low.spec?.defaultConfiguration ?? {}) ?? {} } };
  }

  const classSpec = classLbc?.spec ?? {};
  const gwSpec = gwLbc?.spec ?? {};
  let spec: LoadBalancerConfigurationSpec;
  if (classLbc === undefined) spec = gwSpec;
  else if (gwLbc === undefined) spec = classSpec;
  else spec = preferGateway ? mergeLoadBalancerConfigurations(gwSpec, classSpec) : mergeLoadBalancerConfigurations(classSpec, gwSpec);
  return { spec, defaultTargetGroupConfiguration };
}

/** The listener configuration of `PROTOCOL:port` (case-insensitive), if any (spec 15.2.3). */
export function listenerConfiguration(spec: LoadBalancerConfigurationSpec, protocol: string, port: number): ListenerConfiguration | undefined {
  const key = `${protocol}:${port}`.toLowerCase();
  return (spec.listenerConfigurations ?? []).find((c) => c.protocolPort.toLowerCase() === key);
}
