/**
 * The README's examples, taken from README.md itself and run, so the docs cannot drift (issue
 * 17): the config reference (validated verbatim; served with its listener ports moved to 0 so
 * the test never collides with a demo or another test, the one change), the local-pods example
 * (served from the repository's root, same one change), the library snippet (verbatim: only
 * the package name resolves to src/index.ts, as the README tells repository users), and one
 * README command under the machine's own Node.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/main.ts';
import { alive, runCli, startCli, type RunningCli } from '../support/cli.ts';
import { machineNode, machinePath, REPO } from '../support/machine-node.ts';
import { waitFor } from '../support/wait.ts';

let readme: string;
let dir: string;
beforeAll(async () => {
  readme = await readFile(join(REPO, 'README.md'), 'utf8');
  dir = await mkdtemp(join(tmpdir(), 'local-elb-readme-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
const running: RunningCli[] = [];
afterEach(async () => {
  for (const cli of running.splice(0)) await cli.stop('SIGKILL');
});

/** The first fenced block of `lang` after the line `after` in the README. */
function block(after: string, lang: string): string {
  const at = readme.indexOf(after);
  if (at < 0) throw new Error(`README.md has no ${JSON.stringify(after)}`);
  const open = readme.indexOf(`\n\`\`\`${lang}\n`, at);
  const close = readme.indexOf('\n```\n', open + 1);
  return readme.slice(open + lang.length + 5, close + 1);
}

/** The config with every listener on port 0: the only change the served examples get. */
function onFreePorts(yamlText: string): string {
  const config = parse(yamlText) as { loadBalancers?: Array<{ listeners: Array<{ port: number }> }> };
  for (const lb of config.loadBalancers ?? []) for (const l of lb.listeners) l.port = 0;
  return stringify(config);
}

function run(command: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<{ code: number | string; stdout: string; stderr: string }> {
  const child = spawn(command, args, { cwd: options.cwd ?? REPO, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code: code ?? signal ?? -1, stdout, stderr })));
}

/** Keeps serve off the ELBv2 endpoint's fixed port (4566) where serve has one, so tests never share it. */
const NO_ELBV2 = buildProgram()
  .commands.find((c) => c.name() === 'serve')!
  .options.some((o) => o.long === '--no-elbv2-endpoint')
  ? ['--no-elbv2-endpoint']
  : [];

describe("the README's config reference", () => {
  it('validates as printed, with no warning', async () => {
    const file = join(dir, 'elb.yaml');
    await writeFile(file, block('### Config reference', 'yaml'));
    const res = await runCli(['validate', '--config', file]);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const printed = JSON.parse(res.stdout) as { targetGroups: Array<{ name: string }>; loadBalancers: Array<{ name: string }> };
    expect(printed.targetGroups.map((g) => g.name)).toEqual(['web']);
    expect(printed.loadBalancers.map((l) => l.name)).toEqual(['app']);
  });

  it('serves its rules: the redirect, the fixed response and the targets it names', async () => {
    const file = join(dir, 'elb-served.yaml');
    await writeFile(file, onFreePorts(block('### Config reference', 'yaml')));
    const cli = startCli(['serve', '--config', file, '--admin', '127.0.0.1:0', ...NO_ELBV2, '--log-level', 'warn']);
    running.push(cli);
    const [, url] = (await cli.waitForStdout(/load balancer app listening on (http:\/\/\S+)/)) as [string, string];
    const [, admin] = (await cli.waitForStdout(/admin API on (http:\/\/\S+)/)) as [string, string];
    const maintenance = await fetch(`${url}/maintenance`);
    expect([maintenance.status, await maintenance.text()]).toEqual([503, 'back soon']);
    // fetch will not send a Host header of its own choosing; node:http does.
    const old = await new Promise<{ status: number; location?: string }>((resolve, reject) =>
      get(`${url}/`, { headers: { host: 'old.example.com' } }, (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0, ...(res.headers.location ? { location: res.headers.location } : {}) });
      }).on('error', reject),
    );
    expect(old.status).toBe(301);
    expect(old.location).toMatch(/^http:\/\/new\.example\.com/);
    const health = await runCli(['describe-target-health', '--target-group-name', 'web', '--admin', admin]);
    const ports = (JSON.parse(health.stdout) as { TargetHealthDescriptions: Array<{ Target: { Port: number } }> }).TargetHealthDescriptions.map((d) => d.Target.Port);
    expect(ports.sort()).toEqual([3001, 3002]);
    expect(await cli.stop('SIGTERM')).toBe(0);
  });
});

describe("the README's local pods example", () => {
  it('serves from the repository root: three pods Ready and healthy behind the listener, the admin API up', async () => {
    const file = join(dir, 'pods.yaml');
    const example = block('A target group can take its targets from local pods', 'yaml');
    expect(example).toContain('loadBalancers:');
    await writeFile(file, onFreePorts(example));
    const cli = startCli(['serve', '--config', file, '--admin', '127.0.0.1:0', ...NO_ELBV2, '--log-level', 'warn']);
    running.push(cli);
    // serve prints these once the pods are Ready and their targets healthy.
    const [, url] = (await cli.waitForStdout(/load balancer app listening on (http:\/\/\S+)/, 60_000)) as [string, string];
    const [, admin] = (await cli.waitForStdout(/admin API on (http:\/\/\S+)/)) as [string, string];
    expect(cli.stderr()).not.toMatch(/WARN|ERROR/);
    const pods = JSON.parse((await runCli(['get-pods', '--target-group-name', 'web', '--admin', admin])).stdout) as { Pods: Array<{ Name: string; Phase: string; Ready: boolean; Pid: number }> };
    expect(pods.Pods.map((p) => [p.Phase, p.Ready])).toEqual([
      ['Running', true],
      ['Running', true],
      ['Running', true],
    ]);
    const served = new Set<string>();
    await waitFor(
      async () => {
        served.add((await (await fetch(url)).text()).trim());
        return served.size === 3;
      },
      { what: 'each pod to answer through the listener' },
    );
    expect([...served].sort()).toEqual(pods.Pods.map((p) => p.Name).sort());
    expect(await cli.stop('SIGTERM')).toBe(0);
    await waitFor(() => pods.Pods.every((p) => !alive(p.Pid)), { what: 'the pod processes to be gone' });
  });
});

describe("the README's library snippet", () => {
  it("runs as printed, 'local-elb' resolving to src/index.ts", async () => {
    const file = join(dir, 'app.ts');
    await writeFile(file, block('## Library', 'ts'));
    const res = await run(process.execPath, ['--import', join(REPO, 'test/support/local-elb-package.mjs'), file]);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toContain("[ 'drained' ]");
    expect(res.stdout).toMatch(/^503 elb ELB_ERR_NO_ROUTABLE_TARGETS$/m);
  });
});

const machine = machineNode();

describe("a README command on the machine's own Node", () => {
  it.skipIf(machine === undefined)('npx local-elb validate --config elb.yaml works as printed', async () => {
    const file = join(dir, 'npx-elb.yaml');
    await writeFile(file, block('### Config reference', 'yaml'));
    const cache = join(dir, 'npm-cache');
    const res = await run('npx', ['local-elb', 'validate', '--config', file], { env: { PATH: machinePath(), npm_config_cache: cache } });
    expect(res.code).toBe(0);
    expect((JSON.parse(res.stdout) as { targetGroups: Array<{ name: string }> }).targetGroups[0]!.name).toBe('web');
    // Only npm's one-time engine warning may come before it, never a Node error.
    expect(res.stderr).not.toMatch(/bad option|SyntaxError|ERR_/);
  });
});
