/**
 * Child processes for loopback benchmarks: every process a bench starts is tracked by PID and
 * stopped when the bench ends, fails or is interrupted (SIGINT/SIGTERM). Nothing is ever
 * killed by name. Readiness is polled with a deadline, never slept for.
 */
import { spawn, spawnSync, execFileSync, type ChildProcess, type StdioOptions } from 'node:child_process';
import { accessSync, constants, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { LabChild } from '../../src/harness/lab-real/processes.ts';

export interface SpawnSpec {
  readonly command: string;
  readonly args?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  /** Extra file descriptors handed to the child as fd 3, 4, …; IPC is added for Node children. */
  readonly fds?: readonly number[];
  readonly ipc?: boolean;
  /** Keep stdout for the caller (load generators); otherwise it is discarded. */
  readonly stdout?: boolean;
  /**
   * Run only on these CPUs, a `taskset -c` list such as `1` or `0,2`. taskset sets the
   * affinity and execs the command, so the PID (and its /proc CPU time) is the command's own.
   */
  readonly cpus?: string;
}

/**
 * A started child: the lab's child handle (src/harness/lab-real/processes.ts: PID, a tail of its
 * stderr, how it ended, IPC messages with a deadline), plus its stdout when the spec keeps it.
 */
export class Child extends LabChild {
  #stdout = '';

  constructor(name: string, child: ChildProcess) {
    super(name, child);
    child.stdout?.setEncoding('utf8').on('data', (s: string) => (this.#stdout += s));
  }

  get stdout(): string {
    return this.#stdout;
  }
}

export class ProcessGroup {
  readonly #children = new Set<Child>();
  #stopping = false;

  /** True once `stopAll` was called: the bench is ending and starts nothing more. */
  get stopping(): boolean {
    return this.#stopping;
  }

  spawn(name: string, spec: SpawnSpec): Child {
    if (this.#stopping) throw new Error(`not starting ${name}: the bench is stopping`);
    const stdio: StdioOptions = ['ignore', spec.stdout ? 'pipe' : 'ignore', 'pipe', ...(spec.fds ?? []), ...(spec.ipc ? ['ipc' as const] : [])];
    const [command, args] = spec.cpus === undefined ? [spec.command, spec.args ?? []] : [taskset(), ['-c', spec.cpus, spec.command, ...(spec.args ?? [])]];
    const proc = spawn(command, [...args], { stdio, env: spec.env ?? process.env });
    const child = new Child(name, proc);
    this.#children.add(child);
    void child.exited.then(() => this.#children.delete(child));
    return child;
  }

  /**
   * SIGTERM, then SIGKILL to the child and the processes it started (nginx's worker) if it is
   * still there after `graceMs`.
   */
  async stop(child: Child, graceMs = 3000): Promise<void> {
    if (!child.running) return;
    child.process.kill('SIGTERM');
    const timer = setTimeout(() => child.running && killTree(child.pid), graceMs);
    await child.exited;
    clearTimeout(timer);
  }

  async stopAll(): Promise<void> {
    this.#stopping = true;
    await Promise.all([...this.#children].map((c) => this.stop(c)));
  }

  /** For `process.on('exit')`, where nothing async runs: SIGKILL whatever is left, by PID. */
  killAllSync(): void {
    for (const c of this.#children) if (c.running) killTree(c.pid);
  }
}

/**
 * Stops every child of `group` on SIGINT/SIGTERM (then exits 130/143) and SIGKILLs leftovers on
 * exit, whatever the reason. `onExit` runs last, synchronously (removing temp files).
 */
export function stopChildrenOnExit(group: ProcessGroup, onExit: () => void = () => {}): void {
  let stopping = false;
  for (const [signal, status] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      process.stderr.write(`\n${signal}: stopping child processes\n`);
      void group.stopAll().finally(() => process.exit(status));
    });
  }
  process.on('exit', () => {
    group.killAllSync();
    onExit();
  });
}

/** The absolute path of `name` on PATH when it is an executable file. */
export function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const file = path.join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

function taskset(): string {
  const bin = onPath('taskset');
  if (bin === undefined) throw new Error('cannot pin a child to a CPU: taskset is not on PATH (on Debian it is in util-linux)');
  return bin;
}

/** The CPUs this process may run on (`Cpus_allowed_list` in /proc/self/status); empty where that is unknown. */
export function allowedCpus(): number[] {
  let list: string;
  try {
    list = /^Cpus_allowed_list:\s*(\S+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '';
  } catch {
    return [];
  }
  return list.split(',').flatMap((range) => {
    const [from, to] = range.split('-').map(Number);
    const last = to ?? from;
    return from === undefined || last === undefined || !Number.isInteger(from) || !Number.isInteger(last) ? [] : Array.from({ length: last - from + 1 }, (_, i) => from + i);
  });
}

/**
 * Pins this process and all its threads to `cpus` (`taskset -a -p -c`), so the bench's own
 * event loop and V8 threads stay off the cores it keeps for the system under test. Children
 * inherit it unless spawned with their own `cpus`.
 */
export function pinThisProcess(cpus: string): void {
  execFileSync(taskset(), ['-a', '-p', '-c', cpus, String(process.pid)], { stdio: 'ignore' });
}

/**
 * A socket bound and listening on 127.0.0.1 with an OS-chosen port, for a child that cannot
 * report the port it bound (HAProxy `bind fd@3`, nginx's inherited `NGINX` sockets). Pass `fd`
 * to the child, then `close()` the parent's copy: the child keeps listening on the same port.
 * This avoids "listen, close, hope nobody takes the port" races.
 */
export interface ReservedListener {
  readonly port: number;
  readonly fd: number;
  close(): void;
}

export async function reserveListener(): Promise<ReservedListener> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const fd = (server as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) {
    server.close();
    throw new Error('cannot read the listening socket fd on this platform (needed to hand a port to HAProxy or nginx)');
  }
  return { port: (server.address() as AddressInfo).port, fd, close: () => server.close() };
}

/** One GET with a fresh connection; resolves with the status code. */
export function httpStatus(url: string, timeoutMs = 2000): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

/** PIDs whose parent is `pid` (Linux /proc; empty elsewhere). */
function childPids(pid: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const found: number[] = [];
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) found.push(Number(name));
    } catch {
      // gone already
    }
  }
  return found;
}

/** `pid` and every process below it: the processes this bench started, directly or not. */
function processTree(pid: number): number[] {
  const all = [pid];
  for (let i = 0; i < all.length; i++) all.push(...childPids(all[i]!));
  return all;
}

/** SIGKILL to `pid` and its descendants, children first found before the parent dies. */
function killTree(pid: number): void {
  for (const p of processTree(pid).reverse()) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

const clockTicksPerSecond = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/**
 * User + system CPU time in ms of a process and its descendants (nginx's master and worker),
 * from Linux /proc; undefined elsewhere. With `reaped`, also the time of descendants that have
 * exited and been waited for (cutime + cstime): a load generator run that has finished.
 */
export function cpuTimeMs(pid: number, { reaped = false }: { readonly reaped?: boolean } = {}): number | undefined {
  let total = 0;
  for (const p of processTree(pid)) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ticks = Number(fields[11]) + Number(fields[12]) + (reaped ? Number(fields[13]) + Number(fields[14]) : 0);
      total += (ticks * 1000) / clockTicksPerSecond;
    } catch {
      if (p === pid) return undefined;
    }
  }
  return total;
}

/**
 * The whole machine's CPU time in ms, summed over its CPUs, from the first line of /proc/stat:
 * `busyMs` is user + nice + system + irq + softirq (the kernel counts softirq ticks apart, but
 * charges them to the process that was running, so they belong in the sum a process tree's
 * CPU time is taken from), `stealMs` what the hypervisor took. Undefined off Linux.
 */
export function machineCpuMs(): { readonly busyMs: number; readonly stealMs: number } | undefined {
  try {
    const ticks = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = ticks;
    return { busyMs: ((user + nice + system + irq + softirq) * 1000) / clockTicksPerSecond, stealMs: (steal * 1000) / clockTicksPerSecond };
  } catch {
    return undefined;
  }
}

/** Starts a Node bench child (with IPC) and waits for its `{ type: 'ready', ports }` message. */
export async function startNodeChild(
  group: ProcessGroup,
  name: string,
  script: string,
  args: readonly string[],
  timeoutMs: number,
  { nodeArgs = [], cpus }: { readonly nodeArgs?: readonly string[]; readonly cpus?: string } = {},
): Promise<{ child: Child; ports: readonly number[] }> {
  const child = group.spawn(name, { command: process.execPath, args: [...nodeArgs, script, ...args], ipc: true, cpus });
  const ready = await child.message<{ type: 'ready'; ports: readonly number[] }>('ready', timeoutMs);
  return { child, ports: ready.ports };
}

/**
 * Starts a non-Node server (HAProxy, nginx) with the parent's listening sockets as fd 3, 4, …,
 * then closes the parent's copies: the child keeps listening on the same ports.
 */
export function spawnWithListeners(
  group: ProcessGroup,
  name: string,
  command: string,
  args: readonly string[],
  listeners: readonly ReservedListener[],
  env: NodeJS.ProcessEnv = process.env,
  cpus?: string,
): Child {
  try {
    return group.spawn(name, { command, args, env, fds: listeners.map((l) => l.fd), cpus });
  } finally {
    for (const l of listeners) l.close();
  }
}

/** Polls `url` until it answers 200, with a deadline; fails at once if `child` exits first. */
export async function untilAnswering(url: string, child: Child | undefined, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  for (;;) {
    if (child !== undefined && !child.running) {
      throw new Error(`${what} exited before answering at ${url}${child.stderrTail() ? `; stderr:\n${child.stderrTail()}` : ''}`);
    }
    try {
      const status = await httpStatus(url);
      if (status === 200) return;
      last = `status ${status}`;
    } catch (err) {
      last = String(err);
    }
    if (Date.now() > deadline) throw new Error(`${what} did not answer 200 at ${url} within ${timeoutMs} ms: ${last}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** The version a tool prints (`nginx -v`, `haproxy -v`), or `?`. */
export function toolVersion(command: string, args: readonly string[], re: RegExp): string {
  const out = spawnSync(command, [...args], { encoding: 'utf8' });
  return re.exec(`${out.stdout}${out.stderr}`)?.[1] ?? '?';
}

/** A temporary directory for configs and fixtures, made on first use; `remove()` is synchronous. */
export class ScratchDir {
  readonly #prefix: string;
  #root: string | undefined;

  constructor(prefix: string) {
    this.#prefix = prefix;
  }

  /** `<root>/<name>`, created if needed. */
  dir(name: string): string {
    this.#root ??= mkdtempSync(path.join(os.tmpdir(), this.#prefix));
    const dir = path.join(this.#root, name);
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  remove(): void {
    if (this.#root !== undefined) rmSync(this.#root, { recursive: true, force: true });
  }
}
