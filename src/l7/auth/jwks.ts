/**
 * The JWKS endpoints of jwt-validation actions (README, "JWT validation"): the load balancer
 * fetches a key set itself, over https (trusting the system roots and local-elb's local CA) or
 * over http when the load balancer's emulator allows it, within AWS's limits: a response of at
 * most 150 KB and at most 10 keys (AWS: "the Application Load Balancer will not forward the
 * request to your backend targets"). Keys are kept `jwksCacheSeconds` on the injected clock; a
 * token whose `kid` the kept set lacks asks the endpoint again, at most every 10 s, so a key
 * rotated in at the IdP is used at once. A failed fetch is not kept: the next request asks again.
 */
import http from 'node:http';
import https from 'node:https';
import { createLocalJWKSet, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import type { Clock } from '../../core/clock.ts';

/** AWS: "Maximum response size: 150 KB" (read as 150 × 1024 bytes). */
export const MAX_JWKS_BYTES = 150 * 1024;
/** AWS: "Maximum number of keys: 10 keys". */
export const MAX_JWKS_KEYS = 10;
/** An unknown `kid` asks the endpoint again only when the kept set is at least this old. */
export const JWKS_REFETCH_MIN_MS = 10_000;

/** Why a key set could not be had; the request record's `errorCode` (not AWS names: AWS documents none). */
export type JwksFailure = 'JwksRequestFailed' | 'JwksRequestTimeout' | 'JwksResponseTooLarge' | 'JwksTooManyKeys' | 'JwksInvalidResponse';

export type JwksResult = { readonly ok: true; readonly keys: KeySet } | { readonly ok: false; readonly reason: JwksFailure; readonly detail: string };

/** A fetched key set: jose's key resolver over it, and when it was fetched (ms on the clock). */
export interface KeySet {
  readonly resolve: JWTVerifyGetKey;
  readonly kids: ReadonlySet<string>;
  readonly fetchedAtMs: number;
}

export interface JwksCacheOptions {
  readonly clock: Clock;
  readonly cacheMs: number;
  readonly timeoutMs: number;
  /** The CA certificates an https endpoint may chain to (system roots and the local CA), read once on first need. */
  readonly trustedCas: () => Promise<readonly string[]>;
}

interface Entry {
  keys: KeySet | undefined;
  inFlight: Promise<JwksResult> | undefined;
}

/** One per load balancer: every jwt-validation action naming the same endpoint shares its keys. */
export class JwksCache {
  readonly #options: JwksCacheOptions;
  readonly #entries = new Map<string, Entry>();
  #ca: Promise<readonly string[]> | undefined;
  /** Requests made to JWKS endpoints (tests and the README's claims read it). */
  fetches = 0;

  constructor(options: JwksCacheOptions) {
    this.#options = options;
  }

  /** The endpoint's keys: kept ones while fresh, else fetched (one request at a time per endpoint). */
  keys(endpoint: string): Promise<JwksResult> {
    const entry = this.#entry(endpoint);
    const kept = entry.keys;
    if (kept !== undefined && this.#options.clock.now() - kept.fetchedAtMs < this.#options.cacheMs) return Promise.resolve({ ok: true, keys: kept });
    return this.#refresh(endpoint, entry);
  }

  /** A token names a `kid` the kept set lacks: ask again when the set is old enough, else keep it. */
  keysWithout(endpoint: string, kid: string, kept: KeySet): Promise<JwksResult> | undefined {
    if (kept.kids.has(kid) || this.#options.clock.now() - kept.fetchedAtMs < JWKS_REFETCH_MIN_MS) return undefined;
    return this.#refresh(endpoint, this.#entry(endpoint));
  }

  #entry(endpoint: string): Entry {
    let entry = this.#entries.get(endpoint);
    if (entry === undefined) {
      entry = { keys: undefined, inFlight: undefined };
      this.#entries.set(endpoint, entry);
    }
    return entry;
  }

  #refresh(endpoint: string, entry: Entry): Promise<JwksResult> {
    entry.inFlight ??= this.#fetch(endpoint)
      .catch((err: unknown): JwksResult => ({ ok: false, reason: 'JwksRequestFailed', detail: `${endpoint}: ${(err as Error).message}` }))
      .then((result) => {
        entry.inFlight = undefined;
        if (result.ok) entry.keys = result.keys;
        return result;
      });
    return entry.inFlight;
  }

  async #fetch(endpoint: string): Promise<JwksResult> {
    this.fetches++;
    const url = new URL(endpoint);
    let ca: readonly string[] | undefined;
    if (url.protocol === 'https:') {
      // A failure to read the trusted CAs is not kept: the next fetch tries again.
      this.#ca ??= this.#options.trustedCas().catch((err: unknown) => {
        this.#ca = undefined;
        throw err;
      });
      try {
        ca = await this.#ca;
      } catch (err) {
        return { ok: false, reason: 'JwksRequestFailed', detail: `the trusted CA certificates could not be read: ${(err as Error).message}` };
      }
    }
    const body = await get(url, ca, this.#options.clock, this.#options.timeoutMs);
    if (!body.ok) return body;
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.text);
    } catch {
      return { ok: false, reason: 'JwksInvalidResponse', detail: `${endpoint} did not answer JSON` };
    }
    const keys = (parsed as { keys?: unknown } | null)?.keys;
    if (!Array.isArray(keys)) return { ok: false, reason: 'JwksInvalidResponse', detail: `${endpoint} answered no "keys" array` };
    if (keys.length > MAX_JWKS_KEYS) return { ok: false, reason: 'JwksTooManyKeys', detail: `${endpoint} has ${keys.length} keys; ALB takes at most ${MAX_JWKS_KEYS}` };
    let resolve: JWTVerifyGetKey;
    try {
      resolve = createLocalJWKSet(parsed as JSONWebKeySet);
    } catch (err) {
      return { ok: false, reason: 'JwksInvalidResponse', detail: `${endpoint}: ${(err as Error).message}` };
    }
    const kids = new Set(keys.map((k: { kid?: unknown }) => k?.kid).filter((k): k is string => typeof k === 'string'));
    return { ok: true, keys: { resolve, kids, fetchedAtMs: this.#options.clock.now() } };
  }
}

/** GET with the clock's timeout, reading at most MAX_JWKS_BYTES; redirects are not followed. */
function get(url: URL, ca: readonly string[] | undefined, clock: Clock, timeoutMs: number): Promise<{ ok: true; text: string } | { ok: false; reason: JwksFailure; detail: string }> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (result: { ok: true; text: string } | { ok: false; reason: JwksFailure; detail: string }) => {
      if (settled) return;
      settled = true;
      cancel();
      req.destroy();
      resolve(result);
    };
    const options: https.RequestOptions = { method: 'GET', agent: false, headers: { accept: 'application/json' }, ...(ca !== undefined ? { ca: [...ca] } : {}) };
    const req = (url.protocol === 'https:' ? https : http).request(url, options, (res) => {
      const status = res.statusCode ?? 0;
      if (status < 200 || status > 299) return done({ ok: false, reason: 'JwksRequestFailed', detail: `${url.href} answered ${status}` });
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > MAX_JWKS_BYTES) return done({ ok: false, reason: 'JwksResponseTooLarge', detail: `${url.href} answered ${declared} bytes; ALB takes at most ${MAX_JWKS_BYTES}` });
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_JWKS_BYTES) return done({ ok: false, reason: 'JwksResponseTooLarge', detail: `${url.href} answered over ${MAX_JWKS_BYTES} bytes; ALB takes at most ${MAX_JWKS_BYTES}` });
        chunks.push(chunk);
      });
      res.on('end', () => done({ ok: true, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (err) => done({ ok: false, reason: 'JwksRequestFailed', detail: `${url.href}: ${err.message}` }));
    });
    const cancel = clock.setTimer(timeoutMs, () => done({ ok: false, reason: 'JwksRequestTimeout', detail: `${url.href} did not answer within ${timeoutMs} ms` }));
    req.on('error', (err: NodeJS.ErrnoException) => done({ ok: false, reason: 'JwksRequestFailed', detail: `${url.href}: ${err.code ?? err.message}` }));
    req.end();
  });
}
