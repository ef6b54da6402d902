/**
 * Real AWS attributes with no local meaning in annotations (issue #13): the load balancer is
 * built and serves, each such attribute gets a Warning Event naming it, and a key AWS does not
 * define still refuses the load balancer. Against the in-repo fake API server with the real
 * @kubernetes/client-node, a real HTTP server as the pod.
 */
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import type { FakeKubeApiServer } from '../support/fake-kube-apiserver.ts';
import { albClass, ingress, lbService, node } from '../support/k8s-fixtures.ts';
import { startTarget } from '../support/targets.ts';
import { waitFor } from '../support/wait.ts';
import { controllerWorld } from '../support/k8s-world.ts';

const ING = 'alb.ingress.kubernetes.io/';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

async function world(annotations: Record<string, string>) {
  const { api, controller } = await controllerWorld(cleanups, 'local-elb-k8s-attrs-');
  const pod = await startTarget('pod', { healthPath: '/' });
  cleanups.push(() => pod.close());
  api.create(node('worker', '127.0.0.1'), { keepStatus: true });
  api.create(albClass);
  api.create(lbService('web', { type: 'NodePort', loadBalancerClass: null, ports: [{ name: 'http', port: 80, nodePort: pod.port }] }));
  api.create(ingress('web', [{ paths: [{ path: '/', pathType: 'Prefix', service: 'web', port: 80 }] }], { annotations: { [`${ING}listen-ports`]: '[{"HTTP": 8080}]', ...annotations } }));
  await controller.start();
  return { api, controller };
}

const events = (api: FakeKubeApiServer) => api.list('v1', 'Event', 'default') as Array<{ reason: string; message: string; type: string; involvedObject: { name: string } }>;

describe('attributes without local effect through the controller', () => {
  it('serves the Ingress and names each such attribute in a Warning Event', async () => {
    const { api } = await world({
      [`${ING}load-balancer-attributes`]: 'deletion_protection.enabled=true,access_logs.s3.enabled=true,access_logs.s3.bucket=my-logs,idle_timeout.timeout_seconds=120',
      [`${ING}target-group-attributes`]: 'load_balancing.cross_zone.enabled=false',
    });
    const ip = await waitFor(() => (api.get('networking.k8s.io/v1', 'Ingress', 'default', 'web') as { status?: { loadBalancer?: { ingress?: Array<{ ip?: string }> } } }).status?.loadBalancer?.ingress?.[0]?.ip, {
      what: 'the Ingress address',
    });
    const res = await waitFor(
      async () => {
        const r = await request(`http://${ip}:8080/hello`).catch(() => undefined);
        if (r === undefined) return undefined;
        const body = await r.body.text();
        return r.statusCode === 200 ? body : undefined;
      },
      { what: 'the app through the load balancer' },
    );
    expect(res).toBe('pod');
    const warnings = await waitFor(() => {
      const w = events(api).filter((e) => e.reason === 'AttributeWithoutLocalEffect');
      return w.length >= 4 ? w : undefined;
    }, { what: 'four AttributeWithoutLocalEffect events' });
    expect(warnings.map((e) => e.message).sort()).toEqual([
      'attribute access_logs.s3.bucket=my-logs is accepted, with no local effect: logs go to --access-log, not to S3',
      'attribute access_logs.s3.enabled=true is accepted, with no local effect: logs go to --access-log, not to S3',
      'attribute deletion_protection.enabled=true is accepted, with no local effect: a local load balancer is deleted with its process',
      'attribute load_balancing.cross_zone.enabled=false is accepted, with no local effect: every target is in one local zone, so cross-zone routing changes nothing',
    ]);
    expect(new Set(warnings.map((e) => e.type))).toEqual(new Set(['Warning']));
    expect(events(api).some((e) => e.reason === 'LoadBalancerFailed')).toBe(false);
  });

  it('still refuses a key AWS does not define, naming it', async () => {
    const { api } = await world({ [`${ING}load-balancer-attributes`]: 'no_such.key=1' });
    const failed = await waitFor(() => events(api).find((e) => e.reason === 'LoadBalancerFailed'), { what: 'the LoadBalancerFailed event' });
    expect(failed.message).toMatch(/no_such\.key.*ValidationError: Load balancer attribute key 'no_such\.key' is not recognized/);
  });
});
