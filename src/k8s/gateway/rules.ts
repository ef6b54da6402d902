/**
 * HTTPRoute and GRPCRoute rules → ALB listener rules as the AWS Load Balancer Controller makes
 * them (spec 15.1.6, 15.1.7): one ALB rule per (route rule × match × hostname), conditions
 * ANDed, all units of a port ordered by one precedence key and numbered 1, 2, 3…; the action is
 * a weighted forward, a redirect from a RequestRedirect filter, or fixed-response 500 when no
 * backend is usable. Pure.
 */
import type { ConfigInput } from '../../config/schema.ts';
import type { GRPCRoute, GRPCRouteMatch, HTTPPathModifier, HTTPRoute, HTTPRouteFilter, HTTPRouteMatch } from './model.ts';
import type { RouteRef } from './attach.ts';

type ListenerInput = NonNullable<ConfigInput['loadBalancers']>[number]['listeners'][number];
export type RuleInput = NonNullable<ListenerInput['rules']>[number];
export type ConditionInput = RuleInput['conditions'][number];
export type ActionInput = RuleInput['actions'][number];
export type TransformInput = NonNullable<RuleInput['transforms']>[number];

/** A route rule whose backends are loaded: the forward's target groups and weights (usable backends only). */
export interface LoadedRule {
  readonly index: number;
  readonly filters: readonly HTTPRouteFilter[];
  readonly forward: ReadonlyArray<{ readonly targetGroupName: string; readonly weight: number }>;
}

export interface L7Route {
  readonly ref: RouteRef<HTTPRoute | GRPCRoute>;
  readonly rules: readonly LoadedRule[];
}

/** One ALB rule before numbering. */
interface Unit {
  readonly route: L7Route;
  readonly rule: LoadedRule;
  readonly hostname: string;
  readonly matchIndex: number;
  readonly http?: HTTPRouteMatch;
  readonly grpc?: GRPCRouteMatch;
  readonly pathType: number;
  readonly pathLength: number;
  readonly secondaryLength: number;
  readonly hasMethod: boolean;
  readonly headerCount: number;
  readonly queryCount: number;
}

const DEFAULT_MATCH: HTTPRouteMatch = { path: { type: 'PathPrefix', value: '/' } };

/** An HTTP match with the CRD's defaults (path PathPrefix "/", header type Exact) applied. */
export function withMatchDefaults(match: HTTPRouteMatch): HTTPRouteMatch {
  const path = match.path ?? DEFAULT_MATCH.path!;
  return { ...match, path: { type: path.type ?? 'PathPrefix', value: path.value ?? '/' } };
}

/** `a,b\,c` → `['a', 'b,c']`: a header value split at unescaped commas (spec 15.1.6). */
export function headerValues(value: string): string[] {
  const out: string[] = [];
  let current = '';
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    if (ch === '\\' && i + 1 < value.length) current += value[++i]!;
    else if (ch === ',') {
      out.push(current);
      current = '';
    } else current += ch;
  }
  out.push(current);
  return out;
}

/** Hostname precedence: concrete beats wildcard beats catch-all; then more dots, then longer (negative: `a` first). */
export function compareHostnames(a: string, b: string): number {
  if (a === '' || b === '') return a === b ? 0 : a === '' ? 1 : -1;
  const wa = a.startsWith('*.');
  const wb = b.startsWith('*.');
  if (wa !== wb) return wa ? 1 : -1;
  const dots = (s: string) => s.split('.').length - 1;
  if (dots(a) !== dots(b)) return dots(b) - dots(a);
  return b.length - a.length;
}

function compareUnits(x: Unit, y: Unit): number {
  return (
    compareHostnames(x.hostname, y.hostname) ||
    y.pathType - x.pathType ||
    y.pathLength - x.pathLength ||
    y.secondaryLength - x.secondaryLength ||
    Number(y.hasMethod) - Number(x.hasMethod) ||
    y.headerCount - x.headerCount ||
    y.queryCount - x.queryCount ||
    x.route.ref.createdMs - y.route.ref.createdMs ||
    (x.route.ref.key < y.route.ref.key ? -1 : x.route.ref.key > y.route.ref.key ? 1 : 0) ||
    x.rule.index - y.rule.index ||
    x.matchIndex - y.matchIndex ||
    (x.hostname < y.hostname ? -1 : x.hostname > y.hostname ? 1 : 0)
  );
}

function units(route: L7Route, hostnames: readonly string[]): Unit[] {
  const hosts = hostnames.length > 0 ? hostnames : [''];
  const out: Unit[] = [];
  const spec = route.ref.route.spec?.rules ?? [];
  for (const rule of route.rules) {
    if (route.ref.kind === 'HTTPRoute') {
      const raw = (spec[rule.index] as { matches?: readonly HTTPRouteMatch[] } | undefined)?.matches;
      const matches = raw === undefined || raw.length === 0 ? [DEFAULT_MATCH] : raw;
      matches.forEach((m, matchIndex) => {
        const match = withMatchDefaults(m);
        const pathType = match.path!.type === 'Exact' ? 3 : match.path!.type === 'PathPrefix' ? 2 : 1;
        for (const hostname of hosts) {
          out.push({
            route,
            rule,
            hostname,
            matchIndex,
            http: match,
            pathType,
            pathLength: match.path!.value!.length,
            secondaryLength: 0,
            hasMethod: match.method !== undefined,
            headerCount: match.headers?.length ?? 0,
            queryCount: match.queryParams?.length ?? 0,
          });
        }
      });
    } else {
      const raw = (spec[rule.index] as { matches?: readonly GRPCRouteMatch[] } | undefined)?.matches;
      const matches = raw === undefined || raw.length === 0 ? [{}] : raw;
      matches.forEach((match, index) => {
        const method = match.method;
        const pathType = method === undefined ? 0 : (method.type ?? 'Exact') === 'Exact' ? 3 : 1;
        for (const hostname of hosts) {
          out.push({
            route,
            rule,
            hostname,
            matchIndex: raw === undefined || raw.length === 0 ? Number.MAX_SAFE_INTEGER : index,
            grpc: match,
            pathType,
            pathLength: method?.service?.length ?? 0,
            secondaryLength: method?.method?.length ?? 0,
            hasMethod: false,
            headerCount: match.headers?.length ?? 0,
            queryCount: 0,
          });
        }
      });
    }
  }
  return out;
}

/** What makes a unit's conditions: the ALB conditions, or the controller's build error. */
function conditions(unit: Unit): { conditions: ConditionInput[] } | { error: string } {
  const out: ConditionInput[] = [];
  if (unit.hostname !== '') out.push({ field: 'host-header', values: [unit.hostname] });
  if (unit.http !== undefined) {
    const { path, headers, queryParams, method } = unit.http;
    const value = path!.value!;
    if (path!.type === 'PathPrefix') {
      if (/[*?]/.test(value)) return { error: `prefix path shouldn't contain wildcards: ${value}` };
      const trimmed = value.replace(/\/$/, '');
      out.push({ field: 'path-pattern', values: value === '/' ? ['/*'] : [trimmed, `${trimmed}/*`] });
    } else if (path!.type === 'Exact') out.push({ field: 'path-pattern', values: [value] });
    // RegularExpression: ALB's regex matching instead of wildcards (spec 15.1.6).
    else out.push({ field: 'path-pattern', pathPatternConfig: { regexValues: [value] } });
    for (const h of headers ?? []) {
      if (h.type === 'RegularExpression') out.push({ field: 'http-header', httpHeaderConfig: { httpHeaderName: h.name, regexValues: [h.value] } });
      else out.push({ field: 'http-header', httpHeaderConfig: { httpHeaderName: h.name, values: headerValues(h.value) } });
    }
    // The match type is ignored: the value is used literally (spec 15.1.6).
    for (const q of queryParams ?? []) out.push({ field: 'query-string', queryStringConfig: { values: [{ key: q.name, value: q.value }] } });
    if (method !== undefined) out.push({ field: 'http-request-method', values: [method] });
    return { conditions: out };
  }
  const method = unit.grpc?.method;
  if (method === undefined) out.push({ field: 'path-pattern', values: ['/*'] });
  else if (method.service !== undefined && method.method !== undefined) out.push({ field: 'path-pattern', values: [`/${method.service}/${method.method}`] });
  else if (method.service !== undefined) out.push({ field: 'path-pattern', values: [`/${method.service}/*`] });
  else if (method.method !== undefined) out.push({ field: 'path-pattern', values: [`/*/${method.method}`] });
  else return { error: `Invalid grpc method match: ${JSON.stringify(method)}` };
  for (const h of unit.grpc?.headers ?? []) out.push({ field: 'http-header', httpHeaderConfig: { httpHeaderName: h.name, values: headerValues(h.value) } });
  return { conditions: out };
}

/**
 * The redirect a rule's filters ask for, undefined when none; throws the controller's model
 * build error for a filter it does not support (spec 15.1.7).
 */
export function redirectAction(kind: RouteRef['kind'], filters: readonly HTTPRouteFilter[]): ActionInput | undefined {
  if (kind === 'GRPCRoute') {
    for (const f of filters) {
      if (f.type !== 'ExtensionRef') throw new Error(`Unsupported filter type: ${f.type}. To specify header modification, please configure it through LoadBalancerConfiguration.`);
    }
    return undefined;
  }
  for (const f of filters) {
    if (f.type === 'ExtensionRef' || f.type === 'URLRewrite') continue;
    if (f.type !== 'RequestRedirect') {
      throw new Error(`Unsupported filter type: ${f.type}. Only request redirect is supported. To specify header modification, please configure it through LoadBalancerConfiguration.`);
    }
    const r = f.requestRedirect ?? {};
    let port = r.port === undefined ? undefined : String(r.port);
    let protocol: string | undefined;
    if (r.scheme !== undefined) {
      protocol = r.scheme.toUpperCase();
      if (protocol !== 'HTTP' && protocol !== 'HTTPS') throw new Error(`unsupported redirect scheme: ${protocol}`);
      port ??= protocol === 'HTTP' ? '80' : '443';
    }
    let path: string | undefined;
    if (r.path?.replaceFullPath !== undefined) {
      if (/[*?]/.test(r.path.replaceFullPath)) throw new Error(`ReplaceFullPath shouldn't contain wildcards: ${r.path.replaceFullPath}`);
      path = r.path.replaceFullPath;
    } else if (r.path?.replacePrefixMatch !== undefined && /[*?]/.test(r.path.replacePrefixMatch)) {
      throw new Error(`ReplacePrefixMatch shouldn't contain wildcards: ${r.path.replacePrefixMatch}`);
    }
    // The CRD defaults statusCode to 302; ALB takes 301 and 302 only (spec 6.3).
    const statusCode = `HTTP_${r.statusCode ?? 302}` as 'HTTP_301' | 'HTTP_302';
    return {
      type: 'redirect',
      redirectConfig: {
        statusCode,
        ...(protocol !== undefined ? { protocol } : {}),
        ...(r.hostname !== undefined ? { host: r.hostname } : {}),
        ...(port !== undefined ? { port } : {}),
        ...(path !== undefined ? { path } : {}),
      },
    };
  }
  return undefined;
}

/** The controller's regexes (route_rule_transform.go): the whole host, and the path without its query. */
const WHOLE_HOST_REGEX = '.*';
const WHOLE_PATH_REGEX = '^([^?]*)';

/**
 * The ALB rule transforms of an HTTPRoute rule's filters, as the controller builds them (spec
 * 15.1.7): `URLRewrite` path (ReplaceFullPath: regex `^([^?]*)` → the path, the query kept;
 * ReplacePrefixMatch: regex `(^M(/)?)` on the match's path M → P, `$2` added unless P ends in
 * `/`, an empty P becomes `/`) and hostname (regex `.*` → the hostname), and a `RequestRedirect`
 * with ReplacePrefixMatch (the redirect then carries the rewritten path). GRPCRoutes have none.
 */
export function ruleTransforms(kind: RouteRef['kind'], filters: readonly HTTPRouteFilter[], match: HTTPRouteMatch | undefined): TransformInput[] {
  if (kind !== 'HTTPRoute') return [];
  const out: TransformInput[] = [];
  for (const f of filters) {
    if (f.type === 'URLRewrite' && f.urlRewrite !== undefined) {
      if (f.urlRewrite.path !== undefined) out.push(pathRewrite(f.urlRewrite.path, match));
      if (f.urlRewrite.hostname !== undefined) out.push({ type: 'host-header-rewrite', hostHeaderRewriteConfig: { rewrites: [{ regex: WHOLE_HOST_REGEX, replace: f.urlRewrite.hostname }] } });
    }
    if (f.type === 'RequestRedirect' && f.requestRedirect?.path?.replacePrefixMatch !== undefined) out.push(pathRewrite(f.requestRedirect.path, match));
  }
  return out;
}

function pathRewrite(modifier: HTTPPathModifier, match: HTTPRouteMatch | undefined): TransformInput {
  if (modifier.type === 'ReplaceFullPath') return { type: 'url-rewrite', urlRewriteConfig: { rewrites: [{ regex: WHOLE_PATH_REGEX, replace: modifier.replaceFullPath ?? '' }] } };
  const prefix = match?.path?.value ?? '/';
  const p = modifier.replacePrefixMatch ?? '';
  // `$2` puts back the `/` after the prefix unless the replacement ends in one; `/foo` → '' keeps one `/`.
  const replace = p === '' ? '/' : p.endsWith('/') ? p : `${p}$2`;
  return { type: 'url-rewrite', urlRewriteConfig: { rewrites: [{ regex: `(^${prefix}(/)?)`, replace }] } };
}

export const NO_BACKEND_ACTION: ActionInput = { type: 'fixed-response', fixedResponseConfig: { statusCode: '500', contentType: 'text/plain' } };

/**
 * The ALB rules of one listener port, numbered from 1 in precedence order. `hostnamesOf` gives
 * the hostnames a route serves on this port. Throws a model build error (the whole Gateway
 * fails to build). `problems` is kept for notices about what local-elb does not emulate.
 */
export function buildListenerRules(port: number, routes: readonly L7Route[], hostnamesOf: (route: L7Route) => readonly string[]): { rules: RuleInput[]; problems: string[] } {
  const all = routes.flatMap((r) => units(r, hostnamesOf(r))).sort(compareUnits);
  const rules: RuleInput[] = [];
  const problems: string[] = [];
  for (const unit of all) {
    const c = conditions(unit);
    if ('error' in c) throw new Error(c.error);
    let action: ActionInput | undefined;
    if (unit.rule.forward.some((t) => t.weight !== 0)) action = { type: 'forward', forwardConfig: { targetGroups: unit.rule.forward.map((t) => ({ ...t })) } };
    const redirect = redirectAction(unit.route.ref.kind, unit.rule.filters);
    if (redirect !== undefined) action = redirect;
    const transforms = ruleTransforms(unit.route.ref.kind, unit.rule.filters, unit.http);
    rules.push({ priority: rules.length + 1, conditions: c.conditions, actions: [action ?? NO_BACKEND_ACTION], ...(transforms.length > 0 ? { transforms } : {}) });
  }
  return { rules, problems };
}
