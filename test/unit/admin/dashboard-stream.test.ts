/**
 * The dashboard's stream on a virtual clock, with entities the test sets by hand: snapshot
 * then deltas, at most one delta per interval however many changes, every event of a flush in
 * order, resuming after a sequence number, a snapshot when the deltas are gone; the
 * histogram quantiles behind the p50/p99 chart; and the admin API's browser checks.
 */
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/core/clock.ts';
import { RESPONSE_TIME_BUCKETS } from '../../../src/core/metrics.ts';
import { AdminSecurity } from '../../../src/admin/dashboard/security.ts';
import { histogramQuantile } from '../../../src/admin/dashboard/series.ts';
import { DashboardStream, type Delta } from '../../../src/admin/dashboard/stream.ts';
import type { Entity } from '../../../src/admin/dashboard/entities.ts';

function world(options: { keepDeltas?: number } = {}) {
  const clock = new VirtualClock(10_000);
  const entities = new Map<string, Entity>([['target:web|a', { state: 'initial' }]]);
  let samples = 0;
  const stream = new DashboardStream({
    clock,
    read: () => new Map(entities),
    sample: () => ({ t: clock.now(), targets: { 'web|a': ++samples }, loadBalancers: {} }),
    ...options,
  });
  const deltas: Delta[] = [];
  stream.subscribe((d) => deltas.push(d));
  const set = (key: string, value: Entity | undefined) => {
    if (value === undefined) entities.delete(key);
    else entities.set(key, value);
    stream.markDirty();
  };
  return { clock, stream, deltas, set };
}

describe('DashboardStream', () => {
  it('starts from a snapshot of every entity, then sends only what changed, and deletions', async () => {
    const { clock, stream, deltas, set } = world();
    expect(stream.snapshot()).toMatchObject({ type: 'snapshot', seq: 0, nowMs: 10_000, entities: { 'target:web|a': { state: 'initial' } }, events: [] });
    set('target:web|a', { state: 'healthy' });
    set('target:web|b', { state: 'initial' });
    await clock.advance(0);
    expect(deltas).toEqual([{ type: 'delta', seq: 1, nowMs: 10_000, set: { 'target:web|a': { state: 'healthy' }, 'target:web|b': { state: 'initial' } }, del: [], events: [] }]);
    set('target:web|b', undefined);
    await clock.advance(100);
    expect(deltas[1]).toMatchObject({ seq: 2, set: {}, del: ['target:web|b'] });
    expect(stream.snapshot()).toMatchObject({ seq: 2, entities: { 'target:web|a': { state: 'healthy' } } });
  });

  it('coalesces: 50 changes inside 100 ms make one delta, carrying all 50 events in order', async () => {
    const { clock, stream, deltas, set } = world();
    set('target:web|a', { state: 'healthy' });
    await clock.advance(0);
    expect(deltas).toHaveLength(1);
    for (let i = 0; i < 50; i++) {
      stream.pushEvent({ timeMs: clock.now(), kind: 'target.state_changed', target: 'a', to: i % 2 === 0 ? 'unhealthy' : 'healthy' });
      set('target:web|a', { state: i % 2 === 0 ? 'unhealthy' : 'healthy' });
      await clock.advance(1);
    }
    expect(deltas).toHaveLength(1); // the next flush is due 100 ms after the first
    await clock.advance(100);
    expect(deltas).toHaveLength(2);
    expect(deltas[1]!.events.map((e) => e.to)).toEqual(Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? 'unhealthy' : 'healthy')));
    // It ended where it started, so no entity changed; the events still say what happened.
    expect(deltas[1]!.set).toEqual({});
  });

  it('sends nothing when nothing changed, and a sample every second rides on its own delta', async () => {
    const { clock, stream, deltas } = world();
    stream.markDirty();
    await clock.advance(500);
    expect(deltas).toEqual([]);
    await clock.advance(600);
    expect(deltas).toHaveLength(1);
    expect(deltas[0]!.sample).toEqual({ t: 11_000, targets: { 'web|a': 1 }, loadBalancers: {} });
    await clock.advance(2000);
    expect(deltas.map((d) => d.sample?.t)).toEqual([11_000, 12_000, 13_000]);
    expect(stream.snapshot().samples.map((s) => s.t)).toEqual([11_000, 12_000, 13_000]);
  });

  it('gives a reconnecting client the deltas after the last one it saw, nothing when it is current, and undefined (a snapshot) when they are gone', async () => {
    const { clock, stream, set } = world({ keepDeltas: 3 });
    for (const state of ['healthy', 'unhealthy', 'healthy', 'draining']) {
      set('target:web|a', { state });
      await clock.advance(100);
    }
    expect(stream.seq).toBe(4);
    expect(stream.since(2)!.map((d) => [d.seq, d.set['target:web|a']])).toEqual([
      [3, { state: 'healthy' }],
      [4, { state: 'draining' }],
    ]);
    expect(stream.since(4)).toEqual([]);
    expect(stream.since(1)!.map((d) => d.seq)).toEqual([2, 3, 4]);
    expect(stream.since(0)).toBeUndefined(); // delta 1 is no longer kept
    expect(stream.since(5)).toBeUndefined(); // from another run
  });

  it('keeps the history it was seeded with ahead of what happens later', async () => {
    const { clock, stream } = world();
    stream.seed([{ timeMs: 1, kind: 'pod.created', pod: 'p' }]);
    stream.pushEvent({ timeMs: clock.now(), kind: 'pod.ready', pod: 'p' });
    await clock.advance(0);
    expect(stream.snapshot().events.map((e) => e.kind)).toEqual(['pod.created', 'pod.ready']);
  });

  it('stops flushing and sampling once closed', async () => {
    const { clock, stream, deltas, set } = world();
    stream.close();
    set('target:web|a', { state: 'healthy' });
    await clock.advance(5000);
    expect(deltas).toEqual([]);
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('histogramQuantile (TargetResponseTime p50/p99)', () => {
  const counts = (pairs: Record<number, number>) => Float64Array.from({ length: RESPONSE_TIME_BUCKETS.length + 1 }, (_, i) => pairs[i] ?? 0);
  it.each([
    ['no observations', counts({}), 0.5, undefined],
    ['all in the first bucket (≤ 1 ms): interpolated from 0', counts({ 0: 10 }), 0.5, 0.0005],
    ['half ≤ 1 ms, half in 5–10 ms: p50 at the first bucket’s top', counts({ 0: 5, 2: 5 }), 0.5, 0.001],
    ['half ≤ 1 ms, half in 5–10 ms: p99 near 10 ms', counts({ 0: 5, 2: 5 }), 0.99, 0.0099],
    ['over the last bound: the highest finite bound', counts({ [RESPONSE_TIME_BUCKETS.length]: 3 }), 0.99, 60],
  ])('%s', (_name, buckets, q, expected) => {
    const got = histogramQuantile(q, buckets);
    if (expected === undefined) expect(got).toBeUndefined();
    else expect(got).toBeCloseTo(expected, 6);
  });
});

describe('AdminSecurity: the admin API and the browser', () => {
  const security = new AdminSecurity('127.0.0.1');
  const req = (method: string, headers: Record<string, string>) => ({ method, headers }) as unknown as IncomingMessage;
  const host = { host: '127.0.0.1:9090' };
  it.each([
    ['passes the CLI (no Origin, no Sec-Fetch-Site)', req('POST', host), undefined],
    ['passes a GET from anywhere (reads change nothing)', req('GET', { ...host, origin: 'http://evil.example' }), undefined],
    ['refuses a cross-site POST', req('POST', { ...host, origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' }), /another site/],
    ['refuses a POST from another origin that claims same-origin', req('POST', { ...host, origin: 'http://evil.example' }), /origin http:\/\/evil.example is refused/],
    ['refuses a same-origin POST without the token', req('POST', { ...host, origin: 'http://127.0.0.1:9090', 'sec-fetch-site': 'same-origin' }), /x-csrf-token header: got none/],
    ['refuses a same-origin DELETE with a wrong token', req('DELETE', { ...host, origin: 'http://127.0.0.1:9090', 'x-csrf-token': 'nope' }), /got a wrong one/],
    ['refuses a DNS-rebinding page (a browser naming another host) on loopback', req('POST', { host: 'evil.example:9090', origin: 'http://evil.example:9090', 'x-csrf-token': security.csrfToken }), /not a loopback address/],
    ['passes a same-origin POST with the token', req('POST', { ...host, origin: 'http://127.0.0.1:9090', 'sec-fetch-site': 'same-origin', 'x-csrf-token': security.csrfToken }), undefined],
  ])('%s', (_name, request, refused) => {
    const refusal = security.checkMutation(request);
    if (refused === undefined) expect(refusal).toBeUndefined();
    else expect(refusal).toMatchObject({ status: 403, code: 'ELB_ERR_FORBIDDEN', message: expect.stringMatching(refused) });
  });

  it('answers any Host when the admin API is exposed on purpose (0.0.0.0)', () => {
    expect(new AdminSecurity('0.0.0.0').checkHost(req('GET', { host: 'my-laptop.lan:9090' }))).toBeUndefined();
    expect(security.checkHost(req('GET', { host: 'localhost:9090' }))).toBeUndefined();
    expect(security.checkHost(req('GET', { host: '[::1]:9090' }))).toBeUndefined();
    expect(security.checkHost(req('GET', { host: 'my-laptop.lan:9090' }))).toMatchObject({ status: 403 });
  });
});
