/**
 * How pods run: the real runtime starts child processes (each in its own process group, so a
 * signal reaches the app and its children, and nothing outlives the parent); tests use a fake
 * runtime with scripted processes and a virtual clock. Only this file spawns processes.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A running process of a pod's container. */
export interface ProcessHandle {
  readonly pid: number;
  /** Sends a signal to the process group; safe after exit. */
  kill(signal: NodeJS.Signals): void;
  readonly exited: Promise<ProcessExit>;
}

export interface ProcessSpec {
  readonly name: string;
  readonly command: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd?: string;
}

export type OutputSink = (stream: 'stdout' | 'stderr', line: string) => void;

/** Starts containers and runs preStop exec hooks. */
export interface PodRuntime {
  start(spec: ProcessSpec, output: OutputSink): ProcessHandle;
  /** Runs a command to completion (a preStop `exec` hook); resolves with its exit. */
  exec(spec: ProcessSpec, output: OutputSink): ProcessHandle;
}

const live = new Map<number, ProcessHandle>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort: whatever is still running when this process exits is killed with it.
  process.on('exit', () => {
    for (const handle of live.values()) handle.kill('SIGKILL');
  });
}

/** Process groups started by this process that have not exited yet (for tests and diagnostics). */
export function liveProcessCount(): number {
  return live.size;
}

/** The real runtime: `child_process.spawn` with a process group per container. */
export const childProcessRuntime: PodRuntime = {
  start: (spec, output) => spawnProcess(spec, output),
  exec: (spec, output) => spawnProcess(spec, output),
};

function spawnProcess(spec: ProcessSpec, output: OutputSink): ProcessHandle {
  installExitHook();
  const [file, ...args] = spec.command;
  const child = spawn(file!, args, {
    cwd: spec.cwd,
    env: { ...process.env, ...spec.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let exitedAlready = false;
  const exited = new Promise<ProcessExit>((resolve) => {
    child.once('exit', (code, signal) => {
      exitedAlready = true;
      resolve({ code, signal });
    });
    child.once('error', (err: NodeJS.ErrnoException) => {
      exitedAlready = true;
      output('stderr', `failed to start ${file}: ${err.code ?? err.message}`);
      resolve({ code: 127, signal: null });
    });
  });
  for (const [stream, readable] of [['stdout', child.stdout!], ['stderr', child.stderr!]] as const) {
    createInterface({ input: readable, crlfDelay: Infinity }).on('line', (line) => output(stream, line));
  }
  const pid = child.pid ?? -1;
  const handle: ProcessHandle = {
    pid,
    exited,
    kill(signal) {
      if (exitedAlready || pid <= 0) return;
      try {
        process.kill(-pid, signal); // the whole process group, by the PID we started
      } catch {
        try {
          child.kill(signal);
        } catch {
          // already gone
        }
      }
    },
  };
  if (pid > 0) {
    live.set(pid, handle);
    void exited.then(() => live.delete(pid));
  }
  return handle;
}
