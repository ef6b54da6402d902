/**
 * The dashboard's event stream over real HTTP (`GET /v1/events` on the admin API, 127.0.0.1
 * port 0), on a virtual clock: a snapshot, then deltas as targets register, turn healthy,
 * turn unhealthy, drain and go, and as local pods roll; a client that reconnects with
 * Last-Event-ID gets every state change it missed; the page and its files are served from
 * the package; a browser's cross-site change is refused while the CLI's requests pass.
 */
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { startAdminServer, type AdminServer } from '../../src/admin/server.ts';
import { VirtualClock } from '../../src/core/clock.ts';
import type { ConfigInput } from '../../src/config/schema.ts';
import { startLocalElb, type LocalElb } from '../../src/local-elb.ts';
import { ElbRuntime } from '../../src/runtime/runtime.ts';
import type { Probe } from '../../src/targets/health-checker.ts';
import { deferCleanups } from '../support/alb.ts';
import { FakeRuntime, IGNORE_SIGTERM, ScriptedProber } from '../support/fake-runtime.ts';
import { openSse, type SseClient, type SseMessage } from '../support/sse.ts';
import { startTarget, type TestTarget } from '../support/targets.ts';
import { waitFor } from '../support/wait.ts';

const defer = deferCleanups();
const S = 1000;

function config(ports: readonly number[]): ConfigInput {
  return {
    targetGroups: [
      {
        name: 'web',
        protocol: 'HTTP',
        port: 80,
        healthCheckPath: '/healthz',
        healthCheckIntervalSeconds: 5,
        healthCheckTimeoutSeconds: 2,
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 2,
        attributes: { 'deregistration_delay.timeout_seconds': '30' },
        targets: ports.map((port) => ({ id: '127.0.0.1', port })),
      },
    ],
    loadBalancers: [
      {
        name: 'app',
        listeners: [
          {
            port: 0,
            defaultActions: [{ type: 'forward', targetGroupName: 'web' }],
            rules: [
              { priority: 20, conditions: [{ field: 'path-pattern', values: ['/down/*'] }], actions: [{ type: 'fixed-response', fixedResponseConfig: { statusCode: '503' } }] },
              { priority: 10, conditions: [{ field: 'path-pattern', values: ['/api/*'] }], actions: [{ type: 'forward', targetGroupName: 'web' }] },
            ],
          },
        ],
      },
    ],
  };
}

interface World {
  readonly clock: VirtualClock;
  readonly elb: LocalElb;
  readonly admin: AdminServer;
  readonly targets: TestTarget[];
}

async function world(count: number): Promise<World> {
  const clock = new VirtualClock(1_000_000);
  const targets: TestTarget[] = [];
  for (let i = 0; i < count; i++) {
    const t = await startTarget(`t${i + 1}`);
    defer(() => t.close());
    targets.push(t);
  }
  const elb = await startLocalElb({ config: config(targets.map((t) => t.port)), clock });
  defer(() => elb.close());
  const admin = await startAdminServer(elb, { port: 0, clock });
  defer(() => admin.close());
  return { clock, elb, admin, targets };
}

async function sse(admin: AdminServer, headers: Record<string, string> = {}): Promise<SseClient> {
  const client = await openSse(`${admin.url}/v1/events`, headers);
  defer(() => client.close());
  return client;
}

/** Moves the virtual clock 100 ms at a time (health checks and flushes run on it) until `match` holds. */
function pump<T>(clock: VirtualClock, match: () => T, what: string, timeoutMs = 15_000): Promise<NonNullable<T>> {
  return waitFor(
    async () => {
      const found = match();
      if (found) return found;
      await clock.advance(100);
      return undefined;
    },
    { what, timeoutMs, intervalMs: 5 },
  );
}

/** An entity as the client sees it after every message so far (snapshot, then deltas applied). */
function entityAfter(messages: readonly SseMessage[], key: string): Record<string, unknown> | undefined {
  let value: Record<string, unknown> | undefined;
  for (const m of messages) {
    if (m.event === 'snapshot') value = m.data.entities[key];
    else {
      if (key in m.data.set) value = m.data.set[key];
      if (m.data.del.includes(key)) value = undefined;
    }
  }
  return value;
}

const eventsOf = (messages: readonly SseMessage[]) => messages.flatMap((m) => (m.event === 'snapshot' ? m.data.events : m.data.events)) as Array<Record<string, unknown>>;
const targetKey = (t: TestTarget) => `target:web|127.0.0.1:${t.port}`;

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await request(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> };
}

describe('dashboard event stream', () => {
  it('sends a snapshot of load balancers, listeners, rules and targets, then deltas as targets register, turn healthy, drain and go', async () => {
    const { clock, admin, targets, elb } = await world(2);
    const client = await sse(admin);
    expect(client.status).toBe(200);
    expect(client.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    const snapshot = await client.next((m) => m.event === 'snapshot', 'the snapshot');
    expect(snapshot.id).toMatch(new RegExp(`^[\\w-]{8}\\.${snapshot.data.seq}$`));
    const lb = snapshot.data.entities['lb:app'];
    expect(lb).toMatchObject({ name: 'app', type: 'application', targetGroupNames: ['web'] });
    expect(lb.listeners[0]).toMatchObject({ protocol: 'HTTP', address: '127.0.0.1', port: Number(new URL(elb.url('app')).port), defaultActions: ['forward web'] });
    expect(lb.listeners[0].rules).toEqual([
      { priority: 10, conditions: ['path-pattern /api/*'], actions: ['forward web'] },
      { priority: 20, conditions: ['path-pattern /down/*'], actions: ['fixed-response 503'] },
    ]);
    expect(snapshot.data.entities['tg:web']).toMatchObject({ name: 'web', protocol: 'HTTP', algorithm: 'round_robin', deregistrationDelaySeconds: 30 });

    // Both targets turn healthy (their first check passes).
    for (const t of targets) await pump(clock, () => entityAfter(client.messages, targetKey(t))?.state === 'healthy', `${t.name} healthy in the stream`);

    // A third target registered through the admin API appears, initial, then healthy.
    const third = await startTarget('t3');
    defer(() => third.close());
    expect((await post(`${admin.url}/v1/target-groups/web/register-targets`, { targets: [{ id: '127.0.0.1', port: third.port }] })).status).toBe(200);
    await pump(clock, () => entityAfter(client.messages, targetKey(third)), 'the new target in a delta');
    await pump(clock, () => entityAfter(client.messages, targetKey(third))?.state === 'healthy', 'the new target healthy');
    const thirdEvents = eventsOf(client.messages).filter((e) => e.target === `127.0.0.1:${third.port}`);
    expect(thirdEvents.map((e) => e.to)).toContain('healthy');

    // Deregistered: draining with the delay's end, then gone.
    const victim = targets[0]!;
    const before = clock.now();
    expect((await post(`${admin.url}/v1/target-groups/web/deregister-targets`, { targets: [{ id: '127.0.0.1', port: victim.port }] })).status).toBe(200);
    const draining = await pump(clock, () => (entityAfter(client.messages, targetKey(victim))?.state === 'draining' ? entityAfter(client.messages, targetKey(victim)) : undefined), 'draining');
    expect(draining).toMatchObject({ reason: 'Target.DeregistrationInProgress', registration: 'draining' });
    expect(draining.drainEndsAtMs).toBe((draining.drainStartedAtMs as number) + 30 * S);
    expect(draining.drainStartedAtMs as number).toBeGreaterThanOrEqual(before);
    expect(eventsOf(client.messages).some((e) => e.kind === 'target.state_changed' && e.target === `127.0.0.1:${victim.port}` && e.from === 'healthy' && e.to === 'draining')).toBe(true);
    await clock.advance(30 * S);
    await pump(clock, () => client.messages.some((m) => m.event === 'delta' && m.data.del.includes(targetKey(victim))), 'the drained target deleted');
    expect(eventsOf(client.messages).some((e) => e.kind === 'target.removed' && e.target === `127.0.0.1:${victim.port}`)).toBe(true);
    // Sequence numbers rise by one per delta.
    const seqs = client.messages.map((m) => Number(m.id!.split('.')[1]));
    expect(seqs).toEqual(client.messages.map((m) => m.data.seq as number));
    expect(seqs).toEqual(seqs.map((_, i) => seqs[0]! + i));
  });

  it('shows a target that fails its checks turn unhealthy with its reason, and samples its requests per second', async () => {
    const { clock, admin, targets, elb } = await world(2);
    const client = await sse(admin);
    for (const t of targets) await pump(clock, () => entityAfter(client.messages, targetKey(t))?.state === 'healthy', `${t.name} healthy`);
    for (let i = 0; i < 6; i++) expect((await request(`${elb.url('app')}/`)).statusCode).toBe(200);
    await pump(clock, () => client.messages.some((m) => m.event === 'delta' && m.data.sample && m.data.sample.loadBalancers.app?.target2xx > 0), 'a sample with 2XX traffic');
    const sample = client.messages.find((m) => m.data.sample?.loadBalancers.app?.target2xx > 0)!.data.sample;
    expect(Object.values(sample.targets as Record<string, number>).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    expect(sample.loadBalancers.app.p50Ms).toBeGreaterThan(0);

    const sick = targets[1]!;
    sick.healthStatus = 500;
    const unhealthy = await pump(
      clock,
      () => (entityAfter(client.messages, targetKey(sick))?.state === 'unhealthy' ? entityAfter(client.messages, targetKey(sick)) : undefined),
      'unhealthy in the stream',
    );
    expect(unhealthy).toMatchObject({ reason: 'Target.ResponseCodeMismatch', description: 'Health checks failed with these codes: [500]' });
    expect(entityAfter(client.messages, 'tg:web')).toMatchObject({ healthy: 1, unhealthy: 1 });
  });

  it('resumes a client that reconnects with Last-Event-ID with every state change it missed, in order', async () => {
    const { clock, admin, targets, elb } = await world(2);
    const first = await sse(admin);
    const sick = targets[0]!;
    await pump(clock, () => entityAfter(first.messages, targetKey(sick))?.state === 'healthy', 'healthy');
    const seen = first.lastId!;
    first.close();

    // While nobody watches: unhealthy (two failed checks), then healthy again (two passes).
    const state = () => elb.targetGroup('web').describeTargetHealth([{ id: '127.0.0.1', port: sick.port }])[0]!.targetHealth.state;
    sick.healthStatus = 500;
    await pump(clock, () => state() === 'unhealthy', 'unhealthy');
    sick.healthStatus = 200;
    await pump(clock, () => state() === 'healthy', 'healthy again');
    await clock.advance(200);

    const again = await sse(admin, { 'Last-Event-ID': seen });
    await again.next((m) => eventsOf([m]).some((e) => e.to === 'healthy' && e.target === `127.0.0.1:${sick.port}`), 'the missed recovery');
    expect(again.messages.every((m) => m.event === 'delta')).toBe(true);
    expect(again.messages[0]!.data.seq).toBe(Number(seen.split('.')[1]) + 1);
    const changes = eventsOf(again.messages)
      .filter((e) => e.kind === 'target.state_changed' && e.target === `127.0.0.1:${sick.port}`)
      .map((e) => `${e.from}->${e.to}`);
    expect(changes).toEqual(['healthy->unhealthy', 'unhealthy->healthy']);

    // A client whose id is from another run (a restarted serve on the same port), or not an id, starts over from a snapshot.
    for (const id of [`other.${seen.split('.')[1]}`, '999999']) {
      const stranger = await sse(admin, { 'Last-Event-ID': id });
      await stranger.next((m) => m.event === 'snapshot', `a snapshot for id ${id}`);
    }
  });

  it('streams a rollout of local pods: new pods Pending then Ready, old ones Terminating with their preStop and grace times, then gone', async () => {
    const clock = new VirtualClock(1_000_000);
    const runtime = new FakeRuntime(clock, { onSigterm: IGNORE_SIGTERM });
    const prober = new ScriptedProber(clock);
    const probe: Probe = () => Promise.resolve({ ok: true, statusCode: 200 });
    const elb = await startLocalElb({
      config: {
        targetGroups: [
          {
            name: 'web',
            protocol: 'HTTP',
            port: 80,
            healthCheckIntervalSeconds: 5,
            healthCheckTimeoutSeconds: 2,
            attributes: { 'deregistration_delay.timeout_seconds': '5' },
            pods: {
              command: ['app'],
              replicas: 2,
              readinessProbe: { httpGet: { path: '/ready' }, initialDelaySeconds: 1, periodSeconds: 1 },
              lifecycle: { preStop: { sleep: { seconds: 5 } } },
              terminationGracePeriodSeconds: 20,
              strategy: { rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
            },
            propagation: { endpointsDelaySeconds: 1, registrationDelaySeconds: 0, deregistrationLagSeconds: 0 },
          },
        ],
        loadBalancers: [{ name: 'app', listeners: [{ port: 0, defaultActions: [{ type: 'forward', targetGroupName: 'web' }] }] }],
      },
      clock,
      podRuntime: runtime,
      podProber: prober.prober,
      probe,
      waitForPodsMs: 0,
    });
    defer(() => elb.close());
    const admin = await startAdminServer(elb, { port: 0, clock });
    defer(() => admin.close());
    const client = await sse(admin);
    const pods = () =>
      Object.entries(
        client.messages.reduce<Record<string, Record<string, unknown>>>((acc, m) => {
          if (m.event === 'snapshot') return Object.fromEntries(Object.entries(m.data.entities as Record<string, Record<string, unknown>>).filter(([k]) => k.startsWith('pod:')));
          for (const [k, v] of Object.entries(m.data.set as Record<string, Record<string, unknown>>)) if (k.startsWith('pod:')) acc[k] = v;
          for (const k of m.data.del as string[]) delete acc[k];
          return acc;
        }, {}),
      ).map(([, v]) => v);
    await pump(clock, () => pods().filter((p) => p.phase === 'Ready' && p.targetState === 'healthy').length === 2, 'two Ready pods with healthy targets');
    expect(entityAfter(client.messages, 'deployment:web')).toMatchObject({ replicas: 2, revision: 1, rollingOut: false });

    const rollout = await post(`${admin.url}/v1/target-groups/web/rollout`, {});
    expect(rollout.status).toBe(202);
    const terminating = await pump(clock, () => pods().find((p) => p.revision === 1 && p.phase === 'Terminating'), 'an old pod Terminating');
    const termination = terminating.termination as Record<string, number>;
    expect(termination.gracePeriodMs).toBe(20 * S);
    expect(termination.preStopEndsAtMs).toBe(termination.preStopStartedAtMs! + 5 * S);
    expect(pods().some((p) => p.revision === 2)).toBe(true);
    await pump(clock, () => pods().filter((p) => p.revision === 2 && p.phase === 'Ready').length === 2 && pods().every((p) => p.revision === 2), 'two new Ready pods and no old ones', 30_000);
    const kinds = eventsOf(client.messages).map((e) => e.kind);
    for (const kind of ['rollout.started', 'pod.created', 'pod.ready', 'pod.deleting', 'pod.prestop_started', 'pod.sigterm', 'pod.terminated', 'target.state_changed']) expect(kinds).toContain(kind);
    expect(entityAfter(client.messages, 'deployment:web')).toMatchObject({ revision: 2 });
  });

  it('serves a view without local pods, as kind’s controller gives it: load balancers and targets, no pods', async () => {
    const clock = new VirtualClock(1_000_000);
    const t = await startTarget('t1');
    defer(() => t.close());
    const runtime = new ElbRuntime({ config: config([t.port]), clock });
    await runtime.start();
    defer(() => runtime.close());
    const admin = await startAdminServer(runtime, { port: 0, clock });
    defer(() => admin.close());
    const client = await sse(admin);
    await pump(clock, () => entityAfter(client.messages, targetKey(t))?.state === 'healthy', 'the target healthy');
    const snapshot = client.messages[0]!;
    expect(Object.keys(snapshot.data.entities).sort()).toEqual(['lb:app', 'target:web|127.0.0.1:' + t.port, 'tg:web']);
    expect(snapshot.data.events).toEqual([expect.objectContaining({ kind: 'target.state', target: `127.0.0.1:${t.port}` })]);
  });

  it('serves the page with its CSRF token and its files from the package, and refuses a cross-site change', async () => {
    const { admin } = await world(1);
    const page = await request(`${admin.url}/`);
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    const html = await page.body.text();
    const token = /<meta name="csrf-token" content="([^"]+)">/.exec(html)?.[1];
    expect(token).toMatch(/^[\w-]{32}$/);
    for (const file of ['/dashboard/dashboard.js', '/dashboard/lanes.js', '/dashboard/look.css', '/dashboard/uPlot.iife.min.js', '/dashboard/uPlot.min.css']) {
      const res = await request(`${admin.url}${file}`);
      expect(res.statusCode, file).toBe(200);
      expect((await res.body.text()).length, file).toBeGreaterThan(500);
    }
    const body = { targets: [{ id: '127.0.0.1', port: 9 }] };
    const path = `${admin.url}/v1/target-groups/web/register-targets`;
    const crossSite = await post(path, body, { origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' });
    expect(crossSite.status).toBe(403);
    expect(crossSite.body.code).toBe('ELB_ERR_FORBIDDEN');
    expect((await post(path, body, { origin: admin.url, 'sec-fetch-site': 'same-origin' })).status).toBe(403); // no token
    expect((await post(path, body, { origin: admin.url, 'sec-fetch-site': 'same-origin', 'x-csrf-token': 'wrong' })).status).toBe(403);
    expect((await post(path, body, { origin: admin.url, 'sec-fetch-site': 'same-origin', 'x-csrf-token': token! })).status).toBe(200);
    expect((await post(path, body)).status).toBe(200); // the CLI's way: no Origin, no token
    const rebound = await request(`${admin.url}/`, { headers: { host: `evil.example:${new URL(admin.url).port}` } });
    expect(rebound.statusCode).toBe(403);
    await rebound.body.dump();
  });
});
