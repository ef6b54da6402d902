/**
 * The transform stage (spec 6.1): the matched rule's transforms rewrite the Host header's host
 * name and the request-target before the action runs; the routing decision stands. The
 * rewritten values sit beside the received ones (the access log's field 13 and an authenticate
 * action's return URL keep what came; fields 31–33 show what went on). Only a rule with
 * transforms reaches past the first check.
 */
import { applyTransforms } from '../transforms.ts';
import type { Refusal } from './answer.ts';
import type { RequestContext } from './context.ts';

/** Applies the matched rule's transforms; names the refusal when a rewrite's result cannot be sent. */
export function transform(ctx: RequestContext): Refusal | undefined {
  const transforms = ctx.match!.transforms;
  if (transforms === undefined) return undefined;
  const { name, port } = splitHost(ctx.host);
  const result = applyTransforms(transforms, name, ctx.path, ctx.method);
  ctx.transformStatus = result.status;
  if (result.status === 'TransformFailed') return 'TransformFailed';
  if (result.host !== undefined) ctx.transformedHost = port === undefined ? result.host : `${result.host}:${port}`;
  if (result.target !== undefined) ctx.transformedTarget = result.target;
  return undefined;
}

const HOST_AND_PORT = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/;

/** `example.com:8080` → name and port; the name of an IPv6 literal keeps its brackets. */
function splitHost(host: string): { name: string; port: string | undefined } {
  const m = HOST_AND_PORT.exec(host);
  if (m === null) return { name: host, port: undefined };
  return { name: m[1]!, port: m[2] === undefined || m[2] === '' ? undefined : m[2] };
}
