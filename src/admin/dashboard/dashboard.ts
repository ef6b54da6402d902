/**
 * The live dashboard of a running local-elb, served by the admin API on its own address
 * (`serve`, `demo`, `kind`): the page at `/`, its files under `/dashboard/`, the event stream
 * at `/v1/events` (Server-Sent Events: a snapshot, then deltas) and the same snapshot as JSON
 * at `/v1/dashboard/snapshot`. Its buttons call the admin API's own routes. It listens to the
 * target groups' state changes and the pods' timeline (no polling of the data path), samples
 * the counters once a second, and publishes at most 10 updates a second.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { realClock, type Clock } from '../../core/clock.ts';
import { LocalElb } from '../../local-elb.ts';
import type { ElbView } from '../../runtime/runtime.ts';
import type { TargetGroup } from '../../targets/target-group.ts';
import type { Target } from '../../targets/target.ts';
import { buildEntities, type PodSource } from './entities.ts';
import { dashboardPage, serveAsset } from './page.ts';
import { AdminSecurity, type Refusal } from './security.ts';
import { SeriesSampler } from './series.ts';
import { serveEvents } from './sse.ts';
import { DashboardStream, type DashboardEvent } from './stream.ts';

export interface DashboardOptions {
  /** Where the admin API listens (decides the Host check; see ./security.ts). */
  readonly address: string;
  readonly clock?: Clock;
  /** At most one update per this many ms (default 100). */
  readonly minIntervalMs?: number;
  readonly sampleIntervalMs?: number;
}

export interface Dashboard {
  readonly stream: DashboardStream;
  readonly security: AdminSecurity;
  /** Answers the dashboard's own routes; false for any other request (the admin API's). */
  handle(req: IncomingMessage, res: ServerResponse, url: URL): boolean;
  /** A refusal for a browser's cross-site or token-less change to the admin API, else undefined. */
  checkMutation(req: IncomingMessage): Refusal | undefined;
  close(): void;
}

function podSourceOf(elb: ElbView): PodSource | undefined {
  if (!(elb instanceof LocalElb)) return undefined;
  const names = elb.config.targetGroups.filter((g) => g.pods !== undefined).map((g) => g.name);
  if (names.length === 0) return undefined;
  return {
    deployments: () =>
      names.map((name) => {
        const d = elb.deployment(name);
        return { targetGroup: name, replicas: d.replicas, revision: d.revision, pods: d.pods() };
      }),
  };
}

export function createDashboard(elb: ElbView, options: DashboardOptions): Dashboard {
  const clock = options.clock ?? (elb instanceof LocalElb ? elb.runtime.clock : realClock);
  const security = new AdminSecurity(options.address);
  const pods = podSourceOf(elb);
  const stateSince = new WeakMap<Target, { state: string; sinceMs: number }>();
  const subscribed = new WeakSet<TargetGroup>();
  const unsubscribe: Array<() => void> = [];
  const sampler = new SeriesSampler(elb.metrics);
  let stream: DashboardStream | undefined;
  const podOf = (key: string) => (elb instanceof LocalElb ? elb.podForTarget(key)?.name : undefined);

  const watch = (groups: readonly TargetGroup[]) => {
    for (const group of groups) {
      if (subscribed.has(group)) continue;
      subscribed.add(group);
      unsubscribe.push(
        group.on((event) => {
          const key = event.target.key;
          const pod = podOf(key);
          const base = { timeMs: clock.now(), targetGroup: group.name, target: key, ...(pod !== undefined ? { pod } : {}) };
          if (event.type === 'target.removed') {
            stream?.pushEvent({ ...base, kind: 'target.removed', detail: `${key} removed from ${group.name}` });
            return;
          }
          if (event.from.state !== event.to.state) stateSince.set(event.target, { state: event.to.state, sinceMs: clock.now() });
          if (event.from.state === event.to.state && event.from.reason === event.to.reason) return stream?.markDirty();
          const reason = event.to.reason;
          stream?.pushEvent({
            ...base,
            kind: 'target.state_changed',
            from: event.from.state,
            to: event.to.state,
            ...(reason !== undefined ? { reason } : {}),
            detail: `${key} ${event.from.state} -> ${event.to.state}${reason !== undefined ? ` (${reason})` : ''}`,
          });
        }),
      );
    }
  };
  const read = () => {
    const groups = elb.targetGroups();
    watch(groups);
    return buildEntities({
      loadBalancers: elb.loadBalancers(),
      targetGroups: groups,
      since: (_group, target) => stateSince.get(target)?.sinceMs ?? target.registeredAtMs,
      ...(pods !== undefined ? { pods } : {}),
    });
  };
  stream = new DashboardStream({
    clock,
    read,
    sample: () => sampler.sample(clock.now(), elb.targetGroups()),
    ...(options.minIntervalMs !== undefined ? { minIntervalMs: options.minIntervalMs } : {}),
    ...(options.sampleIntervalMs !== undefined ? { sampleIntervalMs: options.sampleIntervalMs } : {}),
  });
  const live = stream;
  if (elb instanceof LocalElb) {
    // The pods' timeline: pod phases, signals, endpoints, registrations, rollouts and (from the
    // harness) request failures. Target state changes come from the groups themselves.
    unsubscribe.push(
      elb.timeline.on((e) => {
        if (e.kind === 'target.state_changed') return;
        const event: DashboardEvent = { timeMs: e.timeMs, kind: e.kind, ...(e.pod !== undefined ? { pod: e.pod } : {}), ...(e.detail !== undefined ? { detail: e.detail } : {}) };
        live.pushEvent(event);
      }),
    );
  }
  // What happened before the dashboard started: the pods' timeline so far, and each target's
  // state as of now, from when it entered it (`target.state`: the lanes start from these).
  const history: DashboardEvent[] = elb instanceof LocalElb ? elb.timeline.events().slice(-500).map((e) => ({ ...e })) : [];
  for (const group of elb.targetGroups()) {
    for (const t of group.targets()) {
      const health = t.health;
      const pod = podOf(t.key);
      history.push({
        timeMs: t.registeredAtMs,
        kind: 'target.state',
        targetGroup: group.name,
        target: t.key,
        to: health.state,
        ...(health.reason !== undefined ? { reason: health.reason } : {}),
        ...(pod !== undefined ? { pod } : {}),
        detail: `${t.key} ${health.state}${health.reason !== undefined ? ` (${health.reason})` : ''} when the dashboard started`,
      });
    }
  }
  live.seed(history.sort((a, b) => a.timeMs - b.timeMs));
  const clients = new Set<() => void>();

  return {
    stream: live,
    security,
    handle(req, res, url) {
      const path = url.pathname;
      const ours = path === '/' || path === '/dashboard' || path.startsWith('/dashboard/') || path === '/v1/events' || path === '/v1/dashboard/snapshot';
      if (!ours) return false;
      const refusal = security.checkHost(req);
      if (refusal !== undefined) {
        const text = `${JSON.stringify({ code: refusal.code, message: refusal.message }, null, 2)}\n`;
        res.writeHead(refusal.status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
        res.end(text);
        return true;
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { Allow: 'GET', 'Content-Type': 'application/json' });
        res.end(`${JSON.stringify({ code: 'ELB_ERR_METHOD_NOT_ALLOWED', message: `${path} takes GET: got ${req.method}` })}\n`);
        return true;
      }
      if (path === '/' || path === '/dashboard') {
        const body = dashboardPage({ csrfToken: security.csrfToken });
        res.writeHead(200, {
          'Content-Type': 'text/html; charset=utf-8',
          'Content-Length': Buffer.byteLength(body),
          'Cache-Control': 'no-store',
          // The page runs only its own scripts and talks only to this server.
          'Content-Security-Policy': "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'",
          'X-Frame-Options': 'DENY',
        });
        res.end(body);
        return true;
      }
      if (path === '/v1/events') {
        const end = serveEvents(req, res, url, live, { clock });
        clients.add(end);
        res.on('close', () => clients.delete(end));
        return true;
      }
      if (path === '/v1/dashboard/snapshot') {
        const text = `${JSON.stringify(live.snapshot())}\n`;
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
        res.end(text);
        return true;
      }
      if (serveAsset(path, res)) return true;
      const text = `${JSON.stringify({ code: 'ELB_ERR_NOT_FOUND', message: `no dashboard file ${path}` })}\n`;
      res.writeHead(404, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
      res.end(text);
      return true;
    },
    checkMutation: (req) => security.checkMutation(req),
    close() {
      for (const end of [...clients]) end();
      for (const u of unsubscribe.splice(0)) u();
      live.close();
    },
  };
}
