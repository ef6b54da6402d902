/**
 * The AWS Load Balancer Controller's rule annotations on an Ingress (spec 15.5, ELB-BEHAVIOUR
 * 9.3): `actions.<name>`, `conditions.<name>`, `transforms.<name>` and `use-regex-path-match`,
 * decoded as the controller decodes them (Go's encoding/json into its structs, go-json.ts:
 * PascalCase and camelCase keys alike, values compared exactly) and validated with its messages
 * (pkg/ingress/config_types.go); an Ingress path's conditions as model_build_listener_rules.go
 * builds them; and the rule optimiser of rule_optimizer.go. Pure: annotations in, controller
 * structs, config-shaped conditions and transforms, or the controller's error out. translate.ts
 * calls it and resolves Services into target groups.
 */
import type { ConfigInput } from '../config/schema.ts';
import { decodeGoJson, GoJsonError, goPtr, goSlice, goString, goStruct, type GoType } from './go-json.ts';

/** Annotation suffixes this module reads (`actions.` and friends take a backend name after the dot). */
export const INGRESS_RULE_ANNOTATIONS = ['actions.', 'conditions.', 'transforms.', 'use-regex-path-match', 'jwt-validation'] as const;

type ListenerInput = NonNullable<ConfigInput['loadBalancers']>[number]['listeners'][number];
type RuleInput = NonNullable<ListenerInput['rules']>[number];
export type ActionInput = NonNullable<ListenerInput['defaultActions']>[number];
export type ConditionInput = RuleInput['conditions'][number];
export type TransformInput = NonNullable<RuleInput['transforms']>[number];

export type AnnotationResult<T> = { readonly value: T } | { readonly error: string };

/** The fixed-response bodies of the controller's `--tolerate-non-existent-backend-*` flags (default true; spec 15.5.1). */
export const NON_EXISTENT_BACKEND_SERVICE = 'Backend service does not exist';
export const NON_EXISTENT_BACKEND_ACTION = 'Backend action does not exist';

/** The controller's fixed 503 for a backend that does not exist. */
export function backend503(messageBody: string): ActionInput {
  return { type: 'fixed-response', fixedResponseConfig: { contentType: 'text/plain', statusCode: '503', messageBody } };
}

// ---------------------------------------------------------------------------------------------
// The controller's structs (pkg/ingress/config_types.go), JSON tag names as field names

const str = goPtr(goString());
const strings = goSlice(goString());

const ACTION_TYPE = goStruct('ingress', 'Action', {
  type: goString('ingress.ActionType'),
  targetGroupARN: str,
  targetGroupName: str,
  fixedResponseConfig: goPtr(goStruct('ingress', 'FixedResponseActionConfig', { contentType: str, messageBody: str, statusCode: goString() })),
  redirectConfig: goPtr(goStruct('ingress', 'RedirectActionConfig', { host: str, path: str, port: str, protocol: str, query: str, statusCode: goString() })),
  forwardConfig: goPtr(
    goStruct('ingress', 'ForwardActionConfig', {
      targetGroups: goSlice(
        goStruct('ingress', 'TargetGroupTuple', { targetGroupARN: str, targetGroupName: str, serviceName: str, servicePort: goPtr({ kind: 'intOrString' }), weight: goPtr({ kind: 'int32' }) }),
      ),
      targetGroupStickinessConfig: goPtr(goStruct('ingress', 'TargetGroupStickinessConfig', { enabled: goPtr({ kind: 'bool' }), durationSeconds: goPtr({ kind: 'int32' }) })),
    }),
  ),
});

const valuesOrRegex = (name: string, extra: Record<string, GoType> = {}) => goPtr(goStruct('ingress', name, { ...extra, regexValues: strings, values: strings }));
const CONDITIONS_TYPE = goSlice(
  goStruct('ingress', 'RuleCondition', {
    field: goString('ingress.RuleConditionField'),
    hostHeaderConfig: valuesOrRegex('HostHeaderConditionConfig'),
    httpHeaderConfig: valuesOrRegex('HTTPHeaderConditionConfig', { httpHeaderName: goString() }),
    httpRequestMethodConfig: goPtr(goStruct('ingress', 'HTTPRequestMethodConditionConfig', { values: strings })),
    pathPatternConfig: valuesOrRegex('PathPatternConditionConfig'),
    queryStringConfig: goPtr(goStruct('ingress', 'QueryStringConditionConfig', { values: goSlice(goStruct('ingress', 'QueryStringKeyValuePair', { key: str, value: goString() })) })),
    sourceIPConfig: goPtr(goStruct('ingress', 'SourceIPConditionConfig', { values: strings })),
  }),
);

const rewrites = goPtr(goStruct('ingress', 'RewriteConfigObject', { rewrites: goSlice(goStruct('ingress', 'RewriteConfig', { regex: goString(), replace: goString() })) }));
const TRANSFORMS_TYPE = goSlice(goStruct('ingress', 'Transform', { type: goString('ingress.TransformType'), hostHeaderRewriteConfig: rewrites, urlRewriteConfig: rewrites }));

export interface TargetGroupTuple {
  readonly targetGroupARN?: string;
  readonly targetGroupName?: string;
  readonly serviceName?: string;
  /** A name, or a number (strings that look numeric become numbers, as the controller normalises them). */
  readonly servicePort?: number | string;
  readonly weight?: number;
}

/** `actions.<name>` after validation, a simplified forward rewritten into `forwardConfig` (as the controller does). */
export type IngressAction =
  | { readonly type: 'fixed-response'; readonly fixedResponseConfig: { readonly contentType?: string; readonly messageBody?: string; readonly statusCode: string } }
  | {
      readonly type: 'redirect';
      readonly redirectConfig: { readonly host?: string; readonly path?: string; readonly port?: string; readonly protocol?: string; readonly query?: string; readonly statusCode: string };
    }
  | {
      readonly type: 'forward';
      readonly forwardConfig: {
        readonly targetGroups: readonly TargetGroupTuple[];
        readonly targetGroupStickinessConfig?: { readonly enabled?: boolean; readonly durationSeconds?: number };
      };
    };

interface ValuesConfig {
  readonly values?: readonly string[];
  readonly regexValues?: readonly string[];
}

/** One `conditions.<name>` entry as decoded; `field` is whatever the JSON said (unknown fields are ignored later, as the code does). */
export interface IngressCondition {
  readonly field?: string;
  readonly hostHeaderConfig?: ValuesConfig;
  readonly httpHeaderConfig?: ValuesConfig & { readonly httpHeaderName?: string };
  readonly httpRequestMethodConfig?: { readonly values?: readonly string[] };
  readonly pathPatternConfig?: ValuesConfig;
  readonly queryStringConfig?: { readonly values?: ReadonlyArray<{ readonly key?: string; readonly value?: string }> };
  readonly sourceIPConfig?: { readonly values?: readonly string[] };
}

interface DecodedTransform {
  readonly type?: string;
  readonly hostHeaderRewriteConfig?: { readonly rewrites?: ReadonlyArray<{ readonly regex?: string; readonly replace?: string }> };
  readonly urlRewriteConfig?: { readonly rewrites?: ReadonlyArray<{ readonly regex?: string; readonly replace?: string }> };
}

/** ParseJSONAnnotation: undefined when absent, else the decoded value or the controller's wrapped error. */
function parseJsonAnnotation(annotations: Readonly<Record<string, string>>, key: string, type: GoType): AnnotationResult<unknown> | undefined {
  const raw = annotations[key];
  if (raw === undefined) return undefined;
  try {
    return { value: decodeGoJson(raw, type) };
  } catch (err) {
    if (err instanceof GoJsonError) return { error: `failed to parse json annotation, ${key}: ${raw}: ${err.message}` };
    throw err;
  }
}

const empty = (s: string | undefined) => s === undefined || s.length === 0;
const none = (xs: readonly unknown[] | undefined) => xs === undefined || xs.length === 0;

/** Action.validate() of the controller, its messages word for word. */
function validateAction(a: Record<string, unknown>): string | undefined {
  const action = a as {
    type?: string;
    targetGroupARN?: string;
    targetGroupName?: string;
    fixedResponseConfig?: { statusCode?: string };
    redirectConfig?: { statusCode?: string };
    forwardConfig?: { targetGroups?: TargetGroupTuple[] };
  };
  switch (action.type) {
    case 'fixed-response':
      if (action.fixedResponseConfig === undefined) return 'missing FixedResponseConfig';
      if (empty(action.fixedResponseConfig.statusCode)) return 'invalid FixedResponseConfig: statusCode is required';
      return undefined;
    case 'redirect':
      if (action.redirectConfig === undefined) return 'missing RedirectConfig';
      if (empty(action.redirectConfig.statusCode)) return 'invalid RedirectConfig: statusCode is required';
      return undefined;
    case 'forward': {
      const byTargetGroup = action.targetGroupARN !== undefined || action.targetGroupName !== undefined;
      if (!byTargetGroup && action.forwardConfig === undefined) return 'missing ForwardConfig or TargetGroupARN/TargetGroupName';
      if (byTargetGroup && action.forwardConfig !== undefined) return 'either ForwardConfig or TargetGroupARN/TargetGroupName can be specified';
      const groups = action.forwardConfig?.targetGroups ?? [];
      for (const t of groups) {
        const tuple = t ?? {};
        const byArn = tuple.targetGroupARN !== undefined || tuple.targetGroupName !== undefined;
        if (!byArn && tuple.serviceName === undefined) return 'invalid ForwardConfig: invalid TargetGroupTuple: missing serviceName or targetGroupARN/targetGroupName';
        if (byArn && tuple.serviceName !== undefined) return 'invalid ForwardConfig: invalid TargetGroupTuple: either serviceName or targetGroupARN/targetGroupName can be specified';
        if (tuple.serviceName !== undefined && tuple.servicePort === undefined) return 'invalid ForwardConfig: invalid TargetGroupTuple: missing servicePort';
      }
      if (groups.length > 1 && groups.some((t) => t?.weight === undefined)) return 'invalid ForwardConfig: weight must be set when route to multiple target groups';
      return undefined;
    }
    default:
      return `unknown action type: ${action.type ?? ''}`;
  }
}

/** intstr.Parse(port.String()): a string strconv.Atoi accepts becomes a number. */
function normaliseServicePort(port: number | string | undefined): number | string | undefined {
  if (typeof port !== 'string' || !/^[+-]?\d+$/.test(port)) return port;
  const n = Number(port);
  return Number.isSafeInteger(n) ? n : port;
}

/**
 * `actions.<name>` (read only for a backend whose port name is `use-annotation`): undefined when
 * the annotation is absent (the caller answers the controller's 503), else the validated action
 * or the controller's error, with the annotation named after it when the message does not.
 */
export function parseActionAnnotation(annotations: Readonly<Record<string, string>>, prefix: string, name: string): AnnotationResult<IngressAction> | undefined {
  const key = `${prefix}actions.${name}`;
  const parsed = parseJsonAnnotation(annotations, key, ACTION_TYPE);
  if (parsed === undefined || 'error' in parsed) return parsed;
  const action = (parsed.value ?? {}) as Record<string, unknown> & {
    type?: string;
    targetGroupARN?: string;
    targetGroupName?: string;
    forwardConfig?: { targetGroups?: TargetGroupTuple[]; targetGroupStickinessConfig?: { enabled?: boolean; durationSeconds?: number } };
  };
  const invalid = validateAction(action);
  if (invalid !== undefined) return { error: `${invalid} (annotation ${key})` };
  if (action.type !== 'forward') return { value: action as unknown as IngressAction };
  // normalizeSimplifiedSchemaForwardAction, then normalizeServicePortForBackwardsCompatibility.
  const forwardConfig =
    action.targetGroupARN !== undefined || action.targetGroupName !== undefined
      ? { targetGroups: [{ ...(action.targetGroupARN !== undefined ? { targetGroupARN: action.targetGroupARN } : {}), ...(action.targetGroupName !== undefined ? { targetGroupName: action.targetGroupName } : {}) }] }
      : action.forwardConfig!;
  const targetGroups = (forwardConfig.targetGroups ?? []).map((t) => {
    const tuple = t ?? {};
    const servicePort = normaliseServicePort(tuple.servicePort);
    return { ...tuple, ...(servicePort !== undefined ? { servicePort } : {}) };
  });
  return { value: { type: 'forward', forwardConfig: { ...forwardConfig, targetGroups } } };
}

/** RuleCondition.Validate(): unknown fields pass (and are ignored when the rule is built). */
function validateCondition(c: IngressCondition): string | undefined {
  const valuesOrRegexValues = (config: ValuesConfig | undefined, name: string) => {
    if (config === undefined) return `missing ${name}`;
    if (none(config.values) && none(config.regexValues)) return `invalid ${name}: values or regexValues must be specified`;
    if (!none(config.values) && !none(config.regexValues)) return `invalid ${name}: precisely one of values and regexValues can be specified`;
    return undefined;
  };
  const values = (config: { values?: readonly unknown[] } | undefined, name: string, message = 'values cannot be empty') => {
    if (config === undefined) return `missing ${name}`;
    if (none(config.values)) return `invalid ${name}: ${message}`;
    return undefined;
  };
  switch (c.field) {
    case 'host-header':
      return valuesOrRegexValues(c.hostHeaderConfig, 'hostHeaderConfig');
    case 'path-pattern':
      return valuesOrRegexValues(c.pathPatternConfig, 'pathPatternConfig');
    case 'http-header':
      return valuesOrRegexValues(c.httpHeaderConfig, 'httpHeaderConfig');
    case 'http-request-method':
      return values(c.httpRequestMethodConfig, 'httpRequestMethodConfig');
    case 'query-string': {
      const missing = values(c.queryStringConfig, 'queryStringConfig', 'Values cannot be empty');
      if (missing !== undefined) return missing;
      return c.queryStringConfig!.values!.some((pair) => empty(pair?.value)) ? 'invalid queryStringConfig: value cannot be empty' : undefined;
    }
    case 'source-ip':
      return values(c.sourceIPConfig, 'sourceIPConfig');
    default:
      return undefined;
  }
}

/** `conditions.<name>` (name: the backend Service name, real or use-annotation): the validated entries, none when absent. */
export function parseConditionsAnnotation(annotations: Readonly<Record<string, string>>, prefix: string, name: string): AnnotationResult<readonly IngressCondition[]> {
  const key = `${prefix}conditions.${name}`;
  const parsed = parseJsonAnnotation(annotations, key, CONDITIONS_TYPE);
  if (parsed === undefined) return { value: [] };
  if ('error' in parsed) return parsed;
  const conditions = ((parsed.value ?? []) as Array<IngressCondition | undefined>).map((c) => c ?? {});
  for (const c of conditions) {
    const invalid = validateCondition(c);
    if (invalid !== undefined) return { error: `${invalid} (annotation ${key})` };
  }
  return { value: conditions };
}

/** `transforms.<name>` → the rule's config transforms (spec 6.1), validated as Transform.Validate() does; none when absent. */
export function parseTransformsAnnotation(annotations: Readonly<Record<string, string>>, prefix: string, name: string): AnnotationResult<readonly TransformInput[]> {
  const key = `${prefix}transforms.${name}`;
  const parsed = parseJsonAnnotation(annotations, key, TRANSFORMS_TYPE);
  if (parsed === undefined) return { value: [] };
  if ('error' in parsed) return parsed;
  const out: TransformInput[] = [];
  for (const t of (parsed.value ?? []) as Array<DecodedTransform | undefined>) {
    const transform = t ?? {};
    const toRewrites = (config: DecodedTransform['urlRewriteConfig']) => (config!.rewrites ?? []).map((r) => ({ regex: r?.regex ?? '', replace: r?.replace ?? '' }));
    if (transform.type === 'host-header-rewrite') {
      if (transform.hostHeaderRewriteConfig === undefined) return { error: `missing hostHeaderRewriteConfig (annotation ${key})` };
      if (none(transform.hostHeaderRewriteConfig.rewrites)) return { error: `hostHeaderRewriteConfig.rewrites cannot be empty (annotation ${key})` };
      out.push({ type: 'host-header-rewrite', hostHeaderRewriteConfig: { rewrites: toRewrites(transform.hostHeaderRewriteConfig) } });
    } else if (transform.type === 'url-rewrite') {
      if (transform.urlRewriteConfig === undefined) return { error: `missing urlRewriteConfig (annotation ${key})` };
      if (none(transform.urlRewriteConfig.rewrites)) return { error: `urlRewriteConfig.rewrites cannot be empty (annotation ${key})` };
      out.push({ type: 'url-rewrite', urlRewriteConfig: { rewrites: toRewrites(transform.urlRewriteConfig) } });
    } else return { error: `unknown transform type: ${transform.type ?? ''} (annotation ${key})` };
  }
  return { value: out };
}

/** The controller's JwtValidationConfig and JwtAdditionalClaim (pkg/ingress/config_types.go). */
const JWT_VALIDATION_TYPE = goStruct('ingress', 'JwtValidationConfig', {
  jwksEndpoint: goString(),
  issuer: goString(),
  additionalClaims: goSlice(goStruct('ingress', 'JwtAdditionalClaim', { format: goString('ingress.jwtAdditionalClaimFormat'), name: goString(), values: goSlice(goString()) })),
});

/** What translate.ts puts before a rule's routing action on HTTPS listeners (order 1; the routing action gets 2). */
export interface JwtValidationActionInput {
  readonly type: 'jwt-validation';
  readonly jwtValidationConfig: { readonly jwksEndpoint: string; readonly issuer: string; readonly additionalClaims?: ReadonlyArray<{ readonly format: string; readonly name: string; readonly values: readonly string[] }> };
}

interface DecodedJwtValidation {
  readonly jwksEndpoint?: string;
  readonly issuer?: string;
  readonly additionalClaims?: ReadonlyArray<{ readonly format?: string; readonly name?: string; readonly values?: readonly string[] } | undefined>;
}

/**
 * `jwt-validation` (the Ingress's, not its Services'; the controller's buildJwtValidationConfig):
 * JSON decoded as Go does, jwksEndpoint and issuer required, each additional claim with a format,
 * a name and values; the format's values and the fields' limits are AWS's to check (the config
 * schema). Undefined when absent.
 */
export function parseJwtValidationAnnotation(annotations: Readonly<Record<string, string>>, prefix: string): AnnotationResult<JwtValidationActionInput | undefined> {
  const parsed = parseJsonAnnotation(annotations, `${prefix}jwt-validation`, JWT_VALIDATION_TYPE);
  if (parsed === undefined) return { value: undefined };
  if ('error' in parsed) return parsed;
  const config = (parsed.value ?? {}) as DecodedJwtValidation;
  if (empty(config.jwksEndpoint)) return { error: 'jwksEndpoint is a required field for jwt validation' };
  if (empty(config.issuer)) return { error: 'issuer is a required field for jwt validation' };
  const claims: Array<{ format: string; name: string; values: string[] }> = [];
  for (const c of config.additionalClaims ?? []) {
    const claim = c ?? {};
    if (empty(claim.format)) return { error: 'format is a required field for additional claims for jwt validation' };
    if (empty(claim.name)) return { error: 'name is a required field for additional claims for jwt validation' };
    if (none(claim.values)) return { error: 'values must not be empty for additional claims for jwt validation' };
    claims.push({ format: claim.format!, name: claim.name!, values: [...claim.values!] });
  }
  return { value: { type: 'jwt-validation', jwtValidationConfig: { jwksEndpoint: config.jwksEndpoint!, issuer: config.issuer!, ...(claims.length > 0 ? { additionalClaims: claims } : {}) } } };
}

/** `use-regex-path-match`, read with Go's strconv.ParseBool; false when absent. */
export function parseUseRegexPathMatch(annotations: Readonly<Record<string, string>>, prefix: string): AnnotationResult<boolean> {
  const key = `${prefix}use-regex-path-match`;
  const raw = annotations[key];
  if (raw === undefined) return { value: false };
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(raw)) return { value: true };
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(raw)) return { value: false };
  return { error: `failed to parse bool annotation, ${key}: ${raw}: strconv.ParseBool: parsing ${JSON.stringify(raw)}: invalid syntax` };
}

// ---------------------------------------------------------------------------------------------
// Conditions of one Ingress path (model_build_listener_rules.go buildRuleConditions)

/** An Ingress path → path-pattern `values` or `regexValues` (spec 9.3; regex only for ImplementationSpecific with use-regex-path-match). */
export function ingressPathPatterns(path: string, pathType: string | undefined, useRegexPathMatch: boolean): AnnotationResult<{ values: string[]; regexValues: string[] }> {
  switch (pathType ?? 'ImplementationSpecific') {
    case 'ImplementationSpecific':
      // The leading `/` Kubernetes requires is not part of the regex.
      return { value: useRegexPathMatch ? { values: [], regexValues: [path.slice(1)] } : { values: [path], regexValues: [] } };
    case 'Exact':
      if (/[*?]/.test(path)) return { error: `exact path shouldn't contain wildcards: ${path}` };
      return { value: { values: [path], regexValues: [] } };
    case 'Prefix': {
      if (path === '/') return { value: { values: ['/*'], regexValues: [] } };
      if (/[*?]/.test(path)) return { error: `prefix path shouldn't contain wildcards: ${path}` };
      const trimmed = path.endsWith('/') ? path.slice(0, -1) : path;
      return { value: { values: [trimmed, `${trimmed}/*`], regexValues: [] } };
    }
    default:
      return { error: `unsupported pathType: ${pathType}` };
  }
}

const goList = (xs: readonly string[]) => `[${xs.join(' ')}]`;

/**
 * The conditions of one rule: the Ingress rule's host and path with `conditions.<name>` merged in
 * as the controller merges them (spec 15.5.1). host-header and path-pattern values/regexValues
 * are added to the host and paths (OR); every http-header, http-request-method, query-string and
 * source-ip entry is a condition of its own (AND), first, in annotation order; unknown fields are
 * ignored. Values and regexValues for one of host or path is the controller's error. A rule left
 * with nothing matches `/*`.
 */
export function ruleConditions(input: {
  readonly host?: string | undefined;
  readonly path?: string | undefined;
  readonly pathType?: string | undefined;
  readonly useRegexPathMatch: boolean;
  readonly conditions: readonly IngressCondition[];
}): AnnotationResult<ConditionInput[]> {
  const hostValues: string[] = input.host ? [input.host] : [];
  const hostRegexValues: string[] = [];
  const pathValues: string[] = [];
  const pathRegexValues: string[] = [];
  if (input.path) {
    const patterns = ingressPathPatterns(input.path, input.pathType, input.useRegexPathMatch);
    if ('error' in patterns) return patterns;
    pathValues.push(...patterns.value.values);
    pathRegexValues.push(...patterns.value.regexValues);
  }
  const conditions: ConditionInput[] = [];
  for (const c of input.conditions) {
    switch (c.field) {
      case 'host-header':
        hostValues.push(...(c.hostHeaderConfig?.values ?? []));
        hostRegexValues.push(...(c.hostHeaderConfig?.regexValues ?? []));
        break;
      case 'path-pattern':
        pathValues.push(...(c.pathPatternConfig?.values ?? []));
        pathRegexValues.push(...(c.pathPatternConfig?.regexValues ?? []));
        break;
      case 'http-header': {
        const h = c.httpHeaderConfig!;
        conditions.push({
          field: 'http-header',
          httpHeaderConfig: { httpHeaderName: h.httpHeaderName ?? '', ...(none(h.values) ? { regexValues: [...h.regexValues!] } : { values: [...h.values!] }) },
        });
        break;
      }
      case 'http-request-method':
        conditions.push({ field: 'http-request-method', httpRequestMethodConfig: { values: [...c.httpRequestMethodConfig!.values!] } });
        break;
      case 'query-string':
        conditions.push({
          field: 'query-string',
          queryStringConfig: { values: c.queryStringConfig!.values!.map((p) => ({ ...(p.key !== undefined ? { key: p.key } : {}), value: p.value ?? '' })) },
        });
        break;
      case 'source-ip':
        conditions.push({ field: 'source-ip', sourceIpConfig: { values: [...c.sourceIPConfig!.values!] } });
        break;
      default:
        break;
    }
  }
  if (hostValues.length > 0 && hostRegexValues.length > 0) {
    return { error: `host condition must specify exactly one of Values and RegexValues, got both Values ${goList(hostValues)} and RegexValues ${goList(hostRegexValues)}` };
  }
  if (pathValues.length > 0 && pathRegexValues.length > 0) {
    return { error: `path condition must specify exactly one of Values and RegexValues, got both Values ${goList(pathValues)} and RegexValues ${goList(pathRegexValues)}` };
  }
  if (hostValues.length > 0) conditions.push({ field: 'host-header', values: hostValues });
  if (hostRegexValues.length > 0) conditions.push({ field: 'host-header', hostHeaderConfig: { regexValues: hostRegexValues } });
  if (pathValues.length > 0) conditions.push({ field: 'path-pattern', values: pathValues });
  if (pathRegexValues.length > 0) conditions.push({ field: 'path-pattern', pathPatternConfig: { regexValues: pathRegexValues } });
  if (conditions.length === 0) conditions.push({ field: 'path-pattern', values: ['/*'] });
  return { value: conditions };
}

// ---------------------------------------------------------------------------------------------
// The rule optimiser (rule_optimizer.go; spec 15.5.1)

/** What the optimiser reads of a rule; translate.ts passes its rules through with their other fields. */
export interface OptimisableRule {
  readonly conditions: readonly ConditionInput[];
  readonly actions: readonly ActionInput[];
}

type RedirectInput = Extract<ActionInput, { type: 'redirect' }>['redirectConfig'];

const redirectOf = (rule: OptimisableRule): RedirectInput | undefined =>
  (rule.actions.find((a) => a.type === 'redirect') as Extract<ActionInput, { type: 'redirect' }> | undefined)?.redirectConfig;

function valuesOf(c: ConditionInput): { values: readonly string[]; regexValues: readonly string[] } {
  const config = c.field === 'host-header' ? c.hostHeaderConfig : c.field === 'path-pattern' ? c.pathPatternConfig : undefined;
  return { values: config?.values ?? c.values ?? [], regexValues: config?.regexValues ?? [] };
}

/** A redirect that sends a request back to this listener, host and path unchanged (an endless loop). */
function isInfiniteRedirectRule(port: number, protocol: string, rule: OptimisableRule): boolean {
  const redirect = redirectOf(rule);
  if (redirect === undefined) return false;
  const hosts = new Set<string>();
  const paths = new Set<string>();
  for (const c of rule.conditions) {
    const { values, regexValues } = valuesOf(c);
    if (c.field === 'host-header') values.forEach((v) => hosts.add(v));
    else if (c.field === 'path-pattern') {
      if (regexValues.length > 0) return false;
      values.forEach((v) => paths.add(v));
    }
  }
  if (redirect.host !== undefined && redirect.host !== '#{host}' && !hosts.has(redirect.host)) return false;
  if (redirect.path !== undefined && redirect.path !== '/#{path}' && !paths.has(redirect.path)) return false;
  if (redirect.port !== undefined && redirect.port !== '#{port}' && redirect.port !== String(port)) return false;
  if (redirect.protocol !== undefined && redirect.protocol !== '#{protocol}' && redirect.protocol !== protocol) return false;
  if (redirect.query !== undefined && redirect.query !== '#{query}') return false;
  return true;
}

/** True when every request `rhs` matches also matches `lhs` (host and path conditions only). */
function isSupersetConditions(lhs: readonly ConditionInput[], rhs: readonly ConditionInput[]): boolean {
  const collect = (conditions: readonly ConditionInput[], strict: boolean) => {
    const hosts = new Set<string>();
    const paths = new Set<string>();
    for (const c of conditions) {
      const { values, regexValues } = valuesOf(c);
      if (c.field === 'host-header') values.forEach((v) => hosts.add(v));
      else if (c.field === 'path-pattern') (regexValues.length > 0 ? regexValues : values).forEach((v) => paths.add(v));
      else if (strict) return undefined;
    }
    return { hosts, paths };
  };
  const l = collect(lhs, true);
  if (l === undefined) return false;
  const r = collect(rhs, false)!;
  const covers = (a: Set<string>, b: Set<string>) => [...b].every((x) => a.has(x));
  const hostIsSuperset = l.hosts.size === 0 || (r.hosts.size > 0 && covers(l.hosts, r.hosts));
  const pathIsSuperset = l.paths.size === 0 || l.paths.has('/*') || (r.paths.size > 0 && covers(l.paths, r.paths));
  return hostIsSuperset && pathIsSuperset;
}

/**
 * One listener's rules, in priority order, without redirects that would loop on this listener
 * (`port`, `protocol`) and without rules an earlier redirect with a superset of their conditions
 * shadows: the controller's answer to the historical `actions.ssl-redirect` pattern.
 */
export function optimizeRules<R extends OptimisableRule>(port: number, protocol: string, rules: readonly R[]): R[] {
  const kept: R[] = [];
  for (const rule of rules.filter((r) => !isInfiniteRedirectRule(port, protocol, r))) {
    if (kept.some((earlier) => redirectOf(earlier) !== undefined && isSupersetConditions(earlier.conditions, rule.conditions))) continue;
    kept.push(rule);
  }
  return kept;
}
