/**
 * L7 bench child: local-elb as an ALB with one HTTP target group over the given targets
 * (`node child-local-elb.ts round_robin 4001,4002,4003`). Reports its listener port over IPC
 * once every target is healthy.
 */
import { startLocalElb } from '../../src/index.ts';
import { exitWithParent, portsArg, reportReady } from './child.ts';

const algorithm = process.argv[2] ?? 'round_robin';
const ports = portsArg(process.argv[3]);

const elb = await startLocalElb({
  config: {
    targetGroups: [
      {
        name: 'bench',
        protocol: 'HTTP',
        healthCheckPath: '/healthz',
        healthCheckIntervalSeconds: 5,
        healthCheckTimeoutSeconds: 2,
        attributes: { 'load_balancing.algorithm.type': algorithm },
        targets: ports.map((port) => ({ id: '127.0.0.1', port })),
      },
    ],
    loadBalancers: [{ name: 'bench', type: 'application', listeners: [{ port: 0, defaultActions: [{ type: 'forward', targetGroupName: 'bench' }] }] }],
  },
});
exitWithParent(() => elb.close());

const group = elb.targetGroup('bench');
const deadline = Date.now() + 15_000;
while (group.healthyHostCount < ports.length) {
  if (Date.now() > deadline) throw new Error(`targets not healthy after 15 s: ${JSON.stringify(group.describeTargetHealth())}`);
  await new Promise((r) => setTimeout(r, 20));
}
reportReady(elb.loadBalancer('bench').ports);
