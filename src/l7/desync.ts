/**
 * Desync mitigation (spec 13.1, 7.3; access log fields 28–29, spec 8.1): every HTTP/1.x request
 * is classified Compliant, Acceptable, Ambiguous or Severe with AWS's reason, by the rules of
 * AWS's http_desync_guardian, the library ALB runs (its analyzer and test suite were read for
 * their facts; this is its own TypeScript). `routing.http.desync_mitigation_mode` then says what
 * the load balancer does with each tier (`desyncAction`).
 *
 * A pure function of the request line and headers as received, each string holding the bytes
 * as latin1 characters (what llhttp and the head reader hand over). The accept stage calls it
 * once per HTTP/1.x request; HTTP/2 requests are not classified (spec 13.1.6).
 */
import type { ApplicationLoadBalancerSettings } from '../config/settings.ts';

/** The request's tier, lowest first (spec 13.1.1). */
export type DesyncTier = 'Compliant' | 'Acceptable' | 'Ambiguous' | 'Severe';

/** Access log field 29 (spec 8.1, 13.1.4): AWS's reason strings; `Compliant` is logged as `-`. */
export type DesyncReason =
  | 'Compliant'
  | 'NonCompliantHeader'
  | 'SpaceInUri'
  | 'NonCompliantVersion'
  | 'GetHeadZeroContentLength'
  | 'EmptyHeader'
  | 'AmbiguousUri'
  | 'UndefinedContentLengthSemantics'
  | 'UndefinedTransferEncodingSemantics'
  | 'DuplicateContentLength'
  | 'BothTeClPresent'
  | 'SuspiciousHeader'
  | 'BadHeader'
  | 'BadUri'
  | 'BadVersion'
  | 'MultipleContentLength'
  | 'BadContentLength'
  | 'MultipleTransferEncodingChunked'
  | 'BadTransferEncoding'
  | 'BadMethod';

/** One header's tier (the library's `HeaderSafetyTier`): `Bad` headers must not be forwarded as they are. */
export type HeaderTier = 'Compliant' | 'NonCompliant' | 'Bad';

export interface DesyncClassification {
  readonly tier: DesyncTier;
  readonly reason: DesyncReason;
}

/** `routing.http.desync_mitigation_mode` (spec 4.6, 13.1.1). */
export type DesyncMitigationMode = ApplicationLoadBalancerSettings['desyncMitigationMode'];

/** What the load balancer does with a request of a tier: forward it, forward it and then close both connections, or answer 400 and close. */
export type DesyncAction = 'forward' | 'forward-then-close' | 'block';

export const COMPLIANT: DesyncClassification = Object.freeze({ tier: 'Compliant', reason: 'Compliant' });

/** The mode table of spec 13.1.1. */
export function desyncAction(mode: DesyncMitigationMode, tier: DesyncTier): DesyncAction {
  if (tier === 'Compliant' || mode === 'monitor') return 'forward';
  if (mode === 'strictest') return 'block';
  if (tier === 'Severe') return 'block';
  return tier === 'Ambiguous' ? 'forward-then-close' : 'forward';
}

const RANK: Readonly<Record<DesyncTier, number>> = { Compliant: 0, Acceptable: 1, Ambiguous: 2, Severe: 3 };
const HEADER_RANK: Readonly<Record<HeaderTier, number>> = { Compliant: 0, NonCompliant: 1, Bad: 2 };

// Character classes (spec 13.1.3), by byte.
const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) TCHAR[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TCHAR[c] = TCHAR[c + 0x20] = 1;

/** CR, LF, NUL: never valid anywhere in a head. */
const isBad = (c: number) => c === 0x0d || c === 0x0a || c === 0x00;
/** Valid in a header value: VCHAR, SP, HTAB and obs-text. */
const isValueChar = (c: number) => (c >= 0x20 && c !== 0x7f) || c === 0x09;
/** Valid in a URI: above SP, but not DEL (raw bytes 0x80–0xFF are accepted). */
const isUriChar = (c: number) => c > 0x20 && c !== 0x7f;
const isWhitespace = (c: number) => c === 0x20 || c === 0x09;
const isAlphanumeric = (c: number) => (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a);

/** Trims SP and HTAB (only those) from both ends. */
function trimWhitespace(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && isWhitespace(s.charCodeAt(start))) start++;
  while (end > start && isWhitespace(s.charCodeAt(end - 1))) end--;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}

/** The common case, checked natively first: a name of tchars only, a value without CTLs. */
const TOKEN_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const VALUE_CTL = /[\x00-\x08\x0a-\x1f\x7f]/;

function nameTier(name: string): HeaderTier {
  if (TOKEN_NAME.test(name)) return 'Compliant';
  let tier: HeaderTier = 'Compliant';
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (TCHAR[c] === 1) continue;
    if (isBad(c)) return 'Bad';
    tier = 'NonCompliant';
  }
  return tier;
}

function valueTier(value: string): HeaderTier {
  if (!VALUE_CTL.test(value)) return 'Compliant';
  let tier: HeaderTier = 'Compliant';
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (isValueChar(c)) continue;
    if (isBad(c)) return 'Bad';
    tier = 'NonCompliant';
  }
  return tier;
}

/** How close a name is to a framing header's: the same, a look-alike, or another header. */
const Similarity = { Identical: 0, SameLetters: 1, Distant: 2 } as const;
type Similarity = (typeof Similarity)[keyof typeof Similarity];

const TE = 'transfer-encoding';
const CL = 'content-length';

function nextAlphanumeric(s: string, from: number): number {
  let i = from;
  while (i < s.length && !isAlphanumeric(s.charCodeAt(i))) i++;
  return i;
}

/** After a letter: skips bytes up to and including SP (CTLs, spaces). */
function nextHeaderSymbol(s: string, from: number): number {
  let i = from;
  while (i < s.length && s.charCodeAt(i) <= 0x20) i++;
  return i;
}

/**
 * Whether header byte(s) at `i` spell the target's letter `c`: case-insensitively, or as the
 * UTF-8 letters U+017F `ſ` (C5 BF) for `s` and U+0131 `ı` (C4 B1) for `i`, which upper-case to
 * ASCII. Returns the index after them, or -1.
 */
function sameLetter(c: number, name: string, i: number): number {
  const h = name.charCodeAt(i);
  const lower = h >= 0x41 && h <= 0x5a ? h + 0x20 : h;
  if (lower === c) return i + 1;
  if (i + 1 < name.length) {
    const next = name.charCodeAt(i + 1);
    if ((c === 0x73 && h === 0xc5 && next === 0xbf) || (c === 0x69 && h === 0xc4 && next === 0xb1)) return i + 2;
  }
  return -1;
}

/**
 * How close a header name is to `transfer-encoding` or `content-length` (spec 13.1.5): the
 * same name (case aside), a look-alike made of the same letters with other delimiters, spaces,
 * control bytes or Unicode around them (`SuspiciousHeader`), or another header.
 */
function similarity(target: string, name: string): Similarity {
  if (name.length < target.length) return Similarity.Distant;
  let i = nextAlphanumeric(name, 0);
  let identical = i === 0 && name.length === target.length;
  for (let t = 0; t < target.length; t++) {
    if (i === name.length) return Similarity.Distant;
    const c = target.charCodeAt(t);
    const delimiter = c === 0x2d;
    const after = sameLetter(c, name, i);
    if (after < 0) {
      if (!delimiter) break;
      identical = false;
    }
    const next = after < 0 ? i + 1 : after;
    i = delimiter ? nextAlphanumeric(name, next) : nextHeaderSymbol(name, next);
  }
  const exhausted = i === name.length;
  if (exhausted && identical) return Similarity.Identical;
  if (exhausted || nextAlphanumeric(name, i) === name.length) return Similarity.SameLetters;
  return Similarity.Distant;
}

const VALID_CODINGS = new Set(['chunked', 'compress', 'deflate', 'gzip', 'identity']);

/** A Transfer-Encoding list item as the library reads it: trimmed, without `;parameters`, lower case; undefined when not a known coding. */
function transferCoding(item: string): string | undefined {
  const trimmed = trimWhitespace(item);
  const semicolon = trimmed.indexOf(';');
  const coding = trimWhitespace(semicolon < 0 ? trimmed : trimmed.slice(0, semicolon)).toLowerCase();
  return VALID_CODINGS.has(coding) ? coding : undefined;
}

const U64_MAX = '18446744073709551615';

/** A Content-Length value as the library reads it: trimmed ASCII digits up to 2⁶⁴−1, as a canonical digit string ('' is 0); undefined when unreadable. */
function contentLengthValue(value: string): string | undefined {
  const trimmed = trimWhitespace(value);
  let first = 0;
  for (let i = 0; i < trimmed.length; i++) {
    const c = trimmed.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return undefined;
  }
  while (first < trimmed.length && trimmed.charCodeAt(first) === 0x30) first++;
  const digits = trimmed.slice(first);
  if (digits.length > U64_MAX.length || (digits.length === U64_MAX.length && digits > U64_MAX)) return undefined;
  return digits === '' ? '0' : digits;
}

const HTTP_2 = 'HTTP/2';
const HTTP_1_0 = 'HTTP/1.0';
const HTTP_0_9 = 'HTTP/0.9';

/** The running verdict: a tier is raised only to a strictly higher one, so the reason is the first found at the final tier. */
class Verdict {
  rank = 0;
  tier: DesyncTier = 'Compliant';
  reason: DesyncReason = 'Compliant';

  raise(tier: DesyncTier, reason: DesyncReason): void {
    const rank = RANK[tier];
    if (rank <= this.rank) return;
    this.rank = rank;
    this.tier = tier;
    this.reason = reason;
  }
}

/**
 * Classifies one HTTP/1.x request (spec 13.1.2): headers in the order received (characters,
 * then empty names, then look-alikes of Transfer-Encoding and Content-Length), then the HTTP/1.0
 * framing checks, the Transfer-Encoding and Content-Length values, GET/HEAD bodies, both
 * present, the method, the version and the URI. `version` is the request line's version as
 * received (`''` when missing: HTTP/0.9); `headers` is `[name, value, …]` with values trimmed
 * or not (the checks trim). When `headerTiers` is given it receives each header's final tier.
 */
export function classifyRequest(method: string, uri: string, version: string, headers: readonly string[], headerTiers?: HeaderTier[]): DesyncClassification {
  return classify(method, uri, version, headers, headerTiers, true);
}

/**
 * `classifyRequest` for a request llhttp parsed with its strict defaults, which refuse every
 * character the character checks would raise (a header name that is not a token, a control
 * byte in a value, a method it does not know, a space, control byte or raw byte ≥ 0x80 in the
 * URI, a version other than 0.9, 1.0, 1.1 and 2.0: pinned by test/unit/l7/http1/llhttp.test.ts),
 * so only the checks that llhttp lets through run: look-alike names, framing, the version. The
 * request path pays for these only (spec 13.1.2's order is kept).
 */
export function classifyParsedRequest(method: string, uri: string, version: string, headers: readonly string[]): DesyncClassification {
  return classify(method, uri, version, headers, undefined, false);
}

function classify(method: string, uri: string, version: string, headers: readonly string[], headerTiers: HeaderTier[] | undefined, checkCharacters: boolean): DesyncClassification {
  // HTTP/2 and later are out of the library's scope (a byte-wise comparison, as it makes). It
  // would skip `http/1.1` too (those bytes sort above `HTTP/2`); the emulator classifies such a
  // version, so it is a BadVersion (spec 13.1.4's note).
  if (version >= HTTP_2 && version.startsWith('HTTP/')) return COMPLIANT;
  const v = new Verdict();
  // Each header's tier is kept only when asked for, or once a framing header needs marking.
  const tiers: HeaderTier[] | undefined = headerTiers;
  if (tiers !== undefined) tiers.length = 0;
  const effectiveVersion = trimWhitespace(version) === '' ? HTTP_0_9 : version;
  let te: number[] | undefined;
  let cl: number[] | undefined;

  for (let h = 0; h < headers.length; h += 2) {
    const name = headers[h]!;
    const value = headers[h + 1]!;
    const teSimilarity = name.length >= TE.length ? similarity(TE, name) : Similarity.Distant;
    const clSimilarity = teSimilarity === Similarity.Distant && name.length >= CL.length ? similarity(CL, name) : Similarity.Distant;
    const essential = teSimilarity === Similarity.Identical || clSimilarity === Similarity.Identical;
    let tier: HeaderTier = 'Compliant';
    if (checkCharacters) {
      const nt = nameTier(name);
      const vt = valueTier(value);
      tier = HEADER_RANK[nt] > HEADER_RANK[vt] ? nt : vt;
    }
    if (tier === 'Bad') v.raise('Severe', 'BadHeader');
    else if (tier === 'NonCompliant') v.raise('Acceptable', 'NonCompliantHeader');
    const trimmedName = trimWhitespace(name);
    if (trimmedName === '' || trimmedName.charCodeAt(0) === 0x3a) {
      tier = 'Bad';
      v.raise('Ambiguous', 'EmptyHeader');
    } else if (!essential && tier !== 'Bad') {
      if (teSimilarity === Similarity.SameLetters) (te ??= []).push(h);
      else if (clSimilarity === Similarity.SameLetters) (cl ??= []).push(h);
      if (teSimilarity === Similarity.SameLetters || clSimilarity === Similarity.SameLetters) {
        tier = 'NonCompliant';
        v.raise('Ambiguous', 'SuspiciousHeader');
      }
    } else if (teSimilarity === Similarity.Identical) (te ??= []).push(h);
    else if (clSimilarity === Similarity.Identical) (cl ??= []).push(h);
    tiers?.push(tier);
  }

  if (te !== undefined || cl !== undefined) checkFraming(v, method, effectiveVersion, headers, te ?? [], cl ?? [], tiers ?? []);

  if (checkCharacters) {
    for (let i = 0; i < method.length; i++) {
      if (TCHAR[method.charCodeAt(i)] !== 1) {
        v.raise('Severe', 'BadMethod');
        break;
      }
    }
  }

  checkVersion(v, effectiveVersion);

  for (let i = 0; checkCharacters && i < uri.length; i++) {
    const c = uri.charCodeAt(i);
    if (isUriChar(c)) continue;
    if (isBad(c)) {
      v.raise('Severe', 'BadUri');
      break;
    }
    if (c === 0x20) v.raise('Acceptable', 'SpaceInUri');
    else v.raise('Ambiguous', 'AmbiguousUri');
  }

  return v.rank === 0 ? COMPLIANT : { tier: v.tier, reason: v.reason };
}

/** Raises `tiers[i / 2]` of every listed header to at least `tier`. */
function mark(tiers: HeaderTier[], indexes: readonly number[], tier: HeaderTier): void {
  for (const h of indexes) if (HEADER_RANK[tiers[h / 2]!] < HEADER_RANK[tier]) tiers[h / 2] = tier;
}

/** Message-body framing checks (spec 13.1.4): HTTP/1.0 and older, Transfer-Encoding, Content-Length, GET/HEAD, both present. */
function checkFraming(v: Verdict, method: string, version: string, headers: readonly string[], te: readonly number[], cl: readonly number[], tiers: HeaderTier[]): void {
  if (version <= HTTP_1_0 && te.length > 0) {
    v.raise('Ambiguous', 'UndefinedTransferEncodingSemantics');
    mark(tiers, te, 'NonCompliant');
    mark(tiers, cl, 'Bad');
    return;
  }
  if (version < HTTP_1_0 && cl.length > 0) {
    v.raise('Ambiguous', 'UndefinedContentLengthSemantics');
    mark(tiers, cl, 'NonCompliant');
    return;
  }

  // Transfer-Encoding: every item a known coding; `chunked` never right after `chunked`.
  let chunkedBefore = false;
  let teAllBad = false;
  for (const h of te) {
    for (const item of headers[h + 1]!.split(',')) {
      const coding = transferCoding(item);
      if (coding === undefined) {
        tiers[h / 2] = 'Bad';
        v.raise('Severe', 'BadTransferEncoding');
        continue;
      }
      const chunked = coding === 'chunked';
      if (chunkedBefore && chunked) {
        teAllBad = true;
        tiers[h / 2] = 'Bad';
        v.raise('Severe', 'MultipleTransferEncodingChunked');
      }
      chunkedBefore = chunked;
    }
  }
  if (teAllBad) mark(tiers, te, 'Bad');
  const hasTe = te.length > 0;

  // Content-Length: readable, and one value however many headers carry it.
  let length: string | undefined;
  let clAllBad = false;
  for (const h of cl) {
    const value = contentLengthValue(headers[h + 1]!);
    if (value === undefined) {
      clAllBad = true;
      v.raise('Severe', 'BadContentLength');
    } else if (length === undefined) length = value;
    else if (length !== value) {
      clAllBad = true;
      v.raise('Severe', 'MultipleContentLength');
    } else {
      tiers[h / 2] = 'Bad';
      v.raise('Ambiguous', 'DuplicateContentLength');
    }
  }
  if (clAllBad) mark(tiers, cl, 'Bad');

  // A body on GET or HEAD has no defined meaning (exact, case-sensitive method names).
  if (method === 'GET' || method === 'HEAD') {
    if (hasTe) {
      v.raise('Ambiguous', 'UndefinedTransferEncodingSemantics');
      mark(tiers, te, 'NonCompliant');
    }
    if (length !== undefined) {
      if (length === '0') v.raise('Acceptable', 'GetHeadZeroContentLength');
      else v.raise('Ambiguous', 'UndefinedContentLengthSemantics');
      mark(tiers, cl, 'NonCompliant');
    }
  }

  if (length !== undefined && hasTe) {
    mark(tiers, cl, 'Bad');
    v.raise('Ambiguous', 'BothTeClPresent');
  }
}

function checkVersion(v: Verdict, version: string): void {
  const trimmed = trimWhitespace(version);
  if (trimmed === HTTP_0_9) {
    v.raise('Acceptable', 'NonCompliantVersion');
    return;
  }
  const minor = trimmed.charCodeAt(7);
  const valid = trimmed.length === 8 && trimmed.startsWith('HTTP/1.') && minor >= 0x30 && minor <= 0x39;
  if (!valid) v.raise('Severe', 'BadVersion');
  else if (trimmed.length !== version.length || minor > 0x31) v.raise('Acceptable', 'NonCompliantVersion');
}
