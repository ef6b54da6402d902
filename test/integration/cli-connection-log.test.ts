/**
 * `local-elb serve --connection-log FILE` (spec 12.1.8): an ALB with connection_logs.s3.enabled
 * writes one line per connection there, whose conn_trace_id the access-log lines of that
 * connection repeat (field 30); a real CLI process, a keep-alive client, SIGTERM.
 */
import http from 'node:http';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startCli, type RunningCli } from '../support/cli.ts';
import { startTarget, type TestTarget } from '../support/targets.ts';
import { waitFor } from '../support/wait.ts';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

/** Two GETs on one keep-alive connection: their bodies. */
async function twoOnOneConnection(url: string): Promise<string[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const once = () =>
    new Promise<string>((resolve, reject) => {
      http.get(url, { agent }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve(body));
      }).on('error', reject);
    });
  try {
    return [await once(), await once()];
  } finally {
    agent.destroy();
  }
}

describe('local-elb serve --connection-log', () => {
  it('writes one line per connection of an ALB with connection_logs.s3.enabled, its conn_trace_id in the access log of its requests', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'local-elb-cli-conn-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const target: TestTarget = await startTarget('a');
    cleanups.push(() => target.close());
    const file = join(dir, 'elb.yaml');
    await writeFile(
      file,
      `targetGroups:
  - { name: web, protocol: HTTP, healthCheckPath: /healthz, healthCheckIntervalSeconds: 5, healthyThresholdCount: 2, targets: [ { id: 127.0.0.1, port: ${target.port} } ] }
loadBalancers:
  - name: app
    attributes: { connection_logs.s3.enabled: "true", connection_logs.s3.bucket: local }
    listeners:
      - { port: 0, protocol: HTTP, defaultActions: [ { type: forward, targetGroupName: web } ] }
`,
    );
    const cli: RunningCli = startCli(['serve', '--config', file, '--no-admin', '--no-elbv2-endpoint', '--access-log', join(dir, 'access.log'), '--connection-log', join(dir, 'conn.log')]);
    cleanups.push(() => cli.stop('SIGKILL'));
    const [, url] = await cli.waitForStdout(/load balancer app listening on (http:\/\/\S+)/);
    // The first answer comes once the target is healthy; each try is a connection of its own.
    await waitFor(async () => (await twoOnOneConnection(url!)).every((b) => b === 'a') || undefined, { what: 'two answers on one connection' });
    expect(await cli.stop('SIGTERM')).toBe(0);
    const connections = (await readFile(join(dir, 'conn.log'), 'utf8')).trim().split('\n');
    const access = (await readFile(join(dir, 'access.log'), 'utf8')).trim().split('\n');
    const last = connections.at(-1)!.split(' ');
    expect(last).toHaveLength(15);
    expect(last.slice(4, 11)).toEqual(['-', '-', '-', '-', '-', '-', '-']);
    expect(last[11]).toMatch(/^TID_[0-9a-f]{32}$/);
    expect(last[13]).toBe('app/app/local');
    const ids = access.map((l) => l.match(/"[^"]*"|\S+/g)![29]);
    // The last connection's two requests carry its id; every connection has a line.
    expect(ids.slice(-2)).toEqual([last[11], last[11]]);
    expect(new Set(ids).size).toBe(connections.length);
  }, 60_000);
});
