/**
 * The ELBv2 API over one ElbRuntime (spec 14.6): each action reads or changes the runtime, the
 * same state the config file started, the admin API serves and `local-elb export` prints. Calls
 * run one at a time (a change reads the state, edits it and applies it as one step). Lookups,
 * the resources' API shapes and pagination live here; the actions, by resource, beside it.
 */
import type { ListenerConfig, RuleConfig } from '../config/schema.ts';
import type { ElbRuntime, LoadBalancer } from '../runtime/runtime.ts';
import type { TargetGroup } from '../targets/target-group.ts';
import { hostForUrl } from '../core/addresses.ts';
import type { Caller } from './arns.ts';
import { Catalog, type ListenerRecord, type LoadBalancerRecord, type RuleRecord } from './catalog.ts';
import { actionShape, conditionShape, transformShape } from './convert.ts';
import { ApiError } from './errors.ts';
import type { Members } from './query.ts';
import type { ApiValue } from './xml.ts';

export type Result = { readonly [member: string]: ApiValue };

export interface Call {
  readonly api: Elbv2Api;
  readonly params: Members;
  readonly caller: Caller;
}

export type Handler = (call: Call) => Result | Promise<Result>;

/** Tag keys local-elb adds to what DescribeTags answers (never stored, never counted): where a resource is on this machine. */
export const LOCAL_TAGS = {
  /** On a load balancer: its own loopback address (its DNSName). */
  address: 'local-elb:address',
  /** On a listener: the URL it is bound on (the port differs from `Port` when that one could not be bound). */
  url: 'local-elb:url',
} as const;

/** Hosted zone IDs by region (spec 14.4.2), ALB then NLB; other regions get us-east-1's. */
const HOSTED_ZONES: Readonly<Record<string, readonly [string, string]>> = {
  'us-east-1': ['Z35SXDOTRQ7X7K', 'Z26RNL4JYFTOTI'],
  'us-east-2': ['Z3AADJGX6KTTL2', 'ZLMOA37VPKANP'],
  'us-west-1': ['Z368ELLRRE2KJ0', 'Z24FKFUX50B4VW'],
  'us-west-2': ['Z1H1FL5HABSF5', 'Z18D5FSROUN65G'],
};

/** DescribeAccountLimits (spec 14.10), enforced with the same numbers. */
export const LIMITS = {
  'application-load-balancers': 50,
  'network-load-balancers': 50,
  'target-groups': 3000,
  'listeners-per-application-load-balancer': 50,
  'listeners-per-network-load-balancer': 50,
  'rules-per-application-load-balancer': 100,
  'condition-values-per-alb-rule': 5,
  'condition-wildcards-per-alb-rule': 5,
  'target-groups-per-application-load-balancer': 100,
  'target-groups-per-action-on-application-load-balancer': 5,
  'target-groups-per-action-on-network-load-balancer': 1,
  'targets-per-application-load-balancer': 1000,
  'targets-per-network-load-balancer': 3000,
  'targets-per-availability-zone-per-network-load-balancer': 500,
  'targets-per-target-group': 1000,
  'target-id-registrations-per-application-load-balancer': 1000,
  'certificates-per-application-load-balancer': 25,
  'certificates-per-network-load-balancer': 25,
} as const;

export const MAX_TAGS = 50;

/**
 * Load balancers and target groups the API describes but does not own: under `local-elb kind`
 * those the Kubernetes controller runs from Services and Ingresses (changing them is the
 * cluster's business: OperationNotPermitted).
 */
export interface ManagedResources {
  loadBalancers(): readonly LoadBalancer[];
  targetGroups(): readonly TargetGroup[];
  /**
   * What the owner decided of a load balancer beyond its config (the controller's scheme, IP
   * address type and tags, spec 15.4.2), made true in its record on every read, as the
   * controller reconciles them on AWS; undefined: nothing to say.
   */
  loadBalancerFacts?(name: string): ManagedLoadBalancerFacts | undefined;
}

export interface ManagedLoadBalancerFacts {
  readonly scheme?: 'internet-facing' | 'internal';
  readonly ipAddressType?: string;
  readonly tags?: Readonly<Record<string, string>>;
}

export class Elbv2Api {
  /** Where the API's own load balancers and target groups live, and what its changes apply to. */
  readonly runtime: ElbRuntime;
  readonly catalog: Catalog;
  readonly #managed: ManagedResources | undefined;
  readonly #handlers: ReadonlyMap<string, Handler>;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(runtime: ElbRuntime, catalog: Catalog, handlers: Readonly<Record<string, Handler>>, managed?: ManagedResources) {
    this.runtime = runtime;
    this.catalog = catalog;
    this.#managed = managed;
    this.#handlers = new Map(Object.entries(handlers));
  }

  /** Refuses a change to a resource another owner manages (kind's, from the cluster). */
  assertOwned(resource: LoadBalancer | TargetGroup, arn: string): void {
    const own = 'kind' in resource ? this.runtime.targetGroups().includes(resource) : this.runtime.loadBalancers().includes(resource);
    if (!own) throw managedError(arn);
  }

  actions(): string[] {
    return [...this.#handlers.keys()];
  }

  /** Runs `action` after every call before it; `InvalidAction` for one this endpoint does not know. */
  call(action: string, params: Members, caller: Caller): Promise<Result> {
    const handler = this.#handlers.get(action);
    if (handler === undefined) return Promise.reject(new ApiError('InvalidAction', `The action ${action} is not valid for this web service (local-elb answers: ${this.actions().join(', ')})`));
    const run = this.#queue.then(() => handler({ api: this, params, caller }));
    this.#queue = run.catch(() => {});
    return run;
  }

  // Lookups. A missing resource is its `*NotFound`, never an empty answer (the waiters rely on it).

  loadBalancers(): Array<{ lb: LoadBalancer; record: LoadBalancerRecord }> {
    const own = this.runtime.loadBalancers().map((lb) => ({ lb, record: this.catalog.loadBalancer(lb) }));
    const managed = (this.#managed?.loadBalancers() ?? []).map((lb) => {
      const record = this.catalog.loadBalancer(lb);
      const facts = this.#managed?.loadBalancerFacts?.(lb.name);
      if (facts?.scheme !== undefined) record.scheme = facts.scheme;
      if (facts?.ipAddressType !== undefined) record.ipAddressType = facts.ipAddressType;
      if (facts?.tags !== undefined) {
        record.tags.clear();
        for (const [k, v] of Object.entries(facts.tags)) record.tags.set(k, v);
      }
      return { lb, record };
    });
    return [...own, ...managed];
  }

  findLoadBalancer(arn: string): { lb: LoadBalancer; record: LoadBalancerRecord } | undefined {
    return this.loadBalancers().find((e) => e.record.arn === arn);
  }

  loadBalancer(arn: string): { lb: LoadBalancer; record: LoadBalancerRecord } {
    const found = this.findLoadBalancer(arn);
    if (found === undefined) throw new ApiError('LoadBalancerNotFound', `Load balancer '${arn}' not found`);
    return found;
  }

  targetGroups(): Array<{ group: TargetGroup; arn: string }> {
    return [...this.runtime.targetGroups(), ...(this.#managed?.targetGroups() ?? [])].map((group) => ({ group, arn: this.catalog.targetGroup(group).arn }));
  }

  targetGroup(arn: string): TargetGroup {
    const found = this.targetGroups().find((e) => e.arn === arn);
    if (found === undefined) throw new ApiError('TargetGroupNotFound', `Target groups '${arn}' not found`);
    return found.group;
  }

  /** The ARN of the group called `name`: the API's own first, then a managed one. */
  targetGroupArn(name: string): string {
    const group = this.runtime.targetGroups().find((g) => g.name === name) ?? this.#managed?.targetGroups().find((g) => g.name === name) ?? this.runtime.targetGroup(name);
    return this.catalog.targetGroup(group).arn;
  }

  listeners(): Array<{ lb: LoadBalancer; lbRecord: LoadBalancerRecord; config: ListenerConfig; index: number; record: ListenerRecord }> {
    return this.loadBalancers().flatMap(({ lb, record: lbRecord }) =>
      lb.config.listeners.map((config, index) => ({ lb, lbRecord, config, index, record: this.catalog.listener(lbRecord, config) })),
    );
  }

  listener(arn: string): { lb: LoadBalancer; lbRecord: LoadBalancerRecord; config: ListenerConfig; index: number; record: ListenerRecord } {
    const found = this.listeners().find((l) => l.record.arn === arn);
    if (found === undefined) throw new ApiError('ListenerNotFound', `Listener '${arn}' not found`);
    return found;
  }

  /** Every rule of every listener, the default rule of each included (`rule` undefined). */
  rules(): Array<{ listener: ReturnType<Elbv2Api['listener']>; rule: RuleConfig | undefined; arn: string; record: RuleRecord | undefined }> {
    return this.listeners().flatMap((listener) => [
      ...listener.config.rules.map((rule) => {
        const record = this.catalog.rule(listener.record, rule);
        return { listener, rule, arn: record.arn, record };
      }),
      { listener, rule: undefined, arn: listener.record.defaultRuleArn, record: undefined },
    ]);
  }

  rule(arn: string): ReturnType<Elbv2Api['rules']>[number] {
    const found = this.rules().find((r) => r.arn === arn);
    if (found === undefined) throw new ApiError('RuleNotFound', `One or more rules not found: '${arn}'`);
    return found;
  }

  /** The ARNs of the load balancers that forward to a group. */
  loadBalancerArnsOf(group: TargetGroup): string[] {
    return this.loadBalancers()
      .filter(({ lb }) => lb.targetGroupNames().includes(group.name))
      .map(({ record }) => record.arn);
  }

  // Shapes (spec 14.2.2, 14.6): PascalCase members, unset ones omitted.

  loadBalancerShape(lb: LoadBalancer, record: LoadBalancerRecord): Result {
    const network = lb.config.type === 'network';
    const zones = HOSTED_ZONES[record.caller.region] ?? HOSTED_ZONES['us-east-1']!;
    const state = record.provisioning ? 'provisioning' : 'active';
    return {
      LoadBalancerArn: record.arn,
      DNSName: record.address,
      CanonicalHostedZoneId: network ? zones[1] : zones[0],
      CreatedTime: record.createdTime,
      LoadBalancerName: lb.name,
      Scheme: record.scheme,
      VpcId: record.vpcId,
      State: { Code: state },
      Type: lb.config.type,
      AvailabilityZones: this.availabilityZones(record),
      ...(network && record.securityGroups.length === 0 ? {} : { SecurityGroups: record.securityGroups }),
      IpAddressType: record.ipAddressType,
    };
  }

  availabilityZones(record: LoadBalancerRecord): Result[] {
    return record.subnets.map((subnet, i) => ({ ZoneName: `${record.caller.region}${String.fromCharCode(97 + (i % 26))}`, SubnetId: subnet }));
  }

  targetGroupShape(group: TargetGroup, arn: string): Result {
    const c = group.config;
    const record = this.catalog.targetGroup(group);
    const http = c.healthCheckProtocol !== 'TCP';
    return {
      TargetGroupArn: arn,
      TargetGroupName: c.name,
      Protocol: c.protocol,
      ...(c.protocolVersion !== undefined ? { ProtocolVersion: c.protocolVersion } : {}),
      Port: c.port,
      VpcId: record.vpcId,
      HealthCheckProtocol: c.healthCheckProtocol,
      HealthCheckPort: String(c.healthCheckPort),
      HealthCheckEnabled: c.healthCheckEnabled,
      HealthCheckIntervalSeconds: c.healthCheckIntervalSeconds,
      HealthCheckTimeoutSeconds: c.healthCheckTimeoutSeconds,
      HealthyThresholdCount: c.healthyThresholdCount,
      UnhealthyThresholdCount: c.unhealthyThresholdCount,
      ...(http ? { HealthCheckPath: c.healthCheckPath, Matcher: c.matcher.grpcCode !== undefined ? { GrpcCode: c.matcher.grpcCode } : { HttpCode: c.matcher.httpCode } } : {}),
      LoadBalancerArns: this.loadBalancerArnsOf(group),
      TargetType: c.targetType,
      IpAddressType: record.ipAddressType,
    };
  }

  listenerShape(entry: { lb: LoadBalancer; lbRecord: LoadBalancerRecord; config: ListenerConfig; record: ListenerRecord }): Result {
    const { config } = entry;
    const secure = config.protocol === 'HTTPS' || config.protocol === 'TLS';
    return {
      ListenerArn: entry.record.arn,
      LoadBalancerArn: entry.lbRecord.arn,
      Port: config.port,
      Protocol: config.protocol,
      ...(secure ? { Certificates: (config.certificates ?? []).slice(0, 1).map((c) => ({ CertificateArn: c.certificateArn })), SslPolicy: config.sslPolicy } : {}),
      DefaultActions: config.defaultActions.map((a) => actionShape(a, (name) => this.targetGroupArn(name))),
      ...(config.protocol === 'TLS' ? { AlpnPolicy: [config.alpnPolicy ?? 'None'] } : {}),
      ...(config.mutualAuthentication !== undefined ? { MutualAuthentication: this.#mutualAuthenticationShape(config) } : {}),
    };
  }

  #mutualAuthenticationShape(config: ListenerConfig): Result {
    const m = config.mutualAuthentication!;
    const arn = m.trustStore !== undefined ? this.catalog.trustStoreArn(m.trustStore, this.runtime.config.trustStores) : undefined;
    return {
      Mode: m.mode,
      ...(arn !== undefined ? { TrustStoreArn: arn } : {}),
      IgnoreClientCertificateExpiry: m.ignoreClientCertificateExpiry,
      ...(m.mode === 'verify' ? { AdvertiseTrustStoreCaNames: m.advertiseTrustStoreCaNames } : {}),
    };
  }

  ruleShape(entry: ReturnType<Elbv2Api['rules']>[number]): Result {
    const tgArn = (name: string) => this.targetGroupArn(name);
    if (entry.rule === undefined) {
      return {
        RuleArn: entry.arn,
        Priority: 'default',
        Conditions: [],
        Actions: entry.listener.config.defaultActions.map((a) => actionShape(a, tgArn)),
        IsDefault: true,
      };
    }
    return {
      RuleArn: entry.arn,
      Priority: String(entry.rule.priority),
      Conditions: entry.rule.conditions.map(conditionShape),
      Actions: entry.rule.actions.map((a) => actionShape(a, tgArn)),
      IsDefault: false,
      ...(entry.rule.transforms !== undefined && entry.rule.transforms.length > 0 ? { Transforms: entry.rule.transforms.map(transformShape) } : {}),
    };
  }

  /** Where a listener is bound on this machine (its URL). */
  listenerUrl(lb: LoadBalancer, index: number): string | undefined {
    try {
      return lb.url(index);
    } catch {
      return undefined;
    }
  }

  /** The local tags of a resource (LOCAL_TAGS). */
  localTags(arn: string): Array<{ Key: string; Value: string }> {
    const lb = this.findLoadBalancer(arn);
    if (lb !== undefined) return [{ Key: LOCAL_TAGS.address, Value: lb.record.address }];
    const listener = this.listeners().find((l) => l.record.arn === arn);
    if (listener !== undefined) {
      const url = this.listenerUrl(listener.lb, listener.index);
      return url === undefined ? [] : [{ Key: LOCAL_TAGS.url, Value: url }];
    }
    return [];
  }
}

export function managedError(arn: string): ApiError {
  return new ApiError('OperationNotPermitted', `'${arn}' is managed by local-elb kind (the AWS Load Balancer Controller's part, from a Service or Ingress): change it through the cluster`);
}

/** Pagination (spec 14.8): `Marker` in, `NextMarker` out only when more items follow; an opaque marker; PageSize 1–400. */
export function page<T>(items: readonly T[], params: Members): { items: T[]; nextMarker: string | undefined } {
  const size = params.integer('PageSize', { min: 1, max: 400 }) ?? 400;
  const marker = params.string('Marker');
  let start = 0;
  if (marker !== undefined) {
    const m = /^offset:(\d+)$/.exec(Buffer.from(marker, 'base64url').toString('utf8'));
    if (m === null) throw new ApiError('ValidationError', `Invalid marker: ${marker}`);
    start = Number(m[1]);
  }
  const slice = items.slice(start, start + size);
  const next = start + size < items.length ? Buffer.from(`offset:${start + size}`, 'utf8').toString('base64url') : undefined;
  return { items: slice, nextMarker: next };
}

/** `Tags.member.N.Key/Value` as a map: keys 1–128, values 0–256 (spec 14.6.6), a repeated key is DuplicateTagKeys. */
export function tagsOf(params: Members, name = 'Tags', options: { required?: boolean } = {}): Map<string, string> {
  const tags = new Map<string, string>();
  for (const t of params.structures(name, { ...(options.required ? { required: true } : {}) }) ?? []) {
    const key = t.string('Key', { required: true, min: 1, max: 128, pattern: /^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$/u });
    const value = t.string('Value', { max: 256, pattern: /^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$/u }) ?? '';
    if (tags.has(key)) throw new ApiError('DuplicateTagKeys', `Tag key '${key}' is duplicated`);
    if (key.startsWith('aws:')) throw new ApiError('ValidationError', `Tag keys starting with 'aws:' are reserved: ${key}`);
    tags.set(key, value);
  }
  if (tags.size > MAX_TAGS) throw new ApiError('TooManyTags', `A resource takes at most ${MAX_TAGS} tags: got ${tags.size}`);
  return tags;
}

export const hostAndPort = (address: string, port: number) => `${hostForUrl(address)}:${port}`;
