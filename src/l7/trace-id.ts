/**
 * `X-Amzn-Trace-Id` (spec 5.5): `Root=1-<8 hex epoch seconds>-<24 hex random>` on a request
 * without one; a `Self` field inserted in front (or updated) when the client sent one; only a
 * `Root` field when the request's headers are over 7 KB.
 */
import { randomBytes } from 'node:crypto';

let pool = Buffer.alloc(0);
let offset = 0;

function randomHex12(): string {
  if (offset + 12 > pool.length) {
    pool = randomBytes(12 * 256);
    offset = 0;
  }
  offset += 12;
  return pool.toString('hex', offset - 12, offset);
}

export function newTraceId(nowMs: number): string {
  return `1-${Math.floor(nowMs / 1000).toString(16).padStart(8, '0')}-${randomHex12()}`;
}

/** Request headers over this many bytes get a trace header of only a `Root` field (spec 5.5: "greater than 7 KB"). */
export const TRACE_ROOT_ONLY_HEADER_BYTES = 7 * 1024;

/**
 * The header value when the request's headers are over 7 KB (spec 5.5): only a `Root` field,
 * the client's own when it sent one (which of the two AWS keeps is UNCONFIRMED), else a new one.
 */
export function rootOnlyTraceHeader(incoming: string | undefined, nowMs: number): string {
  const root = incoming === undefined ? undefined : /(?:^|;)\s*root=([^;]*)/i.exec(incoming)?.[1]?.trim();
  return `Root=${root !== undefined && root !== '' ? root : newTraceId(nowMs)}`;
}

/** The header value to send to the target, given what the client sent (if anything). */
export function traceHeader(incoming: string | undefined, nowMs: number): string {
  const id = newTraceId(nowMs);
  if (incoming === undefined || incoming.trim() === '') return `Root=${id}`;
  const fields = incoming.split(';').map((f) => f.trim()).filter((f) => f !== '');
  const selfAt = fields.findIndex((f) => /^self=/i.test(f));
  if (selfAt >= 0) {
    fields[selfAt] = `Self=${id}`;
    return fields.join(';');
  }
  if (fields.some((f) => /^root=/i.test(f))) return [`Self=${id}`, ...fields].join(';');
  return [`Root=${id}`, ...fields].join(';');
}
