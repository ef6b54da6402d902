/**
 * What a valid config may still get wrong: things AWS accepts but that are rarely meant. Pure:
 * a parsed config in, issues (path and message, as ConfigError's) out; the CLI prints them and
 * LocalElb logs them, and neither refuses to start.
 */
import type { ConfigIssue } from '../core/errors.ts';
import type { ActionConfig, Config } from './schema.ts';

function forwardedGroupNames(action: ActionConfig): string[] {
  if (action.type !== 'forward') return [];
  return action.forwardConfig?.targetGroups.map((t) => t.targetGroupName) ?? (action.targetGroupName ? [action.targetGroupName] : []);
}

/** Names of the target groups some listener forwards to (default actions and rules). */
export function targetGroupsInUse(config: Config): ReadonlySet<string> {
  const used = new Set<string>();
  for (const lb of config.loadBalancers) {
    for (const listener of lb.listeners) {
      for (const action of [...listener.defaultActions, ...listener.rules.flatMap((r) => r.actions)]) {
        for (const name of forwardedGroupNames(action)) used.add(name);
      }
    }
  }
  return used;
}

/**
 * A target group that no listener forwards to is what AWS calls not in use (spec 1.3): it is
 * not health-checked and its targets show `unused`/`Target.NotInUse`. AWS allows it, and so
 * does local-elb, but a config that has one usually lacks its `loadBalancers:` section, so say
 * so (with local pods, the pods still start and pass their own probes).
 */
export function configWarnings(config: Config): ConfigIssue[] {
  const used = targetGroupsInUse(config);
  const issues: ConfigIssue[] = [];
  config.targetGroups.forEach((tg, i) => {
    if (used.has(tg.name)) return;
    issues.push({
      path: `targetGroups[${i}]`,
      message:
        `no listener forwards to target group ${JSON.stringify(tg.name)}, so, as on AWS, it is not health-checked and its targets show unused (Target.NotInUse)` +
        `${tg.pods !== undefined ? '; its pods still start and run their probes' : ''}; add a listener under loadBalancers: whose forward action names it`,
    });
  });
  return issues;
}
