/**
 * A PodRuntime and a PodProber for unit tests: no processes, no sockets, no sleeps. Fake
 * processes live on the test's virtual clock, record every signal with the time it arrived,
 * and react to SIGTERM as the test scripts (exit at once, exit after a while, or ignore it);
 * SIGKILL always ends them. The prober answers from a table the test flips.
 */
import type { Clock } from '../../src/core/clock.ts';
import type { PodProbeConfig } from '../../src/config/schema.ts';
import type { PodProber } from '../../src/pods/probes.ts';
import type { OutputSink, PodRuntime, ProcessExit, ProcessHandle, ProcessSpec } from '../../src/pods/runtime.ts';

/** What a container does when it receives SIGTERM. */
export type SigtermBehaviour =
  | { readonly kind: 'exit' }
  | { readonly kind: 'exitAfter'; readonly ms: number }
  | { readonly kind: 'ignore' };

export const EXIT_AT_ONCE: SigtermBehaviour = { kind: 'exit' };
export const IGNORE_SIGTERM: SigtermBehaviour = { kind: 'ignore' };
export const exitAfter = (ms: number): SigtermBehaviour => ({ kind: 'exitAfter', ms });

export interface ReceivedSignal {
  readonly signal: NodeJS.Signals;
  readonly timeMs: number;
}

/** One fake process: a container (`start`) or a preStop hook (`exec`). */
export class FakeProcess implements ProcessHandle {
  readonly pid: number;
  readonly kind: 'container' | 'exec';
  readonly spec: ProcessSpec;
  readonly output: OutputSink;
  readonly startedAtMs: number;
  /** Every signal sent while the process was alive, in order, with the virtual time. */
  readonly signals: ReceivedSignal[] = [];
  readonly exited: Promise<ProcessExit>;
  /** Can be changed per process before the signal arrives. */
  onSigterm: SigtermBehaviour;
  #exit: (ProcessExit & { readonly timeMs: number }) | undefined;
  #resolve!: (exit: ProcessExit) => void;
  #cancelPending: () => void = () => {};
  readonly #clock: Clock;

  constructor(options: { pid: number; kind: 'container' | 'exec'; spec: ProcessSpec; output: OutputSink; clock: Clock; onSigterm: SigtermBehaviour }) {
    this.pid = options.pid;
    this.kind = options.kind;
    this.spec = options.spec;
    this.output = options.output;
    this.#clock = options.clock;
    this.onSigterm = options.onSigterm;
    this.startedAtMs = options.clock.now();
    this.exited = new Promise((resolve) => (this.#resolve = resolve));
  }

  get running(): boolean {
    return this.#exit === undefined;
  }

  /** How it ended and when, once it has. */
  get exit(): (ProcessExit & { readonly timeMs: number }) | undefined {
    return this.#exit;
  }

  /** The signals received, as names only (`['SIGTERM', 'SIGKILL']`). */
  get signalNames(): NodeJS.Signals[] {
    return this.signals.map((s) => s.signal);
  }

  kill(signal: NodeJS.Signals): void {
    if (!this.running) return;
    this.signals.push({ signal, timeMs: this.#clock.now() });
    if (signal === 'SIGKILL') return this.#end({ code: null, signal: 'SIGKILL' });
    if (signal !== 'SIGTERM') return;
    const behaviour = this.onSigterm;
    if (behaviour.kind === 'exit') this.#end({ code: null, signal: 'SIGTERM' });
    else if (behaviour.kind === 'exitAfter' && this.signals.filter((s) => s.signal === 'SIGTERM').length === 1) {
      this.#cancelPending = this.#clock.setTimer(behaviour.ms, () => this.#end({ code: 0, signal: null }));
    }
  }

  /** The process ends on its own (a crash with a non-zero code, or a clean exit with 0). */
  crash(code = 1): void {
    this.#end({ code, signal: null });
  }

  /** Ends the process after `ms` of virtual time with `code` (an exec hook finishing). */
  finishAfter(ms: number, code = 0): void {
    this.#cancelPending();
    this.#cancelPending = this.#clock.setTimer(ms, () => this.#end({ code, signal: null }));
  }

  #end(exit: ProcessExit): void {
    if (!this.running) return;
    this.#cancelPending();
    this.#exit = { ...exit, timeMs: this.#clock.now() };
    this.#resolve(exit);
  }
}

export interface FakeRuntimeOptions {
  /** What new containers do on SIGTERM; exit at once by default. */
  readonly onSigterm?: SigtermBehaviour;
  /** How long preStop exec hooks run before exiting 0; 0 by default. */
  readonly execDurationMs?: number;
}

/** A PodRuntime whose processes are FakeProcesses on the given clock. */
export class FakeRuntime implements PodRuntime {
  readonly #clock: Clock;
  #nextPid = 1000;
  /** Every process ever started, containers and exec hooks, in order. */
  readonly processes: FakeProcess[] = [];
  /** Applies to containers started from now on. */
  onSigterm: SigtermBehaviour;
  /** Applies to exec hooks started from now on. */
  execDurationMs: number;

  constructor(clock: Clock, options: FakeRuntimeOptions = {}) {
    this.#clock = clock;
    this.onSigterm = options.onSigterm ?? EXIT_AT_ONCE;
    this.execDurationMs = options.execDurationMs ?? 0;
  }

  start(spec: ProcessSpec, output: OutputSink): FakeProcess {
    return this.#add('container', spec, output, this.onSigterm);
  }

  exec(spec: ProcessSpec, output: OutputSink): FakeProcess {
    const process = this.#add('exec', spec, output, IGNORE_SIGTERM);
    process.finishAfter(this.execDurationMs);
    return process;
  }

  /** Containers (not exec hooks), optionally of one pod only (by POD_NAME). */
  containers(podName?: string): FakeProcess[] {
    return this.processes.filter((p) => p.kind === 'container' && (podName === undefined || p.spec.env['POD_NAME'] === podName));
  }

  /** Exec hooks, optionally of one pod only. */
  execs(podName?: string): FakeProcess[] {
    return this.processes.filter((p) => p.kind === 'exec' && (podName === undefined || p.spec.env['POD_NAME'] === podName));
  }

  /** The latest container of a pod (after restarts, the current one). */
  container(podName: string): FakeProcess {
    const all = this.containers(podName);
    const last = all[all.length - 1];
    if (last === undefined) throw new Error(`no container was started for pod ${podName}`);
    return last;
  }

  /** Processes still running. */
  running(): FakeProcess[] {
    return this.processes.filter((p) => p.running);
  }

  #add(kind: 'container' | 'exec', spec: ProcessSpec, output: OutputSink, onSigterm: SigtermBehaviour): FakeProcess {
    const process = new FakeProcess({ pid: this.#nextPid++, kind, spec, output, clock: this.#clock, onSigterm });
    this.processes.push(process);
    return process;
  }
}

/** What a scripted probe answers: pass, fail, or hang until the probe's timeout aborts it. */
export type ProbeAnswer = boolean | 'hang';

export interface ProbeCall {
  readonly ip: string;
  readonly port: number;
  readonly path: string | undefined;
  readonly timeMs: number;
}

/**
 * A PodProber answering from a table: per `ip` and HTTP path (`answer(ip, false, '/live')`),
 * else per `ip`, else the default. Records every call with the virtual time.
 */
export class ScriptedProber {
  readonly calls: ProbeCall[] = [];
  readonly #answers = new Map<string, ProbeAnswer>();
  readonly #clock: Clock;
  #default: ProbeAnswer;

  constructor(clock: Clock, defaultAnswer: ProbeAnswer = true) {
    this.#clock = clock;
    this.#default = defaultAnswer;
  }

  /** Sets what probes of `ip` (and `path`, when given) answer from now on. */
  answer(ip: string, answer: ProbeAnswer, path?: string): void {
    this.#answers.set(path === undefined ? ip : `${ip} ${path}`, answer);
  }

  /** Sets what every probe without its own answer returns. */
  answerAll(answer: ProbeAnswer): void {
    this.#default = answer;
  }

  /** The calls made to `ip` (and `path`, when given). */
  callsTo(ip: string, path?: string): ProbeCall[] {
    return this.calls.filter((c) => c.ip === ip && (path === undefined || c.path === path));
  }

  readonly prober: PodProber = (probe: PodProbeConfig, ip: string, port: number, signal: AbortSignal) => {
    const path = probe.httpGet?.path;
    this.calls.push({ ip, port, path, timeMs: this.#clock.now() });
    const a = (path !== undefined ? this.#answers.get(`${ip} ${path}`) : undefined) ?? this.#answers.get(ip) ?? this.#default;
    if (a !== 'hang') return Promise.resolve(a);
    return new Promise<boolean>((resolve) => signal.addEventListener('abort', () => resolve(false), { once: true }));
  };
}
