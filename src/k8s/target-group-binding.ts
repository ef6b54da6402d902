/**
 * TargetGroupBinding (`elbv2.k8s.aws/v1beta1`, spec 9.4 and 15.3), the pure part: what the
 * controller's webhooks decide (name → ARN back-fill and the fields inferred from the target
 * group, 15.3.2; the validating rules: ARN or name, `targetType` instance|ip, no `nodeSelector`
 * with ip, one binding per ARN unless every one is `multiClusterTargetGroup`, immutable fields on
 * update), the targets a binding wants (its Service's endpoints, spec 9.6; nodes by
 * `nodeSelector` for instance), the readiness-gate conditions of the pods that name it (9.5),
 * and the bindings the controller itself keeps for its Services' and Ingresses' target groups
 * (15.3.5: named as the group, in the Service's namespace, with the stack labels and **no**
 * ownerReferences). Objects in, decisions out; the controller does the I/O.
 */
import type { KubernetesObject, V1LabelSelector, V1Pod, V1PodCondition, V1Service, V1ServicePort } from '@kubernetes/client-node';
import type { DesiredTarget } from '../runtime/endpoints.ts';
import type { GateCondition } from '../runtime/reconcile.ts';
import { instanceTargets, ipTargets, READINESS_GATE_PREFIX, type ClusterSnapshot, type DesiredStack } from './translate.ts';

export const TGB_GROUP = 'elbv2.k8s.aws';
/** Served versions, the controller's preferred (storage) first; no v1 exists (spec 15.3.1). */
export const TGB_VERSIONS = ['v1beta1', 'v1alpha1'] as const;
export const TGB_PLURAL = 'targetgroupbindings';
export const TGB_KIND = 'TargetGroupBinding';
/** Added before any target is touched; removed after every target is deregistered (spec 15.3.3, 15.3.4). */
export const TGB_FINALIZER = 'elbv2.k8s.aws/resources';
/** The pods' gate condition once their binding is gone (spec 9.5). */
export const TGB_DELETED_MESSAGE = 'Target Group Binding is deleted';

/** The stack labels of controller-made bindings (spec 15.3.5). */
export const STACK_LABELS = {
  serviceNamespace: 'service.k8s.aws/stack-namespace',
  serviceName: 'service.k8s.aws/stack-name',
  ingressNamespace: 'ingress.k8s.aws/stack-namespace',
  ingressName: 'ingress.k8s.aws/stack-name',
  ingressGroup: 'ingress.k8s.aws/stack',
  albGatewayNamespace: 'gateway.k8s.aws.alb/stack-namespace',
  albGatewayName: 'gateway.k8s.aws.alb/stack-name',
  nlbGatewayNamespace: 'gateway.k8s.aws.nlb/stack-namespace',
  nlbGatewayName: 'gateway.k8s.aws.nlb/stack-name',
} as const;

export interface TargetGroupBindingSpec {
  targetGroupARN?: string;
  targetGroupName?: string;
  targetType?: string;
  serviceRef?: { name?: string; port?: number | string };
  networking?: unknown;
  nodeSelector?: V1LabelSelector;
  ipAddressType?: string;
  vpcID?: string;
  targetGroupProtocol?: string;
  multiClusterTargetGroup?: boolean;
  iamRoleArnToAssume?: string;
  assumeRoleExternalId?: string;
}

export interface TargetGroupBinding extends KubernetesObject {
  spec?: TargetGroupBindingSpec;
  status?: { observedGeneration?: number; conditions?: unknown[] };
}

/** What the webhooks read of a target group (DescribeTargetGroups). */
export interface BoundTargetGroup {
  readonly arn: string;
  readonly name: string;
  readonly targetType: string;
  readonly ipAddressType: string;
  readonly protocol: string;
  readonly vpcId: string;
}

const keyOf = (o: KubernetesObject) => `${o.metadata?.namespace ?? 'default'}/${o.metadata?.name ?? ''}`;

/** True for the controller's own bindings (they carry a stack label); the rest are the user's. */
export function isControllerMade(tgb: TargetGroupBinding): boolean {
  const labels = tgb.metadata?.labels ?? {};
  return Object.values(STACK_LABELS).some((l) => l in labels);
}

/**
 * The mutating webhook on create (spec 15.3.2), done at the first reconcile: the spec fields to
 * write (`targetGroupARN` from `targetGroupName`; `targetType`, `ipAddressType`, `vpcID`,
 * `targetGroupProtocol` from the group when absent), nothing when all are there, or the error
 * the webhook would refuse the object with.
 */
export function backfill(
  spec: TargetGroupBindingSpec,
  lookup: { byArn(arn: string): BoundTargetGroup | undefined; byName(name: string): BoundTargetGroup | undefined },
): { patch: Partial<TargetGroupBindingSpec> } | { error: string } | undefined {
  if (!spec.targetGroupARN && !spec.targetGroupName) return { error: 'must provide either TargetGroupARN or TargetGroupName' };
  let group: BoundTargetGroup | undefined;
  const patch: Partial<TargetGroupBindingSpec> = {};
  if (!spec.targetGroupARN) {
    group = lookup.byName(spec.targetGroupName!);
    if (group === undefined) return { error: `TargetGroupNotFound: One or more target groups not found: '${spec.targetGroupName}'` };
    patch.targetGroupARN = group.arn;
  } else {
    group = lookup.byArn(spec.targetGroupARN);
  }
  const missing = spec.targetType === undefined || spec.ipAddressType === undefined || spec.vpcID === undefined || spec.targetGroupProtocol === undefined;
  if (missing && group === undefined) {
    // The validating pass names the missing group (FailedReconcile) when the ARN is unknown.
    return Object.keys(patch).length > 0 ? { patch } : undefined;
  }
  if (group !== undefined) {
    if (spec.targetType === undefined) {
      if (group.targetType !== 'instance' && group.targetType !== 'ip') return { error: `couldn't determine TargetType: unsupported TargetType: ${group.targetType}` };
      patch.targetType = group.targetType;
    }
    if (spec.ipAddressType === undefined) patch.ipAddressType = group.ipAddressType === '' ? 'ipv4' : group.ipAddressType;
    if (spec.vpcID === undefined) patch.vpcID = group.vpcId;
    if (spec.targetGroupProtocol === undefined) patch.targetGroupProtocol = group.protocol;
  }
  return Object.keys(patch).length > 0 ? { patch } : undefined;
}

/**
 * The validating webhook's rules for one binding among all of them (spec 15.3.2): the first
 * problem, in the webhook's words, or undefined when it would be admitted. Of several bindings
 * on one ARN the oldest is the one admitted (the webhook refuses the later ones on create).
 */
export function bindingProblem(tgb: TargetGroupBinding, all: readonly TargetGroupBinding[]): string | undefined {
  const spec = tgb.spec ?? {};
  if (!spec.targetGroupARN && !spec.targetGroupName) return 'must provide either TargetGroupARN or TargetGroupName';
  if (spec.targetType === undefined) return 'TargetGroupBinding must specify these fields: spec.targetType';
  if (spec.targetType !== 'instance' && spec.targetType !== 'ip') return `spec.targetType: Unsupported value: ${JSON.stringify(spec.targetType)}: supported values: "instance", "ip"`;
  if (!spec.serviceRef?.name || spec.serviceRef.port === undefined || spec.serviceRef.port === '') return 'spec.serviceRef: Required value: name and port';
  if (spec.targetType === 'ip' && spec.nodeSelector !== undefined && spec.nodeSelector !== null) return 'TargetGroupBinding cannot set NodeSelector when TargetType is ip';
  if (spec.iamRoleArnToAssume && spec.targetType === 'instance') return 'Unable to use instance target type while using assume role';
  if (spec.ipAddressType !== undefined && spec.ipAddressType !== 'ipv4' && spec.ipAddressType !== 'ipv6') return `spec.ipAddressType: Unsupported value: ${JSON.stringify(spec.ipAddressType)}: supported values: "ipv4", "ipv6"`;
  const arn = spec.targetGroupARN;
  if (arn) {
    const sharing = all.filter((o) => o.spec?.targetGroupARN === arn && !o.metadata?.deletionTimestamp);
    const allMulti = sharing.every((o) => o.spec?.multiClusterTargetGroup === true);
    const first = [...sharing].sort(olderFirst)[0];
    if (!allMulti && first !== undefined && keyOf(first) !== keyOf(tgb)) return `TargetGroup ${arn} is already bound to TargetGroupBinding ${keyOf(first)}`;
  }
  return undefined;
}

function olderFirst(a: KubernetesObject, b: KubernetesObject): number {
  const t = (o: KubernetesObject) => Date.parse(String(o.metadata?.creationTimestamp ?? '')) || 0;
  return t(a) - t(b) || keyOf(a).localeCompare(keyOf(b));
}

/** The validating webhook on update (spec 15.3.2): the immutable fields `next` changes against what was admitted. */
export function changedImmutableFields(admitted: TargetGroupBindingSpec, next: TargetGroupBindingSpec): string[] {
  const changed: string[] = [];
  if ((admitted.targetGroupARN ?? '') !== (next.targetGroupARN ?? '')) changed.push('spec.targetGroupARN');
  if (admitted.targetType !== next.targetType) changed.push('spec.targetType');
  const oldIp = admitted.ipAddressType;
  const newIp = next.ipAddressType;
  if ((oldIp === undefined && newIp !== undefined && newIp !== 'ipv4') || (newIp === undefined && oldIp !== undefined) || (oldIp !== undefined && newIp !== undefined && oldIp !== newIp)) {
    changed.push('spec.ipAddressType');
  }
  if ((admitted.vpcID ?? '') !== '' && (next.vpcID ?? '') !== admitted.vpcID) changed.push('spec.vpcID');
  return changed;
}

/** The message of the update the webhook refuses. */
export const immutableMessage = (fields: readonly string[]) => `TargetGroupBinding update may not change these fields: ${fields.join(',')}`;

/** `matchLabels` and `matchExpressions` (In, NotIn, Exists, DoesNotExist) against labels. */
export function matchesSelector(selector: V1LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const values = e.values ?? [];
    const ok =
      e.operator === 'In' ? has && values.includes(labels[e.key]!)
      : e.operator === 'NotIn' ? !has || !values.includes(labels[e.key]!)
      : e.operator === 'Exists' ? has
      : e.operator === 'DoesNotExist' ? !has
      : false;
    if (!ok) return false;
  }
  return true;
}

/** The Service port `serviceRef.port` names: a number is `spec.ports[].port`, a string a port's name. */
export function servicePortOf(service: V1Service, ref: number | string): V1ServicePort | undefined {
  const ports = service.spec?.ports ?? [];
  if (typeof ref === 'number') return ports.find((p) => p.port === ref);
  return ports.find((p) => p.name === ref) ?? (/^\d+$/.test(ref) ? ports.find((p) => p.port === Number(ref)) : undefined);
}

export type BindingTargets =
  | { readonly targets: DesiredTarget[] }
  /** The Service is gone: every target is deregistered (spec 15.3.3, event BackendNotFound). */
  | { readonly backendNotFound: string }
  | { readonly error: string };

/**
 * The targets a binding wants (spec 9.6, 15.3.3): `ip`, the endpoints of its Service port from
 * the EndpointSlices; `instance`, the eligible nodes that match `nodeSelector` at the port's NodePort.
 */
export function bindingTargets(snapshot: ClusterSnapshot, tgb: TargetGroupBinding): BindingTargets {
  const spec = tgb.spec ?? {};
  const ns = tgb.metadata?.namespace ?? 'default';
  const name = spec.serviceRef?.name ?? '';
  const service = snapshot.services.find((s) => s.metadata?.namespace === ns && s.metadata?.name === name);
  if (service === undefined) return { backendNotFound: `backend not found: Service "${name}" not found` };
  const port = servicePortOf(service, spec.serviceRef?.port ?? '');
  if (port === undefined) return { error: `unable to find port ${String(spec.serviceRef?.port)} on service ${ns}/${name}` };
  if (spec.targetType === 'ip') return { targets: ipTargets(snapshot, service, port) };
  if (!port.nodePort) return { error: `service type must be either 'NodePort' or 'LoadBalancer': ${ns}/${name}` };
  const selector = spec.nodeSelector;
  const nodes = selector ? snapshot.nodes.filter((n) => matchesSelector(selector, n.metadata?.labels ?? {})) : snapshot.nodes;
  return { targets: instanceTargets({ ...snapshot, nodes }, port) };
}

/**
 * The readiness-gate conditions to write for a binding (spec 9.5): for each pod that carries
 * the gate `target-health.elbv2.k8s.aws/<binding>` and is one of its targets, the target's
 * condition (`health(target)`); after deletion (`deleted`), True with "Target Group Binding is
 * deleted". Only changed conditions are returned; `lastTransitionTime` moves only with `status`.
 */
export function bindingGateConditions(
  pods: readonly V1Pod[],
  bindingName: string,
  targets: readonly DesiredTarget[],
  health: (target: DesiredTarget) => GateCondition,
  options: { readonly deleted?: boolean; readonly namespace: string; readonly now: Date },
): Array<{ pod: V1Pod; condition: V1PodCondition }> {
  const gate = `${READINESS_GATE_PREFIX}${bindingName}`;
  const byPod = new Map(targets.filter((t) => t.pod !== undefined).map((t) => [t.pod!, t]));
  const out: Array<{ pod: V1Pod; condition: V1PodCondition }> = [];
  for (const pod of pods) {
    if (pod.metadata?.namespace !== options.namespace || pod.metadata?.deletionTimestamp) continue;
    if (!(pod.spec?.readinessGates ?? []).some((g) => g.conditionType === gate)) continue;
    const target = byPod.get(`${pod.metadata?.namespace}/${pod.metadata?.name}`);
    let wanted: GateCondition;
    if (options.deleted) wanted = { status: 'True', reason: '', message: TGB_DELETED_MESSAGE };
    else if (target === undefined) continue;
    else wanted = health(target);
    const existing = pod.status?.conditions?.find((c) => c.type === gate);
    if (existing && existing.status === wanted.status && (existing.reason ?? '') === wanted.reason && (existing.message ?? '') === wanted.message) continue;
    out.push({
      pod,
      condition: {
        type: gate,
        status: wanted.status,
        reason: wanted.reason,
        message: wanted.message,
        lastProbeTime: null as never,
        lastTransitionTime: (existing && existing.status === wanted.status ? existing.lastTransitionTime : options.now) as Date,
      },
    });
  }
  return out;
}

/** One binding the controller keeps for a target group of its stacks. */
export interface ControllerBinding {
  readonly namespace: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly spec: Required<Pick<TargetGroupBindingSpec, 'targetGroupARN' | 'targetType' | 'ipAddressType'>> & { serviceRef: { name: string; port: number } };
}

/** The stack labels of a stack (spec 15.3.5), from its key (`service/<ns>/<name>`, `ingress/<ns>/<name>` or `ingress/<group>`, `gateway/…`). */
export function stackLabels(stack: Pick<DesiredStack, 'key' | 'type' | 'owners'>): Record<string, string> {
  const owner = stack.owners[0];
  if (stack.key.startsWith('service/') && owner) return { [STACK_LABELS.serviceNamespace]: owner.namespace, [STACK_LABELS.serviceName]: owner.name };
  if (stack.key.startsWith('ingress/')) {
    const group = stack.key.slice('ingress/'.length);
    if (!group.includes('/')) return { [STACK_LABELS.ingressGroup]: group };
    const [namespace, name] = group.split('/');
    return { [STACK_LABELS.ingressNamespace]: namespace!, [STACK_LABELS.ingressName]: name! };
  }
  if (owner?.kind === 'Gateway') {
    return stack.type === 'application'
      ? { [STACK_LABELS.albGatewayNamespace]: owner.namespace, [STACK_LABELS.albGatewayName]: owner.name }
      : { [STACK_LABELS.nlbGatewayNamespace]: owner.namespace, [STACK_LABELS.nlbGatewayName]: owner.name };
  }
  return {};
}

/**
 * The bindings the controller keeps (spec 15.3.5): one per target group of each stack that says
 * which Service port it comes from, named as the group, in that Service's namespace, with the
 * stack's labels, `spec.targetGroupARN` as the ELBv2 API shows it (`arnOf`), `ipAddressType: ipv4`.
 */
export function controllerBindings(stacks: readonly DesiredStack[], arnOf: (targetGroupName: string) => string): ControllerBinding[] {
  const out: ControllerBinding[] = [];
  for (const stack of stacks) {
    const labels = stackLabels(stack);
    for (const [tgName, backend] of Object.entries(stack.backends ?? {})) {
      out.push({
        namespace: backend.namespace,
        name: tgName,
        labels,
        spec: { targetGroupARN: arnOf(tgName), targetType: backend.targetType, ipAddressType: 'ipv4', serviceRef: { name: backend.name, port: backend.port } },
      });
    }
  }
  return out.sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
}

/**
 * What to do with the controller-made bindings that exist (`existing`, those with stack labels):
 * create the missing, patch those whose spec or labels differ, delete the leftovers (spec 15.3.5:
 * paired by `spec.targetGroupARN`).
 */
export function diffControllerBindings(
  desired: readonly ControllerBinding[],
  existing: readonly TargetGroupBinding[],
): { create: ControllerBinding[]; update: ControllerBinding[]; remove: TargetGroupBinding[] } {
  const mine = existing.filter(isControllerMade);
  const byArn = new Map(mine.map((o) => [o.spec?.targetGroupARN ?? '', o]));
  const wanted = new Set(desired.map((d) => d.spec.targetGroupARN));
  const create: ControllerBinding[] = [];
  const update: ControllerBinding[] = [];
  for (const d of desired) {
    const have = byArn.get(d.spec.targetGroupARN);
    if (have === undefined || have.metadata?.deletionTimestamp) {
      if (have === undefined) create.push(d);
      continue;
    }
    const s = have.spec ?? {};
    const labels = have.metadata?.labels ?? {};
    const same =
      s.targetType === d.spec.targetType &&
      s.ipAddressType === d.spec.ipAddressType &&
      s.serviceRef?.name === d.spec.serviceRef.name &&
      s.serviceRef?.port === d.spec.serviceRef.port &&
      Object.entries(d.labels).every(([k, v]) => labels[k] === v);
    if (!same) update.push(d);
  }
  const remove = mine.filter((o) => !wanted.has(o.spec?.targetGroupARN ?? '') && !o.metadata?.deletionTimestamp);
  return { create, update, remove };
}

/** The ConfigMap where a `multiClusterTargetGroup` binding records the targets it registered (spec 15.3.6). */
export const trackedTargetsConfigMap = (bindingName: string) => `aws-lbc-targets-${bindingName}`;

/** The ConfigMap's `targets` value: `id:port` entries, comma-separated and sorted. */
export function trackedTargetsCsv(targets: readonly { id: string; port: number }[]): string {
  return [...new Set(targets.map((t) => `${t.id}:${t.port}`))].sort().join(',');
}

export function parseTrackedTargets(csv: string | undefined): Set<string> {
  return new Set((csv ?? '').split(',').map((s) => s.trim()).filter((s) => s !== ''));
}
