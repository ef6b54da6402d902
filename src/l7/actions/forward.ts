/**
 * The forward action (spec 6.3, 3.4): picks the target group (by weight when the action names
 * several, or the one its AWSALBTG cookie binds the client to under target group stickiness),
 * builds the request the target gets (headers of spec 5.3–5.5), and hands it to the forward
 * stage.
 */
import type { Random } from '../../core/random.ts';
import type { ActionConfig } from '../../config/schema.ts';
import { upstreamHeaders } from '../headers.ts';
import type { ForwardGroup, RequestContext } from '../pipeline/context.ts';
import { forwardToTarget } from '../pipeline/forward.ts';
import { refuse } from '../pipeline/answer.ts';
import { boundGroup, StickyRequest } from '../sticky.ts';

export type ForwardActionConfig = Extract<ActionConfig, { type: 'forward' }>;

const EXECUTED = Object.freeze(['forward']);

/** A forward action's target groups with their weights, resolved once per action. */
export interface ForwardChoice {
  readonly groups: readonly ForwardGroup[];
  readonly weights: readonly number[];
  readonly totalWeight: number;
  /** `targetGroupStickinessConfig.durationSeconds` in ms when group stickiness is enabled (spec 3.4). */
  readonly groupStickinessMs: number | undefined;
}

export function forwardAction(ctx: RequestContext, action: ForwardActionConfig): void {
  const listener = ctx.listener;
  ctx.actionsExecuted = EXECUTED;
  const choice = listener.forwardChoice(action);
  const forward = choice.groupStickinessMs === undefined ? chooseGroup(choice, listener.random) : stickyGroup(ctx, choice);
  // Application-based stickiness does not work with weighted target groups (spec 3.3): the forward stage reads this.
  if (choice.groups.length > 1 && forward.group.settings.stickiness !== undefined) (ctx.sticky ??= new StickyRequest(ctx.rawHeaders)).weighted = true;
  ctx.forward = forward;
  // The request's protocol must suit the group's protocol version (spec 1.1, 12.4.2): 464.
  const http2 = ctx.versionMajor === 2;
  const version = forward.protocolVersion;
  if ((version !== 'HTTP1' && !http2) || (version === 'GRPC' && ctx.method !== 'POST') || (version === 'HTTP1' && ctx.grpc && http2)) {
    return refuse(ctx, 'IncompatibleProtocol');
  }
  const { headers, traceId } = upstreamHeaders(ctx.forwardedHeaders, ctx.client, listener.headerOptions, ctx.arrivedMs, ctx.transformedHost ?? ctx.hostOverride, ctx.websocket);
  ctx.traceId = traceId;
  const body = ctx.body;
  forwardToTarget(ctx, {
    method: ctx.method,
    path: ctx.transformedTarget ?? ctx.path,
    headers,
    body: body === undefined ? 'none' : body.contentLength === undefined ? 'chunked' : 'length',
    ...(ctx.websocket !== undefined ? { upgrade: true } : {}),
  });
}

/** Weighted target groups (spec 3.4): a group gets `weight / total` of the requests; all 0 means the first. */
export function chooseGroup(choice: ForwardChoice, random: Random): ForwardGroup {
  const { groups, weights, totalWeight } = choice;
  if (groups.length === 1 || totalWeight === 0) return groups[0]!;
  let x = random.next() * totalWeight;
  for (let i = 0; i < groups.length; i++) {
    x -= weights[i]!;
    if (x < 0) return groups[i]!;
  }
  return groups[groups.length - 1]!;
}

/**
 * Target group stickiness (spec 3.4): the group the client's AWSALBTG cookie names while its
 * binding lasts (even one with no healthy target: stickiness comes before the weights), else a
 * draw by weight that the response's cookie then binds the client to.
 */
function stickyGroup(ctx: RequestContext, choice: ForwardChoice): ForwardGroup {
  const sticky = (ctx.sticky ??= new StickyRequest(ctx.rawHeaders));
  const nowMs = ctx.listener.clock.now();
  const bound = boundGroup(sticky, choice.groups.map((g) => g.group.name), nowMs);
  if (sticky.groupCookieInvalid) ctx.errorReason ??= 'AWSALBTGCookieInvalid';
  const forward = bound !== undefined ? choice.groups.find((g) => g.group.name === bound.group)! : chooseGroup(choice, ctx.listener.random);
  sticky.group = { group: forward.group.name, target: '', untilMs: bound?.untilMs ?? nowMs + choice.groupStickinessMs! };
  return forward;
}

/** Resolves a forward action's groups and weights (the load balancer caches the result per action). */
export function forwardChoice(action: ForwardActionConfig, resolve: (name: string) => ForwardGroup): ForwardChoice {
  const entries = action.targetGroupName !== undefined ? [{ targetGroupName: action.targetGroupName, weight: 1 }] : action.forwardConfig!.targetGroups;
  const weights = entries.map((e) => e.weight);
  const stickiness = action.forwardConfig?.targetGroupStickinessConfig;
  const groupStickinessMs = stickiness?.enabled === true && stickiness.durationSeconds !== undefined ? stickiness.durationSeconds * 1000 : undefined;
  return { groups: entries.map((e) => resolve(e.targetGroupName)), weights, totalWeight: weights.reduce((s, w) => s + w, 0), groupStickinessMs };
}
