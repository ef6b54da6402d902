/**
 * L4 bench child: local-elb as an NLB, one TCP listener on an OS-chosen port forwarding to one
 * `TCP` target group over the given targets (`node child-local-elb.ts plain 4001,4002,4003`).
 * The variant sets the target group's attributes: `plain` (no client IP preservation, no
 * PPv2), `preserve-client-ip`, or `proxy-protocol-v2`. Reports its port over IPC once every
 * target passed its TCP health check.
 */
import { startLocalElb } from '../../src/index.ts';
import { exitWithParent, portsArg, reportReady } from '../l7/child.ts';

const VARIANTS = {
  plain: { 'preserve_client_ip.enabled': 'false', 'proxy_protocol_v2.enabled': 'false' },
  'preserve-client-ip': { 'preserve_client_ip.enabled': 'true', 'proxy_protocol_v2.enabled': 'false' },
  'proxy-protocol-v2': { 'preserve_client_ip.enabled': 'false', 'proxy_protocol_v2.enabled': 'true' },
} as const satisfies Record<string, Record<string, string>>;

const variant = process.argv[2] ?? 'plain';
if (!Object.hasOwn(VARIANTS, variant)) throw new Error(`variant must be one of ${Object.keys(VARIANTS).join(', ')}: got ${JSON.stringify(variant)}`);
const ports = portsArg(process.argv[3]);

const elb = await startLocalElb({
  config: {
    targetGroups: [
      {
        name: 'bench',
        protocol: 'TCP',
        healthCheckProtocol: 'TCP',
        attributes: { ...VARIANTS[variant as keyof typeof VARIANTS] },
        targets: ports.map((port) => ({ id: '127.0.0.1', port })),
      },
    ],
    loadBalancers: [
      {
        name: 'bench',
        type: 'network',
        listeners: [{ port: 0, protocol: 'TCP', defaultActions: [{ type: 'forward', targetGroupName: 'bench' }] }],
      },
    ],
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
