/**
 * nginx (an independent HTTP implementation) as the targets: what our own test servers could
 * get wrong in the same way as our proxy, nginx does not.
 */
import { randomBytes } from 'node:crypto';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { startLocalElb, type LocalElb } from '../../src/local-elb.ts';
import { requireNginx, startNginx, type NginxTarget } from '../support/nginx.ts';
import { waitFor } from '../support/wait.ts';

// Skipped without nginx outside CI (the run's setup says so once); fails under CI=true.
const hasNginx = requireNginx() !== undefined;

describe.skipIf(!hasNginx)('ALB in front of nginx targets', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('reuses keep-alive connections to nginx, streams a large file intact, and spreads round robin', async () => {
    const blob = randomBytes(3 * 1024 * 1024);
    const servers: NginxTarget[] = [];
    for (let i = 0; i < 2; i++) {
      const n = await startNginx(
        `location = /healthz { return 200 "ok"; }
    location = /who { default_type text/plain; return 200 "$server_port $connection_requests $http_x_forwarded_for $http_x_forwarded_port"; }
    location = /blob { }`,
        { blob },
      );
      servers.push(n);
      cleanups.push(() => n.close());
    }
    const elb: LocalElb = await startLocalElb({
      config: {
        targetGroups: [
          {
            name: 'web',
            protocol: 'HTTP',
            healthCheckPath: '/healthz',
            healthCheckIntervalSeconds: 5,
            healthCheckTimeoutSeconds: 2,
            targets: servers.map((s) => ({ id: '127.0.0.1', port: s.port })),
          },
        ],
        loadBalancers: [{ name: 'app', listeners: [{ port: 0, defaultActions: [{ type: 'forward', targetGroupName: 'web' }] }] }],
      },
    });
    cleanups.push(() => elb.close());
    await waitFor(() => elb.targetGroup('web').healthyHostCount === 2, { what: 'nginx targets healthy' });

    const seen: Array<{ port: number; connectionRequests: number; xff: string; xfp: string }> = [];
    for (let i = 0; i < 10; i++) {
      const res = await request(`${elb.url('app')}/who`);
      const [port, n, xff, xfp] = (await res.body.text()).split(' ');
      seen.push({ port: Number(port), connectionRequests: Number(n), xff: xff!, xfp: xfp! });
    }
    const ports = seen.map((s) => s.port);
    expect(new Set(ports)).toEqual(new Set(servers.map((s) => s.port)));
    expect(ports.filter((p) => p === servers[0]!.port)).toHaveLength(5);
    // nginx counts requests per connection: more than one means the ALB kept the connection alive.
    expect(Math.max(...seen.map((s) => s.connectionRequests))).toBeGreaterThanOrEqual(5);
    expect(seen.every((s) => s.xff === '127.0.0.1' && s.xfp === String(new URL(elb.url('app')).port))).toBe(true);

    const res = await request(`${elb.url('app')}/blob`);
    expect(res.statusCode).toBe(200);
    const body = Buffer.from(await res.body.arrayBuffer());
    expect(body.equals(blob)).toBe(true);
  });
});
