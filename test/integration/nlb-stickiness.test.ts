/**
 * NLB source_ip stickiness on real sockets (spec 3.5): with `stickiness.enabled` and
 * `stickiness.type: source_ip`, every new flow from one client address goes to one target while
 * that target takes new flows, over TCP and UDP; two client addresses (127.0.0.2 and
 * 127.0.0.3, bound as the TCP tests bind localAddress) each keep their own; a client whose
 * target deregisters moves to another and stays there.
 */
import { describe, expect, it } from 'vitest';
import { startLocalElb, type LocalElb } from '../../src/local-elb.ts';
import type { TargetGroup } from '../../src/targets/target-group.ts';
import { deferCleanups } from '../support/alb.ts';
import { connectClient, startHealthPort, startTcpTarget, startUdpClient, startUdpTarget, type TcpTarget, type UdpTarget } from '../support/tcp.ts';
import { waitFor } from '../support/wait.ts';

const defer = deferCleanups();

interface TestNlb {
  readonly elb: LocalElb;
  readonly port: number;
  readonly group: TargetGroup;
}

const STICKY = { 'stickiness.enabled': 'true', 'stickiness.type': 'source_ip' };

async function nlb(protocol: 'TCP' | 'UDP', ports: readonly number[], attributes: Record<string, string>): Promise<TestNlb> {
  const health = protocol === 'UDP' ? await startHealthPort() : undefined;
  if (health) defer(() => health.close());
  const elb = await startLocalElb({
    config: {
      targetGroups: [
        {
          name: 'pool',
          protocol,
          targetType: 'ip',
          healthCheckProtocol: 'TCP',
          healthCheckIntervalSeconds: 5,
          healthCheckTimeoutSeconds: 2,
          ...(health ? { healthCheckPort: health.port } : {}),
          attributes: { 'deregistration_delay.timeout_seconds': '5', ...attributes },
          targets: ports.map((port) => ({ id: '127.0.0.1', port })),
        },
      ],
      loadBalancers: [{ name: 'edge', type: 'network', listeners: [{ port: 0, protocol, defaultActions: [{ type: 'forward', targetGroupName: 'pool' }] }] }],
    },
  });
  defer(() => elb.close());
  const group = elb.targetGroup('pool');
  await waitFor(() => group.healthyHostCount === ports.length, { timeoutMs: 5_000, what: `${ports.length} healthy targets` });
  return { elb, port: elb.networkLoadBalancer('edge').ports[0]!, group };
}

async function tcpTargets(n: number): Promise<TcpTarget[]> {
  const out: TcpTarget[] = [];
  for (let i = 0; i < n; i++) {
    const t = await startTcpTarget(`t${i}`);
    defer(() => t.close());
    out.push(t);
  }
  return out;
}

async function udpTargets(n: number): Promise<UdpTarget[]> {
  const out: UdpTarget[] = [];
  for (let i = 0; i < n; i++) {
    const t = await startUdpTarget(`u${i}`);
    defer(() => t.close());
    out.push(t);
  }
  return out;
}

/** `n` new TCP connections from `address`, one message each; the targets that answered, in order. */
async function tcpFlows(port: number, address: string, n: number): Promise<string[]> {
  const served: string[] = [];
  for (let i = 0; i < n; i++) {
    const c = await connectClient(port, { localAddress: address });
    served.push((await c.exchange(`m${i}`)).split(':')[0]!);
    c.socket.destroy();
  }
  return served;
}

/** `n` new UDP flows from `address` (each a new socket, so a new source port); the targets that answered. */
async function udpFlows(port: number, address: string, n: number): Promise<string[]> {
  const served: string[] = [];
  for (let i = 0; i < n; i++) {
    const c = await startUdpClient(port, address);
    served.push((await c.exchange(`d${i}`)).split(':')[0]!);
    await c.close();
  }
  return served;
}

describe('NLB source_ip stickiness over TCP', () => {
  it('without stickiness, the connections of one client address spread over the targets', async () => {
    const ts = await tcpTargets(3);
    const n = await nlb('TCP', ts.map((t) => t.port), {});
    // All 30 on one of three targets would happen 1 run in 3^29.
    expect(new Set(await tcpFlows(n.port, '127.0.0.2', 30)).size).toBeGreaterThan(1);
  });

  it('sends every new connection from 127.0.0.2 to one target and from 127.0.0.3 to one target', async () => {
    const ts = await tcpTargets(3);
    const n = await nlb('TCP', ts.map((t) => t.port), STICKY);
    const two = await tcpFlows(n.port, '127.0.0.2', 30);
    const three = await tcpFlows(n.port, '127.0.0.3', 30);
    expect(new Set(two).size).toBe(1);
    expect(new Set(three).size).toBe(1);
    // Interleaved, each address keeps its own.
    for (let i = 0; i < 5; i++) {
      expect(await tcpFlows(n.port, '127.0.0.2', 1)).toEqual([two[0]]);
      expect(await tcpFlows(n.port, '127.0.0.3', 1)).toEqual([three[0]]);
    }
  });

  it("moves a client whose target deregisters to another target, and keeps it there; the other client stays", async () => {
    const ts = await tcpTargets(3);
    const n = await nlb('TCP', ts.map((t) => t.port), STICKY);
    const [before] = await tcpFlows(n.port, '127.0.0.2', 3);
    const [otherClient] = await tcpFlows(n.port, '127.0.0.3', 3);
    const bound = ts.find((t) => t.name === before)!;
    void n.group.deregister([{ id: '127.0.0.1', port: bound.port }]);
    const after = await tcpFlows(n.port, '127.0.0.2', 20);
    expect(after).not.toContain(before);
    expect(new Set(after).size).toBe(1);
    if (otherClient !== before) expect(new Set(await tcpFlows(n.port, '127.0.0.3', 10))).toEqual(new Set([otherClient]));
  });
});

describe('NLB source_ip stickiness over UDP', () => {
  it('without stickiness, the flows of one client address spread over the targets', async () => {
    const ts = await udpTargets(3);
    const n = await nlb('UDP', ts.map((t) => t.port), {});
    expect(new Set(await udpFlows(n.port, '127.0.0.2', 30)).size).toBeGreaterThan(1);
  });

  it('sends every new flow from 127.0.0.2 to one target and from 127.0.0.3 to one target, and the target sees the client address', async () => {
    const ts = await udpTargets(3);
    const n = await nlb('UDP', ts.map((t) => t.port), STICKY);
    const two = await udpFlows(n.port, '127.0.0.2', 20);
    const three = await udpFlows(n.port, '127.0.0.3', 20);
    expect(new Set(two).size).toBe(1);
    expect(new Set(three).size).toBe(1);
    const served = ts.find((t) => t.name === two[0])!;
    expect(served.received.filter((d) => d.address === '127.0.0.2')).toHaveLength(20);
  });

  it('moves a client whose target deregisters, and keeps it on the new one', async () => {
    const ts = await udpTargets(3);
    const n = await nlb('UDP', ts.map((t) => t.port), STICKY);
    const [before] = await udpFlows(n.port, '127.0.0.2', 3);
    const bound = ts.find((t) => t.name === before)!;
    void n.group.deregister([{ id: '127.0.0.1', port: bound.port }]);
    const after = await udpFlows(n.port, '127.0.0.2', 15);
    expect(after).not.toContain(before);
    expect(new Set(after).size).toBe(1);
  });
});
