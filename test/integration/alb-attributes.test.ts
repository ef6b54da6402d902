/**
 * Load balancer attributes and forward actions as the README states them, through the real
 * listener to real targets (spec 4.6, 5.3, 5.4, 3.4): the attribute keys are read from the
 * config here, so a typo in a key or a setting that is parsed but never wired fails these
 * tests (the pure header functions have their own unit tests). X-Forwarded-For processing
 * modes, xff_client_port.enabled, preserve_host_header.enabled, and weighted target groups in a
 * forward action.
 */
import net from 'node:net';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/core/random.ts';
import { startLocalElb } from '../../src/local-elb.ts';
import { deferCleanups, startAlb, waitHealthy, type AlbOptions, type TestAlb } from '../support/alb.ts';
import { binomialLowerBound } from '../support/stats.ts';
import { startTarget, type TestTarget } from '../support/targets.ts';
import { waitFor } from '../support/wait.ts';

const defer = deferCleanups();

async function target(name: string): Promise<TestTarget> {
  const t = await startTarget(name);
  defer(() => t.close());
  return t;
}

async function albFor(t: TestTarget, options: AlbOptions = {}): Promise<TestAlb> {
  const alb = await startAlb({ ...options, targetPorts: [t.port] });
  defer(() => alb.elb.close());
  await waitHealthy(alb.group, 1);
  return alb;
}

/** One GET over a socket of our own, so the test knows the client port the ALB saw. */
function getFrom(port: number, headers: string): Promise<{ clientPort: number; response: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let response = '';
    let clientPort = 0;
    socket.setEncoding('latin1');
    socket.on('connect', () => {
      clientPort = socket.localPort!;
      socket.write(`GET /who HTTP/1.1\r\nHost: x\r\n${headers}Connection: close\r\n\r\n`);
    });
    socket.on('data', (d: string) => (response += d));
    socket.on('error', reject);
    socket.on('close', () => resolve({ clientPort, response }));
  });
}

describe('routing.http.xff_header_processing.mode and xff_client_port.enabled (spec 5.3)', () => {
  it.each<[string, Record<string, string>, string, (clientPort: number) => string | undefined]>([
    ['append (the default)', {}, 'X-Forwarded-For: 203.0.113.7\r\n', (_port: number) => '203.0.113.7, 127.0.0.1'],
    ['append with xff_client_port.enabled', { 'routing.http.xff_client_port.enabled': 'true' }, 'X-Forwarded-For: 203.0.113.7\r\n', (port: number) => `203.0.113.7, 127.0.0.1:${port}`],
    ['append with xff_client_port.enabled and no incoming header', { 'routing.http.xff_client_port.enabled': 'true' }, '', (port: number) => `127.0.0.1:${port}`],
    ['preserve', { 'routing.http.xff_header_processing.mode': 'preserve' }, 'X-Forwarded-For: 203.0.113.7\r\n', () => '203.0.113.7'],
    ['preserve, with no incoming header', { 'routing.http.xff_header_processing.mode': 'preserve' }, '', () => undefined],
    ['remove', { 'routing.http.xff_header_processing.mode': 'remove' }, 'X-Forwarded-For: 203.0.113.7\r\n', () => undefined],
  ])('%s: the target sees the expected X-Forwarded-For', async (_name, attributes, incoming, expected) => {
    const a = await target('a');
    const alb = await albFor(a, { loadBalancerAttributes: attributes });
    const { clientPort, response } = await getFrom(alb.port, incoming);
    expect(response).toMatch(/^HTTP\/1\.1 200 /);
    expect(a.seen).toHaveLength(1);
    expect(a.seen[0]!.headers['x-forwarded-for']).toBe(expected(clientPort));
  });
});

describe('routing.http.preserve_host_header.enabled (spec 5.4)', () => {
  it.each([
    ['false (the default): the listener port is appended to a Host without one', {}, (port: number) => `example.com:${port}`],
    ['true: the Host goes to the target as the client sent it', { 'routing.http.preserve_host_header.enabled': 'true' }, () => 'example.com'],
  ] as const)('%s', async (_name, attributes, expected) => {
    const a = await target('a');
    const alb = await albFor(a, { loadBalancerAttributes: attributes });
    const res = await request(`${alb.url}/host`, { headers: { host: 'example.com' } });
    expect(res.statusCode).toBe(200);
    await res.body.text();
    expect(a.seen).toHaveLength(1);
    expect(a.seen[0]!.headers.host).toBe(expected(alb.port));
  });
});

describe('a forward action with weighted target groups (spec 3.4)', () => {
  const REQUESTS = 400;
  // Each bound fails by chance in at most 1 run in 2·10^9 (weights 1 and 3 of 4).
  const BLUE_AT_LEAST = binomialLowerBound(REQUESTS, 1 / 4, 5e-10);
  const GREEN_AT_LEAST = binomialLowerBound(REQUESTS, 3 / 4, 5e-10);

  it(`sends ${REQUESTS} requests by weight 1:3:0 (blue at least ${BLUE_AT_LEAST}, green at least ${GREEN_AT_LEAST}, none to the weight-0 group)`, async () => {
    const blue = await target('blue');
    const green = await target('green');
    const grey = await target('grey');
    const group = (name: string, t: TestTarget) => ({ name, protocol: 'HTTP' as const, healthCheckPath: '/healthz', targets: [{ id: '127.0.0.1', port: t.port }] });
    const elb = await startLocalElb({
      // The draw that picks a group comes from this stream, so a run repeats exactly.
      random: seededRandom(19),
      config: {
        targetGroups: [group('blue', blue), group('green', green), group('grey', grey)],
        loadBalancers: [
          {
            name: 'app',
            listeners: [
              {
                port: 0,
                defaultActions: [
                  {
                    type: 'forward',
                    forwardConfig: {
                      targetGroups: [
                        { targetGroupName: 'blue', weight: 1 },
                        { targetGroupName: 'green', weight: 3 },
                        { targetGroupName: 'grey', weight: 0 },
                      ],
                    },
                  },
                ],
              },
            ],
          },
        ],
      },
    });
    defer(() => elb.close());
    await waitFor(() => ['blue', 'green', 'grey'].every((name) => elb.targetGroup(name).healthyHostCount === 1), { what: 'the three groups healthy' });
    const counts: Record<string, number> = {};
    for (let i = 0; i < REQUESTS; i++) {
      const res = await request(`${elb.url('app')}/w/${i}`);
      const body = await res.body.text();
      expect(res.statusCode).toBe(200);
      counts[body] = (counts[body] ?? 0) + 1;
    }
    expect((counts.blue ?? 0) + (counts.green ?? 0)).toBe(REQUESTS);
    expect(counts.blue ?? 0).toBeGreaterThanOrEqual(BLUE_AT_LEAST);
    expect(counts.green ?? 0).toBeGreaterThanOrEqual(GREEN_AT_LEAST);
    expect(grey.seen).toHaveLength(0);
  });
});
