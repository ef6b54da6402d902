/**
 * The CLI as a newcomer meets it (issue 17): its version and description, defaults shown as
 * typed, exit 2 for usage errors, one error code per failure, AWS-CLI-shaped output, a quiet
 * end on a closed stdout, `kind` without a kubeconfig, and the bin on the machine's own Node.
 */
import { spawn } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/main.ts';
import { BIN, runCli, startCli, type RunningCli } from '../support/cli.ts';
import { machineNode, machinePath, REPO } from '../support/machine-node.ts';
import { startTarget, type TestTarget } from '../support/targets.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'local-elb-cli-surface-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Keeps serve off the ELBv2 endpoint's fixed port (4566) where serve has one, so tests never share it. */
const NO_ELBV2 = buildProgram()
  .commands.find((c) => c.name() === 'serve')!
  .options.some((o) => o.long === '--no-elbv2-endpoint')
  ? ['--no-elbv2-endpoint']
  : [];

function allCommands(cmd: Command): Command[] {
  return [cmd, ...cmd.commands.flatMap(allCommands)];
}

/** Runs `argv` with stdout's read end closed before the command writes anything. */
function runWithClosedStdout(args: readonly string[]): Promise<{ code: number | string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.destroy();
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code: code ?? signal ?? -1, stderr })));
}

describe('local-elb, as a newcomer types it', () => {
  it('prints the package version with --version', async () => {
    const { version } = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as { version: string };
    const res = await runCli(['--version']);
    expect(res).toMatchObject({ code: 0, stdout: `${version}\n` });
  });

  it('says what it is in the top-level help: ALB and NLB, local pods, kind and the lab', () => {
    const help = buildProgram().helpInformation();
    for (const word of ['Application Load Balancer', 'Network Load Balancer', 'local pods', 'kind', 'routing-algorithm lab']) expect(help).toContain(word);
  });

  it('prints every default as a user types it, never as JSON', () => {
    const program = buildProgram();
    const helps = allCommands(program).map((c) => c.helpInformation());
    for (const help of helps) {
      expect(help).not.toMatch(/default: ["{[]/);
      expect(help).not.toMatch(/choices: "/);
    }
    const serve = program.commands.find((c) => c.name() === 'serve')!.helpInformation();
    expect(serve.replace(/\s+/g, ' ')).toContain('(default: 127.0.0.1:9090)');
  });

  it('takes --target-group-name on every target group verb, with --target-group as its alias', () => {
    const program = buildProgram();
    const verbs = ['describe-target-health', 'register-targets', 'deregister-targets', 'describe-target-group-attributes', 'modify-target-group-attributes', 'rollout', 'get-pods', 'scale', 'delete-pod'];
    for (const verb of verbs) {
      const flags = program.commands.find((c) => c.name() === verb)!.options.map((o) => o.flags);
      expect(flags, verb).toContain('--target-group-name, --target-group <name>');
    }
  });

  it.each([
    ['an unknown command', ['nope'], /unknown command 'nope'/],
    ['an unknown option', ['describe-target-groups', '--nope'], /unknown option '--nope'/],
    ['a missing required option', ['describe-target-health'], /required option '--target-group-name/],
    ['an option value out of range', ['demo', '--port', '70000'], /expected an integer 0–65535: got "70000"/],
    ['a malformed --targets', ['register-targets', '--target-group-name', 'web', '--targets', 'Port=1', '--admin', 'http://127.0.0.1:1'], /--targets: each target must have Id=.*\[ELB_ERR_INVALID_ARGUMENT\]/],
  ])('exits 2 on %s', async (_what, args, message) => {
    const res = await runCli(args);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(message);
    expect(res.stderr).not.toMatch(/\n\s+at /);
  });

  it('exits 2 with one error code when the admin API cannot be reached', async () => {
    const res = await runCli(['describe-target-groups', '--admin', 'http://127.0.0.1:1']);
    expect(res.code).toBe(2);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(res.stderr.match(/ELB_ERR_\w+/g)).toEqual(['ELB_ERR_ADMIN_REQUEST_FAILED']);
  });

  it.each([
    ['a one-shot command', ['bench', 'algorithms', '--list']],
    ['--help', ['--help']],
  ])('ends quietly, exit 0, when its stdout is closed under %s', async (_what, args) => {
    const res = await runWithClosedStdout(args);
    expect(res).toEqual({ code: 0, stderr: '' });
  });

  it('shuts a running serve down as on SIGTERM when its stdout is closed', async () => {
    const file = join(dir, 'closed-stdout.yaml');
    await writeFile(file, 'targetGroups: [ { name: web, protocol: HTTP } ]\nloadBalancers:\n  - { name: app, listeners: [ { port: 0, defaultActions: [ { type: forward, targetGroupName: web } ] } ] }\n');
    const res = await runWithClosedStdout(['serve', '--config', file, '--admin', '127.0.0.1:0', ...NO_ELBV2]);
    expect(res.code).toBe(0);
    expect(res.stderr).toContain('stdout closed: shutting down');
    expect(res.stderr).not.toMatch(/EPIPE|\n\s+at /);
  });

  it('exits 2 from kind without a kubeconfig, naming where it looked', async () => {
    const home = join(dir, 'home');
    const res = await runCli(['kind', '--no-admin'], { HOME: home, KUBECONFIG: '', KUBERNETES_SERVICE_HOST: undefined });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(`no kubeconfig: looked at $KUBECONFIG (not set) and ${join(home, '.kube', 'config')}`);
    expect(res.stderr).toContain('[ELB_ERR_KUBECONFIG_NOT_FOUND]');
  });

  it('exits 2 from kind when --kubeconfig names a missing file', async () => {
    const res = await runCli(['kind', '--kubeconfig', join(dir, 'nope.yaml'), '--no-admin']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(`--kubeconfig ${join(dir, 'nope.yaml')}: no such file [ELB_ERR_KUBECONFIG_NOT_FOUND]`);
  });
});

describe('the elbv2 verbs against a running local-elb serve', () => {
  let cli: RunningCli;
  let admin: string;
  let a: TestTarget;
  let b: TestTarget;
  beforeAll(async () => {
    a = await startTarget('a');
    b = await startTarget('b');
    const file = join(dir, 'verbs.yaml');
    await writeFile(
      file,
      `targetGroups:
  - { name: web, protocol: HTTP, healthCheckIntervalSeconds: 5, targets: [ { id: 127.0.0.1, port: ${a.port} } ] }
  - { name: tcp, protocol: TCP, targets: [ { id: 127.0.0.1, port: ${b.port} } ] }
loadBalancers:
  - { name: app, listeners: [ { port: 0, defaultActions: [ { type: forward, targetGroupName: web } ] } ] }
  - { name: edge, type: network, listeners: [ { port: 0, protocol: TCP, defaultActions: [ { type: forward, targetGroupName: tcp } ] } ] }
`,
    );
    cli = startCli(['serve', '--config', file, '--admin', '127.0.0.1:0', ...NO_ELBV2, '--log-level', 'warn']);
    [, admin] = (await cli.waitForStdout(/admin API on (http:\/\/\S+)/)) as [string, string];
  });
  afterAll(async () => {
    await cli?.stop('SIGKILL');
    await a?.close();
    await b?.close();
  });

  it('answers describe-target-health the same under --target-group-name and --target-group', async () => {
    const byName = await runCli(['describe-target-health', '--target-group-name', 'web', '--admin', admin]);
    const byAlias = await runCli(['describe-target-health', '--target-group', 'web', '--admin', admin]);
    expect(byName.code).toBe(0);
    expect(JSON.parse(byAlias.stdout).TargetHealthDescriptions[0].Target).toEqual(JSON.parse(byName.stdout).TargetHealthDescriptions[0].Target);
  });

  it('prints nothing for register-targets and deregister-targets, as the AWS CLI does', async () => {
    const reg = await runCli(['register-targets', '--target-group-name', 'web', '--targets', `Id=127.0.0.1,Port=${b.port}`, '--admin', admin]);
    expect(reg).toEqual({ code: 0, stdout: '', stderr: '' });
    const dereg = await runCli(['deregister-targets', '--target-group', 'web', '--targets', `Id=127.0.0.1,Port=${b.port}`, '--admin', admin]);
    expect(dereg).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it.each([
    ['a target group that does not exist', ['describe-target-health', '--target-group-name', 'nope'], 'ELB_ERR_NOT_FOUND'],
    ['pods of a group without local pods', ['get-pods', '--target-group-name', 'web'], 'ELB_ERR_NOT_FOUND'],
    ['an attribute out of range', ['modify-target-group-attributes', '--target-group-name', 'web', '--attributes', 'Key=deregistration_delay.timeout_seconds,Value=4000'], 'ELB_ERR_INVALID_ARGUMENT'],
  ])('names one error code for %s', async (_what, args, code) => {
    const res = await runCli([...args, '--admin', admin]);
    expect(res.code).toBe(2);
    expect(res.stderr.match(/ELB_ERR_\w+/g)).toEqual([code]);
  });

  it('shows an attribute error with its path, the allowed range and the value', async () => {
    const res = await runCli(['modify-target-group-attributes', '--target-group-name', 'web', '--attributes', 'Key=deregistration_delay.timeout_seconds,Value=4000', '--admin', admin]);
    expect(res.stderr).toMatch(/attributes\["deregistration_delay\.timeout_seconds"\]: must be .*0–3600.*: got "4000"/);
  });

  it.each([
    ['a port out of range', { targets: [{ id: '127.0.0.1', port: 70000 }] }, 'targets[0].port: must be an integer 1–65535: got 70000'],
    ['a port that is a string', { targets: [{ id: '127.0.0.1', port: '80' }] }, 'targets[0].port: must be an integer 1–65535: got "80"'],
    ['no targets', { targets: [] }, 'targets: must list at least one target: got []'],
    ['an unknown key', { targets: [{ id: '127.0.0.1' }], colour: 'blue' }, 'unknown key "colour"; allowed: targets'],
    ['a target without id', { targets: [{ port: 80 }] }, 'targets[0].id: must be an IP address or host name: got nothing'],
  ])('answers an admin request with %s in the config file style: path, what is allowed, the value', async (_what, body, message) => {
    const res = await fetch(`${admin}/v1/target-groups/web/register-targets`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(res.status).toBe(400);
    const answer = (await res.json()) as { code: string; message: string };
    expect(answer.code).toBe('ELB_ERR_INVALID_ARGUMENT');
    expect(answer.message).toContain(message);
  });

  it('gives the DNSName of an ALB and an NLB alike: host and port, no scheme', async () => {
    const res = await runCli(['describe-load-balancers', '--admin', admin]);
    const lbs = (JSON.parse(res.stdout) as { LoadBalancers: Array<{ LoadBalancerName: string; DNSName: string }> }).LoadBalancers;
    expect(lbs.map((lb) => lb.LoadBalancerName).sort()).toEqual(['app', 'edge']);
    for (const lb of lbs) expect(lb.DNSName).toMatch(/^127\.0\.0\.1:\d+$/);
  });
});

const machine = machineNode();

describe('the bin on the machine\'s own Node', () => {
  it.skipIf(machine === undefined)('runs local-elb --version on the machine\'s node (re-running itself under .tools/node24 when that node is too old)', async () => {
    const res = await runOn(machine!.path, [BIN, '--version']);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
    expect(res.stderr).toBe('');
  });

  it.skipIf(machine === undefined || !machine.old)('exits 2 with one line naming both versions and the fix when there is no .tools/node24', async () => {
    const copy = join(dir, 'copy');
    await cp(join(REPO, 'bin'), join(copy, 'bin'), { recursive: true });
    await cp(join(REPO, 'scripts'), join(copy, 'scripts'), { recursive: true });
    const res = await runOn(machine!.path, [join(copy, 'bin', 'local-elb.js'), 'describe-target-groups']);
    expect(res.code).toBe(2);
    expect(res.stdout).toBe('');
    expect(res.stderr.split('\n')).toEqual([`local-elb: needs Node.js >= 22.12, found ${machine!.version} (${machine!.path}); run \`scripts/node24 npm ci\` once in the repository (it installs Node.js 24 into .tools/node24), then this command again`, '']);
  });
});

function runOn(node: string, args: readonly string[]): Promise<{ code: number | string; stdout: string; stderr: string }> {
  const child = spawn(node, args, { env: { ...process.env, PATH: machinePath() }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code: code ?? signal ?? -1, stdout, stderr })));
}
