/**
 * The AWS Load Balancer Controller's elbv2.k8s.aws CRDs for the fake API server, as
 * config/crd/bases/elbv2.k8s.aws_*.yaml declare them: scope, subresources, short names, the
 * additionalPrinterColumns `kubectl get` prints, and the schema checks the real API server makes
 * on every write (enums, required fields, CEL rules), answered as its 422 Invalid.
 *
 * - IngressClassParams (v1beta1, cluster-scoped, singular `ingressclassparam`, no status, no
 *   short names; columns GROUP-NAME, SCHEME, IP-ADDRESS-TYPE, AGE).
 * - TargetGroupBinding (config/crd/bases/elbv2.k8s.aws_targetgroupbindings.yaml, spec 15.3.1):
 *   namespaced, v1beta1 the storage version and v1alpha1 served beside it (one store, conversion
 *   None), the status subresource, and the CRD's print columns (SERVICE-NAME, SERVICE-PORT,
 *   TARGET-TYPE, ARN and NAME with priority 1, i.e. `-o wide`, AGE) in ./kube-tables.ts.
 *
 * Another elbv2.k8s.aws kind is one more entry in ELBV2_RESOURCES.
 */
import type { KubeObject, ResourceTypeSpec } from './fake-kube-apiserver.ts';

export const ELBV2_GROUP = 'elbv2.k8s.aws';

type Cause = { field: string; message: string; reason: string };

const required = (field: string): Cause => ({ field, message: 'Required value', reason: 'FieldValueRequired' });

/** An enum field's check, in the real server's words: `Unsupported value: "x": supported values: "a", "b"`. */
function oneOf(field: string, value: unknown, allowed: readonly string[]): Cause[] {
  if (value === undefined || allowed.includes(value as string)) return [];
  return [{ field, message: `Unsupported value: ${JSON.stringify(value)}: supported values: ${allowed.map((a) => JSON.stringify(a)).join(', ')}`, reason: 'FieldValueNotSupported' }];
}

/** `[{key, value}]` lists: both required in every item. */
function keyValues(field: string, list: unknown): Cause[] {
  if (!Array.isArray(list)) return [];
  return list.flatMap((item: KubeObject, i) => [
    ...(typeof item?.key === 'string' ? [] : [required(`${field}[${i}].key`)]),
    ...(typeof item?.value === 'string' ? [] : [required(`${field}[${i}].value`)]),
  ]);
}

function ingressClassParamsCauses(o: KubeObject): Cause[] {
  const spec: KubeObject = o.spec ?? {};
  return [
    ...oneOf('spec.scheme', spec.scheme, ['internal', 'internet-facing']),
    ...oneOf('spec.ipAddressType', spec.ipAddressType, ['ipv4', 'dualstack', 'dualstack-without-public-ipv4']),
    ...oneOf('spec.targetType', spec.targetType, ['instance', 'ip']),
    ...(spec.group !== undefined && typeof spec.group?.name !== 'string' ? [required('spec.group.name')] : []),
    ...(spec.minimumLoadBalancerCapacity !== undefined && !Number.isInteger(spec.minimumLoadBalancerCapacity?.capacityUnits) ? [required('spec.minimumLoadBalancerCapacity.capacityUnits')] : []),
    ...keyValues('spec.tags', spec.tags),
    ...keyValues('spec.loadBalancerAttributes', spec.loadBalancerAttributes),
    ...(Array.isArray(spec.listeners) ? (spec.listeners as KubeObject[]).flatMap((l, i) => keyValues(`spec.listeners[${i}].listenerAttributes`, l?.listenerAttributes)) : []),
    ...(Array.isArray(spec.subnets?.ids)
      ? (spec.subnets.ids as unknown[]).flatMap((id, i) =>
          typeof id === 'string' && /subnet-[0-9a-f]+/.test(id) ? [] : [{ field: `spec.subnets.ids[${i}]`, message: `Invalid value: ${JSON.stringify(id)}: spec.subnets.ids[${i}] in body should match 'subnet-[0-9a-f]+'`, reason: 'FieldValueInvalid' }],
        )
      : []),
    // The CRD's x-kubernetes-validations rule.
    ...(spec.prefixListsIDs !== undefined && spec.PrefixListsIDs !== undefined
      ? [{ field: 'spec', message: `Invalid value: "object": cannot specify both 'prefixListsIDs' and 'PrefixListsIDs' fields`, reason: 'FieldValueInvalid' }]
      : []),
  ];
}

export const INGRESS_CLASS_PARAMS_RESOURCE: ResourceTypeSpec = {
  group: ELBV2_GROUP,
  version: 'v1beta1',
  plural: 'ingressclassparams',
  kind: 'IngressClassParams',
  singular: 'ingressclassparam',
  namespaced: false,
  validate: ingressClassParamsCauses,
  printerColumns: [
    { name: 'GROUP-NAME', type: 'string', jsonPath: '.spec.group.name', description: 'The Ingress Group name' },
    { name: 'SCHEME', type: 'string', jsonPath: '.spec.scheme', description: 'The AWS Load Balancer scheme' },
    { name: 'IP-ADDRESS-TYPE', type: 'string', jsonPath: '.spec.ipAddressType', description: 'The AWS Load Balancer ipAddressType' },
    { name: 'AGE', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
};

export const TARGET_GROUP_BINDING_RESOURCES: ResourceTypeSpec[] = [
  { group: ELBV2_GROUP, version: 'v1beta1', plural: 'targetgroupbindings', kind: 'TargetGroupBinding', namespaced: true, subresources: ['status'] },
  { group: ELBV2_GROUP, version: 'v1alpha1', storageVersion: 'v1beta1', plural: 'targetgroupbindings', kind: 'TargetGroupBinding', namespaced: true, subresources: ['status'] },
];

export const ELBV2_RESOURCES: ResourceTypeSpec[] = [INGRESS_CLASS_PARAMS_RESOURCE, ...TARGET_GROUP_BINDING_RESOURCES];
