/**
 * Deregistration through the ALB on real sockets (spec 4.1): a draining target takes no new
 * requests, requests in flight finish within the delay or are cut with 502 when it ends, and
 * targets come and go under steady traffic without losing a request.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { deferCleanups, startAlb, waitHealthy, type TestAlb } from '../support/alb.ts';
import { startTarget, type TestTarget } from '../support/targets.ts';
import { waitFor } from '../support/wait.ts';

const defer = deferCleanups();

interface Held {
  readonly target: TestTarget;
  release(): void;
}

/** Targets that hold `/slow` requests until released and answer everything else at once. */
async function holdingTargets(names: readonly string[], held: Held[]): Promise<TestTarget[]> {
  const out: TestTarget[] = [];
  for (const name of names) {
    const t = await startTarget(name);
    defer(() => t.close());
    t.handler = (req: IncomingMessage, res: ServerResponse) => {
      if (req.url === '/slow') held.push({ target: t, release: () => res.end(`${name}-slow`) });
      else res.end(name);
    };
    out.push(t);
  }
  defer(() => held.splice(0).forEach((h) => h.release()));
  return out;
}

async function albFor(ts: readonly TestTarget[], deregistrationDelaySeconds: string): Promise<TestAlb> {
  const alb = await startAlb({ targetPorts: ts.map((t) => t.port), targetGroupAttributes: { 'deregistration_delay.timeout_seconds': deregistrationDelaySeconds } });
  defer(() => alb.elb.close());
  await waitHealthy(alb.group, ts.length);
  return alb;
}

async function get(url: string) {
  const res = await request(url);
  return { status: res.statusCode, body: await res.body.text() };
}

const spec = (t: TestTarget) => ({ id: '127.0.0.1', port: t.port });

describe('deregistration', () => {
  it('stops new requests at once, shows draining, and lets a request in flight finish with 200 within the delay', async () => {
    const held: Held[] = [];
    const ts = await holdingTargets(['a', 'b'], held);
    const alb = await albFor(ts, '30');
    const slow = get(`${alb.url}/slow`);
    await waitFor(() => held.length === 1, { what: 'a held request' });
    const busy = held[0]!.target;
    const other = ts.find((t) => t !== busy)!;

    let drainEnded = false;
    void alb.group.deregister([spec(busy)]).then(() => (drainEnded = true));
    expect(alb.group.describeTargetHealth([spec(busy)])[0]!.targetHealth).toEqual({
      state: 'draining',
      reason: 'Target.DeregistrationInProgress',
      description: 'Target deregistration is in progress',
    });
    const seenBefore = busy.seen.length;
    for (let i = 0; i < 8; i++) expect(await get(`${alb.url}/fast`)).toEqual({ status: 200, body: other.name });
    expect(busy.seen).toHaveLength(seenBefore);

    held.splice(0).forEach((h) => h.release());
    expect(await slow).toEqual({ status: 200, body: `${busy.name}-slow` });
    // Nothing in flight any more, but the target shows draining until the delay ends.
    expect(alb.group.describeTargetHealth([spec(busy)])[0]!.targetHealth.state).toBe('draining');
    expect(drainEnded).toBe(false);
  });

  it('cuts a request still in flight when a 1 s delay ends: the client gets 502 and the target is gone', async () => {
    const held: Held[] = [];
    const ts = await holdingTargets(['a', 'b'], held);
    const alb = await albFor(ts, '1');
    const slow = get(`${alb.url}/slow`);
    await waitFor(() => held.length === 1, { what: 'a held request' });
    const busy = held[0]!.target;

    const started = Date.now();
    const outcome = await alb.group.deregister([spec(busy)]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(outcome).toEqual([{ target: spec(busy), result: 'cut', cutRequests: 1 }]);
    const res = await slow;
    expect(res.status).toBe(502);
    expect(res.body).toContain('<title>502 Bad Gateway</title>');

    expect(alb.group.describeTargetHealth().map((d) => d.target.port)).toEqual(ts.filter((t) => t !== busy).map((t) => t.port));
    expect(alb.group.describeTargetHealth([spec(busy)])[0]!.targetHealth).toMatchObject({ state: 'unused', reason: 'Target.NotRegistered' });
    // Its connections are closed once it is gone.
    await waitFor(() => busy.open === 0, { what: 'no sockets left on the deregistered target' });
  });

  it('removes an idle target after the delay with result drained', async () => {
    const held: Held[] = [];
    const ts = await holdingTargets(['a', 'b'], held);
    const alb = await albFor(ts, '1');
    for (let i = 0; i < 4; i++) expect((await get(`${alb.url}/fast`)).status).toBe(200);
    const pending = alb.group.deregister([spec(ts[0]!)]);
    expect(alb.group.describeTargetHealth([spec(ts[0]!)])[0]!.targetHealth.state).toBe('draining');
    expect(await pending).toEqual([{ target: spec(ts[0]!), result: 'drained', cutRequests: 0 }]);
    expect(alb.group.describeTargetHealth().map((d) => d.target.port)).toEqual([ts[1]!.port]);
    await waitFor(() => ts[0]!.open === 0, { what: 'no sockets left on the deregistered target' });
  });

  it('loses no request while a target is registered and another deregistered under steady traffic', async () => {
    const ts: TestTarget[] = [];
    for (const name of ['a', 'b', 'c', 'd']) {
      const t = await startTarget(name);
      defer(() => t.close());
      ts.push(t);
    }
    const [a, , , d] = ts as [TestTarget, TestTarget, TestTarget, TestTarget];
    const alb = await albFor(ts.slice(0, 3), '1');

    const statuses: number[] = [];
    let started = 0;
    let drained: Promise<unknown> | undefined;
    let drainDone = false;
    let aSeenAtDeregistration = 0;
    const worker = async () => {
      while (started < 300 || !drainDone) {
        const n = started++;
        if (n === 75) alb.group.register([spec(d)]);
        if (n === 150) {
          aSeenAtDeregistration = a.seen.length;
          drained = alb.group.deregister([spec(a)]).then((outcome) => {
            drainDone = true;
            return outcome;
          });
        }
        statuses.push((await get(`${alb.url}/n/${n}`)).status);
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);

    expect(statuses.length).toBeGreaterThanOrEqual(300);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(await drained).toEqual([{ target: spec(a), result: 'drained', cutRequests: 0 }]);
    expect(d.seen.length).toBeGreaterThan(0);
    // Only requests already dispatched when it was deregistered may still arrive at a.
    expect(a.seen.length - aSeenAtDeregistration).toBeLessThanOrEqual(4);
    expect(alb.group.describeTargetHealth().map((h) => h.target.port).sort()).toEqual(ts.slice(1).map((t) => t.port).sort());
  });
});
