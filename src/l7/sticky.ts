/**
 * ALB sticky sessions (spec 3.3, 3.4): the load balancer's own cookies and what they bind.
 *
 * - `AWSALB` and `AWSALBCORS` (duration-based, `stickiness.type: lb_cookie`) bind a client to a
 *   target of a group until the binding's end, `stickiness.lb_cookie.duration_seconds` after it
 *   began (kept as it is when the cookie is written again on each response: UNCONFIRMED).
 * - `AWSALBAPP-0…3` (application-based, `app_cookie`) follow the application's own cookie: a
 *   response that sets it binds the client to the target that answered; a request that carries
 *   it goes back there while the binding is valid, `stickiness.app_cookie.duration_seconds`
 *   from the last response.
 * - `AWSALBTG` and `AWSALBTGCORS` (`targetGroupStickinessConfig` on a forward) bind a client to
 *   one target group of the action.
 *
 * Values are sealed with AES-256-GCM under a key made once per process (ALB's rotate; these
 * do not): opaque to clients, unforgeable, and a cookie from another process (a restart) is
 * simply invalid, which starts a new binding as any undecodable cookie does. The cookie itself
 * always expires 7 days out (`Expires`, never `Max-Age`), reset on each response. Pure functions
 * over headers and the group's lease call; no sockets.
 */
import { createCipheriv, createDecipheriv, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import type { StickinessSettings } from '../config/settings.ts';
import type { TargetGroup } from '../targets/target-group.ts';
import type { Lease } from '../targets/target.ts';
import { lowerName, requestCookies } from './headers.ts';

/** The cookies' own expiry (spec 3.3: 7 days, not configurable); the binding's validity is sealed inside. */
export const COOKIE_LIFETIME_MS = 7 * 24 * 3600 * 1000;

/** The application cookie's shards (spec 3.3: up to four of 4 KB); unused ones are sent as `_remove_`, as ALBs are seen to do (UNCONFIRMED). */
export const APP_COOKIE_SHARDS = 4;
const APP_SHARD_PREFIX = 'AWSALBAPP-';
const REMOVED = '_remove_';

/** What a sealed cookie says: the group it binds to, the target in it (none for AWSALBTG), and until when (listener clock, ms). */
export interface Binding {
  readonly group: string;
  readonly target: string;
  readonly untilMs: number;
}

/** Which of the three cookies a value was sealed for: one cannot stand in for another. */
export type CookieKind = 'AWSALB' | 'AWSALBAPP' | 'AWSALBTG';

/** Values sealed or opened recently, per sealer: a returning client's cookie costs a lookup, not a cipher (bounded; cleared when full). */
const CACHE_ENTRIES = 10_000;

/**
 * Seals and opens the load balancer's cookie values. Each ALB of a process shares the default
 * one (`processSealer`); tests give their own key. A binding sealed again (AWSALB and AWSALBTG
 * keep their end) gets the value it got before, and a value seen before opens from memory.
 */
export class CookieSealer {
  readonly #key: KeyObject;
  readonly #sealed = new Map<string, string>();
  readonly #opened = new Map<string, Binding | null>();

  constructor(key: Buffer = randomBytes(32)) {
    if (key.length !== 32) throw new RangeError(`a cookie key is 32 bytes: got ${key.length}`);
    this.#key = createSecretKey(key);
  }

  seal(kind: CookieKind, binding: Binding): string {
    const id = `${kind}\0${binding.group}\0${binding.target}\0${binding.untilMs}`;
    let value = this.#sealed.get(id);
    if (value === undefined) {
      value = this.#seal(kind, binding);
      if (this.#sealed.size >= CACHE_ENTRIES) this.#sealed.clear();
      this.#sealed.set(id, value);
    }
    return value;
  }

  /** The binding in `value`, or undefined when it is not one this sealer made for `kind` (tampered, URL-encoded, another process's). */
  open(kind: CookieKind, value: string | undefined): Binding | undefined {
    if (value === undefined || value.length < 40) return undefined;
    const id = `${kind}\0${value}`;
    let binding = this.#opened.get(id);
    if (binding === undefined) {
      binding = this.#open(kind, value) ?? null;
      if (this.#opened.size >= CACHE_ENTRIES) this.#opened.clear();
      this.#opened.set(id, binding);
    }
    return binding ?? undefined;
  }

  #seal(kind: CookieKind, binding: Binding): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(Buffer.from(kind));
    const body = Buffer.concat([cipher.update(JSON.stringify([binding.group, binding.target, binding.untilMs])), cipher.final()]);
    return Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64');
  }

  #open(kind: CookieKind, value: string): Binding | undefined {
    try {
      const raw = Buffer.from(value, 'base64');
      if (raw.length < 29 || raw.toString('base64') !== value) return undefined;
      const decipher = createDecipheriv('aes-256-gcm', this.#key, raw.subarray(0, 12));
      decipher.setAAD(Buffer.from(kind));
      decipher.setAuthTag(raw.subarray(raw.length - 16));
      const plain = Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]).toString();
      const [group, target, untilMs] = JSON.parse(plain) as [unknown, unknown, unknown];
      if (typeof group !== 'string' || typeof target !== 'string' || typeof untilMs !== 'number') return undefined;
      return { group, target, untilMs };
    } catch {
      return undefined;
    }
  }
}

/** The key of this process's load balancers (spec 3.3: "encrypted using a rotating key"; one key per process here). */
export const processSealer = new CookieSealer();

export { requestCookies } from './headers.ts';

/** A `Set-Cookie` value as ALB writes its cookies (spec 3.3): `Expires` 7 days out, `Path=/`; the CORS twin adds `SameSite=None; Secure`. */
export function setCookie(name: string, value: string, nowMs: number, sameSiteNone: boolean, expiresMs = nowMs + COOKIE_LIFETIME_MS): string {
  return `${name}=${value}; Expires=${new Date(expiresMs).toUTCString()}; Path=/${sameSiteNone ? '; SameSite=None; Secure' : ''}`;
}

/**
 * How the target's response treats the cookie `name`: `set` by a `Set-Cookie` for it, `deleted`
 * when that `Set-Cookie` expires it (`Max-Age` ≤ 0 or `Expires` in the past), undefined otherwise.
 */
export function responseCookie(headers: readonly string[], name: string, nowMs: number): 'set' | 'deleted' | undefined {
  let found: 'set' | 'deleted' | undefined;
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i]!.length !== 10 || lowerName(headers[i]!) !== 'set-cookie') continue;
    const value = headers[i + 1]!;
    const eq = value.indexOf('=');
    if (eq < 0 || value.slice(0, eq).trim() !== name) continue;
    found = expires(value, nowMs) ? 'deleted' : 'set';
  }
  return found;
}

function expires(setCookieValue: string, nowMs: number): boolean {
  for (const part of setCookieValue.split(';').slice(1)) {
    const eq = part.indexOf('=');
    const attribute = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
    const value = eq < 0 ? '' : part.slice(eq + 1).trim();
    if (attribute === 'max-age' && /^-?\d+$/.test(value)) return Number(value) <= 0;
    if (attribute === 'expires') {
      const at = Date.parse(value);
      if (!Number.isNaN(at) && at <= nowMs) return true;
    }
  }
  return false;
}

/** Chromium 80 and later get `SameSite=None; Secure` on the application cookie (spec 3.3). */
export function chromium80(rawHeaders: readonly string[]): boolean {
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.length !== 10 || lowerName(rawHeaders[i]!) !== 'user-agent') continue;
    const m = /(?:Chrome|Chromium|CriOS)\/(\d+)/.exec(rawHeaders[i + 1]!);
    return m !== null && Number(m[1]) >= 80;
  }
  return false;
}

/**
 * What stickiness decided for one request: the bindings to write back on the response. Made by
 * the forward action or the forward stage only when an action or a group is sticky.
 */
export class StickyRequest {
  readonly #rawHeaders: readonly string[];
  #cookies: Map<string, string> | undefined;
  /** The forward names several target groups (application cookies do not work there, spec 3.3). */
  weighted = false;
  /** The AWSALBTG binding to write (group stickiness). */
  group: Binding | undefined = undefined;
  /** The AWSALB binding to write (duration-based stickiness). */
  target: Binding | undefined = undefined;
  /** Application-based stickiness: its settings and whether the request carried the application's cookie. */
  app: { readonly settings: Extract<StickinessSettings, { type: 'app_cookie' }>; readonly group: string; readonly carried: boolean } | undefined = undefined;
  /**
   * The sticky group's binding could not be used, so the algorithm chose a new target (no
   * cookie, one for another group, expired, undecodable, its target gone or unhealthy):
   * NonStickyRequestCount for `lb_cookie`, AppCookieNonStickinessCount for `app_cookie` (spec 3.3).
   */
  nonSticky: 'lb_cookie' | 'app_cookie' | undefined = undefined;
  /** The request carried an AWSALBTG (or AWSALBTGCORS) cookie this load balancer cannot read: error_reason AWSALBTGCookieInvalid (spec 3.4, 8.1). */
  groupCookieInvalid = false;

  constructor(rawHeaders: readonly string[]) {
    this.#rawHeaders = rawHeaders;
  }

  cookie(name: string): string | undefined {
    this.#cookies ??= requestCookies(this.#rawHeaders);
    return this.#cookies.get(name);
  }

  /** AWSALBAPP-0…3 joined, as the value was split. */
  appCookie(): string | undefined {
    let value = '';
    for (let i = 0; i < APP_COOKIE_SHARDS; i++) {
      const shard = this.cookie(`${APP_SHARD_PREFIX}${i}`);
      if (shard === undefined || shard === REMOVED) break;
      value += shard;
    }
    return value === '' ? undefined : value;
  }
}

/**
 * The group a client is bound to by its AWSALBTG (or AWSALBTGCORS) cookie, if that group is one
 * of `groupNames` and the binding has not ended; a stale, foreign or undecodable cookie binds
 * nothing (the caller draws by weight and binds anew).
 */
export function boundGroup(sticky: StickyRequest, groupNames: readonly string[], nowMs: number, sealer: CookieSealer = processSealer): Binding | undefined {
  const cookie = sticky.cookie('AWSALBTG');
  const cors = sticky.cookie('AWSALBTGCORS');
  const binding = sealer.open('AWSALBTG', cookie) ?? sealer.open('AWSALBTG', cors);
  if (binding === undefined && (cookie !== undefined || cors !== undefined)) sticky.groupCookieInvalid = true;
  return binding !== undefined && binding.untilMs > nowMs && groupNames.includes(binding.group) ? binding : undefined;
}

/**
 * A lease for a request to a sticky target group (spec 3.3): the bound target while its cookie
 * is valid and the target can take requests (TargetGroup.acquireBound: healthy, or any
 * registered one while the group fails open), else the algorithm's choice, which becomes the
 * new binding. Throws as `acquire` does when the group has nothing to offer.
 */
export function stickyLease(sticky: StickyRequest, group: TargetGroup, settings: StickinessSettings, nowMs: number, sealer: CookieSealer = processSealer): Lease {
  if (settings.type === 'lb_cookie') {
    const bound = sealer.open('AWSALB', sticky.cookie('AWSALB')) ?? sealer.open('AWSALB', sticky.cookie('AWSALBCORS'));
    const valid = bound !== undefined && bound.group === group.name && bound.untilMs > nowMs ? bound : undefined;
    const stuck = valid !== undefined ? group.acquireBound(valid.target) : undefined;
    if (stuck === undefined) sticky.nonSticky = 'lb_cookie';
    const lease = stuck ?? group.acquire();
    sticky.target = { group: group.name, target: lease.target.key, untilMs: stuck !== undefined ? valid!.untilMs : nowMs + settings.durationMs };
    return lease;
  }
  // Application-based stickiness does not work with weighted target groups (spec 3.3), and an NLB's source_ip never reaches here.
  if (settings.type !== 'app_cookie' || sticky.weighted) return group.acquire();
  const carried = sticky.cookie(settings.cookieName) !== undefined;
  const bound = carried ? sealer.open('AWSALBAPP', sticky.appCookie()) : undefined;
  const stuck = bound !== undefined && bound.group === group.name && bound.untilMs > nowMs ? group.acquireBound(bound.target) : undefined;
  sticky.app = { settings, group: group.name, carried };
  if (stuck === undefined) sticky.nonSticky = 'app_cookie';
  return stuck ?? group.acquire();
}

/**
 * The `Set-Cookie` headers (`[name, value, …]`) the load balancer adds to the target's response
 * `targetHeaders` for `target`: AWSALBTG/AWSALBTGCORS for a group binding, AWSALB/AWSALBCORS
 * for a target binding, and AWSALBAPP-0…3 when the response sets the application's cookie or
 * the request carried it (expired when the response deletes it).
 */
export function stickyCookies(sticky: StickyRequest, target: string, targetHeaders: readonly string[], rawRequestHeaders: readonly string[], nowMs: number, sealer: CookieSealer = processSealer): string[] {
  const out: string[] = [];
  if (sticky.group !== undefined) {
    const value = sealer.seal('AWSALBTG', sticky.group);
    out.push('Set-Cookie', setCookie('AWSALBTG', value, nowMs, false), 'Set-Cookie', setCookie('AWSALBTGCORS', value, nowMs, true));
  }
  if (sticky.target !== undefined) {
    const value = sealer.seal('AWSALB', sticky.target);
    out.push('Set-Cookie', setCookie('AWSALB', value, nowMs, false), 'Set-Cookie', setCookie('AWSALBCORS', value, nowMs, true));
  }
  const app = sticky.app;
  if (app !== undefined) {
    const given = responseCookie(targetHeaders, app.settings.cookieName, nowMs);
    const sameSiteNone = chromium80(rawRequestHeaders);
    if (given === 'deleted') {
      for (let i = 0; i < APP_COOKIE_SHARDS; i++) out.push('Set-Cookie', setCookie(`${APP_SHARD_PREFIX}${i}`, REMOVED, nowMs, sameSiteNone, 0));
    } else if (given === 'set' || app.carried) {
      const value = sealer.seal('AWSALBAPP', { group: app.group, target, untilMs: nowMs + app.settings.durationMs });
      out.push('Set-Cookie', setCookie(`${APP_SHARD_PREFIX}0`, value, nowMs, sameSiteNone));
      for (let i = 1; i < APP_COOKIE_SHARDS; i++) out.push('Set-Cookie', setCookie(`${APP_SHARD_PREFIX}${i}`, REMOVED, nowMs, sameSiteNone));
    }
  }
  return out;
}
