/**
 * The act stage: runs the matched rule's terminal action (spec 6.3), each in src/l7/actions/,
 * after its authenticate action (spec 13.2) or jwt-validation action (README, "JWT validation")
 * when it has one. Forwarding goes on in the forward
 * stage; the other actions answer at once.
 */
import { authenticate } from '../actions/authenticate.ts';
import { fixedResponse } from '../actions/fixed-response.ts';
import { forwardAction } from '../actions/forward.ts';
import { validateJwt } from '../actions/jwt-validation.ts';
import { redirect } from '../actions/redirect.ts';
import type { RequestContext } from './context.ts';

export function act(ctx: RequestContext): void {
  const match = ctx.match!;
  if (match.authenticate !== undefined) return authenticate(ctx, match.authenticate, () => route(ctx));
  if (match.jwtValidation !== undefined) return validateJwt(ctx, match.jwtValidation, () => route(ctx));
  route(ctx);
}

/** The routing action: forward, fixed-response or redirect. */
function route(ctx: RequestContext): void {
  const action = ctx.match!.action;
  switch (action.type) {
    case 'forward':
      return forwardAction(ctx, action);
    case 'fixed-response':
      return fixedResponse(ctx, action);
    case 'redirect':
      return redirect(ctx, action);
  }
}
