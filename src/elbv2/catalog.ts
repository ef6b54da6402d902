/**
 * What the ELBv2 API knows of the runtime's resources beyond their config: ARNs and IDs, tags,
 * creation times, and the fields that have no local meaning (subnets, security groups, scheme,
 * VPC), kept per resource. The resources themselves are the runtime's (one model): a load
 * balancer or target group from the config file gets its record the first time the API sees
 * it, in the endpoint's default account and region; one the API created carries the caller's.
 *
 * Load balancers and target groups are known by name (unique, and fixed for life); listeners
 * and rules by their config objects, which the runtime keeps as given (`Draft` carries each
 * record over to the objects of the next config).
 */
import type { ListenerConfig, LoadBalancerConfig, RuleConfig } from '../config/schema.ts';
import type { LoadBalancer } from '../runtime/runtime.ts';
import type { TargetGroup } from '../targets/target-group.ts';
import { createHash } from 'node:crypto';
import { listenerArn, loadBalancerArn, newId, ruleArn, targetGroupArn, trustStoreArn, typeSegment, type Caller } from './arns.ts';

export interface LoadBalancerRecord {
  readonly arn: string;
  readonly caller: Caller;
  readonly createdTime: Date;
  readonly tags: Map<string, string>;
  scheme: 'internet-facing' | 'internal';
  ipAddressType: string;
  /** Subnet IDs, each given a zone of the region in order of first use (spec 14.4.3). */
  subnets: string[];
  securityGroups: string[];
  readonly vpcId: string;
  /** The load balancer's own loopback address: its listeners bind there, and it is its DNSName. */
  readonly address: string;
  /** `provisioning` until it has been described once after its creation (spec 14.4.3: waiters poll). */
  provisioning: boolean;
}

export interface TargetGroupRecord {
  readonly arn: string;
  readonly caller: Caller;
  readonly tags: Map<string, string>;
  readonly vpcId: string;
  readonly ipAddressType: string;
}

export interface ListenerRecord {
  readonly arn: string;
  readonly tags: Map<string, string>;
  /** The listener's default rule (DescribeRules, `Priority` "default"). */
  readonly defaultRuleArn: string;
}

export interface RuleRecord {
  readonly arn: string;
  readonly tags: Map<string, string>;
}

/** A trust store (spec 12.1.7): its ARN, status, tags, where its bundle came from, and its revocations by ID. */
export interface TrustStoreRecord {
  readonly arn: string;
  readonly caller: Caller;
  readonly tags: Map<string, string>;
  /** `CREATING` until it has been described once after its creation (as load balancers' `provisioning`), then `ACTIVE`. */
  status: 'CREATING' | 'ACTIVE';
  /** The CA bundle file (the S3 object's local stand-in). */
  bundleFile: string;
  /** CRLs by revocation ID, in the order added. */
  revocations: Array<{ readonly id: number; readonly file: string }>;
  /** The next revocation ID: IDs only increase and are never reused (spec 12.1.7). */
  nextRevocationId: number;
}

export const LOCAL_VPC = 'vpc-00000000000000000';

/**
 * The ARN of a target group the config file defines (and of the groups `local-elb kind` runs
 * for Services and Ingresses), in the endpoint's default account and region: the id is the first
 * 16 hex digits of SHA-256 over the name, so the ARN is known before local-elb starts (a
 * TargetGroupBinding's `targetGroupARN`) and is the same at every start. AWS ids are random;
 * groups the ELBv2 API creates get random ones.
 */
export function configTargetGroupArn(caller: Caller, name: string): string {
  return targetGroupArn(caller, name, createHash('sha256').update(`targetgroup/${name}`).digest('hex').slice(0, 16));
}

export class Catalog {
  readonly defaults: Caller;
  readonly #loadBalancers = new Map<string, LoadBalancerRecord>();
  readonly #targetGroups = new Map<string, TargetGroupRecord>();
  readonly #listeners = new WeakMap<ListenerConfig, ListenerRecord>();
  readonly #rules = new WeakMap<RuleConfig, RuleRecord>();
  readonly #trustStores = new Map<string, TrustStoreRecord>();

  constructor(defaults: Caller) {
    this.defaults = defaults;
  }

  /** The record of a load balancer, made on first sight for one the config file defined. */
  loadBalancer(lb: LoadBalancer): LoadBalancerRecord {
    let record = this.#loadBalancers.get(lb.name);
    if (record === undefined) {
      record = this.newLoadBalancer(lb.config, this.defaults, { address: lb.config.listeners[0]?.address ?? '127.0.0.1' });
      record.provisioning = false;
      this.#loadBalancers.set(lb.name, record);
    }
    return record;
  }

  newLoadBalancer(
    config: Pick<LoadBalancerConfig, 'name' | 'type'>,
    caller: Caller,
    fields: { address: string; scheme?: 'internet-facing' | 'internal'; ipAddressType?: string; subnets?: string[]; securityGroups?: string[]; tags?: Map<string, string> },
  ): LoadBalancerRecord {
    return {
      arn: loadBalancerArn(caller, typeSegment(config.type), config.name, newId()),
      caller,
      createdTime: new Date(),
      tags: fields.tags ?? new Map(),
      scheme: fields.scheme ?? 'internet-facing',
      ipAddressType: fields.ipAddressType ?? 'ipv4',
      subnets: fields.subnets ?? [],
      securityGroups: fields.securityGroups ?? [],
      vpcId: LOCAL_VPC,
      address: fields.address,
      provisioning: true,
    };
  }

  setLoadBalancer(name: string, record: LoadBalancerRecord): void {
    this.#loadBalancers.set(name, record);
  }

  forgetLoadBalancer(name: string): void {
    this.#loadBalancers.delete(name);
  }

  /** Addresses of the load balancers the API knows (so a new one gets an address of its own). */
  addresses(): Set<string> {
    return new Set([...this.#loadBalancers.values()].map((r) => r.address));
  }

  /**
   * The record of a target group, made on first sight for one the config file (or `local-elb
   * kind`'s cluster) defined: its ARN is `configTargetGroupArn`, the same at every start, so a
   * TargetGroupBinding manifest can name it before local-elb runs. CreateTargetGroup's keep random ids.
   */
  targetGroup(group: TargetGroup): TargetGroupRecord {
    let record = this.#targetGroups.get(group.name);
    if (record === undefined) {
      record = { ...this.newTargetGroup(group.name, this.defaults, {}), arn: configTargetGroupArn(this.defaults, group.name) };
      this.#targetGroups.set(group.name, record);
    }
    return record;
  }

  newTargetGroup(name: string, caller: Caller, fields: { vpcId?: string; ipAddressType?: string; tags?: Map<string, string> }): TargetGroupRecord {
    return { arn: targetGroupArn(caller, name, newId()), caller, tags: fields.tags ?? new Map(), vpcId: fields.vpcId ?? LOCAL_VPC, ipAddressType: fields.ipAddressType ?? 'ipv4' };
  }

  setTargetGroup(name: string, record: TargetGroupRecord): void {
    this.#targetGroups.set(name, record);
  }

  forgetTargetGroup(name: string): void {
    this.#targetGroups.delete(name);
  }

  listener(lb: LoadBalancerRecord, config: ListenerConfig): ListenerRecord {
    let record = this.#listeners.get(config);
    if (record === undefined) {
      record = this.newListener(lb);
      this.#listeners.set(config, record);
    }
    return record;
  }

  newListener(lb: LoadBalancerRecord, tags = new Map<string, string>()): ListenerRecord {
    const arn = listenerArn(lb.arn, newId());
    return { arn, tags, defaultRuleArn: ruleArn(arn, newId()) };
  }

  /** Binds a record to the config object that now stands for its listener. */
  setListener(config: ListenerConfig, record: ListenerRecord): void {
    this.#listeners.set(config, record);
  }

  rule(listener: ListenerRecord, config: RuleConfig): RuleRecord {
    let record = this.#rules.get(config);
    if (record === undefined) {
      record = this.newRule(listener);
      this.#rules.set(config, record);
    }
    return record;
  }

  newRule(listener: ListenerRecord, tags = new Map<string, string>()): RuleRecord {
    return { arn: ruleArn(listener.arn, newId()), tags };
  }

  setRule(config: RuleConfig, record: RuleRecord): void {
    this.#rules.set(config, record);
  }

  /**
   * The record of a trust store, made on first sight for one the config file defines: ACTIVE,
   * its ARN's id from SHA-256 over the name (the same at every start), its CRLs numbered from 1.
   */
  trustStore(config: { readonly name: string; readonly caCertificatesBundleFile: string; readonly revocationFiles: readonly string[] }): TrustStoreRecord {
    let record = this.#trustStores.get(config.name);
    if (record === undefined) {
      record = {
        arn: trustStoreArn(this.defaults, config.name, createHash('sha256').update(`truststore/${config.name}`).digest('hex').slice(0, 16)),
        caller: this.defaults,
        tags: new Map(),
        status: 'ACTIVE',
        bundleFile: config.caCertificatesBundleFile,
        revocations: config.revocationFiles.map((file, i) => ({ id: i + 1, file })),
        nextRevocationId: config.revocationFiles.length + 1,
      };
      this.#trustStores.set(config.name, record);
    }
    return record;
  }

  newTrustStore(name: string, caller: Caller, bundleFile: string, tags: Map<string, string>): TrustStoreRecord {
    const record: TrustStoreRecord = { arn: trustStoreArn(caller, name, newId()), caller, tags, status: 'CREATING', bundleFile, revocations: [], nextRevocationId: 1 };
    this.#trustStores.set(name, record);
    return record;
  }

  /** The ARN of the store called `name` among `stores` (the runtime's), if it is one. */
  trustStoreArn(name: string, stores: ReadonlyArray<{ readonly name: string; readonly caCertificatesBundleFile: string; readonly revocationFiles: readonly string[] }>): string | undefined {
    const config = stores.find((s) => s.name === name);
    return config === undefined ? undefined : this.trustStore(config).arn;
  }

  forgetTrustStore(name: string): void {
    this.#trustStores.delete(name);
  }
}
