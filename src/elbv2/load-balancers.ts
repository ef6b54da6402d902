/**
 * Load balancer actions (spec 14.6.1): create, delete, describe, attributes, and the network
 * settings that have no local effect (subnets, security groups, IP address type), which are
 * validated, stored and described back.
 */
import { applicationLoadBalancerAttributes, checkLoadBalancerAttributes, networkLoadBalancerAttributes, resolveAttributes } from '../config/attributes.ts';
import { ApplicationLoadBalancer } from '../l7/application-load-balancer.ts';
import { LIMITS, page, tagsOf, type Call, type Handler, type Result } from './api.ts';
import { Draft } from './draft.ts';
import { ApiError } from './errors.ts';
import type { Members } from './query.ts';

/** Name rules of load balancers and target groups (spec 14.6.1): ≤ 32 letters, digits and hyphens, no hyphen at either end. */
export const RESOURCE_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$/;

function readName(params: Members, what: string): string {
  const name = params.string('Name', { required: true, min: 1, max: 32 });
  if (!RESOURCE_NAME.test(name)) {
    throw new ApiError('ValidationError', `${what} name '${name}' can have a maximum of 32 characters, can contain only alphanumeric characters and hyphens, and must not begin or end with a hyphen`);
  }
  return name;
}

/** Subnets or subnet mappings, not both (spec 14.6.1); an ALB needs two (in two zones). */
function readSubnets(params: Members, type: 'application' | 'network'): string[] | undefined {
  const subnets = params.strings('Subnets');
  const mappings = params.structures('SubnetMappings')?.map((m) => m.string('SubnetId', { required: true }));
  if (subnets !== undefined && subnets.length > 0 && mappings !== undefined && mappings.length > 0) {
    throw new ApiError('ValidationError', 'You can specify subnets or subnet mappings, not both');
  }
  const given = subnets !== undefined && subnets.length > 0 ? subnets : mappings;
  if (given === undefined || given.length === 0) return undefined;
  for (const s of given) if (!/^subnet-[0-9a-zA-Z]+$/.test(s)) throw new ApiError('SubnetNotFound', `The subnet ID '${s}' is not valid`);
  if (new Set(given).size !== given.length) throw new ApiError('InvalidConfigurationRequest', 'A subnet is given twice');
  if (type === 'application' && given.length < 2) throw new ApiError('InvalidConfigurationRequest', 'At least two subnets in two different Availability Zones must be specified');
  return given;
}

function readSecurityGroups(params: Members): string[] | undefined {
  const groups = params.strings('SecurityGroups');
  for (const g of groups ?? []) if (!/^sg-[0-9a-zA-Z]+$/.test(g)) throw new ApiError('InvalidSecurityGroup', `Invalid security group '${g}'`);
  return groups;
}

/** The next address of `prefix` (`127.250`) that no load balancer has, so each gets its own loopback address. */
function allocateAddress(prefix: string, used: ReadonlySet<string>): string {
  for (let n = 0; n < 254 * 256; n++) {
    const address = `${prefix}.${Math.floor(n / 254)}.${(n % 254) + 1}`;
    if (!used.has(address)) return address;
  }
  return '127.0.0.1';
}

const IP_ADDRESS_TYPES = ['ipv4', 'dualstack', 'dualstack-without-public-ipv4'] as const;

export function loadBalancerHandlers(options: { readonly addressPrefix: string }): Record<string, Handler> {
  return {
    async CreateLoadBalancer({ api, params, caller }: Call): Promise<Result> {
      const name = readName(params, 'Load balancer');
      if (name.startsWith('internal-')) throw new ApiError('ValidationError', `Load balancer name '${name}' cannot begin with 'internal-'`);
      const type = params.choice('Type', ['application', 'network', 'gateway']) ?? 'application';
      if (type === 'gateway') throw new ApiError('UnsupportedProtocol', 'Gateway load balancers are not emulated by local-elb (only application and network)');
      const scheme = params.choice('Scheme', ['internet-facing', 'internal']) ?? 'internet-facing';
      const ipAddressType = params.choice('IpAddressType', IP_ADDRESS_TYPES) ?? 'ipv4';
      if (ipAddressType === 'dualstack-without-public-ipv4' && type !== 'application') throw new ApiError('InvalidConfigurationRequest', "IP address type 'dualstack-without-public-ipv4' is for application load balancers only");
      const subnets = readSubnets(params, type) ?? ['subnet-00000000000000001', 'subnet-00000000000000002'].slice(0, type === 'application' ? 2 : 1);
      const securityGroups = readSecurityGroups(params) ?? (type === 'application' ? ['sg-00000000000000000'] : []);
      const tags = tagsOf(params);
      const existing = api.loadBalancers().find((e) => e.lb.name === name);
      if (existing !== undefined) {
        // Idempotent when the settings are the same (spec 14.6.1).
        const same = existing.lb.config.type === type && existing.record.scheme === scheme && existing.record.ipAddressType === ipAddressType;
        if (same) return { LoadBalancers: [api.loadBalancerShape(existing.lb, existing.record)] };
        throw new ApiError('DuplicateLoadBalancerName', `A load balancer with the same name '${name}' exists, but with different settings`);
      }
      const limit = type === 'network' ? LIMITS['network-load-balancers'] : LIMITS['application-load-balancers'];
      if (api.runtime.loadBalancers().filter((lb) => lb.config.type === type).length >= limit) throw new ApiError('TooManyLoadBalancers', `The quota of ${limit} ${type} load balancers is reached`);
      const used = new Set([...api.catalog.addresses(), ...api.runtime.loadBalancers().flatMap((lb) => lb.config.listeners.map((l) => l.address))]);
      const record = api.catalog.newLoadBalancer({ name, type }, caller, { address: allocateAddress(options.addressPrefix, used), scheme, ipAddressType, subnets, securityGroups, tags });
      const draft = new Draft(api.runtime, api.catalog);
      draft.loadBalancers.push({ name, type, listeners: [] });
      api.catalog.setLoadBalancer(name, record);
      try {
        await draft.commit();
      } catch (err) {
        api.catalog.forgetLoadBalancer(name);
        throw err;
      }
      const shape = api.loadBalancerShape(api.runtime.loadBalancer(name), record);
      // Nothing to provision locally: described as active from the next call on (the waiters' cue).
      record.provisioning = false;
      return { LoadBalancers: [shape] };
    },

    async DeleteLoadBalancer({ api, params }: Call): Promise<Result> {
      const arn = params.string('LoadBalancerArn', { required: true });
      const found = api.findLoadBalancer(arn);
      // Deleting an unknown or deleted load balancer succeeds (spec 14.6.1).
      if (found === undefined) return {};
      api.assertOwned(found.lb, arn);
      if (found.lb.attributes()['deletion_protection.enabled'] === 'true') {
        throw new ApiError('OperationNotPermitted', `Load balancer '${arn}' cannot be deleted because deletion protection is enabled`);
      }
      const draft = new Draft(api.runtime, api.catalog);
      draft.loadBalancers.splice(draft.loadBalancers.indexOf(draft.loadBalancer(found.lb.name)), 1);
      await draft.commit();
      api.catalog.forgetLoadBalancer(found.lb.name);
      return {};
    },

    DescribeLoadBalancers({ api, params }: Call): Result {
      const arns = params.strings('LoadBalancerArns', { max: 20 });
      const names = params.strings('Names');
      if (arns?.length && names?.length) throw new ApiError('ValidationError', 'Load balancer names and load balancer ARNs cannot be specified at the same time');
      let entries = api.loadBalancers();
      if (arns?.length) {
        const missing = arns.filter((a) => !entries.some((e) => e.record.arn === a));
        if (missing.length > 0) throw new ApiError('LoadBalancerNotFound', `Load balancers '[${missing.join(', ')}]' not found`);
        entries = arns.map((a) => entries.find((e) => e.record.arn === a)!);
      } else if (names?.length) {
        const missing = names.filter((n) => !entries.some((e) => e.lb.name === n));
        if (missing.length > 0) throw new ApiError('LoadBalancerNotFound', `Load balancers '[${missing.join(', ')}]' not found`);
        entries = names.map((n) => entries.find((e) => e.lb.name === n)!);
      }
      const { items, nextMarker } = page(entries, params);
      return { LoadBalancers: items.map((e) => api.loadBalancerShape(e.lb, e.record)), NextMarker: nextMarker };
    },

    DescribeLoadBalancerAttributes({ api, params }: Call): Result {
      const { lb } = api.loadBalancer(params.string('LoadBalancerArn', { required: true }));
      return { Attributes: attributeList(lb.attributes()) };
    },

    ModifyLoadBalancerAttributes({ api, params }: Call): Result {
      const { lb, record } = api.loadBalancer(params.string('LoadBalancerArn', { required: true }));
      api.assertOwned(lb, record.arn);
      const changes = readAttributes(params);
      const network = lb.config.type === 'network';
      const resolved = resolveAttributes(network ? networkLoadBalancerAttributes : applicationLoadBalancerAttributes, changes, 'Attributes', lb.attributes(), {
        resource: 'Load balancer',
        kind: `load balancers with type '${lb.config.type}'`,
        elsewhere: network ? applicationLoadBalancerAttributes : networkLoadBalancerAttributes,
      });
      if (!resolved.ok) throw attributeError(resolved.issues);
      const issues = checkLoadBalancerAttributes(resolved.attributes, 'Attributes');
      if (issues.length > 0) throw attributeError(issues);
      return { Attributes: attributeList(lb.modifyAttributes(changes)) };
    },

    SetSecurityGroups({ api, params }: Call): Result {
      const { lb, record } = api.loadBalancer(params.string('LoadBalancerArn', { required: true }));
      const groups = readSecurityGroups(params);
      if (groups === undefined) throw new ApiError('ValidationError', "1 validation error detected: Value null at 'securityGroups' failed to satisfy constraint: Member must not be null");
      if (lb.config.type === 'network' && record.securityGroups.length === 0) {
        throw new ApiError('InvalidConfigurationRequest', 'You cannot set security groups on a network load balancer that was created without any');
      }
      const enforce = params.choice('EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic', ['on', 'off']);
      record.securityGroups = groups;
      return { SecurityGroupIds: groups, ...(enforce !== undefined ? { EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic: enforce } : {}) };
    },

    SetSubnets({ api, params }: Call): Result {
      const { lb, record } = api.loadBalancer(params.string('LoadBalancerArn', { required: true }));
      const subnets = readSubnets(params, lb.config.type);
      if (subnets !== undefined) record.subnets = subnets;
      const ipAddressType = params.choice('IpAddressType', IP_ADDRESS_TYPES);
      if (ipAddressType !== undefined) record.ipAddressType = ipAddressType;
      return { AvailabilityZones: api.availabilityZones(record), IpAddressType: record.ipAddressType };
    },

    SetIpAddressType({ api, params }: Call): Result {
      const { lb, record } = api.loadBalancer(params.string('LoadBalancerArn', { required: true }));
      const type = params.choice('IpAddressType', IP_ADDRESS_TYPES, { required: true });
      if (type === 'dualstack-without-public-ipv4' && !(lb instanceof ApplicationLoadBalancer)) {
        throw new ApiError('InvalidConfigurationRequest', "IP address type 'dualstack-without-public-ipv4' is for application load balancers only");
      }
      if (record.scheme === 'internal' && type !== 'ipv4' && lb.config.type === 'network') throw new ApiError('InvalidConfigurationRequest', 'Internal network load balancers must use ipv4');
      record.ipAddressType = type;
      return { IpAddressType: type };
    },
  };
}

/** `Attributes.member.N.Key/Value` (at most 20, keys `^[a-zA-Z0-9._]+$` up to 256 characters, values up to 1024). */
export function readAttributes(params: Members): Record<string, string> {
  const changes: Record<string, string> = {};
  for (const a of params.structures('Attributes', { required: true, max: 20 })!) {
    const key = a.string('Key', { required: true, max: 256, pattern: /^[a-zA-Z0-9._]+$/ });
    changes[key] = a.string('Value', { max: 1024 }) ?? '';
  }
  return changes;
}

export function attributeList(attributes: Readonly<Record<string, string>>): Result[] {
  return Object.entries(attributes).map(([Key, Value]) => ({ Key, Value }));
}

/** A refused attribute as AWS words it (spec 13.4.5): the catalogue's message names the code, else ValidationError. */
export function attributeError(issues: ReadonlyArray<{ readonly path: string; readonly message: string }>): ApiError {
  const first = issues[0]!;
  const named = /\((InvalidConfigurationRequest|ValidationError): ([^)]*)\)/.exec(first.message);
  if (named !== null) return new ApiError(named[1] as 'InvalidConfigurationRequest' | 'ValidationError', named[2]!);
  const key = /\["([^"]+)"\]/.exec(first.path)?.[1];
  return new ApiError('InvalidConfigurationRequest', `${key !== undefined ? `Attribute '${key}': ` : ''}${issues.map((i) => i.message).join('; ')}`);
}
