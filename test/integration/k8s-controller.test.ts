/**
 * The Kubernetes controller against the in-repo fake API server over real HTTP, with the real
 * @kubernetes/client-node: Services get an NLB and an EXTERNAL-IP, Ingresses an ALB, targets
 * follow EndpointSlices, readiness gates flip by strategic-merge patch, dropped watches and an
 * API server restart are survived, and what cannot be served is reported as an Event.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { KubernetesController } from '../../src/k8s/controller.ts';
import { startFakeKubeApiServer, type FakeKubeApiServer } from '../support/fake-kube-apiserver.ts';
import { albClass, endpointSlice, ingress, lbService, namespace, node, pod } from '../support/k8s-fixtures.ts';
import { runCli, startCli } from '../support/cli.ts';
import { requirePeer } from '../support/peers.ts';
import { startTarget, type TestTarget } from '../support/targets.ts';
import { waitFor } from '../support/wait.ts';
import { testAddressPrefix, testController } from '../support/k8s-world.ts';

const kubectlBin = requirePeer('kubectl');

// Every cleanup runs, last first, even when one fails; then the first failure fails the test
// (a controller or server that does not stop cleanly is a bug, not noise).
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  const errors: unknown[] = [];
  for (const c of cleanups.splice(0).reverse()) await c().catch((err: unknown) => errors.push(err));
  if (errors.length > 0) throw errors[0];
});

async function world() {
  const api = await startFakeKubeApiServer({ bookmarkIntervalMs: 200 });
  cleanups.push(() => api.close());
  const prefix = testAddressPrefix();
  const controller = testController(api, { addressPrefix: prefix });
  cleanups.push(() => controller.stop());
  const target = async (name: string) => {
    const t = await startTarget(name);
    cleanups.push(() => t.close());
    return t;
  };
  return { api, controller, target };
}

const serviceStatusIp = (api: FakeKubeApiServer, ns: string, name: string) =>
  (api.get('v1', 'Service', ns, name) as { status?: { loadBalancer?: { ingress?: Array<{ ip?: string }> } } } | undefined)?.status?.loadBalancer?.ingress?.[0]?.ip;

async function get(url: string): Promise<{ status: number; body: string }> {
  const res = await request(url);
  return { status: res.statusCode, body: await res.body.text() };
}

describe('KubernetesController with the fake API server', () => {
  it('gives a LoadBalancer Service an NLB on its own address with instance targets, and sets EXTERNAL-IP', async () => {
    const { api, controller, target } = await world();
    const echo = await target('echo');
    api.create(node('worker', '127.0.0.1'), { keepStatus: true });
    api.create(lbService('echo', { ports: [{ name: 'http', port: 8080, targetPort: 8080, nodePort: echo.port }] }));
    await controller.start();

    const ip = await waitFor(() => serviceStatusIp(api, 'default', 'echo'), { what: 'EXTERNAL-IP in the Service status' });
    expect(ip).toMatch(/^127\.\d+\.0\.\d+$/);
    await waitFor(async () => (await get(`http://${ip}:8080/`)).body === 'echo', { what: 'traffic through the NLB' });

    const stack = controller.stacks().get('service/default/echo')!;
    const tg = stack.elb.targetGroups()[0]!;
    expect(tg.describeTargetHealth()).toEqual([{ target: { id: '127.0.0.1', port: echo.port }, healthCheckPort: String(echo.port), targetHealth: { state: 'healthy' } }]);
    const events = api.list('v1', 'Event', 'default') as Array<{ reason: string; involvedObject: { name: string } }>;
    expect(events.some((e) => e.reason === 'EnsuredLoadBalancer' && e.involvedObject.name === 'echo')).toBe(true);

    // Without kubectl (outside CI) this check is left out (the run's setup says so once); under CI=true the file fails.
    if (kubectlBin !== undefined) {
      const dir = mkdtempSync(join(tmpdir(), 'local-elb-kubectl-'));
      cleanups.push(() => rm(dir, { recursive: true, force: true }));
      // Asynchronously: the fake API server runs in this process.
      const kubectl = (await promisify(execFile)(kubectlBin, ['--kubeconfig', api.writeKubeconfig(dir), '--cache-dir', join(dir, 'cache'), 'get', 'svc', 'echo', '-o', 'wide'], { encoding: 'utf8' })).stdout;
      expect(kubectl).toMatch(new RegExp(`echo\\s+LoadBalancer\\s+\\S+\\s+${ip!.replace(/\./g, '\\.')}`));
    }
  });

  it('gives an ALB Ingress ip targets from EndpointSlices and flips the readiness gate by strategic-merge patch', async () => {
    const { api, controller, target } = await world();
    const web = await target('web');
    api.create(namespace('shop', { 'elbv2.k8s.aws/pod-readiness-gate-inject': 'enabled' }));
    api.create(node('worker', '127.0.0.1'), { keepStatus: true });
    api.create(albClass);
    api.create(pod('web-1', '127.0.0.1', { namespace: 'shop', containersReady: true, ready: false, gates: ['target-health.elbv2.k8s.aws/web'] }), { keepStatus: true });
    api.create(lbService('web', { namespace: 'shop', type: 'ClusterIP', loadBalancerClass: null, ports: [{ name: 'http', port: 80, targetPort: web.port }] }));
    api.create(endpointSlice('web', [{ ip: '127.0.0.1', pod: 'web-1', node: 'worker', ready: false }], { namespace: 'shop', port: web.port }));
    api.create(
      ingress('web', [{ paths: [{ path: '/', pathType: 'Prefix', service: 'web', port: 80 }] }], {
        namespace: 'shop',
        annotations: {
          'alb.ingress.kubernetes.io/target-type': 'ip',
          'alb.ingress.kubernetes.io/listen-ports': '[{"HTTP": 8081}]',
          'alb.ingress.kubernetes.io/healthcheck-path': '/healthz',
          'alb.ingress.kubernetes.io/healthcheck-interval-seconds': '5',
        },
      }),
    );
    await controller.start();

    const gate = await waitFor(() => {
      const p = api.get('v1', 'Pod', 'shop', 'web-1') as { status: { conditions: Array<{ type: string; status: string; reason?: string }> } };
      const c = p.status.conditions.find((x) => x.type === 'target-health.elbv2.k8s.aws/web');
      return c?.status === 'True' ? p.status.conditions : undefined;
    }, { what: 'the readiness gate to turn True' });
    // A strategic-merge patch adds the gate and keeps the kubelet's conditions.
    expect(gate.map((c) => c.type).sort()).toEqual(['ContainersReady', 'Ready', 'target-health.elbv2.k8s.aws/web']);

    const ip = await waitFor(() => (api.get('networking.k8s.io/v1', 'Ingress', 'shop', 'web') as { status?: { loadBalancer?: { ingress?: Array<{ ip?: string }> } } }).status?.loadBalancer?.ingress?.[0]?.ip, {
      what: 'the Ingress address',
    });
    expect(await get(`http://${ip}:8081/anything`)).toEqual({ status: 200, body: 'web' });
  });

  it('follows EndpointSlice changes: new endpoints are registered, terminating ones drain', async () => {
    const { api, controller, target } = await world();
    const a = await target('a');
    const b = await target('b');
    const svc = lbService('api', { annotations: { 'service.beta.kubernetes.io/aws-load-balancer-nlb-target-type': 'ip' }, ports: [{ name: 'http', port: 8082, targetPort: 8080 }] });
    api.create(svc);
    api.create(endpointSlice('api', [{ ip: '127.0.0.1', pod: 'a' }], { port: a.port, name: 'api-a' }));
    await controller.start();
    const group = () => controller.stacks().get('service/default/api')!.elb.targetGroups()[0]!;
    await waitFor(() => controller.stacks().has('service/default/api') && group().describeTargetHealth().length === 1, { what: 'the first target' });

    api.create(endpointSlice('api', [{ ip: '127.0.0.1', pod: 'b' }], { port: b.port, name: 'api-b' }));
    await waitFor(() => group().describeTargetHealth().some((d) => d.target.port === b.port), { what: 'the second endpoint to be registered' });

    api.update({ ...(api.get('discovery.k8s.io/v1', 'EndpointSlice', 'default', 'api-a') as object), endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: false, serving: true, terminating: true } }] });
    await waitFor(() => group().describeTargetHealth().find((d) => d.target.port === a.port)?.targetHealth.state === 'draining', { what: 'the terminating endpoint to drain' });
  });

  it('survives watches reset mid-stream and an API server restart', async () => {
    const { api, controller, target } = await world();
    const a = await target('a');
    const b = await target('b');
    api.create(lbService('api', { annotations: { 'service.beta.kubernetes.io/aws-load-balancer-nlb-target-type': 'ip' }, ports: [{ name: 'http', port: 8083, targetPort: 8080 }] }));
    api.create(endpointSlice('api', [{ ip: '127.0.0.1', pod: 'a' }], { port: a.port, name: 'api-a' }));
    await controller.start();
    const group = () => controller.stacks().get('service/default/api')!.elb.targetGroups()[0]!;
    await waitFor(() => controller.stacks().has('service/default/api'), { what: 'the stack' });

    expect(api.dropWatches({ mode: 'reset' })).toBeGreaterThan(0);
    await waitFor(() => api.watchCount() >= 7, { what: 'every watch to come back' });
    api.create(endpointSlice('api', [{ ip: '127.0.0.1', pod: 'b' }], { port: b.port, name: 'api-b' }));
    await waitFor(() => group().describeTargetHealth().some((d) => d.target.port === b.port), { what: 'a change made after the reset to arrive' });

    await api.restart({ mode: 'reset', whileDown: () => undefined });
    await waitFor(() => api.watchCount() >= 7, { timeoutMs: 15_000, what: 'every watch to come back after the restart' });
    api.delete('discovery.k8s.io/v1', 'EndpointSlice', 'default', 'api-a');
    await waitFor(() => group().describeTargetHealth().find((d) => d.target.port === a.port)?.targetHealth.state === 'draining', { what: 'a change made after the restart to arrive' });
    expect(controller.watchRestarts).toBeGreaterThan(0);
  });

  it('re-lists after 410 Gone and reports what it cannot serve as Events', async () => {
    const { api, controller } = await world();
    api.create(lbService('bad', { annotations: { 'service.beta.kubernetes.io/aws-load-balancer-nlb-target-type': 'lambda' } }));
    const odd = { 'service.beta.kubernetes.io/aws-load-balancer-eip-allocations': 'eipalloc-1', 'service.beta.kubernetes.io/aws-load-balancer-quic-enabled-ports': '8084' };
    api.create(lbService('odd', { annotations: odd, ports: [{ name: 'http', port: 8084, nodePort: 30084 }] }));
    await controller.start();
    const events = () => api.list('v1', 'Event', 'default') as Array<{ reason: string; message: string; involvedObject: { name: string } }>;
    await waitFor(() => events().some((e) => e.involvedObject.name === 'bad' && e.reason === 'LoadBalancerNotServed' && /must be ip or instance/.test(e.message)), { what: 'an Event for the Service that cannot be served' });
    await waitFor(() => events().some((e) => e.involvedObject.name === 'odd' && e.reason === 'UnsupportedConfiguration' && /quic-enabled-ports/.test(e.message)), { what: 'a Warning Event for the annotation local-elb does not emulate' });
    // An annotation whose meaning is AWS-side only is read, and said once in a Normal Event.
    await waitFor(() => events().some((e) => e.involvedObject.name === 'odd' && e.reason === 'AnnotationWithoutLocalEffect' && /eip-allocations is accepted, with no local effect/.test(e.message)), { what: 'a Normal Event for the annotation with no local effect' });
    expect(events().filter((e) => e.involvedObject.name === 'odd' && /eip-allocations/.test(e.message)).map((e) => (e as { type?: string }).type)).toEqual(['Normal']);

    const before = api.requests.filter((r) => r.method === 'GET' && !r.watch && r.path === '/api/v1/services').length;
    // In one tick, before the client can reconnect: its last resourceVersion becomes too old.
    api.dropWatches({ mode: 'clean' });
    api.create(lbService('late', { ports: [{ name: 'http', port: 8085, nodePort: 30085 }] }));
    api.compact();
    await waitFor(() => controller.stacks().has('service/default/late'), { what: 'the Service created after the compaction' });
    expect(api.requests.filter((r) => r.method === 'GET' && !r.watch && r.path === '/api/v1/services').length).toBeGreaterThan(before);
  });

  it('reconciles nothing until every watch has listed: a first list that failed is retried, and nothing is built or reported from the other caches alone', async () => {
    const { api, controller, target } = await world();
    const web = await target('web');
    api.create(node('worker', '127.0.0.1'), { keepStatus: true });
    api.create(albClass);
    api.create(lbService('web', { type: 'NodePort', loadBalancerClass: null, ports: [{ name: 'http', port: 80, nodePort: web.port }] }));
    api.create(ingress('web', [{ paths: [{ path: '/', pathType: 'Prefix', service: 'web', port: 80 }] }], { annotations: { 'alb.ingress.kubernetes.io/listen-ports': '[{"HTTP": 8087}]' } }));
    // The first list of Services fails (an API server not quite up); its retry comes after a backoff.
    api.injectError({ method: 'GET', path: '/api/v1/services', watch: false, code: 500 });
    await controller.start();
    const ip = await waitFor(() => (api.get('networking.k8s.io/v1', 'Ingress', 'default', 'web') as { status?: { loadBalancer?: { ingress?: Array<{ ip?: string }> } } }).status?.loadBalancer?.ingress?.[0]?.ip, { what: 'the Ingress address' });
    await waitFor(async () => (await get(`http://${ip}:8087/`)).body === 'web', { what: 'traffic to the Service through the ALB' });
    const lists = api.requests.filter((r) => r.method === 'GET' && !r.watch && r.path === '/api/v1/services').map((r) => r.status);
    expect(lists.slice(0, 2)).toEqual([500, 200]);
    // Without the Services, the Ingress's backend would have been a missing Service: an ALB
    // answering 503 and a Warning saying so, from half a cluster.
    const warnings = (api.list('v1', 'Event', 'default') as Array<{ type: string; reason: string; message: string; involvedObject: { name: string } }>).filter((e) => e.involvedObject.name === 'web' && e.type === 'Warning');
    expect(warnings.map((e) => `${e.reason}: ${e.message}`)).toEqual([]);
  });

  it('runs as the local-elb kind command: EXTERNAL-IP, the aws elbv2 verbs on its admin API, and a clean exit', async () => {
    const { api, target } = await world();
    const echo = await target('echo');
    api.create(node('worker', '127.0.0.1'), { keepStatus: true });
    api.create(lbService('echo', { ports: [{ name: 'http', port: 8086, targetPort: 8080, nodePort: echo.port }] }));
    const dir = mkdtempSync(join(tmpdir(), 'local-elb-kind-cli-'));
    const cli = startCli(['kind', '--kubeconfig', api.writeKubeconfig(dir), '--address-prefix', testAddressPrefix(), '--admin', '127.0.0.1:0', '--log-level', 'warn']);
    cleanups.push(async () => void (await cli.stop('SIGKILL')));
    const [, admin] = await cli.waitForStdout(/admin API on (http:\/\/\S+)/);
    const ip = await waitFor(() => serviceStatusIp(api, 'default', 'echo'), { what: 'EXTERNAL-IP' });
    await waitFor(async () => (await get(`http://${ip}:8086/`)).body === 'echo', { what: 'traffic through the NLB the CLI runs' });

    const groups = await runCli(['describe-target-groups', '--admin', admin!]);
    expect(groups.code).toBe(0);
    const [tg] = (JSON.parse(groups.stdout) as { TargetGroups: Array<{ TargetGroupName: string; Protocol: string }> }).TargetGroups;
    expect(tg).toMatchObject({ Protocol: 'TCP', TargetGroupName: expect.stringMatching(/^k8s-default-echo-/) as unknown as string });
    const health = await runCli(['describe-target-health', '--target-group-name', tg!.TargetGroupName, '--admin', admin!]);
    expect(JSON.parse(health.stdout).TargetHealthDescriptions).toEqual([
      { Target: { Id: '127.0.0.1', Port: echo.port }, HealthCheckPort: String(echo.port), TargetHealth: { State: 'healthy' } },
    ]);
    expect(await cli.stop('SIGTERM')).toBe(0);
  });

  // The Ingress variant (HTTPS and its ssl-redirect following the move) is in k8s-tls.test.ts.
  const root = process.getuid?.() === 0;
  const hasSetpriv = !root || requirePeer('setpriv') !== undefined;
  it.skipIf(root && !hasSetpriv)('runs local-elb kind without the right to bind port 80: the NLB Service listens on a free port, says so, and serves', async () => {
    const { api, target } = await world();
    const echo = await target('echo');
    api.create(node('worker', '127.0.0.1'), { keepStatus: true });
    api.create(lbService('echo', { ports: [{ name: 'http', port: 80, targetPort: 8080, nodePort: echo.port }] }));
    const dir = mkdtempSync(join(tmpdir(), 'local-elb-kind-cli-'));
    // As root, drop CAP_NET_BIND_SERVICE (a non-root user lacks it already).
    const wrapper = root ? ['setpriv', '--bounding-set=-net_bind_service', '--inh-caps=-net_bind_service', '--'] : [];
    const cli = startCli(['kind', '--kubeconfig', api.writeKubeconfig(dir), '--address-prefix', testAddressPrefix(), '--no-admin', '--log-level', 'warn'], {}, wrapper);
    cleanups.push(async () => void (await cli.stop('SIGKILL')));
    const events = () => api.list('v1', 'Event', 'default') as Array<{ reason: string; message: string; type: string; involvedObject: { name: string } }>;
    expect(await waitFor(() => events().find((e) => e.reason === 'PrivilegedPort' && e.involvedObject.name === 'echo'), { what: 'the PrivilegedPort Event' })).toMatchObject({ type: 'Warning' });
    const ensured = await waitFor(() => events().find((e) => e.reason === 'EnsuredLoadBalancer' && e.involvedObject.name === 'echo'), { what: 'the EnsuredLoadBalancer Event' });
    const [, moved] = /\(ports 80→(\d+)\)/.exec(ensured.message) ?? [];
    expect(moved, ensured.message).toBeDefined();
    const ip = await waitFor(() => serviceStatusIp(api, 'default', 'echo'), { what: 'EXTERNAL-IP' });
    await waitFor(async () => (await get(`http://${ip}:${moved}/`)).body === 'echo', { what: 'traffic through the moved NLB port' });
    expect(cli.stderr()).toMatch(/ports below 1024 need root or CAP_NET_BIND_SERVICE/);
    expect(await cli.stop('SIGTERM')).toBe(0);
  });
});
