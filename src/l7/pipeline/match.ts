/**
 * The match stage: the listener's rules (spec 6.1, 6.2) choose the action for the request.
 * A listener without rules takes its default action without computing any request facts; the
 * query string is parsed only if a condition reads it.
 */
import type { RequestFacts } from '../rules.ts';
import type { RequestContext } from './context.ts';

export function match(ctx: RequestContext): void {
  const rules = ctx.listener.rules;
  const result = rules.onlyDefault ?? rules.match(requestFacts(ctx));
  if (result.evaluations > 0) ctx.listener.counters.ruleEvaluations += result.evaluations;
  ctx.match = result;
}

/** The Host header's host name: no port, an IPv6 literal without its brackets. */
function hostName(host: string): string {
  return host.replace(/:\d*$/, '').replace(/^\[(.*)\]$/, '$1');
}

/** What listener rules look at; the query string is parsed only if a condition asks for it. */
export function requestFacts(ctx: RequestContext): RequestFacts {
  const path = ctx.path;
  const q = path.indexOf('?');
  let query: URLSearchParams | undefined;
  return {
    method: ctx.method,
    path: q < 0 ? path : path.slice(0, q),
    get query() {
      query ??= new URLSearchParams(q < 0 ? '' : path.slice(q + 1));
      return query;
    },
    host: hostName(ctx.host),
    hostHeader: ctx.host,
    rawHeaders: ctx.rawHeaders,
    sourceIp: ctx.client.ip,
  };
}
