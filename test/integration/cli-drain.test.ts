/**
 * The CLI's waits, with the real `local-elb` binary (README "CLI", "Running your own config"):
 * `deregister-targets --wait` returns when draining has ended and says how (reregistered, cut
 * with the number cut, drained), and `serve --shutdown-grace-seconds` lets a request in flight
 * finish after SIGTERM while refusing new connections. No case waits on a real delay: a long
 * one is ended by the test (a re-registration, the held request's release), or the delay is 0.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServerResponse } from 'node:http';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deferCleanups } from '../support/alb.ts';
import { runCli, startCli, type RunningCli } from '../support/cli.ts';
import { startTarget, type TestTarget } from '../support/targets.ts';
import { waitFor } from '../support/wait.ts';

const defer = deferCleanups();
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'local-elb-cli-drain-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function target(name: string): Promise<TestTarget> {
  const t = await startTarget(name);
  defer(() => t.close());
  return t;
}

/** `local-elb serve` over one target group `web` (checks every 5 s) and an ALB `app`; resolves with its URLs once a target answers. */
async function serve(targets: readonly TestTarget[], options: { delaySeconds: number; args?: readonly string[] }): Promise<{ cli: RunningCli; url: string; admin: string }> {
  const file = join(dir, `elb-${Math.random().toString(36).slice(2)}.yaml`);
  await writeFile(
    file,
    `targetGroups:
  - name: web
    protocol: HTTP
    healthCheckPath: /healthz
    healthCheckIntervalSeconds: 5
    healthCheckTimeoutSeconds: 2
    attributes:
      deregistration_delay.timeout_seconds: "${options.delaySeconds}"
    targets:
${targets.map((t) => `      - { id: 127.0.0.1, port: ${t.port} }`).join('\n')}
loadBalancers:
  - name: app
    listeners:
      - port: 0
        defaultActions: [ { type: forward, targetGroupName: web } ]
`,
  );
  const cli = startCli(['serve', '--config', file, '--admin', '127.0.0.1:0', ...(options.args ?? [])]);
  defer(() => cli.stop('SIGKILL'));
  const [, url] = await cli.waitForStdout(/load balancer app listening on (http:\/\/\S+)/);
  const [, admin] = await cli.waitForStdout(/admin API on (http:\/\/\S+)/);
  await waitFor(
    async () => {
      const res = await request(url!);
      await res.body.text();
      return res.statusCode === 200;
    },
    { timeoutMs: CLI_WAIT_MS, what: 'a target to answer through the listener' },
  );
  return { cli, url: url!, admin: admin! };
}

/** Every string value in a JSON document, keys and nesting aside: what the CLI printed, however it is cased. */
function outcomeOf(stdout: string): { result: string; cut: number } {
  const text = JSON.stringify(JSON.parse(stdout));
  const result = /"(?:result|Result)":"(\w+)"/.exec(text)?.[1] ?? '';
  const cut = Number(/"(?:cutRequests|CutRequests)":(\d+)/.exec(text)?.[1] ?? NaN);
  return { result, cut };
}

/** The target's health from the admin API directly (the verb under test is deregister-targets). */
const health = async (admin: string, port: number) => (await request(`${admin}/v1/target-groups/web/target-health?id=127.0.0.1&port=${port}`)).body.text();

// Each case starts `local-elb serve` and runs the CLI once or twice: child processes that take
// a second or more each, and 7 s at a load average of 15 on this 2-core machine. These are
// deadlines for a hang, not margins any result depends on.
const CLI_TEST_TIMEOUT_MS = 180_000;
const CLI_WAIT_MS = 60_000;

describe('local-elb deregister-targets --wait', { timeout: CLI_TEST_TIMEOUT_MS }, () => {
  it('returns when the drain ends, with how it ended: reregistered (a 600 s delay ended by register-targets)', async () => {
    const a = await target('a');
    const { admin } = await serve([a], { delaySeconds: 600 });
    const waiting = runCli(['deregister-targets', '--target-group-name', 'web', '--targets', `Id=127.0.0.1,Port=${a.port}`, '--wait', '--admin', admin]);
    await waitFor(async () => (await health(admin, a.port)).includes('Target.DeregistrationInProgress'), { timeoutMs: CLI_WAIT_MS, what: 'the target to be draining' });
    // Still waiting: the drain can only end by the re-registration below (the delay is 600 s),
    // and an early return would print no outcome.
    const reg = await runCli(['register-targets', '--target-group-name', 'web', '--targets', `Id=127.0.0.1,Port=${a.port}`, '--admin', admin]);
    expect(reg.code).toBe(0);
    const done = await waiting;
    expect(done.code).toBe(0);
    expect(outcomeOf(done.stdout)).toEqual({ result: 'reregistered', cut: 0 });
  });

  it('returns cut with the number of requests cut when the delay (0 s) ends with one in flight, whose client gets the 502', async () => {
    const a = await target('a');
    const held: ServerResponse[] = [];
    a.handler = (req, res) => (req.url === '/slow' ? void held.push(res) : void res.end('a'));
    defer(() => held.forEach((res) => res.destroy()));
    const { url, admin } = await serve([a], { delaySeconds: 0 });
    const inFlight = request(`${url}/slow`).then(async (res) => ({ status: res.statusCode, body: await res.body.text() }));
    await waitFor(() => held.length === 1, { what: 'the request to be held at the target' });
    const done = await runCli(['deregister-targets', '--target-group-name', 'web', '--targets', `Id=127.0.0.1,Port=${a.port}`, '--wait', '--admin', admin]);
    expect(done.code).toBe(0);
    expect(outcomeOf(done.stdout)).toEqual({ result: 'cut', cut: 1 });
    expect((await inFlight).status).toBe(502);
  });

  it('returns drained when nothing is in flight as the delay (0 s) ends, and the target is gone', async () => {
    const a = await target('a');
    const { admin } = await serve([a], { delaySeconds: 0 });
    const done = await runCli(['deregister-targets', '--target-group-name', 'web', '--targets', `Id=127.0.0.1,Port=${a.port}`, '--wait', '--admin', admin]);
    expect(done.code).toBe(0);
    expect(outcomeOf(done.stdout)).toEqual({ result: 'drained', cut: 0 });
    expect(await health(admin, a.port)).toContain('Target.NotRegistered');
  });
});

describe('local-elb serve --shutdown-grace-seconds', { timeout: CLI_TEST_TIMEOUT_MS }, () => {
  /** True once a TCP connection to the listener is refused. */
  const refuses = (url: string) =>
    new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port: Number(new URL(url).port) });
      s.once('connect', () => (s.destroy(), resolve(false)));
      s.once('error', () => resolve(true));
    });

  it('lets a request in flight at SIGTERM finish within the grace (600 s, ended by the request), refusing new connections meanwhile, then exits 0', async () => {
    const a = await target('a');
    const held: ServerResponse[] = [];
    a.handler = (req, res) => (req.url === '/slow' ? void held.push(res) : void res.end('a'));
    const { cli, url } = await serve([a], { delaySeconds: 0, args: ['--shutdown-grace-seconds', '600'] });
    const inFlight = request(`${url}/slow`).then(async (res) => ({ status: res.statusCode, body: await res.body.text() }));
    await waitFor(() => held.length === 1, { what: 'the request to be held at the target' });
    cli.child.kill('SIGTERM');
    await waitFor(() => refuses(url), { timeoutMs: CLI_WAIT_MS, what: 'the listener to stop accepting connections' });
    expect(cli.child.exitCode).toBeNull();
    held[0]!.end('finished late');
    expect(await inFlight).toEqual({ status: 200, body: 'finished late' });
    expect(await cli.exited).toBe(0);
  });

  it('cuts a request still in flight when the grace is 0, and exits 0 without waiting for it', async () => {
    const a = await target('a');
    const held: ServerResponse[] = [];
    a.handler = (req, res) => (req.url === '/slow' ? void held.push(res) : void res.end('a'));
    defer(() => held.forEach((res) => res.destroy()));
    const { cli, url } = await serve([a], { delaySeconds: 0, args: ['--shutdown-grace-seconds', '0'] });
    const inFlight = request(`${url}/slow`).then(
      async (res) => ({ status: res.statusCode, body: await res.body.text() }),
      (err: unknown) => ({ error: (err as { code?: string }).code ?? String(err) }),
    );
    await waitFor(() => held.length === 1, { what: 'the request to be held at the target' });
    expect(await cli.stop('SIGTERM')).toBe(0);
    const outcome = await inFlight;
    expect(outcome).not.toMatchObject({ status: 200 });
  });
});
