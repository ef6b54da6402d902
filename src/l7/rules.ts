/**
 * Listener rules (spec 6.1, 6.2): conditions ANDed, values ORed, lowest priority first, the
 * default rule last. Compiled once per listener into predicates; matching is pure.
 * `regexValues` search (a regex matches anywhere unless anchored; AWS does not say, README
 * "Listener rules: transforms and regexValues"): host-header's see the Host header with its
 * port, case-insensitive; path-pattern's the path without the query, case-sensitive;
 * http-header's each instance of the header, case-insensitive. A matched rule carries its
 * compiled transforms (src/l7/transforms.ts), applied by the transform stage.
 */
import { BlockList, isIPv6 } from 'node:net';
import { isAuthenticateAction, type AuthenticateActionConfig } from '../config/authenticate.ts';
import { isJwtValidationAction, type JwtValidationActionConfig } from '../config/jwt-validation.ts';
import type { ActionConfig, ConditionConfig, ListenerConfig } from '../config/schema.ts';
import { compileTransforms, type CompiledTransforms } from './transforms.ts';

/** What the rules look at in one request. */
export interface RequestFacts {
  readonly method: string;
  /** URL path without the query string. */
  readonly path: string;
  readonly query: URLSearchParams;
  /** First Host header, without its port. */
  readonly host: string;
  /** First Host header (or the absolute-form authority) as received, port included: what host-header `regexValues` see. */
  readonly hostHeader: string;
  /** The client's headers, `[name, value, …]`. */
  readonly rawHeaders: readonly string[];
  /** The TCP peer address (never X-Forwarded-For). */
  readonly sourceIp: string;
}

export interface RuleMatch {
  readonly action: ActionConfig;
  /** 1–50000 for a rule, 0 for the default rule (access log `matched_rule_priority`). */
  readonly priority: number;
  /** How many non-default rules were evaluated (metric `RuleEvaluations`). */
  readonly evaluations: number;
  /** The rule's authenticate-oidc/-cognito action, run before `action` (spec 13.2). */
  readonly authenticate?: AuthenticateActionConfig | undefined;
  /** The rule's jwt-validation action, run before `action` (README, "JWT validation"); a rule holds this or `authenticate`, not both. */
  readonly jwtValidation?: JwtValidationActionConfig | undefined;
  /** The rule's transforms (spec 6.1), applied after matching; undefined for a rule without any and the default rule. */
  readonly transforms?: CompiledTransforms | undefined;
}

type Predicate = (facts: RequestFacts) => boolean;

/** `*` any run of characters (including `/`), `?` exactly one; anchored (spec 6.2). */
export function wildcardRegExp(pattern: string, caseInsensitive: boolean, escapes = false): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (escapes && ch === '\\' && i + 1 < pattern.length) source += escapeRe(pattern[++i]!);
    else if (ch === '*') source += '.*';
    else if (ch === '?') source += '.';
    else source += escapeRe(ch);
  }
  return new RegExp(`^${source}$`, caseInsensitive ? 'is' : 's');
}

function escapeRe(ch: string): string {
  return ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

function anyOf(patterns: readonly RegExp[], value: string): boolean {
  return patterns.some((p) => p.test(value));
}

function compileCondition(c: ConditionConfig): Predicate {
  switch (c.field) {
    case 'host-header': {
      // A regex sees the whole Host header, port included (how AWS lets a rule match `example.com:8443`).
      const regexes = c.hostHeaderConfig?.regexValues?.map((v) => new RegExp(v, 'i'));
      if (regexes !== undefined) return (f) => anyOf(regexes, f.hostHeader);
      const ps = (c.hostHeaderConfig?.values ?? c.values ?? []).map((v) => wildcardRegExp(v, true));
      return (f) => anyOf(ps, f.host);
    }
    case 'path-pattern': {
      const ps = c.pathPatternConfig?.regexValues?.map((v) => new RegExp(v)) ?? (c.pathPatternConfig?.values ?? c.values ?? []).map((v) => wildcardRegExp(v, false));
      return (f) => anyOf(ps, f.path);
    }
    case 'http-request-method': {
      const methods = new Set(c.httpRequestMethodConfig?.values ?? c.values ?? []);
      return (f) => methods.has(f.method);
    }
    case 'http-header': {
      const name = c.httpHeaderConfig!.httpHeaderName.toLowerCase();
      const ps = c.httpHeaderConfig!.regexValues?.map((v) => new RegExp(v, 'i')) ?? (c.httpHeaderConfig!.values ?? []).map((v) => wildcardRegExp(v, true));
      return (f) => {
        for (let i = 0; i < f.rawHeaders.length; i += 2) {
          if (f.rawHeaders[i]!.toLowerCase() === name && anyOf(ps, f.rawHeaders[i + 1]!)) return true;
        }
        return false;
      };
    }
    case 'query-string': {
      const items = c.queryStringConfig!.values.map((v) => ({
        key: v.key === undefined ? undefined : wildcardRegExp(v.key, true, true),
        value: wildcardRegExp(v.value, true, true),
      }));
      return (f) => {
        for (const [key, value] of f.query) {
          for (const item of items) {
            if ((item.key === undefined || item.key.test(key)) && item.value.test(value)) return true;
          }
        }
        return false;
      };
    }
    case 'source-ip': {
      const list = new BlockList();
      for (const cidr of c.sourceIpConfig?.values ?? c.values ?? []) {
        const [address, prefix] = cidr.split('/');
        const type = isIPv6(address!) ? 'ipv6' : 'ipv4';
        list.addSubnet(address!, Number(prefix ?? (type === 'ipv6' ? 128 : 32)), type);
      }
      return (f) => list.check(f.sourceIp, isIPv6(f.sourceIp) ? 'ipv6' : 'ipv4');
    }
  }
}

export interface CompiledRules {
  /** What a request gets when the listener has no rules: its facts need not be computed. */
  readonly onlyDefault: RuleMatch | undefined;
  match(facts: RequestFacts): RuleMatch;
}

export function compileRules(listener: Pick<ListenerConfig, 'rules' | 'defaultActions'>): CompiledRules {
  const rules = [...listener.rules]
    .sort((a, b) => a.priority - b.priority)
    .map((r) => ({
      priority: r.priority,
      action: terminalAction(r.actions),
      authenticate: r.actions.find(isAuthenticateAction),
      jwtValidation: r.actions.find(isJwtValidationAction),
      predicates: r.conditions.map(compileCondition),
      transforms: compileTransforms(r.transforms),
    }));
  const defaultAction = terminalAction(listener.defaultActions);
  const defaultAuthenticate = listener.defaultActions.find(isAuthenticateAction);
  const defaultJwtValidation = listener.defaultActions.find(isJwtValidationAction);
  return {
    onlyDefault: rules.length === 0 ? { action: defaultAction, priority: 0, evaluations: 0, authenticate: defaultAuthenticate, jwtValidation: defaultJwtValidation } : undefined,
    match(facts) {
      let evaluations = 0;
      for (const rule of rules) {
        evaluations++;
        if (rule.predicates.every((p) => p(facts))) return { action: rule.action, priority: rule.priority, evaluations, authenticate: rule.authenticate, jwtValidation: rule.jwtValidation, transforms: rule.transforms };
      }
      return { action: defaultAction, priority: 0, evaluations, authenticate: defaultAuthenticate, jwtValidation: defaultJwtValidation };
    },
  };
}

/** The action with the highest order (spec 6.3: the terminal action comes last). */
function terminalAction(actions: readonly ActionConfig[]): ActionConfig {
  return [...actions].sort((a, b) => (a.order ?? 0) - (b.order ?? 0)).at(-1)!;
}
