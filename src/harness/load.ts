/**
 * A load generator that records every request's fate, for graceful-shutdown tests: an open
 * loop at a fixed rate (requests are not held back by slow answers, as with real users), each
 * request tagged with its own trace id so that, given the LocalElb, it is matched to what the
 * load balancer saw: the target, whether the ELB or the target made the response, and the
 * pod's phase. Each failure is also recorded on the LocalElb's timeline (`request.failed`) as
 * it happens, so a dashboard open meanwhile marks it live. Time here is wall-clock time, as
 * real sockets are involved.
 */
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'undici';
import type { LocalElb } from '../local-elb.ts';
import { ApplicationLoadBalancer } from '../l7/application-load-balancer.ts';
import type { RequestRecord } from '../l7/request-record.ts';
import { LoadReport, type RequestFate } from './report.ts';

export interface LoadOptions {
  /** Requests per second (open loop). */
  readonly rps: number;
  /** Path and query to request (default `/`). */
  readonly path?: string;
  /** A request with no complete answer within this is a timeout (default 10 s). */
  readonly timeoutMs?: number;
  /** Keep-alive connections the client may open (default 64). */
  readonly connections?: number;
  /** The running LocalElb, to attribute each request to a target, pod and producer. */
  readonly elb?: LocalElb;
}

export interface LoadRun {
  /** Requests sent so far. */
  readonly sent: number;
  /** Stops sending, waits for the requests in flight, and reports. */
  stop(): Promise<LoadReport>;
}

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');

export function startLoad(url: string, options: LoadOptions): LoadRun {
  if (!(options.rps > 0 && options.rps <= 100_000)) throw new RangeError(`rps must be 1–100000: got ${options.rps}`);
  const base = new URL(options.path ?? '/', url);
  const agent = new Agent({ connections: options.connections ?? 64, keepAliveTimeout: 60_000, keepAliveMaxTimeout: 60_000 });
  const timeoutMs = options.timeoutMs ?? 10_000;
  const runId = randomBytes(8).toString('hex');
  const startedMs = Date.now();
  const fates: RequestFate[] = [];
  const records = new Map<string, RequestRecord>();
  const pods = new Map<string, { name: string; phase: string }>();
  const unsubscribe: Array<() => void> = [];
  const elb = options.elb;
  if (elb !== undefined) {
    for (const lb of elb.loadBalancers()) {
      if (!(lb instanceof ApplicationLoadBalancer)) continue;
      unsubscribe.push(
        lb.onRequest((record) => {
          const root = /Root=([^;]+)/.exec(record.traceId ?? '')?.[1];
          if (root === undefined || !root.endsWith(runId)) return;
          records.set(root, record);
          if (record.target) {
            const pod = elb.podForTarget(`${record.target.id}:${record.target.port}`);
            if (pod) pods.set(root, { name: pod.name, phase: pod.terminating ? 'Terminating' : pod.phase });
          }
        }),
      );
    }
  }

  /** A fate with what the load balancer recorded about it (target, producer, pod), as far as known now. */
  const attribute = (f: RequestFate): RequestFate => {
    const r = records.get(f.root);
    const pod = pods.get(f.root);
    return {
      ...f,
      ...(r ? { producedBy: r.producedBy, elbStatus: r.elbStatusCode, ...(r.errorCode ? { elbErrorCode: r.errorCode } : {}) } : {}),
      ...(r?.target ? { target: `${r.target.id}:${r.target.port}` } : {}),
      ...(pod ? { pod: pod.name, podPhase: pod.phase } : {}),
    };
  };

  const inFlight = new Set<Promise<void>>();
  let sent = 0;
  let stopped = false;
  const send = () => {
    const id = sent++;
    const root = `1-${hex(Math.floor(Date.now() / 1000), 8)}-${hex(id, 8)}${runId}`;
    const fate: { -readonly [K in keyof RequestFate]: RequestFate[K] } = { id, root, startMs: Date.now(), endMs: 0, outcome: 'ok' };
    const p = (async () => {
      try {
        const res = await request(base, {
          dispatcher: agent,
          headers: { 'x-amzn-trace-id': `Root=${root}` },
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        });
        await res.body.dump({ limit: 1 << 20 });
        fate.status = res.statusCode;
        fate.outcome = res.statusCode < 400 ? 'ok' : 'http_error';
      } catch (err) {
        const code = (err as { code?: string }).code ?? (err as Error).name;
        fate.errorCode = code;
        fate.outcome = code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' ? 'timeout' : 'connection_error';
      } finally {
        fate.endMs = Date.now();
        fates.push(fate);
        // Live, for whoever watches the timeline (the dashboard's lanes mark each failure as it happens).
        if (elb !== undefined && fate.outcome !== 'ok') {
          const f = attribute(fate);
          elb.timeline.record('request.failed', { timeMs: f.endMs, ...(f.pod ? { pod: f.pod } : {}), detail: describeFate(f) });
        }
      }
    })();
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  };

  // Open loop: every 10 ms, send what the rate owes since the start.
  const timer = setInterval(() => {
    if (stopped) return;
    const owed = Math.floor(((Date.now() - startedMs) / 1000) * options.rps) - sent;
    for (let i = 0; i < owed; i++) send();
  }, 10);
  send();

  return {
    get sent() {
      return sent;
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await Promise.all([...inFlight]);
      // The ELB writes its record when the exchange is over on its side: let it catch up.
      const settleBy = Date.now() + 2000;
      while (elb !== undefined && fates.some((f) => !records.has(f.root)) && Date.now() < settleBy) await new Promise((r) => setTimeout(r, 20));
      for (const u of unsubscribe) u();
      await agent.close();
      const endedMs = Date.now();
      const attributed = fates.sort((a, b) => a.id - b.id).map(attribute);
      // The failures were recorded on the timeline as they happened; the report lists them from its fates.
      const timeline = elb?.timeline.events(startedMs - 1, endedMs).filter((e) => e.kind !== 'request.failed') ?? [];
      return new LoadReport({ startedMs, endedMs, fates: attributed, timeline });
    },
  };
}

/** `502 from the ELB (ELB_ERR_TARGET_CONNECTION_FAILED) via 127.1.0.3:8080` and the like. */
export function describeFate(f: RequestFate): string {
  const what =
    f.status !== undefined ? `${f.status} from the ${f.producedBy === 'target' ? 'target' : f.producedBy === 'elb' ? 'ELB' : 'server'}` : `${f.outcome} ${f.errorCode ?? ''}`.trim();
  const why = f.elbErrorCode && f.producedBy === 'elb' ? ` (${f.elbErrorCode})` : '';
  const where = f.target ? ` via ${f.target}${f.pod ? ` (${f.pod}, ${f.podPhase})` : ''}` : '';
  return `request #${f.id}: ${what}${why}${where}`;
}
