/**
 * Zod field builders shared by every schema (the config file and lab scenarios): each error
 * says what is allowed and what was given, for messages such as
 * `targetGroups[0].healthCheckIntervalSeconds: must be an integer 5–300: got 1`.
 */
import { z } from 'zod';

export const show = (v: unknown) => (v === undefined ? 'nothing' : JSON.stringify(v));

export function intIn(lo: number, hi: number) {
  const error = (iss: { input?: unknown }) => `must be an integer ${lo}–${hi}: got ${show(iss.input)}`;
  return z.number({ error }).int({ error }).min(lo, { error }).max(hi, { error });
}

export function numberIn(lo: number, hi: number, { above = false } = {}) {
  const error = (iss: { input?: unknown }) => `must be a number ${above ? `above ${lo}` : `${lo}`}–${hi}: got ${show(iss.input)}`;
  const n = z.number({ error });
  return (above ? n.gt(lo, { error }) : n.min(lo, { error })).max(hi, { error });
}

export function secondsIn(lo: number, hi: number) {
  const error = (iss: { input?: unknown }) => `must be a number of seconds ${lo}–${hi}: got ${show(iss.input)}`;
  return z.number({ error }).min(lo, { error }).max(hi, { error });
}

export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: (iss) => `must be one of ${values.join(' | ')}: got ${show(iss.input)}` });
}

/** An object that rejects unknown keys, listing the allowed ones. */
export function strict<T extends z.ZodRawShape>(shape: T) {
  return z.strictObject(shape, {
    error: (iss) =>
      iss.code === 'unrecognized_keys'
        ? `unknown key${iss.keys.length > 1 ? 's' : ''} ${iss.keys.map((k) => JSON.stringify(k)).join(', ')}; allowed: ${Object.keys(shape).join(', ')}`
        : iss.code === 'invalid_type'
          ? `must be an object: got ${show(iss.input)}`
          : undefined,
  });
}

/** A zod issue path as a user writes it: `targetGroups[0].attributes["a.b"]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (typeof part === 'string' && /^[A-Za-z_$][\w$]*$/.test(part)) out += out ? `.${part}` : part;
    else out += `[${JSON.stringify(String(part))}]`;
  }
  return out;
}
