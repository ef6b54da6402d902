/**
 * A target group's protocol version as the admin API and the CLI show it (issue #12): `serve`
 * with an HTTP1, an HTTP2 and a GRPC group, then `describe-target-groups` and the admin route,
 * in the ELBv2 shape (`ProtocolVersion`, `Matcher.GrpcCode`).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli } from '../support/cli.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'local-elb-pv-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('protocolVersion through the CLI and the admin API', () => {
  it('describe-target-groups shows ProtocolVersion and the gRPC matcher', async () => {
    const config = join(dir, 'config.yaml');
    await writeFile(
      config,
      `targetGroups:
  - { name: web, protocol: HTTP, targets: [] }
  - { name: h2, protocol: HTTP, protocolVersion: HTTP2, targets: [] }
  - { name: grpc, protocol: HTTP, protocolVersion: GRPC, matcher: { grpcCode: "0-99" }, targets: [] }
loadBalancers:
  - name: app
    listeners:
      - port: 0
        protocol: HTTPS
        defaultActions: [ { type: forward, targetGroupName: web } ]
        rules:
          - { priority: 1, conditions: [ { field: path-pattern, values: ["/h2/*"] } ], actions: [ { type: forward, targetGroupName: h2 } ] }
          - { priority: 2, conditions: [ { field: path-pattern, values: ["/pkg.Svc/*"] } ], actions: [ { type: forward, targetGroupName: grpc } ] }
`,
    );
    const cli = startCli(['serve', '--config', config, '--admin', '127.0.0.1:0', '--state-dir', dir, '--log-level', 'warn']);
    try {
      const [, admin] = await cli.waitForStdout(/admin API on (http:\/\/\S+)/);
      const out = await runCli(['describe-target-groups', '--admin', admin!]);
      expect(out.code).toBe(0);
      const groups = (JSON.parse(out.stdout) as { TargetGroups: Array<Record<string, unknown>> }).TargetGroups;
      expect(groups.map((g) => [g.TargetGroupName, g.ProtocolVersion, g.HealthCheckPath, g.Matcher])).toEqual([
        ['web', 'HTTP1', '/', { HttpCode: '200' }],
        ['h2', 'HTTP2', '/', { HttpCode: '200' }],
        ['grpc', 'GRPC', '/AWS.ALB/healthcheck', { GrpcCode: '0-99' }],
      ]);
    } finally {
      await cli.stop('SIGTERM');
    }
  });
});
