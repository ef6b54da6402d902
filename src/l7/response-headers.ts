/**
 * Listener response header modification (spec 13.3.1): each `routing.http.response.*.header_value`
 * attribute that is not empty sets its header on every response, replacing the target's own
 * (names compared without case) or adding it; `routing.http.response.server.enabled: false`
 * removes the `Server: awselb/2.0` of the load balancer's own responses (a target's `Server`
 * passes: spec 13.3.1's emulator note). Applied as the last step before the head goes to the
 * client. Whether AWS also modifies the responses it makes itself (fixed responses, redirects,
 * error pages) is UNCONFIRMED: yes by default, `emulator.modifyLoadBalancerResponses: false` says no.
 */
import { RESPONSE_HEADER_ATTRIBUTES } from '../config/attributes.ts';

export interface ResponseHeaderRules {
  /** `[name, lower-case name, value]` of each header to set. */
  readonly set: ReadonlyArray<readonly [string, string, string]>;
  readonly lower: ReadonlySet<string>;
  /** `routing.http.response.server.enabled` is `false`. */
  readonly removeServer: boolean;
  /** Modify the load balancer's own responses too. */
  readonly onLoadBalancerResponses: boolean;
}

/** The rules of a listener's attributes; undefined when none applies (the common case costs nothing). */
export function responseHeaderRules(attributes: Readonly<Record<string, string>>, onLoadBalancerResponses: boolean): ResponseHeaderRules | undefined {
  const set: Array<readonly [string, string, string]> = [];
  for (const [key, header] of Object.entries(RESPONSE_HEADER_ATTRIBUTES)) {
    const value = attributes[key];
    if (value !== undefined && value !== '') set.push([header, header.toLowerCase(), value]);
  }
  const removeServer = attributes['routing.http.response.server.enabled'] === 'false';
  if (set.length === 0 && !removeServer) return undefined;
  return { set, lower: new Set(set.map(([, lower]) => lower)), removeServer, onLoadBalancerResponses };
}

/** `headers` (flat `[name, value, …]`) as the client gets them from `producedBy`. */
export function applyResponseHeaders(rules: ResponseHeaderRules | undefined, headers: readonly string[], producedBy: 'elb' | 'target'): readonly string[] {
  if (rules === undefined || (producedBy === 'elb' && !rules.onLoadBalancerResponses)) return headers;
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    const lower = headers[i]!.toLowerCase();
    if (rules.lower.has(lower)) continue;
    if (producedBy === 'elb' && rules.removeServer && lower === 'server') continue;
    out.push(headers[i]!, headers[i + 1]!);
  }
  for (const [name, , value] of rules.set) out.push(name, value);
  return out;
}
