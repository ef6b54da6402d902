/**
 * ResilientInformer's retries on a virtual clock, with scripted informers standing in for the
 * client's: the backoff doubles from 0.5 s to 30 s, goes back only after an attempt worked (a
 * watch event, or 30 s up after its list; never the client's `connect`), and the cause of a
 * failure is logged at warn once per change.
 */
import type { KubernetesListObject, KubernetesObject } from '@kubernetes/client-node';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/core/clock.ts';
import { ResilientInformer, watchFailureCause, type InformerLike } from '../../../src/k8s/informer.ts';

type Obj = KubernetesObject;
type Verb = 'add' | 'update' | 'delete' | 'connect' | 'error';

/** What one attempt does: fail its list, or list these objects and then fail, deliver an event, or stay up. */
type Attempt = { listFails: unknown } | { items: Obj[]; then: { error: unknown } | 'stay' };

class ScriptedInformer implements InformerLike<Obj> {
  readonly #handlers = new Map<Verb, Array<(x?: unknown) => void>>();
  readonly #list: () => Promise<KubernetesListObject<Obj>>;
  readonly #attempt: Attempt;
  #objects: Obj[] = [];
  stopped = false;

  constructor(list: () => Promise<KubernetesListObject<Obj>>, attempt: Attempt) {
    this.#list = list;
    this.#attempt = attempt;
  }

  on(verb: Verb, fn: ((obj: Obj) => void) | ((err?: unknown) => void)): void {
    this.#handlers.set(verb, [...(this.#handlers.get(verb) ?? []), fn as (x?: unknown) => void]);
  }

  emit(verb: Verb, x?: unknown): void {
    for (const fn of this.#handlers.get(verb) ?? []) fn(x);
  }

  async start(): Promise<void> {
    this.emit('connect');
    if ('listFails' in this.#attempt) return this.emit('error', this.#attempt.listFails);
    const listed = await this.#list();
    this.#objects = listed.items;
    for (const item of listed.items) this.emit('add', item);
    if (this.#attempt.then !== 'stay') this.emit('error', this.#attempt.then.error);
  }

  async stop(): Promise<void> {
    this.stopped = true;
  }

  list(): Obj[] {
    return this.#objects;
  }
}

const refused = Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { code: 'ECONNREFUSED', address: '127.0.0.1', port: 6443 }) });
const selfSigned = Object.assign(new TypeError('fetch failed'), {
  cause: Object.assign(new Error('self-signed certificate; if the root CA is installed locally, try running Node.js with --use-system-ca'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }),
});
const pod = (name: string): Obj => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', resourceVersion: '1' } });

function world(attempts: readonly Attempt[]) {
  const clock = new VirtualClock();
  const lines: Array<{ level: number; msg: string; cause?: string; retryInMs?: number }> = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  const informers: ScriptedInformer[] = [];
  let items: Obj[] = [];
  const informer = new ResilientInformer<Obj>({
    path: '/api/v1/pods',
    list: async () => ({ items, metadata: { resourceVersion: '1' } }),
    logger,
    onChange: () => {},
    clock,
    informer: (list) => {
      const attempt = attempts[Math.min(informers.length, attempts.length - 1)]!;
      if ('items' in attempt) items = attempt.items;
      const made = new ScriptedInformer(list, attempt);
      informers.push(made);
      return made;
    },
  });
  const warnings = () => lines.filter((l) => l.level === 40).map((l) => l.msg);
  const retries = () => lines.filter((l) => l.retryInMs !== undefined).map((l) => l.retryInMs);
  return { clock, informer, informers, lines, warnings, retries };
}

describe('ResilientInformer backoff', () => {
  it('doubles the wait from 0.5 s to 30 s against an API server that refuses every connection, and warns once', async () => {
    const { clock, informer, informers, warnings, retries } = world([{ listFails: refused }]);
    await informer.start();
    await clock.advance(5 * 60_000);
    expect(retries().slice(0, 9)).toEqual([500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
    // 0.5+1+2+4+8+16 = 31.5 s, then one attempt every 30 s: 15 attempts in 5 minutes, not 600.
    expect(informers).toHaveLength(15);
    expect(warnings()).toEqual(['watch /api/v1/pods failed: ECONNREFUSED 127.0.0.1:6443; retrying in 500 ms, backing off to 30 s']);
    await informer.stop();
  });

  it('warns again each time the cause changes, and not for repeats', async () => {
    const { clock, informer, warnings } = world([{ listFails: refused }, { listFails: refused }, { listFails: selfSigned }, { listFails: selfSigned }, { listFails: refused }]);
    await informer.start();
    await clock.advance(60_000);
    expect(warnings().map((w) => w.split(': ').slice(1).join(': ').split(';')[0])).toEqual([
      'ECONNREFUSED 127.0.0.1:6443',
      'DEPTH_ZERO_SELF_SIGNED_CERT: self-signed certificate',
      'ECONNREFUSED 127.0.0.1:6443',
    ]);
    await informer.stop();
  });

  it('keeps backing off when attempts list (replaying their adds) and then fail: a list is not a watch event', async () => {
    const { clock, informer, retries } = world([{ items: [pod('a'), pod('b')], then: { error: refused } }]);
    await informer.start();
    await clock.advance(8_000);
    expect(retries().slice(0, 4)).toEqual([500, 1000, 2000, 4000]);
    await informer.stop();
  });

  it('goes back to 0.5 s after a watch event, and says the watch is back', async () => {
    const { clock, informer, informers, lines, retries } = world([{ listFails: refused }, { listFails: refused }, { listFails: refused }, { items: [pod('a')], then: 'stay' }]);
    await informer.start();
    await clock.advance(3_500); // retries after 0.5 s, 1 s and 2 s: the fourth attempt lists and stays up
    expect(informers).toHaveLength(4);
    expect(informer.backoffMs).toBe(4000);
    informers[3]!.emit('add', pod('b'));
    expect(informer.backoffMs).toBe(500);
    expect(lines.filter((l) => l.level === 30).map((l) => l.msg)).toEqual(['watch /api/v1/pods is back after 3 failed attempts']);
    informers[3]!.emit('error', refused);
    await clock.advance(10_000);
    expect(retries()).toEqual([500, 1000, 2000, 500]);
    await informer.stop();
  });

  it.each([
    ['29.9 s', 4000, 29_900],
    ['30 s', 500, 30_000],
  ])('keeps the next wait, after a watch that listed and stayed up %s with no event, at %i ms', async (_what, expected, upMs) => {
    const { clock, informer, informers } = world([{ listFails: refused }, { listFails: refused }, { listFails: refused }, { items: [], then: 'stay' }]);
    await informer.start();
    await clock.advance(3_500);
    expect(informers).toHaveLength(4);
    await clock.advance(upMs);
    expect(informer.backoffMs).toBe(expected);
    await informer.stop();
  });

  it("never resets on the client's connect event alone", async () => {
    const { clock, informer, informers } = world([{ listFails: refused }]);
    await informer.start();
    await clock.advance(1_500);
    informers.at(-1)!.emit('connect');
    expect(informer.backoffMs).toBe(4000);
    await informer.stop();
  });

  it('stops retrying when stopped, leaving no timer behind', async () => {
    const { clock, informer, informers } = world([{ listFails: refused }]);
    await informer.start();
    await informer.stop();
    expect(clock.pendingTimers).toBe(0);
    await clock.advance(60_000);
    expect(informers).toHaveLength(1);
    expect(informers[0]!.stopped).toBe(true);
  });
});

describe('ResilientInformer cache', () => {
  it('is not listed after a first list that failed, and is once a retry lists', async () => {
    const { clock, informer } = world([{ listFails: refused }, { items: [pod('a')], then: 'stay' }]);
    await informer.start();
    expect(informer.listed).toBe(false);
    expect(informer.list()).toEqual([]);
    await clock.advance(500);
    expect(informer.listed).toBe(true);
    expect(informer.list().map((o) => o.metadata!.name)).toEqual(['a']);
    await informer.stop();
  });

  it('answers from the last cache that listed while a restart fails its list, never an empty one', async () => {
    const { clock, informer, informers } = world([{ items: [pod('a'), pod('b')], then: { error: refused } }, { listFails: refused }, { items: [pod('c')], then: 'stay' }]);
    await informer.start();
    expect(informer.list().map((o) => o.metadata!.name)).toEqual(['a', 'b']);
    await clock.advance(500); // the second attempt: its list fails
    expect(informers).toHaveLength(2);
    expect(informer.listed).toBe(true);
    expect(informer.list().map((o) => o.metadata!.name)).toEqual(['a', 'b']);
    await clock.advance(1000); // the third lists
    expect(informers).toHaveLength(3);
    expect(informer.list().map((o) => o.metadata!.name)).toEqual(['c']);
    await informer.stop();
  });
});

describe('watchFailureCause', () => {
  it.each([
    ['a refused connection under fetch failed', refused, 'ECONNREFUSED 127.0.0.1:6443'],
    ['a self-signed certificate', selfSigned, 'DEPTH_ZERO_SELF_SIGNED_CERT: self-signed certificate'],
    ['a host that does not resolve', Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('getaddrinfo ENOTFOUND kind.invalid'), { code: 'ENOTFOUND' }) }), 'getaddrinfo ENOTFOUND kind.invalid'],
    ['both addresses of localhost refused', Object.assign(new TypeError('fetch failed'), { cause: new AggregateError([Object.assign(new Error('x'), { code: 'ECONNREFUSED', address: '::1', port: 6443 }), Object.assign(new Error('y'), { code: 'ECONNREFUSED', address: '127.0.0.1', port: 6443 })]) }), 'ECONNREFUSED ::1:6443, ECONNREFUSED 127.0.0.1:6443'],
    ['a watch answered 403', Object.assign(new Error('Forbidden'), { statusCode: 403 }), 'HTTP 403 Forbidden'],
    ['a list answered 401 with a Status body', Object.assign(new Error('HTTP-Code: 401\nMessage: Unauthorized'), { code: 401, body: '{"kind":"Status","message":"Unauthorized"}' }), 'HTTP 401: Unauthorized'],
  ])('names %s', (_what, err, expected) => {
    expect(watchFailureCause(err)).toBe(expected);
  });
});
