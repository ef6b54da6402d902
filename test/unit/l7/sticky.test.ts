/**
 * ALB sticky sessions (spec 3.3, 3.4) in the pipeline, on a virtual clock with a scripted
 * upstream: the cookies ALB writes (names, attributes, opaque sealed values), the rules that
 * keep or move a binding (unhealthy, draining, gone, expired, tampered, fail-open), the
 * application cookie's AWSALBAPP-0…3, and target group stickiness on weighted forwards.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { accept } from '../../../src/l7/pipeline/accept.ts';
import { act } from '../../../src/l7/pipeline/act.ts';
import { match } from '../../../src/l7/pipeline/match.ts';
import { chromium80, CookieSealer, processSealer, requestCookies, responseCookie, setCookie } from '../../../src/l7/sticky.ts';
import { pipelineFixture, type Fixture, type FixtureOptions } from '../../support/pipeline.ts';

let fixture: Fixture;
/** The fixtures the test made (the cookie helpers' tests make none): closed after it, once each. */
const opened: Fixture[] = [];
afterEach(() => {
  for (const f of opened.splice(0)) f.close();
});
/** A pipeline fixture, as `fixture`, closed after the test. */
function openFixture(options?: FixtureOptions): Fixture {
  fixture = pipelineFixture(options);
  opened.push(fixture);
  return fixture;
}

const DAY_MS = 86_400_000;
const TARGETS = [{ id: '10.0.0.1' }, { id: '10.0.0.2' }, { id: '10.0.0.3' }];

function setup(attributes: Record<string, string>, options: Partial<FixtureOptions> = {}) {
  openFixture({ targetGroups: [{ name: 'web', protocol: 'HTTP', port: 80, attributes, targets: TARGETS }], ...options });
  return fixture.group('web');
}

/** One request through accept → match → act, answered by the target with `responseHeaders`; returns where it went and the Set-Cookie values. */
function send(cookies: Record<string, string> = {}, responseHeaders: string[] = [], extraHeaders: string[] = []) {
  const cookie = Object.entries(cookies).map(([k, v]) => `${k}=${v}`).join('; ');
  const r = fixture.request({ headers: ['Host', 'example.com', ...(cookie ? ['Cookie', cookie] : []), ...extraHeaders] });
  expect(accept(r.ctx)).toBeUndefined();
  match(r.ctx);
  act(r.ctx);
  const exchange = fixture.upstream.exchanges.at(-1)!;
  const status = r.response.head?.status;
  if (status === undefined) {
    exchange.head(200, ['Content-Length', '0', ...responseHeaders]);
    exchange.handler.onEnd();
  }
  const headers = r.response.head!.headers;
  const setCookies: string[] = [];
  for (let i = 0; i < headers.length; i += 2) if (headers[i] === 'Set-Cookie') setCookies.push(headers[i + 1]!);
  const jar: Record<string, string> = {};
  for (const c of setCookies) {
    const [pair] = c.split(';');
    const eq = pair!.indexOf('=');
    jar[pair!.slice(0, eq)] = pair!.slice(eq + 1);
  }
  return { target: status === undefined ? exchange.target.key : undefined, status: r.response.head!.status, setCookies, jar };
}

/** A browser-like sequence: each response's cookies go into the next request. */
function browse(n: number, jar: Record<string, string> = {}) {
  const targets: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = send(jar);
    for (const [k, v] of Object.entries(r.jar)) {
      if (v === '_remove_') delete jar[k];
      else jar[k] = v;
    }
    targets.push(r.target!);
  }
  return { targets, jar };
}

describe('duration-based stickiness: the AWSALB and AWSALBCORS cookies (spec 3.3)', () => {
  it('writes both cookies on every response, with Expires 7 days out and Path=/; the CORS one SameSite=None; Secure', () => {
    setup({ 'stickiness.enabled': 'true' });
    const now = fixture.clock.now();
    const { setCookies, jar } = send();
    const expires = new Date(now + 7 * DAY_MS).toUTCString();
    expect(setCookies).toEqual([`AWSALB=${jar.AWSALB}; Expires=${expires}; Path=/`, `AWSALBCORS=${jar.AWSALB}; Expires=${expires}; Path=/; SameSite=None; Secure`]);
    expect(setCookies.join()).not.toMatch(/Max-Age/i);
  });

  it('writes an opaque value: not the target, not the same twice, and not opened by another key', () => {
    setup({ 'stickiness.enabled': 'true' });
    const a = send().jar.AWSALB!;
    const b = send().jar.AWSALB!;
    expect(a).toMatch(/^[A-Za-z0-9+/]+=*$/);
    for (const v of [a, b]) {
      expect(v).not.toContain('10.0.0');
      expect(Buffer.from(v, 'base64').toString('latin1')).not.toContain('10.0.0');
    }
    expect(a).not.toBe(b);
    expect(new CookieSealer().open('AWSALB', a)).toBeUndefined();
    expect(processSealer.open('AWSALB', a)).toMatchObject({ group: 'web' });
    expect(processSealer.open('AWSALBTG', a)).toBeUndefined();
  });

  it('keeps a browser on one target over 200 requests', () => {
    setup({ 'stickiness.enabled': 'true' });
    const { targets } = browse(200);
    expect(new Set(targets).size).toBe(1);
  });

  it('spreads new clients by the algorithm', () => {
    setup({ 'stickiness.enabled': 'true' });
    const firsts = new Set(Array.from({ length: 6 }, () => send().target));
    expect(firsts.size).toBe(3);
  });

  it.each<[string, (tg: ReturnType<typeof setup>, key: string) => Promise<unknown> | unknown]>([
    ['draining', (tg, key) => void tg.deregister([{ id: key.split(':')[0]!, port: 80 }])],
    ['gone (deregistered, its delay over)', async (tg, key) => {
      void tg.deregister([{ id: key.split(':')[0]!, port: 80 }]);
      await fixture.clock.advance(300_000);
    }],
  ])('starts a new binding when the bound target is %s, and keeps the new one', async (_state, change) => {
    const tg = setup({ 'stickiness.enabled': 'true' });
    const { targets, jar } = browse(3);
    await change(tg, targets[0]!);
    const after = browse(20, jar).targets;
    expect(after[0]).not.toBe(targets[0]);
    expect(new Set(after).size).toBe(1);
  });

  it('ends the binding after stickiness.lb_cookie.duration_seconds, counted from its start, on the listener clock', () => {
    setup({ 'stickiness.enabled': 'true', 'stickiness.lb_cookie.duration_seconds': '60' });
    const { jar } = browse(1);
    const binding = processSealer.open('AWSALB', jar.AWSALB)!;
    fixture.clock.advanceSync(59_000);
    browse(1, jar);
    // Written again, the binding keeps its end.
    expect(processSealer.open('AWSALB', jar.AWSALB)!.untilMs).toBe(binding.untilMs);
    fixture.clock.advanceSync(1_000);
    const next = send(jar);
    expect(processSealer.open('AWSALB', next.jar.AWSALB)!.untilMs).toBe(fixture.clock.now() + 60_000);
  });

  it('a binding past its end is not honoured: the client is chosen for by the algorithm again', () => {
    setup({ 'stickiness.enabled': 'true', 'stickiness.lb_cookie.duration_seconds': '1' });
    const { targets, jar } = browse(1);
    fixture.clock.advanceSync(1_000);
    // Round robin moves on: three fresh choices cannot all be the first target.
    const later = [send(jar).target, send(jar).target, send(jar).target];
    expect(later.every((t) => t === targets[0])).toBe(false);
  });

  it.each([
    ['a tampered value', (v: string) => `${v.slice(0, -4)}AAAA`],
    ['a URL-encoded value (spec 3.3: not supported)', (v: string) => encodeURIComponent(v)],
    ['a value sealed by another process', () => new CookieSealer().seal('AWSALB', { group: 'web', target: '10.0.0.1:80', untilMs: Number.MAX_SAFE_INTEGER })],
    ['another group’s binding', () => processSealer.seal('AWSALB', { group: 'other', target: '10.0.0.1:80', untilMs: Number.MAX_SAFE_INTEGER })],
  ])('treats %s as no cookie and writes a fresh one', (_case, spoil) => {
    setup({ 'stickiness.enabled': 'true' });
    const first = send();
    const r = send({ AWSALB: spoil(first.jar.AWSALB!) });
    expect(processSealer.open('AWSALB', r.jar.AWSALB)).toMatchObject({ target: r.target });
  });

  it('honours AWSALBCORS alone (a cross-site request that carried only the SameSite=None cookie)', () => {
    setup({ 'stickiness.enabled': 'true' });
    const first = send();
    for (let i = 0; i < 5; i++) expect(send({ AWSALBCORS: first.jar.AWSALBCORS! }).target).toBe(first.target);
  });

  it('bypasses least outstanding requests for bound clients', () => {
    setup({ 'stickiness.enabled': 'true', 'load_balancing.algorithm.type': 'least_outstanding_requests' });
    const { jar, targets } = browse(1);
    // Keep the bound target busy: new clients avoid it, the bound client does not.
    const busy: ReturnType<typeof fixture.request>[] = [];
    for (let i = 0; i < 3; i++) {
      const r = fixture.request({ headers: ['Host', 'example.com', 'Cookie', `AWSALB=${jar.AWSALB}`] });
      accept(r.ctx);
      match(r.ctx);
      act(r.ctx);
      busy.push(r);
    }
    expect(busy.map((r) => r.ctx.lease!.target.key)).toEqual([targets[0], targets[0], targets[0]]);
    expect(send().target).not.toBe(targets[0]);
  });
});

describe('application-based stickiness: AWSALBAPP-0…3 follow the application cookie (spec 3.3)', () => {
  const APP = { 'stickiness.enabled': 'true', 'stickiness.type': 'app_cookie', 'stickiness.app_cookie.cookie_name': 'SESSIONID', 'stickiness.app_cookie.duration_seconds': '120' };

  it('writes nothing until the target sets the application cookie', () => {
    setup(APP);
    expect(send().setCookies).toEqual([]);
  });

  it('binds the client to the target that set the cookie: AWSALBAPP-0 sealed, -1…3 _remove_, the app cookie passed on as set', () => {
    setup(APP);
    const now = fixture.clock.now();
    const r = send({}, ['Set-Cookie', 'SESSIONID=abc123; Path=/; HttpOnly']);
    const expires = new Date(now + 7 * DAY_MS).toUTCString();
    expect(r.setCookies).toEqual([
      'SESSIONID=abc123; Path=/; HttpOnly',
      `AWSALBAPP-0=${r.jar['AWSALBAPP-0']}; Expires=${expires}; Path=/`,
      `AWSALBAPP-1=_remove_; Expires=${expires}; Path=/`,
      `AWSALBAPP-2=_remove_; Expires=${expires}; Path=/`,
      `AWSALBAPP-3=_remove_; Expires=${expires}; Path=/`,
    ]);
    expect(processSealer.open('AWSALBAPP', r.jar['AWSALBAPP-0'])).toEqual({ group: 'web', target: r.target, untilMs: now + 120_000 });
  });

  it('keeps a client that carries the application cookie on its target, and slides the binding on each response', () => {
    setup(APP);
    const first = send({}, ['Set-Cookie', 'SESSIONID=abc']);
    const jar = { SESSIONID: 'abc', 'AWSALBAPP-0': first.jar['AWSALBAPP-0']! };
    for (let i = 0; i < 10; i++) {
      fixture.clock.advanceSync(100_000);
      const r = send(jar);
      expect(r.target).toBe(first.target);
      jar['AWSALBAPP-0'] = r.jar['AWSALBAPP-0']!;
      expect(processSealer.open('AWSALBAPP', jar['AWSALBAPP-0'])!.untilMs).toBe(fixture.clock.now() + 120_000);
    }
  });

  it('is not sticky without the application cookie, even with AWSALBAPP-0', () => {
    setup(APP);
    const first = send({}, ['Set-Cookie', 'SESSIONID=abc']);
    const targets = new Set(Array.from({ length: 6 }, () => send({ 'AWSALBAPP-0': first.jar['AWSALBAPP-0']! }).target));
    expect(targets.size).toBeGreaterThan(1);
  });

  it('ends the binding after duration_seconds without a response', () => {
    setup(APP);
    const first = send({}, ['Set-Cookie', 'SESSIONID=abc']);
    fixture.clock.advanceSync(120_000);
    const later = Array.from({ length: 3 }, () => send({ SESSIONID: 'abc', 'AWSALBAPP-0': first.jar['AWSALBAPP-0']! }).target);
    expect(later.every((t) => t === first.target)).toBe(false);
  });

  it('moves the session to a new target when its target drains, and rebinds it there', () => {
    const tg = setup(APP);
    const first = send({}, ['Set-Cookie', 'SESSIONID=abc']);
    void tg.deregister([{ id: first.target!.split(':')[0]!, port: 80 }]);
    const moved = send({ SESSIONID: 'abc', 'AWSALBAPP-0': first.jar['AWSALBAPP-0']! });
    expect(moved.target).not.toBe(first.target);
    expect(processSealer.open('AWSALBAPP', moved.jar['AWSALBAPP-0'])!.target).toBe(moved.target);
  });

  it('expires AWSALBAPP-0…3 when the target deletes the application cookie', () => {
    setup(APP);
    const r = send({ SESSIONID: 'abc' }, ['Set-Cookie', 'SESSIONID=; Max-Age=0; Path=/']);
    expect(r.setCookies.slice(1)).toEqual([0, 1, 2, 3].map((i) => `AWSALBAPP-${i}=_remove_; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/`));
  });

  it('adds SameSite=None; Secure for Chromium 80 and later only', () => {
    setup(APP);
    const chrome = send({}, ['Set-Cookie', 'SESSIONID=abc'], ['User-Agent', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36']);
    expect(chrome.setCookies[1]).toMatch(/; Path=\/; SameSite=None; Secure$/);
    const firefox = send({}, ['Set-Cookie', 'SESSIONID=abc'], ['User-Agent', 'Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0']);
    expect(firefox.setCookies[1]).toMatch(/; Path=\/$/);
  });
});

describe('target group stickiness on weighted forwards: AWSALBTG (spec 3.4)', () => {
  function weighted(stickiness: { enabled: boolean; durationSeconds?: number } | undefined, attributes: Record<string, string> = {}) {
    openFixture({
      targetGroups: [
        { name: 'blue', protocol: 'HTTP', port: 80, attributes, targets: [{ id: '10.0.1.1' }, { id: '10.0.1.2' }] },
        { name: 'green', protocol: 'HTTP', port: 80, attributes, targets: [{ id: '10.0.2.1' }, { id: '10.0.2.2' }] },
      ],
      listener: {
        defaultActions: [
          {
            type: 'forward',
            forwardConfig: { targetGroups: [{ targetGroupName: 'blue', weight: 50 }, { targetGroupName: 'green', weight: 50 }], ...(stickiness ? { targetGroupStickinessConfig: stickiness } : {}) },
          },
        ],
      },
    });
  }
  const groupOf = (target: string) => (target.startsWith('10.0.1.') ? 'blue' : 'green');

  it('without group stickiness, one client is spread over both groups', () => {
    weighted(undefined);
    expect(new Set(browse(40).targets.map(groupOf)).size).toBe(2);
  });

  it('writes AWSALBTG and AWSALBTGCORS, and keeps a client on one group', () => {
    weighted({ enabled: true, durationSeconds: 300 });
    const first = send();
    expect(first.setCookies).toEqual([
      expect.stringMatching(/^AWSALBTG=[A-Za-z0-9+/]+=*; Expires=.+ GMT; Path=\/$/),
      expect.stringMatching(/^AWSALBTGCORS=[A-Za-z0-9+/]+=*; Expires=.+ GMT; Path=\/; SameSite=None; Secure$/),
    ]);
    const { targets } = browse(100, { AWSALBTG: first.jar.AWSALBTG! });
    expect(new Set(targets.map(groupOf))).toEqual(new Set([groupOf(first.target!)]));
    // Within the group, without target stickiness, round robin goes on.
    expect(new Set(targets).size).toBe(2);
  });

  it('with target stickiness in the groups too, keeps the client on one group and one target', () => {
    weighted({ enabled: true, durationSeconds: 300 }, { 'stickiness.enabled': 'true' });
    const { targets, jar } = browse(100);
    expect(new Set(targets).size).toBe(1);
    expect(Object.keys(jar).sort()).toEqual(['AWSALB', 'AWSALBCORS', 'AWSALBTG', 'AWSALBTGCORS']);
  });

  it('keeps the client on its group even when that group has no target to offer (503): stickiness comes before the weights', () => {
    weighted({ enabled: true, durationSeconds: 300 });
    const first = send();
    const group = fixture.group(groupOf(first.target!));
    void group.deregister(group.targets().map((t) => ({ id: t.id, port: t.port })));
    expect(send({ AWSALBTG: first.jar.AWSALBTG! }).status).toBe(503);
  });

  it('draws by weight again once durationSeconds has passed', () => {
    weighted({ enabled: true, durationSeconds: 10 });
    const first = send();
    fixture.clock.advanceSync(10_000);
    const groups = new Set(Array.from({ length: 30 }, () => groupOf(send({ AWSALBTG: first.jar.AWSALBTG! }).target!)));
    expect(groups.size).toBe(2);
  });

  it('does not apply application-based stickiness in a weighted forward (spec 3.3)', () => {
    weighted({ enabled: true, durationSeconds: 300 }, { 'stickiness.enabled': 'true', 'stickiness.type': 'app_cookie', 'stickiness.app_cookie.cookie_name': 'SESSIONID' });
    const r = send({}, ['Set-Cookie', 'SESSIONID=abc']);
    expect(Object.keys(r.jar).sort()).toEqual(['AWSALBTG', 'AWSALBTGCORS', 'SESSIONID']);
  });
});

describe('cookie helpers', () => {
  it('reads every Cookie header, first of a name winning (HTTP/2 splits them)', () => {
    expect([...requestCookies(['cookie', 'a=1; b=2', 'Host', 'x', 'Cookie', 'a=3;c=4=5; bare'])]).toEqual([
      ['a', '1'],
      ['b', '2'],
      ['c', '4=5'],
    ]);
  });

  it.each<[string, string[], 'set' | 'deleted' | undefined]>([
    ['set', ['Set-Cookie', 'SESSIONID=abc; Path=/'], 'set'],
    ['another cookie', ['Set-Cookie', 'OTHER=abc'], undefined],
    ['a prefix of the name', ['Set-Cookie', 'SESSIONIDX=abc'], undefined],
    ['Max-Age=0', ['Set-Cookie', 'SESSIONID=; Max-Age=0'], 'deleted'],
    ['Max-Age=-1', ['set-cookie', 'SESSIONID=x; max-age=-1'], 'deleted'],
    ['Expires in the past', ['Set-Cookie', 'SESSIONID=; Expires=Thu, 01 Jan 1970 00:00:00 GMT'], 'deleted'],
    ['Expires in the future', ['Set-Cookie', 'SESSIONID=a; Expires=Fri, 01 Jan 2100 00:00:00 GMT'], 'set'],
  ])('responseCookie: %s', (_case, headers, expected) => {
    expect(responseCookie(headers, 'SESSIONID', Date.UTC(2026, 0, 1))).toBe(expected);
  });

  it.each([
    ['Chrome/79.0.3945.130', false],
    ['Chrome/80.0.3987.87', true],
    ['CriOS/120.0.6099.119', true],
    ['Firefox/120.0', false],
  ])('chromium80: %s → %s', (agent, expected) => {
    expect(chromium80(['User-Agent', `Mozilla/5.0 ${agent}`])).toBe(expected);
  });

  it('seals a binding again to the value it got (a returning client costs a lookup) and a new binding to a new value', () => {
    const sealer = new CookieSealer();
    const binding = { group: 'web', target: '10.0.0.1:80', untilMs: 1_000 };
    const v = sealer.seal('AWSALB', binding);
    expect(sealer.seal('AWSALB', { ...binding })).toBe(v);
    expect(sealer.seal('AWSALB', { ...binding, untilMs: 1_001 })).not.toBe(v);
    expect(sealer.seal('AWSALBTG', binding)).not.toBe(v);
    expect(sealer.open('AWSALB', v)).toEqual(binding);
    expect(sealer.open('AWSALBTG', v)).toBeUndefined();
    expect(sealer.open('AWSALB', v)).toEqual(binding);
  });

  it('formats Expires in IMF-fixdate, never Max-Age', () => {
    expect(setCookie('AWSALB', 'v', Date.UTC(2026, 11, 1, 12), true)).toBe('AWSALB=v; Expires=Tue, 08 Dec 2026 12:00:00 GMT; Path=/; SameSite=None; Secure');
  });
});
