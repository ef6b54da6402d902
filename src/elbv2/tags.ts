/**
 * Tags (spec 14.6.6) on load balancers, target groups, listeners, rules and trust stores: at most 50 per
 * resource, a key repeated in one call is DuplicateTagKeys, an unknown resource its type's
 * `*NotFound`. DescribeTags adds the local tags (LOCAL_TAGS: where the resource is bound on
 * this machine), which are not stored and cannot be set.
 */
import { LOCAL_TAGS, MAX_TAGS, tagsOf, type Call, type Elbv2Api, type Handler, type Result } from './api.ts';
import { resourceKind } from './arns.ts';
import { ApiError } from './errors.ts';
import { trustStoreByArn } from './trust-stores.ts';

const LOCAL_PREFIX = 'local-elb:';

/** The stored tags of the resource an ARN names, or its `*NotFound`. */
function tagsOfResource(api: Elbv2Api, arn: string): Map<string, string> {
  switch (resourceKind(arn)) {
    case 'loadbalancer':
      return api.loadBalancer(arn).record.tags;
    case 'targetgroup': {
      const group = api.targetGroup(arn);
      return api.catalog.targetGroup(group).tags;
    }
    case 'listener':
      return api.listener(arn).record.tags;
    case 'listener-rule': {
      const rule = api.rule(arn);
      if (rule.record === undefined) throw new ApiError('ValidationError', 'A default rule takes no tags');
      return rule.record.tags;
    }
    case 'truststore':
      return trustStoreByArn(api, arn).record.tags;
    default:
      throw new ApiError('ValidationError', `'${arn}' is not a valid load balancer, target group, listener, rule or trust store ARN`);
  }
}

export const tagHandlers: Record<string, Handler> = {
  AddTags({ api, params }: Call): Result {
    const arns = params.strings('ResourceArns', { required: true })!;
    const tags = tagsOf(params, 'Tags', { required: true });
    for (const key of tags.keys()) if (key.startsWith(LOCAL_PREFIX)) throw new ApiError('ValidationError', `Tag keys starting with '${LOCAL_PREFIX}' are local-elb's own`);
    const targets = arns.map((arn) => tagsOfResource(api, arn));
    for (const existing of targets) {
      const keys = new Set([...existing.keys(), ...tags.keys()]);
      if (keys.size > MAX_TAGS) throw new ApiError('TooManyTags', `A resource takes at most ${MAX_TAGS} tags: this would make ${keys.size}`);
    }
    for (const existing of targets) for (const [k, v] of tags) existing.set(k, v);
    return {};
  },

  RemoveTags({ api, params }: Call): Result {
    const arns = params.strings('ResourceArns', { required: true })!;
    const keys = params.strings('TagKeys', { required: true })!;
    const targets = arns.map((arn) => tagsOfResource(api, arn));
    for (const existing of targets) for (const k of keys) existing.delete(k);
    return {};
  },

  DescribeTags({ api, params }: Call): Result {
    const arns = params.strings('ResourceArns', { required: true, max: 20 })!;
    return {
      TagDescriptions: arns.map((arn) => ({
        ResourceArn: arn,
        Tags: [...[...tagsOfResource(api, arn)].map(([Key, Value]) => ({ Key, Value })), ...api.localTags(arn)],
      })),
    };
  },
};
