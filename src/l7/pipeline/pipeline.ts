/**
 * A request's life on an ALB listener, stage by stage (README, "The request pipeline"):
 *
 *   accept → match → transform → act ─┬─ forward ─┐
 *                                      └───────────┴→ answer → record
 *
 * The front end (today the HTTP/1.1 connection) calls `handleRequest` once per request head;
 * each stage reads and writes the one RequestContext, and whichever stage ends the request
 * calls the record stage. Nothing here touches a socket.
 */
import { authenticationCallback, isAuthenticationCallback } from '../actions/authenticate.ts';
import type { ClientAddress, RequestBody, ResponseSink } from '../exchange.ts';
import type { MessageHead } from '../http1/llhttp.ts';
import { accept } from './accept.ts';
import { act } from './act.ts';
import { answerError, refuse } from './answer.ts';
import { RequestContext, type ListenerRuntime } from './context.ts';
import { match } from './match.ts';
import { transform } from './transform.ts';

export function handleRequest(listener: ListenerRuntime, head: MessageHead, response: ResponseSink, body: RequestBody | undefined, client: ClientAddress): void {
  const ctx = new RequestContext(listener, head, client, response, body);
  try {
    const refusal = accept(ctx);
    if (refusal !== undefined) return refuse(ctx, refusal);
    // The identity provider's redirect back (spec 13.2.3): its rule comes from `state`, not from matching.
    if (listener.auth !== undefined && isAuthenticationCallback(ctx)) return authenticationCallback(ctx);
    match(ctx);
    const failed = transform(ctx);
    if (failed !== undefined) return refuse(ctx, failed);
    act(ctx);
  } catch (err) {
    // A bug must cost one request, never the process.
    listener.log.error({ err, event: 'request.internal_error' }, 'internal error while handling a request');
    if (!ctx.finished) answerError(ctx, 500, 'InternalError', true);
  }
}
