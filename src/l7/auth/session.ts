/**
 * The authentication session in cookies (spec 13.2.4, 13.2.7): the record the load balancer
 * keeps for a signed-in user (claims, access token, refresh token, when the session and the
 * access token end), sealed with AES-256-GCM under a key made when the load balancer starts,
 * base64 (standard alphabet, never URL-encoded) and cut into `<SessionCookieName>-0`, `-1`, …
 * shards of at most 4000 bytes, four at most (ALB handles up to 16K). The cookies themselves
 * expire after 7 days whatever `SessionTimeout` says: the session's end is sealed inside.
 * Also the `state` of the authorization redirect, sealed the same way. Pure functions over
 * header lists; no sockets.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { lowerName } from '../headers.ts';

/** The cookies' own lifetime: 7 days, regardless of `SessionTimeout` (spec 13.2.4). */
export const SESSION_COOKIE_LIFETIME_MS = 7 * 24 * 3600 * 1000;
/** A shard's value at most (a browser keeps about 4 KiB per cookie, name and attributes included). */
export const SHARD_BYTES = 4000;
/** ALB handles session cookies up to 16K, so at most four shards (spec 13.2.4). */
export const MAX_SHARDS = 4;
/** The user's claims and the access token together at most (spec 13.2.4: over 11K is 500). */
export const MAX_CLAIMS_BYTES = 11 * 1024;
export const NONCE_COOKIE = 'AWSALBAuthNonce';

/** What the load balancer remembers about one signed-in user. Times are on the listener's clock, ms. */
export interface SessionRecord {
  /** The user-info endpoint's claims, `sub` among them (spec 13.2.5). */
  readonly claims: Readonly<Record<string, unknown>> & { readonly sub: string };
  readonly accessToken: string;
  /** From the token endpoint's `expires_in`; undefined when it gave none. */
  readonly accessTokenExpiresAtMs: number | undefined;
  readonly refreshToken: string | undefined;
  /** Sign-in time + `SessionTimeout` (a refresh does not move it). */
  readonly sessionExpiresAtMs: number;
}

/** The authorization redirect's `state` (spec 13.2.3: opaque; here a sealed record). */
export interface AuthorizationState {
  /** The nonce the `AWSALBAuthNonce` cookie carries. */
  readonly nonce: string;
  /** Which authenticate step of the load balancer asked (AlbAuthentication.steps). */
  readonly step: number;
  /** The path and query first asked for. */
  readonly originalPath: string;
  readonly createdMs: number;
}

/** Seals and opens the session cookie and the `state`: opaque to clients, unforgeable, this process's only. */
export class SessionSealer {
  readonly #key: Buffer;

  constructor(key: Buffer = randomBytes(32)) {
    if (key.length !== 32) throw new RangeError(`a session key is 32 bytes: got ${key.length}`);
    this.#key = key;
  }

  seal(purpose: 'session' | 'state', value: unknown, encoding: 'base64' | 'base64url'): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(Buffer.from(purpose));
    const body = Buffer.concat([cipher.update(deflateRawSync(JSON.stringify(value))), cipher.final()]);
    return Buffer.concat([iv, body, cipher.getAuthTag()]).toString(encoding);
  }

  /** The value sealed for `purpose`, or undefined when `text` is not one (tampered, cut, another process's). */
  open(purpose: 'session' | 'state', text: string, encoding: 'base64' | 'base64url'): unknown {
    try {
      const raw = Buffer.from(text, encoding);
      if (raw.length < 29 || raw.toString(encoding) !== text) return undefined;
      const decipher = createDecipheriv('aes-256-gcm', this.#key, raw.subarray(0, 12));
      decipher.setAAD(Buffer.from(purpose));
      decipher.setAuthTag(raw.subarray(raw.length - 16));
      const plain = Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]);
      return JSON.parse(inflateRawSync(plain).toString('utf8'));
    } catch {
      return undefined;
    }
  }

  sealSession(record: SessionRecord): string {
    return this.seal('session', record, 'base64');
  }

  openSession(text: string): SessionRecord | undefined {
    const r = this.open('session', text, 'base64') as Partial<SessionRecord> | undefined;
    if (r === undefined || r === null || typeof r !== 'object') return undefined;
    if (typeof r.claims?.sub !== 'string' || typeof r.accessToken !== 'string' || typeof r.sessionExpiresAtMs !== 'number') return undefined;
    return {
      claims: r.claims,
      accessToken: r.accessToken,
      accessTokenExpiresAtMs: typeof r.accessTokenExpiresAtMs === 'number' ? r.accessTokenExpiresAtMs : undefined,
      refreshToken: typeof r.refreshToken === 'string' ? r.refreshToken : undefined,
      sessionExpiresAtMs: r.sessionExpiresAtMs,
    };
  }

  sealState(state: AuthorizationState): string {
    return this.seal('state', [state.nonce, state.step, state.originalPath, state.createdMs], 'base64url');
  }

  openState(text: string): AuthorizationState | undefined {
    const s = this.open('state', text, 'base64url');
    if (!Array.isArray(s) || s.length !== 4) return undefined;
    const [nonce, step, originalPath, createdMs] = s as unknown[];
    if (typeof nonce !== 'string' || typeof step !== 'number' || typeof originalPath !== 'string' || typeof createdMs !== 'number') return undefined;
    return { nonce, step, originalPath, createdMs };
  }
}

export { requestCookies } from '../headers.ts';

/**
 * The session cookie's value put back together from its shards, in index order: `none` when
 * the client sent no shard, `partial` when `-0` is missing or a shard is empty.
 */
export function sessionCookieValue(cookies: ReadonlyMap<string, string>, name: string): { readonly value: string; readonly shards: number } | 'none' | 'partial' {
  const prefix = `${name}-`;
  const present: number[] = [];
  for (const key of cookies.keys()) {
    if (!key.startsWith(prefix)) continue;
    const index = key.slice(prefix.length);
    if (/^\d$/.test(index)) present.push(Number(index));
  }
  if (present.length === 0) return 'none';
  let value = '';
  let shards = 0;
  while (cookies.has(`${prefix}${shards}`)) {
    const shard = cookies.get(`${prefix}${shards}`)!;
    if (shard === '') return 'partial';
    value += shard;
    shards++;
  }
  if (shards === 0) return 'partial';
  return { value, shards };
}

/** HTTP-date for `Expires`. */
function httpDate(ms: number): string {
  return new Date(ms).toUTCString();
}

/**
 * `Set-Cookie` values for a sealed session: one per shard (`-0` even when one suffices),
 * `Secure; HttpOnly; Path=/`, `SameSite=None` on CORS requests (spec 13.2.4), and expired
 * ones for shards the client holds beyond the new count. Undefined when it needs more than
 * four shards. `nowMs` is the listener's clock (epoch ms under the real clock: cookie dates).
 */
export function sessionSetCookies(name: string, sealed: string, previousShards: number, nowMs: number, cors: boolean): string[] | undefined {
  const count = Math.ceil(sealed.length / SHARD_BYTES);
  if (count > MAX_SHARDS) return undefined;
  const attributes = `; Expires=${httpDate(nowMs + SESSION_COOKIE_LIFETIME_MS)}; Path=/; Secure; HttpOnly${cors ? '; SameSite=None' : ''}`;
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(`${name}-${i}=${sealed.slice(i * SHARD_BYTES, (i + 1) * SHARD_BYTES)}${attributes}`);
  for (let i = count; i < previousShards; i++) out.push(expiredCookie(`${name}-${i}`));
  return out;
}

/** `Set-Cookie` that removes `name` (expiry in the past, as an app's logout does, spec 13.2.7). */
export function expiredCookie(name: string): string {
  return `${name}=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; Secure; HttpOnly`;
}

/** Every session shard the client sent, expired. */
export function expiredSessionCookies(cookies: ReadonlyMap<string, string>, name: string): string[] {
  const prefix = `${name}-`;
  return [...cookies.keys()].filter((k) => k.startsWith(prefix) && /^\d$/.test(k.slice(prefix.length))).map(expiredCookie);
}

const NONCE_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** 16 alphanumeric characters (spec 13.2.4, as observed; UNCONFIRMED). */
export function newNonce(): string {
  const bytes = randomBytes(16);
  let out = '';
  for (const b of bytes) out += NONCE_ALPHABET[b % NONCE_ALPHABET.length];
  return out;
}

/** True when a request is a CORS one (it carries `Origin`): its session cookies get `SameSite=None`. */
export function isCorsRequest(rawHeaders: readonly string[]): boolean {
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i]!.length === 6 && lowerName(rawHeaders[i]!) === 'origin') return true;
  return false;
}
