/**
 * A parsed config as a user would write it: every default filled in, and nothing the schema
 * would refuse to read back (the derived `kind`, fields that do not apply to a target group's
 * health-check protocol). What
 * `local-elb validate` prints; parsing it again gives the same config.
 */
import type { Config, ConfigInput, TargetGroupConfig } from './schema.ts';

export function printableConfig(config: Config): ConfigInput {
  return {
    targetGroups: config.targetGroups.map(printableTargetGroup),
    loadBalancers: config.loadBalancers.map((lb) => ({ ...lb, listeners: lb.listeners.map((l) => ({ ...l })) })) as ConfigInput['loadBalancers'],
    ...(config.certificates.length > 0 ? { certificates: config.certificates.map((c) => ({ ...c })) } : {}),
    ...(config.trustStores.length > 0 ? { trustStores: config.trustStores.map((t) => ({ ...t, revocationFiles: [...t.revocationFiles] })) } : {}),
  };
}

function printableTargetGroup(tg: TargetGroupConfig): NonNullable<ConfigInput['targetGroups']>[number] {
  const { kind: _kind, name, protocol, protocolVersion, healthCheckPath, matcher, propagation, ...rest } = tg;
  return {
    name,
    protocol,
    ...(protocolVersion !== undefined ? { protocolVersion } : {}),
    ...rest,
    ...(tg.healthCheckProtocol !== 'TCP' ? { healthCheckPath, matcher: matcher.grpcCode !== undefined ? { grpcCode: matcher.grpcCode } : { httpCode: matcher.httpCode } } : {}),
    ...(propagation !== undefined ? { propagation } : {}),
  } as NonNullable<ConfigInput['targetGroups']>[number];
}
