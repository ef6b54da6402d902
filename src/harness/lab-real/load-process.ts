/**
 * The open-loop load generator of a real lab run, in a process of its own so it does not share
 * the proxy's event loop. Arrivals are the simulator's: a Poisson process at the scenario's
 * rate from the seed's `arrivals` stream, each request with its service-time and error draws
 * from the `service` and `errors` streams (sent as headers, for the model targets) and its load
 * balancer node from `clients`, so request k here is request k there.
 *
 * Open loop: a request goes out when it is due, whatever is still in flight (as many
 * keep-alive connections as that takes, up to 256 per node: open-loop-client.ts), and its
 * latency runs from when it was due, not from when it went out, so a generator or a proxy that falls behind cannot hide the queueing it
 * causes (no coordinated omission). How late each send was is reported beside it.
 *
 * Messages: `init` → `ready` (how many requests the schedule has); `warmup` → `warm`;
 * `start` (the run's start, epoch ms) → `done` with every request's fate (LoadResult).
 */
import { realClock } from '../../core/clock.ts';
import { drawRequest, type RequestDraws } from '../../lab/target-model.ts';
import { arrivalTimes, stream } from '../../lab/workload.ts';
import { getRequest, OpenLoopClient } from './open-loop-client.ts';
import { asChild, type Message } from './processes.ts';
import { HEADER_ERROR_DRAW, HEADER_TARGET, HEADER_UNIT, HEADER_WARMUP, traceRoot, type LoadInit, type LoadResult } from './protocol.ts';

const parent = asChild(() => clients.forEach((c) => c.close()));
let init: LoadInit | undefined;
/** One client (its own keep-alive connections) per load balancer node. */
let clients: OpenLoopClient[] = [];
const due: number[] = [];
const draws: RequestDraws[] = [];
const nodeOf: number[] = [];

/** The simulator's arrivals, draws and node choices, until the duration is over. */
function schedule(s: LoadInit): void {
  const service = stream(s.seed, 'service');
  const errors = stream(s.seed, 'errors');
  const clients = stream(s.seed, 'clients');
  for (const t of arrivalTimes(s.seed, s.ratePerSecond, s.durationMs)) {
    due.push(t);
    draws.push(drawRequest(s.service, service, errors));
    nodeOf.push(s.urls.length === 1 ? 0 : Math.floor(clients.next() * s.urls.length));
  }
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;

async function warmup(path: string, count: number): Promise<{ ok: number; statuses: Record<string, number> }> {
  const statuses: Record<string, number> = {};
  let ok = 0;
  let next = 0;
  const one = async () => {
    for (let i = next++; i < count; i = next++) {
      const node = i % clients.length;
      const answer = await new Promise<{ status: number; errorCode: string | null }>((resolve) =>
        clients[node]!.send(getRequest(new URL(path, init!.urls[node]), { [HEADER_WARMUP]: '1' }), resolve),
      );
      const key = answer.status === 0 ? (answer.errorCode ?? 'error') : String(answer.status);
      if (answer.status > 0 && answer.status < 400) ok++;
      statuses[key] = (statuses[key] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, count) }, one));
  return { ok, statuses };
}

function run(epochMs: number): void {
  const s = init!;
  const n = due.length;
  const urls = s.urls.map((u) => new URL(s.path, u));
  const sendLagMs = new Array<number>(n).fill(0);
  const latencyMs = new Array<number>(n).fill(0);
  const status = new Array<number>(n).fill(0);
  const errorCode = new Array<string | null>(n).fill(null);
  const target = new Array<string | null>(n).fill(null);
  const cpuAtStart = process.cpuUsage();
  const wallAtStart = realClock.now();
  let finished = 0;
  const finish = () => {
    const cpu = process.cpuUsage(cpuAtStart);
    const result: LoadResult = {
      type: 'done',
      requests: n,
      dueMs: due.map(round),
      sendLagMs: sendLagMs.map(round),
      latencyMs: latencyMs.map(round),
      status,
      errorCode,
      target,
      node: nodeOf,
      peakConnections: clients.reduce((a, c) => a + c.peakConnections, 0),
      waitedForConnection: clients.reduce((a, c) => a + c.waited, 0),
      cpuUs: cpu.user + cpu.system,
      wallMs: realClock.now() - wallAtStart,
    };
    parent.send(result);
  };
  if (n === 0) return finish();

  const send = (i: number) => {
    const d = draws[i]!;
    const node = nodeOf[i]!;
    const bytes = getRequest(urls[node]!, { 'X-Amzn-Trace-Id': `Root=${traceRoot(s.runTag, i)}`, [HEADER_UNIT]: String(d.unit), [HEADER_ERROR_DRAW]: String(d.errorDraw) });
    clients[node]!.send(bytes, (answer) => {
      sendLagMs[i] = answer.writtenMs - epochMs - due[i]!;
      latencyMs[i] = realClock.now() - epochMs - due[i]!;
      status[i] = answer.status;
      errorCode[i] = answer.errorCode;
      target[i] = answer.header;
      if (++finished === n) finish();
    });
  };

  let next = 0;
  const tick = () => {
    const now = realClock.now() - epochMs;
    while (next < n && due[next]! <= now) send(next++);
    if (next < n) setTimeout(tick, Math.max(0, due[next]! - (realClock.now() - epochMs)));
  };
  setTimeout(tick, Math.max(0, epochMs + due[0]! - realClock.now()));
}

parent.onMessage(async (m: Message) => {
  switch (m.type) {
    case 'init':
      init = m as LoadInit;
      clients = init.urls.map((u) => {
        const url = new URL(u);
        return new OpenLoopClient({ host: url.hostname, port: Number(url.port), timeoutMs: init!.timeoutMs, keepAliveMs: init!.keepAliveMs, recordHeader: HEADER_TARGET, now: realClock.now });
      });
      schedule(init);
      parent.send({ type: 'ready', requests: due.length });
      return;
    case 'warmup': {
      const { path, count } = m as unknown as { path: string; count: number };
      parent.send({ type: 'warm', ...(await warmup(path, count)) });
      return;
    }
    case 'start':
      run((m as unknown as { epochMs: number }).epochMs);
      return;
  }
});
