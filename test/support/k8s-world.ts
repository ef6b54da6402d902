/**
 * The KubernetesController the k8s integration tests run against the fake API server, with one
 * set of test timings: changes applied within 20 ms, statuses and CRDs re-checked every 0.5 s,
 * watches retried after 50–200 ms, and load balancer addresses of its own (127.<octet>.x.y, the
 * octet from this test worker's range), so test files running side by side do not share addresses.
 */
import { randomInt } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubernetesController, type KubernetesControllerOptions } from '../../src/k8s/controller.ts';
import { startFakeKubeApiServer, type FakeKubeApiServer } from './fake-kube-apiserver.ts';

/** How many disjoint ranges of second octets the test workers take (vitest's pool ids 1, 2, … wrap past it). */
const ADDRESS_RANGES = 4;
const FIRST_OCTET = 100;
const RANGE_WIDTH = Math.floor(150 / ADDRESS_RANGES);

/**
 * A second octet for loopback addresses of a test's own (127.<octet>.x.y), from this test
 * worker's range: files that run side by side (one per vitest worker) never draw the same one,
 * so their listeners on fixed ports cannot collide; random within the range (not `avoid`).
 */
export function testOctet(avoid: readonly number[] = []): number {
  const pool = Number(process.env.VITEST_POOL_ID ?? '1');
  const base = FIRST_OCTET + ((((pool - 1) % ADDRESS_RANGES) + ADDRESS_RANGES) % ADDRESS_RANGES) * RANGE_WIDTH;
  for (;;) {
    const octet = base + randomInt(0, RANGE_WIDTH);
    if (!avoid.includes(octet)) return octet;
  }
}

/** A load balancer address prefix of this test worker's own: `127.<testOctet()>`. */
export function testAddressPrefix(): string {
  return `127.${testOctet()}`;
}

export function testController(api: FakeKubeApiServer, options: Partial<KubernetesControllerOptions> = {}): KubernetesController {
  return new KubernetesController({
    kubeConfig: api.kubeConfig(),
    addressPrefix: testAddressPrefix(),
    debounceMs: 20,
    resyncMs: 500,
    watchBackoffMs: { min: 50, max: 200 },
    ...options,
  });
}

/**
 * The fake API server and a testController with a fresh state directory (the local CA's), each
 * pushed onto `cleanups` (run last first): api closed, directory removed, controller stopped.
 */
export async function controllerWorld(
  cleanups: Array<() => Promise<void>>,
  stateDirPrefix: string,
  options: Partial<KubernetesControllerOptions> = {},
): Promise<{ api: FakeKubeApiServer; controller: KubernetesController; stateDir: string }> {
  const stateDir = await mkdtemp(join(tmpdir(), stateDirPrefix));
  cleanups.push(() => rm(stateDir, { recursive: true, force: true }));
  const api = await startFakeKubeApiServer({ bookmarkIntervalMs: 200 });
  cleanups.push(() => api.close());
  const controller = testController(api, { stateDir, ...options });
  cleanups.push(() => controller.stop());
  return { api, controller, stateDir };
}
