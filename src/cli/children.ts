/**
 * Child processes the CLI starts (demo targets). Every child is tracked by PID and ended with
 * its parent: on close, on error, on Ctrl-C, and (SIGKILL, synchronously) on exit.
 */
import { fork, type ChildProcess } from 'node:child_process';

const live = new Set<ChildProcess>();
let exitHook = false;

function installExitHook(): void {
  if (exitHook) return;
  exitHook = true;
  process.on('exit', () => {
    for (const child of live) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
}

/** Node flags a child needs to run .ts files on this Node (type stripping is default from 23.6). */
export function typeScriptExecArgv(): string[] {
  return (process.features as { typescript?: unknown }).typescript ? [] : ['--experimental-strip-types', '--no-warnings'];
}

export function forkTracked(modulePath: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  installExitHook();
  const child = fork(modulePath, args, { env, execArgv: typeScriptExecArgv(), stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the child has exited. */
export function stopChild(child: ChildProcess, graceMs = 2000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
