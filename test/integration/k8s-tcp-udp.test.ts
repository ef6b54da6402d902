/**
 * `service.beta.kubernetes.io/aws-load-balancer-enable-tcp-udp-listener: "true"` (issue #14):
 * a Service's TCP and UDP ports of one number become one TCP_UDP listener and target group, as
 * the controller merges them, and both protocols reach the pod through that one port. Against the
 * in-repo fake API server with the real @kubernetes/client-node; the pod is a TCP and a UDP echo
 * on one port number (the TCP one answers the group's TCP health check).
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeKubeApiServer } from '../support/fake-kube-apiserver.ts';
import { endpointSlice, lbService } from '../support/k8s-fixtures.ts';
import { testController } from '../support/k8s-world.ts';
import { startTcpTarget, startUdpTarget } from '../support/tcp.ts';
import { waitFor } from '../support/wait.ts';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

describe('enable-tcp-udp-listener through the controller', () => {
  it('serves TCP and UDP on one TCP_UDP listener and target group', async () => {
    const api = await startFakeKubeApiServer({ bookmarkIntervalMs: 200 });
    cleanups.push(() => api.close());
    const tcp = await startTcpTarget('dns-tcp');
    cleanups.push(() => tcp.close());
    const udp = await startUdpTarget('dns-udp', { port: tcp.port });
    cleanups.push(() => udp.close());
    api.create(
      lbService('dns', {
        annotations: {
          'service.beta.kubernetes.io/aws-load-balancer-type': 'external',
          'service.beta.kubernetes.io/aws-load-balancer-nlb-target-type': 'ip',
          'service.beta.kubernetes.io/aws-load-balancer-enable-tcp-udp-listener': 'true',
          'service.beta.kubernetes.io/aws-load-balancer-healthcheck-interval': '5',
          'service.beta.kubernetes.io/aws-load-balancer-healthcheck-timeout': '2',
        },
        ports: [
          { name: 'dns-tcp', port: 15053, targetPort: tcp.port, protocol: 'TCP' },
          { name: 'dns-udp', port: 15053, targetPort: tcp.port, protocol: 'UDP' },
        ],
      }),
    );
    api.create(endpointSlice('dns', [{ ip: '127.0.0.1', pod: 'dns-0' }], { portName: 'dns-tcp', port: tcp.port }));
    const controller = testController(api);
    cleanups.push(() => controller.stop());
    await controller.start();

    const running = await waitFor(() => controller.stacks().get('service/default/dns'), { what: 'the NLB of the Service' });
    expect(running.elb.loadBalancers()[0]!.config.listeners.map((l) => `${l.protocol}:${l.port}`)).toEqual(['TCP_UDP:15053']);
    const group = running.elb.targetGroups()[0]!;
    expect(group.describe()).toMatchObject({ protocol: 'TCP_UDP', healthCheckProtocol: 'TCP' });
    await waitFor(() => group.describeTargetHealth()[0]?.targetHealth.state === 'healthy', { what: 'the pod healthy by its TCP check' });

    const port = running.portMap.get(15053)!;
    const reply = await waitFor(
      () =>
        new Promise<string>((resolve, reject) => {
          const socket = net.connect({ host: running.address, port }, () => socket.write('A?'));
          socket.setEncoding('utf8');
          socket.once('data', (d: string) => {
            resolve(d);
            socket.destroy();
          });
          socket.once('error', reject);
        }),
      { what: 'a TCP echo through the TCP_UDP listener' },
    );
    expect(reply).toBe('dns-tcp:A?');

    const client = dgram.createSocket('udp4');
    cleanups.push(() => new Promise<void>((resolve) => client.close(() => resolve())));
    const replies: string[] = [];
    client.on('message', (m) => replies.push(m.toString()));
    await new Promise<void>((resolve) => client.bind(0, '127.0.0.1', () => resolve()));
    await waitFor(
      () => {
        client.send('AAAA?', port, running.address);
        return replies.includes('dns-udp:AAAA?');
      },
      { intervalMs: 200, what: 'a UDP reply through the same listener' },
    );
  });
});
