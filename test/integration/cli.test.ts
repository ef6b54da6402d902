import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { alive, runCli, startCli, type RunningCli } from '../support/cli.ts';
import { startTarget, type TestTarget } from '../support/targets.ts';
import { waitFor } from '../support/wait.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'local-elb-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const running: RunningCli[] = [];
const targets: TestTarget[] = [];
afterEach(async () => {
  for (const c of running.splice(0)) await c.stop('SIGKILL');
  for (const t of targets.splice(0)) await t.close();
});

async function get(url: string): Promise<{ status: number; body: string }> {
  const res = await request(url);
  return { status: res.statusCode, body: await res.body.text() };
}

describe('local-elb serve', () => {
  it('serves a YAML config, answers the aws elbv2 verbs through the admin API, and exits cleanly on SIGTERM', async () => {
    const a = await startTarget('a');
    const b = await startTarget('b');
    targets.push(a, b);
    const file = join(dir, 'elb.yaml');
    await writeFile(
      file,
      `targetGroups:
  - name: web
    protocol: HTTP
    healthCheckPath: /healthz
    healthCheckIntervalSeconds: 5
    healthCheckTimeoutSeconds: 2
    healthyThresholdCount: 2
    unhealthyThresholdCount: 2
    matcher: { httpCode: "200-399" }
    attributes:
      # Long enough that a second CLI process always sees the target draining, however slowly it
      # starts; the drain ends when serve exits on SIGTERM.
      deregistration_delay.timeout_seconds: "600"
      load_balancing.algorithm.type: round_robin
    targets:
      - { id: 127.0.0.1, port: ${a.port} }
loadBalancers:
  - name: app
    type: application
    listeners:
      - port: 0
        protocol: HTTP
        defaultActions: [ { type: forward, targetGroupName: web } ]
`,
    );
    const cli = startCli(['serve', '--config', file, '--admin', '127.0.0.1:0', '--access-log', join(dir, 'access.log')]);
    running.push(cli);
    const [, url] = await cli.waitForStdout(/load balancer app listening on (http:\/\/\S+)/);
    const [, admin] = await cli.waitForStdout(/admin API on (http:\/\/\S+)/);

    await waitFor(async () => (await get(url!)).body === 'a', { what: 'target a to answer through the listener' });

    const health = await runCli(['describe-target-health', '--target-group-name', 'web', '--admin', admin!]);
    expect(health.code).toBe(0);
    expect(JSON.parse(health.stdout)).toEqual({
      TargetHealthDescriptions: [{ Target: { Id: '127.0.0.1', Port: a.port }, HealthCheckPort: String(a.port), TargetHealth: { State: 'healthy' } }],
    });

    const reg = await runCli(['register-targets', '--target-group-name', 'web', '--targets', `Id=127.0.0.1,Port=${b.port}`, '--admin', admin!]);
    expect(reg.code).toBe(0);
    await waitFor(async () => {
      const bodies = new Set<string>();
      for (let i = 0; i < 4; i++) bodies.add((await get(url!)).body);
      return bodies.has('a') && bodies.has('b');
    }, { what: 'both targets to serve' });

    const dereg = await runCli(['deregister-targets', '--target-group-name', 'web', '--targets', `Id=127.0.0.1,Port=${a.port}`, '--admin', admin!]);
    expect(dereg.code).toBe(0);
    const during = JSON.parse((await runCli(['describe-target-health', '--target-group-name', 'web', '--admin', admin!])).stdout) as {
      TargetHealthDescriptions: Array<{ Target: { Port: number }; TargetHealth: { State: string; Reason?: string } }>;
    };
    expect(during.TargetHealthDescriptions.find((d) => d.Target.Port === a.port)?.TargetHealth).toEqual({
      State: 'draining',
      Reason: 'Target.DeregistrationInProgress',
      Description: 'Target deregistration is in progress',
    });
    for (let i = 0; i < 4; i++) expect((await get(url!)).body).toBe('b');

    const attrs = await runCli(['modify-target-group-attributes', '--target-group-name', 'web', '--attributes', 'Key=load_balancing.algorithm.type,Value=least_outstanding_requests', '--admin', admin!]);
    expect(attrs.code).toBe(0);
    expect(JSON.parse(attrs.stdout).Attributes).toContainEqual({ Key: 'load_balancing.algorithm.type', Value: 'least_outstanding_requests' });

    const bad = await runCli(['modify-target-group-attributes', '--target-group-name', 'web', '--attributes', 'Key=deregistration_delay.timeout_seconds,Value=4000', '--admin', admin!]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('deregistration_delay.timeout_seconds');
    expect(bad.stderr).toContain('0–3600');

    const missing = await runCli(['describe-target-health', '--target-group-name', 'nope', '--admin', admin!]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('ELB_ERR_NOT_FOUND');

    expect(await cli.stop('SIGTERM')).toBe(0);
    const { readFile } = await import('node:fs/promises');
    const log = await readFile(join(dir, 'access.log'), 'utf8');
    expect(log.split('\n')[0]).toMatch(/^http \S+Z app\/app\/local 127\.0\.0\.1:\d+ 127\.0\.0\.1:\d+ [\d.]+ [\d.]+ [\d.]+ 200 200 \d+ \d+ "GET http:\/\/127\.0\.0\.1:\d+\/ HTTP\/1\.1"/);
    // Nine CLI processes one after the other: each takes a second or more to start on a busy
    // machine (7 s at a load average of 15 on 2 cores). A deadline for a hang, not a margin.
  }, 180_000);

  it('serves HTTPS with certificate files relative to the config and a CA in --state-dir (given before the command), verified by curl --cacert', async () => {
    const a = await startTarget('a');
    targets.push(a);
    const stateDir = join(dir, 'state');
    const { openLocalCa } = await import('../../src/tls/ca.ts');
    const ca = await openLocalCa(stateDir);
    const issued = await ca.issue(['app.example.test']);
    await mkdir(join(dir, 'certs'), { recursive: true });
    await writeFile(join(dir, 'certs', 'app.pem'), issued.certPem);
    await writeFile(join(dir, 'certs', 'app-key.pem'), issued.keyPem);
    const file = join(dir, 'https.yaml');
    await writeFile(
      file,
      `certificates:
  - { certificateArn: "arn:aws:acm:us-east-1:000000000000:certificate/app", certificateFile: certs/app.pem, privateKeyFile: certs/app-key.pem }
targetGroups:
  - { name: web, protocol: HTTP, targets: [ { id: 127.0.0.1, port: ${a.port} } ] }
loadBalancers:
  - name: app
    listeners:
      - port: 0
        protocol: HTTPS
        sslPolicy: ELBSecurityPolicy-TLS13-1-2-2021-06
        certificates: [ { certificateArn: "arn:aws:acm:us-east-1:000000000000:certificate/app" } ]
        defaultActions: [ { type: forward, targetGroupName: web } ]
      - port: 0
        protocol: HTTPS
        defaultActions: [ { type: forward, targetGroupName: web } ]
`,
    );
    const cli = startCli(['--state-dir', stateDir, 'serve', '--config', file, '--no-admin']);
    running.push(cli);
    const [, first, second] = await cli.waitForStdout(/listening on (https:\/\/\S+)\n.*listening on (https:\/\/\S+)\n/);
    const curl = (host: string, url: string) =>
      promisify(execFile)('curl', ['-sS', '--max-time', '10', '--cacert', ca.certPath, '--resolve', `${host}:${new URL(url).port}:127.0.0.1`, `https://${host}:${new URL(url).port}/`], { encoding: 'utf8' });
    await waitFor(async () => (await curl('app.example.test', first!)).stdout === 'a', { what: 'HTTPS through the mapped certificate' });
    // The listener without certificates got one from the CA in --state-dir for localhost.
    expect((await curl('localhost', second!)).stdout).toBe('a');
    expect(await cli.stop('SIGTERM')).toBe(0);
  });

  it('rejects a bad config with the file, the field path, the value and the range', async () => {
    const file = join(dir, 'bad.yaml');
    await writeFile(
      file,
      `targetGroups:
  - name: web
    protocol: HTTP
    healthCheckIntervalSeconds: 1
    colour: blue
loadBalancers: []
`,
    );
    const res = await runCli(['serve', '--config', file, '--admin', '127.0.0.1:0']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(file);
    expect(res.stderr).toContain('targetGroups[0].healthCheckIntervalSeconds: must be an integer 5–300: got 1');
    expect(res.stderr).toMatch(/targetGroups\[0\]: unknown key "colour"; allowed: name, protocol/);
  });

  it('names the file and line of a YAML syntax error', async () => {
    const file = join(dir, 'broken.yaml');
    await writeFile(file, 'targetGroups:\n  - name: [unclosed\n');
    const res = await runCli(['validate', '--config', file]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(file);
    expect(res.stderr).toMatch(/line \d+/);
  });
});

describe('local-elb demo', () => {
  it('starts three targets behind an ALB, and Ctrl-C stops them all', async () => {
    const cli = startCli(['demo', '--port', '0', '--admin', '127.0.0.1:0', '--log-level', 'warn']);
    running.push(cli);
    const [, url] = await cli.waitForStdout(/ALB "app"\s+(http:\/\/\S+)/);
    const [, admin] = await cli.waitForStdout(/admin API\s+(http:\/\/\S+)/);
    const pids = [...cli.stdout().matchAll(/target-\d+\s+127\.0\.0\.1:\d+\s+pid (\d+)/g)].map((m) => Number(m[1]));
    expect(pids).toHaveLength(3);

    const names = new Set<string>();
    await waitFor(async () => {
      const { body } = await get(url!);
      names.add(/Hello from (target-\d)/.exec(body)?.[1] ?? '');
      return names.size === 3;
    }, { what: 'all three demo targets to answer' });

    const health = (await (await request(`${admin}/v1/target-groups/web/target-health`)).body.json()) as { targetHealthDescriptions: unknown[] };
    expect(health.targetHealthDescriptions).toHaveLength(3);

    expect(await cli.stop('SIGINT')).toBe(0);
    await waitFor(() => pids.every((pid) => !alive(pid)), { what: 'demo targets to exit' });
  });

  it('ends its targets even when the demo process is killed with SIGKILL', async () => {
    const cli = startCli(['demo', '--port', '0', '--admin', '127.0.0.1:0', '--log-level', 'warn']);
    running.push(cli);
    await cli.waitForStdout(/Ctrl-C stops/);
    const pids = [...cli.stdout().matchAll(/target-\d+\s+127\.0\.0\.1:\d+\s+pid (\d+)/g)].map((m) => Number(m[1]));
    expect(pids).toHaveLength(3);
    await cli.stop('SIGKILL');
    await waitFor(() => pids.every((pid) => !alive(pid)), { what: 'orphaned demo targets to exit' });
  });
});
