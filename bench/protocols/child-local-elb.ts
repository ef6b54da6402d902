/**
 * Protocols bench child: local-elb as an ALB with one listener and one target group of one
 * target, for one scenario (`node child-local-elb.ts grpc 50051 /tmp/state`):
 *
 * - `ws-http`, `ws-https`: an HTTP or HTTPS listener, HTTP1 group → the `ws` echo server;
 * - `grpc`: an HTTPS listener, GRPC group (cleartext HTTP/2 to the target) → grpc-js;
 * - `grpc-tls-target`: the same with a GRPC group of protocol HTTPS (TLS again to the target);
 * - `h2-http1`, `h2-http2`: an HTTPS listener (h2 by ALPN), HTTP1 group → an HTTP/1.1 server,
 *   or HTTP2 group → an h2c server.
 *
 * HTTPS listeners use a certificate from the local CA in `stateDir`. The h2 scenarios raise
 * emulator.http2RequestsPerConnection from AWS's 10,000 to 1,000,000: h2load does not reconnect
 * after a GOAWAY, so at the AWS limit a fast run would lose its connections one by one
 * (grpc-js reconnects, so the gRPC scenarios keep the AWS limit). Reports its listener port over
 * IPC once the target is healthy.
 */
import type { ConfigInput } from '../../src/config/schema.ts';
import { startLocalElb } from '../../src/index.ts';
import { exitWithParent, reportReady } from '../l7/child.ts';

type TargetGroupInput = NonNullable<ConfigInput['targetGroups']>[number];

/** h2load stops using a connection at its GOAWAY, and does not open another. */
const H2LOAD_EMULATOR = { http2RequestsPerConnection: 1_000_000 } as const;

const SCENARIOS = {
  'ws-http': { listener: 'HTTP', group: { protocol: 'HTTP', healthCheckPath: '/healthz' } },
  'ws-https': { listener: 'HTTPS', group: { protocol: 'HTTP', healthCheckPath: '/healthz' } },
  grpc: { listener: 'HTTPS', group: { protocol: 'HTTP', protocolVersion: 'GRPC' } },
  'grpc-tls-target': { listener: 'HTTPS', group: { protocol: 'HTTPS', protocolVersion: 'GRPC' } },
  'h2-http1': { listener: 'HTTPS', group: { protocol: 'HTTP', healthCheckPath: '/healthz' }, emulator: H2LOAD_EMULATOR },
  'h2-http2': { listener: 'HTTPS', group: { protocol: 'HTTP', protocolVersion: 'HTTP2', healthCheckPath: '/healthz' }, emulator: H2LOAD_EMULATOR },
} as const satisfies Record<string, { listener: 'HTTP' | 'HTTPS'; group: Omit<TargetGroupInput, 'name' | 'targets'>; emulator?: typeof H2LOAD_EMULATOR }>;
export type Scenario = keyof typeof SCENARIOS;

const [scenario = '', portArg = '', stateDir] = process.argv.slice(2);
if (!Object.hasOwn(SCENARIOS, scenario)) throw new Error(`scenario must be one of ${Object.keys(SCENARIOS).join(', ')}: got ${JSON.stringify(scenario)}`);
const port = Number(portArg);
if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`target port must be 1–65535: got ${JSON.stringify(portArg)}`);
if (stateDir === undefined) throw new Error('usage: child-local-elb.ts <scenario> <targetPort> <stateDir>');
const chosen: { listener: 'HTTP' | 'HTTPS'; group: Omit<TargetGroupInput, 'name' | 'targets'>; emulator?: typeof H2LOAD_EMULATOR } = SCENARIOS[scenario as Scenario];
const { listener, group, emulator } = chosen;

const elb = await startLocalElb({
  stateDir,
  config: {
    targetGroups: [{ name: 'bench', ...group, healthCheckIntervalSeconds: 5, healthCheckTimeoutSeconds: 2, targets: [{ id: '127.0.0.1', port }] }],
    loadBalancers: [{ name: 'bench', type: 'application', ...(emulator ? { emulator } : {}), listeners: [{ port: 0, protocol: listener, defaultActions: [{ type: 'forward', targetGroupName: 'bench' }] }] }],
  },
});
exitWithParent(() => elb.close());

const targetGroup = elb.targetGroup('bench');
const deadline = Date.now() + 15_000;
while (targetGroup.healthyHostCount < 1) {
  if (Date.now() > deadline) throw new Error(`target not healthy after 15 s: ${JSON.stringify(targetGroup.describeTargetHealth())}`);
  await new Promise((r) => setTimeout(r, 20));
}
reportReady(elb.loadBalancer('bench').ports);
