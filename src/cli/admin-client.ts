/**
 * The CLI side of the admin API: the `aws elbv2` verbs against a running local-elb, printing
 * the answer the way the AWS CLI does (PascalCase keys: `TargetHealthDescriptions`, …).
 */
import { ElbError, ErrorCodes, isErrorCode } from '../core/errors.ts';

export const DEFAULT_ADMIN = 'http://127.0.0.1:9090';

/**
 * One admin API call. An error answer becomes an ElbError with the admin API's own code (one
 * code per failure: `ELB_ERR_NOT_FOUND`, not wrapped in another); a connection failure or a
 * non-JSON answer is `ELB_ERR_ADMIN_REQUEST_FAILED`. `node:http`, not undici: the CLI's verbs
 * should not pay undici's load time before their one request. It is taken with
 * `getBuiltinModule`, not `import`: an ESM import of node:http reads every export, and its
 * lazy `WebSocket` getter loads Node's own undici, crypto and TLS (about 80 ms).
 */
export async function adminCall(admin: string, method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<unknown> {
  const base = /^https?:\/\//.test(admin) ? admin : `http://${admin}`;
  const { request } = process.getBuiltinModule('node:http');
  const payload = body === undefined ? undefined : JSON.stringify(body);
  let answer: { status: number; text: string };
  try {
    answer = await new Promise((resolve, reject) => {
      const req = request(new URL(path, base), { method, headers: payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(payload);
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new ElbError(ErrorCodes.ADMIN_REQUEST_FAILED, `cannot reach the local-elb admin API at ${base}: ${e.code ?? e.message} (is \`local-elb serve\`, \`demo\` or \`kind\` running? --admin or LOCAL_ELB_ADMIN points elsewhere)`, { cause: err });
  }
  let parsed: unknown;
  try {
    parsed = answer.text === '' ? {} : JSON.parse(answer.text);
  } catch {
    throw new ElbError(ErrorCodes.ADMIN_REQUEST_FAILED, `the admin API at ${base} answered ${answer.status} with something that is not JSON: ${answer.text.slice(0, 200)}`);
  }
  if (answer.status >= 400) {
    const e = parsed as { code?: unknown; message?: unknown };
    const message = typeof e.message === 'string' ? e.message : answer.text;
    if (isErrorCode(e.code)) throw new ElbError(e.code, message);
    throw new ElbError(ErrorCodes.ADMIN_REQUEST_FAILED, `the admin API at ${base} answered ${answer.status}: ${message}`);
  }
  return parsed;
}

/** Keys whose AWS spelling is not the camelCase key with a capital first letter. */
const AWS_KEYS: Readonly<Record<string, string>> = { dnsName: 'DNSName' };

/** camelCase keys → PascalCase, as the AWS CLI prints ELBv2 answers (`DNSName` as AWS spells it). Attribute keys stay as they are. */
export function toAwsShape(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toAwsShape);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [AWS_KEYS[k] ?? k.charAt(0).toUpperCase() + k.slice(1), toAwsShape(v)]));
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
    if (eq <= 0) throw new ElbError(ErrorCodes.INVALID_ARGUMENT, `must be Name=value pairs separated by commas, such as Id=127.0.0.1,Port=3001: got ${JSON.stringify(text)}`);
    out[part.slice(0, eq).trim().toLowerCase()] = part.slice(eq + 1).trim();
  }
  return out;
}

export function parseTargets(items: readonly string[]): Array<{ id: string; port?: number }> {
  return items.map((item) => {
    let t: Record<string, string>;
    try {
      t = parseShorthand(item);
    } catch (err) {
      throw new ElbError(ErrorCodes.INVALID_ARGUMENT, `--targets ${(err as Error).message}`);
    }
    if (t.id === undefined || t.id === '') throw new ElbError(ErrorCodes.INVALID_ARGUMENT, `--targets: each target must have Id=<ip or host name>: got ${JSON.stringify(item)}`);
    if (t.port === undefined) return { id: t.id };
    const port = t.port.trim() === '' ? NaN : Number(t.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new ElbError(ErrorCodes.INVALID_ARGUMENT, `--targets: Port must be an integer 1–65535: got ${JSON.stringify(t.port)}`);
    return { id: t.id, port };
  });
}
