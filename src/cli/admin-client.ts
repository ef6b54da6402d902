/**
 * The CLI side of the admin API: the `aws elbv2` verbs against a running local-elb, printing
 * the answer the way the AWS CLI does (PascalCase keys: `TargetHealthDescriptions`, …).
 */
import { request } from 'undici';
import { ElbError, ErrorCodes } from '../core/errors.ts';

export const DEFAULT_ADMIN = 'http://127.0.0.1:9090';

export async function adminCall(admin: string, method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<unknown> {
  const base = /^https?:\/\//.test(admin) ? admin : `http://${admin}`;
  let res;
  try {
    res = await request(new URL(path, base), {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? null : JSON.stringify(body),
      headersTimeout: 0,
      bodyTimeout: 0,
    });
  } catch (err) {
    throw new ElbError(ErrorCodes.ADMIN_REQUEST_FAILED, `cannot reach the local-elb admin API at ${base}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message} (is \`local-elb serve\` or \`local-elb demo\` running? use --admin to point elsewhere)`, { cause: err });
  }
  const text = await res.body.text();
  let parsed: unknown;
  try {
    parsed = text === '' ? {} : JSON.parse(text);
  } catch {
    throw new ElbError(ErrorCodes.ADMIN_REQUEST_FAILED, `admin API answered ${res.statusCode} with non-JSON: ${text.slice(0, 200)}`);
  }
  if (res.statusCode >= 400) {
    const e = parsed as { code?: string; message?: string };
    throw new ElbError(ErrorCodes.ADMIN_REQUEST_FAILED, `${e.code ?? res.statusCode}: ${e.message ?? text}`);
  }
  return parsed;
}

/** camelCase keys → PascalCase, as the AWS CLI prints ELBv2 answers. Attribute keys stay as they are. */
export function toAwsShape(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toAwsShape);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k.charAt(0).toUpperCase() + k.slice(1), toAwsShape(v)]));
  }
  return value;
}

/**
 * Parses AWS CLI shorthand: `Id=127.0.0.1,Port=3001` → `{ id, port }`;
 * `Key=deregistration_delay.timeout_seconds,Value=30` → `{ key, value }`.
 */
export function parseShorthand(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new ElbError(ErrorCodes.INVALID_ARGUMENT, `expected Name=value pairs separated by commas: got ${JSON.stringify(text)}`);
    out[part.slice(0, eq).trim().toLowerCase()] = part.slice(eq + 1).trim();
  }
  return out;
}

export function parseTargets(items: readonly string[]): Array<{ id: string; port?: number }> {
  return items.map((item) => {
    const t = parseShorthand(item);
    if (t.id === undefined) throw new ElbError(ErrorCodes.INVALID_ARGUMENT, `a target needs Id=…: got ${JSON.stringify(item)}`);
    if (t.port === undefined) return { id: t.id };
    const port = Number(t.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new ElbError(ErrorCodes.INVALID_ARGUMENT, `Port must be 1–65535: got ${JSON.stringify(t.port)}`);
    return { id: t.id, port };
  });
}
