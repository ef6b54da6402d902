/**
 * The AWS Load Balancer Controller's `elbv2.k8s.aws` CRDs for the fake API server. Each CRD is
 * its own exported definition (merge them with `[...A, ...B]` into `resources`).
 *
 * TargetGroupBinding (config/crd/bases/elbv2.k8s.aws_targetgroupbindings.yaml, spec 15.3.1):
 * namespaced, v1beta1 the storage version and v1alpha1 served beside it (one store, conversion
 * None), the status subresource, and the CRD's print columns (SERVICE-NAME, SERVICE-PORT,
 * TARGET-TYPE, ARN and NAME with priority 1, i.e. `-o wide`, AGE) in ./kube-tables.ts.
 */
import type { ResourceTypeSpec } from './fake-kube-apiserver.ts';

export const TARGET_GROUP_BINDING_RESOURCES: ResourceTypeSpec[] = [
  { group: 'elbv2.k8s.aws', version: 'v1beta1', plural: 'targetgroupbindings', kind: 'TargetGroupBinding', namespaced: true, subresources: ['status'] },
  { group: 'elbv2.k8s.aws', version: 'v1alpha1', storageVersion: 'v1beta1', plural: 'targetgroupbindings', kind: 'TargetGroupBinding', namespaced: true, subresources: ['status'] },
];
