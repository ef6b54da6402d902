/**
 * Listener rule actions (spec 14.6.5): create, modify, delete, describe and re-prioritise the
 * rules of an ALB listener. A rule change swaps the listener's compiled rules in place: no
 * connection on it or on any other listener is touched.
 */
import { LIMITS, page, tagsOf, type Call, type Handler, type Result } from './api.ts';
import { actionInput, AUTHENTICATION_ACTION_TYPES, conditionInput, transformInput } from './convert.ts';
import { Draft, type InputRule } from './draft.ts';
import { ApiError } from './errors.ts';
import type { Members } from './query.ts';
import type { Elbv2Api } from './api.ts';
import type { LoadBalancer } from '../runtime/runtime.ts';

/** Actions of a rule: at least one, exactly one terminal (forward, redirect, fixed-response), groups that exist and are this load balancer's to use. */
function readRuleActions(api: Elbv2Api, members: Members[], lb: LoadBalancer, protocol: string): Record<string, unknown>[] {
  const actions = members.map((m) => actionInput(m, (arn) => api.targetGroup(arn).name));
  const terminal = actions.filter((a) => a['type'] === 'forward' || a['type'] === 'redirect' || a['type'] === 'fixed-response');
  if (terminal.length !== 1) throw new ApiError('InvalidLoadBalancerAction', 'A rule needs exactly one forward, redirect or fixed-response action');
  if (actions.length > 1 && actions.some((a) => a['order'] === undefined)) throw new ApiError('ValidationError', 'Each action needs an Order when a rule has several');
  for (const a of actions) {
    if (AUTHENTICATION_ACTION_TYPES.has(String(a['type'])) && protocol !== 'HTTPS') throw new ApiError('InvalidLoadBalancerAction', 'Authentication actions are supported on HTTPS listeners only');
    if (a['type'] !== 'forward') continue;
    const names = a['targetGroupName'] !== undefined ? [a['targetGroupName'] as string] : (a['forwardConfig'] as { targetGroups: Array<{ targetGroupName: string }> }).targetGroups.map((g) => g.targetGroupName);
    if (names.length > LIMITS['target-groups-per-action-on-application-load-balancer']) throw new ApiError('TooManyTargetGroups', 'An action forwards to at most 5 target groups');
    for (const name of names) {
      const others = api.loadBalancers().filter(({ lb: other }) => other.name !== lb.name && other.targetGroupNames().includes(name));
      if (others.length > 0) throw new ApiError('TargetGroupAssociationLimit', `The following target groups cannot be associated with more than one load balancer: ${api.targetGroupArn(name)}`);
      const group = api.runtime.targetGroup(name);
      if (group.config.protocol !== 'HTTP' && group.config.protocol !== 'HTTPS') {
        throw new ApiError('IncompatibleProtocols', `The listener protocol '${protocol}' is not compatible with target group protocol '${group.config.protocol}'`);
      }
    }
  }
  return actions;
}

function readConditions(params: Members, required: boolean): Record<string, unknown>[] | undefined {
  const conditions = params.structures('Conditions', required ? { required: true } : {})?.map(conditionInput);
  const once = new Set<string>();
  for (const c of conditions ?? []) {
    const field = c['field'] as string;
    if (field === 'http-header' || field === 'query-string') continue;
    if (once.has(field)) throw new ApiError('ValidationError', `A rule can have at most one '${field}' condition`);
    once.add(field);
  }
  return conditions;
}

/**
 * `Transforms.member.N` (spec 14.6.5, 6.1): at most one host-header-rewrite and one
 * url-rewrite; the regexes and replacements are then checked by the config schema.
 */
function readTransforms(params: Members): Record<string, unknown>[] | undefined {
  const transforms = params.structures('Transforms')?.map(transformInput);
  const seen = new Set<string>();
  for (const t of transforms ?? []) {
    const type = t['type'] as string;
    if (seen.has(type)) throw new ApiError('ValidationError', `A rule can have at most one '${type}' transform`);
    seen.add(type);
  }
  return transforms;
}

export const ruleHandlers: Record<string, Handler> = {
  async CreateRule({ api, params }: Call): Promise<Result> {
    const entry = api.listener(params.string('ListenerArn', { required: true }));
    api.assertOwned(entry.lb, entry.record.arn);
    if (entry.lb.config.type === 'network') throw new ApiError('UnsupportedProtocol', 'Rules are supported on application load balancer listeners only');
    const priority = params.integer('Priority', { required: true, min: 1, max: 50000 });
    const conditions = readConditions(params, true)!;
    const actions = readRuleActions(api, params.structures('Actions', { required: true })!, entry.lb, entry.config.protocol);
    const transforms = readTransforms(params);
    const tags = tagsOf(params);
    if (entry.config.rules.some((r) => r.priority === priority)) throw new ApiError('PriorityInUse', `Priority '${priority}' is currently in use`);
    const count = entry.lb.config.listeners.reduce((n, l) => n + l.rules.length, 0);
    if (count >= LIMITS['rules-per-application-load-balancer']) throw new ApiError('TooManyRules', `A load balancer takes at most ${LIMITS['rules-per-application-load-balancer']} rules besides the default ones`);
    const draft = new Draft(api.runtime, api.catalog);
    const { listener } = draft.listener(entry.record);
    const rule = { priority, conditions, actions, ...(transforms !== undefined && transforms.length > 0 ? { transforms } : {}) } as InputRule;
    listener.rules = [...(listener.rules ?? []), rule];
    const record = api.catalog.newRule(entry.record, tags);
    draft.bindRule(rule, record);
    await draft.commit();
    return { Rules: [api.ruleShape(api.rule(record.arn))] };
  },

  async ModifyRule({ api, params }: Call): Promise<Result> {
    const found = api.rule(params.string('RuleArn', { required: true }));
    api.assertOwned(found.listener.lb, found.arn);
    const conditions = readConditions(params, false);
    const actionMembers = params.structures('Actions');
    const actions = actionMembers !== undefined && actionMembers.length > 0 ? readRuleActions(api, actionMembers, found.listener.lb, found.listener.config.protocol) : undefined;
    const transforms = readTransforms(params);
    const reset = params.boolean('ResetTransforms') === true;
    if (reset && transforms !== undefined && transforms.length > 0) throw new ApiError('ValidationError', 'You cannot specify both Transforms and ResetTransforms');
    const transformsChange = reset ? [] : transforms !== undefined && transforms.length > 0 ? transforms : undefined;
    if (conditions === undefined && actions === undefined && transformsChange === undefined) throw new ApiError('ValidationError', 'Specify Conditions, Actions, Transforms or ResetTransforms to modify');
    const draft = new Draft(api.runtime, api.catalog);
    if (found.record === undefined) {
      // The default rule: only its actions may change (spec 14.6.5).
      if (conditions !== undefined && conditions.length > 0) throw new ApiError('OperationNotPermitted', 'The conditions of a default rule cannot be modified');
      // "You can't add a transform to a default rule" (spec 6.1).
      if (transformsChange !== undefined && transformsChange.length > 0) throw new ApiError('OperationNotPermitted', 'A default rule cannot have transforms');
      const { listener } = draft.listener(found.listener.record);
      if (actions !== undefined) listener.defaultActions = actions as never;
    } else {
      const { listener, rule, index } = draft.rule(found.record);
      const { transforms: oldTransforms, ...kept } = rule as InputRule & { transforms?: unknown };
      const nextTransforms = transformsChange ?? oldTransforms;
      const next = {
        ...kept,
        ...(conditions !== undefined ? { conditions } : {}),
        ...(actions !== undefined ? { actions } : {}),
        ...(nextTransforms !== undefined && (nextTransforms as unknown[]).length > 0 ? { transforms: nextTransforms } : {}),
      } as InputRule;
      listener.rules![index] = next;
      draft.bindRule(next, found.record);
    }
    await draft.commit();
    return { Rules: [api.ruleShape(api.rule(found.arn))] };
  },

  async DeleteRule({ api, params }: Call): Promise<Result> {
    const found = api.rule(params.string('RuleArn', { required: true }));
    if (found.record === undefined) throw new ApiError('OperationNotPermitted', 'A default rule cannot be deleted');
    const draft = new Draft(api.runtime, api.catalog);
    const { listener, index } = draft.rule(found.record);
    listener.rules!.splice(index, 1);
    await draft.commit();
    return {};
  },

  DescribeRules({ api, params }: Call): Result {
    const listenerArn = params.string('ListenerArn');
    const arns = params.strings('RuleArns');
    if (listenerArn === undefined && (arns === undefined || arns.length === 0)) throw new ApiError('ValidationError', 'You must specify either listener rule ARNs or a listener ARN');
    let rules = api.rules();
    if (listenerArn !== undefined) {
      const listener = api.listener(listenerArn);
      // Ascending priority, the default rule last (spec 14.6.5).
      rules = rules.filter((r) => r.listener.record === listener.record).sort((a, b) => (a.rule?.priority ?? Infinity) - (b.rule?.priority ?? Infinity));
    }
    if (arns !== undefined && arns.length > 0) {
      const missing = arns.filter((a) => !rules.some((r) => r.arn === a));
      if (missing.length > 0) throw new ApiError('RuleNotFound', `One or more rules not found: '${missing.join("', '")}'`);
      rules = arns.map((a) => rules.find((r) => r.arn === a)!);
    }
    const { items, nextMarker } = page(rules, params);
    return { Rules: items.map((r) => api.ruleShape(r)), NextMarker: nextMarker };
  },

  async SetRulePriorities({ api, params }: Call): Promise<Result> {
    const wanted = params.structures('RulePriorities', { required: true })!.map((m) => ({ arn: m.string('RuleArn', { required: true }), priority: m.integer('Priority', { required: true, min: 1, max: 50000 }) }));
    // The whole batch is checked first, then applied at once (spec 14.6.5).
    const found = wanted.map((w) => ({ ...w, rule: api.rule(w.arn) }));
    for (const f of found) if (f.rule.record === undefined) throw new ApiError('OperationNotPermitted', 'The priority of a default rule cannot be set');
    if (new Set(found.map((f) => f.arn)).size !== found.length) throw new ApiError('ValidationError', 'A rule is named twice');
    const byListener = new Map<string, Array<{ priority: number; arn: string }>>();
    for (const r of api.rules()) {
      if (r.rule === undefined) continue;
      const next = found.find((f) => f.arn === r.arn)?.priority ?? r.rule.priority;
      const list = byListener.get(r.listener.record.arn) ?? [];
      const clash = list.find((x) => x.priority === next);
      if (clash !== undefined) throw new ApiError('PriorityInUse', `Priority '${next}' is currently in use`);
      list.push({ priority: next, arn: r.arn });
      byListener.set(r.listener.record.arn, list);
    }
    const draft = new Draft(api.runtime, api.catalog);
    for (const f of found) {
      const { listener, rule, index } = draft.rule(f.rule.record!);
      const next = { ...rule, priority: f.priority } as InputRule;
      listener.rules![index] = next;
      draft.bindRule(next, f.rule.record!);
    }
    await draft.commit();
    return { Rules: found.map((f) => api.ruleShape(api.rule(f.arn))) };
  },
};
