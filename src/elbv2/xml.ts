/**
 * The response side of the awsQuery protocol (spec 14.2): `<{Action}Response>` with its
 * `<{Action}Result>` (even when empty) and `<ResponseMetadata><RequestId>`, lists as `<member>`
 * items (an empty list as an empty element, an absent one left out), booleans as `true`/`false`,
 * times in ISO 8601 UTC; and the `<ErrorResponse>`. fast-xml-parser writes the XML and escapes
 * every value: nothing here builds markup by hand.
 */
import { XMLBuilder } from 'fast-xml-parser';
import type { ApiError } from './errors.ts';

export const NAMESPACE = 'http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/';

const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_', suppressEmptyNode: true, processEntities: true, format: false });

/** A response member: scalars, structures (PascalCase keys as in the model), lists; `undefined` is left out. */
export type ApiValue = string | number | boolean | Date | undefined | readonly ApiValue[] | { readonly [member: string]: ApiValue };

/** The builder's node for one member (lists become `{ member: […] }`, an empty list an empty element). */
function node(value: ApiValue): unknown {
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.length === 0 ? '' : { member: value.map(node) };
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, member] of Object.entries(value as Record<string, ApiValue>)) if (member !== undefined) out[key] = node(member);
    return out;
  }
  return value;
}

/** The XML body of a successful `action`. */
export function xmlResponse(action: string, result: { readonly [member: string]: ApiValue }, requestId: string): string {
  const body = node(result) as Record<string, unknown>;
  return builder.build({
    [`${action}Response`]: {
      '@_xmlns': NAMESPACE,
      [`${action}Result`]: Object.keys(body).length === 0 ? '' : body,
      ResponseMetadata: { RequestId: requestId },
    },
  }) as string;
}

/** The XML body of a refused call (spec 14.2.3): `RequestId` beside `Error`, not in ResponseMetadata. */
export function xmlError(error: Pick<ApiError, 'code' | 'message' | 'fault'>, requestId: string): string {
  return builder.build({
    ErrorResponse: {
      '@_xmlns': NAMESPACE,
      Error: { Type: error.fault, Code: error.code, Message: error.message },
      RequestId: requestId,
    },
  }) as string;
}
