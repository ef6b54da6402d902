/**
 * Rules' conditions and actions between the API's shapes (PascalCase members, target groups by
 * ARN) and the config's (camelCase, target groups by name), both ways. What the API sends is
 * validated by the config schema afterwards (Draft.commit), so only the members' types are
 * read here.
 */
import type { ActionConfig, ConditionConfig, TransformConfig } from '../config/schema.ts';
import type { ApiValue } from './xml.ts';
import { ApiError } from './errors.ts';
import { invalid, Members, type QueryValue } from './query.ts';

export const ACTION_TYPES = ['forward', 'redirect', 'fixed-response', 'authenticate-oidc', 'authenticate-cognito', 'jwt-validation'] as const;
/** The authentication actions, placed before the routing action, HTTPS listeners only (spec 13.2.1). */
export const AUTHENTICATION_ACTION_TYPES: ReadonlySet<string> = new Set(['authenticate-oidc', 'authenticate-cognito', 'jwt-validation']);
/** Each authentication action's config member. */
const AUTHENTICATION_CONFIG = { 'authenticate-oidc': 'AuthenticateOidcConfig', 'authenticate-cognito': 'AuthenticateCognitoConfig', 'jwt-validation': 'JwtValidationConfig' } as const;
export const CONDITION_FIELDS = ['host-header', 'path-pattern', 'http-header', 'http-request-method', 'query-string', 'source-ip'] as const;
export const TRANSFORM_TYPES = ['host-header-rewrite', 'url-rewrite'] as const;

type Resolve = (targetGroupArn: string) => string;

/** One `Actions.member.N` / `DefaultActions.member.N` as config input. */
export function actionInput(m: Members, targetGroupName: Resolve): Record<string, unknown> {
  const type = m.choice('Type', ACTION_TYPES, { required: true });
  const order = m.integer('Order', { min: 1, max: 50000 });
  const base = { type, ...(order !== undefined ? { order } : {}) };
  switch (type) {
    case 'forward': {
      const arn = m.string('TargetGroupArn');
      const forward = m.structure('ForwardConfig');
      const groups = forward?.structures('TargetGroups')?.map((g) => ({
        targetGroupName: targetGroupName(g.string('TargetGroupArn', { required: true })),
        ...(g.has('Weight') ? { weight: g.integer('Weight', { min: 0, max: 999 }) } : {}),
      }));
      const stickiness = forward?.structure('TargetGroupStickinessConfig');
      const stickinessInput =
        stickiness === undefined
          ? undefined
          : {
              enabled: stickiness.boolean('Enabled') ?? false,
              ...(stickiness.has('DurationSeconds') ? { durationSeconds: stickiness.integer('DurationSeconds', { min: 1, max: 604800 }) } : {}),
            };
      if (arn === undefined && (groups === undefined || groups.length === 0)) {
        throw new ApiError('ValidationError', 'A forward action needs a TargetGroupArn or ForwardConfig.TargetGroups');
      }
      if (arn !== undefined) {
        const name = targetGroupName(arn);
        // Both forms: ForwardConfig must hold exactly that one group (spec 14.6.5).
        if (groups !== undefined && groups.length > 0 && (groups.length !== 1 || groups[0]!.targetGroupName !== name)) {
          throw new ApiError('ValidationError', 'You cannot specify both a target group ARN and a forward config with other target groups');
        }
        if (stickinessInput?.enabled !== true) return { ...base, targetGroupName: name };
      }
      return { ...base, forwardConfig: { targetGroups: groups ?? [{ targetGroupName: targetGroupName(arn!) }], ...(stickinessInput ? { targetGroupStickinessConfig: stickinessInput } : {}) } };
    }
    case 'redirect': {
      const r = m.structure('RedirectConfig');
      if (r === undefined) throw new ApiError('ValidationError', 'A redirect action needs a RedirectConfig');
      return {
        ...base,
        redirectConfig: {
          statusCode: r.choice('StatusCode', ['HTTP_301', 'HTTP_302'], { required: true }),
          ...optionalStrings(r, { Protocol: 'protocol', Port: 'port', Host: 'host', Path: 'path', Query: 'query' }),
        },
      };
    }
    case 'fixed-response': {
      const f = m.structure('FixedResponseConfig');
      if (f === undefined) throw new ApiError('ValidationError', 'A fixed-response action needs a FixedResponseConfig');
      return {
        ...base,
        fixedResponseConfig: { statusCode: f.string('StatusCode', { required: true }), ...optionalStrings(f, { ContentType: 'contentType', MessageBody: 'messageBody' }) },
      };
    }
    default: {
      const key = AUTHENTICATION_CONFIG[type];
      const config = m.structure(key);
      if (config === undefined) throw new ApiError('ValidationError', `A${type.startsWith('a') ? 'n' : ''} ${type} action needs a${key.startsWith('A') ? 'n' : ''} ${key}`);
      return { ...base, [lowerFirst(key)]: camelize(config.node) };
    }
  }
}

/** One `Conditions.member.N` as config input. */
export function conditionInput(m: Members): Record<string, unknown> {
  const field = m.choice('Field', CONDITION_FIELDS, { required: true });
  const out: Record<string, unknown> = { field };
  const values = m.strings('Values');
  if (values !== undefined && values.length > 0) out['values'] = values;
  const valuesOf = (name: string) => m.structure(name)?.strings('Values');
  const simple = { HttpRequestMethodConfig: 'httpRequestMethodConfig', SourceIpConfig: 'sourceIpConfig' } as const;
  for (const [member, key] of Object.entries(simple)) {
    const v = valuesOf(member);
    if (v !== undefined) out[key] = { values: v };
  }
  // host-header, path-pattern and http-header take Values (wildcards) or RegexValues (spec 14.6.5).
  const withRegex = { HostHeaderConfig: 'hostHeaderConfig', PathPatternConfig: 'pathPatternConfig' } as const;
  for (const [member, key] of Object.entries(withRegex)) {
    const config = m.structure(member);
    if (config !== undefined) out[key] = valuesOrRegex(config);
  }
  const header = m.structure('HttpHeaderConfig');
  if (header !== undefined) out['httpHeaderConfig'] = { httpHeaderName: header.string('HttpHeaderName', { required: true }), ...valuesOrRegex(header) };
  const query = m.structure('QueryStringConfig');
  if (query !== undefined) {
    out['queryStringConfig'] = {
      values: (query.structures('Values') ?? []).map((kv) => ({ ...(kv.has('Key') ? { key: kv.string('Key') } : {}), value: kv.string('Value', { required: true }) })),
    };
  }
  return out;
}

/** `Values` and/or `RegexValues` of a condition config (the schema then wants exactly one); an empty config reads as no values. */
function valuesOrRegex(config: Members): { values?: string[]; regexValues?: string[] } {
  const values = config.strings('Values');
  const regexValues = config.strings('RegexValues');
  if (regexValues !== undefined && regexValues.length > 0) return { ...(values !== undefined && values.length > 0 ? { values } : {}), regexValues };
  return { values: values ?? [] };
}

/** One `Transforms.member.N` as config input (AWS's RuleTransform: Type and its RewriteConfig list). */
export function transformInput(m: Members): Record<string, unknown> {
  const type = m.choice('Type', TRANSFORM_TYPES, { required: true });
  const key = type === 'host-header-rewrite' ? 'HostHeaderRewriteConfig' : 'UrlRewriteConfig';
  const config = m.structure(key);
  if (config === undefined) throw new ApiError('ValidationError', `A ${type} transform needs a ${key}`);
  const rewrites = (config.structures('Rewrites') ?? []).map((r) => ({ regex: r.string('Regex', { required: true }), replace: r.string('Replace', { required: true }) }));
  if (rewrites.length !== 1) throw new ApiError('ValidationError', `${key}.Rewrites takes exactly one rewrite (Regex and Replace): got ${rewrites.length}`);
  return { type, [lowerFirst(key)]: { rewrites } };
}

/** A config transform in the API's shape. */
export function transformShape(t: TransformConfig): Record<string, ApiValue> {
  const rewrites = (t.type === 'host-header-rewrite' ? t.hostHeaderRewriteConfig : t.urlRewriteConfig).rewrites.map((r) => ({ Regex: r.regex, Replace: r.replace }));
  return t.type === 'host-header-rewrite' ? { Type: t.type, HostHeaderRewriteConfig: { Rewrites: rewrites } } : { Type: t.type, UrlRewriteConfig: { Rewrites: rewrites } };
}

/** A config action in the API's shape; single-group forwards are described both ways, as AWS does. */
export function actionShape(action: ActionConfig, targetGroupArn: (name: string) => string): Record<string, ApiValue> {
  const order = action.order !== undefined ? { Order: action.order } : {};
  switch (action.type) {
    case 'forward': {
      const groups = action.forwardConfig?.targetGroups ?? [{ targetGroupName: action.targetGroupName!, weight: 1 }];
      const stickiness = action.forwardConfig?.targetGroupStickinessConfig;
      return {
        Type: 'forward',
        ...(action.targetGroupName !== undefined ? { TargetGroupArn: targetGroupArn(action.targetGroupName) } : groups.length === 1 ? { TargetGroupArn: targetGroupArn(groups[0]!.targetGroupName) } : {}),
        ...order,
        ForwardConfig: {
          TargetGroups: groups.map((g) => ({ TargetGroupArn: targetGroupArn(g.targetGroupName), Weight: g.weight })),
          TargetGroupStickinessConfig: { Enabled: stickiness?.enabled ?? false, ...(stickiness?.durationSeconds !== undefined ? { DurationSeconds: stickiness.durationSeconds } : {}) },
        },
      };
    }
    case 'redirect': {
      const r = action.redirectConfig;
      return { Type: 'redirect', ...order, RedirectConfig: { Protocol: r.protocol, Port: r.port, Host: r.host, Path: r.path, Query: r.query, StatusCode: r.statusCode } };
    }
    case 'fixed-response': {
      const f = action.fixedResponseConfig;
      return { Type: 'fixed-response', ...order, FixedResponseConfig: { StatusCode: f.statusCode, ContentType: f.contentType, MessageBody: f.messageBody } };
    }
    default: {
      const { type, order: _order, ...rest } = action as { type: string; order?: number } & Record<string, unknown>;
      const out: Record<string, ApiValue> = { Type: type, ...order };
      for (const [key, value] of Object.entries(rest)) out[upperFirst(key)] = pascalize(value);
      return out;
    }
  }
}

export function conditionShape(c: ConditionConfig): Record<string, ApiValue> {
  const out: Record<string, ApiValue> = { Field: c.field };
  if (c.field === 'host-header' || c.field === 'path-pattern') {
    const inner = c.field === 'host-header' ? c.hostHeaderConfig : c.pathPatternConfig;
    const member = c.field === 'host-header' ? 'HostHeaderConfig' : 'PathPatternConfig';
    if (inner?.regexValues !== undefined) out[member] = { RegexValues: inner.regexValues };
    else {
      const values = c.values ?? inner?.values;
      Object.assign(out, { Values: values, [member]: { Values: values } });
    }
  } else if (c.field === 'http-request-method') out['HttpRequestMethodConfig'] = { Values: c.values ?? c.httpRequestMethodConfig?.values };
  else if (c.field === 'source-ip') out['SourceIpConfig'] = { Values: c.values ?? c.sourceIpConfig?.values };
  else if (c.field === 'http-header') {
    const h = c.httpHeaderConfig;
    out['HttpHeaderConfig'] = { HttpHeaderName: h?.httpHeaderName, ...(h?.regexValues !== undefined ? { RegexValues: h.regexValues } : { Values: h?.values }) };
  } else if (c.field === 'query-string') out['QueryStringConfig'] = { Values: (c.queryStringConfig?.values ?? []).map((kv) => ({ Key: kv.key, Value: kv.value })) };
  return out;
}

function optionalStrings(m: Members, names: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [member, key] of Object.entries(names)) {
    const v = m.string(member);
    if (v !== undefined) out[key] = v;
  }
  return out;
}

const NUMBERS = new Set(['SessionTimeout', 'Weight', 'Order', 'DurationSeconds']);
const BOOLEANS = new Set(['UseExistingClientSecret', 'Enabled']);

/** Generic PascalCase → camelCase for the structures read as they are (authentication and JWT validation configs); maps (`entry.N.key`) become objects. */
function camelize(node: QueryValue, member = ''): unknown {
  if (typeof node === 'string') {
    if (NUMBERS.has(member)) {
      const n = Number(node);
      if (!Number.isInteger(n)) throw invalid(member, node, 'be an integer');
      return n;
    }
    if (BOOLEANS.has(member)) return node === 'true';
    return node;
  }
  if (node['member'] !== undefined && typeof node['member'] === 'object') return Object.keys(node['member']).sort((a, b) => Number(a) - Number(b)).map((k) => camelize((node['member'] as Record<string, QueryValue>)[k]!));
  if (node['entry'] !== undefined && typeof node['entry'] === 'object') {
    const out: Record<string, unknown> = {};
    for (const entry of Object.values(node['entry'] as Record<string, QueryValue>)) {
      if (typeof entry === 'object' && typeof entry['key'] === 'string') out[entry['key']] = typeof entry['value'] === 'string' ? entry['value'] : '';
    }
    return out;
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) out[lowerFirst(key)] = camelize(value, key);
  return out;
}

function pascalize(value: unknown): ApiValue {
  if (Array.isArray(value)) return value.map(pascalize);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, ApiValue> = {};
    for (const [key, v] of Object.entries(value)) out[upperFirst(key)] = pascalize(v);
    return out;
  }
  return value as ApiValue;
}

const lowerFirst = (s: string) => s.charAt(0).toLowerCase() + s.slice(1);
const upperFirst = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
