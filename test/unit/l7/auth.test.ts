/**
 * The pure parts of authentication (spec 13.2.4, 13.2.6): the session cookie's shards, its
 * sealing, the request's cookies, and x-amzn-oidc-data's format, verified by node:crypto over
 * the segments as sent and by jose.
 */
import { createPublicKey, verify } from 'node:crypto';
import { importSPKI, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import {
  MAX_SHARDS,
  requestCookies,
  SessionSealer,
  sessionCookieValue,
  sessionSetCookies,
  SHARD_BYTES,
  type SessionRecord,
} from '../../../src/l7/auth/session.ts';
import { base64urlPadded, createSigningKey, userClaimsToken } from '../../../src/l7/auth/user-claims.ts';

const record: SessionRecord = { claims: { sub: 'alice', email: 'alice@example.test' }, accessToken: 'at', accessTokenExpiresAtMs: 10_000, refreshToken: 'rt', sessionExpiresAtMs: 60_000 };

describe('session cookie shards (spec 13.2.4)', () => {
  it.each([
    ['one shard, still -0', 10, 1],
    ['exactly 4000 bytes in one shard', SHARD_BYTES, 1],
    ['4001 bytes in two shards', SHARD_BYTES + 1, 2],
    ['16000 bytes in four shards', SHARD_BYTES * MAX_SHARDS, 4],
  ])('cuts %s', (_name, length, shards) => {
    const value = 'A'.repeat(length);
    const cookies = sessionSetCookies('S', value, 0, Date.UTC(2026, 0, 1), false)!;
    expect(cookies).toHaveLength(shards);
    expect(cookies.map((c) => c.split('=')[0])).toEqual(Array.from({ length: shards }, (_, i) => `S-${i}`));
    expect(cookies[0]).toMatch(/; Expires=Thu, 08 Jan 2026 00:00:00 GMT; Path=\/; Secure; HttpOnly$/);
    const jar = new Map(cookies.map((c) => [c.split('=')[0]!, c.slice(c.indexOf('=') + 1, c.indexOf(';'))]));
    expect(sessionCookieValue(jar, 'S')).toEqual({ value, shards });
  });

  it('refuses more than four shards, adds SameSite=None on CORS requests and expires shards the client holds beyond the new count', () => {
    expect(sessionSetCookies('S', 'A'.repeat(SHARD_BYTES * MAX_SHARDS + 1), 0, 0, false)).toBeUndefined();
    const cookies = sessionSetCookies('S', 'AAAA', 3, 0, true)!;
    expect(cookies[0]).toMatch(/; SameSite=None$/);
    expect(cookies.slice(1)).toEqual(['S-1=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; Secure; HttpOnly', 'S-2=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; Secure; HttpOnly']);
  });

  it.each([
    ['no shard', 'a=1', 'none'],
    ['-1 without -0', 'S-1=x', 'partial'],
    ['an empty -0', 'S-0=', 'partial'],
    ['-0 and -1, another cookie between', 'S-0=ab; other=1; S-1=cd', { value: 'abcd', shards: 2 }],
  ])('reads %s', (_name, header, expected) => {
    expect(sessionCookieValue(requestCookies(['Cookie', header]), 'S')).toEqual(expected);
  });

  it('reads every Cookie header (HTTP/2 sends several), the first of a name winning', () => {
    expect([...requestCookies(['cookie', 'a=1; b=2', 'Host', 'x', 'cookie', 'a=3; c=4'])]).toEqual([
      ['a', '1'],
      ['b', '2'],
      ['c', '4'],
    ]);
  });
});

describe('SessionSealer', () => {
  it('opens what it sealed, and nothing tampered, cut, URL-encoded or from another key', () => {
    const sealer = new SessionSealer();
    const sealed = sealer.sealSession(record);
    expect(sealed).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(sealer.openSession(sealed)).toEqual(record);
    const flipped = `${sealed.slice(0, 20)}${sealed[20] === 'A' ? 'B' : 'A'}${sealed.slice(21)}`;
    expect(sealer.openSession(flipped)).toBeUndefined();
    expect(sealer.openSession(sealed.slice(0, -8))).toBeUndefined();
    expect(sealer.openSession(encodeURIComponent(sealed))).toBe(sealed.includes('+') || sealed.includes('/') || sealed.includes('=') ? undefined : record);
    expect(new SessionSealer().openSession(sealed)).toBeUndefined();
    // A state cannot stand in for a session, nor the other way round.
    const state = sealer.sealState({ nonce: 'n', step: 0, originalPath: '/', createdMs: 1 });
    expect(sealer.openState(state)).toEqual({ nonce: 'n', step: 0, originalPath: '/', createdMs: 1 });
    expect(sealer.openSession(Buffer.from(state, 'base64url').toString('base64'))).toBeUndefined();
  });
});

describe('x-amzn-oidc-data (spec 13.2.6)', () => {
  it('is three padded base64url segments, ALB’s header fields, the claims with exp and iss, an r‖s signature over the segments as sent', async () => {
    const key = await createSigningKey();
    expect(key.kid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(key.publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----\n[\s\S]+\n-----END PUBLIC KEY-----\n?$/);
    const token = userClaimsToken(key, { iss: 'https://idp.example.test', client: 'app', signer: 'arn:aws:elasticloadbalancing:local:000000000000:loadbalancer/app/app/local', exp: 2_000_000_000 }, { sub: 'alice', name: 'Ålice' });
    const [header, payload, signature] = token.split('.') as [string, string, string];
    for (const segment of [header, payload, signature]) expect(segment.length % 4).toBe(0);
    expect(signature).toMatch(/==$/);
    expect(Buffer.from(signature, 'base64url')).toHaveLength(64);
    expect(Object.keys(JSON.parse(Buffer.from(header, 'base64url').toString()))).toEqual(['typ', 'kid', 'alg', 'iss', 'client', 'signer', 'exp']);
    expect(JSON.parse(Buffer.from(payload, 'base64url').toString())).toEqual({ sub: 'alice', name: 'Ålice', exp: 2_000_000_000, iss: 'https://idp.example.test' });
    const signed = Buffer.from(`${header}.${payload}`);
    expect(verify('sha256', signed, { key: createPublicKey(key.publicKeyPem), dsaEncoding: 'ieee-p1363' }, Buffer.from(signature, 'base64url'))).toBe(true);
    const { payload: verified } = await jwtVerify(token, await importSPKI(key.publicKeyPem, 'ES256'), { currentDate: new Date(1_900_000_000_000) });
    expect(verified.sub).toBe('alice');
  });

  it('keeps the padding base64 gives', () => {
    expect(base64urlPadded(Buffer.from([0xfb, 0xff]))).toBe('-_8=');
  });
});
