/**
 * Rule transforms (spec 6.1, AWS "Transforms for listener rules"): after a rule matched, a
 * `host-header-rewrite` rewrites the Host header's host name and a `url-rewrite` the
 * request-target (path and query), each with one regex and a replacement with `$1` capture
 * groups. The first match is replaced, the rest of the string kept; no match leaves the request
 * as it came; a result the load balancer cannot send is a failure, answered 500. Routing is not
 * changed. Compiled once per listener; applying is pure.
 *
 * What "fails" means here (AWS does not say): a url-rewrite result that is not an origin-form
 * request-target (`/` first, then visible ASCII only) or makes the request line longer than
 * 16 KiB; a host-header-rewrite result that is empty, longer than 253 characters, or holds a
 * character a host name cannot (anything but letters, digits, `-`, `.`, `_`, `~`, `%`, and an
 * IPv6 literal in brackets).
 */
import type { TransformConfig } from '../config/schema.ts';

/** One regex and its replacement, compiled. */
export interface CompiledRewrite {
  readonly regex: RegExp;
  /** The replacement split into literal text and group numbers (`$N`; `$$` is a `$`). */
  readonly parts: readonly (string | number)[];
}

/** A rule's transforms; undefined on a rule without any, so such a rule pays nothing. */
export interface CompiledTransforms {
  readonly host: CompiledRewrite | undefined;
  readonly url: CompiledRewrite | undefined;
}

export function compileTransforms(transforms: readonly TransformConfig[] | undefined): CompiledTransforms | undefined {
  if (transforms === undefined || transforms.length === 0) return undefined;
  let host: CompiledRewrite | undefined;
  let url: CompiledRewrite | undefined;
  for (const t of transforms) {
    if (t.type === 'host-header-rewrite') host = compileRewrite(t.hostHeaderRewriteConfig.rewrites[0]!);
    else url = compileRewrite(t.urlRewriteConfig.rewrites[0]!);
  }
  return { host, url };
}

function compileRewrite(rewrite: { readonly regex: string; readonly replace: string }): CompiledRewrite {
  const parts: (string | number)[] = [];
  let literal = '';
  const replace = rewrite.replace;
  for (let i = 0; i < replace.length; i++) {
    const ch = replace[i]!;
    if (ch === '$' && replace[i + 1] === '$') {
      literal += '$';
      i++;
      continue;
    }
    const m = ch === '$' ? /^\d+/.exec(replace.slice(i + 1)) : null;
    if (m === null) {
      literal += ch;
      continue;
    }
    if (literal !== '') parts.push(literal);
    literal = '';
    parts.push(Number(m[0]));
    i += m[0].length;
  }
  if (literal !== '') parts.push(literal);
  return { regex: new RegExp(rewrite.regex), parts };
}

/** The rewritten string, or undefined when the regex does not match (the input goes on unchanged). */
export function rewrite(compiled: CompiledRewrite, input: string): string | undefined {
  const m = compiled.regex.exec(input);
  if (m === null) return undefined;
  let replacement = '';
  for (const part of compiled.parts) replacement += typeof part === 'string' ? part : (m[part] ?? '');
  return input.slice(0, m.index) + replacement + input.slice(m.index + m[0].length);
}

/** `TransformSucceeded` etc.: the access log's `request_transform_status` (field 33; AWS's values UNCONFIRMED). */
export type TransformStatus = 'TransformSucceeded' | 'TransformNoMatch' | 'TransformFailed';

/** What the transforms did to one request. */
export interface TransformResult {
  readonly status: TransformStatus;
  /** The new host name (without a port) when host-header-rewrite matched. */
  readonly host?: string;
  /** The new request-target when url-rewrite matched. */
  readonly target?: string;
  /** Which rewrite produced an unusable result (`status` TransformFailed). */
  readonly failed?: 'host-header-rewrite' | 'url-rewrite';
}

/** Request line limit (spec 6.4) that a rewritten target must keep to. */
const MAX_REQUEST_LINE_BYTES = 16 * 1024;
const ORIGIN_FORM = /^\/[\x21-\x7e]*$/;
const HOST_NAME = /^(?:[A-Za-z0-9\-._~%]+|\[[0-9A-Fa-f:.]+\])$/;

/**
 * Applies a rule's transforms to a request's host name (without its port) and request-target
 * (path and query, origin-form). `method` counts toward the request line limit.
 */
export function applyTransforms(transforms: CompiledTransforms, hostName: string, target: string, method: string): TransformResult {
  let host: string | undefined;
  let url: string | undefined;
  if (transforms.host !== undefined) {
    host = rewrite(transforms.host, hostName);
    if (host !== undefined && (host.length === 0 || host.length > 253 || !HOST_NAME.test(host))) return { status: 'TransformFailed', failed: 'host-header-rewrite' };
  }
  if (transforms.url !== undefined) {
    url = rewrite(transforms.url, target);
    if (url !== undefined && (!ORIGIN_FORM.test(url) || method.length + url.length + 10 > MAX_REQUEST_LINE_BYTES)) return { status: 'TransformFailed', failed: 'url-rewrite' };
  }
  if (host === undefined && url === undefined) return { status: 'TransformNoMatch' };
  return { status: 'TransformSucceeded', ...(host !== undefined ? { host } : {}), ...(url !== undefined ? { target: url } : {}) };
}
