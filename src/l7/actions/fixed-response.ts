/**
 * The fixed-response action (spec 6.3): the load balancer answers with the configured status,
 * content type and body (`HTTP_Fixed_Response_Count`).
 */
import type { ActionConfig } from '../../config/schema.ts';
import { answerAction } from '../pipeline/answer.ts';
import type { RequestContext } from '../pipeline/context.ts';

type FixedResponseAction = Extract<ActionConfig, { type: 'fixed-response' }>;

const EXECUTED = Object.freeze(['fixed-response']);

export function fixedResponse(ctx: RequestContext, action: FixedResponseAction): void {
  const c = action.fixedResponseConfig;
  ctx.actionsExecuted = EXECUTED;
  ctx.listener.counters.fixedResponses++;
  answerAction(ctx, Number(c.statusCode), ['Content-Type', c.contentType ?? 'text/plain; charset=utf-8'], Buffer.from(c.messageBody ?? '', 'utf8'));
}
