/**
 * Runs the real `local-elb` CLI (bin/local-elb.js) as a child process, reads what it prints,
 * and always ends it (by its PID) when the test is over.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { StopWaiting, waitFor } from './wait.ts';

export const BIN = fileURLToPath(new URL('../../bin/local-elb.js', import.meta.url));

export interface RunningCli {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /**
   * Resolves with the first match of `re` in stdout, polling until `timeoutMs` (default 60 s: a
   * deadline for a hang, not a margin; one CLI start has taken 7 s on this 2-core machine at a
   * load average of 15). Fails at once if the process exits first.
   */
  waitForStdout(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Sends `signal` and resolves with the exit code (or the signal name). */
  stop(signal?: NodeJS.Signals): Promise<number | string>;
  readonly exited: Promise<number | string>;
}

/** `wrapper`: a command that runs the CLI (e.g. `setpriv …` to drop a capability). */
export function startCli(args: readonly string[], env: NodeJS.ProcessEnv = {}, wrapper: readonly string[] = []): RunningCli {
  const argv = [...wrapper, process.execPath, BIN, ...args];
  const child = spawn(argv[0]!, argv.slice(1), { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    waitForStdout: (re, timeoutMs = 60_000) =>
      waitFor(
        () => {
          const m = out.match(re);
          if (m === null && child.exitCode !== null) throw new StopWaiting(`exited with ${child.exitCode}; stdout: ${out.slice(-500)} stderr: ${err.slice(-500)}`);
          return m;
        },
        { timeoutMs, what: `${re} in stdout` },
      ),
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
    exited,
  };
}

/** Runs a CLI command to completion. */
export async function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | string; stdout: string; stderr: string }> {
  const cli = startCli(args, env);
  const code = await cli.exited;
  return { code, stdout: cli.stdout(), stderr: cli.stderr() };
}

/** True while a process with this PID exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
