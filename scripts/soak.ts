/**
 * Soak test (issue #10), opt-in: an ALB in front of 3 local pods running
 * examples/apps/graceful-server.mjs, a steady open-loop load through it, and a rolling update
 * every `--every` seconds, for `--minutes`. It fails (exit 1) when any request is lost, when a
 * rollout fails, when RSS at the end is more than 10% away from RSS after the first minute, when
 * file descriptors do not come back to their baseline after local-elb closes, or when a pod
 * process outlives it.
 *
 *   scripts/node24 npm run soak -- --minutes 10 [--rps 200] [--every 30]
 *
 * RSS is sampled every 5 s. "RSS after minute 1" is the median of the samples taken in minute 2
 * (60–120 s): minute 1 is the warm-up (RSS climbs from ~120 MiB to its working size while V8
 * compiles and sizes its heap), so its median would sit below any later value. "RSS at the end" is the median of the
 * samples taken in the last minute. Both windows hold one of the load's one-minute runs (below),
 * so each sees the same rise and release. In a run of 2 minutes or less they overlap.
 * The load generator runs in this process, beside local-elb, so RSS and descriptors count both;
 * it is `startLoad` in back-to-back one-minute runs, so that what it keeps per request is let go
 * every minute instead of growing with the soak.
 * Ctrl-C (SIGINT) or SIGTERM stops the load, closes local-elb (which kills the pods), prints a
 * partial summary and exits 130 or 143; a second signal exits at once (the pods are SIGKILLed
 * as this process exits). Exit 2: bad arguments. Linux only (/proc/self/fd).
 */
import { readdirSync, readlinkSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { describeFate, startLoad, startLocalElb, type ConfigInput, type LoadReport, type LocalElb, type RequestFate } from '../src/index.ts';

const USAGE = 'usage: npm run soak -- --minutes N [--rps 200] [--every 30]';
const SAMPLE_EVERY_MS = 5_000;
const PROGRESS_EVERY_MS = 30_000;
const RSS_TOLERANCE = 0.1;
/**
 * Descriptors allowed above the baseline after close. Every socket, pipe and pod stdio the run
 * opened is closed by then, and the signal pipe libuv shares between SIGCHLD and our SIGINT
 * handler exists before the baseline is taken. What stays is opened once per process, not per
 * pod or connection: spawning the first pod can leave one descriptor on /dev/null open (seen
 * after runs of 6 to 24 pods alike). 2 allows that and one more of its kind; a leak per pod,
 * per rollout or per connection is far above it after a few rollouts.
 */
const FD_MARGIN = 2;
const FD_DEADLINE_MS = 10_000;
/**
 * One `startLoad` run keeps every request's fate and the ALB's record of it until it stops
 * (about 1 KB a request: 120 MB over 10 minutes at 200/s), which the RSS check would measure
 * instead of local-elb. Runs of a minute keep it to ~12 MB that is released each minute.
 */
const LOAD_RUN_MS = 60_000;

interface Options {
  readonly minutes: number;
  readonly rps: number;
  readonly everySeconds: number;
}

class UsageError extends Error {}

function readArgs(argv: readonly string[]) {
  try {
    return parseArgs({
      args: [...argv],
      options: { minutes: { type: 'string' }, rps: { type: 'string' }, every: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

function parseOptions(argv: readonly string[]): Options | 'help' {
  const values = readArgs(argv);
  if (values.help) return 'help';
  if (values.minutes === undefined) throw new UsageError('--minutes is required: a positive number of minutes, e.g. --minutes 10');
  const number = (name: string, raw: string, allowed: string, ok: (n: number) => boolean): number => {
    const n = raw.trim() === '' ? Number.NaN : Number(raw);
    if (!Number.isFinite(n) || !ok(n)) throw new UsageError(`--${name} must be ${allowed}: got ${JSON.stringify(raw)}`);
    return n;
  };
  return {
    minutes: number('minutes', values.minutes, 'a positive number of minutes', (n) => n > 0),
    rps: values.rps === undefined ? 200 : number('rps', values.rps, 'a number of requests per second above 0 and at most 100000', (n) => n > 0 && n <= 100_000),
    everySeconds: values.every === undefined ? 30 : number('every', values.every, 'a positive number of seconds between rollouts', (n) => n > 0),
  };
}

function soakConfig(): ConfigInput {
  return {
    targetGroups: [
      {
        name: 'app',
        protocol: 'HTTP',
        healthCheckPath: '/ready',
        healthCheckIntervalSeconds: 5,
        healthCheckTimeoutSeconds: 2,
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 2,
        matcher: { httpCode: '200' },
        attributes: { 'deregistration_delay.timeout_seconds': '5' },
        pods: {
          command: [process.execPath, fileURLToPath(new URL('../examples/apps/graceful-server.mjs', import.meta.url))],
          replicas: 3,
          port: 8080,
          readinessProbe: { httpGet: { path: '/ready' }, periodSeconds: 2, failureThreshold: 2 },
          livenessProbe: { httpGet: { path: '/healthz' }, periodSeconds: 10 },
          lifecycle: { preStop: { sleep: { seconds: 3 } } },
          terminationGracePeriodSeconds: 30,
          strategy: { rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
          readinessGate: true,
        },
        propagation: { endpointsDelaySeconds: 1, registrationDelaySeconds: 0, deregistrationLagSeconds: 0 },
      },
    ],
    loadBalancers: [{ name: 'alb', type: 'application', listeners: [{ port: 0, protocol: 'HTTP', defaultActions: [{ type: 'forward', targetGroupName: 'app' }] }] }],
  };
}

interface Sample {
  readonly atMs: number;
  readonly rss: number;
  readonly heapUsed: number;
  readonly heapTotal: number;
  readonly external: number;
  readonly fds: number;
}

const openFds = (): number => readdirSync('/proc/self/fd').length;

function fdTargets(): Map<string, string> {
  const out = new Map<string, string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      out.set(fd, readlinkSync(`/proc/self/fd/${fd}`));
    } catch {
      // the descriptor readdir itself used, already closed
    }
  }
  return out;
}

const mib = (bytes: number): string => (Number.isFinite(bytes) ? `${(bytes / 2 ** 20).toFixed(1)} MiB` : '-');
const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;

function rssMedian(samples: readonly Sample[]): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = samples.map((s) => s.rss).sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function processGroupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function pollUntil(condition: () => boolean, deadlineMs: number): Promise<boolean> {
  while (!condition()) {
    if (Date.now() >= deadlineMs) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

/** Resolves after `ms`, or as soon as `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, Math.max(0, ms));
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}

/** Waits for `promise`, or stops waiting when `signal` aborts. */
function unlessAborted(promise: Promise<unknown>, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      signal.removeEventListener('abort', done);
      resolve();
    };
    signal.addEventListener('abort', done, { once: true });
    void promise.then(done, done);
  });
}

interface LoadTotals {
  total: number;
  ok: number;
  readonly failureCounts: Record<string, number>;
  /** Each lost request, with the number of the load run that sent it (request ids restart in each run). */
  readonly failed: Array<{ run: number; fate: RequestFate }>;
}

interface ContinuousLoad {
  readonly sent: number;
  stop(): Promise<LoadTotals>;
}

/**
 * `startLoad` for as long as it runs, in back-to-back runs of `runMs`: the next run starts
 * before the previous one stops, so the rate never pauses, and each report is reduced to
 * counts and failures once its requests are done.
 */
function startContinuousLoad(url: string, options: { rps: number; elb: LocalElb; runMs: number }): ContinuousLoad {
  const totals: LoadTotals = { total: 0, ok: 0, failureCounts: {}, failed: [] };
  const add = (run: number, report: LoadReport) => {
    totals.total += report.total;
    totals.ok += report.ok;
    for (const [what, count] of Object.entries(report.failureCounts())) totals.failureCounts[what] = (totals.failureCounts[what] ?? 0) + count;
    for (const fate of report.failed) totals.failed.push({ run, fate });
  };
  let runNumber = 1;
  let current = startLoad(url, { rps: options.rps, elb: options.elb });
  let sentBefore = 0;
  const stopping: Array<Promise<void>> = [];
  const stopCurrent = () => {
    const run = runNumber;
    const stopped = current.stop().then((report) => add(run, report));
    sentBefore += current.sent;
    return stopped;
  };
  const rotation = setInterval(() => {
    const previous = stopCurrent();
    current = startLoad(url, { rps: options.rps, elb: options.elb });
    runNumber++;
    stopping.push(previous);
  }, options.runMs);
  return {
    get sent() {
      return sentBefore + current.sent;
    },
    async stop() {
      clearInterval(rotation);
      stopping.push(stopCurrent());
      await Promise.all(stopping);
      totals.failed.sort((a, b) => a.fate.endMs - b.fate.endMs);
      return totals;
    },
  };
}

function printFailures(totals: LoadTotals, elb: LocalElb, at: (ms: number) => string): void {
  console.log(`\n${totals.failed.length} lost requests:`);
  for (const { run, fate } of totals.failed) console.log(`  ${at(fate.endMs)} load run ${run}, ${describeFate(fate)}`);
  const near = (timeMs: number) => totals.failed.some(({ fate }) => Math.abs(timeMs - fate.endMs) <= 5_000);
  const context = elb.timeline.events().filter((e) => e.kind !== 'request.failed' && near(e.timeMs));
  if (context.length === 0) return;
  console.log('\nwhat the pods, endpoints and targets did within 5 s of a failure:');
  for (const e of context) console.log(`  ${at(e.timeMs)} ${e.kind.padEnd(22)} ${e.pod ?? ''}${e.detail ? `  ${e.detail}` : ''}`);
}

interface RssComparison {
  readonly minuteOne: readonly Sample[];
  readonly afterMinuteOne: readonly Sample[];
  readonly lastMinute: readonly Sample[];
  readonly reference: number;
  readonly end: number;
  /** (end - reference) / reference */
  readonly change: number;
}

/** The windows the RSS check compares; a sample belongs to the 5 s step it was due in. */
function compareRss(samples: readonly Sample[], loadStartedMs: number): RssComparison {
  const lastMs = samples.at(-1)?.atMs ?? loadStartedMs;
  const between = (fromMs: number, toMs: number) => samples.filter((s) => s.atMs > fromMs + SAMPLE_EVERY_MS / 2 && s.atMs <= toMs + SAMPLE_EVERY_MS / 2);
  const afterMinuteOneFromMs = Math.max(loadStartedMs, Math.min(loadStartedMs + 60_000, lastMs - 60_000));
  const afterMinuteOne = between(afterMinuteOneFromMs, Math.min(afterMinuteOneFromMs + 60_000, lastMs));
  const lastMinute = between(Math.max(loadStartedMs, lastMs - 60_000), lastMs);
  const reference = rssMedian(afterMinuteOne);
  const end = rssMedian(lastMinute);
  return { minuteOne: between(loadStartedMs, loadStartedMs + 60_000), afterMinuteOne, lastMinute, reference, end, change: (end - reference) / reference };
}

async function main(): Promise<number> {
  let options: Options | 'help';
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`soak: ${err.message}\n${USAGE}`);
    return 2;
  }
  if (options === 'help') {
    console.log(USAGE);
    return 0;
  }
  const { minutes, rps, everySeconds } = options;

  const abort = new AbortController();
  let interruptedBy: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interruptedBy !== undefined) {
      console.log(`\n${signal} again: exiting now`);
      process.exit(signal === 'SIGINT' ? 130 : 143);
    }
    interruptedBy = signal;
    console.log(`\n${signal}: stopping the load and closing local-elb (send it again to exit at once)`);
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const fdBaseline = openFds();
  const fdsBefore = fdTargets();
  const config = soakConfig();
  console.log(`local-elb soak: ${minutes} min at ${rps} req/s, a rollout every ${everySeconds} s`);
  console.log(`config:\n${stringify(config).trimEnd().replace(/^/gm, '  ')}`);

  const samples: Sample[] = [];
  const podGroups = new Set<number>();
  let elb: LocalElb | undefined;
  let load: ContinuousLoad | undefined;
  let totals: LoadTotals | undefined;
  let loadStartedMs: number | undefined;
  let sampler: NodeJS.Timeout | undefined;
  let rolloutsDone = 0;
  let rolloutsFailed = 0;
  let rolloutsLate = 0;
  const errors: string[] = [];
  const at = (ms: number) => `t+${seconds(ms - (loadStartedMs ?? ms)).padStart(7)}`;

  const notePods = () => {
    for (const pod of elb?.pods('app') ?? []) if (pod.pid !== undefined) podGroups.add(pod.pid);
  };
  const sample = () => {
    const { rss, heapUsed, heapTotal, external } = process.memoryUsage();
    samples.push({ atMs: Date.now(), rss, heapUsed, heapTotal, external, fds: openFds() });
    notePods();
  };
  const progress = () => {
    const last = samples.at(-1)!;
    console.log(`${at(last.atMs)} sent ${load?.sent ?? 0}, RSS ${mib(last.rss)} (V8 heap ${mib(last.heapUsed)} used of ${mib(last.heapTotal)}, external ${mib(last.external)}), fds ${last.fds}`);
  };

  try {
    elb = await startLocalElb({
      config,
      podOutput: (pod, stream, line) => {
        if (stream === 'stderr') console.log(`  [${pod}] ${line}`);
      },
    });
    notePods();
    const url = elb.url('alb');
    console.log(`\nALB listening on ${url}; ${elb.targetGroup('app').healthyHostCount} healthy targets: ${elb.pods('app').map((p) => `${p.name} ${p.ip}:${p.port}`).join(', ')}`);
    if (abort.signal.aborted) throw abort.signal.reason;

    load = startContinuousLoad(url, { rps, elb, runMs: LOAD_RUN_MS });
    const startedMs = Date.now();
    loadStartedMs = startedMs;
    const endMs = startedMs + minutes * 60_000;
    sample();
    sampler = setInterval(() => {
      sample();
      if (Math.round((Date.now() - startedMs) / SAMPLE_EVERY_MS) % (PROGRESS_EVERY_MS / SAMPLE_EVERY_MS) === 0) progress();
    }, SAMPLE_EVERY_MS);

    let running: Promise<void> | undefined;
    let rolling = false;
    for (let n = 1; ; n++) {
      const dueMs = startedMs + n * everySeconds * 1000;
      if (dueMs >= endMs) break;
      await sleep(dueMs - Date.now(), abort.signal);
      if (abort.signal.aborted) break;
      if (rolling && running !== undefined) {
        rolloutsLate++;
        console.log(`${at(Date.now())} rollout ${n} is due but rollout ${n - 1} is still running: waiting for it`);
        await unlessAborted(running, abort.signal);
        if (abort.signal.aborted) break;
      }
      const rolloutStartedMs = Date.now();
      console.log(`${at(rolloutStartedMs)} rollout ${n} started`);
      rolling = true;
      running = elb.rollout('app').then(
        () => {
          rolling = false;
          if (abort.signal.aborted) return console.log(`${at(Date.now())} rollout ${n} cut short by ${interruptedBy}`);
          rolloutsDone++;
          console.log(`${at(Date.now())} rollout ${n} finished in ${seconds(Date.now() - rolloutStartedMs)}; ${elb?.targetGroup('app').healthyHostCount} healthy targets`);
        },
        (err: unknown) => {
          rolling = false;
          rolloutsFailed++;
          errors.push(`rollout ${n}: ${(err as Error).message}`);
          console.log(`${at(Date.now())} rollout ${n} failed: ${(err as Error).message}`);
        },
      );
    }
    await sleep(endMs - Date.now(), abort.signal);
    if (rolling && running !== undefined && !abort.signal.aborted) {
      console.log(`${at(Date.now())} the run is over but a rollout is still running: keeping the load on until it finishes`);
      await unlessAborted(running, abort.signal);
    }
  } catch (err) {
    if (!abort.signal.aborted) {
      console.error(`soak: ${(err as Error).stack ?? String(err)}`);
      errors.push(`run: ${(err as Error).message}`);
    }
  } finally {
    if (sampler !== undefined) {
      clearInterval(sampler);
      sample();
      progress();
    }
    try {
      if (load !== undefined) totals = await load.stop();
    } catch (err) {
      errors.push(`stopping the load: ${(err as Error).message}`);
    }
    await elb?.close();
  }

  const deadlineMs = Date.now() + FD_DEADLINE_MS;
  const fdsSettled = await pollUntil(() => openFds() <= fdBaseline + FD_MARGIN, deadlineMs);
  const fdEnd = openFds();
  const podsGone = await pollUntil(() => [...podGroups].every((pgid) => !processGroupAlive(pgid)), deadlineMs);
  const podsLeft = [...podGroups].filter(processGroupAlive);

  if (totals !== undefined && totals.failed.length > 0 && elb !== undefined) printFailures(totals, elb, at);
  if (fdEnd > fdBaseline) {
    console.log('\nopen descriptors after close that were not open before local-elb started:');
    for (const [fd, target] of fdTargets()) if (fdsBefore.get(fd) !== target) console.log(`  fd ${fd} -> ${target}`);
  }

  const rss = compareRss(samples, loadStartedMs ?? Date.now());
  const checks: Array<{ name: string; ok: boolean }> = [
    { name: 'no lost requests', ok: totals !== undefined && totals.failed.length === 0 },
    { name: 'no errors (rollouts, start, stop)', ok: errors.length === 0 },
    { name: `RSS at the end within ${RSS_TOLERANCE * 100}% of RSS after minute 1`, ok: Math.abs(rss.change) <= RSS_TOLERANCE },
    { name: `fds back to baseline (+${FD_MARGIN}) within ${FD_DEADLINE_MS / 1000} s of close`, ok: fdsSettled },
    { name: 'no pod process left running', ok: podsGone },
  ];
  const verdict = interruptedBy !== undefined ? `INTERRUPTED by ${interruptedBy} (partial run)` : checks.every((c) => c.ok) ? 'PASS' : 'FAIL';
  const window = (list: readonly Sample[]) =>
    list.length > 0 && loadStartedMs !== undefined ? `${list.length} samples, t+${seconds(list[0]!.atMs - loadStartedMs)}–${seconds(list.at(-1)!.atMs - loadStartedMs)}` : 'no samples';
  const requests =
    totals === undefined
      ? 'none (the load did not start)'
      : `${totals.total} sent at ${rps}/s: ${Object.entries({ ok: totals.ok, ...totals.failureCounts }).map(([what, count]) => `${count} ${what}`).join(', ')}`;
  const ranMs = loadStartedMs === undefined ? 0 : (samples.at(-1)?.atMs ?? loadStartedMs) - loadStartedMs;
  const percent = Number.isFinite(rss.change) ? `${rss.change >= 0 ? '+' : ''}${(rss.change * 100).toFixed(1)}%` : '-';

  console.log(`
summary
  minutes run     ${(ranMs / 60_000).toFixed(2)} of ${minutes}
  rollouts        ${rolloutsDone} done, ${rolloutsFailed} failed, ${rolloutsLate} started late (the previous one was still running)
  requests        ${requests}
  RSS             after minute 1 ${mib(rss.reference)} (median of ${window(rss.afterMinuteOne)})
                  at the end     ${mib(rss.end)} (median of ${window(rss.lastMinute)}), ${percent}
                  peak           ${mib(Math.max(...samples.map((s) => s.rss)))}; in minute 1 (warm-up, not compared) ${mib(rssMedian(rss.minuteOne))} median, ${mib(samples[0]?.rss ?? Number.NaN)} at the start
  fds             baseline ${fdBaseline}, peak ${Math.max(fdBaseline, ...samples.map((s) => s.fds))}, at the end ${fdEnd} (after close)
  pod processes   ${podGroups.size} seen, ${podsLeft.length} still running after close${podsLeft.length > 0 ? ` (process groups ${podsLeft.join(', ')})` : ''}
${errors.map((e) => `  error           ${e}\n`).join('')}${checks.map((c) => `  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}`).join('\n')}
${verdict}`);

  if (interruptedBy !== undefined) return interruptedBy === 'SIGINT' ? 130 : 143;
  return checks.every((c) => c.ok) ? 0 : 1;
}

process.exit(await main());
