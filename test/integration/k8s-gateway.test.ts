/**
 * Gateway API through the controller (spec 15), against the in-repo fake API server serving the
 * Gateway API and gateway.k8s.aws CRDs, with the real @kubernetes/client-node and kubectl, and
 * pods as real local servers (127.0.0.1 as pod IP, EndpointSlices naming their ports): an
 * HTTPRoute's weighted 80/20 split measured over 1,000 requests, header/query/method matches,
 * URLRewrite filters and RegularExpression matches (ALB transforms and regexValues), a TCPRoute
 * through an NLB Gateway, the statuses and address `kubectl get gateway` shows, a
 * ReferenceGrant allowing and refusing a cross-namespace backend, a GRPCRoute to a grpc-js pod
 * over an HTTPS listener with a local-CA certificate, and the L4+L7 mix and the filters the
 * controller refuses.
 */
import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync, mkdtempSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { Agent, request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/core/random.ts';
import { TARGET_GROUP_BINDING_RESOURCES } from '../support/elbv2-crds.ts';
import { startFakeKubeApiServer, type FakeKubeApiServer, type KubeObject } from '../support/fake-kube-apiserver.ts';
import { GATEWAY_API_RESOURCES } from '../support/gateway-api-crds.ts';
import { backend, gateway, gatewayClass, grpcRoute, httpRoute, l4Route, listener, referenceGrant, targetGroupConfiguration } from '../support/gateway-fixtures.ts';
import { endpointSlice, lbService, namespace } from '../support/k8s-fixtures.ts';
import { requirePeer } from '../support/peers.ts';
import { runCli, startCli } from '../support/cli.ts';
import { loadEcho, startGrpcTarget, type EchoResponse } from '../support/grpc.ts';
import { startTarget } from '../support/targets.ts';
import { startHealthPort, startTcpTarget, startUdpTarget } from '../support/tcp.ts';
import { waitFor } from '../support/wait.ts';
import { testAddressPrefix, testController } from '../support/k8s-world.ts';

const kubectlBin = requirePeer('kubectl');
const GW = 'gateway.networking.k8s.io/v1';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  const errors: unknown[] = [];
  for (const c of cleanups.splice(0).reverse()) await c().catch((err: unknown) => errors.push(err));
  if (errors.length > 0) throw errors[0];
});

async function world(seed = 14, stateDir?: string) {
  const api = await startFakeKubeApiServer({ bookmarkIntervalMs: 200, resources: [...GATEWAY_API_RESOURCES, ...TARGET_GROUP_BINDING_RESOURCES] });
  cleanups.push(() => api.close());
  const controller = testController(api, {
    ...(stateDir !== undefined ? { stateDir } : {}),
    random: seededRandom(seed),
    // What `local-elb kind` takes from the ELBv2 API: the ARN its TargetGroupBindings name.
    targetGroupArn: (name) => `arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/${name}/0123456789abcdef`,
  });
  cleanups.push(() => controller.stop());
  api.create(gatewayClass('alb', 'gateway.k8s.aws/alb'));
  api.create(gatewayClass('nlb', 'gateway.k8s.aws/nlb'));
  return { api, controller };
}

/** A pod as a real HTTP server, its Service (port 80) with an EndpointSlice, and a TGC making its targets ip with a 5 s check of /healthz. */
async function httpPod(api: FakeKubeApiServer, name: string, ns = 'default') {
  const target = await startTarget(name);
  cleanups.push(() => target.close());
  api.create(lbService(name, { namespace: ns, type: 'ClusterIP', loadBalancerClass: null, ports: [{ name: 'http', port: 80, targetPort: target.port }] }));
  api.create(endpointSlice(name, [{ ip: '127.0.0.1', pod: `${name}-1` }], { namespace: ns, port: target.port }));
  api.create(targetGroupConfiguration(name, { targetReference: { name }, defaultConfiguration: { targetType: 'ip', healthCheckConfig: { healthCheckPath: '/healthz', healthCheckInterval: 5, healthyThresholdCount: 2 } } }, ns));
  return target;
}

type Conditions = Array<{ type: string; status: string; reason: string; message: string }>;
const condition = (o: KubeObject | undefined, type: string) => ((o?.status?.conditions ?? []) as Conditions).find((c) => c.type === type);
const getGateway = (api: FakeKubeApiServer, name: string, ns = 'default') => api.get(GW, 'Gateway', ns, name);
const parents = (api: FakeKubeApiServer, apiVersion: string, kind: string, name: string, ns = 'default') => (api.get(apiVersion, kind, ns, name)?.status?.parents ?? []) as Array<{ parentRef: { name: string }; controllerName: string; conditions: Conditions }>;

/** The Gateway's address once it is Programmed. */
async function programmedAddress(api: FakeKubeApiServer, name: string, ns = 'default'): Promise<string> {
  return waitFor(
    () => {
      const gw = getGateway(api, name, ns);
      return condition(gw, 'Programmed')?.status === 'True' ? (gw?.status?.addresses?.[0]?.value as string | undefined) : undefined;
    },
    { what: `Gateway ${ns}/${name} to be Programmed with an address` },
  );
}

async function get(url: string, headers: Record<string, string> = {}, method = 'GET', dispatcher?: Agent): Promise<{ status: number; body: string }> {
  const res = await request(url, { method: method as 'GET', headers, ...(dispatcher ? { dispatcher } : {}) });
  return { status: res.statusCode, body: await res.body.text() };
}

async function kubectl(api: FakeKubeApiServer, ...args: string[]): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'local-elb-kubectl-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  // Asynchronously: the fake API server runs in this process.
  return (await promisify(execFile)(kubectlBin!, ['--kubeconfig', api.writeKubeconfig(dir), '--cache-dir', join(dir, 'cache'), ...args], { encoding: 'utf8' })).stdout;
}

describe('Gateway API with the fake API server', () => {
  it('splits an HTTPRoute 80/20 between two Services over 1,000 requests, within the binomial bound', async () => {
    const { api, controller } = await world();
    await httpPod(api, 'blue');
    await httpPod(api, 'green');
    api.create(gateway('web', 'alb', [listener('http', 'HTTP', 18080)]));
    api.create(httpRoute('split', [{ name: 'web' }], [{ backendRefs: [backend('blue', 80, { weight: 80 }), backend('green', 80, { weight: 20 })] }]));
    await controller.start();

    const address = await programmedAddress(api, 'web');
    const agent = new Agent({ connections: 4 });
    cleanups.push(() => agent.close());
    const url = `http://${address}:18080/`;
    await waitFor(async () => (await get(url, {}, 'GET', agent)).status === 200, { what: 'traffic through the ALB Gateway' });
    const seen = { blue: 0, green: 0 } as Record<string, number>;
    for (let i = 0; i < 1000; i++) {
      const { status, body } = await get(url, {}, 'GET', agent);
      expect(status).toBe(200);
      seen[body] = (seen[body] ?? 0) + 1;
    }
    // n = 1000, p = 0.8: mean 800, sd √(1000·0.8·0.2) ≈ 12.6; 5 sd either side fails a fair split about once in 3.5 million runs.
    const sd = Math.sqrt(1000 * 0.8 * 0.2);
    expect(seen.blue! + seen.green!).toBe(1000);
    expect(Math.abs(seen.blue! - 800)).toBeLessThanOrEqual(5 * sd);
    const groups = controller.stacks().get('gateway/default/web')!.elb.targetGroups().map((g) => g.name);
    expect(groups).toHaveLength(2);
    expect(groups.every((n) => /^k8s-default-split-[0-9a-f]{10}$/.test(n))).toBe(true);
  });

  it('routes an HTTPRoute by header, query parameter and method, redirects by a RequestRedirect filter, and falls back to the last rule', async () => {
    const { api, controller } = await world();
    await httpPod(api, 'blue');
    await httpPod(api, 'green');
    await httpPod(api, 'orange');
    api.create(gateway('web', 'alb', [listener('http', 'HTTP', 18081)]));
    api.create(
      httpRoute(
        'match',
        [{ name: 'web', sectionName: 'http', port: 18081 }],
        [
          { matches: [{ headers: [{ name: 'x-canary', value: 'true,yes' }] }], backendRefs: [backend('green', 80)] },
          { matches: [{ path: { type: 'PathPrefix', value: '/search' }, queryParams: [{ name: 'engine', value: 'orange' }], method: 'GET' }], backendRefs: [backend('orange', 80)] },
          { matches: [{ path: { type: 'Exact', value: '/old' } }], filters: [{ type: 'RequestRedirect', requestRedirect: { path: { type: 'ReplaceFullPath', replaceFullPath: '/new' }, statusCode: 301 } }] },
          { backendRefs: [backend('blue', 80)] },
        ],
      ),
    );
    await controller.start();
    const address = await programmedAddress(api, 'web');
    const base = `http://${address}:18081`;
    await waitFor(async () => (await get(`${base}/`)).body === 'blue', { what: 'the default rule to answer' });
    expect((await get(`${base}/`, { 'x-canary': 'true' })).body).toBe('green');
    expect((await get(`${base}/anything`, { 'x-canary': 'yes' })).body).toBe('green');
    expect((await get(`${base}/`, { 'x-canary': 'no' })).body).toBe('blue');
    expect((await get(`${base}/search?engine=orange`)).body).toBe('orange');
    expect((await get(`${base}/search?engine=orange`, {}, 'POST')).body).toBe('blue');
    expect((await get(`${base}/search?engine=other`)).body).toBe('blue');
    // A RequestRedirect filter is the rule's redirect action: the ALB answers it, keeping scheme, host, port and query.
    const moved = await request(`${base}/old?x=1`);
    await moved.body.dump();
    expect([moved.statusCode, moved.headers.location]).toEqual([301, `${base}/new?x=1`]);
    const rules = controller.stacks().get('gateway/default/web')!.stack.config.loadBalancers![0]!.listeners[0]!.rules!;
    expect(rules.map((r) => r.priority)).toEqual([1, 2, 3, 4]);
  });

  it('rewrites by a URLRewrite filter (ReplacePrefixMatch, hostname) and routes by RegularExpression path and header matches, as a real pod sees it', async () => {
    const { api, controller } = await world();
    const blue = await httpPod(api, 'blue');
    await httpPod(api, 'green');
    api.create(gateway('web', 'alb', [listener('http', 'HTTP', 18086)]));
    api.create(
      httpRoute(
        'rewrite',
        [{ name: 'web' }],
        [
          {
            matches: [{ path: { type: 'PathPrefix', value: '/store' } }],
            filters: [{ type: 'URLRewrite', urlRewrite: { hostname: 'shop.internal', path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/v2' } } }],
            backendRefs: [backend('blue', 80)],
          },
          // No PathPrefix `/` catch-all: it would come first (Exact > PathPrefix > RegularExpression, spec 15.1.6).
          { matches: [{ path: { type: 'RegularExpression', value: '^/items/[0-9]+$' }, headers: [{ type: 'RegularExpression', name: 'x-team', value: '^(red|green)$' }] }], backendRefs: [backend('green', 80)] },
        ],
      ),
    );
    await controller.start();
    const address = await programmedAddress(api, 'web');
    const base = `http://${address}:18086`;
    await waitFor(async () => (await get(`${base}/store/ready`)).body === 'blue', { what: 'the rewrite rule to answer' });
    const since = blue.seen.length;
    expect((await get(`${base}/store/cart?id=7`)).body).toBe('blue');
    // ReplacePrefixMatch /store → /v2 keeps the rest of the path and the query; the Host is the filter's hostname.
    expect(blue.seen[since]).toMatchObject({ url: '/v2/cart?id=7', headers: { host: 'shop.internal:18086' } });
    expect((await get(`${base}/store`)).body).toBe('blue');
    expect(blue.seen[since + 1]!.url).toBe('/v2');
    expect((await get(`${base}/items/42`, { 'x-team': 'Green' })).body).toBe('green');
    // No rule matches: the Gateway listener's default action, 404.
    expect((await get(`${base}/items/42`, { 'x-team': 'blue' })).status).toBe(404);
    expect((await get(`${base}/items/42x`, { 'x-team': 'red' })).status).toBe(404);
    const rules = controller.stacks().get('gateway/default/web')!.stack.config.loadBalancers![0]!.listeners[0]!.rules!;
    expect(rules.find((r) => r.transforms !== undefined)?.transforms).toEqual([
      { type: 'url-rewrite', urlRewriteConfig: { rewrites: [{ regex: '(^/store(/)?)', replace: '/v2$2' }] } },
      { type: 'host-header-rewrite', hostHeaderRewriteConfig: { rewrites: [{ regex: '.*', replace: 'shop.internal' }] } },
    ]);
  });

  it('carries a TCPRoute through an NLB Gateway and writes its status; Gateway, route and kubectl agree', async () => {
    const { api, controller } = await world();
    const echo = await startTcpTarget('pg');
    cleanups.push(() => echo.close());
    api.create(lbService('pg', { type: 'ClusterIP', loadBalancerClass: null, ports: [{ name: 'pg', port: 5432, targetPort: echo.port }] }));
    api.create(endpointSlice('pg', [{ ip: '127.0.0.1', pod: 'pg-0' }], { portName: 'pg', port: echo.port }));
    api.create(targetGroupConfiguration('pg', { targetReference: { name: 'pg' }, defaultConfiguration: { targetType: 'ip', healthCheckConfig: { healthCheckInterval: 5 } } }));
    api.create(gateway('db', 'nlb', [listener('pg', 'TCP', 15432)]));
    api.create(l4Route('TCPRoute', 'pg', [{ name: 'db', sectionName: 'pg' }], [backend('pg', 5432)]));
    await controller.start();

    const address = await programmedAddress(api, 'db');
    const reply = await waitFor(
      () =>
        new Promise<string>((resolve, reject) => {
          const socket = net.connect({ host: address, port: 15432 }, () => socket.write('SELECT 1'));
          socket.setEncoding('utf8');
          socket.on('data', (d: string) => {
            resolve(d);
            socket.destroy();
          });
          socket.on('error', reject);
        }),
      { what: 'an echo through the NLB' },
    );
    expect(reply).toBe('pg:SELECT 1');

    // A route's status is written after its Gateway's (Programmed, waited for above), in the same reconcile.
    const [entry] = await waitFor(() => (parents(api, 'gateway.networking.k8s.io/v1alpha2', 'TCPRoute', 'pg').length > 0 ? parents(api, 'gateway.networking.k8s.io/v1alpha2', 'TCPRoute', 'pg') : undefined), { what: 'the TCPRoute status' });
    expect(entry).toMatchObject({ parentRef: { name: 'db', sectionName: 'pg' }, controllerName: 'gateway.k8s.aws/nlb' });
    expect(entry!.conditions.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['ResolvedRefs', 'True', 'ResolvedRefs'],
      ['Accepted', 'True', 'Accepted'],
    ]);
    const gw = getGateway(api, 'db')!;
    expect(gw.status.addresses).toEqual([{ type: 'IPAddress', value: address }]);
    expect(condition(gw, 'Accepted')).toMatchObject({ status: 'True', reason: 'Accepted', message: '' });
    expect(condition(gw, 'Programmed')).toMatchObject({ status: 'True', reason: 'Programmed', message: expect.stringMatching(/^arn:aws:elasticloadbalancing:local:000000000000:loadbalancer\/net\/k8s-default-db-[0-9a-f]{10}\//) });
    expect(gw.status.listeners).toEqual([
      expect.objectContaining({ name: 'pg', attachedRoutes: 1, supportedKinds: [{ group: 'gateway.networking.k8s.io', kind: 'TCPRoute' }] }),
    ]);
    expect(condition(api.get(GW, 'GatewayClass', undefined, 'nlb'), 'Accepted')).toMatchObject({ status: 'True', reason: 'Accepted' });
    // The controller's TargetGroupBinding for the backend's group (spec 15.1.9, 15.3.5): the NLB Gateway's stack labels, the Service port, no ownerReferences.
    const group = controller.stacks().get('gateway/default/db')!.stack.config.targetGroups![0]!.name;
    const binding = await waitFor(() => (api.list('elbv2.k8s.aws/v1beta1', 'TargetGroupBinding', 'default') as KubeObject[]).find((o) => o.metadata.name === group), { what: "the Gateway backend's TargetGroupBinding" });
    expect(binding.metadata.labels).toEqual({ 'gateway.k8s.aws.nlb/stack-namespace': 'default', 'gateway.k8s.aws.nlb/stack-name': 'db' });
    expect((binding as KubeObject & { spec: unknown }).spec).toMatchObject({ serviceRef: { name: 'pg', port: 5432 }, targetType: 'ip', targetGroupARN: `arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/${group}/0123456789abcdef` });
    expect(binding.metadata.ownerReferences).toBeUndefined();

    if (kubectlBin !== undefined) {
      expect(await kubectl(api, 'get', 'gateway', 'db')).toMatch(new RegExp(`^NAME\\s+CLASS\\s+ADDRESS\\s+PROGRAMMED\\s+AGE\\ndb\\s+nlb\\s+${address.replace(/\./g, '\\.')}\\s+True\\s+\\d+s\\n$`));
      expect(await kubectl(api, 'get', 'gatewayclass')).toMatch(/nlb\s+gateway\.k8s\.aws\/nlb\s+True/);
      expect(await kubectl(api, 'get', 'gateway', 'db', '-o', 'jsonpath={.status.conditions[?(@.type=="Programmed")].status}')).toBe('True');
    }
  });

  it('carries a UDPRoute through an NLB Gateway (checked by TCP on a health port, as a UDP target group is)', async () => {
    const { api, controller } = await world();
    const dns = await startUdpTarget('dns');
    cleanups.push(() => dns.close());
    const health = await startHealthPort();
    cleanups.push(() => health.close());
    api.create(lbService('dns', { type: 'ClusterIP', loadBalancerClass: null, ports: [{ name: 'dns', port: 53, targetPort: dns.port, protocol: 'UDP' }] }));
    api.create(endpointSlice('dns', [{ ip: '127.0.0.1', pod: 'dns-0' }], { portName: 'dns', port: dns.port }));
    api.create(targetGroupConfiguration('dns', { targetReference: { name: 'dns' }, defaultConfiguration: { targetType: 'ip', healthCheckConfig: { healthCheckPort: String(health.port), healthCheckInterval: 5 } } }));
    api.create(gateway('dns', 'nlb', [listener('dns', 'UDP', 15353)]));
    api.create(l4Route('UDPRoute', 'dns', [{ name: 'dns' }], [backend('dns', 53)]));
    await controller.start();
    const address = await programmedAddress(api, 'dns');
    expect(controller.stacks().get('gateway/default/dns')!.elb.targetGroups()[0]!.describe()).toMatchObject({ protocol: 'UDP', healthCheckProtocol: 'TCP', healthCheckPort: String(health.port) });
    const client = dgram.createSocket('udp4');
    cleanups.push(() => new Promise<void>((resolve) => client.close(() => resolve())));
    const replies: string[] = [];
    client.on('message', (m) => replies.push(m.toString()));
    await new Promise<void>((resolve) => client.bind(0, '127.0.0.1', () => resolve()));
    await waitFor(() => {
      client.send('query', 15353, address);
      return replies.includes('dns:query');
    }, { intervalMs: 200, what: 'a UDP reply through the NLB' });
    expect(await waitFor(() => parents(api, 'gateway.networking.k8s.io/v1alpha2', 'UDPRoute', 'dns')[0], { what: 'the UDPRoute status (written after the Gateway’s)' })).toMatchObject({ controllerName: 'gateway.k8s.aws/nlb', conditions: [{ type: 'ResolvedRefs', status: 'True' }, { type: 'Accepted', status: 'True' }] });
  });

  it('lets a cross-namespace backend in only with a ReferenceGrant, and takes it away when the grant goes', async () => {
    const { api, controller } = await world();
    api.create(namespace('shop'));
    api.create(namespace('payments'));
    await httpPod(api, 'pay', 'payments');
    api.create(gateway('web', 'alb', [listener('http', 'HTTP', 18082)], { namespace: 'shop' }));
    api.create(httpRoute('checkout', [{ name: 'web' }], [{ backendRefs: [backend('pay', 80, { namespace: 'payments' })] }], { namespace: 'shop' }));
    await controller.start();
    const address = await programmedAddress(api, 'web', 'shop');
    const url = `http://${address}:18082/`;
    const resolvedRefs = () => parents(api, GW, 'HTTPRoute', 'checkout', 'shop')[0]?.conditions.find((c) => c.type === 'ResolvedRefs');

    await waitFor(() => resolvedRefs()?.reason === 'RefNotPermitted', { what: 'ResolvedRefs False RefNotPermitted' });
    expect(resolvedRefs()).toMatchObject({ status: 'False', message: 'No explicit ReferenceGrant exists to allow the reference.' });
    // No usable backend: the rule answers the controller's fixed 500.
    expect(await get(url)).toEqual({ status: 500, body: '' });

    api.create(referenceGrant('shop-routes', 'payments', { kind: 'HTTPRoute', namespace: 'shop' }, { name: 'pay' }));
    await waitFor(async () => (await get(url)).body === 'pay', { what: 'the granted backend to answer' });
    await waitFor(() => resolvedRefs()?.status === 'True', { what: 'ResolvedRefs True' });

    api.delete(GW, 'ReferenceGrant', 'payments', 'shop-routes');
    await waitFor(async () => (await get(url)).status === 500, { what: 'the backend to be refused again' });
    await waitFor(() => resolvedRefs()?.reason === 'RefNotPermitted', { what: 'RefNotPermitted again' });
  });

  it('runs as the local-elb kind command: a Gateway Programmed, traffic through its HTTPRoute, the aws elbv2 verbs on its target group, and a clean exit', async () => {
    const api = await startFakeKubeApiServer({ bookmarkIntervalMs: 200, resources: GATEWAY_API_RESOURCES });
    cleanups.push(() => api.close());
    api.create(gatewayClass('alb', 'gateway.k8s.aws/alb'));
    await httpPod(api, 'blue');
    api.create(gateway('web', 'alb', [listener('http', 'HTTP', 18086)]));
    api.create(httpRoute('web', [{ name: 'web' }], [{ backendRefs: [backend('blue', 80)] }]));
    const dir = mkdtempSync(join(tmpdir(), 'local-elb-kind-gateway-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const cli = startCli(['kind', '--kubeconfig', api.writeKubeconfig(dir), '--address-prefix', testAddressPrefix(), '--admin', '127.0.0.1:0', '--log-level', 'warn']);
    cleanups.push(async () => void (await cli.stop('SIGKILL')));
    const [, admin] = await cli.waitForStdout(/admin API on (http:\/\/\S+)/);
    const address = await programmedAddress(api, 'web');
    await waitFor(async () => (await get(`http://${address}:18086/`)).body === 'blue', { what: 'traffic through the Gateway the CLI runs' });
    const groups = await runCli(['describe-target-groups', '--admin', admin!]);
    expect(groups.code).toBe(0);
    expect((JSON.parse(groups.stdout) as { TargetGroups: Array<{ TargetGroupName: string; TargetType: string }> }).TargetGroups).toEqual([
      expect.objectContaining({ TargetGroupName: expect.stringMatching(/^k8s-default-web-[0-9a-f]{10}$/), TargetType: 'ip' }),
    ]);
    expect(await cli.stop('SIGTERM')).toBe(0);
  });

  it('serves a GRPCRoute over an HTTPS listener: a GRPC target group checked by gRPC, the local CA for the listener hostname, unary calls from grpc-js', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'local-elb-k8s-gateway-grpc-'));
    cleanups.push(() => rm(stateDir, { recursive: true, force: true }));
    const { api, controller } = await world(14, stateDir);
    const pod = await startGrpcTarget({ methods: { '/AWS.ALB/healthcheck': { code: grpc.status.UNIMPLEMENTED } } });
    cleanups.push(() => pod.close());
    api.create(lbService('greeter', { type: 'ClusterIP', loadBalancerClass: null, ports: [{ name: 'grpc', port: 50051, targetPort: pod.port }] }));
    api.create(endpointSlice('greeter', [{ ip: '127.0.0.1', pod: 'greeter-0' }], { portName: 'grpc', port: pod.port }));
    api.create(targetGroupConfiguration('greeter', { targetReference: { name: 'greeter' }, defaultConfiguration: { targetType: 'ip', healthCheckConfig: { healthCheckInterval: 5 } } }));
    api.create(gateway('grpc', 'alb', [listener('https', 'HTTPS', 18443, { hostname: 'greeter.example.com' })]));
    api.create(grpcRoute('greeter', [{ name: 'grpc' }], [{ matches: [{ method: { service: 'localelb.test.Echo', method: 'Say' } }], backendRefs: [backend('greeter', 50051)] }]));
    await controller.start();
    const address = await programmedAddress(api, 'grpc');

    const running = controller.stacks().get('gateway/default/grpc')!;
    const group = running.elb.targetGroups()[0]!;
    expect(group.describe()).toMatchObject({ protocol: 'HTTP', protocolVersion: 'GRPC', healthCheckPath: '/AWS.ALB/healthcheck', matcher: { grpcCode: '12' } });
    await waitFor(() => group.describeTargetHealth()[0]?.targetHealth.state === 'healthy', { what: 'the gRPC pod healthy by its gRPC check (code 12)' });
    const caPem = await waitFor(async () => (existsSync(join(stateDir, 'ca', 'ca.pem')) ? readFile(join(stateDir, 'ca', 'ca.pem'), 'utf8') : undefined), { what: 'the local CA' });
    const { Echo } = loadEcho();
    const client = new Echo(`${address}:18443`, grpc.credentials.createSsl(Buffer.from(caPem)), {
      'grpc.ssl_target_name_override': 'greeter.example.com',
      'grpc.default_authority': 'greeter.example.com',
    }) as unknown as grpc.Client & { Say: (req: object, callback: (err: grpc.ServiceError | null, res: EchoResponse) => void) => void };
    cleanups.push(async () => client.close());
    const say = (text: string) => new Promise<EchoResponse>((resolve, reject) => client.Say({ text }, (err, res) => (err ? reject(err) : resolve(res))));
    expect(await say('hello through the Gateway')).toEqual({ text: 'hello through the Gateway' });
    expect(await waitFor(() => parents(api, GW, 'GRPCRoute', 'greeter')[0], { what: 'the GRPCRoute status (written after the Gateway’s)' })).toMatchObject({ controllerName: 'gateway.k8s.aws/alb', conditions: [{ type: 'ResolvedRefs', status: 'True' }, { type: 'Accepted', status: 'True' }] });
    const events = api.list('v1', 'Event', 'default') as Array<{ reason: string; message: string; involvedObject: { name: string } }>;
    expect(events.find((e) => e.involvedObject.name === 'grpc' && e.reason === 'LocalCertificate')?.message).toMatch(/discovers the ACM certificates for greeter\.example\.com/);
  });

  it('reconciles nothing before every watch has listed: a slow discovery of the TargetGroupConfiguration CRD builds and reports no half-read Gateway', async () => {
    const { api, controller } = await world();
    await httpPod(api, 'blue');
    const created = api.create(gateway('headers', 'alb', [listener('http', 'HTTP', 18086)]));
    api.create(httpRoute('rewrite', [{ name: 'headers' }], [{ filters: [{ type: 'RequestHeaderModifier' }], backendRefs: [backend('blue', 80)] }]));
    // The Gateway API group is discovered and watched; the controller's own group answers late.
    const held = api.hold({ method: 'GET', path: '/apis/gateway.k8s.aws/v1' });
    let started = false;
    const starting = controller.start().then(() => (started = true));
    cleanups.push(async () => {
      held.release();
      await starting.catch(() => {});
    });
    await held.arrived;
    await waitFor(() => api.watchCount({ apiVersion: GW, kind: 'HTTPRoute' }) > 0 && api.watchCount({ apiVersion: 'v1', kind: 'Service' }) > 0, { what: 'the other watches to be up' });
    // Their lists changed the caches, and still no reconcile: without TargetGroupConfiguration
    // the backend would be an instance target without a NodePort, and that would be reported.
    expect(started).toBe(false);
    expect(controller.reconcileCount).toBe(0);
    expect(getGateway(api, 'headers')?.status).toEqual(created.status); // the CRD's default: Pending
    held.release();
    await starting;
    const events = () => (api.list('v1', 'Event', 'default') as Array<{ reason: string; message: string; involvedObject: { name: string } }>).filter((e) => e.involvedObject.name === 'headers' && e.reason === 'FailedBuildModel');
    await waitFor(() => events().length > 0, { what: 'the FailedBuildModel Event' });
    expect(events().map((e) => e.message)).toEqual([expect.stringMatching(/^Failed build model due to Unsupported filter type: RequestHeaderModifier\./)]);
  });

  it('refuses to mix L4 and L7 as the controller does, and refuses a RequestHeaderModifier filter', async () => {
    const { api, controller } = await world();
    await httpPod(api, 'blue');
    api.create(gateway('mixed', 'alb', [listener('http', 'HTTP', 18083), listener('db', 'TCP', 18084)]));
    api.create(httpRoute('web', [{ name: 'mixed' }], [{ backendRefs: [backend('blue', 80)] }]));
    api.create(l4Route('TCPRoute', 'db', [{ name: 'mixed' }], [backend('blue', 80)]));
    api.create(gateway('headers', 'alb', [listener('http', 'HTTP', 18085)]));
    api.create(httpRoute('rewrite', [{ name: 'headers' }], [{ filters: [{ type: 'RequestHeaderModifier' }], backendRefs: [backend('blue', 80)] }]));
    await controller.start();

    const address = await programmedAddress(api, 'mixed');
    const gw = getGateway(api, 'mixed')!;
    expect(condition(gw, 'Accepted')).toMatchObject({ status: 'True', reason: 'ListenersNotValid' });
    const db = (gw.status.listeners as Array<{ name: string; conditions: Conditions }>).find((l) => l.name === 'db')!;
    expect(db.conditions.find((c) => c.type === 'Accepted')).toMatchObject({ status: 'False', reason: 'UnsupportedProtocol', message: 'Unsupported protocol TCP for listener db' });
    await waitFor(async () => (await get(`http://${address}:18083/`)).body === 'blue', { what: 'the HTTP listener to serve' });
    // The TCP listener is not made, and the TCPRoute gets no status from the ALB controller.
    await expect(new Promise((resolve, reject) => net.connect({ host: address, port: 18084 }).on('connect', resolve).on('error', reject))).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(parents(api, 'gateway.networking.k8s.io/v1alpha2', 'TCPRoute', 'db')).toEqual([]);
    const events = () => api.list('v1', 'Event', 'default') as Array<{ reason: string; message: string; involvedObject: { kind: string; name: string; apiVersion: string } }>;
    await waitFor(() => events().some((e) => e.involvedObject.name === 'mixed' && e.reason === 'RouteKindNotServed'), { what: 'the RouteKindNotServed Event' });
    expect(events().find((e) => e.reason === 'RouteKindNotServed')!.involvedObject).toMatchObject({ kind: 'Gateway', apiVersion: GW });

    await waitFor(() => condition(getGateway(api, 'headers'), 'Accepted')?.status === 'False', { what: 'the filter Gateway to be refused' });
    expect(condition(getGateway(api, 'headers'), 'Accepted')).toMatchObject({ reason: 'Invalid', message: 'Check Gateway Events for more information.' });
    expect(condition(getGateway(api, 'headers'), 'Programmed')?.status).toBe('Unknown');
    expect(events().find((e) => e.involvedObject.name === 'headers' && e.reason === 'FailedBuildModel')?.message).toMatch(/^Failed build model due to Unsupported filter type: RequestHeaderModifier\./);
    expect(controller.stacks().has('gateway/default/headers')).toBe(false);
  });
});
