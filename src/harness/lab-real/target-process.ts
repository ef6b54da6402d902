/**
 * A target of a real lab run, in a process of its own: an HTTP server on 127.0.0.1 that serves
 * every request through the scenario's model (src/lab/target-model.ts: concurrency slots, a
 * FIFO queue, service times, errors, warm-up, GC pauses) on the real clock, in run time (ms
 * since the run's start). A request carries its draws (`x-lab-unit`, `x-lab-error-draw`, from
 * the load generator's seeded streams, as the simulator's k-th request has them); one without
 * draws from this target's own seeded stream. Every answer names the target (`x-lab-target`).
 *
 * `/lab/health` is the health check (200, or 503 while told to fail them) and `/lab/warmup`
 * answers at once; neither goes through the model, as in the simulator.
 *
 * Messages from the parent: `init` (spec, port, whether to listen now), `epoch` (the run's
 * start), `start` (the process starts in the scenario: listen if not yet, warm-up from now),
 * `health` (fail or pass checks), `stats`. A `stop` is the parent's SIGKILL.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { realClock, type Clock } from '../../core/clock.ts';
import { ModelTarget, type RequestDraws, type TargetModelSpec } from '../../lab/target-model.ts';
import { stream } from '../../lab/workload.ts';
import { asChild, type Message } from './processes.ts';
import { HEADER_ERROR_DRAW, HEADER_TARGET, HEADER_UNIT, HEALTH_PATH, WARMUP_PATH, type TargetInit } from './protocol.ts';

let epochMs = realClock.now();
const runClock: Clock = { now: () => realClock.now() - epochMs, setTimer: (ms, fn) => realClock.setTimer(ms, fn) };
let model: ModelTarget | undefined;
let failHealthChecks = false;
let init: TargetInit | undefined;
const server = http.createServer({ keepAliveTimeout: 600_000, requestTimeout: 0, headersTimeout: 60_000 });
// The ALB keeps its connections to a target open; a target that closed them first would race it.
server.keepAliveTimeout = 600_000;

const parent = asChild(
  () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
);

const number = (v: string | string[] | undefined): number | undefined => {
  const n = typeof v === 'string' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
};

server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
  const spec = init!.spec;
  req.resume();
  const path = req.url ?? '/';
  if (path === HEALTH_PATH) {
    res.writeHead(failHealthChecks ? 503 : 200, { 'content-type': 'text/plain', [HEADER_TARGET]: spec.name });
    res.end(failHealthChecks ? 'failing\n' : 'ok\n');
    return;
  }
  if (path === WARMUP_PATH) {
    res.writeHead(200, { 'content-type': 'text/plain', [HEADER_TARGET]: spec.name });
    res.end('warm\n');
    return;
  }
  const unit = number(req.headers[HEADER_UNIT]);
  const errorDraw = number(req.headers[HEADER_ERROR_DRAW]);
  const draws: RequestDraws = unit !== undefined && errorDraw !== undefined ? { unit, errorDraw } : model!.drawOwn();
  model!.submit(draws, (answer) => {
    if (res.destroyed) return;
    const body = answer.failed ? 'error\n' : 'ok\n';
    res.writeHead(answer.failed ? 500 : 200, { 'content-type': 'text/plain', 'content-length': String(body.length), [HEADER_TARGET]: spec.name });
    res.end(body);
  });
});

function listen(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port }, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

parent.onMessage(async (m: Message) => {
  switch (m.type) {
    case 'init': {
      init = m as unknown as TargetInit;
      model = new ModelTarget(init.spec, { clock: runClock, random: stream(init.seed, `service/${init.spec.name}`) });
      const port = init.listen ? await listen(init.port) : init.port;
      parent.send({ type: 'ready', port });
      return;
    }
    case 'epoch':
      epochMs = (m as unknown as { epochMs: number }).epochMs;
      parent.send({ type: 'epoch-set' });
      return;
    case 'start':
      if (!server.listening) await listen(init!.port);
      model!.start();
      parent.send({ type: 'started' });
      return;
    case 'health':
      failHealthChecks = (m as unknown as { failing: boolean }).failing;
      return;
    case 'stats': {
      const cpu = process.cpuUsage();
      parent.send({ type: 'stats', served: model?.served ?? 0, peakInFlight: model?.peakInFlight ?? 0, cpuUs: cpu.user + cpu.system });
      return;
    }
  }
});
