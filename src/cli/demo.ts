/**
 * `local-elb demo`: three demo targets as child processes, an ALB on 127.0.0.1:8080 with
 * least outstanding requests in front of them, the admin API on 127.0.0.1:9090, and a short
 * guide to what to try. Ctrl-C stops everything, children included.
 */
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../core/logger.ts';
import type { ConfigInput } from '../config/schema.ts';
import { startAdminServer, type AdminServer } from '../admin/server.ts';
import { startLocalElb, type LocalElb } from '../local-elb.ts';
import { forkTracked, stopChild } from './children.ts';

export interface DemoOptions {
  readonly port: number;
  readonly adminAddress: string;
  readonly adminPort: number;
  readonly targets: number;
  readonly logger: Logger;
}

export interface RunningDemo {
  readonly elb: LocalElb;
  readonly admin: AdminServer;
  readonly children: readonly { name: string; pid: number; port: number }[];
  stop(): Promise<void>;
}

// target.ts beside the sources, target.js in the built package.
const targetModule = fileURLToPath(new URL(`../demo/target${import.meta.url.endsWith('.js') ? '.js' : '.ts'}`, import.meta.url));

function startDemoTarget(name: string): Promise<{ child: ChildProcess; port: number }> {
  const child = forkTracked(targetModule, [], { ...process.env, TARGET_NAME: name, PORT: '0' });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`demo target ${name} did not start within 10 s`)), 10_000);
    child.once('message', (m: { type?: string; port?: number }) => {
      clearTimeout(timer);
      if (m.type === 'listening' && typeof m.port === 'number') resolve({ child, port: m.port });
      else reject(new Error(`demo target ${name} sent an unexpected message`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`demo target ${name} exited with code ${code} before listening`));
    });
  });
}

export function demoConfig(ports: readonly number[], listenerPort: number): ConfigInput {
  return {
    targetGroups: [
      {
        name: 'web',
        protocol: 'HTTP',
        healthCheckPath: '/healthz',
        healthCheckIntervalSeconds: 5,
        healthCheckTimeoutSeconds: 2,
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 2,
        matcher: { httpCode: '200-399' },
        attributes: {
          'deregistration_delay.timeout_seconds': '10',
          'load_balancing.algorithm.type': 'least_outstanding_requests',
        },
        targets: ports.map((port) => ({ id: '127.0.0.1', port })),
      },
    ],
    loadBalancers: [
      {
        name: 'app',
        type: 'application',
        listeners: [{ port: listenerPort, protocol: 'HTTP', defaultActions: [{ type: 'forward', targetGroupName: 'web' }] }],
      },
    ],
  };
}

export async function startDemo(options: DemoOptions): Promise<RunningDemo> {
  const started: Array<{ name: string; child: ChildProcess; port: number }> = [];
  let elb: LocalElb | undefined;
  let admin: AdminServer | undefined;
  const stop = async () => {
    await admin?.close();
    await elb?.close(1000);
    await Promise.all(started.map((s) => stopChild(s.child)));
  };
  try {
    for (let i = 1; i <= options.targets; i++) {
      const name = `target-${i}`;
      const { child, port } = await startDemoTarget(name);
      started.push({ name, child, port });
    }
    elb = await startLocalElb({ config: demoConfig(started.map((s) => s.port), options.port), logger: options.logger });
    admin = await startAdminServer(elb, { address: options.adminAddress, port: options.adminPort, logger: options.logger });
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    elb,
    admin,
    children: started.map((s) => ({ name: s.name, pid: s.child.pid ?? 0, port: s.port })),
    stop,
  };
}

export function demoGuide(demo: RunningDemo, cli: string): string {
  const url = demo.elb.url('app');
  const admin = demo.admin.url;
  const lines = [
    '',
    'local-elb demo is running:',
    `  ALB "app"        ${url}  (least_outstanding_requests over target group "web")`,
    `  admin API        ${admin}`,
    `  dashboard        ${demo.admin.dashboardUrl}   (open it in a browser: targets, draining and traffic, live)`,
    ...demo.children.map((c) => `  ${c.name.padEnd(16)} 127.0.0.1:${c.port}  pid ${c.pid}`),
    '',
    'Try:',
    `  curl ${url}/                                 # each answer names the target that served it`,
    `  for i in 1 2 3 4 5 6; do curl -s ${url}/; done`,
    `  curl ${admin}/v1/target-groups/web/target-health`,
    `  ${cli} describe-target-health --target-group-name web --admin ${admin}`,
    `  kill ${demo.children[0]?.pid ?? '<pid>'}                                  # then watch ${demo.children[0]?.name ?? 'it'} go unhealthy (2 failed checks, 5 s apart)`,
    `  ${cli} deregister-targets --target-group-name web --targets Id=127.0.0.1,Port=${demo.children[1]?.port ?? 0} --admin ${admin}`,
    `  curl "${url}/slow?ms=3000"                     # a slow request, for watching least_outstanding_requests and draining`,
    `  curl ${admin}/metrics`,
    '',
    'Ctrl-C stops the load balancer and the targets.',
    '',
  ];
  return lines.join('\n');
}
