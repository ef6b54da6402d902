/**
 * The KubernetesController the k8s integration tests run against the fake API server, with one
 * set of test timings: changes applied within 20 ms, statuses and CRDs re-checked every 0.5 s,
 * watches retried after 50–200 ms, and load balancer addresses of its own (127.<100–249>.x.y),
 * so test files running side by side do not share addresses.
 */
import { randomInt } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubernetesController, type KubernetesControllerOptions } from '../../src/k8s/controller.ts';
import { startFakeKubeApiServer, type FakeKubeApiServer } from './fake-kube-apiserver.ts';

export function testController(api: FakeKubeApiServer, options: Partial<KubernetesControllerOptions> = {}): KubernetesController {
  return new KubernetesController({
    kubeConfig: api.kubeConfig(),
    addressPrefix: `127.${randomInt(100, 250)}`,
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
