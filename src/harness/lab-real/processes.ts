/**
 * The processes of a real lab run (targets, kube-proxy stand-ins, local-elb, the load
 * generator), on both sides of their IPC channel. The parent tracks every child it forks by
 * PID and ends them when the run ends, fails or is aborted, and SIGKILLs what is left when it
 * exits; a child ends when its channel to the parent closes, so it dies with the parent
 * whatever ends the parent (a SIGKILL too). Nothing is ever ended by name.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Messages both ways are `{ type, … }` objects. */
export interface Message {
  readonly type: string;
  readonly [field: string]: unknown;
}

/** A child module beside this file (`target-process` → target-process.ts, or .js in the built package). */
export function childModule(name: string): string {
  const ext = import.meta.url.endsWith('.js') ? '.js' : '.ts';
  return fileURLToPath(new URL(`./${name}${ext}`, import.meta.url));
}

/** Node flags a child needs to run .ts files on this Node (type stripping is default from 23.6). */
function typeScriptExecArgv(): string[] {
  if (!import.meta.url.endsWith('.ts')) return [];
  return (process.features as { typescript?: unknown }).typescript ? [] : ['--experimental-strip-types', '--no-warnings'];
}

/** A child process: its PID, a tail of its stderr for error messages, requests and replies over IPC (the benches' Child extends it). */
export class LabChild {
  readonly name: string;
  readonly process: ChildProcess;
  readonly exited: Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null }>;
  #stderr = '';

  constructor(name: string, child: ChildProcess) {
    this.name = name;
    this.process = child;
    child.stderr?.setEncoding('utf8').on('data', (s: string) => (this.#stderr = (this.#stderr + s).slice(-4000)));
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
      child.once('error', (err) => {
        this.#stderr += `\n${String(err)}`;
        if (child.pid === undefined) resolve({ code: null, signal: null });
      });
    });
  }

  get pid(): number {
    return this.process.pid ?? -1;
  }

  get running(): boolean {
    return this.process.pid !== undefined && this.process.exitCode === null && this.process.signalCode === null;
  }

  stderrTail(): string {
    return this.#stderr.trim();
  }

  send(message: Message): void {
    if (this.process.connected) this.process.send(message);
  }

  /** Sends `message` and resolves with the child's first `{ type: replyType }` message after it. */
  request<T extends Message>(message: Message, replyType: T['type'], timeoutMs: number): Promise<T> {
    const reply = this.message<T>(replyType, timeoutMs);
    this.send(message);
    return reply;
  }

  /** The first `{ type }` message; rejects when the child exits, reports `{ type: 'error' }`, or the deadline passes. */
  message<T extends { readonly type: string }>(type: T['type'], timeoutMs: number): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => done(new Error(`${this.name} (pid ${this.pid}) sent no ${type} message within ${timeoutMs} ms${this.#why()}`)), timeoutMs);
      const onMessage = (m: unknown) => {
        if (typeof m !== 'object' || m === null) return;
        const t = (m as { type?: unknown }).type;
        if (t === type) done(undefined, m as T);
        else if (t === 'error') done(new Error(`${this.name} (pid ${this.pid}): ${(m as { message?: string }).message ?? 'failed'}`));
      };
      const onExit = () => done(new Error(`${this.name} (pid ${this.pid}) exited before it sent ${type}${this.#why()}`));
      const done = (err: Error | undefined, value?: T) => {
        clearTimeout(timer);
        this.process.off('message', onMessage).off('exit', onExit).off('error', onExit);
        if (err) reject(err);
        else resolve(value!);
      };
      // A spawn that fails (ENOENT) may emit only 'error'.
      this.process.on('message', onMessage).on('exit', onExit).on('error', onExit);
    });
  }

  #why(): string {
    const tail = this.stderrTail();
    return tail ? `; its stderr:\n${tail}` : '';
  }
}

/** Every child of one run, by PID. */
export class LabProcesses {
  readonly #children = new Set<LabChild>();
  readonly #onExit = () => this.killAllSync();
  #stopping = false;

  constructor() {
    process.on('exit', this.#onExit);
  }

  /** PIDs of the children still running. */
  get pids(): number[] {
    return [...this.#children].filter((c) => c.running).map((c) => c.pid);
  }

  /** Forks `module` (a child module of this folder) with an IPC channel; stdout is dropped, stderr kept for errors. */
  spawn(name: string, module: string, options: { readonly execArgv?: readonly string[]; readonly env?: NodeJS.ProcessEnv } = {}): LabChild {
    if (this.#stopping) throw new Error(`not starting ${name}: the run is stopping`);
    const child = new LabChild(
      name,
      fork(childModule(module), [], {
        execArgv: [...typeScriptExecArgv(), ...(options.execArgv ?? [])],
        // V8's code cache and the type-stripped sources kept between runs, as bin/local-elb.js keeps them:
        // a child starts in a fraction of the time on a busy machine.
        env: { NODE_COMPILE_CACHE: join(tmpdir(), 'node-compile-cache'), ...process.env, ...options.env },
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      }),
    );
    this.#children.add(child);
    void child.exited.then(() => this.#children.delete(child));
    return child;
  }

  /** SIGKILL by PID (a target process dying, as a crash does); resolves when it has exited. */
  async kill(child: LabChild): Promise<void> {
    if (child.running) process.kill(child.pid, 'SIGKILL');
    await child.exited;
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it has exited. */
  async stop(child: LabChild, graceMs = 2000): Promise<void> {
    if (!child.running) return;
    process.kill(child.pid, 'SIGTERM');
    const timer = setTimeout(() => child.running && process.kill(child.pid, 'SIGKILL'), graceMs);
    await child.exited;
    clearTimeout(timer);
  }

  /** Stops every child and forgets the exit hook; nothing can be started afterwards. */
  async stopAll(): Promise<void> {
    this.#stopping = true;
    await Promise.all([...this.#children].map((c) => this.stop(c)));
    process.off('exit', this.#onExit);
  }

  /** For `process.on('exit')`, where nothing async runs: SIGKILL whatever is left, by PID. */
  killAllSync(): void {
    for (const c of this.#children) {
      if (!c.running) continue;
      try {
        process.kill(c.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

/**
 * The child side: replies go to the parent; the child exits when the channel closes (the
 * parent is gone) or on SIGTERM/SIGINT, after `close` (bounded to 2 s).
 */
export function asChild(close: () => Promise<void> | void = () => {}): { send(message: Message): void; onMessage(handler: (message: Message) => void): void } {
  if (process.send === undefined) throw new Error('this module is a child of a real lab run (src/harness/lab-real/run.ts); it needs an IPC channel to its parent');
  let exiting = false;
  const exit = () => {
    if (exiting) return;
    exiting = true;
    setTimeout(() => process.exit(0), 2000).unref();
    void Promise.resolve()
      .then(close)
      .finally(() => process.exit(0));
  };
  process.on('disconnect', exit);
  process.on('SIGTERM', exit);
  process.on('SIGINT', exit);
  const fail = (err: unknown) => {
    process.send?.({ type: 'error', message: (err as Error).stack ?? String(err) });
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`, () => process.exit(1));
  };
  process.on('uncaughtException', fail);
  process.on('unhandledRejection', fail);
  return {
    send: (message) => {
      if (process.connected) process.send!(message);
    },
    onMessage: (handler) =>
      process.on('message', (m: unknown) => {
        if (typeof m !== 'object' || m === null || typeof (m as { type?: unknown }).type !== 'string') return;
        try {
          const r = handler(m as Message) as unknown;
          if (r instanceof Promise) r.catch(fail);
        } catch (err) {
          fail(err);
        }
      }),
  };
}
