/**
 * IngressClassParams (`elbv2.k8s.aws/v1beta1`) and `IngressClass.spec.parameters`, as the AWS
 * Load Balancer Controller loads and applies them (spec 15.4; ELB-BEHAVIOUR 9.1, 9.3). Pure:
 * objects in, decisions out; translate.ts calls it.
 *
 * - Loading (15.4.1, the controller's class_loader.go and group_loader.go): which Ingresses are
 *   the controller's, which params each gets, and its IngressGroup. A loading error keeps that
 *   one Ingress out of every group (Warning `FailedLoadGroupID`, "failed load groupID due to …").
 * - Per field (15.4.2): "overrides" fields replace the annotation for the Ingresses of the class;
 *   tags, load balancer attributes and listener attributes merge key by key.
 * - Across a group (15.4.3): more than one value of a setting fails the whole group with the
 *   controller's words (`conflicting scheme: …`); translate.ts turns that into Warning
 *   `FailedBuildModel` "Failed build model due to …" and the running load balancer stays as it was.
 */
import type { KubernetesObject, V1Ingress, V1IngressClass, V1LabelSelector, V1Namespace } from '@kubernetes/client-node';

export const ELBV2_GROUP = 'elbv2.k8s.aws';
export const INGRESS_CLASS_PARAMS_KIND = 'IngressClassParams';
const ALB_CONTROLLER = 'ingress.k8s.aws/alb';
const ING = 'alb.ingress.kubernetes.io/';

export interface KeyValue {
  readonly key: string;
  readonly value: string;
}

/** `spec` of an IngressClassParams, as apis/elbv2/v1beta1/ingressclassparams_types.go declares it. */
export interface IngressClassParamsSpec {
  readonly loadBalancerName?: string;
  readonly certificateArn?: readonly string[];
  readonly namespaceSelector?: V1LabelSelector;
  readonly group?: { readonly name: string };
  readonly scheme?: 'internal' | 'internet-facing';
  readonly inboundCIDRs?: readonly string[];
  readonly sslPolicy?: string;
  readonly sslRedirectPort?: string;
  readonly subnets?: { readonly ids?: readonly string[]; readonly tags?: Readonly<Record<string, readonly string[]>> };
  readonly ipAddressType?: 'ipv4' | 'dualstack' | 'dualstack-without-public-ipv4';
  readonly tags?: readonly KeyValue[];
  readonly targetType?: 'instance' | 'ip';
  readonly loadBalancerAttributes?: readonly KeyValue[];
  readonly listeners?: ReadonlyArray<{ readonly protocol?: 'HTTP' | 'HTTPS'; readonly port?: number; readonly listenerAttributes?: readonly KeyValue[] }>;
  readonly minimumLoadBalancerCapacity?: { readonly capacityUnits: number };
  readonly ipamConfiguration?: { readonly ipv4IPAMPoolId?: string };
  /** The legacy spelling of prefixListsIDs. */
  readonly PrefixListsIDs?: readonly string[];
  readonly prefixListsIDs?: readonly string[];
  readonly wafv2AclArn?: string;
  readonly wafv2AclName?: string;
}

export interface IngressClassParams extends KubernetesObject {
  readonly spec?: IngressClassParamsSpec;
}

/** How the controller classifies one Ingress (group_loader.go classifyIngress). */
export type IngressClassification =
  /** Not the controller's (another class, or no class and no annotation). */
  | { readonly managed: false }
  /** The controller's, with the params of its class when it has any, and its group. */
  | { readonly managed: true; readonly params: IngressClassParams | undefined; readonly group: string }
  /** The controller's class, but loading failed: the Ingress joins no group. */
  | { readonly managed: false; readonly error: string };

// ---------------------------------------------------------------------------------------------
// Loading

/** `^([a-z0-9][-a-z0-9.]*)?[a-z0-9]$`, at most 63 characters (group_loader.go validateGroupName). */
function groupNameError(name: string): string | undefined {
  if (!/^([a-z0-9][-a-z0-9.]*)?[a-z0-9]$/.test(name)) {
    return "groupName must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
  }
  if (name.length > 63) return 'groupName must be no more than 63 characters';
  return undefined;
}

/** A LabelSelector against a label set, as metav1.LabelSelectorAsSelector matches it; an error for an unknown operator. */
export function selectorMatches(selector: V1LabelSelector, labels: Readonly<Record<string, string>>): boolean | { error: string } {
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const values = e.values ?? [];
    switch (e.operator) {
      case 'In':
        if (!has || !values.includes(labels[e.key]!)) return false;
        break;
      case 'NotIn':
        if (has && values.includes(labels[e.key]!)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return { error: `"${e.operator}" is not a valid label selector operator` };
    }
  }
  return true;
}

/**
 * Which Ingresses the controller manages, with their params and group (spec 15.4.1): the
 * `kubernetes.io/ingress.class` annotation first (such Ingresses never get params), then
 * `spec.ingressClassName` naming an IngressClass of `ingress.k8s.aws/alb`, whose
 * `spec.parameters` must name an IngressClassParams of elbv2.k8s.aws; the params' group.name
 * beats the Ingress's group.name annotation. An Ingress without a class gets the cluster's
 * default IngressClass (annotation `ingressclass.kubernetes.io/is-default-class: "true"`).
 */
export function classifyIngress(
  ingress: V1Ingress,
  cluster: { readonly ingressClasses: readonly V1IngressClass[]; readonly ingressClassParams?: readonly IngressClassParams[]; readonly namespaces: readonly V1Namespace[] },
): IngressClassification {
  const namespace = ingress.metadata?.namespace ?? 'default';
  const annotations = ingress.metadata?.annotations ?? {};
  const invalid = (why: string) => ({ managed: false as const, error: `invalid ingress class: ${why}` });
  let params: IngressClassParams | undefined;
  const classAnnotation = annotations['kubernetes.io/ingress.class'];
  if (classAnnotation !== undefined) {
    if (classAnnotation !== 'alb') return { managed: false };
  } else {
    let className = ingress.spec?.ingressClassName;
    if (!className) {
      // No class: the cluster's default IngressClass, if any (class_loader.go GetDefaultIngressClass).
      const defaults = cluster.ingressClasses.filter((c) => c.metadata?.annotations?.['ingressclass.kubernetes.io/is-default-class'] === 'true');
      if (defaults.length > 1) return { managed: false, error: 'multiple default IngressClasses found' };
      className = defaults[0]?.metadata?.name;
      if (!className) return { managed: false };
    }
    const ingressClass = cluster.ingressClasses.find((c) => c.metadata?.name === className);
    if (ingressClass === undefined) return invalid(`ingressclasses.networking.k8s.io "${className}" not found`);
    if (ingressClass.spec?.controller !== ALB_CONTROLLER) return { managed: false };
    const ref = ingressClass.spec.parameters;
    if (ref !== undefined && ref !== null) {
      if (ref.apiGroup !== ELBV2_GROUP || ref.kind !== INGRESS_CLASS_PARAMS_KIND) return invalid(`IngressClass ${className} references unknown parameters`);
      params = (cluster.ingressClassParams ?? []).find((p) => p.metadata?.name === ref.name);
      if (params === undefined) return invalid(`ingressclassparams.${ELBV2_GROUP} "${ref.name}" not found`);
      const selector = params.spec?.namespaceSelector;
      if (selector !== undefined && selector !== null) {
        const ns = cluster.namespaces.find((n) => n.metadata?.name === namespace);
        if (ns === undefined) return invalid(`namespaces "${namespace}" not found`);
        const match = selectorMatches(selector, ns.metadata?.labels ?? {});
        if (typeof match === 'object') return invalid(match.error);
        if (!match) return invalid(`namespaceSelector of IngressClassParams ${params.metadata?.name ?? ''} mismatch`);
      }
    }
  }
  const explicit = params?.spec?.group?.name ?? annotations[`${ING}group.name`];
  if (explicit !== undefined) {
    const why = groupNameError(explicit);
    if (why !== undefined) return { managed: false, error: `invalid ingress group: ${why}` };
    return { managed: true, params, group: explicit };
  }
  return { managed: true, params, group: `${namespace}/${ingress.metadata?.name ?? ''}` };
}

// ---------------------------------------------------------------------------------------------
// Across a group

/** A model-build error of the whole group (Warning FailedBuildModel, "Failed build model due to …"). */
export class IngressModelError extends Error {}

/** One group member as these functions read it. */
export interface ParamsMember {
  /** `namespace/name`. */
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  readonly annotations: Readonly<Record<string, string>>;
  readonly params: IngressClassParams | undefined;
}

/** Go's `%v` of a sets.String: `map[a:{} b:{}]`, keys sorted. */
const goSet = (values: ReadonlySet<string>) => `map[${[...values].sort().map((v) => `${v}:{}`).join(' ')}]`;
/** Go's `%v` of a sorted []string: `[a b]`. */
const goList = (values: Iterable<string>) => `[${[...values].sort().join(' ')}]`;

/** Each member's params value, else its annotation value (the "overrides" rule). */
function explicitValues(members: readonly ParamsMember[], fromParams: (s: IngressClassParamsSpec) => string | undefined, annotation: string): Set<string> {
  const values = new Set<string>();
  for (const m of members) {
    const p = m.params?.spec === undefined ? undefined : fromParams(m.params.spec);
    if (p !== undefined && p !== '') values.add(p);
    else if (m.annotations[`${ING}${annotation}`] !== undefined) values.add(m.annotations[`${ING}${annotation}`]!);
  }
  return values;
}

/** The group's load balancer name from loadBalancerName or `load-balancer-name`; undefined: the generated one. */
export function groupLoadBalancerName(members: readonly ParamsMember[]): string | undefined {
  const names = explicitValues(members, (s) => s.loadBalancerName, 'load-balancer-name');
  if (names.size > 1) throw new IngressModelError(`conflicting load balancer name: ${goSet(names)}`);
  const name = [...names][0];
  if (name !== undefined && name.length > 32) throw new IngressModelError('load balancer name cannot be longer than 32 characters');
  return name;
}

/** `internal` (the controller's `--default-load-balancer-scheme`) unless params or `scheme` say otherwise. */
export function groupScheme(members: readonly ParamsMember[]): 'internal' | 'internet-facing' {
  const schemes = explicitValues(members, (s) => s.scheme, 'scheme');
  if (schemes.size > 1) throw new IngressModelError(`conflicting scheme: ${goSet(schemes)}`);
  const scheme = [...schemes][0] ?? 'internal';
  if (scheme !== 'internal' && scheme !== 'internet-facing') throw new IngressModelError(`unknown scheme: ${scheme}`);
  return scheme;
}

export function groupIpAddressType(members: readonly ParamsMember[]): 'ipv4' | 'dualstack' | 'dualstack-without-public-ipv4' {
  const types = explicitValues(members, (s) => s.ipAddressType, 'ip-address-type');
  if (types.size > 1) throw new IngressModelError(`conflicting IPAddressType: ${goList(types)}`);
  const type = [...types][0] ?? 'ipv4';
  if (type !== 'ipv4' && type !== 'dualstack' && type !== 'dualstack-without-public-ipv4') throw new IngressModelError(`unknown IPAddressType: ${type}`);
  return type;
}

/** Subnets: params and the `subnets` annotation may not mix in a group, and each side must agree. */
export function checkGroupSubnets(members: readonly ParamsMember[]): void {
  const selectors: string[] = [];
  const lists: string[][] = [];
  for (const m of members) {
    const s = m.params?.spec?.subnets;
    if (s !== undefined && s !== null) selectors.push(JSON.stringify({ ids: s.ids ?? null, tags: s.tags === undefined ? null : Object.fromEntries(Object.entries(s.tags).sort()) }));
    else if (m.annotations[`${ING}subnets`] !== undefined) lists.push(m.annotations[`${ING}subnets`]!.split(',').map((x) => x.trim()).filter(Boolean));
  }
  if (selectors.length > 0) {
    if (lists.length > 0) throw new IngressModelError('conflicting subnet specifications: IngressClassParams versus annotation');
    if (selectors.some((s) => s !== selectors[0])) throw new IngressModelError('conflicting IngressClassParams subnet specifications');
    return;
  }
  const first = lists[0];
  for (const other of lists.slice(1)) {
    if ([...other].sort().join(',') !== [...first!].sort().join(',')) throw new IngressModelError(`conflicting subnets: [${first!.join(' ')}] | [${other.join(' ')}]`);
  }
}

/** WAFv2: names (params then annotation) win over ARNs; more than one of either fails the group. */
export function checkGroupWafv2(members: readonly ParamsMember[]): void {
  const names = explicitValues(members, (s) => s.wafv2AclName, 'wafv2-acl-name');
  if (names.size === 0) {
    const arns = explicitValues(members, (s) => s.wafv2AclArn, 'wafv2-acl-arn');
    if (arns.size > 1) throw new IngressModelError(`conflicting WAFv2 WebACL ARNs: ${goList(arns)}`);
  }
  if (names.size > 1) throw new IngressModelError(`conflicting WAFv2 WebACL names: ${goList(names)}`);
}

/**
 * Capacity reservation and IPAM pool (model_build_load_balancer_capacity_reservation.go,
 * model_build_ipam.go): the first member's class decides when it sets them; otherwise the
 * members' annotations must agree. Neither has a local effect; only their errors do.
 */
export function checkGroupCapacityAndIpam(members: readonly ParamsMember[], parseMap: (raw: string | undefined) => Record<string, string>): void {
  if (members[0]?.params?.spec?.minimumLoadBalancerCapacity === undefined) {
    const capacity: Record<string, string> = {};
    for (const m of members) {
      for (const [k, v] of Object.entries(parseMap(m.annotations[`${ING}minimum-load-balancer-capacity`]))) {
        if (Object.hasOwn(capacity, k) && capacity[k] !== v) throw new IngressModelError(`conflicting capacity reservation ${k}: ${capacity[k]} | ${v}`);
        capacity[k] = v;
      }
    }
    for (const [k, v] of Object.entries(capacity)) {
      if (k !== 'CapacityUnits') throw new IngressModelError(`invalid key to set the capacity: ${k}, Expected key: CapacityUnits`);
      if (!/^[+-]?\d+$/.test(v) || Math.abs(Number(v)) > 2 ** 31 - 1) throw new IngressModelError(`invalid value to set the capacity: ${v}: strconv.ParseInt: parsing ${JSON.stringify(v)}: invalid syntax`);
    }
  }
  if (members[0]?.params?.spec?.ipamConfiguration?.ipv4IPAMPoolId === undefined) {
    let pool: string | undefined;
    for (const m of members) {
      const own = m.annotations[`${ING}ipam-ipv4-pool-id`];
      if (own === undefined || own === '') continue;
      if (pool !== undefined && own !== pool) throw new IngressModelError(`conflicting ipv4 ipam pools ${pool}: ${own}`);
      pool = own;
    }
  }
}

const toMap = (list: readonly KeyValue[] | undefined): Record<string, string> => Object.fromEntries((list ?? []).map((kv) => [kv.key, kv.value]));

/**
 * Tags (model_build_tags.go): per member, its class's tags over its `tags` annotation; across
 * the group one value per key.
 */
export function groupTags(members: readonly ParamsMember[], parseMap: (raw: string | undefined) => Record<string, string>): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const m of members) {
    const own = { ...parseMap(m.annotations[`${ING}tags`]), ...toMap(m.params?.spec?.tags) };
    for (const [k, v] of Object.entries(own)) {
      if (Object.hasOwn(tags, k) && tags[k] !== v) throw new IngressModelError(`conflicting tag ${k}: ${tags[k]} | ${v}`);
      tags[k] = v;
    }
  }
  return tags;
}

/**
 * Attributes of the load balancer or of one listener (model_build_load_balancer_attributes.go,
 * model_build_listener.go): the annotations of the members, where two values of one key fail
 * the group unless the class of the first member sets that key; then the class's over them.
 */
function mergeWithClass(
  members: readonly ParamsMember[],
  classAttributes: Record<string, string>,
  annotationOf: (m: ParamsMember) => Record<string, string>,
  conflict: (key: string, was: string, now: string, m: ParamsMember) => string,
  resolved: (key: string, was: string, now: string, classValue: string) => void,
): Record<string, string> {
  const fromAnnotations: Record<string, string> = {};
  for (const m of members) {
    for (const [k, v] of Object.entries(annotationOf(m))) {
      const was = fromAnnotations[k];
      if (was !== undefined && was !== v) {
        if (!Object.hasOwn(classAttributes, k)) throw new IngressModelError(conflict(k, was, v, m));
        resolved(k, was, v, classAttributes[k]!);
      }
      fromAnnotations[k] = v;
    }
  }
  return { ...fromAnnotations, ...classAttributes };
}

export function groupLoadBalancerAttributes(
  members: readonly ParamsMember[],
  parseMap: (raw: string | undefined) => Record<string, string>,
  notices: string[],
): Record<string, string> {
  return mergeWithClass(
    members,
    toMap(members[0]?.params?.spec?.loadBalancerAttributes),
    (m) => parseMap(m.annotations[`${ING}load-balancer-attributes`]),
    (k, was, now) => `conflicting load balancer attributes ${k}: ${was} | ${now}`,
    (k, was, now, value) => notices.push(`load balancer attribute conflict resolved by ingress class: ${k}: ${was} | ${now}: IngressClassParams ${members[0]!.params!.metadata?.name ?? ''} sets ${value}`),
  );
}

/** The attributes of listener `protocol:port` from the members listening on it (the first one's class sets them). */
export function groupListenerAttributes(
  members: readonly ParamsMember[],
  protocol: 'HTTP' | 'HTTPS',
  port: number,
  parseMap: (raw: string | undefined) => Record<string, string>,
  notices: string[],
): Record<string, string> {
  const classListener = (members[0]?.params?.spec?.listeners ?? []).find((l) => l.protocol === protocol && l.port === port);
  return mergeWithClass(
    members,
    toMap(classListener?.listenerAttributes),
    (m) => parseMap(m.annotations[`${ING}listener-attributes.${protocol}-${port}`]),
    (k, was, now, m) => `conflicting listener attributes ${k}: ${was} | ${now} for ingress ${m.namespace}/${m.name}`,
    (k, was, now, value) => notices.push(`listener attribute conflict resolved by ingress class: ${protocol}:${port} ${k}: ${was} | ${now}: IngressClassParams ${members[0]!.params!.metadata?.name ?? ''} sets ${value}`),
  );
}

/**
 * `ssl-redirect` across the group (model_builder.go buildSSLRedirectConfig): a member's params
 * sslRedirectPort beats its annotation. `undefined` when no member asks for one, and — as the
 * controller's code does — when a params value is not an integer (the whole group then gets no
 * redirect; `notices` says so).
 */
export function groupSslRedirectPorts(members: readonly ParamsMember[], notices: string[]): { readonly ports: ReadonlySet<number>; readonly disabled: boolean } {
  const ports = new Set<number>();
  for (const m of members) {
    const raw = m.params?.spec?.sslRedirectPort;
    if (raw !== undefined && raw !== '') {
      if (!/^[+-]?\d+$/.test(raw) || !Number.isSafeInteger(Number(raw)) || Math.abs(Number(raw)) > 2 ** 31 - 1) {
        notices.push(
          `IngressClassParams ${m.params!.metadata?.name ?? ''}: sslRedirectPort ${JSON.stringify(raw)} is not an integer: the controller then configures no SSL redirect for the group (as here)`,
        );
        return { ports: new Set(), disabled: true };
      }
      ports.add(Number(raw));
      continue;
    }
    const annotation = m.annotations[`${ING}ssl-redirect`];
    if (annotation === undefined) continue;
    if (!/^[+-]?\d+$/.test(annotation.trim()) || !Number.isSafeInteger(Number(annotation))) {
      throw new IngressModelError(`ingress: ${m.key}: failed to parse int32 annotation, ${ING}ssl-redirect: ${annotation}`);
    }
    ports.add(Number(annotation));
  }
  return { ports, disabled: false };
}

/** A member's certificate ARNs: its class's certificateArn when set, else its `certificate-arn`. */
export function memberCertificateArns(m: ParamsMember, commaList: (raw: string | undefined) => string[]): string[] {
  const fromParams = m.params?.spec?.certificateArn ?? [];
  return fromParams.length > 0 ? [...fromParams] : commaList(m.annotations[`${ING}certificate-arn`]);
}

/** A member's ssl-policy: its class's sslPolicy when set, else its annotation. */
export function memberSslPolicy(m: ParamsMember): string | undefined {
  const fromParams = m.params?.spec?.sslPolicy;
  return fromParams !== undefined && fromParams !== '' ? fromParams : m.annotations[`${ING}ssl-policy`];
}

/** A backend's target type: the class's targetType beats `target-type` (of the Ingress or the Service). */
export function memberTargetType(m: ParamsMember, annotated: string | undefined): string {
  const fromParams = m.params?.spec?.targetType;
  return fromParams !== undefined && (fromParams as string) !== '' ? fromParams : (annotated ?? 'instance');
}

/**
 * The params fields with no local meaning, one sentence each (Normal Events, the log): what the
 * controller would do with them on AWS and why nothing changes here. Each params object is
 * described once per group.
 */
export function paramsWithoutLocalEffect(members: readonly ParamsMember[], settings: { readonly scheme: string; readonly ipAddressType: string; readonly tags: Readonly<Record<string, string>> }): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const m of members) {
    const p = m.params;
    const name = p?.metadata?.name ?? '';
    if (p?.spec === undefined || seen.has(name)) continue;
    seen.add(name);
    const s = p.spec;
    const say = (field: string, value: unknown, why: string) => out.push(`IngressClassParams ${name}: spec.${field} ${JSON.stringify(value)} is accepted with no local meaning: ${why}`);
    if (s.scheme !== undefined) say('scheme', s.scheme, `the load balancer's scheme is ${settings.scheme} (DescribeLoadBalancers says so); local-elb listens on its own loopback address either way`);
    if (s.ipAddressType !== undefined) say('ipAddressType', s.ipAddressType, `the load balancer's IP address type is ${settings.ipAddressType} (DescribeLoadBalancers says so); local-elb listens on one IPv4 loopback address`);
    if (s.subnets !== undefined) say('subnets', s.subnets, 'there are no subnets or availability zones on this machine');
    if (s.inboundCIDRs !== undefined) say('inboundCIDRs', s.inboundCIDRs, 'the controller writes them into the security group; local-elb has no security groups (every local client reaches the listeners)');
    const prefixLists = s.prefixListsIDs ?? s.PrefixListsIDs;
    if (prefixLists !== undefined) say(s.prefixListsIDs !== undefined ? 'prefixListsIDs' : 'PrefixListsIDs', prefixLists, 'security group prefix lists; local-elb has no security groups');
    if (s.minimumLoadBalancerCapacity !== undefined) say('minimumLoadBalancerCapacity', s.minimumLoadBalancerCapacity, 'capacity reservations change what AWS provisions, not how a load balancer behaves');
    if (s.ipamConfiguration !== undefined) say('ipamConfiguration', s.ipamConfiguration, 'no IPAM pools here: the address is a loopback one');
    if (s.wafv2AclName) say('wafv2AclName', s.wafv2AclName, 'local-elb has no AWS WAF');
    if (s.wafv2AclArn) say('wafv2AclArn', s.wafv2AclArn, 'local-elb has no AWS WAF');
    if (s.tags !== undefined && s.tags.length > 0) {
      say('tags', s.tags, `the group's tags (${Object.entries(settings.tags).map(([k, v]) => `${k}=${v}`).join(', ')}) are the load balancer's tags: DescribeTags on the ELBv2 API of local-elb kind shows them, and the log; nothing else reads them`);
    }
  }
  return out;
}
