/**
 * Target group and target actions (spec 14.6.2, 14.6.3): groups are created, changed and
 * deleted through the config (Draft: the schema's AWS defaults of spec 14.7 and its checks);
 * registrations and health go straight to the running TargetGroup, as the admin API's do.
 */
import { applicationTargetGroupAttributes, checkApplicationTargetGroupAttributes, checkNetworkTargetGroupAttributes, networkTargetGroupAttributes, resolveAttributes } from '../config/attributes.ts';
import { parseConfig } from '../config/schema.ts';
import { ConfigError } from '../core/errors.ts';
import { deepEqual } from '../runtime/diff.ts';
import type { TargetGroup } from '../targets/target-group.ts';
import type { TargetSpec } from '../targets/target.ts';
import { LIMITS, page, tagsOf, type Call, type Handler, type Result } from './api.ts';
import { apiErrorOf, Draft, type InputTargetGroup } from './draft.ts';
import { ApiError } from './errors.ts';
import { attributeError, attributeList, readAttributes, RESOURCE_NAME } from './load-balancers.ts';
import type { Members } from './query.ts';

const PROTOCOLS = ['HTTP', 'HTTPS', 'TCP', 'TLS', 'UDP', 'TCP_UDP', 'GENEVE', 'QUIC', 'TCP_QUIC'] as const;
const EMULATED_PROTOCOLS: readonly string[] = ['HTTP', 'HTTPS', 'TCP', 'TLS', 'UDP', 'TCP_UDP'];

/** The health-check members of CreateTargetGroup and ModifyTargetGroup, as config input. */
function healthCheckInput(params: Members): Partial<InputTargetGroup> {
  const out: Record<string, unknown> = {};
  const protocol = params.choice('HealthCheckProtocol', PROTOCOLS);
  if (protocol !== undefined) {
    if (!['HTTP', 'HTTPS', 'TCP'].includes(protocol)) throw new ApiError('ValidationError', `Health check protocol '${protocol}' is not supported`);
    out['healthCheckProtocol'] = protocol;
  }
  const port = params.string('HealthCheckPort');
  if (port !== undefined) {
    if (port !== 'traffic-port' && !(/^\d+$/.test(port) && Number(port) >= 1 && Number(port) <= 65535)) {
      throw new ApiError('ValidationError', `Health check port '${port}' must be 'traffic-port' or a port 1-65535`);
    }
    out['healthCheckPort'] = port === 'traffic-port' ? port : Number(port);
  }
  const enabled = params.boolean('HealthCheckEnabled');
  if (enabled === false) throw new ApiError('InvalidConfigurationRequest', 'Health checks cannot be disabled for target groups with target type instance or ip');
  const path = params.string('HealthCheckPath', { min: 1, max: 1024 });
  if (path !== undefined) out['healthCheckPath'] = path;
  const ints = { HealthCheckIntervalSeconds: [5, 300], HealthCheckTimeoutSeconds: [2, 120], HealthyThresholdCount: [2, 10], UnhealthyThresholdCount: [2, 10] } as const;
  for (const [member, [min, max]] of Object.entries(ints)) {
    const v = params.integer(member, { min, max });
    if (v !== undefined) out[member.charAt(0).toLowerCase() + member.slice(1)] = v;
  }
  const matcher = params.structure('Matcher');
  if (matcher !== undefined) {
    const httpCode = matcher.string('HttpCode');
    const grpcCode = matcher.string('GrpcCode');
    out['matcher'] = { ...(httpCode !== undefined ? { httpCode } : {}), ...(grpcCode !== undefined ? { grpcCode } : {}) };
  }
  return out as Partial<InputTargetGroup>;
}

function targetsOf(params: Members, group: TargetGroup): TargetSpec[] {
  return params.structures('Targets', { required: true })!.map((t) => {
    const id = t.string('Id', { required: true, min: 1 });
    const port = t.integer('Port', { min: 1, max: 65535 });
    if (port === undefined && group.config.port === undefined) throw new ApiError('ValidationError', `A port must be specified for target '${id}': target group '${group.name}' has none`);
    const zone = t.string('AvailabilityZone');
    if (zone !== undefined && group.config.targetType === 'instance') throw new ApiError('ValidationError', 'An Availability Zone cannot be specified for instance targets');
    return { id, ...(port !== undefined ? { port } : {}) };
  });
}

function attributeCatalogue(group: TargetGroup) {
  const network = group.config.kind === 'network';
  return {
    catalogue: network ? networkTargetGroupAttributes(group.config.protocol, group.config.targetType) : applicationTargetGroupAttributes,
    owner: {
      resource: 'Target group' as const,
      kind: `${network ? 'network' : 'application'} load balancer target groups`,
      elsewhere: network ? applicationTargetGroupAttributes : networkTargetGroupAttributes('TCP', 'ip'),
    },
  };
}

export const targetGroupHandlers: Record<string, Handler> = {
  async CreateTargetGroup({ api, params, caller }: Call): Promise<Result> {
    const name = params.string('Name', { required: true, min: 1, max: 32 });
    if (!RESOURCE_NAME.test(name)) {
      throw new ApiError('ValidationError', `Target group name '${name}' can have a maximum of 32 characters, can contain only alphanumeric characters or hyphens, and must not begin or end with a hyphen`);
    }
    const targetType = params.choice('TargetType', ['instance', 'ip', 'lambda', 'alb']) ?? 'instance';
    if (targetType === 'lambda' || targetType === 'alb') throw new ApiError('UnsupportedProtocol', `Target type '${targetType}' is not emulated by local-elb (instance and ip are)`);
    const protocol = params.choice('Protocol', PROTOCOLS, { required: true });
    if (!EMULATED_PROTOCOLS.includes(protocol)) throw new ApiError('UnsupportedProtocol', `Protocol '${protocol}' is not emulated by local-elb (HTTP, HTTPS, TCP, TLS, UDP, TCP_UDP are)`);
    const port = params.integer('Port', { required: true, min: 1, max: 65535 });
    const protocolVersion = params.choice('ProtocolVersion', ['HTTP1', 'HTTP2', 'GRPC']);
    const vpcId = params.string('VpcId', { max: 255 });
    const ipAddressType = params.choice('IpAddressType', ['ipv4', 'ipv6']) ?? 'ipv4';
    params.integer('TargetControlPort', { min: 1, max: 65535 });
    const tags = tagsOf(params);
    const input: InputTargetGroup = {
      name,
      protocol: protocol as InputTargetGroup['protocol'],
      port,
      targetType,
      ...(protocolVersion !== undefined ? { protocolVersion } : {}),
      ...healthCheckInput(params),
    };
    const existing = api.targetGroups().find((e) => e.group.name === name)?.group;
    if (existing !== undefined) {
      // Idempotent when the settings are the same (spec 14.6.2).
      let resolved;
      try {
        resolved = parseConfig({ targetGroups: [input] }, 'the request').targetGroups[0]!;
      } catch (err) {
        if (err instanceof ConfigError) throw apiErrorOf(err);
        throw err;
      }
      const { attributes: _a1, targets: _t1, ...asked } = resolved;
      const { attributes: _a2, targets: _t2, pods: _p, propagation: _q, ...has } = existing.config;
      if (deepEqual(asked, has)) return { TargetGroups: [api.targetGroupShape(existing, api.catalog.targetGroup(existing).arn)] };
      throw new ApiError('DuplicateTargetGroupName', `A target group with the same name '${name}' exists, but with different settings`);
    }
    if (api.runtime.targetGroups().length >= LIMITS['target-groups']) throw new ApiError('TooManyTargetGroups', `The quota of ${LIMITS['target-groups']} target groups is reached`);
    const draft = new Draft(api.runtime, api.catalog);
    draft.targetGroups.push(input);
    const record = api.catalog.newTargetGroup(name, caller, { ...(vpcId !== undefined ? { vpcId } : {}), ipAddressType, tags });
    api.catalog.setTargetGroup(name, record);
    try {
      await draft.commit();
    } catch (err) {
      api.catalog.forgetTargetGroup(name);
      throw err;
    }
    const group = api.runtime.targetGroup(name);
    return { TargetGroups: [api.targetGroupShape(group, record.arn)] };
  },

  async DeleteTargetGroup({ api, params }: Call): Promise<Result> {
    const arn = params.string('TargetGroupArn', { required: true });
    const found = api.targetGroups().find((e) => e.arn === arn);
    // AWS's answer for an unknown group is UNCONFIRMED (spec 14.6.2): it succeeds here.
    if (found === undefined) return {};
    const users = api.loadBalancerArnsOf(found.group);
    if (users.length > 0) throw new ApiError('ResourceInUse', `Target group '${arn}' is currently in use by a listener or a rule`);
    if (found.group.config.pods !== undefined) throw new ApiError('OperationNotPermitted', `Target group '${found.group.name}' takes its targets from local pods (the config file): remove it there`);
    const draft = new Draft(api.runtime, api.catalog);
    draft.targetGroups.splice(draft.targetGroups.indexOf(draft.targetGroup(found.group.name)), 1);
    await draft.commit();
    api.catalog.forgetTargetGroup(found.group.name);
    return {};
  },

  DescribeTargetGroups({ api, params }: Call): Result {
    const lbArn = params.string('LoadBalancerArn');
    const arns = params.strings('TargetGroupArns');
    const names = params.strings('Names');
    const filters = [lbArn !== undefined, (arns?.length ?? 0) > 0, (names?.length ?? 0) > 0].filter(Boolean).length;
    if (filters > 1) throw new ApiError('ValidationError', 'Specify only one of LoadBalancerArn, TargetGroupArns and Names');
    let entries = api.targetGroups();
    if (lbArn !== undefined) {
      const { lb } = api.loadBalancer(lbArn);
      const used = new Set(lb.targetGroupNames());
      entries = entries.filter((e) => used.has(e.group.name));
    } else if (arns?.length) {
      if (arns.some((a) => !entries.some((e) => e.arn === a))) throw new ApiError('TargetGroupNotFound', 'One or more target groups not found');
      entries = arns.map((a) => entries.find((e) => e.arn === a)!);
    } else if (names?.length) {
      if (names.some((n) => !entries.some((e) => e.group.name === n))) throw new ApiError('TargetGroupNotFound', 'One or more target groups not found');
      entries = names.map((n) => entries.find((e) => e.group.name === n)!);
    }
    const { items, nextMarker } = page(entries, params);
    return { TargetGroups: items.map((e) => api.targetGroupShape(e.group, e.arn)), NextMarker: nextMarker };
  },

  async ModifyTargetGroup({ api, params }: Call): Promise<Result> {
    const arn = params.string('TargetGroupArn', { required: true });
    const group = api.targetGroup(arn);
    const changes = healthCheckInput(params);
    if (Object.keys(changes).length > 0) {
      if (group.config.pods !== undefined) throw new ApiError('OperationNotPermitted', `Target group '${group.name}' takes its targets from local pods: change its health check in the config file`);
      const draft = new Draft(api.runtime, api.catalog);
      const input = draft.targetGroup(group.name);
      // A new health-check protocol brings its own defaults (path, matcher) unless given.
      if (changes.healthCheckProtocol !== undefined && changes.healthCheckProtocol !== group.config.healthCheckProtocol) {
        delete input.healthCheckPath;
        delete input.matcher;
        if (changes.healthCheckTimeoutSeconds === undefined) delete input.healthCheckTimeoutSeconds;
      }
      Object.assign(input, changes);
      await draft.commit();
    }
    const now = api.runtime.targetGroup(group.name);
    return { TargetGroups: [api.targetGroupShape(now, arn)] };
  },

  DescribeTargetGroupAttributes({ api, params }: Call): Result {
    const group = api.targetGroup(params.string('TargetGroupArn', { required: true }));
    return { Attributes: attributeList(group.attributes()) };
  },

  ModifyTargetGroupAttributes({ api, params }: Call): Result {
    const arn = params.string('TargetGroupArn', { required: true });
    const group = api.targetGroup(arn);
    api.assertOwned(group, arn);
    const changes = readAttributes(params);
    const { catalogue, owner } = attributeCatalogue(group);
    const resolved = resolveAttributes(catalogue, changes, 'Attributes', group.attributes(), owner);
    if (!resolved.ok) throw attributeError(resolved.issues);
    const issues = group.config.kind === 'network' ? checkNetworkTargetGroupAttributes(group.config.protocol, resolved.attributes, 'Attributes') : checkApplicationTargetGroupAttributes(resolved.attributes, 'Attributes');
    if (issues.length > 0) throw attributeError(issues);
    return { Attributes: attributeList(group.modifyAttributes(changes)) };
  },

  RegisterTargets({ api, params }: Call): Result {
    const arn = params.string('TargetGroupArn', { required: true });
    const group = api.targetGroup(arn);
    api.assertOwned(group, arn);
    const targets = targetsOf(params, group);
    const keys = new Set(group.targets().map((t) => t.key));
    for (const t of targets) keys.add(`${t.id}:${t.port ?? group.config.port}`);
    if (keys.size > LIMITS['targets-per-target-group']) throw new ApiError('TooManyTargets', `A target group takes at most ${LIMITS['targets-per-target-group']} targets: this would make ${keys.size}`);
    group.register(targets);
    return {};
  },

  DeregisterTargets({ api, params }: Call): Result {
    const arn = params.string('TargetGroupArn', { required: true });
    const group = api.targetGroup(arn);
    api.assertOwned(group, arn);
    const targets = targetsOf(params, group);
    // A target that is not registered is ignored (spec 14.6.3); the drain runs on its own.
    const registered = new Set(group.targets().filter((t) => t.registration !== 'draining').map((t) => t.key));
    const wanted = targets.filter((t) => registered.has(`${t.id}:${t.port ?? group.config.port}`));
    if (wanted.length > 0) void group.deregister(wanted);
    return {};
  },

  DescribeTargetHealth({ api, params }: Call): Result {
    const group = api.targetGroup(params.string('TargetGroupArn', { required: true }));
    const targets = params.has('Targets') ? targetsOf(params, group) : undefined;
    const include = params.strings('Include')?.map((i, k) => {
      if (i !== 'AnomalyDetection' && i !== 'All') throw new ApiError('ValidationError', `1 validation error detected: Value '${i}' at 'include.${k + 1}' failed to satisfy constraint: Member must satisfy enum value set: [AnomalyDetection, All]`);
      return i;
    });
    const rows = group.describeTargetHealth(targets, include !== undefined ? { include } : {});
    return {
      TargetHealthDescriptions: rows.map((r) => ({
        Target: { Id: r.target.id, Port: r.target.port },
        // Shown on healthy and unhealthy targets, not on initial or unused ones (spec 14.6.3).
        HealthCheckPort: r.targetHealth.state === 'unused' || r.targetHealth.state === 'initial' ? undefined : r.healthCheckPort,
        TargetHealth: { State: r.targetHealth.state, Reason: r.targetHealth.reason, Description: r.targetHealth.description },
        ...(r.anomalyDetection !== undefined ? { AnomalyDetection: { Result: r.anomalyDetection.result, MitigationInEffect: r.anomalyDetection.mitigationInEffect } } : {}),
      })),
    };
  },
};
