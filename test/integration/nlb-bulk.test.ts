/**
 * Bytes through the NLB arrive intact and in order both ways, also when the client reads
 * slowly (back-pressure on the pooled target→client read buffers) and when many flows share
 * the buffer pool at once.
 */
import { createHash, randomBytes } from 'node:crypto';
import net, { type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startLocalElb, type LocalElb } from '../../src/local-elb.ts';
import { waitFor } from '../support/wait.ts';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('NLB bulk transfer', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function setup(payload: Buffer): Promise<{ port: number; uploads: Buffer[] }> {
    const uploads: Buffer[] = [];
    // The target sends `payload` as soon as a client connects, and keeps what it receives.
    const server = net.createServer({ allowHalfOpen: true }, (s) => {
      const got: Buffer[] = [];
      s.on('data', (c: Buffer) => got.push(c));
      s.on('end', () => uploads.push(Buffer.concat(got)));
      s.on('error', () => {});
      s.end(payload);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    const elb: LocalElb = await startLocalElb({
      config: {
        targetGroups: [{ name: 'tcp', protocol: 'TCP', targetType: 'ip', healthCheckIntervalSeconds: 30, targets: [{ id: '127.0.0.1', port: (server.address() as AddressInfo).port }] }],
        loadBalancers: [{ name: 'edge', type: 'network', listeners: [{ port: 0, protocol: 'TCP', defaultActions: [{ type: 'forward', targetGroupName: 'tcp' }] }] }],
      },
    });
    cleanups.push(() => elb.close());
    await waitFor(() => elb.targetGroup('tcp').healthyHostCount === 1, { what: 'the target to be healthy' });
    return { port: elb.networkLoadBalancer('edge').ports[0]!, uploads };
  }

  function exchange(port: number, upload: Buffer, slow: boolean): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const c = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
      const got: Buffer[] = [];
      c.on('data', (chunk: Buffer) => {
        got.push(chunk);
        if (slow) {
          c.pause();
          setImmediate(() => c.resume());
        }
      });
      c.on('end', () => {
        c.end();
        resolve(Buffer.concat(got));
      });
      c.on('error', reject);
      c.end(upload);
    });
  }

  it.each([
    ['a fast reader', false],
    ['a slow reader (back-pressure)', true],
  ])('carries 24 MiB down and 4 MiB up intact for %s', async (_name, slow) => {
    const down = randomBytes(24 * 1024 * 1024);
    const up = randomBytes(4 * 1024 * 1024);
    const { port, uploads } = await setup(down);
    const received = await exchange(port, up, slow);
    expect(received.length).toBe(down.length);
    expect(sha(received)).toBe(sha(down));
    // Health-check connections also reach the target (and upload nothing): find the flow's.
    const upload = await waitFor(() => uploads.find((u) => u.length > 0), { what: 'the target to get the upload' });
    expect(sha(upload)).toBe(sha(up));
  });

  it('keeps 20 concurrent flows apart while they share the read buffers', async () => {
    const down = randomBytes(2 * 1024 * 1024);
    const { port } = await setup(down);
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => exchange(port, Buffer.from(`flow ${i}`), i % 2 === 0)));
    for (const r of results) expect(sha(r)).toBe(sha(down));
  });
});
