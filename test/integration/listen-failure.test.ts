/** A port that is taken: a clear ELB_ERR_LISTEN_FAILED naming the listener, and nothing left open. */
import net, { type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ElbError, ErrorCodes } from '../../src/core/errors.ts';
import { startLocalElb } from '../../src/local-elb.ts';
import { startAdminServer } from '../../src/admin/server.ts';
import { openFileDescriptors } from '../support/process-stats.ts';
import { waitFor } from '../support/wait.ts';

describe('listening on a taken port', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function takenPort(): Promise<number> {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise<void>((r) => blocker.close(() => r())));
    return (blocker.address() as AddressInfo).port;
  }

  it.each([
    ['an ALB listener', 'application', 'HTTP', 'load balancer lb on 127.0.0.1:PORT'],
    ['an NLB TCP listener', 'network', 'TCP', 'load balancer lb on TCP 127.0.0.1:PORT'],
  ] as const)('rejects %s with ELB_ERR_LISTEN_FAILED naming the listener', async (_name, type, protocol, label) => {
    const port = await takenPort();
    const tgProtocol = type === 'application' ? 'HTTP' : 'TCP';
    const config = {
      targetGroups: [{ name: 'tg', protocol: tgProtocol, targets: [{ id: '127.0.0.1', port: 9 }] }],
      loadBalancers: [
        {
          name: 'lb',
          type,
          listeners: [
            { port: 0, protocol, defaultActions: [{ type: 'forward', targetGroupName: 'tg' }] },
            { port, protocol, defaultActions: [{ type: 'forward', targetGroupName: 'tg' }] },
          ],
        },
      ],
    } as const;
    const before = openFileDescriptors();
    const err = (await startLocalElb({ config: config as never }).catch((e: unknown) => e)) as ElbError;
    expect(err).toBeInstanceOf(ElbError);
    expect(err.code).toBe(ErrorCodes.LISTEN_FAILED);
    expect(err.message).toBe(`cannot start ${label.replace('PORT', String(port))}: EADDRINUSE`);
    // Nothing left open: the first listener (bound before the second failed) is closed again,
    // and no health-check socket or timer keeps a descriptor.
    await waitFor(() => openFileDescriptors() <= before, { what: `open file descriptors back to ${before}` });
  });

  it('rejects the admin API on a taken port the same way', async () => {
    const port = await takenPort();
    const elb = await startLocalElb({ config: {} });
    cleanups.push(() => elb.close());
    const before = openFileDescriptors();
    await expect(startAdminServer(elb, { port })).rejects.toMatchObject({ code: ErrorCodes.LISTEN_FAILED, message: `cannot start the admin API on 127.0.0.1:${port}: EADDRINUSE` });
    await waitFor(() => openFileDescriptors() <= before, { what: `open file descriptors back to ${before}` });
  });
});
