/**
 * `X-Amzn-Trace-Id` (spec 5.5): `Root=1-<8 hex epoch seconds>-<24 hex random>` on a request
 * without one; a `Self` field inserted in front (or updated) when the client sent one.
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
