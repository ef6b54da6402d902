/**
 * The redirect action (spec 6.3): 301 or 302 with a Location built from the request and the
 * action's `#{protocol}`, `#{host}`, `#{port}`, `#{path}` and `#{query}` (`HTTP_Redirect_Count`).
 */
import type { ActionConfig } from '../../config/schema.ts';
import { answerAction } from '../pipeline/answer.ts';
import type { RequestContext } from '../pipeline/context.ts';

type RedirectAction = Extract<ActionConfig, { type: 'redirect' }>;

const EXECUTED = Object.freeze(['redirect']);
const EMPTY = Buffer.alloc(0);

export function redirect(ctx: RequestContext, action: RedirectAction): void {
  const c = action.redirectConfig;
  const listener = ctx.listener;
  const location = redirectLocation(c, { protocol: listener.protocol, host: ctx.transformedHost ?? ctx.host, port: listener.port, path: ctx.transformedTarget ?? ctx.path });
  ctx.actionsExecuted = EXECUTED;
  ctx.redirectUrl = location;
  listener.counters.redirects++;
  answerAction(ctx, c.statusCode === 'HTTP_301' ? 301 : 302, ['Location', location], EMPTY);
}

/** The Location of a redirect action (spec 6.3): `#{protocol}`, `#{host}`, `#{port}`, `#{path}`, `#{query}`. */
export function redirectLocation(
  c: { protocol: string; host: string; port: string; path: string; query: string },
  req: { protocol: string; host: string; port: number; path: string },
): string {
  const q = req.path.indexOf('?');
  const pathOnly = q < 0 ? req.path : req.path.slice(0, q);
  const query = q < 0 ? '' : req.path.slice(q + 1);
  const host = req.host.replace(/:\d*$/, '');
  const sub = (s: string) =>
    s
      .replaceAll('#{protocol}', req.protocol)
      .replaceAll('#{host}', host)
      .replaceAll('#{port}', String(req.port))
      .replaceAll('#{path}', pathOnly.replace(/^\//, ''))
      .replaceAll('#{query}', query);
  const protocol = sub(c.protocol).toLowerCase();
  const port = sub(c.port);
  const defaultPort = (protocol === 'https' && port === '443') || (protocol === 'http' && port === '80');
  const queryOut = sub(c.query);
  return `${protocol}://${sub(c.host)}${defaultPort ? '' : `:${port}`}${sub(c.path)}${queryOut ? `?${queryOut}` : ''}`;
}
